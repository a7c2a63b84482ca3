/*
 * dmarc_eval.c - DMARC evaluation of one message (RFC 7489 section 6.6,
 * with DMARCbis np= and t=).
 *
 *   mxdmarc_new         checker: Public Suffix List, resolver settings
 *   mxdmarc_free        free it
 *   mxdmarc_set_lookup  replace the resolver (tests, caches)
 *   mxdmarc_org_domain  organizational domain by the PSL (RFC 7489 3.2)
 *   mxdmarc_evaluate    author domain, policy discovery, alignment, result
 *
 * Policy discovery asks _dmarc.AUTHOR, then _dmarc.ORGDOMAIN; a record
 * found at the organizational domain applies sp= to the subdomain, or np=
 * when the author domain does not exist (NXDOMAIN for A, AAAA and MX).
 * SPF counts only for the MAIL FROM identity; any passing DKIM signature
 * with an aligned d= counts.  A DNS failure during discovery is
 * temperror; no usable From is permerror.
 *
 * Ownership: the checker holds the libpsl context; results are the
 * caller's structs.  Diagnostics: mxdmarc_new() returns NULL with WHY;
 * evaluation puts its reason into the result, logs nothing.
 */
#include <arpa/nameser.h>
#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc.h"
#include "dmarc_int.h"
#include "domain.h"
#include "log.h"

static enum mxdmarc_dns default_lookup(void *ctx, const char *name, int type,
                                       char ***rrs, size_t *n)
{
    const struct mxdmarc *d = ctx;

    return mxdmarc_dns_query(d->server, d->timeout, name, type, rrs, n);
}

struct mxdmarc *mxdmarc_new(const struct mx_conf *c, char *why, size_t whylen)
{
    struct mxdmarc *d = calloc(1, sizeof *d);

    if (d == NULL) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    d->c = c;
    d->psl = psl_load_file(c->dmarc_psl_file);
    if (d->psl == NULL) {
        snprintf(why, whylen, "cannot load the Public Suffix List %.200s (dmarc_psl_file)",
                 c->dmarc_psl_file);
        free(d);
        return NULL;
    }
    if (snprintf(d->server, sizeof d->server, "%s", c->dns_resolver) >= (int) sizeof d->server) {
        snprintf(why, whylen, "dns_resolver too long");
        mxdmarc_free(d);
        return NULL;
    }
    d->timeout = (int) c->dns_timeout;
    d->lookup = default_lookup;
    d->lookup_ctx = d;
    return d;
}

void    mxdmarc_free(struct mxdmarc *d)
{
    if (d == NULL)
        return;
    psl_free(d->psl);
    free(d);
}

void    mxdmarc_set_lookup(struct mxdmarc *d, mxdmarc_lookup_fn fn, void *ctx)
{
    d->lookup = fn ? fn : default_lookup;
    d->lookup_ctx = fn ? ctx : d;
}

int     mxdmarc_org_domain(const struct mxdmarc *d, const char *domain, char *out, size_t outlen)
{
    const char *reg = psl_registrable_domain(d->psl, domain);

    /* a public suffix itself has no registrable part: it is its own */
    if (reg == NULL)
        reg = domain;
    if (strlen(reg) >= outlen)
        return -1;
    strcpy(out, reg);
    return 0;
}

/* fetch_record - the one DMARC record at _dmarc.DOMAIN: 1 found and
 * usable, 2 present but several or unusable (discovery stops there, RFC
 * 7489 6.6.3), 0 none, -1 DNS error. */
static int fetch_record(const struct mxdmarc *d, const char *domain, struct mxdmarc_record *rec)
{
    char    name[MXDMARC_DOMAIN_MAX + 16];
    char  **rrs = NULL;
    size_t  n = 0, found = 0, which = 0;
    enum mxdmarc_dns st;
    int     ret;

    /* a name that cannot exist has no record (and is no DNS failure) */
    if (snprintf(name, sizeof name, "_dmarc.%s", domain) > 253)
        return 0;
    st = d->lookup(d->lookup_ctx, name, ns_t_txt, &rrs, &n);
    if (st == MXDMARC_DNS_ERROR) {
        mxdmarc_rrs_free(rrs, n);       /* a hook may fill and still fail */
        return -1;
    }
    for (size_t i = 0; st == MXDMARC_DNS_OK && i < n; i++)
        if (mxdmarc_is_dmarc(rrs[i])) {
            found++;
            which = i;
        }
    ret = found == 0 ? 0 : found == 1 && mxdmarc_record_parse(rrs[which], rec) == 0 ? 1 : 2;
    mxdmarc_rrs_free(rrs, n);
    return ret;
}

/* domain_exists - 1 exists, 0 NXDOMAIN for A, AAAA and MX, -1 unknown. */
static int domain_exists(const struct mxdmarc *d, const char *domain)
{
    static const int types[] = {ns_t_a, ns_t_aaaa, ns_t_mx};
    int     errors = 0;

    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        char  **rrs = NULL;
        size_t  n = 0;
        enum mxdmarc_dns st = d->lookup(d->lookup_ctx, domain, types[i], &rrs, &n);

        mxdmarc_rrs_free(rrs, n);
        if (st == MXDMARC_DNS_OK || st == MXDMARC_DNS_NODATA)
            return 1;
        if (st == MXDMARC_DNS_ERROR)
            errors++;
    }
    return errors ? -1 : 0;
}

/* aligned - is identifier ID aligned with the author domain in mode M? */
static int aligned(const struct mxdmarc *d, const char *id, const struct mxdmarc_result *r, char m)
{
    char    norm[MXDMARC_DOMAIN_MAX], org[MXDMARC_DOMAIN_MAX], why[160];

    if (id == NULL || *id == 0 || mx_domain_normalize(id, norm, sizeof norm, why, sizeof why) < 0)
        return 0;
    if (m == 's')
        return strcmp(norm, r->author_domain) == 0;
    return mxdmarc_org_domain(d, norm, org, sizeof org) == 0 && strcmp(org, r->org_domain) == 0;
}

/* check_alignment - SPF (MAIL FROM identity only) and DKIM alignment. */
static void check_alignment(const struct mxdmarc *d, const struct mxdmarc_input *in,
                            struct mxdmarc_result *r)
{
    r->spf_aligned = in->spf_identity && strcmp(in->spf_identity, "mailfrom") == 0
        && in->spf_result && strcmp(in->spf_result, "pass") == 0
        && aligned(d, in->mailfrom_domain, r, r->aspf);
    for (size_t i = 0; i < in->ndkim && !r->dkim_aligned; i++) {
        const struct mxdmarc_dkim *k = in->dkim + i;

        if (k->result && strcmp(k->result, "pass") == 0 && aligned(d, k->domain, r, r->adkim)) {
            r->dkim_aligned = 1;
            snprintf(r->dkim_domain, sizeof r->dkim_domain, "%s", k->domain);
        }
    }
}

static enum mxdmarc_policy weaker(enum mxdmarc_policy p)
{
    return p == MXDMARC_P_REJECT ? MXDMARC_P_QUARANTINE : MXDMARC_P_NONE;
}

/* choose_policy - p, sp or np for this author domain; -1 when np= matters
 * and the author domain's existence is unknown (the weaker one is kept). */
static int choose_policy(const struct mxdmarc *d, struct mxdmarc_result *r)
{
    enum mxdmarc_policy base;
    int     exists;

    if (strcmp(r->policy_domain, r->author_domain) == 0) {
        r->applied = r->p;
        return 0;
    }
    base = r->sp != MXDMARC_P_UNSET ? r->sp : r->p;
    r->applied = base;
    if (r->np == MXDMARC_P_UNSET || r->np == base)
        return 0;
    if ((exists = domain_exists(d, r->author_domain)) == 0)
        r->applied = r->np;
    if (exists < 0 && r->np < base)
        r->applied = r->np;
    return exists < 0 ? -1 : 0;
}

/* disposition - the policy after t=y and pct= sampling (RFC 7489 6.6.4). */
static void disposition(struct mxdmarc_result *r)
{
    r->disposition = r->applied == MXDMARC_P_UNSET ? MXDMARC_P_NONE : r->applied;
    if (r->testing)
        r->disposition = weaker(r->disposition);
    if (r->pct < 100 && (r->pct == 0 || (int) arc4random_uniform(100) >= r->pct)) {
        r->disposition = weaker(r->disposition);
        r->sampled_out = 1;
    }
}

/* discover - the record for the author domain: 1 found, 0 none, -1 error */
static int discover(const struct mxdmarc *d, struct mxdmarc_result *r, struct mxdmarc_record *rec)
{
    int     got = fetch_record(d, r->author_domain, rec);

    if (got == 0 && strcmp(r->org_domain, r->author_domain) != 0) {
        if ((got = fetch_record(d, r->org_domain, rec)) == 1)
            snprintf(r->policy_domain, sizeof r->policy_domain, "%s", r->org_domain);
    } else if (got == 1) {
        snprintf(r->policy_domain, sizeof r->policy_domain, "%s", r->author_domain);
    }
    return got == 2 ? 0 : got;
}

static void take_record(struct mxdmarc_result *r, const struct mxdmarc_record *rec)
{
    r->p = rec->p;
    r->sp = rec->sp;
    r->np = rec->np;
    r->pct = rec->pct;
    r->testing = rec->testing;
    r->adkim = rec->adkim;
    r->aspf = rec->aspf;
    memcpy(r->rua, rec->rua, sizeof r->rua);
}

int     mxdmarc_evaluate(const struct mxdmarc *d, const struct mxdmarc_input *in,
                         struct mxdmarc_result *r)
{
    struct mxdmarc_record rec;
    int     found, existence;

    memset(r, 0, sizeof *r);
    r->pct = 100;
    r->adkim = r->aspf = 'r';
    if (mxdmarc_from_domain(in->from, in->nfrom, r->author_domain, sizeof r->author_domain,
                            r->reason, sizeof r->reason) < 0) {
        r->author_domain[0] = 0;
        r->status = MXDMARC_PERMERROR;
        return mxdmarc_format_ar(r);
    }
    if (mxdmarc_org_domain(d, r->author_domain, r->org_domain, sizeof r->org_domain) < 0)
        mx_panic("mxdmarc_evaluate: org domain longer than its domain");
    if ((found = discover(d, r, &rec)) <= 0) {
        r->status = found < 0 ? MXDMARC_TEMPERROR : MXDMARC_NONE;
        snprintf(r->reason, sizeof r->reason, found < 0 ? "DNS error looking up the policy"
                 : "no DMARC policy for %s", r->author_domain);
        return mxdmarc_format_ar(r);
    }
    take_record(r, &rec);
    existence = choose_policy(d, r);
    check_alignment(d, in, r);
    if (r->spf_aligned || r->dkim_aligned) {
        r->status = MXDMARC_PASS;
        snprintf(r->reason, sizeof r->reason, "aligned %s", r->dkim_aligned ? "DKIM" : "SPF");
    } else if (existence < 0) {
        r->status = MXDMARC_TEMPERROR;
        snprintf(r->reason, sizeof r->reason, "DNS error testing whether %s exists (np=)",
                 r->author_domain);
    } else {
        r->status = MXDMARC_FAIL;
        snprintf(r->reason, sizeof r->reason, "no aligned SPF or DKIM pass");
        disposition(r);
    }
    return mxdmarc_format_ar(r);
}
