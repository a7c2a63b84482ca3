/*
 * dkim_msg_dns.c - the resolver libopendkim uses for key queries: dnsq_send
 * to dns_resolver ("IP", "IPv4:PORT", "[IPv6]:PORT"; empty = the system's
 * first nameserver), so tests can aim the milter at a scratch PowerDNS on a
 * non-default port, and every query ends within dns_timeout and what is
 * left of the message's time budget (milter_dns_budget, dnsq.h).
 *
 *   dkim_msg_dns_plug   install start/waitreply/cancel on a DKIM_LIB
 *   dkim_msg_dns_free   free the service object (after dkim_close)
 *
 * A query runs to completion in the start callback (dnsq_send; a res_state
 * of its own only to make the query, so threads share nothing); waitreply
 * only hands the stored outcome over.  The full answer is given to the library even
 * for NXDOMAIN, which is how it tells "no key" from "query failed"; an
 * answer with another error RCODE (SERVFAIL, REFUSED, ...) is a failed
 * query, since the library would read it as "no key".
 *
 * A key record RFC 6376 3.6.1 says to ignore (dkim_keyrec_check, dkim_eng_key.c) is
 * answered as no record at all (the answer count set to 0), so the library,
 * which reads such records leniently, reports "no key" for it.
 *
 * Ownership: the query handle is freed by the cancel callback, which the
 * library calls after every query.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsq.h"

#include <opendkim/dkim.h>

#include "dkim_eng.h"
#include "dkim_msg.h"
#include "log.h"
#include "strbuf.h"

struct dns_service {
    struct sockaddr_storage ss; /* dns_resolver, or the system's first */
    socklen_t len;
    int     timeout;
};

struct dns_query {
    int     status;             /* DKIM_DNS_SUCCESS or DKIM_DNS_ERROR */
    size_t  len;
};

/* drop_bad_keyrec - when the one TXT record of answer BUF (LEN bytes) to
 * NAME is a key record to ignore, make the answer empty (ANCOUNT 0) */
static void drop_bad_keyrec(const char *name, unsigned char *buf, int len)
{
    struct strbuf txt = STRBUF_INIT;
    char    why[128];
    long    ttl;

    if (dkim_eng_key_answer(buf, len, &txt, &ttl) == 1 && !sb_failed(&txt)
        && dkim_keyrec_check(sb_str(&txt), why, sizeof(why)) != 0) {
        mx_info("DKIM key %.200s ignored: %s", name, why);
        buf[6] = buf[7] = 0;    /* ANCOUNT */
    }
    sb_free(&txt);
}

/* dns_start - run the whole query now; BUF gets the raw answer */
static int dns_start(void *srv, int type, unsigned char *query, unsigned char *buf,
                     size_t buflen, void **qh)
{
    struct dns_service *s = srv;
    struct dns_query *q = calloc(1, sizeof(*q));
    struct __res_state rs;
    unsigned char pkt[NS_PACKETSZ];
    int     qlen, alen = -1;

    if (q == 0)
        return -1;
    memset(&rs, 0, sizeof(rs));
    if (res_ninit(&rs) == 0) {
        qlen = res_nmkquery(&rs, QUERY, (const char *) query, C_IN, type, NULL, 0, NULL,
                            pkt, sizeof(pkt));
        if (qlen > 0)
            alen = dnsq_send(&s->ss, s->len, pkt, qlen, buf, (int) buflen, s->timeout);
        /* libopendkim reads an answer with no records as "no key" whatever
         * its RCODE: a SERVFAIL would be a permerror (RFC 6376 6.1.2 wants
         * a temporary failure).  Only NOERROR and NXDOMAIN go through. */
        if (alen >= 4 && (buf[3] & 0x0f) != ns_r_noerror && (buf[3] & 0x0f) != ns_r_nxdomain)
            alen = -1;
        if (alen > 0 && type == ns_t_txt)
            drop_bad_keyrec((const char *) query, buf, alen);
        res_nclose(&rs);
    }
    q->status = alen > 0 ? DKIM_DNS_SUCCESS : DKIM_DNS_ERROR;
    q->len = alen > 0 ? (size_t) alen : 0;
    *qh = q;
    return 0;
}

static int dns_waitreply(void *srv, void *qh, struct timeval *to, size_t *bytes,
                         int *error, int *dnssec)
{
    struct dns_query *q = qh;

    (void) srv;
    (void) to;
    if (bytes)
        *bytes = q->len;
    if (error)
        *error = 0;
    if (dnssec)
        *dnssec = DKIM_DNSSEC_UNKNOWN;
    return q->status;
}

/* dns_close - the service object is ours: keep the library's default
 * close function (made for its own resolver) away from it */
static void dns_close(void *srv)
{
    (void) srv;
}

static int dns_cancel(void *srv, void *qh)
{
    (void) srv;
    free(qh);
    return 0;
}

void   *dkim_msg_dns_plug(void *libopendkim, const char *server, long timeout,
                          char *why, size_t whylen)
{
    DKIM_LIB *lib = libopendkim;
    struct dns_service *s = calloc(1, sizeof(*s));

    if (s == 0) {
        snprintf(why, whylen, "out of memory");
        return 0;
    }
    s->timeout = (int) (timeout > 0 ? timeout : 5);
    if (server && *server) {
        if (dnsq_parse_server(server, &s->ss, &s->len) != 0) {
            snprintf(why, whylen, "dns_resolver: not IP, IPv4:PORT or [IPv6]:PORT: %.100s",
                     server);
            free(s);
            return 0;
        }
    } else {
        dnsq_system_server(&s->ss, &s->len);
    }
    (void) dkim_dns_set_query_service(lib, s);
    dkim_dns_set_query_start(lib, dns_start);
    dkim_dns_set_query_waitreply(lib, dns_waitreply);
    dkim_dns_set_query_cancel(lib, dns_cancel);
    dkim_dns_set_close(lib, dns_close);
    return s;
}

void    dkim_msg_dns_free(void *s)
{
    free(s);
}
