/*
 * quota.h - mailbox quota decisions: address normalisation, the decision
 * from quota/used/size (pure), the shared lookup cache and the lookup.
 *
 * Ownership: quota_cache_new() returns a cache freed with quota_cache_free().
 */
#ifndef MX_QUOTA_H
#define MX_QUOTA_H

#include <stddef.h>
#include <time.h>

#include "pdb.h"
#include "policy.h"

#define QUOTA_ADDR_MAX      256
#define QUOTA_CACHE_MAX     10000

struct quota_info {
    int     found;              /* a row matched (address or catch-all) */
    long long quota;            /* bytes; 0 = unlimited */
    long long used;             /* bytes */
    int     catchall;           /* the @domain row matched */
};

/* quota_normalize - "<Foo+Bar@Example.ORG>" -> "foo@example.org".
 * -1 when IN is not local@domain or does not fit. */
int     quota_normalize(const char *in, char *out, size_t outlen);

/* quota_catchall - "foo@example.org" -> "@example.org"; -1 if no '@' */
int     quota_catchall(const char *addr, char *out, size_t outlen);

/* quota_parse_reply - "452 4.2.2" -> "452", "4.2.2"; -1 when malformed */
int     quota_parse_reply(const char *reply, char rcode[4], char xcode[16]);

/* quota_decide - the decision for recipient SHOWN (as the client wrote
 * it) with quota QI and message size SIZE (0 = unknown), REPLY as parsed
 * by quota_parse_reply, warning above WARN_PERCENT (0 = never). */
void    quota_decide(const struct quota_info *qi, const char *shown, unsigned long size,
                     const char *rcode, const char *xcode, long warn_percent,
                     struct policy_decision *out);

struct quota_cache;

struct quota_cache *quota_cache_new(int cap);
void    quota_cache_free(struct quota_cache *);

/* quota_cache_get - 1 and *OUT when KEY is cached and younger than TTL */
int     quota_cache_get(struct quota_cache *, const char *key, time_t now, long ttl,
                        struct quota_info *out);
void    quota_cache_put(struct quota_cache *, const char *key, time_t now,
                        const struct quota_info *qi);
int     quota_cache_count(struct quota_cache *);

/* quota_lookup - ADDR (normalised) with QUERY, then its catch-all; uses
 * and fills CACHE (NULL or TTL 0 = no cache).  0, or -1 on a database error. */
int     quota_lookup(struct pdb *, const char *query, struct quota_cache *, long ttl,
                     const char *addr, struct quota_info *out);

#endif
