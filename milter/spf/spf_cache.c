/*
 * spf_cache.c - DNS answers of SPF checks kept for their TTL, shared by
 * every thread of the milter (one mutex; a lookup is a hash and a copy).
 * Direct-mapped: a new answer replaces whatever held its slot, so memory
 * is bounded (SLOTS entries) and there is nothing to expire actively.
 * Answers with TTL 0, temporary errors and negative answers without an SOA
 * are not kept.
 *
 *   mxspf_cache_new   an empty cache
 *   mxspf_cache_free  release it and every answer in it
 *   mxspf_cache_get   a fresh answer for NAME/TYPE, or -1
 *   mxspf_cache_put   keep an answer for TTL seconds
 *
 * Ownership: the cache owns its copies; get copies into the caller's set.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spf_int.h"

#define SLOTS   2048
#define MAX_TTL 3600

struct slot {
    char    name[SPF_MAX_NAME];
    int     type;
    int     rc;
    long long expires;          /* CLOCK_MONOTONIC seconds */
    size_t  blen;
    char   *blob;               /* count items: 4-byte length, then data */
};

struct spf_cache {
    pthread_mutex_t lock;
    struct slot slot[SLOTS];
};

struct spf_cache *mxspf_cache_new(void)
{
    struct spf_cache *c = calloc(1, sizeof *c);

    if (c)
        pthread_mutex_init(&c->lock, NULL);
    return c;
}

void    mxspf_cache_free(struct spf_cache *c)
{
    int     i;

    if (c == NULL)
        return;
    for (i = 0; i < SLOTS; i++)
        free(c->slot[i].blob);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static long long now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* slot_of - the slot of NAME/TYPE (names compared without case) */
static struct slot *slot_of(struct spf_cache *c, const char *name, int type)
{
    unsigned long h = 5381u + (unsigned) type;

    for (; *name; name++)
        h = h * 33 + (unsigned char) tolower((unsigned char) *name);
    return &c->slot[h % SLOTS];
}

int     mxspf_cache_get(struct spf_cache *c, const char *name, int type, struct spf_rrs *out)
{
    struct slot *s;
    int     rc = -1;
    size_t  at = 0;

    if (c == NULL)
        return -1;
    pthread_mutex_lock(&c->lock);
    s = slot_of(c, name, type);
    if (s->expires > now_s() && s->type == type && strcasecmp(s->name, name) == 0) {
        rc = s->rc;
        out->count = 0;
        out->used = 0;
        while (at + 4 <= s->blen && out->count < SPF_DNS_MAXRR) {
            unsigned int n32;
            size_t  n;

            memcpy(&n32, s->blob + at, 4);
            n = n32;
            if (at + 4 + n > s->blen || out->used + n + 1 > sizeof out->buf)
                break;
            memcpy(out->buf + out->used, s->blob + at + 4, n);
            out->buf[out->used + n] = 0;
            out->item[out->count] = out->buf + out->used;
            out->len[out->count++] = n;
            out->used += n + 1;
            at += 4 + n;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

void    mxspf_cache_put(struct spf_cache *c, const char *name, int type, int rc,
                        const struct spf_rrs *rrs, long ttl)
{
    struct slot *s;
    char   *blob;
    size_t  blen = 0, i;

    if (c == NULL || ttl <= 0 || rc == SPF_DNS_TEMP || strlen(name) >= SPF_MAX_NAME)
        return;
    for (i = 0; i < (size_t) rrs->count; i++)
        blen += 4 + rrs->len[i];
    if ((blob = malloc(blen + 1)) == NULL)
        return;
    for (blen = 0, i = 0; i < (size_t) rrs->count; i++) {
        unsigned int n = (unsigned int) rrs->len[i];

        memset(blob + blen, 0, 4);
        memcpy(blob + blen, &n, 4);
        memcpy(blob + blen + 4, rrs->item[i], n);
        blen += 4 + n;
    }
    pthread_mutex_lock(&c->lock);
    s = slot_of(c, name, type);
    free(s->blob);
    mxspf_strlcpy(s->name, name, sizeof s->name);
    s->type = type;
    s->rc = rc;
    s->blob = blob;
    s->blen = blen;
    s->expires = now_s() + (ttl > MAX_TTL ? MAX_TTL : ttl);
    pthread_mutex_unlock(&c->lock);
}
