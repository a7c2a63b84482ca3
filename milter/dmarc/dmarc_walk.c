/*
 * dmarc_walk.c - the DNS tree walk of RFC 9989 section 4.10: DMARC
 * records found from a domain up to its top-level domain, and the
 * organizational domain they make.
 *
 *   mxdmarc_fetch       the one DMARC record at _dmarc.DOMAIN
 *   mxdmarc_cache_new   answers of one evaluation, by name (each name is
 *                       asked once per message)
 *   mxdmarc_cache_free  free it
 *   mxdmarc_walk        the records of a tree walk, longest name first
 *   mxdmarc_walk_org    the organizational domain of a finished walk
 *
 * The RFC text itself could not be read here; the rules follow the two
 * implementations that cite it section by section, and agree:
 * - first _dmarc.DOMAIN, then, when DOMAIN has 8 labels or more, straight
 *   to its last 7 labels, then one label less each time down to the
 *   top-level domain: at most 8 queries (Stalwart mail-auth v0.11.2
 *   src/dmarc/verify.rs:253-294, "count >= 8 { 7 }" at :290; mailauth
 *   7.1.0 lib/dmarc/get-dmarc-record.js:22 and :193-215);
 * - a record with psd=y or psd=n ends the walk (verify.rs:275-279);
 * - several DMARC records at one name count as none and the walk goes on
 *   (get-dmarc-record.js:152-172, "RFC 9989 4.10 steps 2 and 6");
 * - organizational domain (RFC 9989 4.10.2; verify.rs:336-345,
 *   get-dmarc-record.js:220-233): the first record with psd=n names it;
 *   the first with psd=y (above the start) makes it the domain one label
 *   below the PSD; otherwise it is the record with the fewest labels, or
 *   the start domain when none was found.
 *
 * Ownership: mxdmarc_cache_new() returns a cache freed with
 * mxdmarc_cache_free(); walks are caller-owned structs.  Diagnostics: a
 * DNS failure ends a walk with -1 and the records found before it.
 */
#include <arpa/nameser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc.h"
#include "dmarc_int.h"

#define CACHE_MAX 32

struct cache_ent {
    char    name[MXDMARC_DOMAIN_MAX];
    int     rc;                 /* what mxdmarc_fetch returned */
    int     usable;
    struct mxdmarc_record rec;
};

struct mxdmarc_cache {
    struct cache_ent ent[CACHE_MAX];
    int     n;
};

int     mxdmarc_fetch(const struct mxdmarc *d, const char *domain, struct mxdmarc_record *rec,
                      int *usable)
{
    char    name[MXDMARC_DOMAIN_MAX + 16];
    char  **rrs = NULL;
    size_t  n = 0, found = 0, which = 0;
    enum mxdmarc_dns st;

    *usable = 0;
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
    if (found == 1)
        *usable = mxdmarc_record_parse(rrs[which], rec) == 0;
    mxdmarc_rrs_free(rrs, n);
    return found == 0 ? 0 : found == 1 ? 1 : 2;
}

struct mxdmarc_cache *mxdmarc_cache_new(void)
{
    return calloc(1, sizeof(struct mxdmarc_cache));
}

void    mxdmarc_cache_free(struct mxdmarc_cache *c)
{
    free(c);
}

/* cached_fetch - mxdmarc_fetch through cache C (NULL: no cache) */
static int cached_fetch(const struct mxdmarc *d, struct mxdmarc_cache *c, const char *domain,
                        struct mxdmarc_record *rec, int *usable)
{
    struct cache_ent *e;

    for (int i = 0; c && i < c->n; i++)
        if (strcmp(c->ent[i].name, domain) == 0) {
            *rec = c->ent[i].rec;
            *usable = c->ent[i].usable;
            return c->ent[i].rc;
        }
    if (c == NULL || c->n >= CACHE_MAX || strlen(domain) >= sizeof c->ent[0].name)
        return mxdmarc_fetch(d, domain, rec, usable);
    e = c->ent + c->n;
    e->rc = mxdmarc_fetch(d, domain, &e->rec, &e->usable);
    if (e->rc < 0)
        return -1;              /* a failure is not remembered */
    snprintf(e->name, sizeof e->name, "%s", domain);
    c->n++;
    *rec = e->rec;
    *usable = e->usable;
    return e->rc;
}

/* labels - how many labels DOMAIN has */
static int labels(const char *domain)
{
    int     n = *domain != 0;

    for (const char *p = domain; *p; p++)
        n += *p == '.';
    return n;
}

/* suffix - DOMAIN without its leftmost N labels */
static const char *suffix(const char *domain, int n)
{
    while (n-- > 0 && (domain = strchr(domain, '.')) != NULL)
        domain++;
    return domain ? domain : "";
}

int     mxdmarc_walk(const struct mxdmarc *d, struct mxdmarc_cache *c, const char *domain,
                     struct mxdmarc_walk *w)
{
    int     total = labels(domain), count = total;

    memset(w, 0, sizeof *w);
    while (count > 0 && w->n < MXDMARC_WALK_MAX) {
        struct mxdmarc_hit *h = w->hit + w->n;
        const char *name = suffix(domain, total - count);
        int     rc;

        w->queries++;
        if ((rc = cached_fetch(d, c, name, &h->rec, &h->usable)) < 0) {
            w->error = 1;
            return -1;
        }
        if (rc == 1) {
            snprintf(h->name, sizeof h->name, "%s", name);
            w->n++;
            if (h->rec.psd == 'y' || h->rec.psd == 'n')
                break;
        }
        count = count >= 8 ? 7 : count - 1;
    }
    return 0;
}

void    mxdmarc_walk_org(const struct mxdmarc_walk *w, const char *start, char *out,
                         size_t outlen)
{
    const char *org = w->n ? w->hit[w->n - 1].name : start;

    for (int i = 0; i < w->n; i++) {
        const struct mxdmarc_hit *h = w->hit + i;

        if (h->rec.psd == 'n') {
            org = h->name;
            break;
        }
        if (h->rec.psd == 'y' && strcmp(h->name, start) != 0) {
            int     below = labels(h->name) + 1;

            org = suffix(start, labels(start) - below);
            break;
        }
    }
    snprintf(out, outlen, "%s", org);
}
