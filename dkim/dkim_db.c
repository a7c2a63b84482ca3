/*
 * dkim_db.c - the DKIM key store in the database (dkim_store = mysql): the
 * reading half.  dkim_db_tx.c has the transactions that change it.
 *
 *   dkim_db_on          is dkim_store mysql?
 *   dkim_db_pool        the process's pool for the mysql_* settings; tables
 *                       made on first use (CREATE TABLE IF NOT EXISTS); a
 *                       failed open is remembered for dkim_store_poll
 *   dkim_db_check_name  a domain must come normalised
 *   dkim_db_domain_new  an empty domain of that name
 *   dkim_db_rows        a domain's selectors, in order (sealed keys to a callback)
 *   dkim_db_load        dkim_store_load on the database, every key
 *                       checked (dkim_db_keys.c)
 *   dkim_db_domains     dkim_store_domains on the database
 *   dkim_db_version     a domain's version, bumped by every committed change
 *   dkim_db_fail        WHY for a failed statement
 *   dkim_db_seal_check  does this host's seal key open the database's keys?
 *   dkim_store_check    the same from a configuration (mxdock-dkim, at start)
 *
 * Tables (InnoDB, a primary key each, as Galera needs):
 *   dkim_domain (domain PK, version, changed)
 *   dkim_key (domain, selector, pos, alg, bits, state, created, changed,
 *             pubkey, sealed; PK (domain, selector))
 *   dkim_seal_check (id PK, sealed): a fixed text sealed by the first
 *             writer, so a host with another seal key is refused before it
 *             writes keys the others could not open
 * sealed is dkim_seal.c's AES-256-GCM blob of the PEM: the database holds
 * no private key in the clear.  The pool (conf/pdb.c) is the policy's: the
 * same hosts, failover, timeouts; it is opened once per process and per
 * set of connection settings (password included, kept in memory as the
 * pool keeps it) and kept for the process's life (a reload with the same
 * settings reuses it).  Diagnostics go to WHY; the pool is
 * quiet (the callers log or print once).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mariadb/mysqld_error.h>
#include <openssl/crypto.h>

#include "dkim_impl.h"
#include "domain.h"
#include "pdb.h"

#define POOL_CONNS 4

static const char sql_domain_table[] =
    "CREATE TABLE IF NOT EXISTS dkim_domain (domain VARCHAR(253) NOT NULL PRIMARY KEY, "
    "version BIGINT NOT NULL DEFAULT 0, changed BIGINT NOT NULL DEFAULT 0) ENGINE=InnoDB";
static const char sql_key_table[] =
    "CREATE TABLE IF NOT EXISTS dkim_key (domain VARCHAR(253) NOT NULL, "
    "selector VARCHAR(63) NOT NULL, pos INT NOT NULL, alg VARCHAR(16) NOT NULL, "
    "bits INT NOT NULL, state VARCHAR(16) NOT NULL, created BIGINT NOT NULL, "
    "changed BIGINT NOT NULL, pubkey TEXT NOT NULL, sealed BLOB NOT NULL, "
    "PRIMARY KEY (domain, selector)) ENGINE=InnoDB";
static const char sql_check_table[] =
    "CREATE TABLE IF NOT EXISTS dkim_seal_check (id INT NOT NULL PRIMARY KEY, "
    "sealed BLOB NOT NULL) ENGINE=InnoDB";
static const char sql_rows[] =
    "SELECT selector, alg, bits, state, created, changed, pubkey, sealed FROM dkim_key "
    "WHERE domain = ? ORDER BY pos";
static const char sql_rows_lock[] =
    "SELECT selector, alg, bits, state, created, changed, pubkey, sealed FROM dkim_key "
    "WHERE domain = ? ORDER BY pos FOR UPDATE";

struct pool {
    struct pool *next;
    char    key[1024];
    struct pdb *db;
};

static pthread_mutex_t pools_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pool *pools;
static long long open_failed_ms = -1;   /* when the last pool_open failed */
static char open_failed_why[300];

/* open_failed_recently - did opening a pool fail less than dkim_store_poll
 * ago?  Then WHY is that failure's reason, at once: while the database is
 * down, threads queued on pools_lock must not each wait mysql_timeout
 * again.  Called with pools_lock held; NOW in monotonic ms. */
static int open_failed_recently(const struct mx_conf *conf, long long now,
                                char *why, size_t whylen)
{
    if (open_failed_ms < 0 || now - open_failed_ms >= 1000LL * conf->dkim_store_poll)
        return 0;
    snprintf(why, whylen, "%s", open_failed_why);
    return 1;
}

static long long mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int     dkim_db_on(const struct mx_conf *conf)
{
    return conf->dkim_store && strcmp(conf->dkim_store, "mysql") == 0;
}

/* make_tables - both tables, when missing; -1 with WHY */
static int make_tables(struct pdb *db, char *why, size_t whylen)
{
    if (pdb_run(db, -1, sql_domain_table, 0, 0, 0, 0, 0, 0, 0) < 0
        || pdb_run(db, -1, sql_key_table, 0, 0, 0, 0, 0, 0, 0) < 0
        || pdb_run(db, -1, sql_check_table, 0, 0, 0, 0, 0, 0, 0) < 0)
        return snprintf(why, whylen, "dkim_store = mysql: %.300s", pdb_error(db)), -1;
    return 0;
}

/* pool_open - a new pool for CONF, its tables made; NULL with WHY */
static struct pdb *pool_open(const struct mx_conf *conf, char *why, size_t whylen)
{
    struct pdb *db = pdb_open(conf, POOL_CONNS, PDB_QUIET);

    if (db == 0)
        return snprintf(why, whylen, "dkim_store = mysql: bad mysql_host or out of memory"), NULL;
    if (make_tables(db, why, whylen) < 0) {
        pdb_close(db);
        return 0;
    }
    return db;
}

struct pdb *dkim_db_pool(const struct mx_conf *conf, char *why, size_t whylen)
{
    char    key[1024];
    struct pool *p;
    struct pdb *db = 0;

    snprintf(key, sizeof(key), "%s|%ld|%s|%s|%s|%s", conf->mysql_host ? conf->mysql_host : "",
             conf->mysql_port, conf->mysql_socket ? conf->mysql_socket : "",
             conf->mysql_user ? conf->mysql_user : "",
             conf->mysql_database ? conf->mysql_database : "",
             conf->mysql_password ? conf->mysql_password : "");
    pthread_mutex_lock(&pools_lock);
    for (p = pools; p && strcmp(p->key, key) != 0; p = p->next);
    if (p)
        db = p->db;
    else if (open_failed_recently(conf, mono_ms(), why, whylen))
        db = 0;
    else if ((db = pool_open(conf, why, whylen)) == 0) {
        open_failed_ms = mono_ms();
        snprintf(open_failed_why, sizeof(open_failed_why), "%s", why);
    } else if ((p = calloc(1, sizeof(*p))) != 0) {
        snprintf(p->key, sizeof(p->key), "%s", key);
        p->db = db;
        p->next = pools;
        pools = p;
    } else if (db) {            /* not kept: each call would open (and leak) one */
        pdb_close(db);
        db = 0;
        snprintf(why, whylen, "out of memory");
    }
    pthread_mutex_unlock(&pools_lock);
    explicit_bzero(key, sizeof(key));   /* it holds the password */
    return db;
}

int     dkim_db_check_name(const char *domain, char *why, size_t whylen)
{
    char    norm[256], reason[200];

    if (mx_domain_normalize(domain, norm, sizeof(norm), reason, sizeof(reason)) < 0)
        return snprintf(why, whylen, "bad domain \"%.100s\": %s", domain, reason), -1;
    if (strcmp(norm, domain) != 0)
        return snprintf(why, whylen, "domain \"%.100s\" is not normalised (%s)", domain,
                        norm), -1;
    return 0;
}

void    dkim_db_fail(struct pdb *db, const char *domain, char *why, size_t whylen)
{
    if (pdb_tx_errno(db) == ER_LOCK_DEADLOCK)
        snprintf(why, whylen, "another host changed %.100s at the same time; nothing done "
                 "(the next tick retries)", domain);
    else
        snprintf(why, whylen, "dkim_store = mysql: %.300s", pdb_error(db));
}

struct rows_ctx {
    struct dkim_domain *dom;
    dkim_db_blob_fn blob;
    void   *ctx;
    char   *why;
    size_t  whylen;
};

/* row - one dkim_key row into the domain; nonzero stops (bad row) */
static int row(void *vctx, const struct pdb_col *c, int ncols)
{
    struct rows_ctx *r = vctx;
    struct dkim_selector *s;

    (void) ncols;
    if (c[6].null || c[7].null)         /* their buffers hold the last row's bytes */
        return snprintf(r->why, r->whylen, "dkim_key row %.100s/%.70s has a NULL %s",
                        r->dom->domain, c[0].s, c[7].null ? "sealed key" : "pubkey"), 1;
    if (!dkim_selector_valid(c[0].s) || c[6].trunc || c[7].trunc || (s = dkim_domain_add(r->dom)) == 0
        || dkim_alg_parse(c[1].s, &s->alg) < 0 || dkim_state_parse_name(c[3].s, &s->state) < 0)
        return snprintf(r->why, r->whylen, "dkim_key row %.100s/%.70s does not parse",
                        r->dom->domain, c[0].s), 1;
    snprintf(s->name, sizeof(s->name), "%.63s", c[0].s);
    s->bits = (int) c[2].n;
    s->created = (time_t) c[4].n;
    s->changed = (time_t) c[5].n;
    snprintf(s->pubkey_b64, sizeof(s->pubkey_b64), "%s", c[6].big);
    if (r->blob && r->blob(r->ctx, s->name, c[7].big, c[7].len) < 0)
        return snprintf(r->why, r->whylen, "out of memory"), 1;
    return 0;
}

int     dkim_db_rows(struct pdb *db, const char *domain, struct dkim_domain *dom, int lock,
                     dkim_db_blob_fn blob, void *ctx, char *why, size_t whylen)
{
    struct pdb_col *cols = calloc(8, sizeof(*cols));
    struct pdb_val in = {PDB_TEXT, 0, domain, strlen(domain)};
    struct rows_ctx r = {dom, blob, ctx, why, whylen};
    int     rc;

    if (cols == 0 || (cols[6].big = malloc(2048)) == 0 || (cols[7].big = malloc(8192)) == 0) {
        rc = (snprintf(why, whylen, "out of memory"), -1);
        goto out;
    }
    for (int i = 0; i < 8; i++)
        cols[i].type = i == 2 || i == 4 || i == 5 ? PDB_INT : PDB_TEXT;
    cols[6].bigcap = 2048, cols[7].bigcap = 8192;
    *why = 0;
    rc = pdb_run(db, -1, lock ? sql_rows_lock : sql_rows, &in, 1, cols, 8, row, &r, 0);
    if (rc < 0)
        dkim_db_fail(db, domain, why, whylen);
    else if (*why)
        rc = -1;
out:
    if (cols && cols[7].big)
        OPENSSL_cleanse(cols[7].big, 8192);
    if (cols)
        free(cols[6].big), free(cols[7].big);
    free(cols);
    return rc;
}

struct dkim_domain *dkim_db_domain_new(const char *domain)
{
    struct dkim_domain *dom = calloc(1, sizeof(*dom));

    if (dom)
        snprintf(dom->domain, sizeof(dom->domain), "%s", domain);
    return dom;
}

int     dkim_db_load(const struct mx_conf *conf, const char *domain, struct dkim_domain **out,
                     char *why, size_t whylen)
{
    struct pdb *db;
    struct dkim_domain *dom;

    *out = 0;
    if (dkim_db_check_name(domain, why, whylen) < 0
        || (db = dkim_db_pool(conf, why, whylen)) == 0)
        return -1;
    if ((dom = dkim_db_domain_new(domain)) == 0)
        return snprintf(why, whylen, "out of memory"), -1;
    if (dkim_db_verify(conf, db, dom, why, whylen) < 0) {
        dkim_domain_free(dom);
        return -1;
    }
    *out = dom;
    return 0;
}

struct names_ctx {
    char  **v;
    size_t  n;
    int     failed;
};

static int name_row(void *vctx, const struct pdb_col *c, int ncols)
{
    struct names_ctx *nc = vctx;
    char  **nv = realloc(nc->v, (nc->n + 1) * sizeof(*nv));

    (void) ncols;
    if (nv == 0 || (nv[nc->n] = strdup(c[0].s)) == 0)
        return nc->v = nv ? nv : nc->v, nc->failed = 1;
    nc->v = nv;
    nc->n++;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

int     dkim_db_domains(const struct mx_conf *conf, char ***names, size_t *n,
                        char *why, size_t whylen)
{
    struct pdb *db = dkim_db_pool(conf, why, whylen);
    struct pdb_col col = {.type = PDB_TEXT};
    struct names_ctx nc = {0, 0, 0};

    *names = 0;
    *n = 0;
    if (db == 0)
        return -1;
    if (pdb_run(db, -1, "SELECT domain FROM dkim_domain", 0, 0,
                &col, 1, name_row, &nc, 0) < 0 || nc.failed) {
        if (nc.failed)
            snprintf(why, whylen, "out of memory");
        else
            dkim_db_fail(db, "", why, whylen);
        while (nc.n > 0)
            free(nc.v[--nc.n]);
        free(nc.v);
        return -1;
    }
    if (nc.n > 1)
        qsort(nc.v, nc.n, sizeof(*nc.v), cmp_names);
    *names = nc.v;
    *n = nc.n;
    return 0;
}

int     dkim_db_version(const struct mx_conf *conf, const char *domain, long long *version,
                        char *why, size_t whylen)
{
    struct pdb *db = dkim_db_pool(conf, why, whylen);
    struct pdb_val in = {PDB_TEXT, 0, domain, strlen(domain)};
    struct pdb_col col = {.type = PDB_INT};

    *version = 0;
    if (db == 0)
        return -1;
    if (pdb_run(db, PDB_S_DKIM_VERSION, "SELECT version FROM dkim_domain WHERE domain = ?",
                &in, 1, &col, 1, 0, 0, 0) < 0) {
        dkim_db_fail(db, domain, why, whylen);
        return -1;
    }
    *version = col.n;
    return 0;
}

#define CHECK_TEXT "mxdock-dkim seal check"

/* seal_check_put - the check row sealed with KEY (kept when another writer
 * put one first: INSERT IGNORE) */
static int seal_check_put(struct pdb *db, const unsigned char *key, char *why, size_t whylen)
{
    struct strbuf b = STRBUF_INIT;
    struct pdb_val in;
    int     rc;

    if (dkim_seal(key, "", "check", CHECK_TEXT, strlen(CHECK_TEXT), &b, why, whylen) < 0)
        return -1;
    in = (struct pdb_val) {PDB_BLOB, 0, b.s, b.len};
    rc = pdb_run(db, -1, "INSERT IGNORE INTO dkim_seal_check (id, sealed) VALUES (1, ?)",
                 &in, 1, 0, 0, 0, 0, 0);
    sb_free(&b);
    if (rc < 0)
        dkim_db_fail(db, "", why, whylen);
    return rc;
}

int     dkim_db_seal_check(const struct mx_conf *conf, struct pdb *db, const unsigned char *key,
                           char *why, size_t whylen)
{
    char    buf[512];
    struct pdb_col col = {.type = PDB_TEXT, .big = buf, .bigcap = sizeof(buf)};
    struct strbuf plain = STRBUF_INIT;
    char    reason[300];
    int     rc;

    col.len = 0, col.null = 1;
    if (pdb_run(db, -1, "SELECT sealed FROM dkim_seal_check WHERE id = 1", 0, 0, &col, 1,
                0, 0, 0) < 0)
        return dkim_db_fail(db, "", why, whylen), -1;
    if (col.null)
        return seal_check_put(db, key, why, whylen);
    rc = dkim_unseal(key, "", "check", buf, col.len, &plain, reason, sizeof(reason));
    sb_free(&plain);
    if (rc < 0)
        snprintf(why, whylen, "dkim_store_seal_key_file %.200s holds another key than the "
                 "one the database's keys are sealed with", conf->dkim_store_seal_key_file);
    return rc;
}

int     dkim_store_check(const struct mx_conf *conf, char *why, size_t whylen)
{
    unsigned char key[DKIM_SEAL_KEYLEN];
    struct pdb *db;
    int     rc;

    if (!dkim_db_on(conf))
        return 0;
    if (dkim_seal_key_read(conf, key, why, whylen) < 0)
        return -1;
    rc = (db = dkim_db_pool(conf, why, whylen)) == 0 ? (dkim_db_reach(conf) == -1 ? -1 : -2)
        : dkim_db_seal_check(conf, db, key, why, whylen) < 0 ? (pdb_tx_errno(db) ? -2 : -1) : 0;
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}
