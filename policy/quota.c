/*
 * quota.c - mailbox quota: addresses, decisions, the lookup cache.
 *
 *   quota_normalize     lowercase, strip <> and +detail
 *   quota_catchall      the @domain form of an address
 *   quota_parse_reply   "452 4.2.2" into its two codes
 *   quota_decide        quota/used/size -> continue, warn or refuse
 *   quota_cache_*       per-address cache shared by threads, bounded:
 *                       the oldest entry is evicted when it is full
 *   quota_lookup        address, then catch-all, through the cache
 *
 * A row with a NULL or 0 quota means unlimited; no row means "not a local
 * mailbox" and gives no decision.  Decisions are written into a caller's
 * struct policy_decision; nothing here allocates for the caller.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "log.h"
#include "quota.h"

int     quota_normalize(const char *in, char *out, size_t outlen)
{
    size_t  len = strlen(in), o = 0;
    const char *at, *end;
    int     in_detail = 0;

    if (len && in[0] == '<' && in[len - 1] == '>')
        in++, len -= 2;
    end = in + len;
    if ((at = memrchr(in, '@', len)) == 0 || at == in || at + 1 == end)
        return -1;
    for (const char *p = in; p < end; p++) {
        unsigned char ch = (unsigned char) *p;

        if (ch < ' ' || ch == 0x7f)
            return -1;
        if (p < at && ch == '+')
            in_detail = 1;
        if (p == at)
            in_detail = 0;
        if (in_detail)
            continue;
        if (o + 1 >= outlen)
            return -1;
        out[o++] = (char) tolower(ch);
    }
    out[o] = 0;
    return out[0] == '@' ? -1 : 0;
}

int     quota_catchall(const char *addr, char *out, size_t outlen)
{
    const char *at = strrchr(addr, '@');

    if (at == 0 || strlen(at) >= outlen)
        return -1;
    strcpy(out, at);
    return 0;
}

int     quota_parse_reply(const char *reply, char rcode[4], char xcode[16])
{
    int     n = 0;
    unsigned a, b, c;
    char    tail;

    if (sscanf(reply, "%3[0-9] %15s%n", rcode, xcode, &n) != 2 || reply[n] != 0
        || strlen(rcode) != 3 || (rcode[0] != '4' && rcode[0] != '5')
        || sscanf(xcode, "%u.%u.%u%c", &a, &b, &c, &tail) != 3
        || a != (unsigned) (rcode[0] - '0') || b > 999 || c > 999)
        return -1;
    return 0;
}

/* set_decision - fill OUT with an action, codes and text */
static void set_decision(struct policy_decision *out, enum policy_action action,
                         const char *rcode, const char *xcode, const char *shown,
                         const char *what)
{
    out->action = action;
    snprintf(out->rcode, sizeof(out->rcode), "%s", rcode);
    snprintf(out->xcode, sizeof(out->xcode), "%s", xcode);
    snprintf(out->text, sizeof(out->text), "<%.200s>: %s", shown, what);
}

void    quota_decide(const struct quota_info *qi, const char *shown, unsigned long size,
                     const char *rcode, const char *xcode, long warn_percent,
                     struct policy_decision *out)
{
    long long q = qi->quota, u = qi->used < 0 ? 0 : qi->used;
    enum policy_action full = rcode[0] == '5' ? POLICY_REJECT : POLICY_TEMPFAIL;

    memset(out, 0, sizeof(*out));
    out->action = POLICY_CONTINUE;
    if (!qi->found || q <= 0)
        return;
    if (size > 0 && (unsigned long long) size > (unsigned long long) q)
        set_decision(out, POLICY_REJECT, "552", "5.2.3", shown,
                     "message larger than the mailbox quota");
    else if (u >= q || (size > 0 && (unsigned long long) u + size > (unsigned long long) q))
        set_decision(out, full, rcode, xcode, shown, "mailbox full");
    else if (warn_percent > 0 && (long double) u * 100 >= (long double) q * warn_percent)
        snprintf(out->header, sizeof(out->header),
                 "<%.200s> is at %d%% of its mailbox quota",
                 shown, (int) ((long double) u * 100 / q));
}

/* ---- the cache -------------------------------------------------------- */

struct qc_entry {
    char    key[QUOTA_ADDR_MAX];
    struct quota_info qi;
    time_t  stored;
    int     next;               /* hash chain, -1 = end */
};

struct quota_cache {
    pthread_mutex_t lock;
    int     cap, head, count, nbucket;
    struct qc_entry *e;         /* ring in insertion order */
    int    *bucket;
};

static unsigned qc_hash(const char *s)
{
    unsigned h = 2166136261u;

    while (*s)
        h = (h ^ (unsigned char) *s++) * 16777619u;
    return h;
}

struct quota_cache *quota_cache_new(int cap)
{
    struct quota_cache *qc = calloc(1, sizeof(*qc));

    if (qc == 0)
        return 0;
    qc->cap = cap > 0 ? cap : 1;
    qc->nbucket = qc->cap * 2;
    qc->e = calloc((size_t) qc->cap, sizeof(*qc->e));
    qc->bucket = malloc(sizeof(int) * (size_t) qc->nbucket);
    if (qc->e == 0 || qc->bucket == 0) {
        free(qc->e);
        free(qc->bucket);
        free(qc);
        return 0;
    }
    for (int i = 0; i < qc->nbucket; i++)
        qc->bucket[i] = -1;
    pthread_mutex_init(&qc->lock, 0);
    return qc;
}

void    quota_cache_free(struct quota_cache *qc)
{
    if (qc == 0)
        return;
    pthread_mutex_destroy(&qc->lock);
    free(qc->e);
    free(qc->bucket);
    free(qc);
}

/* find - index of KEY, or -1 (lock held) */
static int find(struct quota_cache *qc, const char *key)
{
    for (int i = qc->bucket[qc_hash(key) % (unsigned) qc->nbucket]; i >= 0; i = qc->e[i].next)
        if (strcmp(qc->e[i].key, key) == 0)
            return i;
    return -1;
}

/* unlink_entry - take entry I out of its hash chain (lock held) */
static void unlink_entry(struct quota_cache *qc, int i)
{
    int    *pp = &qc->bucket[qc_hash(qc->e[i].key) % (unsigned) qc->nbucket];

    while (*pp >= 0 && *pp != i)
        pp = &qc->e[*pp].next;
    if (*pp == i)
        *pp = qc->e[i].next;
}

int     quota_cache_get(struct quota_cache *qc, const char *key, time_t now, long ttl,
                        struct quota_info *out)
{
    int     i, hit = 0;

    if (qc == 0 || ttl <= 0)
        return 0;
    pthread_mutex_lock(&qc->lock);
    if ((i = find(qc, key)) >= 0 && now - qc->e[i].stored < ttl && now >= qc->e[i].stored) {
        *out = qc->e[i].qi;
        hit = 1;
    }
    pthread_mutex_unlock(&qc->lock);
    return hit;
}

void    quota_cache_put(struct quota_cache *qc, const char *key, time_t now,
                        const struct quota_info *qi)
{
    int     i;
    unsigned b;

    if (qc == 0 || strlen(key) >= QUOTA_ADDR_MAX)
        return;
    pthread_mutex_lock(&qc->lock);
    if ((i = find(qc, key)) < 0) {
        if (qc->count == qc->cap) {             /* evict the oldest */
            i = qc->head;
            unlink_entry(qc, i);
            qc->head = (qc->head + 1) % qc->cap;
        } else {
            i = (qc->head + qc->count++) % qc->cap;
        }
        strcpy(qc->e[i].key, key);
        b = qc_hash(key) % (unsigned) qc->nbucket;
        qc->e[i].next = qc->bucket[b];
        qc->bucket[b] = i;
    }
    qc->e[i].qi = *qi;
    qc->e[i].stored = now;
    pthread_mutex_unlock(&qc->lock);
}

int     quota_cache_count(struct quota_cache *qc)
{
    int     n;

    pthread_mutex_lock(&qc->lock);
    n = qc->count;
    pthread_mutex_unlock(&qc->lock);
    return n;
}

/* ---- the lookup ------------------------------------------------------- */

static int take_row(void *ctx, const struct pdb_col *cols, int ncols)
{
    struct quota_info *qi = ctx;

    (void) ncols;
    qi->found = 1;
    qi->quota = cols[0].null ? 0 : cols[0].n;
    qi->used = cols[1].null ? 0 : cols[1].n;
    return 1;
}

/* query_one - run QUERY for KEY; 0 (found or not) or -1 */
static int query_one(struct pdb *db, const char *query, const char *key, struct quota_info *qi)
{
    struct pdb_val in = {PDB_TEXT, 0, key, strlen(key)};
    struct pdb_col out[2] = {{.type = PDB_INT}, {.type = PDB_INT}};

    memset(qi, 0, sizeof(*qi));
    return pdb_run(db, PDB_S_QUOTA, query, &in, 1, out, 2, take_row, qi, 0);
}

int     quota_lookup(struct pdb *db, const char *query, struct quota_cache *qc, long ttl,
                     const char *addr, struct quota_info *out)
{
    char    domain[QUOTA_ADDR_MAX];
    time_t  now = mx_now();

    if (quota_cache_get(qc, addr, now, ttl, out))
        return 0;
    if (query_one(db, query, addr, out) < 0)
        return -1;
    if (!out->found && quota_catchall(addr, domain, sizeof(domain)) == 0) {
        if (query_one(db, query, domain, out) < 0)
            return -1;
        out->catchall = out->found;
    }
    if (ttl > 0)
        quota_cache_put(qc, addr, now, out);
    return 0;
}
