/*
 * dkim_eng_verify.c - mxdock's DKIM verifier (RFC 6376 6, RFC 8463).
 *
 *   dkim_eng_verify_new      one message
 *   dkim_eng_verify_header   keep one header
 *   dkim_eng_verify_eoh      parse the DKIM-Signature fields, set up one
 *                            body hash per (canonicalization, l=) in use,
 *                            look the keys up (where libopendkim does)
 *   dkim_eng_verify_body     body chunks into those hashes
 *   dkim_eng_verify_eom      keys, header hashes, signatures: the results
 *   dkim_eng_verify_n/sig    the results, in the order of the fields
 *   dkim_eng_verify_free     release it
 *
 * The first dkim_max_signatures DKIM-Signature fields are judged, junk
 * included, the others only counted (as dkim_msg.c does for libopendkim).
 * Each field's tags are parsed and checked by dkim_tags.c (RFC 6376 3.2,
 * 3.5, 6.1.1); one that does not pass gets its result from the table of
 * docs/MILTER.md (syntax neutral, unusable permerror, rsa-sha1 policy) and
 * no key lookup.  A key problem is a permerror, or a temperror when DNS
 * failed (6.1.2); a bad signature or body hash, or an RSA key under
 * dkim_min_key_bits, is a fail (6.1.3).  Key reasons use libopendkim's words.
 *
 * Ownership: the handle owns its results.  Diagnostics: -1 only on ENOMEM.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "dkim_eng.h"
#include "dkim_tags.h"

#define VERIFY_MAXCANON 8

struct vsig {
    struct dkim_msg_sig out;
    int     done;               /* result already decided (tags, policy) */
    int     ed25519;
    int     hrelaxed, brelaxed;
    long long l;                /* -1 = whole body */
    char   *h;                  /* h= */
    unsigned char bh[64], b[1024];
    long    blen;
    size_t  hidx;               /* the field among the headers */
    int     canon;              /* its body hash */
    char    idom[256];          /* domain of i=, "" when none */
    struct dkim_eng_pubkey key; /* looked up at the end of the headers */
};

struct vcanon {
    int     relaxed;
    long long l;
    struct dkim_canon_body cb;
    unsigned char hash[32];
};

struct dkim_eng_verify {
    const struct dkim_eng *e;
    struct dkim_eng_hdrs hdr;
    size_t  nsig, nextra;       /* judged; past dkim_max_signatures */
    struct vsig *sig;
    size_t  ncanon;
    struct vcanon canon[VERIFY_MAXCANON];
    struct dkim_msg_sig *res;   /* the results, one array (dkim_msg.h) */
};

struct dkim_eng_verify *dkim_eng_verify_new(const struct dkim_eng *e, char *why, size_t whylen)
{
    struct dkim_eng_verify *v = calloc(1, sizeof(*v));

    if (v == 0)
        snprintf(why, whylen, "out of memory");
    else
        v->e = e;
    return v;
}

int     dkim_eng_verify_header(struct dkim_eng_verify *v, const char *name, const char *value)
{
    return dkim_eng_hdrs_add(&v->hdr, name, value);
}

/* bad - decide S as RES with WHY */
static int bad(struct vsig *s, enum dkim_msg_res res, const char *why)
{
    s->out.res = res;
    snprintf(s->out.why, sizeof(s->out.why), "%s", why);
    s->done = 1;
    return -1;
}

/* parse_canon - c= (known: dkim_tags.c checked it) into S */
static void parse_canon(const char *c, struct vsig *s)
{
    const char *slash = c ? strchr(c, '/') : 0;

    s->hrelaxed = c && strncmp(c, "relaxed", 7) == 0;
    s->brelaxed = slash && strcmp(slash + 1, "relaxed") == 0;
}

/* values - what the verifier needs of tags T that passed dkim_tags.c:
 * b= bh= h= l= i= c= decoded (RFC 6376 3.5) */
static int values(struct vsig *s, const struct dkim_tags *t)
{
    char    buf[4096], c[32];
    const char *l, *i;

    s->ed25519 = strcmp(s->out.a, "ed25519-sha256") == 0;
    /* b= and bh= passed dkim_tags.c's base64 check; one that still does
     * not decode (a length that is no multiple of 4) cannot match: a bad
     * signature or body hash, as libopendkim (which decodes leniently) says */
    if (dkim_eng_tagstr(t, "b", buf, sizeof(buf)) == 0
        || (s->blen = dkim_b64_decode(buf, s->b, sizeof(s->b))) < 0)
        s->blen = 0;
    if (dkim_eng_tagstr(t, "bh", buf, sizeof(buf)) != 0)
        (void) dkim_b64_decode(buf, s->bh, sizeof(s->bh));
    if (dkim_eng_tagstr(t, "h", buf, sizeof(buf)) == 0 || (s->h = strdup(buf)) == 0)
        return bad(s, DKIM_MSG_PERMERROR, "header list too long");
    l = dkim_eng_tagstr(t, "l", c, sizeof(c));
    s->l = l == 0 ? -1 : strlen(l) > 18 ? 999999999999999999LL : atoll(l);
    i = dkim_eng_tagstr(t, "i", buf, sizeof(buf));
    if (i && strrchr(i, '@'))
        snprintf(s->idom, sizeof(s->idom), "%s", strrchr(i, '@') + 1);
    parse_canon(dkim_eng_tagstr(t, "c", c, sizeof(c)), s);
    return 0;
}

/* tags_res - the result of a field dkim_tags.c did not pass (the table of
 * docs/MILTER.md: syntax neutral, unusable permerror, rsa-sha1 policy) */
static enum dkim_msg_res tags_res(enum dkim_tags_st st)
{
    return st == DKIM_TAGS_REFUSED ? DKIM_MSG_POLICY : st == DKIM_TAGS_SYNTAX ? DKIM_MSG_NEUTRAL
        : DKIM_MSG_PERMERROR;
}

/* canon_for - the body hash of (RELAXED, L), made on first use */
static int canon_for(struct dkim_eng_verify *v, int relaxed, long long l)
{
    for (size_t i = 0; i < v->ncanon; i++)
        if (v->canon[i].relaxed == relaxed && v->canon[i].l == l)
            return (int) i;
    if (v->ncanon == VERIFY_MAXCANON
        || dkim_canon_body_init(&v->canon[v->ncanon].cb, relaxed, l) != 0)
        return -1;
    v->canon[v->ncanon].relaxed = relaxed;
    v->canon[v->ncanon].l = l;
    return (int) v->ncanon++;
}

/* setup - one DKIM-Signature field (header I) into a new result */
static void setup(struct dkim_eng_verify *v, size_t i)
{
    struct vsig *s = &v->sig[v->nsig++];
    struct dkim_tags t;
    enum dkim_tags_st st = dkim_tags_parse(v->hdr.value[i], time(0), &t);

    memset(s, 0, sizeof(*s));
    s->hidx = i;
    s->canon = -1;
    snprintf(s->out.d, sizeof(s->out.d), "%s", t.d);
    snprintf(s->out.s, sizeof(s->out.s), "%s", t.s);
    snprintf(s->out.a, sizeof(s->out.a), "%s", t.a);
    snprintf(s->out.b, sizeof(s->out.b), "%s", t.b8);
    if (st != DKIM_TAGS_OK)
        (void) bad(s, tags_res(st), t.why);
    else if (values(s, &t) == 0 && (s->canon = canon_for(v, s->brelaxed, s->l)) < 0)
        (void) bad(s, DKIM_MSG_TEMPERROR, "too many body canonicalizations");
}

/* dkim_eng_verify_eoh - the first dkim_max_signatures DKIM-Signature
 * fields (junk included) judged, the others only counted */
int     dkim_eng_verify_eoh(struct dkim_eng_verify *v)
{
    size_t  max = (size_t) dkim_eng_max_sigs(v->e);

    if ((v->sig = calloc(max ? max : 1, sizeof(*v->sig))) == 0)
        return -1;
    for (size_t i = 0; i < v->hdr.n; i++)
        if (strcasecmp(v->hdr.name[i], "DKIM-Signature") == 0) {
            if (v->nsig < max)
                setup(v, i);
            else
                v->nextra++;
        }
    for (size_t i = 0; i < v->nsig; i++)        /* keys now, as libopendkim: */
        if (!v->sig[i].done)                    /* the milter's DNS budget */
            dkim_eng_key_get(dkim_eng_keys_of(v->e), v->sig[i].out.s,   /* step "eoh" */
                             v->sig[i].out.d, &v->sig[i].key);
    return 0;
}

size_t  dkim_eng_verify_nextra(const struct dkim_eng_verify *v)
{
    return v->nextra;
}

int     dkim_eng_verify_body(struct dkim_eng_verify *v, const unsigned char *p, size_t len)
{
    int     rc = 0;

    for (size_t i = 0; i < v->ncanon; i++)
        rc |= dkim_canon_body_update(&v->canon[i].cb, p, len);
    return rc;
}

/* strip_b - VALUE with the value of its b= tag removed (3.7); NULL on ENOMEM */
static char *strip_b(const char *value)
{
    char   *out = malloc(strlen(value) + 1), *o = out;
    const char *p = value;

    while (out && *p) {
        const char *t = p + strspn(p, " \t\r\n"), *n = t;

        while (isalnum((unsigned char) *n) || *n == '_')
            n++;
        const char *eq = n + strspn(n, " \t\r\n");
        size_t  len = strcspn(p, ";");

        if (n - t == 1 && *t == 'b' && *eq == '=') {
            memcpy(o, p, (size_t) (eq + 1 - p));
            o += eq + 1 - p;
        } else {
            memcpy(o, p, len);
            o += len;
        }
        p += len;
        if (*p == ';')
            *o++ = *p++;
    }
    if (out)
        *o = 0;
    return out;
}

/* header_digest - SHA-256 of the h= headers and of the field itself */
static int header_digest(const struct dkim_eng_verify *v, const struct vsig *s,
                         unsigned char d[32])
{
    struct strbuf block = STRBUF_INIT;
    char   *field = strip_b(v->hdr.value[s->hidx]);
    unsigned int n = 0;
    int     ok;

    ok = field && dkim_canon_block(&v->hdr, s->hrelaxed, s->h, &block) == 0;
    if (ok) {
        dkim_canon_header(s->hrelaxed, v->hdr.name[s->hidx], field, &block);
        ok = !sb_failed(&block) && block.len >= 2
            && EVP_Digest(block.s, block.len - 2, d, &n, EVP_sha256(), 0) == 1;
    }
    free(field);
    sb_free(&block);
    return ok ? 0 : -1;
}

/* sig_ok - does the signature of S verify under K over digest D */
static int sig_ok(const struct vsig *s, const struct dkim_eng_pubkey *k, const unsigned char *d)
{
    int     ok = 0;

    if (s->ed25519) {
        EVP_MD_CTX *mc = EVP_MD_CTX_new();

        ok = mc && EVP_DigestVerifyInit(mc, 0, 0, 0, k->pkey) == 1
            && EVP_DigestVerify(mc, s->b, (size_t) s->blen, d, 32) == 1;
        EVP_MD_CTX_free(mc);
    } else {
        EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(k->pkey, 0);

        ok = pc && EVP_PKEY_verify_init(pc) == 1
            && EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) == 1
            && EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) == 1
            && EVP_PKEY_verify(pc, s->b, (size_t) s->blen, d, 32) == 1;
        EVP_PKEY_CTX_free(pc);
    }
    return ok;
}

/* check - the result of one well-formed signature */
static void check(struct dkim_eng_verify *v, struct vsig *s)
{
    const struct dkim_eng_pubkey k = s->key;
    unsigned char d[32];
    const struct vcanon *c = &v->canon[s->canon];

    if (k.status != DKIM_KEY_OK)
        (void) bad(s, k.status == DKIM_KEY_TEMP ? DKIM_MSG_TEMPERROR : DKIM_MSG_PERMERROR, k.why);
    else if (k.ed25519 != s->ed25519)
        (void) bad(s, DKIM_MSG_PERMERROR, "key type mismatch");
    else if (k.strict && s->idom[0] && strcasecmp(s->idom, s->out.d) != 0)
        (void) bad(s, DKIM_MSG_PERMERROR, "unauthorized subdomain");
    else if ((s->out.bits = k.bits) < dkim_eng_min_bits(v->e) && !s->ed25519)
        (void) bad(s, DKIM_MSG_FAIL, "signing key too small");
    else if (header_digest(v, s, d) != 0)
        (void) bad(s, DKIM_MSG_TEMPERROR, "out of memory");
    else if (!sig_ok(s, &k, d))
        (void) bad(s, DKIM_MSG_FAIL, "signature verification failed");
    else if (c->l >= 0 && c->cb.wrote < (unsigned long long) c->l)
        (void) bad(s, DKIM_MSG_PERMERROR, "length tag value exceeds body size");
    else if (memcmp(c->hash, s->bh, 32) != 0)
        (void) bad(s, DKIM_MSG_FAIL, "body hash mismatch");
    else
        s->out.res = DKIM_MSG_PASS;
}

int     dkim_eng_verify_eom(struct dkim_eng_verify *v, char *why, size_t whylen)
{
    for (size_t i = 0; i < v->ncanon; i++)
        if (dkim_canon_body_final(&v->canon[i].cb, v->canon[i].hash) != 0) {
            snprintf(why, whylen, "body hash failed");
            return -1;
        }
    if (v->nsig && (v->res = calloc(v->nsig, sizeof(*v->res))) == 0) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < v->nsig; i++) {
        if (!v->sig[i].done)
            check(v, &v->sig[i]);
        v->res[i] = v->sig[i].out;
    }
    return 0;
}

size_t  dkim_eng_verify_n(const struct dkim_eng_verify *v)
{
    return v->nsig;
}

const struct dkim_msg_sig *dkim_eng_verify_sig(const struct dkim_eng_verify *v, size_t i)
{
    return v->res && i < v->nsig ? &v->res[i] : 0;
}

void    dkim_eng_verify_free(struct dkim_eng_verify *v)
{
    if (v == 0)
        return;
    for (size_t i = 0; i < v->nsig; i++) {
        free(v->sig[i].h);
        EVP_PKEY_free(v->sig[i].key.pkey);
    }
    free(v->sig);
    free(v->res);
    for (size_t i = 0; i < v->ncanon; i++)
        dkim_canon_body_free(&v->canon[i].cb);
    dkim_eng_hdrs_free(&v->hdr);
    free(v);
}
