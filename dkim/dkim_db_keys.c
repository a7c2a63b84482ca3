/*
 * dkim_db_keys.c - the private keys of the database store (dkim_store =
 * mysql), unsealed and checked against their rows.
 *
 *   dkim_db_key_pem     one selector's key, unsealed and checked
 *   dkim_db_key_ok      one sealed key opens and matches its row
 *   dkim_db_verify      every key of a loaded domain opens and matches its
 *                       row (dkim_db_load, and dkim_db_begin through
 *                       dkim_db_key_ok; as the files store parses every
 *                       key file on load)
 *   dkim_db_reach       can the database be asked at all: reached, refused
 *                       (a configuration error), or down
 *
 * A row matches its key when the sealed PEM opens with this host's seal key
 * for this domain and selector, parses, has the row's algorithm and bits,
 * and its public half is the row's pubkey: a row whose pubkey was edited
 * would publish one key and sign with another, so it is refused whole.
 * PEM text and the seal key are wiped after use; WHY never holds either.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "dkim_impl.h"
#include "pdb.h"

/* key_matches - PEM parses and is the key SEL's row describes */
static int key_matches(const char *domain, const struct dkim_selector *sel,
                       const struct strbuf *pem, char *why, size_t whylen)
{
    char    reason[300], pub[sizeof(sel->pubkey_b64)];
    EVP_PKEY *pk = 0;
    enum dkim_alg alg;
    int     bits, rc = -1;

    if (dkim_key_from_pem(pem->s, pem->len, &pk, &alg, &bits, reason, sizeof(reason)) < 0)
        snprintf(why, whylen, "%.100s/%.70s: %s", domain, sel->name, reason);
    else if (alg != sel->alg || bits != sel->bits)
        snprintf(why, whylen, "%.100s/%.70s is a %d-bit %s key; its row says %d-bit %s",
                 domain, sel->name, bits, dkim_alg_name(alg), sel->bits,
                 dkim_alg_name(sel->alg));
    else if (dkim_key_pub_b64(pk, alg, pub, sizeof(pub)) < 0
             || strcmp(pub, sel->pubkey_b64) != 0)
        snprintf(why, whylen, "%.100s/%.70s: the row's public key is not the sealed private "
                 "key's (pubkey column changed?)", domain, sel->name);
    else
        rc = 0;
    EVP_PKEY_free(pk);
    return rc;
}

/* unseal_checked - the PEM of SEL (sealed B) into PEM, checked; wiped on
 * failure */
static int unseal_checked(const unsigned char *key, const char *domain,
                          const struct dkim_selector *sel, const char *b, size_t len,
                          struct strbuf *pem, char *why, size_t whylen)
{
    int     rc = dkim_unseal(key, domain, sel->name, b, len, pem, why, whylen);

    if (rc == 0 && (sb_failed(pem) || sb_str(pem) == 0))
        rc = (snprintf(why, whylen, "out of memory"), -1);
    if (rc == 0)
        rc = key_matches(domain, sel, pem, why, whylen);
    if (rc < 0)
        dkim_sb_wipe(pem);
    return rc;
}

int     dkim_db_key_ok(const unsigned char *key, const char *domain,
                       const struct dkim_selector *sel, const char *b, size_t len,
                       char *why, size_t whylen)
{
    struct strbuf pem = STRBUF_INIT;
    int     rc = unseal_checked(key, domain, sel, b, len, &pem, why, whylen);

    dkim_sb_wipe(&pem);
    return rc;
}

/* blobs - the sealed keys of a domain's rows, in row order (= dom->sel) */
struct blobs {
    size_t  n;
    struct sealed {
        char   *b;
        size_t  len;
    }      *v;
};

static int keep_all(void *vctx, const char *selector, const char *b, size_t len)
{
    struct blobs *k = vctx;
    struct sealed *v = realloc(k->v, (k->n + 1) * sizeof(*v));

    (void) selector;
    if (v == 0)
        return -1;
    k->v = v;
    if ((v[k->n].b = malloc(len ? len : 1)) == 0)
        return -1;
    memcpy(v[k->n].b, b, len);
    v[k->n++].len = len;
    return 0;
}

static void blobs_free(struct blobs *k)
{
    while (k->n > 0)
        free(k->v[--k->n].b);
    free(k->v);
}

/* check_all - each selector of DOM against its sealed key in K */
static int check_all(const struct mx_conf *conf, const struct dkim_domain *dom,
                     const struct blobs *k, char *why, size_t whylen)
{
    unsigned char key[DKIM_SEAL_KEYLEN];
    int     rc = 0;

    if (k->n != dom->n)
        return snprintf(why, whylen, "out of memory"), -1;
    if (dom->n == 0)
        return 0;
    if (dkim_seal_key_read(conf, key, why, whylen) < 0)
        return -1;
    for (size_t i = 0; rc == 0 && i < dom->n; i++)
        rc = dkim_db_key_ok(key, dom->domain, &dom->sel[i], k->v[i].b, k->v[i].len,
                            why, whylen);
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

int     dkim_db_verify(const struct mx_conf *conf, struct pdb *db, struct dkim_domain *dom,
                       char *why, size_t whylen)
{
    struct blobs k = {0, 0};
    int     rc;

    rc = dkim_db_rows(db, dom->domain, dom, 0, keep_all, &k, why, whylen);
    if (rc == 0)
        rc = check_all(conf, dom, &k, why, whylen);
    blobs_free(&k);
    return rc;
}

int     dkim_db_key_pem(const struct mx_conf *conf, const char *domain, const char *selector,
                        struct strbuf *pem, char *why, size_t whylen)
{
    struct dkim_domain *dom = 0;
    struct dkim_selector *sel;
    struct blobs k = {0, 0};
    unsigned char key[DKIM_SEAL_KEYLEN];
    struct pdb *db;
    int     rc = -1;

    if (!dkim_selector_valid(selector))
        return snprintf(why, whylen, "bad selector \"%.70s\"", selector), -1;
    if (dkim_db_check_name(domain, why, whylen) < 0 || (db = dkim_db_pool(conf, why, whylen)) == 0)
        return -1;
    if ((dom = dkim_db_domain_new(domain)) == 0)
        return snprintf(why, whylen, "out of memory"), -1;
    if (dkim_db_rows(db, domain, dom, 0, keep_all, &k, why, whylen) == 0) {
        if ((sel = dkim_domain_find(dom, selector)) == 0 || k.n != dom->n)
            snprintf(why, whylen, "no key %.100s/%.70s in the database", domain, selector);
        else if (dkim_seal_key_read(conf, key, why, whylen) == 0) {
            rc = unseal_checked(key, domain, sel, k.v[sel - dom->sel].b,
                                k.v[sel - dom->sel].len, pem, why, whylen);
            OPENSSL_cleanse(key, sizeof(key));
        }
    }
    blobs_free(&k);
    dkim_domain_free(dom);
    return rc;
}

int     dkim_db_reach(const struct mx_conf *conf)
{
    struct pdb *db = pdb_open(conf, 1, PDB_QUIET);
    int     rc;

    if (db == 0)
        return -2;
    rc = pdb_run(db, -1, "SELECT 1", 0, 0, 0, 0, 0, 0, 0) == 0 ? 0
        : pdb_is_refused(db) ? -1 : -2;
    pdb_close(db);
    return rc;
}
