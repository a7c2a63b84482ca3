/*
 * dkim_eng_sign.c - mxdock's DKIM signer (RFC 6376 5, RFC 8463) on keys
 * parsed once per key generation.
 *
 *   dkim_eng_new/free          the sign header lists and canonicalization,
 *                              the verifier's limits and key cache
 *   dkim_eng_sign_new          one message, every key of a keyset
 *   dkim_eng_sign_header       keep one header (canonicalized at the end)
 *   dkim_eng_sign_body         body chunks into the one streaming body hash
 *   dkim_eng_sign_eom          one DKIM-Signature per key
 *   dkim_eng_sign_n/hdr        the header values, folded with "\n\t"
 *   dkim_eng_fold              the DKIM-Signature layout of libopendkim
 *
 * Headers: h= names every header of dkim_sign_headers present, top down, as
 * libopendkim writes it (dkim.c dkim_gensighdr), then every name of
 * dkim_oversign_headers once more; the hash takes the instances bottom-up
 * for repeated names (RFC 6376 5.4.2), a name with no instance left adds
 * nothing.  All keys of a message share one body hash and one canonical
 * header block; only the DKIM-Signature field itself differs per key.
 * RSA signs the SHA-256 of the header data with PKCS#1 v1.5; Ed25519 signs
 * that SHA-256 as its message (PureEdDSA, RFC 8463 3).  The shared
 * EVP_PKEY is only read here, which OpenSSL allows from many threads.
 *
 * Ownership: the handle owns the headers it copied and the values it made.
 * Diagnostics: constructors and eom return NULL/-1 with WHY.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "dkim_eng.h"

#define ENG_MAXKEYS 8
#define ENG_MAXLIST 64
#define ENG_MARGIN 75           /* libopendkim's DKIM_HDRMARGIN */

struct dkim_eng {
    int     hrelaxed, brelaxed;
    int     max_sigs, min_bits;
    struct dkim_eng_keys *keys; /* the verifier's public key cache */
    size_t  nsign, nover;
    char   *sign[ENG_MAXLIST];
    char   *over[ENG_MAXLIST];
};

struct dkim_eng_sign {
    const struct dkim_eng *e;
    const struct dkim_keyset *ks;
    struct dkim_eng_hdrs hdr;
    struct dkim_canon_body body;
    size_t  nsig;
    char   *sighdr[ENG_MAXKEYS];
};

/* read_list - a conf comma list into V (at most ENG_MAXLIST); -1 on ENOMEM */
static int read_list(const char *list, char **v, size_t *n)
{
    const char *cur = list ? list : "";
    char    item[128];

    *n = 0;
    while (*n < ENG_MAXLIST && conf_list_next(&cur, item, sizeof(item)))
        if ((v[(*n)++] = strdup(item)) == 0)
            return -1;
    return 0;
}

struct dkim_eng *dkim_eng_new(const struct mx_conf *c, const char *keyfile,
                              char *why, size_t whylen)
{
    struct dkim_eng *e = calloc(1, sizeof(*e));
    const char *canon = c->dkim_canonicalization ? c->dkim_canonicalization : "";
    const char *slash = strchr(canon, '/');

    if (e == 0 || read_list(c->dkim_sign_headers, e->sign, &e->nsign) != 0
        || read_list(c->dkim_oversign_headers, e->over, &e->nover) != 0) {
        snprintf(why, whylen, "out of memory");
        dkim_eng_free(e);
        return 0;
    }
    if ((e->keys = dkim_eng_keys_new(c->dns_resolver, c->dns_timeout, keyfile,
                                     why, whylen)) == 0) {
        dkim_eng_free(e);
        return 0;
    }
    e->max_sigs = (int) c->dkim_max_signatures;
    e->min_bits = (int) c->dkim_min_key_bits;
    e->hrelaxed = strncmp(canon, "simple", 6) != 0;
    e->brelaxed = !(slash && strcmp(slash + 1, "simple") == 0);
    return e;
}

void    dkim_eng_free(struct dkim_eng *e)
{
    if (e == 0)
        return;
    for (size_t i = 0; i < e->nsign; i++)
        free(e->sign[i]);
    for (size_t i = 0; i < e->nover; i++)
        free(e->over[i]);
    dkim_eng_keys_free(e->keys);
    free(e);
}

int     dkim_eng_max_sigs(const struct dkim_eng *e)
{
    return e->max_sigs;
}

int     dkim_eng_min_bits(const struct dkim_eng *e)
{
    return e->min_bits;
}

struct dkim_eng_keys *dkim_eng_keys_of(const struct dkim_eng *e)
{
    return e->keys;
}

struct dkim_eng_sign *dkim_eng_sign_new(const struct dkim_eng *e, const struct dkim_keyset *ks,
                                        char *why, size_t whylen)
{
    struct dkim_eng_sign *s = calloc(1, sizeof(*s));

    if (s == 0 || dkim_canon_body_init(&s->body, e->brelaxed, -1) != 0) {
        snprintf(why, whylen, "out of memory");
        dkim_eng_sign_free(s);
        return 0;
    }
    s->e = e;
    s->ks = ks;
    for (size_t i = 0; i < ks->n; i++)
        if (ks->keys[i].pkey == 0) {
            snprintf(why, whylen, "key %s/%s was not parsed", ks->domain, ks->keys[i].selector);
            dkim_eng_sign_free(s);
            return 0;
        }
    return s;
}

int     dkim_eng_sign_header(struct dkim_eng_sign *s, const char *name, const char *value)
{
    return dkim_eng_hdrs_add(&s->hdr, name, value);
}

int     dkim_eng_sign_body(struct dkim_eng_sign *s, const unsigned char *p, size_t len)
{
    return dkim_canon_body_update(&s->body, p, len);
}

static int listed(char *const *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(v[i], name) == 0)
            return 1;
    return 0;
}

/* header_list - the h= value: signed headers top down, then oversigned */
static void header_list(const struct dkim_eng_sign *s, struct strbuf *h)
{
    for (size_t i = 0; i < s->hdr.n; i++)
        if (listed(s->e->sign, s->e->nsign, s->hdr.name[i])) {
            if (h->len)
                sb_putc(h, ':');
            sb_puts(h, s->hdr.name[i]);
        }
    for (size_t i = 0; i < s->e->nover; i++) {
        if (h->len)
            sb_putc(h, ':');
        sb_puts(h, s->e->over[i]);
    }
}

/* fold_piece - one wrapped tag: h= breaks at colons, b= and bh= at the
 * margin, others whole; *LEN is the width of the current line */
static void fold_piece(const char *pv, size_t namelen, size_t *len, struct strbuf *out)
{
    size_t  pvlen = strlen(pv);

    sb_append(out, "\r\n\t", 3);
    *len = 8;
    if (namelen == 1 && pv[0] == 'h') {
        for (const char *t = pv; *t;) {
            size_t  tl = strcspn(t, ":");

            if (t != pv && *len + tl + 1 > ENG_MARGIN) {
                sb_append(out, ":\r\n\t ", 5);
                *len = 9;
            } else if (t != pv) {
                sb_putc(out, ':');
                (*len)++;
            }
            sb_append(out, t, tl);
            *len += tl;
            t += tl + (t[tl] == ':');
        }
    } else if ((namelen == 1 && pv[0] == 'b') || (namelen == 2 && strncmp(pv, "bh", 2) == 0)) {
        size_t  o = namelen + 2 <= pvlen ? namelen + 2 : pvlen;

        sb_append(out, pv, o);  /* name, '=' and the first character */
        *len += o;
        while (o < pvlen) {
            size_t  n;

            if (*len >= ENG_MARGIN) {
                sb_append(out, "\r\n\t ", 4);
                *len = 9;
            }
            n = ENG_MARGIN - *len < pvlen - o ? ENG_MARGIN - *len : pvlen - o;
            sb_append(out, pv + o, n);
            o += n;
            *len += n;
        }
    } else {
        sb_append(out, pv, pvlen);
        *len += pvlen;
    }
}

void    dkim_eng_fold(const char *tags, const char *b64, size_t initial, int bits,
                      struct strbuf *out)
{
    struct strbuf all = STRBUF_INIT;
    size_t  len = initial, siglen = bits > 0 ? ((size_t) bits / 8 + 2) / 3 * 4 : 0;
    int     first = 1;
    char   *save = 0;

    sb_puts(&all, tags);
    sb_puts(&all, b64);
    if (sb_failed(&all)) {
        out->failed = 1;
        return;
    }
    for (char *pv = strtok_r(all.s, "\001", &save); pv; pv = strtok_r(0, "\001", &save)) {
        size_t  namelen = strcspn(pv, "="), pvlen = strlen(pv);
        int     force = bits > 0 && namelen == 1 && pv[0] == 'b'
            && len + namelen + siglen + 1 >= ENG_MARGIN;

        if (first) {
            sb_append(out, pv, pvlen);
            len += pvlen;
            first = 0;
        } else if (force || len + pvlen > ENG_MARGIN) {
            fold_piece(pv, namelen, &len, out);
        } else {
            sb_putc(out, ' ');
            sb_append(out, pv, pvlen);
            len += pvlen + 1;
        }
    }
    sb_free(&all);
}

/* b64 - base64 of P into a new string; NULL on ENOMEM */
static char *b64(const unsigned char *p, size_t n)
{
    char   *s = malloc((n + 2) / 3 * 4 + 1);

    if (s)
        EVP_EncodeBlock((unsigned char *) s, p, (int) n);
    return s;
}

/* raw_sign - SIG (up to *SIGLEN bytes) over the 32-byte header DIGEST */
static int raw_sign(const struct dkim_msg_key *k, const unsigned char *digest,
                    unsigned char *sig, size_t *siglen)
{
    EVP_PKEY *pkey = k->pkey;
    int     ok = 0;

    if (k->alg == DKIM_ALG_ED25519) {
        EVP_MD_CTX *mc = EVP_MD_CTX_new();

        ok = mc && EVP_DigestSignInit(mc, 0, 0, 0, pkey) == 1
            && EVP_DigestSign(mc, sig, siglen, digest, 32) == 1;
        EVP_MD_CTX_free(mc);
    } else {
        EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(pkey, 0);

        ok = pc && EVP_PKEY_sign_init(pc) == 1
            && EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) == 1
            && EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) == 1
            && EVP_PKEY_sign(pc, sig, siglen, digest, 32) == 1;
        EVP_PKEY_CTX_free(pc);
    }
    return ok ? 0 : -1;
}

/* sig_tags - the tags of key K before b=, "\001" between them */
static void sig_tags(const struct dkim_eng_sign *s, const struct dkim_msg_key *k,
                     const char *bh, const char *h, struct strbuf *out)
{
    sb_printf(out, "v=1;\001a=%s;\001c=%s/%s;\001d=%s;\001s=%s;\001t=%lld;\001bh=%s;\001h=%s;\001b=",
              k->alg == DKIM_ALG_ED25519 ? "ed25519-sha256" : "rsa-sha256",
              s->e->hrelaxed ? "relaxed" : "simple", s->e->brelaxed ? "relaxed" : "simple",
              s->ks->domain, k->selector, (long long) time(0), bh, h);
}

/* header_digest - SHA-256 of BLOCK and of the canonical DKIM-Signature
 * field FIELD (its b= empty, no final CRLF: RFC 6376 3.7) */
static int header_digest(const struct dkim_eng_sign *s, const struct strbuf *block,
                         const char *field, unsigned char digest[32])
{
    struct strbuf c = STRBUF_INIT;
    unsigned int n = 0;
    int     ok;

    dkim_canon_header(s->e->hrelaxed, "DKIM-Signature", field, &c);
    ok = !sb_failed(&c) && c.len >= 2;
    if (ok) {
        EVP_MD_CTX *mc = EVP_MD_CTX_new();

        ok = mc && EVP_DigestInit_ex(mc, EVP_sha256(), 0) == 1
            && EVP_DigestUpdate(mc, block->s ? block->s : "", block->len) == 1
            && EVP_DigestUpdate(mc, c.s, c.len - 2) == 1
            && EVP_DigestFinal_ex(mc, digest, &n) == 1;
        EVP_MD_CTX_free(mc);
    }
    sb_free(&c);
    return ok ? 0 : -1;
}

/* unfold_lf - VALUE with its CRLF folds made LF, as a new string */
static char *unfold_lf(const char *value)
{
    char   *v = malloc(strlen(value) + 1), *o = v;

    for (; v && *value; value++)
        if (*value != '\r')
            *o++ = *value;
    if (v)
        *o = 0;
    return v;
}

/* last_b - just past the last "b=" of FIELD (the placeholder value and
 * the folds inside it hold none); NULL when there is none */
static char *last_b(char *field)
{
    char   *p = 0;

    for (char *q = strstr(field, "b="); q; q = strstr(q + 1, "b="))
        p = q + 2;
    return p;
}

/* sign_one - the DKIM-Signature value of key K into *OUT */
static int sign_one(const struct dkim_eng_sign *s, const struct dkim_msg_key *k,
                    const char *bh, const char *h, const struct strbuf *block, char **out)
{
    struct strbuf tags = STRBUF_INIT, f = STRBUF_INIT;
    unsigned char digest[32], sig[1024];
    size_t  siglen = (size_t) EVP_PKEY_get_size(k->pkey);
    int     bits = k->alg == DKIM_ALG_ED25519 ? 0 : EVP_PKEY_get_bits(k->pkey);
    char    dummy[sizeof(sig) / 3 * 4 + 8];
    char   *sb64 = 0, *cut;
    int     rc = -1;

    if (siglen == 0 || siglen > sizeof(sig))
        return -1;
    memset(dummy, 'A', (siglen + 2) / 3 * 4);
    dummy[(siglen + 2) / 3 * 4] = 0;
    sig_tags(s, k, bh, h, &tags);
    sb_puts(&f, "DKIM-Signature: ");
    dkim_eng_fold(sb_str(&tags), dummy, f.len, bits, &f);
    if (!sb_failed(&f) && !sb_failed(&tags) && (cut = last_b(f.s)) != 0) {
        *cut = 0;                               /* the field up to "b=" */
        if (header_digest(s, block, f.s + strlen("DKIM-Signature:"), digest) == 0
            && raw_sign(k, digest, sig, &siglen) == 0 && (sb64 = b64(sig, siglen)) != 0) {
            sb_reset(&f);
            dkim_eng_fold(sb_str(&tags), sb64, strlen("DKIM-Signature: "), bits, &f);
            rc = sb_failed(&f) || (*out = unfold_lf(sb_str(&f))) == 0 ? -1 : 0;
        }
    }
    free(sb64);
    sb_free(&tags);
    sb_free(&f);
    return rc;
}

int     dkim_eng_sign_eom(struct dkim_eng_sign *s, char *why, size_t whylen)
{
    struct strbuf h = STRBUF_INIT, block = STRBUF_INIT;
    unsigned char bh[32];
    char   *bh64 = 0;
    int     rc = -1;

    if (dkim_canon_body_final(&s->body, bh) != 0 || (bh64 = b64(bh, 32)) == 0) {
        snprintf(why, whylen, "body hash failed");
        return -1;
    }
    header_list(s, &h);
    if (dkim_canon_block(&s->hdr, s->e->hrelaxed, sb_str(&h), &block) == 0 && !sb_failed(&h) && !sb_failed(&block)) {
        rc = 0;
        for (size_t i = 0; i < s->ks->n && s->nsig < ENG_MAXKEYS && rc == 0; i++)
            if ((rc = sign_one(s, &s->ks->keys[i], bh64, sb_str(&h), &block,
                               &s->sighdr[s->nsig])) == 0)
                s->nsig++;
    }
    if (rc != 0)
        snprintf(why, whylen, "signing for %s failed in OpenSSL or out of memory",
                 s->ks->domain);
    free(bh64);
    sb_free(&h);
    sb_free(&block);
    return rc;
}

size_t  dkim_eng_sign_n(const struct dkim_eng_sign *s)
{
    return s->nsig;
}

const char *dkim_eng_sign_hdr(const struct dkim_eng_sign *s, size_t i)
{
    return i < s->nsig ? s->sighdr[i] : 0;
}

void    dkim_eng_sign_free(struct dkim_eng_sign *s)
{
    if (s == 0)
        return;
    dkim_eng_hdrs_free(&s->hdr);
    for (size_t i = 0; i < s->nsig; i++)
        free(s->sighdr[i]);
    dkim_canon_body_free(&s->body);
    free(s);
}
