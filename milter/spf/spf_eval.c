/*
 * spf_eval.c - check_host() of RFC 7208 section 4: fetch the record, walk
 * its mechanisms in order, then redirect; count DNS-costing terms and void
 * lookups (4.6.4); explanation for a fail (6.2).
 *
 *   mxspf_eval       one check, verdict into the caller's struct
 *   mxspf_ptr_names  the validated host names of the client (ptr, %{p})
 *
 * Records are validated whole by spf_record.c before any term is
 * evaluated.  libspf2 is not used on this path: see docs/SPF.md for why.
 *
 * Ownership: each record level is malloc'd and freed here.
 * Diagnostics: results only; the reason goes into the verdict.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spf_int.h"

#define MAX_DEPTH 12

enum { NO_MATCH, MATCH, ERROR };        /* a term's outcome */

static enum mxspf_result check_host(struct spf_ctx *, const char *domain, int depth,
                                    int want_exp, struct spf_verdict *);

/* fail_with - set V's result and reason (FMT's one "%s" replaced by ARG,
 * cut to fit); returns ERROR */
static int fail_with(struct spf_verdict *v, enum mxspf_result r, const char *fmt, const char *arg)
{
    const char *mark = strstr(fmt, "%s");
    size_t  pre = mark ? (size_t) (mark - fmt) : strlen(fmt), room = sizeof v->reason;

    v->result = r;
    mxspf_strlcpy(v->reason, fmt, pre + 1 < room ? pre + 1 : room);
    if (mark) {
        size_t  used = strlen(v->reason);

        mxspf_strlcpy(v->reason + used, arg, room - used);
        used = strlen(v->reason);
        mxspf_strlcpy(v->reason + used, mark + 2, room - used);
    }
    return ERROR;
}

/* domain_ok - RFC 7208 4.3: labels 1..63, more than one label */
static int domain_ok(const char *d)
{
    size_t  n = 0, labels = 0;

    if (*d == 0 || strlen(d) > 253)
        return 0;
    for (; ; d++) {
        if (*d == '.' || *d == 0) {
            if (n == 0 || n > 63)
                return 0;
            labels++;
            n = 0;
            if (*d == 0)
                break;
        } else
            n++;
    }
    return labels > 1;
}

/* in_net - do the first BITS bits of A and NET agree */
static int in_net(const unsigned char *a, const unsigned char *net, int bits)
{
    int     full = bits / 8, rest = bits % 8;

    if (memcmp(a, net, (size_t) full) != 0)
        return 0;
    return rest == 0 || ((a[full] ^ net[full]) & (0xff << (8 - rest))) == 0;
}

/* has_ip - does the A/AAAA set RRS hold the client, within the prefix */
static int has_ip(const struct spf_req *req, const struct spf_rrs *rrs, int bits)
{
    int     i;

    for (i = 0; i < rrs->count; i++)
        if (in_net(req->addr, (const unsigned char *) rrs->item[i], bits))
            return 1;
    return 0;
}

/* target - the expanded domain-spec at TEXT+OFF, or the current DOMAIN */
static int target(struct spf_ctx *c, const char *text, unsigned off, unsigned len,
                  const char *domain, char *out, size_t outlen)
{
    if (len == 0) {
        mxspf_strlcpy(out, domain, outlen);
        return 0;
    }
    return mxspf_domain_expand(c, text + off, len, domain, out, outlen);
}

/* void_lookup - count a lookup that found nothing; ERROR past the limit */
static int void_lookup(struct spf_ctx *c, struct spf_verdict *v)
{
    if (++c->voids > SPF_MAX_VOID)
        return fail_with(v, MXSPF_PERMERROR, "%s", "too many void lookups");
    return NO_MATCH;
}

/* addr_match - a / mx host: does NAME's A or AAAA hold the client */
static int addr_match(struct spf_ctx *c, const char *name, const struct spf_term *t,
                      struct spf_rrs *rrs, struct spf_verdict *v, int count_void)
{
    int     v4 = c->req->family == AF_INET;
    int     rc = mxspf_dns_lookup(c, name, v4 ? ns_t_a : ns_t_aaaa, rrs);

    if (rc == SPF_DNS_TEMP)
        return fail_with(v, MXSPF_TEMPERROR, "DNS error looking up %s", name);
    if (rc != SPF_DNS_OK)
        return count_void ? void_lookup(c, v) : NO_MATCH;
    return has_ip(c->req, rrs, v4 ? t->cidr4 : t->cidr6) ? MATCH : NO_MATCH;
}

/* mx_match - the mx mechanism: at most 10 MX hosts looked up */
static int mx_match(struct spf_ctx *c, const char *name, const struct spf_term *t,
                    struct spf_rrs *rrs, struct spf_verdict *v)
{
    char    hosts[SPF_MAX_MX][SPF_MAX_NAME];
    int     rc = mxspf_dns_lookup(c, name, ns_t_mx, rrs), n, i, m;

    if (rc == SPF_DNS_TEMP)
        return fail_with(v, MXSPF_TEMPERROR, "DNS error looking up MX of %s", name);
    if (rc != SPF_DNS_OK)
        return void_lookup(c, v);
    if (rrs->count > SPF_MAX_MX)
        return fail_with(v, MXSPF_PERMERROR, "%s", "more than 10 MX records");
    for (n = i = 0; i < rrs->count; i++)
        snprintf(hosts[n++], SPF_MAX_NAME, "%s", rrs->item[i]);
    for (i = 0; i < n; i++) {
        if (hosts[i][0] == 0 || strcmp(hosts[i], ".") == 0)
            continue;
        if ((m = addr_match(c, hosts[i], t, rrs, v, 0)) != NO_MATCH)
            return m;
    }
    return NO_MATCH;
}

/* reverse_name - the in-addr.arpa or ip6.arpa name of the client */
static void reverse_name(const struct spf_req *req, char *out, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *a = req->addr;
    size_t  o = 0;
    int     i;

    if (req->family == AF_INET) {
        snprintf(out, len, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
        return;
    }
    for (i = 15; i >= 0 && o + 5 < len; i--)
        o += (size_t) snprintf(out + o, len - o, "%c.%c.", hex[a[i] & 15], hex[a[i] >> 4]);
    snprintf(out + o, len - o, "ip6.arpa");
}

/* within - is NAME equal to DOMAIN or below it (case-insensitive) */
static int within(const char *name, const char *domain)
{
    size_t  n = strlen(name), d = strlen(domain);

    if (n > 0 && name[n - 1] == '.')
        n--;
    if (d > 0 && domain[d - 1] == '.')
        d--;
    if (n == d)
        return strncasecmp(name, domain, n) == 0;
    return n > d && name[n - d - 1] == '.' && strncasecmp(name + n - d, domain, d) == 0;
}

/* mxspf_ptr_names - RFC 7208 5.5: a validated name of the client within
 * WANT (or any, WANT NULL) into FOUND; 1 found, 2 found outside WANT, 0
 * none, -1 the PTR lookup found nothing (a void lookup) */
int     mxspf_ptr_names(struct spf_ctx *c, const char *want, char *found, size_t len)
{
    struct spf_rrs *rrs = malloc(2 * sizeof *rrs), *addrs;
    char    names[SPF_MAX_PTR][SPF_MAX_NAME], rev[128];
    int     n, i, rc, any = -1, v4 = c->req->family == AF_INET;

    if (rrs == NULL)
        return 0;
    addrs = rrs + 1;
    reverse_name(c->req, rev, sizeof rev);
    rc = mxspf_dns_lookup(c, rev, ns_t_ptr, rrs);
    for (n = i = 0; rc == SPF_DNS_OK && i < rrs->count && n < SPF_MAX_PTR; i++)
        snprintf(names[n++], SPF_MAX_NAME, "%s", rrs->item[i]);
    for (i = 0; i < n; i++) {
        if (mxspf_dns_lookup(c, names[i], v4 ? ns_t_a : ns_t_aaaa, addrs) != SPF_DNS_OK
            || !has_ip(c->req, addrs, v4 ? 32 : 128))
            continue;
        if (want == NULL || within(names[i], want)) {
            any = i;
            break;
        }
        if (any < 0)
            any = i;
    }
    if (any >= 0)
        snprintf(found, len, "%s", names[any]);
    free(rrs);
    if (any >= 0)
        return want == NULL || within(names[any], want) ? 1 : 2;
    return rc == SPF_DNS_NXDOMAIN || rc == SPF_DNS_NODATA ? -1 : 0;
}

/* include_match - recurse; pass matches, errors propagate (RFC 7208 5.2) */
static int include_match(struct spf_ctx *c, const char *name, int depth, struct spf_verdict *v)
{
    struct spf_verdict inner;

    memset(&inner, 0, sizeof inner);
    switch (check_host(c, name, depth + 1, 0, &inner)) {
    case MXSPF_PASS:
        return MATCH;
    case MXSPF_FAIL:
    case MXSPF_SOFTFAIL:
    case MXSPF_NEUTRAL:
        return NO_MATCH;
    case MXSPF_TEMPERROR:
        *v = inner;
        return ERROR;
    case MXSPF_NONE:
        return fail_with(v, MXSPF_PERMERROR, "include:%s has no SPF record", name);
    default:
        *v = inner;
        return ERROR;
    }
}

/* term_match - evaluate one mechanism */
static int term_match(struct spf_ctx *c, const struct spf_record *r, const struct spf_term *t,
                      const char *domain, int depth, struct spf_rrs *rrs, struct spf_verdict *v)
{
    char    name[SPF_MAX_NAME + 8], found[SPF_MAX_NAME];
    int     rc;

    switch (t->mech) {
    case SPF_M_ALL:
        return MATCH;
    case SPF_M_IP4:
        return c->req->family == AF_INET && in_net(c->req->addr, t->addr, t->cidr4)
            ? MATCH : NO_MATCH;
    case SPF_M_IP6:
        return c->req->family == AF_INET6 && in_net(c->req->addr, t->addr, t->cidr6)
            ? MATCH : NO_MATCH;
    default:
        break;
    }
    if (++c->lookups > SPF_MAX_LOOKUPS)
        return fail_with(v, MXSPF_PERMERROR, "%s", "more than 10 DNS lookups");
    if (target(c, r->text, t->off, t->len, domain, name, sizeof name) < 0)
        return fail_with(v, MXSPF_PERMERROR, "%s", "macro expansion failed");
    switch (t->mech) {
    case SPF_M_A:
        return addr_match(c, name, t, rrs, v, 1);
    case SPF_M_MX:
        return mx_match(c, name, t, rrs, v);
    case SPF_M_EXISTS:
        rc = mxspf_dns_lookup(c, name, ns_t_a, rrs);
        if (rc == SPF_DNS_TEMP)
            return fail_with(v, MXSPF_TEMPERROR, "DNS error looking up %s", name);
        return rc == SPF_DNS_OK ? MATCH : void_lookup(c, v);
    case SPF_M_PTR:
        rc = mxspf_ptr_names(c, name, found, sizeof found);
        if (rc < 0)
            return void_lookup(c, v);
        return rc == 1 ? MATCH : NO_MATCH;
    default:
        return include_match(c, name, depth, v);
    }
}

/* fetch - the one SPF record of DOMAIN into R; ERROR sets V (none, temp-
 * or permerror) */
static int fetch(struct spf_ctx *c, const char *domain, struct spf_record *r,
                 struct spf_rrs *rrs, struct spf_verdict *v)
{
    int     rc = mxspf_dns_lookup(c, domain, ns_t_txt, rrs), i, found = -1;

    if (rc == SPF_DNS_TEMP)
        return fail_with(v, MXSPF_TEMPERROR, "DNS error looking up TXT of %s", domain);
    for (i = 0; rc == SPF_DNS_OK && i < rrs->count; i++) {
        if (!mxspf_record_is_spf(rrs->item[i], rrs->len[i]))
            continue;
        if (found >= 0)
            return fail_with(v, MXSPF_PERMERROR, "%s has more than one SPF record", domain);
        found = i;
    }
    if (found < 0)
        return fail_with(v, MXSPF_NONE, "%s has no SPF record", domain);
    if (mxspf_record_parse(rrs->item[found], rrs->len[found], r) < 0)
        return fail_with(v, MXSPF_PERMERROR, "%s", r->error);
    return NO_MATCH;
}

static enum mxspf_result qual_result(char q)
{
    return q == '-' ? MXSPF_FAIL : q == '~' ? MXSPF_SOFTFAIL : q == '?' ? MXSPF_NEUTRAL : MXSPF_PASS;
}

/* mech_text - "a:domain/24" for Received-SPF's mechanism= */
static void mech_text(const struct spf_record *r, const struct spf_term *t, char *out, size_t len)
{
    static const char *const names[] = {"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"};

    if (t->len)
        snprintf(out, len, "%s:%.*s", names[t->mech], (int) t->len, r->text + t->off);
    else
        snprintf(out, len, "%s", names[t->mech]);
}

/* evaluate - the terms of R in order, then redirect */
static enum mxspf_result evaluate(struct spf_ctx *c, struct spf_record *r, const char *domain,
                                  int depth, int want_exp, struct spf_rrs *rrs,
                                  struct spf_verdict *v)
{
    char    name[SPF_MAX_NAME + 8];
    int     i, m;

    for (i = 0; i < r->nterms; i++) {
        if ((m = term_match(c, r, &r->term[i], domain, depth, rrs, v)) == ERROR)
            return v->result;
        if (m == NO_MATCH)
            continue;
        v->result = qual_result(r->term[i].qual);
        mech_text(r, &r->term[i], v->mech, sizeof v->mech);
        if (v->result == MXSPF_FAIL && want_exp)
            mxspf_explain(c, r, domain, v);
        return v->result;
    }
    if (r->redirect_len == 0) {
        v->result = MXSPF_NEUTRAL;
        mxspf_strlcpy(v->mech, "default", sizeof v->mech);
        return v->result;
    }
    if (++c->lookups > SPF_MAX_LOOKUPS) {
        fail_with(v, MXSPF_PERMERROR, "%s", "more than 10 DNS lookups");
        return v->result;
    }
    if (target(c, r->text, r->redirect_off, r->redirect_len, domain, name, sizeof name) < 0) {
        fail_with(v, MXSPF_PERMERROR, "%s", "macro expansion failed");
        return v->result;
    }
    if (check_host(c, name, depth + 1, want_exp, v) == MXSPF_NONE)
        fail_with(v, MXSPF_PERMERROR, "redirect=%s has no SPF record", name);
    return v->result;
}

/* check_host - RFC 7208 4 for DOMAIN */
static enum mxspf_result check_host(struct spf_ctx *c, const char *domain, int depth,
                                    int want_exp, struct spf_verdict *v)
{
    struct spf_record *r;
    struct spf_rrs *rrs;

    if (depth > MAX_DEPTH) {
        fail_with(v, MXSPF_PERMERROR, "%s", "include or redirect loop");
        return v->result;
    }
    if (!domain_ok(domain)) {
        fail_with(v, MXSPF_NONE, "\"%s\" is not a domain name", domain);
        return v->result;
    }
    if ((r = malloc(sizeof *r)) == NULL || (rrs = malloc(sizeof *rrs)) == NULL) {
        free(r);
        fail_with(v, MXSPF_TEMPERROR, "%s", "out of memory");
        return v->result;
    }
    if (fetch(c, domain, r, rrs, v) != ERROR)
        evaluate(c, r, domain, depth, want_exp, rrs, v);
    free(rrs);
    free(r);
    return v->result;
}

void    mxspf_eval(const struct mxspf *s, const struct spf_req *req, struct spf_verdict *v)
{
    struct spf_ctx c;

    memset(&c, 0, sizeof c);
    c.s = s;
    c.req = req;
    c.deadline = mxspf_dns_deadline(s->timeout * 4 > SPF_CHECK_BUDGET ? s->timeout * 4
                                    : SPF_CHECK_BUDGET);
    c.udp = -1;
    check_host(&c, req->domain, 0, 1, v);
    mxspf_dns_done(&c);
}
