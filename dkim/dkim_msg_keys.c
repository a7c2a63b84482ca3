/*
 * dkim_msg_keys.c - the in-memory keyring: domain -> active signing keys,
 * their PEM text read once, not per message.
 *
 *   dkim_keyring_new       load every domain of the key store
 *   dkim_keyring_get       the keyset of a domain (reloaded when its state
 *                          file changed, or with dkim_store = mysql when
 *                          its version changed), with a reference held
 *   dkim_keyset_release    drop that reference
 *   dkim_keyring_free      free it all (no reference may be held)
 *
 * Each key is kept twice: its PEM text (libopendkim decodes it per
 * message) and an EVP_PKEY parsed here once (mxdock's engine).
 * Private keys are read with dkim_store_key_pem: through the domain
 * directory descriptor, never following a link, refusing loose modes.
 *
 * A keyset never changes once built: a reload builds a new one and swaps the
 * pointer under the keyring lock, so a thread signing with the old set keeps
 * it until it releases it.  Domains without keys are remembered too (empty
 * set, mtime of the state file or 0), so a message from a domain we do not
 * sign for costs one stat().
 *
 * With dkim_store = mysql a domain's version (bumped by every committed
 * change, dkim_db_tx.c) is asked at most once per dkim_store_poll per
 * domain, not per message; a changed version reloads the set.  A database
 * error keeps the set in use (logged once per outage): mail is not sent
 * unsigned because the database blipped.  Only a domain never loaded gets
 * a broken set (dkim_on_key_error).  Rows read are committed ones, so a
 * key is used only once its active state is committed.
 *
 * Ownership: keysets belong to the keyring; callers hold references.
 * Diagnostics: unreadable keys are logged with mx_warn and left out; the
 * keyset remembers why (ks->broken), so that the milter applies
 * dkim_on_key_error instead of taking the domain for one without keys.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "dkim_impl.h"
#include "dkim_msg.h"
#include "log.h"
#include "strbuf.h"

#define KEYRING_MAX_EMPTY 10000   /* past this, unknown domains are not cached */

struct dkim_keyring {
    const struct mx_conf *conf;
    pthread_mutex_t lock;
    size_t  n, cap;
    struct dkim_keyset **sets;
    int     db_down;            /* a version query failed (logged once) */
};

static void keyset_free(struct dkim_keyset *ks)
{
    if (ks == 0)
        return;
    for (size_t i = 0; i < ks->n; i++) {
        if (ks->keys[i].pem) {
            explicit_bzero(ks->keys[i].pem, strlen(ks->keys[i].pem));   /* not elided before free */
            free(ks->keys[i].pem);
        }
        EVP_PKEY_free(ks->keys[i].pkey);
    }
    free(ks->keys);
    free(ks);
}

/* state_stamp - mtime (seconds, nanoseconds) and inode of DIR/DOMAIN/state
 * into KS; mtime 0 when it does not exist */
static void state_stamp(const struct mx_conf *c, const char *domain, struct dkim_keyset *ks)
{
    char    path[1024];
    struct stat st;

    ks->mtime = 0, ks->mtime_ns = 0, ks->ino = 0;
    if (snprintf(path, sizeof(path), "%s/%s/state", c->dkim_keydir, domain)
        >= (int) sizeof(path) || stat(path, &st) != 0)
        return;
    ks->mtime = st.st_mtim.tv_sec;
    ks->mtime_ns = st.st_mtim.tv_nsec;
    ks->ino = (unsigned long) st.st_ino;
}

static int same_stamp(const struct dkim_keyset *a, const struct dkim_keyset *b)
{
    return a->mtime == b->mtime && a->mtime_ns == b->mtime_ns && a->ino == b->ino;
}

/* parse_pem - the private key of PEM, parsed once for mxdock's engine;
 * NULL when OpenSSL cannot read it */
static EVP_PKEY *parse_pem(const char *pem)
{
    BIO    *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = bio ? PEM_read_bio_PrivateKey(bio, 0, 0, 0) : 0;

    BIO_free(bio);
    return k;
}

/* add_key - the PEM of one active selector into KS, read through the
 * key store (domain directory descriptor, no symbolic link, mode 0600);
 * the key store's buffer is wiped once copied */
static void add_key(const struct mx_conf *c, struct dkim_keyset *ks,
                    const struct dkim_selector *sel)
{
    struct strbuf sb = STRBUF_INIT;
    char    why[256] = "";
    char   *pem = 0;

    if (dkim_store_key_pem(c, ks->domain, sel->name, &sb, why, sizeof(why)) != 0
        || sb_failed(&sb) || (pem = strdup(sb_str(&sb))) == 0) {
        mx_warn("dkim key %s/%s: cannot read: %s", ks->domain, sel->name,
                why[0] ? why : "out of memory");
        snprintf(ks->broken, sizeof(ks->broken), "%s", why[0] ? why : "out of memory");
        dkim_key_pem_free(&sb);
        return;
    }
    dkim_key_pem_free(&sb);
    ks->keys[ks->n].pkey = parse_pem(pem);
    if (ks->keys[ks->n].pkey == 0)
        mx_warn("dkim key %s/%s: OpenSSL cannot parse it; only dkim_engine = opendkim "
                "can sign with it", ks->domain, sel->name);
    ks->keys[ks->n].pem = pem;
    ks->keys[ks->n].alg = sel->alg;
    snprintf(ks->keys[ks->n].selector, sizeof(ks->keys[ks->n].selector), "%s", sel->name);
    ks->n++;
}

/* mono_ms - monotonic milliseconds */
static long long mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* stamp - what says the domain changed: the state file, or the database
 * version; 0 when there are no keys to load, -1 with WHY */
static int stamp(const struct mx_conf *c, const char *domain, struct dkim_keyset *ks,
                 char *why, size_t whylen)
{
    if (!dkim_db_on(c)) {
        state_stamp(c, domain, ks);
        return ks->mtime != 0;
    }
    ks->checked_ms = mono_ms();
    if (dkim_db_version(c, domain, &ks->version, why, whylen) < 0) {
        ks->version = -1;       /* unknown: the next poll reloads, even for a */
        return -1;              /* domain without keys (version 0) */
    }
    return ks->version != 0;
}

/* keyset_load - a fresh keyset of DOMAIN (possibly empty); NULL on ENOMEM */
static struct dkim_keyset *keyset_load(const struct mx_conf *c, const char *domain)
{
    struct dkim_keyset *ks = calloc(1, sizeof(*ks));
    struct dkim_domain *d = 0;
    char    why[256];
    int     any;

    if (ks == 0)
        return 0;
    snprintf(ks->domain, sizeof(ks->domain), "%s", domain);
    if ((any = stamp(c, domain, ks, why, sizeof(why))) == 0)
        return ks;
    if (any < 0) {
        snprintf(ks->broken, sizeof(ks->broken), "%s", why);
        return ks;
    }
    if (dkim_store_load(c, domain, &d, why, sizeof(why)) != 0) {
        mx_warn("dkim keys of %.100s: %s", domain, why);
        snprintf(ks->broken, sizeof(ks->broken), "%s", why);
        return ks;
    }
    if ((ks->keys = calloc(d->n ? d->n : 1, sizeof(*ks->keys))) == 0) {
        dkim_domain_free(d);
        free(ks);
        return 0;
    }
    for (size_t i = 0; i < d->n; i++)
        if (d->sel[i].state == DKIM_ACTIVE)
            add_key(c, ks, &d->sel[i]);
    dkim_domain_free(d);
    return ks;
}

/* find - index of DOMAIN in KR, or -1; caller holds the lock */
static long find(struct dkim_keyring *kr, const char *domain)
{
    for (size_t i = 0; i < kr->n; i++)
        if (strcmp(kr->sets[i]->domain, domain) == 0)
            return (long) i;
    return -1;
}

/* put - install KS for its domain, dropping the ring's reference to the old
 * set; caller holds the lock */
static void put(struct dkim_keyring *kr, struct dkim_keyset *ks)
{
    long    i = find(kr, ks->domain);

    ks->refs = 1;               /* the ring's own reference */
    if (i >= 0) {
        struct dkim_keyset *old = kr->sets[i];

        kr->sets[i] = ks;
        if (--old->refs == 0)
            keyset_free(old);
        return;
    }
    if (kr->n == kr->cap) {
        size_t  cap = kr->cap ? kr->cap * 2 : 16;
        struct dkim_keyset **v = realloc(kr->sets, cap * sizeof(*v));

        if (v == 0) {
            keyset_free(ks);
            return;
        }
        kr->sets = v;
        kr->cap = cap;
    }
    kr->sets[kr->n++] = ks;
}

struct dkim_keyring *dkim_keyring_new(const struct mx_conf *c)
{
    struct dkim_keyring *kr = calloc(1, sizeof(*kr));
    char  **names = 0;
    size_t  n = 0;
    char    why[256];

    if (kr == 0)
        return 0;
    kr->conf = c;
    pthread_mutex_init(&kr->lock, 0);
    if (dkim_store_domains(c, &names, &n, why, sizeof(why)) != 0) {
        mx_warn("dkim key store %s: %s", dkim_db_on(c) ? "(database)" : c->dkim_keydir, why);
        return kr;
    }
    for (size_t i = 0; i < n; i++) {
        struct dkim_keyset *ks = keyset_load(c, names[i]);

        if (ks)
            put(kr, ks);
        free(names[i]);
    }
    free(names);
    return kr;
}

void    dkim_keyring_free(struct dkim_keyring *kr)
{
    if (kr == 0)
        return;
    for (size_t i = 0; i < kr->n; i++)
        keyset_free(kr->sets[i]);
    free(kr->sets);
    pthread_mutex_destroy(&kr->lock);
    free(kr);
}

/* take - the set at I with a reference, or NULL for a domain without keys
 * (lock held) */
static struct dkim_keyset *take(struct dkim_keyring *kr, long i)
{
    struct dkim_keyset *ks = i >= 0 && (kr->sets[i]->n > 0 || kr->sets[i]->broken[0])
        ? kr->sets[i] : 0;

    if (ks)
        ks->refs++;
    return ks;
}

/* db_note - log a database outage once, and its end */
static void db_note(struct dkim_keyring *kr, int failed, const char *domain, const char *why)
{
    int     was;

    pthread_mutex_lock(&kr->lock);
    was = kr->db_down;
    kr->db_down = failed;
    pthread_mutex_unlock(&kr->lock);
    if (failed && !was)
        mx_warn("dkim keys of %.100s: database: %.200s; signing on with the keys loaded "
                "(logged once until it answers)", domain, why);
    else if (!failed && was)
        mx_info("dkim key database answers again");
}

/* db_current - with dkim_store = mysql: is DOMAIN's set (if loaded)
 * still current?  Asks the version at most once per dkim_store_poll; a
 * database error keeps the set.  Called without the lock. */
static int db_current(struct dkim_keyring *kr, const char *domain)
{
    long long now = mono_ms(), v = 0, seen;
    char    why[256];
    int     rc;
    long    i;

    pthread_mutex_lock(&kr->lock);
    i = find(kr, domain);
    if (i < 0) {
        pthread_mutex_unlock(&kr->lock);
        return 0;
    }
    if (now - kr->sets[i]->checked_ms < 1000LL * kr->conf->dkim_store_poll) {
        pthread_mutex_unlock(&kr->lock);
        return 1;
    }
    kr->sets[i]->checked_ms = now;      /* the other threads use it meanwhile */
    seen = kr->sets[i]->version;
    pthread_mutex_unlock(&kr->lock);
    rc = dkim_db_version(kr->conf, domain, &v, why, sizeof(why));
    db_note(kr, rc < 0, domain, why);
    return rc < 0 || v == seen;
}

/* db_get - dkim_keyring_get with dkim_store = mysql */
static struct dkim_keyset *db_get(struct dkim_keyring *kr, const char *domain)
{
    struct dkim_keyset *ks = 0;
    long    i;

    if (!db_current(kr, domain)) {
        if ((ks = keyset_load(kr->conf, domain)) == 0)
            return 0;
        pthread_mutex_lock(&kr->lock);
        i = find(kr, domain);
        if (ks->broken[0] && i >= 0) {
            kr->sets[i]->checked_ms = mono_ms();
            keyset_free(ks);    /* keep what was loaded (keys, or none) */
        } else if (!(ks->n == 0 && !ks->broken[0] && i < 0 && kr->n >= KEYRING_MAX_EMPTY))
            put(kr, ks);
        else
            keyset_free(ks);
        pthread_mutex_unlock(&kr->lock);
    }
    pthread_mutex_lock(&kr->lock);
    ks = take(kr, find(kr, domain));
    pthread_mutex_unlock(&kr->lock);
    return ks;
}

struct dkim_keyset *dkim_keyring_get(struct dkim_keyring *kr, const char *domain)
{
    struct dkim_keyset now, *ks = 0;
    long    i;

    if (dkim_db_on(kr->conf))
        return db_get(kr, domain);
    state_stamp(kr->conf, domain, &now);
    pthread_mutex_lock(&kr->lock);
    i = find(kr, domain);
    if (i < 0 || !same_stamp(kr->sets[i], &now)) {
        /* load outside the hot path only when something changed */
        pthread_mutex_unlock(&kr->lock);
        ks = keyset_load(kr->conf, domain);
        pthread_mutex_lock(&kr->lock);
        if (ks && ks->n == 0 && i < 0 && kr->n >= KEYRING_MAX_EMPTY) {
            keyset_free(ks);    /* From domains without keys: not remembered */
            ks = 0;
        }
        if (ks)
            put(kr, ks);
        i = find(kr, domain);
    }
    ks = take(kr, i);
    pthread_mutex_unlock(&kr->lock);
    return ks;
}

void    dkim_keyset_release(struct dkim_keyring *kr, struct dkim_keyset *ks)
{
    if (ks == 0)
        return;
    pthread_mutex_lock(&kr->lock);
    if (--ks->refs == 0)
        keyset_free(ks);
    pthread_mutex_unlock(&kr->lock);
}

size_t  dkim_keyring_count(struct dkim_keyring *kr)
{
    size_t  n = 0;

    pthread_mutex_lock(&kr->lock);
    for (size_t i = 0; i < kr->n; i++)
        if (kr->sets[i]->n > 0)
            n++;
    pthread_mutex_unlock(&kr->lock);
    return n;
}
