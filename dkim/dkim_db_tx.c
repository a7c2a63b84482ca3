/*
 * dkim_db_tx.c - a change to one domain of the database key store, as one
 * transaction (dkim_store.c's begin/commit/end/write_key on mysql).
 *
 *   dkim_db_begin      START TRANSACTION; the domain row (made when CREATE)
 *                      and its key rows read FOR UPDATE, every key checked
 *   dkim_db_write_key  seal a new key, kept until the commit
 *   dkim_db_discard    forget a key sealed but not committed
 *   dkim_db_commit     rewrite the domain's key rows, version + 1, COMMIT
 *   dkim_db_end        roll back what was not committed; free
 *
 * Two hosts changing one domain at once: on one server the second waits
 * for the row lock and then reads what the first committed; on Galera both
 * run, the first COMMIT wins and the other gets error 1213 (certification
 * conflict) and is rolled back whole, its new keys with it: WHY then says
 * another host changed the domain and nothing was done.  The row lock
 * read runs with wsrep_sync_wait (mysql_causal_reads), so a host sees the
 * cluster's earlier commits before it decides.  The seal key is read once
 * per transaction and wiped at its end; PEM text is wiped once sealed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "dkim_impl.h"
#include "fileio.h"
#include "pdb.h"

struct blob {
    char    sel[64];
    char   *b;
    size_t  len;
};

struct dkim_dbtx {
    struct pdb *db;
    unsigned char key[DKIM_SEAL_KEYLEN];
    int     haskey, open;
    size_t  n;
    struct blob *v;
};


static void forget(struct dkim_dbtx *, const char *selector);

/* keep - the sealed key B of SELECTOR, kept for the commit (replacing one
 * kept before) */
static int keep(void *vtx, const char *selector, const char *b, size_t len)
{
    struct dkim_dbtx *tx = vtx;
    struct blob *v;
    char   *copy = malloc(len ? len : 1);

    if (copy == 0)
        return -1;
    memcpy(copy, b, len);
    forget(tx, selector);
    if ((v = realloc(tx->v, (tx->n + 1) * sizeof(*v))) == 0) {
        free(copy);
        return -1;
    }
    tx->v = v;
    snprintf(v[tx->n].sel, sizeof(v[tx->n].sel), "%s", selector);
    v[tx->n].b = copy;
    v[tx->n++].len = len;
    return 0;
}

static const struct blob *kept(const struct dkim_dbtx *tx, const char *selector)
{
    for (size_t i = 0; i < tx->n; i++)
        if (strcmp(tx->v[i].sel, selector) == 0)
            return &tx->v[i];
    return 0;
}

static void forget(struct dkim_dbtx *tx, const char *selector)
{
    for (size_t i = 0; i < tx->n; i++)
        if (strcmp(tx->v[i].sel, selector) == 0) {
            free(tx->v[i].b);
            tx->v[i] = tx->v[--tx->n];
            return;
        }
}

void    dkim_db_discard(struct dkim_handle *h, const char *selector)
{
    if (h->tx)
        forget(h->tx, selector);
}

/* lock_domain - the domain row FOR UPDATE (inserted first when CREATE);
 * 2 made now, 1 found, 0 absent, -1 with WHY */
static int lock_domain(struct pdb *db, const char *domain, int create, char *why, size_t whylen)
{
    struct pdb_val in[2] = {pdb_text(domain), pdb_int((long long) mx_now())};
    struct pdb_col col = {.type = PDB_INT};
    long long made = 0;

    if (create && pdb_run(db, -1, "INSERT IGNORE INTO dkim_domain (domain, version, changed) "
                          "VALUES (?, 0, ?)", in, 2, 0, 0, 0, 0, &made) < 0)
        return dkim_db_fail(db, domain, why, whylen), -1;
    col.n = -1;
    if (pdb_run(db, PDB_S_DKIM_LOCK, "SELECT version FROM dkim_domain WHERE domain = ? "
                "FOR UPDATE", in, 1, &col, 1, 0, 0, 0) < 0)
        return dkim_db_fail(db, domain, why, whylen), -1;
    return col.n < 0 ? 0 : made == 1 ? 2 : 1;
}

/* check_keys - every key of H's domain opens and matches its row, as
 * dkim_db_load checks them: a tampered domain is not changed (nor its
 * tampered rows written back) */
static int check_keys(struct dkim_handle *h, char *why, size_t whylen)
{
    unsigned char key[DKIM_SEAL_KEYLEN];
    const struct blob *b;
    int     rc = 0;

    if (h->dom->n == 0)
        return 0;
    if (dkim_seal_key_read(h->conf, key, why, whylen) < 0)
        return -1;
    for (size_t i = 0; rc == 0 && i < h->dom->n; i++)
        rc = (b = kept(h->tx, h->dom->sel[i].name)) == 0
            ? (snprintf(why, whylen, "%.100s/%s has no sealed key", h->dom->domain,
                        h->dom->sel[i].name), -1)
            : dkim_db_key_ok(key, h->dom->domain, &h->dom->sel[i], b->b, b->len, why, whylen);
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

/* begin_tx - the transaction of H's domain, rows loaded and checked; 1,
 * 0 (absent), or -1 */
static int begin_tx(struct dkim_handle *h, struct dkim_dbtx *tx, int create,
                    char *why, size_t whylen)
{
    int     found;

    if (pdb_tx_begin(tx->db) < 0)
        return dkim_db_fail(tx->db, h->dom->domain, why, whylen), -1;
    tx->open = 1;
    if ((found = lock_domain(tx->db, h->dom->domain, create, why, whylen)) <= 0)
        return found;
    if (found == 2)             /* key rows without a domain row are strays, not */
        return 1;               /* its keys: the commit's DELETE drops them */
    if (dkim_db_rows(tx->db, h->dom->domain, h->dom, 1, keep, tx, why, whylen) < 0
        || check_keys(h, why, whylen) < 0)
        return -1;
    return 1;
}

/* drop_tx - H's transaction rolled back (unless committed) and freed */
static void drop_tx(struct dkim_handle *h)
{
    struct dkim_dbtx *tx = h->tx;

    if (tx == 0)
        return;
    if (tx->open)
        pdb_tx_end(tx->db, 0);
    while (tx->n > 0)
        free(tx->v[--tx->n].b);
    free(tx->v);
    OPENSSL_cleanse(tx->key, sizeof(tx->key));
    free(tx);
    h->tx = 0;
}

int     dkim_db_begin(const struct mx_conf *conf, const char *domain, int create,
                      struct dkim_handle *h, char *why, size_t whylen)
{
    int     rc;

    memset(h, 0, sizeof(*h));
    h->conf = conf;
    h->lockfd = -1;
    snprintf(h->dir, sizeof(h->dir), "database %s", domain);
    if (dkim_db_check_name(domain, why, whylen) < 0)
        return -1;
    if ((h->tx = calloc(1, sizeof(*h->tx))) == 0 || (h->dom = dkim_db_domain_new(domain)) == 0) {
        dkim_db_end(h);
        return snprintf(why, whylen, "out of memory"), -1;
    }
    if ((h->tx->db = dkim_db_pool(conf, why, whylen)) == 0
        || (rc = begin_tx(h, h->tx, create, why, whylen)) < 0) {
        dkim_db_end(h);
        return -1;
    }
    if (rc == 0)
        drop_tx(h);             /* absent and not CREATE: an empty domain, as on files */
    return 0;
}

int     dkim_db_write_key(struct dkim_handle *h, const char *selector, EVP_PKEY *pk,
                          char *why, size_t whylen)
{
    struct dkim_dbtx *tx = h->tx;
    struct strbuf pem = STRBUF_INIT, sealed = STRBUF_INIT;
    int     rc = -1;

    if (!tx->haskey && (dkim_seal_key_read(h->conf, tx->key, why, whylen) < 0
                        || dkim_db_seal_check(h->conf, tx->db, tx->key, why, whylen) < 0))
        return -1;
    tx->haskey = 1;
    if (dkim_key_to_pem(pk, &pem) < 0)
        snprintf(why, whylen, "cannot encode the key of %s", selector);
    else if (dkim_seal(tx->key, h->dom->domain, selector, pem.s, pem.len, &sealed,
                       why, whylen) == 0)
        rc = keep(tx, selector, sealed.s, sealed.len) < 0
            ? (snprintf(why, whylen, "out of memory"), -1) : 0;
    dkim_sb_wipe(&pem);
    sb_free(&sealed);
    return rc;
}

/* insert - one selector's row, with its sealed key */
static int insert(struct pdb *db, const char *domain, const struct dkim_selector *s, int pos,
                  const struct blob *b)
{
    struct pdb_val in[10] = {
        pdb_text(domain), pdb_text(s->name), pdb_int(pos), pdb_text(dkim_alg_name(s->alg)), pdb_int(s->bits),
        pdb_text(dkim_state_name(s->state)), pdb_int((long long) s->created),
        pdb_int((long long) s->changed), pdb_text(s->pubkey_b64), {PDB_BLOB, 0, b->b, b->len}
    };

    return pdb_run(db, -1, "INSERT INTO dkim_key (domain, selector, pos, alg, bits, state, "
                   "created, changed, pubkey, sealed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   in, 10, 0, 0, 0, 0, 0);
}

/* write_rows - the domain's rows as H->dom says, version + 1 */
static int write_rows(struct dkim_handle *h, char *why, size_t whylen)
{
    struct dkim_dbtx *tx = h->tx;
    const char *d = h->dom->domain;
    struct pdb_val in[2] = {pdb_int((long long) mx_now()), pdb_text(d)};

    if (pdb_run(tx->db, -1, "DELETE FROM dkim_key WHERE domain = ?", &in[1], 1,
                0, 0, 0, 0, 0) < 0)
        return dkim_db_fail(tx->db, d, why, whylen), -1;
    for (size_t i = 0; i < h->dom->n; i++) {
        const struct blob *b = kept(tx, h->dom->sel[i].name);

        if (b == 0)
            return snprintf(why, whylen, "%.100s/%s has no sealed key", d,
                            h->dom->sel[i].name), -1;
        if (insert(tx->db, d, &h->dom->sel[i], (int) i, b) < 0)
            return dkim_db_fail(tx->db, d, why, whylen), -1;
    }
    if (pdb_run(tx->db, -1, "UPDATE dkim_domain SET version = version + 1, changed = ? "
                "WHERE domain = ?", in, 2, 0, 0, 0, 0, 0) < 0)
        return dkim_db_fail(tx->db, d, why, whylen), -1;
    return 0;
}

int     dkim_db_commit(struct dkim_handle *h, char *why, size_t whylen)
{
    struct dkim_dbtx *tx = h->tx;

    if (tx == 0 || !tx->open)
        return snprintf(why, whylen, "%.200s was not opened for change", h->dir), -1;
    if (write_rows(h, why, whylen) < 0) {
        tx->open = 0;
        pdb_tx_end(tx->db, 0);
        return -1;
    }
    tx->open = 0;
    if (pdb_tx_end(tx->db, 1) < 0)
        return dkim_db_fail(tx->db, h->dom->domain, why, whylen), -1;
    return 0;
}

void    dkim_db_end(struct dkim_handle *h)
{
    drop_tx(h);
    dkim_domain_free(h->dom);
    h->dom = 0;
}
