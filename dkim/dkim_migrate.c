/*
 * dkim_migrate.c - a domain copied from one key store to the other
 * (mxdock-dkim migrate-store): files -> mysql, or mysql -> files.
 *
 *   dkim_store_migrate  copy one domain: the same keys, selectors, states,
 *                       created and changed times; then compare both
 *
 * FROM and TO are two configurations that differ in dkim_store.  The copy
 * is one change of the target (one transaction, or the domain's lock on
 * files): all of it or nothing.  A domain the target already holds is left
 * alone: skipped when it is the same, refused when it differs.  The source
 * is only read.  Private key text is wiped after use.
 */
#include <stdio.h>
#include <string.h>

#include "dkim_impl.h"

/* same_sel - two selectors alike in everything the stores keep */
static int same_sel(const struct dkim_selector *a, const struct dkim_selector *b)
{
    return strcmp(a->name, b->name) == 0 && a->alg == b->alg && a->bits == b->bits
        && a->created == b->created && a->state == b->state && a->changed == b->changed
        && strcmp(a->pubkey_b64, b->pubkey_b64) == 0;
}

/* same_domain - the same selectors in the same order */
static int same_domain(const struct dkim_domain *a, const struct dkim_domain *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (!same_sel(&a->sel[i], &b->sel[i]))
            return 0;
    return 1;
}

/* canon_pem - the key of SELECTOR in CONF's store, PEM re-encoded (so two
 * stores' texts of one key compare equal); the caller wipes it */
static int canon_pem(const struct mx_conf *conf, const char *domain, const char *selector,
                     struct strbuf *out, EVP_PKEY **keep, char *why, size_t whylen)
{
    struct strbuf pem = STRBUF_INIT;
    EVP_PKEY *pk = 0;
    enum dkim_alg alg;
    int     bits, rc = -1;

    if (dkim_store_key_pem(conf, domain, selector, &pem, why, whylen) < 0)
        goto out;
    if (dkim_key_from_pem(sb_str(&pem), pem.len, &pk, &alg, &bits, why, whylen) < 0)
        goto out;
    if (dkim_key_to_pem(pk, out) < 0) {
        snprintf(why, whylen, "cannot encode the key of %.70s", selector);
        goto out;
    }
    rc = 0;
out:
    dkim_sb_wipe(&pem);
    if (keep && rc == 0)
        *keep = pk;
    else
        EVP_PKEY_free(pk);
    return rc;
}

/* copy_keys - every selector of SRC with its key into the open target H */
static int copy_keys(const struct mx_conf *from, const struct dkim_domain *src,
                     struct dkim_handle *h, char *why, size_t whylen)
{
    for (size_t i = 0; i < src->n; i++) {
        struct strbuf pem = STRBUF_INIT;
        EVP_PKEY *pk = 0;
        struct dkim_selector *s;
        int     rc;

        rc = canon_pem(from, src->domain, src->sel[i].name, &pem, &pk, why, whylen);
        dkim_sb_wipe(&pem);
        if (rc == 0)
            rc = dkim_store_write_key(h, src->sel[i].name, pk, why, whylen);
        EVP_PKEY_free(pk);
        if (rc == 0 && (s = dkim_domain_add(h->dom)) != 0)
            *s = src->sel[i];
        else if (rc == 0)
            rc = (snprintf(why, whylen, "out of memory"), -1);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* copy_in - SRC into TO's store; 1 when it was there already the same,
 * -2 when it is there and differs, -1 with WHY */
static int copy_in(const struct mx_conf *from, const struct mx_conf *to,
                   const struct dkim_domain *src, char *why, size_t whylen)
{
    struct dkim_handle h;
    int     rc, fresh;

    if (dkim_store_begin(to, src->domain, 1, &h, why, whylen) < 0)
        return -1;
    if (!(fresh = h.dom->n == 0)) {
        rc = same_domain(h.dom, src) ? 1 : -2;
        if (rc == -2)
            snprintf(why, whylen, "%.100s is already in the %s store with other keys or "
                     "states; nothing copied", src->domain, to->dkim_store);
    } else if ((rc = copy_keys(from, src, &h, why, whylen)) == 0)
        rc = dkim_store_commit(&h, why, whylen);
    if (rc == -1 && fresh)             /* key files no state names (files) */
        for (size_t i = 0; i < h.dom->n && h.tx == 0; i++)
            dkim_update_discard(&h, h.dom->sel[i].name);
    dkim_store_end(&h);
    return rc;
}

/* verify - both stores load DOMAIN the same, key texts equal */
static int verify(const struct mx_conf *from, const struct mx_conf *to,
                  const struct dkim_domain *src, char *why, size_t whylen)
{
    struct dkim_domain *dst = 0;
    int     rc = -1;

    if (dkim_store_load(to, src->domain, &dst, why, whylen) < 0)
        return -1;
    if (!same_domain(src, dst))
        snprintf(why, whylen, "%.100s: the %s store lists other selectors or states after "
                 "the copy", src->domain, to->dkim_store);
    else
        rc = 0;
    for (size_t i = 0; rc == 0 && i < src->n; i++) {
        struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
        const char *sel = src->sel[i].name;

        if (canon_pem(from, src->domain, sel, &a, 0, why, whylen) < 0
            || canon_pem(to, src->domain, sel, &b, 0, why, whylen) < 0)
            rc = -1;
        else if (a.len != b.len || memcmp(a.s, b.s, a.len) != 0)
            rc = (snprintf(why, whylen, "%.100s/%.70s: the private keys differ after the "
                           "copy", src->domain, sel), -1);
        dkim_sb_wipe(&a);
        dkim_sb_wipe(&b);
    }
    dkim_domain_free(dst);
    return rc;
}

int     dkim_store_migrate(const struct mx_conf *from, const struct mx_conf *to,
                           const char *domain, char *why, size_t whylen)
{
    struct dkim_domain *src = 0;
    int     rc;

    if (dkim_store_load(from, domain, &src, why, whylen) < 0)
        return -1;
    if (src->n == 0) {
        dkim_domain_free(src);
        return snprintf(why, whylen, "%.100s has no keys in the %s store", domain,
                        from->dkim_store), -3;
    }
    rc = copy_in(from, to, src, why, whylen);
    if (rc >= 0 && verify(from, to, src, why, whylen) < 0)
        rc = -1;
    dkim_domain_free(src);
    return rc;
}
