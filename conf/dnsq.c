/*
 * dnsq.c - ask one DNS server one question, directly, with libresolv.
 *
 *   dnsq_query  records of one type at one name, as presentation text
 *   dnsq_free   free what dnsq_query returned
 *
 * Used to see what an authoritative server publishes (mxdock-dns check,
 * DKIM activation and rotation).  With a server given ("IP", "IPv4:PORT",
 * "[IPv6]:PORT"), the query goes to that address and port only, with RD
 * off, through dnsq_send (dnsq_send.c); with none, to the system resolver.
 * Types it does not know come in RFC 3597 form.  Both fall back to TCP on
 * a truncated answer, so large RSA DKIM TXT records come back whole.
 *
 * Ownership: the record array and its strings are the caller's, freed with
 * dnsq_free().  Diagnostics: -1 with a one-line reason in WHY.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsq.h"
#include "strbuf.h"

#define DNSQ_BUFSIZE 65535

/* put_name - an uncompressed domain name at *P, with trailing dot. */
static int put_name(ns_msg *msg, const unsigned char *p, struct strbuf *out)
{
    char    name[NS_MAXDNAME];

    if (dn_expand(ns_msg_base(*msg), ns_msg_end(*msg), p, name, sizeof name) < 0)
        return -1;
    sb_puts(out, name);
    if (name[0] == 0 || name[strlen(name) - 1] != '.')
        sb_putc(out, '.');
    return 0;
}

static void put_hex(const unsigned char *p, size_t n, struct strbuf *out)
{
    for (size_t i = 0; i < n; i++)
        sb_printf(out, "%02x", p[i]);
}

/* put_txt - character-strings joined, no quotes. */
static int put_txt(const unsigned char *p, size_t n, struct strbuf *out)
{
    size_t  i = 0;

    while (i < n) {
        size_t  l = p[i++];

        if (i + l > n)
            return -1;
        sb_append(out, (const char *) p + i, l);
        i += l;
    }
    return 0;
}

/* put_generic - anything else in RFC 3597 form: \# LEN HEX. */
static int put_generic(const unsigned char *p, size_t n, struct strbuf *out)
{
    sb_printf(out, "\\# %zu ", n);
    put_hex(p, n, out);
    return 0;
}

/* put_soa - MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM. */
static int put_soa(ns_msg *msg, const unsigned char *p, size_t n, struct strbuf *out)
{
    const unsigned char *end = p + n;
    int     l;

    for (int i = 0; i < 2; i++) {
        if (put_name(msg, p, out) < 0 || (l = dn_skipname(p, end)) < 0)
            return -1;
        p += l;
        sb_putc(out, ' ');
    }
    if (end - p < 20)
        return -1;
    for (int i = 0; i < 5; i++)
        sb_printf(out, i ? " %lu" : "%lu", (unsigned long) ns_get32(p + 4 * i));
    return 0;
}

/* put_caa - FLAGS TAG "VALUE". */
static int put_caa(const unsigned char *p, size_t n, struct strbuf *out)
{
    if (n < 2 || (size_t) p[1] + 2 > n)
        return -1;
    sb_printf(out, "%u %.*s \"", p[0], (int) p[1], (const char *) p + 2);
    sb_append(out, (const char *) p + 2 + p[1], n - 2 - p[1]);
    sb_putc(out, '"');
    return 0;
}

/* format_rdata - the rdata of RR as presentation text into OUT. */
static int format_rdata(ns_msg *msg, ns_rr *rr, struct strbuf *out)
{
    const unsigned char *p = ns_rr_rdata(*rr);
    size_t  n = ns_rr_rdlen(*rr);
    char    addr[INET6_ADDRSTRLEN];

    switch (ns_rr_type(*rr)) {
    case ns_t_a:
    case ns_t_aaaa:
        if (n != 4 && n != 16)
            return -1;
        inet_ntop(n == 4 ? AF_INET : AF_INET6, p, addr, sizeof addr);
        sb_puts(out, addr);
        return 0;
    case ns_t_ns:
    case ns_t_cname:
    case ns_t_ptr:
        return put_name(msg, p, out);
    case ns_t_mx:
        if (n < 3)
            return -1;
        sb_printf(out, "%u ", ns_get16(p));
        return put_name(msg, p + 2, out);
    case ns_t_srv:
        if (n < 7)
            return -1;
        sb_printf(out, "%u %u %u ", ns_get16(p), ns_get16(p + 2), ns_get16(p + 4));
        return put_name(msg, p + 6, out);
    case ns_t_txt:
        return put_txt(p, n, out);
    case ns_t_tlsa:
        if (n < 3)
            return -1;
        sb_printf(out, "%u %u %u ", p[0], p[1], p[2]);
        put_hex(p + 3, n - 3, out);
        return 0;
    case ns_t_soa:
        return put_soa(msg, p, n, out);
    case ns_t_caa:
        return put_caa(p, n, out);
    default:
        return put_generic(p, n, out);
    }
}

/* rcode_why - a reason for a failed answer. */
static void rcode_why(int rcode, char *why, size_t whylen)
{
    const char *what = rcode == ns_r_servfail ? "SERVFAIL"
        : rcode == ns_r_refused ? "REFUSED"
        : rcode == ns_r_formerr ? "FORMERR"
        : rcode == ns_r_notimpl ? "NOTIMP" : "error";

    snprintf(why, whylen, "server answered %s (rcode %d)", what, rcode);
}

/* collect - every answer record of TYPE; count or -1. */
static int collect(ns_msg *msg, int type, char ***rrs, size_t *n,
                   char *why, size_t whylen)
{
    int     count = ns_msg_count(*msg, ns_s_an);

    *rrs = calloc((size_t) count + 1, sizeof **rrs);
    if (*rrs == NULL) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    for (int i = 0; i < count; i++) {
        ns_rr   rr;
        struct strbuf sb = STRBUF_INIT;

        if (ns_parserr(msg, ns_s_an, i, &rr) < 0 || (int) ns_rr_type(rr) != type)
            continue;
        if (format_rdata(msg, &rr, &sb) < 0 || sb_failed(&sb)) {
            sb_free(&sb);
            dnsq_free(*rrs, *n);
            *rrs = NULL;
            *n = 0;
            snprintf(why, whylen, "malformed record in answer");
            return -1;
        }
        (*rrs)[(*n)++] = sb_steal(&sb);
        sb_free(&sb);
    }
    return (int) *n;
}

/* setup - a resolver state: RD off when a SERVER is asked directly */
static int setup(res_state st, const char *server, int timeout, char *why, size_t whylen)
{
    memset(st, 0, sizeof *st);
    if (res_ninit(st) < 0) {
        snprintf(why, whylen, "cannot initialise the resolver");
        return -1;
    }
    st->retrans = timeout > 0 ? timeout : 5;
    st->retry = 1;
    st->options |= RES_USE_EDNS0;
    if (server && *server)
        st->options &= ~(unsigned long) (RES_RECURSE | RES_DNSRCH | RES_DEFNAMES);
    return 0;
}

/* send_system - res_nsend to the system resolver, telling a REFUSED/SERVFAIL
 * answer (which glibc reports as a timeout after trying the next server)
 * from silence: ANS then holds that answer, and its length is returned */
static int send_system(res_state st, const unsigned char *query, int qlen, unsigned char *ans)
{
    int     alen;

    memset(ans, 0, NS_HFIXEDSZ);
    if ((alen = res_nsend(st, query, qlen, ans, DNSQ_BUFSIZE)) >= 0)
        return alen;
    if (ans[0] == query[0] && ans[1] == query[1] && (ans[2] & 0x80) && (ans[3] & 0x0f))
        return NS_HFIXEDSZ;
    return -1;
}

/* ask - QUERY to SERVER (dnsq_send: IPv4 or IPv6, the thread's budget) or
 * to the system resolver; the answer's length, or -1 with WHY */
static int ask(res_state st, const char *server, int timeout, const unsigned char *query,
               int qlen, unsigned char *ans, char *why, size_t whylen)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int     alen;

    if (server && *server && dnsq_parse_server(server, &ss, &sl) < 0) {
        snprintf(why, whylen, "bad server address \"%.80s\" (want IP, IPv4:PORT or "
                 "[IPv6]:PORT)", server);
        return -1;
    }
    alen = server && *server ? dnsq_send(&ss, sl, query, qlen, ans, DNSQ_BUFSIZE, timeout)
        : send_system(st, query, qlen, ans);
    if (alen < 0)
        snprintf(why, whylen, "no answer from %s (%s)",
                 server && *server ? server : "the system resolver",
                 errno == ECONNREFUSED ? "connection refused" : "timeout");
    return alen;
}

int     dnsq_query(const char *server, const char *name, int type, int timeout,
                   char ***rrs, size_t *n, char *why, size_t whylen)
{
    struct __res_state st;
    unsigned char query[NS_PACKETSZ + 64];
    unsigned char *ans;
    ns_msg  msg;
    int     qlen, alen, rcode, ret = -1;

    *rrs = NULL;
    *n = 0;
    if (setup(&st, server, timeout, why, whylen) < 0)
        return -1;
    if ((ans = malloc(DNSQ_BUFSIZE)) == NULL) {
        snprintf(why, whylen, "out of memory");
        res_nclose(&st);
        return -1;
    }
    qlen = res_nmkquery(&st, ns_o_query, name, ns_c_in, type, NULL, 0, NULL,
                        query, sizeof query);
    if (qlen < 0) {
        snprintf(why, whylen, "cannot make a query for \"%.100s\"", name);
    } else if ((alen = ask(&st, server, timeout, query, qlen, ans, why, whylen)) < 0) {
        ;                                       /* WHY says it */
    } else if (alen == NS_HFIXEDSZ && (ans[3] & 0x0f)) {
        rcode_why(ans[3] & 0x0f, why, whylen);
    } else if (ns_initparse(ans, alen, &msg) < 0) {
        snprintf(why, whylen, "unparseable answer");
    } else if ((rcode = ns_msg_getflag(msg, ns_f_rcode)) == ns_r_nxdomain) {
        ret = 0;
    } else if (rcode != ns_r_noerror) {
        rcode_why(rcode, why, whylen);
    } else {
        ret = collect(&msg, type, rrs, n, why, whylen);
    }
    free(ans);
    res_nclose(&st);
    return ret;
}

void    dnsq_free(char **rrs, size_t n)
{
    if (rrs == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(rrs[i]);
    free(rrs);
}
