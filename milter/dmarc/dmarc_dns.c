/*
 * dmarc_dns.c - the DNS questions DMARC asks, with libresolv.
 *
 *   mxdmarc_dns_query  records of one type at one name, with the status
 *                      (OK, NODATA, NXDOMAIN, ERROR) policy discovery and
 *                      the np= existence test need
 *   mxdmarc_rrs_free   free what it returned
 *
 * conf/dnsq.c asks authoritative servers (RD off) and does not tell
 * NXDOMAIN from NODATA; DMARC asks the milter's recursive resolver
 * (dns_resolver, IPv4 or IPv6, RD on; empty = the system's first
 * nameserver) and needs that difference for np=.  The query goes out
 * through dnsq_send (UDP, TCP on truncation), so it ends within dns_timeout
 * and the message's time budget (milter_dns_budget).
 *
 * Ownership: *RRS (TXT only) is a malloc'd array of malloc'd strings the
 * caller frees with mxdmarc_rrs_free().  Diagnostics: MXDMARC_DNS_ERROR.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsq.h"

#include "dmarc.h"

#define ANSWER_MAX 65535

/* setup - a resolver state to make queries with (RD on). */
static int setup(res_state st)
{
    memset(st, 0, sizeof *st);
    if (res_ninit(st) < 0)
        return -1;
    st->options |= RES_RECURSE;
    st->options &= ~(unsigned long) (RES_DNSRCH | RES_DEFNAMES);
    return 0;
}

/* target - SERVER (IPv4 or IPv6), or the system's first nameserver */
static int target(const char *server, struct sockaddr_storage *ss, socklen_t *len)
{
    if (server && *server)
        return dnsq_parse_server(server, ss, len);
    dnsq_system_server(ss, len);
    return 0;
}

/* txt_join - the character-strings of one TXT rdata, joined. */
static char *txt_join(const unsigned char *p, size_t n)
{
    char   *s = malloc(n + 1);
    size_t  i = 0, len = 0;

    if (s == NULL)
        return NULL;
    while (i < n) {
        size_t  l = p[i++];

        if (i + l > n) {
            free(s);
            return NULL;
        }
        memcpy(s + len, p + i, l);
        len += l;
        i += l;
    }
    s[len] = 0;
    if (strlen(s) != len) {     /* a NUL inside: not a policy record */
        free(s);
        return NULL;
    }
    return s;
}

/* collect - records of TYPE in the answer section (TXT joined); a CNAME
 * alone is NODATA: the name exists. */
static enum mxdmarc_dns collect(ns_msg *msg, int type, char ***rrs, size_t *n)
{
    int     count = ns_msg_count(*msg, ns_s_an), found = 0;

    if (type == ns_t_txt && (*rrs = calloc((size_t) count + 1, sizeof **rrs)) == NULL)
        return MXDMARC_DNS_ERROR;
    for (int i = 0; i < count; i++) {
        ns_rr   rr;
        char   *s;

        if (ns_parserr(msg, ns_s_an, i, &rr) < 0)
            return MXDMARC_DNS_ERROR;
        if ((int) ns_rr_type(rr) != type)
            continue;
        found++;
        if (type != ns_t_txt)
            continue;
        if ((s = txt_join(ns_rr_rdata(rr), ns_rr_rdlen(rr))) != NULL)
            (*rrs)[(*n)++] = s;
    }
    if (type != ns_t_txt)
        *n = (size_t) found;
    return found > 0 ? MXDMARC_DNS_OK : MXDMARC_DNS_NODATA;
}

/* answer_status - what the answer at ANS says about the name. */
static enum mxdmarc_dns answer_status(const unsigned char *ans, int alen, int type,
                                      char ***rrs, size_t *n)
{
    ns_msg  msg;
    int     rcode;

    if (ns_initparse(ans, alen, &msg) < 0)
        return MXDMARC_DNS_ERROR;
    rcode = ns_msg_getflag(msg, ns_f_rcode);
    if (rcode == ns_r_nxdomain)
        /* a CNAME whose target is missing still makes the name exist */
        return ns_msg_count(msg, ns_s_an) > 0 ? MXDMARC_DNS_NODATA : MXDMARC_DNS_NXDOMAIN;
    if (rcode != ns_r_noerror)
        return MXDMARC_DNS_ERROR;
    return collect(&msg, type, rrs, n);
}

enum mxdmarc_dns mxdmarc_dns_query(const char *server, int timeout, const char *name,
                                   int type, char ***rrs, size_t *n)
{
    struct __res_state st;
    unsigned char query[NS_PACKETSZ + 64];
    unsigned char *ans;
    struct sockaddr_storage ss;
    socklen_t sl;
    int     qlen, alen;
    enum mxdmarc_dns ret = MXDMARC_DNS_ERROR;

    *rrs = NULL;
    *n = 0;
    if (target(server, &ss, &sl) < 0 || setup(&st) < 0)
        return MXDMARC_DNS_ERROR;
    if ((ans = malloc(ANSWER_MAX)) == NULL) {
        res_nclose(&st);
        return MXDMARC_DNS_ERROR;
    }
    qlen = res_nmkquery(&st, ns_o_query, name, ns_c_in, type, NULL, 0, NULL,
                        query, sizeof query);
    if (qlen >= 0 && (alen = dnsq_send(&ss, sl, query, qlen, ans, ANSWER_MAX, timeout)) >= 0)
        ret = answer_status(ans, alen, type, rrs, n);
    free(ans);
    res_nclose(&st);
    if (ret != MXDMARC_DNS_OK) {
        mxdmarc_rrs_free(*rrs, *n);
        *rrs = NULL;
        *n = 0;
    }
    return ret;
}

void    mxdmarc_rrs_free(char **rrs, size_t n)
{
    if (rrs == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(rrs[i]);
    free(rrs);
}
