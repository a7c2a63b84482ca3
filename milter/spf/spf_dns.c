/*
 * spf_dns.c - the DNS lookups of SPF: one UDP query to dns_resolver (TCP
 * when the answer is truncated), bounded by dns_timeout and the message's
 * time budget (dnsq_budget_deadline, conf/dnsq.h), answers parsed with
 * libresolv's ns_* functions.  No process-wide resolver state is touched, so
 * any number of threads may look up at once.
 *
 *   mxspf_dns_default  the system's first nameserver, for an empty dns_resolver
 *   mxspf_dns_lookup   one name, one type: records, "none" or a temporary error
 *   mxspf_dns_done     close the check's socket
 *
 * The lookup and void-lookup limits of RFC 7208 4.6.4 are counted by the
 * caller (spf_eval.c), which knows what a term is; this file only answers.
 *
 * Ownership: answers live in the caller's struct spf_rrs.
 * Diagnostics: none; a failure is SPF_DNS_TEMP.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <poll.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dnsq.h"
#include "spf_int.h"

/* mxspf_dns_default - the first nameserver of /etc/resolv.conf into S */
void    mxspf_dns_default(struct mxspf *s)
{
    struct __res_state st;

    memset(&st, 0, sizeof st);
    memset(&s->ns, 0, sizeof s->ns);
    if (res_ninit(&st) == 0 && st.nscount > 0) {
        memcpy(&s->ns, &st.nsaddr_list[0], sizeof st.nsaddr_list[0]);
        s->ns_len = sizeof st.nsaddr_list[0];
    } else {
        struct sockaddr_in *v4 = (struct sockaddr_in *) &s->ns;

        v4->sin_family = AF_INET;
        v4->sin_port = htons(53);
        v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        s->ns_len = sizeof *v4;
    }
    res_nclose(&st);
}

/* make_query - a DNS query for NAME/TYPE with ID into BUF; its length or -1 */
static int make_query(unsigned char *buf, size_t len, const char *name, int type,
                      unsigned short id)
{
    size_t  at = 12;
    const char *p = name, *dot;

    if (len < 12 + SPF_MAX_NAME + 6)
        return -1;
    memset(buf, 0, 12);
    buf[0] = (unsigned char) (id >> 8);
    buf[1] = (unsigned char) id;
    buf[2] = 0x01;                              /* RD */
    buf[5] = 1;                                 /* QDCOUNT */
    while (*p) {
        size_t  n = (dot = strchr(p, '.')) ? (size_t) (dot - p) : strlen(p);

        if (n == 0 || n > 63 || at + n + 1 > 12 + 255)
            return -1;
        buf[at++] = (unsigned char) n;
        memcpy(buf + at, p, n);
        at += n;
        p += n;
        if (*p == '.')
            p++;
    }
    buf[at++] = 0;
    buf[at++] = (unsigned char) (type >> 8);
    buf[at++] = (unsigned char) type;
    buf[at++] = 0;
    buf[at++] = 1;                              /* IN */
    return (int) at;
}

/* wait_fd - poll FD for input until DEADLINE (ms, CLOCK_MONOTONIC) */
static int wait_fd(int fd, long long deadline)
{
    struct timespec ts;
    long long now;
    struct pollfd pfd = {fd, POLLIN, 0};

    clock_gettime(CLOCK_MONOTONIC, &ts);
    now = (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (now >= deadline)
        return -1;
    return poll(&pfd, 1, (int) (deadline - now)) == 1 ? 0 : -1;
}

/* mxspf_dns_deadline - now + SECS, in CLOCK_MONOTONIC milliseconds */
long long mxspf_dns_deadline(long secs)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + secs * 1000;
}

/* ask_udp - send Q on the check's socket (opened on first use, closed by
 * mxspf_dns_done), return the answer length in ANS, or -1.  Late answers
 * to earlier queries are skipped by their id. */
static int ask_udp(struct spf_ctx *c, const unsigned char *q, int qlen,
                   unsigned char *ans, int anslen, long long deadline)
{
    const struct mxspf *s = c->s;
    int     n = -1;

    if (c->udp < 0) {
        if ((c->udp = socket(s->ns.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
            return -1;
        if (connect(c->udp, (const struct sockaddr *) &s->ns, (socklen_t) s->ns_len) < 0) {
            mxspf_dns_done(c);
            return -1;
        }
    }
    if (send(c->udp, q, (size_t) qlen, 0) != qlen)
        return -1;
    while (wait_fd(c->udp, deadline) == 0) {
        n = (int) recv(c->udp, ans, (size_t) anslen, 0);
        if (n >= 12 && ans[0] == q[0] && ans[1] == q[1] && (ans[2] & 0x80))
            break;                              /* ours; else keep waiting */
        n = -1;
    }
    return n;
}

/* mxspf_dns_done - close the check's socket */
void    mxspf_dns_done(struct spf_ctx *c)
{
    if (c->udp >= 0)
        close(c->udp);
    c->udp = -1;
}

/* read_all - read exactly LEN bytes before DEADLINE */
static int read_all(int fd, unsigned char *buf, int len, long long deadline)
{
    int     got = 0, n;

    while (got < len) {
        if (wait_fd(fd, deadline) < 0 || (n = (int) read(fd, buf + got, (size_t) (len - got))) <= 0)
            return -1;
        got += n;
    }
    return 0;
}

/* connect_by - connect the non-blocking FD to the resolver before DEADLINE */
static int connect_by(int fd, const struct mxspf *s, long long deadline)
{
    struct timespec ts;
    struct pollfd pfd = {fd, POLLOUT, 0};
    long long now;
    int     err = 0;
    socklen_t elen = sizeof err;

    if (connect(fd, (const struct sockaddr *) &s->ns, (socklen_t) s->ns_len) == 0)
        return 0;
    if (errno != EINPROGRESS)
        return -1;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    now = (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (now >= deadline || poll(&pfd, 1, (int) (deadline - now)) != 1
        || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err != 0)
        return -1;
    return 0;
}

/* ask_tcp - the same over TCP, for a truncated answer */
static int ask_tcp(const struct mxspf *s, const unsigned char *q, int qlen,
                   unsigned char *ans, int anslen, long long deadline)
{
    int     fd, n = -1;
    unsigned char hdr[2] = {(unsigned char) (qlen >> 8), (unsigned char) qlen};

    if ((fd = socket(s->ns.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
        return -1;
    if (connect_by(fd, s, deadline) == 0
        && write(fd, hdr, 2) == 2 && write(fd, q, (size_t) qlen) == qlen
        && read_all(fd, hdr, 2, deadline) == 0) {
        n = (hdr[0] << 8) | hdr[1];
        if (n > anslen || read_all(fd, ans, n, deadline) < 0)
            n = -1;
    }
    close(fd);
    return n;
}

/* add_rr - copy one record's data into OUT */
static void add_rr(struct spf_rrs *out, const unsigned char *data, size_t len)
{
    if (out->count >= SPF_DNS_MAXRR || out->used + len + 1 > sizeof out->buf)
        return;
    memcpy(out->buf + out->used, data, len);
    out->buf[out->used + len] = 0;
    out->item[out->count] = out->buf + out->used;
    out->len[out->count++] = len;
    out->used += len + 1;
}

/* parse_rr - the data of one answer record of TYPE, in the form spf.h wants */
static void parse_rr(ns_msg *msg, ns_rr *rr, int type, struct spf_rrs *out)
{
    const unsigned char *d = ns_rr_rdata(*rr);
    size_t  dl = ns_rr_rdlen(*rr), i, n;
    unsigned char txt[4096];
    char    name[NS_MAXDNAME];
    const unsigned char *at = d;

    switch (type) {
    case ns_t_a:
        if (dl == 4)
            add_rr(out, d, 4);
        break;
    case ns_t_aaaa:
        if (dl == 16)
            add_rr(out, d, 16);
        break;
    case ns_t_txt:
    case 99:                                    /* strings joined, RFC 7208 3.3 */
        for (i = 0, n = 0; i < dl && n < sizeof txt; i += 1 + d[i]) {
            size_t  k = d[i];

            if (i + 1 + k > dl || n + k > sizeof txt)
                return;
            memcpy(txt + n, d + i + 1, k);
            n += k;
        }
        add_rr(out, txt, n);
        break;
    case ns_t_mx:
        if (dl < 3)
            return;
        at = d + 2;
        /* FALLTHROUGH */
    case ns_t_ptr:
        if (ns_name_uncompress(ns_msg_base(*msg), ns_msg_end(*msg), at, name, sizeof name) < 0)
            return;
        add_rr(out, (const unsigned char *) name, strlen(name));
        break;
    }
}

/* negative_ttl - RFC 2308: the SOA's TTL and MINIMUM, the smaller; 0
 * (do not keep) without an SOA */
static long negative_ttl(ns_msg *msg)
{
    ns_rr   rr;
    int     i;

    for (i = 0; i < ns_msg_count(*msg, ns_s_ns); i++) {
        if (ns_parserr(msg, ns_s_ns, i, &rr) == 0 && ns_rr_type(rr) == ns_t_soa
            && ns_rr_rdlen(rr) >= 20) {
            const unsigned char *m = ns_rr_rdata(rr) + ns_rr_rdlen(rr) - 4;
            long    min = (long) ((unsigned long) m[0] << 24 | m[1] << 16 | m[2] << 8 | m[3]);

            return min < (long) ns_rr_ttl(rr) ? min : (long) ns_rr_ttl(rr);
        }
    }
    return 0;
}

/* parse_answer - the records of TYPE in the answer of N bytes; the result
 * code, and the TTL to keep it for in *TTL */
static int parse_answer(const unsigned char *ans, int n, int type, struct spf_rrs *out, long *ttl)
{
    ns_msg  msg;
    ns_rr   rr;
    int     i, rcode;

    *ttl = 0;
    if (ns_initparse(ans, n, &msg) < 0)
        return SPF_DNS_TEMP;
    rcode = ns_msg_getflag(msg, ns_f_rcode);
    if (rcode == ns_r_nxdomain) {
        *ttl = negative_ttl(&msg);
        return SPF_DNS_NXDOMAIN;
    }
    if (rcode != ns_r_noerror)
        return SPF_DNS_TEMP;
    *ttl = -1;
    for (i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
        if (ns_parserr(&msg, ns_s_an, i, &rr) < 0 || ns_rr_class(rr) != ns_c_in)
            continue;
        if (*ttl < 0 || (long) ns_rr_ttl(rr) < *ttl)
            *ttl = (long) ns_rr_ttl(rr);        /* CNAMEs on the way count too */
        if ((int) ns_rr_type(rr) == type)
            parse_rr(&msg, &rr, type, out);
    }
    if (out->count > 0)
        return SPF_DNS_OK;
    *ttl = negative_ttl(&msg);
    return SPF_DNS_NODATA;
}

/* mxspf_dns_lookup - NAME/TYPE into OUT: SPF_DNS_OK (OUT->count > 0),
 * SPF_DNS_NXDOMAIN, SPF_DNS_NODATA or SPF_DNS_TEMP.  Bounded by
 * dns_timeout, by what is left of the check's budget and by the message's
 * time budget (milter_dns_budget: dnsq_budget_deadline). */
int     mxspf_dns_lookup(struct spf_ctx *c, const char *name, int type, struct spf_rrs *out)
{
    const struct mxspf *s = c->s;
    unsigned char q[512], *ans;
    int     qlen, n, rc;
    long long deadline;
    long    ttl;

    out->count = 0;
    out->used = 0;
    if ((qlen = make_query(q, sizeof q, name, type, 0)) < 0)
        return SPF_DNS_NXDOMAIN;                /* not a name DNS can hold */
    if ((rc = mxspf_cache_get(s->cache, name, type, out)) >= 0)
        return rc;
    arc4random_buf(q, 2);                       /* the query id */
    deadline = mxspf_dns_deadline(s->timeout);
    if (c->deadline && c->deadline < deadline)
        deadline = c->deadline;
    if (dnsq_budget_deadline() && dnsq_budget_deadline() < deadline)
        deadline = dnsq_budget_deadline();      /* the message's budget (dnsq.h) */
    if ((ans = malloc(65536)) == NULL)
        return SPF_DNS_TEMP;
    if ((n = ask_udp(c, q, qlen, ans, 4096, deadline)) < 0
        || ((ans[2] & 0x02) && (n = ask_tcp(s, q, qlen, ans, 65536, deadline)) < 0))
        rc = SPF_DNS_TEMP;
    else
        rc = parse_answer(ans, n, type, out, &ttl);
    free(ans);
    if (rc != SPF_DNS_TEMP)
        mxspf_cache_put(s->cache, name, type, rc, out, ttl);
    return rc;
}
