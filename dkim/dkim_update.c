/*
 * dkim_update.c - changes to the key store: new keys, state moves, keys
 * brought in from elsewhere.
 *
 *   dkim_store_keygen     new keys for a domain, in a chosen state
 *   dkim_store_ensure     keys unless the domain has some not retired
 *   dkim_store_rotate     one new pending key per configured algorithm
 *   dkim_store_set_state  move one selector (activation retires others)
 *   dkim_store_add_pem    an existing key under a given selector (import)
 *   dkim_update_newkey    inside: generate, name, write one key
 *   dkim_update_discard   inside: remove a key file not yet in the state
 *   dkim_update_activate  inside: the one-active-key-per-algorithm rule
 *   dkim_update_algs      inside: dkim_algorithms as enums
 *
 * Order on disk: key files are written before the state file names them,
 * and a state line goes before its key file is deleted, so a crash leaves
 * at worst a key file nobody uses, never a state line without its key.
 * Every function leaves the store as it was when it fails.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dkim_impl.h"
#include "fileio.h"

int     dkim_update_algs(const char *list, enum dkim_alg *algs, int *n)
{
    const char *cur = list;
    char    item[32];
    enum dkim_alg a;

    *n = 0;
    while (conf_list_next(&cur, item, sizeof(item)))
        if (dkim_alg_parse(item, &a) == 0 && *n < 2 && (*n == 0 || algs[0] != a))
            algs[(*n)++] = a;
    return *n > 0 ? 0 : -1;
}

int     dkim_update_newkey(struct dkim_handle *h, enum dkim_alg alg, int bits,
                           enum dkim_state state, time_t now, char *why, size_t whylen)
{
    char    name[64];
    EVP_PKEY *pk;
    struct dkim_selector *sel;

    if (alg == DKIM_ALG_ED25519)
        bits = 256;
    if (dkim_selector_make(h->conf->dkim_selector_format, alg, now, h->dom, h->lockfd,
                           name, sizeof(name), why, whylen) < 0
        || dkim_key_generate(alg, bits, &pk, why, whylen) < 0)
        return -1;
    if (dkim_store_write_key(h, name, pk, why, whylen) < 0) {
        EVP_PKEY_free(pk);
        return -1;
    }
    if ((sel = dkim_domain_add(h->dom)) == 0) {
        EVP_PKEY_free(pk);
        dkim_update_discard(h, name);
        return snprintf(why, whylen, "out of memory"), -1;
    }
    strcpy(sel->name, name);
    sel->alg = alg;
    sel->bits = bits;
    sel->created = sel->changed = now;
    sel->state = state;
    dkim_key_pub_b64(pk, alg, sel->pubkey_b64, sizeof(sel->pubkey_b64));
    EVP_PKEY_free(pk);
    return 0;
}

void    dkim_update_discard(struct dkim_handle *h, const char *selector)
{
    char    name[NAME_MAX + 1];

    if (h->tx)
        dkim_db_discard(h, selector);
    else if (h->lockfd >= 0 && snprintf(name, sizeof(name), "%s.pem", selector) < (int) sizeof(name))
        dkim_dir_unlink(h->lockfd, name);
}

/* dkim_update_activate - SEL goes active; the other active keys of its
 * algorithm, and pending ones made before it, go retiring: they stay in
 * DNS for dkim_retire_after while mail signed with them is in flight.
 * Their names go on RETIRED (when not null), one space before each. */
void    dkim_update_activate(struct dkim_domain *dom, struct dkim_selector *sel, time_t now,
                             struct strbuf *retired)
{
    for (size_t i = 0; i < dom->n; i++) {
        struct dkim_selector *o = &dom->sel[i];

        if (o == sel || o->alg != sel->alg)
            continue;
        if (o->state == DKIM_ACTIVE
            || (o->state == DKIM_PENDING && strcmp(o->name, sel->name) < 0)) {
            o->state = DKIM_RETIRING;
            o->changed = now;
            if (retired)
                sb_printf(retired, " %s", o->name);
        }
    }
    if (sel->state != DKIM_ACTIVE) {
        sel->state = DKIM_ACTIVE;
        sel->changed = now;
    }
}

/* commit_or_discard - write the state; on failure remove the key files of
 * the selectors from index FIRST on, which no state file names */
static int commit_or_discard(struct dkim_handle *h, size_t first, char *why, size_t whylen)
{
    if (dkim_store_commit(h, why, whylen) == 0)
        return 0;
    for (size_t i = first; i < h->dom->n; i++)
        dkim_update_discard(h, h->dom->sel[i].name);
    return -1;
}

/* keygen_open - new keys on an open domain, one per ALGS, committed */
static int keygen_open(struct dkim_handle *h, const enum dkim_alg *algs, int nalg, int bits,
                       enum dkim_state state, char *why, size_t whylen)
{
    size_t  first = h->dom->n;
    time_t  now = mx_now();

    for (int i = 0; i < nalg; i++) {
        if (dkim_update_newkey(h, algs[i], bits ? bits : (int) h->conf->dkim_rsa_bits, state,
                               now, why, whylen) < 0) {
            for (size_t j = first; j < h->dom->n; j++)
                dkim_update_discard(h, h->dom->sel[j].name);
            return -1;
        }
        if (state == DKIM_ACTIVE)
            dkim_update_activate(h->dom, &h->dom->sel[h->dom->n - 1], now, 0);
    }
    return commit_or_discard(h, first, why, whylen);
}

int     dkim_store_keygen(const struct mx_conf *conf, const char *domain, const char *alg,
                          int bits, enum dkim_state state, char *why, size_t whylen)
{
    struct dkim_handle h;
    enum dkim_alg algs[2];
    int     nalg, rc;

    if (alg ? dkim_alg_parse(alg, &algs[0]) < 0 : dkim_update_algs(conf->dkim_algorithms, algs,
                                                                    &nalg) < 0)
        return snprintf(why, whylen, "unknown algorithm \"%.30s\" (ed25519 or rsa)",
                        alg ? alg : conf->dkim_algorithms), -1;
    if (alg)
        nalg = 1;
    if (bits != 0 && (bits < DKIM_MIN_RSA_BITS || bits > 4096))
        return snprintf(why, whylen, "RSA key size %d is outside 1024..4096", bits), -1;
    if (dkim_store_begin(conf, domain, 1, &h, why, whylen) < 0)
        return -1;
    rc = keygen_open(&h, algs, nalg, bits, state, why, whylen);
    dkim_store_end(&h);
    return rc;
}

int     dkim_store_ensure(const struct mx_conf *conf, const char *domain, int *made,
                          char *why, size_t whylen)
{
    struct dkim_handle h;
    enum dkim_alg algs[2];
    int     nalg, rc = 0, live = 0;

    *made = 0;
    if (dkim_update_algs(conf->dkim_algorithms, algs, &nalg) < 0)
        return snprintf(why, whylen, "dkim_algorithms names no algorithm"), -1;
    if (dkim_store_begin(conf, domain, 1, &h, why, whylen) < 0)
        return -1;
    for (size_t i = 0; i < h.dom->n && live == 0; i++)
        live = dkim_is_published_state(h.dom->sel[i].state);
    if (live == 0) {
        rc = keygen_open(&h, algs, nalg, 0, DKIM_PENDING, why, whylen);
        *made = rc == 0;
    }
    dkim_store_end(&h);
    return rc;
}

int     dkim_store_rotate(const struct mx_conf *conf, const char *domain, int *made,
                          char *why, size_t whylen)
{
    struct dkim_handle h;
    enum dkim_alg algs[2], todo[2];
    int     nalg, ntodo = 0, rc = 0;

    *made = 0;
    if (dkim_update_algs(conf->dkim_algorithms, algs, &nalg) < 0)
        return snprintf(why, whylen, "dkim_algorithms names no algorithm"), -1;
    if (dkim_store_begin(conf, domain, 1, &h, why, whylen) < 0)
        return -1;
    for (int i = 0; i < nalg; i++) {
        int     has_pending = 0;

        for (size_t j = 0; j < h.dom->n; j++)
            if (h.dom->sel[j].alg == algs[i] && h.dom->sel[j].state == DKIM_PENDING)
                has_pending = 1;
        if (!has_pending)
            todo[ntodo++] = algs[i];
    }
    if (ntodo > 0 && (rc = keygen_open(&h, todo, ntodo, 0, DKIM_PENDING, why, whylen)) == 0)
        *made = ntodo;
    dkim_store_end(&h);
    return rc;
}

int     dkim_store_set_state(const struct mx_conf *conf, const char *domain, const char *selector,
                             enum dkim_state state, char *why, size_t whylen)
{
    struct dkim_handle h;
    struct dkim_selector *sel;
    int     rc = -1;

    if (dkim_store_begin(conf, domain, 0, &h, why, whylen) < 0)
        return -1;
    if ((sel = dkim_domain_find(h.dom, selector)) == 0) {
        snprintf(why, whylen, "%.100s has no selector \"%.70s\"", domain, selector);
    } else {
        if (state == DKIM_ACTIVE)
            dkim_update_activate(h.dom, sel, mx_now(), 0);
        else if (sel->state != state) {
            sel->state = state;
            sel->changed = mx_now();
        }
        rc = dkim_store_commit(&h, why, whylen);
    }
    dkim_store_end(&h);
    return rc;
}

/* same_key - does SEL hold the key whose public part is B64? */
static int same_key(const struct dkim_selector *sel, enum dkim_alg alg, const char *b64)
{
    return sel->alg == alg && strcmp(sel->pubkey_b64, b64) == 0;
}

/* add_new - SELECTOR with key PK into the open domain, in STATE; an active
 * one follows the one-active-key-per-algorithm rule.  Committed; on
 * success WHY says which keys went retiring (empty when none). */
static int add_new(struct dkim_handle *h, const char *selector, EVP_PKEY *pk, enum dkim_alg alg,
                   int bits, const char *b64, enum dkim_state state, char *why, size_t whylen)
{
    struct dkim_selector *sel;
    struct strbuf retired = STRBUF_INIT;
    time_t  now = mx_now();
    int     rc;

    if (dkim_store_write_key(h, selector, pk, why, whylen) < 0)
        return -1;
    if ((sel = dkim_domain_add(h->dom)) == 0) {
        dkim_update_discard(h, selector);
        return snprintf(why, whylen, "out of memory"), -1;
    }
    snprintf(sel->name, sizeof(sel->name), "%s", selector);
    sel->alg = alg;
    sel->bits = bits;
    sel->created = sel->changed = now;
    sel->state = state == DKIM_ACTIVE ? DKIM_PENDING : state;
    snprintf(sel->pubkey_b64, sizeof(sel->pubkey_b64), "%s", b64);
    if (state == DKIM_ACTIVE)
        dkim_update_activate(h->dom, sel, now, &retired);
    if ((rc = commit_or_discard(h, h->dom->n - 1, why, whylen)) == 0) {
        if (retired.len)
            snprintf(why, whylen, "retiring:%s", sb_str(&retired));
        else
            *why = 0;
    }
    sb_free(&retired);
    return rc;
}

int     dkim_store_add_pem(const struct mx_conf *conf, const char *domain, const char *selector,
                           const char *pem, size_t len, enum dkim_state state,
                           char *why, size_t whylen)
{
    struct dkim_handle h;
    struct dkim_selector *old;
    EVP_PKEY *pk;
    enum dkim_alg alg;
    int     bits, rc;
    char    b64[sizeof(old->pubkey_b64)];

    if (!dkim_selector_valid(selector))
        return snprintf(why, whylen, "bad selector \"%.70s\"", selector), -1;
    if (dkim_key_from_pem(pem, len, &pk, &alg, &bits, why, whylen) < 0)
        return -1;
    if (dkim_key_pub_b64(pk, alg, b64, sizeof(b64)) < 0) {
        EVP_PKEY_free(pk);
        return snprintf(why, whylen, "cannot encode the public key"), -1;
    }
    if (dkim_store_begin(conf, domain, 1, &h, why, whylen) < 0) {
        EVP_PKEY_free(pk);
        return -1;
    }
    if ((old = dkim_domain_find(h.dom, selector)) != 0)
        rc = same_key(old, alg, b64) ? (*why = 0, 1)
            : (snprintf(why, whylen, "%.100s already has a different key as selector %s",
                        domain, selector), -1);
    else
        rc = add_new(&h, selector, pk, alg, bits, b64, state, why, whylen);
    EVP_PKEY_free(pk);
    dkim_store_end(&h);
    return rc;
}
