/*
 * dmarc_int.h - inside the DMARC module: the checker, shared by its files.
 */
#ifndef MX_DMARC_INT_H
#define MX_DMARC_INT_H

#include <libpsl.h>
#include "dmarc.h"

struct mxdmarc {
    const struct mx_conf *c;
    psl_ctx_t *psl;
    mxdmarc_lookup_fn lookup;
    void   *lookup_ctx;
    char    server[64];         /* dns_resolver */
    int     timeout;            /* dns_timeout */
    int     treewalk;           /* dmarc_org_domain = treewalk (RFC 9989) */
};

/* ---- the tree walk (dmarc_walk.c) ---- */

#define MXDMARC_WALK_MAX 8      /* queries, hence records, of one walk */

struct mxdmarc_hit {
    char    name[MXDMARC_DOMAIN_MAX];   /* where the record is (_dmarc. removed) */
    struct mxdmarc_record rec;
    int     usable;             /* mxdmarc_record_parse() accepted it */
};

struct mxdmarc_walk {
    struct mxdmarc_hit hit[MXDMARC_WALK_MAX];   /* longest name first */
    int     n;
    int     queries;
    int     error;              /* a DNS failure ended the walk */
};

struct mxdmarc_cache;

/* mxdmarc_fetch - the record at _dmarc.DOMAIN: 1 one DMARC record (in
 * REC, *USABLE when it parsed), 2 several, 0 none, -1 DNS error. */
int     mxdmarc_fetch(const struct mxdmarc *d, const char *domain, struct mxdmarc_record *rec,
                      int *usable);
struct mxdmarc_cache *mxdmarc_cache_new(void);
void    mxdmarc_cache_free(struct mxdmarc_cache *);

/* mxdmarc_walk - the tree walk from DOMAIN into W; 0, or -1 after a DNS
 * failure (W holds what was found before it).  C may be NULL. */
int     mxdmarc_walk(const struct mxdmarc *d, struct mxdmarc_cache *c, const char *domain,
                     struct mxdmarc_walk *w);

/* mxdmarc_walk_org - the organizational domain of START after walk W. */
void    mxdmarc_walk_org(const struct mxdmarc_walk *w, const char *start, char *out,
                         size_t outlen);

/* mxdmarc_format_ar - fill R->ar from R; returns R->status. */
int     mxdmarc_format_ar(struct mxdmarc_result *r);

#endif
