/*
 * dmarc_eval.c - DMARC evaluation of one message: RFC 9989 (DNS tree
 * walk) by default, RFC 7489 section 6.6 with dmarc_org_domain = psl.
 *
 *   mxdmarc_new         checker: resolver settings, PSL when it is used
 *   mxdmarc_free        free it
 *   mxdmarc_set_lookup  replace the resolver (tests, caches)
 *   mxdmarc_org_domain  organizational domain (tree walk or PSL)
 *   mxdmarc_evaluate    author domain, policy discovery, alignment, result
 *
 * Tree walk (RFC 9989 4.10.1, dmarc_walk.c): the author domain's own
 * record applies p=; otherwise the record of the organizational domain
 * the walk found, or failing that the psd=y record above it, applies sp=
 * (or p=), or np= when the author domain does not exist (NXDOMAIN for A,
 * AAAA and MX).  Relaxed alignment compares the organizational domains
 * of two tree walks; only identifiers at or under the author's
 * organizational domain are walked, at most ALIGN_WALKS of them per
 * message (mailauth 7.1.0 lib/dmarc/verify.js:11 and :153-176 do the
 * same), each name asked once per message.  t=y lowers the policy one
 * step (reject -> quarantine -> none); pct= is ignored: RFC 9989 removed
 * it and neither reference gives a transition rule for it.
 *
 * PSL (RFC 7489): _dmarc.AUTHOR, then _dmarc.ORGDOMAIN from the Public
 * Suffix List; pct= sampling lowers the disposition one step.
 *
 * SPF counts only for the MAIL FROM identity; any passing DKIM signature
 * with an aligned d= counts.  A DNS failure during discovery is
 * temperror; so is one during an alignment walk when nothing passes.  No
 * usable From is permerror.
 *
 * Ownership: the checker holds the libpsl context (psl mode); results
 * are the caller's structs.  Diagnostics: mxdmarc_new() returns NULL with
 * WHY; evaluation puts its reason into the result, logs nothing.
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
    d->treewalk = c->dmarc_org_domain == NULL || strcmp(c->dmarc_org_domain, "psl") != 0;
    if (!d->treewalk && (d->psl = psl_load_file(c->dmarc_psl_file)) == NULL) {
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
    if (d->psl)
        psl_free(d->psl);
    free(d);
}

void    mxdmarc_set_lookup(struct mxdmarc *d, mxdmarc_lookup_fn fn, void *ctx)
{
    d->lookup = fn ? fn : default_lookup;
    d->lookup_ctx = fn ? ctx : d;
}

/* psl_org - the organizational domain of DOMAIN by the PSL */
static int psl_org(const struct mxdmarc *d, const char *domain, char *out, size_t outlen)
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

int     mxdmarc_org_domain(const struct mxdmarc *d, const char *domain, char *out, size_t outlen)
{
    struct mxdmarc_walk w;

    if (!d->treewalk)
        return psl_org(d, domain, out, outlen);
    if (strlen(domain) >= outlen || mxdmarc_walk(d, NULL, domain, &w) < 0)
        return -1;
    mxdmarc_walk_org(&w, domain, out, outlen);
    return 0;
}

/* fetch_record - RFC 7489 6.6.3 for the PSL mode: 1 found and usable, 2
 * present but several or unusable (discovery stops there), 0 none, -1
 * DNS error. */
static int fetch_record(const struct mxdmarc *d, const char *domain, struct mxdmarc_record *rec)
{
    int     usable, rc = mxdmarc_fetch(d, domain, rec, &usable);

    return rc == 1 && !usable ? 2 : rc;
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

#define ALIGN_WALKS 10

/* One evaluation: the checker, this message's DNS answers, the walks. */
struct eval {
    const struct mxdmarc *d;
    struct mxdmarc_cache *cache;
    int     walks;              /* alignment walks made */
    int     walk_error;         /* an alignment walk failed or was not made */
};

/* under - is NAME equal to or under DOMAIN? */
static int under(const char *name, const char *domain)
{
    size_t  n = strlen(name), l = strlen(domain);

    return n >= l && strcmp(name + n - l, domain) == 0 && (n == l || name[n - l - 1] == '.');
}

/* walk_aligned - relaxed alignment of NORM by tree walks (RFC 9989 4.10.2) */
static int walk_aligned(struct eval *e, const char *norm, const struct mxdmarc_result *r)
{
    struct mxdmarc_walk w;
    char    org[MXDMARC_DOMAIN_MAX];
    const char *tld = strrchr(r->author_domain, '.');

    if (r->org_domain[0] == 0) {        /* the author's walk failed */
        if (tld && under(norm, tld + 1))
            e->walk_error = 1;
        return 0;
    }
    if (!under(norm, r->org_domain))
        return 0;
    if (e->walks >= ALIGN_WALKS) {
        e->walk_error = 1;
        return 0;
    }
    e->walks++;
    if (mxdmarc_walk(e->d, e->cache, norm, &w) < 0) {
        e->walk_error = 1;
        return 0;
    }
    mxdmarc_walk_org(&w, norm, org, sizeof org);
    return strcmp(org, r->org_domain) == 0;
}

/* aligned - is identifier ID aligned with the author domain in mode M? */
static int aligned(struct eval *e, const char *id, struct mxdmarc_result *r, char m)
{
    char    norm[MXDMARC_DOMAIN_MAX], org[MXDMARC_DOMAIN_MAX], why[160];
    int     ok;

    if (id == NULL || *id == 0 || mx_domain_normalize(id, norm, sizeof norm, why, sizeof why) < 0)
        return 0;
    if (strcmp(norm, r->author_domain) == 0)
        return 1;
    if (m == 's')
        return 0;
    if (e->d->treewalk)
        ok = walk_aligned(e, norm, r);
    else
        ok = psl_org(e->d, norm, org, sizeof org) == 0 && strcmp(org, r->org_domain) == 0;
    r->org_mattered |= ok;
    return ok;
}

/* check_alignment - SPF (MAIL FROM identity only) and DKIM alignment. */
static void check_alignment(struct eval *e, const struct mxdmarc_input *in,
                            struct mxdmarc_result *r)
{
    r->spf_aligned = in->spf_identity && strcmp(in->spf_identity, "mailfrom") == 0
        && in->spf_result && strcmp(in->spf_result, "pass") == 0
        && aligned(e, in->mailfrom_domain, r, r->aspf);
    for (size_t i = 0; i < in->ndkim && !r->dkim_aligned; i++) {
        const struct mxdmarc_dkim *k = in->dkim + i;

        if (k->result && strcmp(k->result, "pass") == 0 && aligned(e, k->domain, r, r->adkim)) {
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
    r->org_mattered = 1;
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

/* disposition - the policy after t=y (RFC 9989 4.7), and in the PSL mode
 * after pct= sampling (RFC 7489 6.6.4). */
static void disposition(const struct mxdmarc *d, struct mxdmarc_result *r)
{
    r->disposition = r->applied == MXDMARC_P_UNSET ? MXDMARC_P_NONE : r->applied;
    if (r->testing)
        r->disposition = weaker(r->disposition);
    if (!d->treewalk && r->pct < 100
        && (r->pct == 0 || (int) arc4random_uniform(100) >= r->pct)) {
        r->disposition = weaker(r->disposition);
        r->sampled_out = 1;
    }
}

/* discover_psl - RFC 7489: the record at the author domain, else at the
 * PSL organizational domain: 1 found, 0 none, -1 error */
static int discover_psl(const struct mxdmarc *d, struct mxdmarc_result *r,
                        struct mxdmarc_record *rec)
{
    int     got;

    if (psl_org(d, r->author_domain, r->org_domain, sizeof r->org_domain) < 0)
        mx_panic("mxdmarc_evaluate: org domain longer than its domain");
    got = fetch_record(d, r->author_domain, rec);
    if (got == 0 && strcmp(r->org_domain, r->author_domain) != 0) {
        if ((got = fetch_record(d, r->org_domain, rec)) == 1)
            snprintf(r->policy_domain, sizeof r->policy_domain, "%s", r->org_domain);
    } else if (got == 1) {
        snprintf(r->policy_domain, sizeof r->policy_domain, "%s", r->author_domain);
    }
    return got == 2 ? 0 : got;
}

/* org_hit - the record of the organizational domain ORG in W, or the
 * psd=y record above it (RFC 9989 4.10.1); NULL when there is neither */
static const struct mxdmarc_hit *org_hit(const struct mxdmarc_walk *w, const char *org)
{
    for (int i = 0; i < w->n; i++)
        if (strcmp(w->hit[i].name, org) == 0)
            return w->hit + i;
    return w->n && w->hit[w->n - 1].rec.psd == 'y' ? w->hit + w->n - 1 : NULL;
}

/* discover_walk - RFC 9989 4.10.1: 1 found, 0 none, -1 error.  A record
 * at the author domain applies even when the walk above it failed (the
 * organizational domain is then unknown: ""). */
static int discover_walk(struct eval *e, struct mxdmarc_result *r, struct mxdmarc_record *rec)
{
    struct mxdmarc_walk w;
    const struct mxdmarc_hit *h;
    int     rc = mxdmarc_walk(e->d, e->cache, r->author_domain, &w);

    if (w.n && strcmp(w.hit[0].name, r->author_domain) == 0) {
        h = w.hit;
        if (rc == 0)
            mxdmarc_walk_org(&w, r->author_domain, r->org_domain, sizeof r->org_domain);
    } else if (rc < 0) {
        return -1;
    } else {
        mxdmarc_walk_org(&w, r->author_domain, r->org_domain, sizeof r->org_domain);
        h = org_hit(&w, r->org_domain);
    }
    if (h == NULL || !h->usable)
        return 0;               /* no policy, or one to ignore (RFC 9989 4.10.1) */
    snprintf(r->policy_domain, sizeof r->policy_domain, "%s", h->name);
    r->psd_policy = h->rec.psd == 'y' && strcmp(h->name, r->org_domain) != 0;
    r->record_psd = h->rec.psd == 'y';
    *rec = h->rec;
    return 1;
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
    memcpy(r->ruf, rec->ruf, sizeof r->ruf);
    memcpy(r->fo, rec->fo, sizeof r->fo);
}

/* verdict - pass, temperror or fail once the policy is known */
static void verdict(struct eval *e, const struct mxdmarc_input *in, struct mxdmarc_result *r)
{
    int     existence = choose_policy(e->d, r);

    check_alignment(e, in, r);
    if (r->spf_aligned || r->dkim_aligned) {
        r->status = MXDMARC_PASS;
        snprintf(r->reason, sizeof r->reason, "aligned %s", r->dkim_aligned ? "DKIM" : "SPF");
    } else if (existence < 0) {
        r->status = MXDMARC_TEMPERROR;
        snprintf(r->reason, sizeof r->reason, "DNS error testing whether %s exists (np=)",
                 r->author_domain);
    } else if (e->walk_error) {
        r->status = MXDMARC_TEMPERROR;
        snprintf(r->reason, sizeof r->reason, "DNS error in the tree walk of an identifier");
    } else {
        r->status = MXDMARC_FAIL;
        snprintf(r->reason, sizeof r->reason, "no aligned SPF or DKIM pass");
        disposition(e->d, r);
    }
}

int     mxdmarc_evaluate(const struct mxdmarc *d, const struct mxdmarc_input *in,
                         struct mxdmarc_result *r)
{
    struct mxdmarc_record rec;
    struct eval e = {d, NULL, 0, 0};
    int     found;

    memset(r, 0, sizeof *r);
    r->pct = 100;
    r->adkim = r->aspf = 'r';
    r->treewalk = d->treewalk;
    if (mxdmarc_from_domain(in->from, in->nfrom, r->author_domain, sizeof r->author_domain,
                            r->reason, sizeof r->reason) < 0) {
        r->author_domain[0] = 0;
        r->status = MXDMARC_PERMERROR;
        return mxdmarc_format_ar(r);
    }
    e.cache = d->treewalk ? mxdmarc_cache_new() : NULL;   /* NULL: no cache, still right */
    found = d->treewalk ? discover_walk(&e, r, &rec) : discover_psl(d, r, &rec);
    if (found <= 0) {
        r->status = found < 0 ? MXDMARC_TEMPERROR : MXDMARC_NONE;
        snprintf(r->reason, sizeof r->reason, found < 0 ? "DNS error looking up the policy"
                 : "no DMARC policy for %s", r->author_domain);
    } else {
        take_record(r, &rec);
        verdict(&e, in, r);
    }
    mxdmarc_cache_free(e.cache);
    return mxdmarc_format_ar(r);
}
