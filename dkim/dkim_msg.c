/*
 * dkim_msg.c - sign and verify one message with libopendkim.
 *
 *   dkim_msg_lib_new/free      one DKIM_LIB configured from mx_conf
 *   dkim_msg_sign_new          one signing handle per key of a keyset
 *   dkim_msg_verify_new        one verifying handle
 *   dkim_msg_header/eoh/body   feed the message
 *   dkim_msg_eom               sign or verify; results by index afterwards
 *
 * Signing with several keys uses one libopendkim handle per key: the
 * library signs with exactly one key per handle.  Verification first checks
 * the tags of every DKIM-Signature itself (dkim_tags.c): at most
 * dkim_max_signatures signatures are judged, counted over every signature
 * (junk included), those past it are only counted; a signature whose tags
 * fail gets its result from the table in docs/MILTER.md (syntax: neutral,
 * unusable: permerror, rsa-sha1: policy) and libopendkim never looks its
 * key up (the prescreen callback marks it ignored, matched by its b=).
 *
 * Ownership: everything returned by dkim_msg_sighdr/dkim_msg_sig belongs to
 * the struct dkim_msg and dies with dkim_msg_free().
 *
 * Diagnostics: constructors and dkim_msg_eom return -1/NULL with a reason.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <opendkim/dkim.h>

#include "dkim_msg.h"
#include "dkim_tags.h"
#include "log.h"

#define MSG_MAXKEYS 8

struct dkim_msg_lib {
    DKIM_LIB *lib;
    void   *dns;                /* from dkim_msg_dns_plug, or NULL */
    int     max_sigs;
    dkim_canon_t hcanon;
    dkim_canon_t bcanon;
};

/* One DKIM-Signature as dkim_tags_parse saw it, and the library's copy. */
struct presig {
    enum dkim_tags_st st;
    char    why[64];
    char    d[254], s[64], a[24], b8[9];
    uint64_t bhash;
    DKIM_SIGINFO *lib;          /* matched by b= in prescreen; NULL = none */
};

struct dkim_msg {
    struct dkim_msg_lib *ml;
    int     signing;
    size_t  n;                  /* handles in use */
    DKIM   *h[MSG_MAXKEYS];
    char   *sighdr[MSG_MAXKEYS];
    size_t  nsig;
    struct dkim_msg_sig *sig;
    size_t  npre, nextra;       /* signatures judged; past the limit */
    struct presig *pre;         /* dkim_max_signatures of them */
};

/* list_to_array - a conf comma list as the NULL-terminated vector the
 * library wants; the caller frees the vector and its strings. */
static char **list_to_array(const char *list)
{
    const char *cur = list;
    char    item[128];
    size_t  n = 0;
    char  **v = calloc(64, sizeof(*v));

    while (v && n < 63 && conf_list_next(&cur, item, sizeof(item)))
        if ((v[n] = strdup(item)) != 0)
            n++;
    return v;
}

static void array_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* parse_canon - "relaxed/simple" into two library constants */
static void parse_canon(const char *text, dkim_canon_t *h, dkim_canon_t *b)
{
    const char *slash = strchr(text ? text : "", '/');

    *h = strncmp(text ? text : "", "simple", 6) == 0 ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED;
    *b = slash && strcmp(slash + 1, "simple") == 0 ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED;
}

/* match_pre - the first unmatched presig with good tags and the b= of SIG */
static struct presig *match_pre(struct dkim_msg *m, DKIM_SIGINFO *sig)
{
    const unsigned char *b = dkim_sig_gettagvalue(sig, 0, (unsigned char *) "b");
    uint64_t h;

    if (m == 0 || b == 0)
        return 0;
    h = dkim_tags_bhash((const char *) b, strlen((const char *) b));
    for (size_t i = 0; i < m->npre; i++)
        if (m->pre[i].st == DKIM_TAGS_OK && m->pre[i].lib == 0 && m->pre[i].bhash == h)
            return &m->pre[i];
    return 0;
}

/* prescreen - verify only the signatures whose tags passed dkim_tags_parse
 * within dkim_max_signatures; ignore the rest (no key lookup) */
static DKIM_CBSTAT prescreen(DKIM *dkim, DKIM_SIGINFO **sigs, int nsigs)
{
    struct dkim_msg *m = dkim_get_user_context(dkim);

    for (int i = 0; i < nsigs; i++) {
        struct presig *p = match_pre(m, sigs[i]);

        if (p)
            p->lib = sigs[i];
        else
            dkim_sig_ignore(sigs[i]);
    }
    return DKIM_CBSTAT_CONTINUE;
}

static int set_list_option(DKIM_LIB *lib, int opt, const char *list)
{
    char  **v = list_to_array(list);
    int     st;

    if (v == 0)
        return -1;
    st = dkim_options(lib, DKIM_OP_SETOPT, opt, v, sizeof(v));
    array_free(v);              /* the library compiles its own copy */
    return st == DKIM_STAT_OK ? 0 : -1;
}

static int lib_options(struct dkim_msg_lib *ml, const struct mx_conf *c, const char *keyfile)
{
    unsigned int flags = DKIM_LIBFLAGS_FIXCRLF | DKIM_LIBFLAGS_BADSIGHANDLES;
    unsigned int bits = (unsigned int) c->dkim_min_key_bits;
    unsigned int tmo = (unsigned int) c->dns_timeout;
    dkim_query_t q = DKIM_QUERY_FILE;

    if (dkim_options(ml->lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof(flags))
        || dkim_options(ml->lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &bits, sizeof(bits))
        || dkim_options(ml->lib, DKIM_OP_SETOPT, DKIM_OPTS_TIMEOUT, &tmo, sizeof(tmo))
        || set_list_option(ml->lib, DKIM_OPTS_SIGNHDRS, c->dkim_sign_headers)
        || set_list_option(ml->lib, DKIM_OPTS_OVERSIGNHDRS, c->dkim_oversign_headers))
        return -1;
    if (keyfile) {
        if (dkim_options(ml->lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYMETHOD, &q, sizeof(q))
            || dkim_options(ml->lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYINFO,
                            (void *) keyfile, strlen(keyfile) + 1))
            return -1;
    }
    return dkim_set_prescreen(ml->lib, prescreen) == DKIM_STAT_OK ? 0 : -1;
}

struct dkim_msg_lib *dkim_msg_lib_new(const struct mx_conf *c, const char *keyfile,
                                      char *why, size_t whylen)
{
    struct dkim_msg_lib *ml = calloc(1, sizeof(*ml));

    if (ml == 0 || (ml->lib = dkim_init(NULL, NULL)) == 0) {
        snprintf(why, whylen, "dkim_init failed");
        free(ml);
        return 0;
    }
    ml->max_sigs = (int) c->dkim_max_signatures;
    parse_canon(c->dkim_canonicalization, &ml->hcanon, &ml->bcanon);
    if (lib_options(ml, c, keyfile) != 0) {
        snprintf(why, whylen, "libopendkim refused an option (sign or oversign headers?)");
        dkim_msg_lib_free(ml);
        return 0;
    }
    if (keyfile == 0
        && (ml->dns = dkim_msg_dns_plug(ml->lib, c->dns_resolver, c->dns_timeout,
                                        why, whylen)) == 0) {
        dkim_msg_lib_free(ml);
        return 0;
    }
    return ml;
}

void    dkim_msg_lib_free(struct dkim_msg_lib *ml)
{
    if (ml == 0)
        return;
    if (ml->lib)
        dkim_close(ml->lib);
    dkim_msg_dns_free(ml->dns);
    free(ml);
}

struct dkim_msg *dkim_msg_sign_new(struct dkim_msg_lib *ml, const char *jobid,
                                   const struct dkim_keyset *ks, char *why, size_t whylen)
{
    struct dkim_msg *m = calloc(1, sizeof(*m));

    if (m == 0) {
        snprintf(why, whylen, "out of memory");
        return 0;
    }
    m->ml = ml;
    m->signing = 1;
    for (size_t i = 0; i < ks->n && m->n < MSG_MAXKEYS; i++) {
        const struct dkim_msg_key *k = &ks->keys[i];
        DKIM_STAT st = DKIM_STAT_OK;
        dkim_alg_t alg = k->alg == DKIM_ALG_ED25519 ? DKIM_SIGN_ED25519SHA256
            : DKIM_SIGN_RSASHA256;
        DKIM   *h = dkim_sign(ml->lib, (const unsigned char *) jobid, NULL,
                              (dkim_sigkey_t) k->pem, (const unsigned char *) k->selector,
                              (const unsigned char *) ks->domain, ml->hcanon, ml->bcanon,
                              alg, -1, &st);

        if (h == 0) {
            snprintf(why, whylen, "dkim_sign %s/%s: %s", ks->domain, k->selector,
                     dkim_getresultstr(st));
            dkim_msg_free(m);
            return 0;
        }
        m->h[m->n++] = h;
    }
    return m;
}

struct dkim_msg *dkim_msg_verify_new(struct dkim_msg_lib *ml, const char *jobid,
                                     char *why, size_t whylen)
{
    struct dkim_msg *m = calloc(1, sizeof(*m));
    DKIM_STAT st = DKIM_STAT_OK;

    if (m == 0) {
        snprintf(why, whylen, "out of memory");
        return 0;
    }
    m->ml = ml;
    if ((m->pre = calloc((size_t) ml->max_sigs, sizeof(*m->pre))) == 0) {
        snprintf(why, whylen, "out of memory");
        free(m);
        return 0;
    }
    if ((m->h[0] = dkim_verify(ml->lib, (const unsigned char *) jobid, NULL, &st)) == 0) {
        snprintf(why, whylen, "dkim_verify: %s", dkim_getresultstr(st));
        free(m->pre);
        free(m);
        return 0;
    }
    m->n = 1;
    dkim_set_user_context(m->h[0], m);
    return m;
}

/* pre_add - judge the tags of one DKIM-Signature being verified, or count
 * it past dkim_max_signatures */
static void pre_add(struct dkim_msg *m, const char *value)
{
    struct dkim_tags t;
    struct presig *p;

    if (m->npre >= (size_t) m->ml->max_sigs) {
        m->nextra++;
        return;
    }
    p = &m->pre[m->npre++];
    p->st = dkim_tags_parse(value, time(NULL), &t);
    snprintf(p->why, sizeof(p->why), "%s", t.why);
    snprintf(p->d, sizeof(p->d), "%s", t.d);
    snprintf(p->s, sizeof(p->s), "%s", t.s);
    snprintf(p->a, sizeof(p->a), "%s", t.a);
    snprintf(p->b8, sizeof(p->b8), "%s", t.b8);
    p->bhash = t.bhash;
}

/* dkim_msg_header - "NAME:VALUE" to every handle.  The library wants CRLF
 * between folded lines and does not fix a bare LF here (FIXCRLF covers the
 * body only), while MTAs hand folded values over with LF. */
int     dkim_msg_header(struct dkim_msg *m, const char *name, const char *value)
{
    size_t  nl = strlen(name), vl = strlen(value), o;
    char   *line = malloc(nl + 2 * vl + 2);
    int     rc = 0;

    if (line == 0)
        return -1;
    memcpy(line, name, nl);
    line[nl] = ':';
    o = nl + 1;
    for (size_t i = 0; i < vl; i++) {
        if (value[i] == '\n' && (i == 0 || value[i - 1] != '\r'))
            line[o++] = '\r';
        line[o++] = value[i];
    }
    line[o] = 0;
    if (!m->signing && strcasecmp(name, "DKIM-Signature") == 0)
        pre_add(m, value);
    for (size_t i = 0; i < m->n; i++)
        if (dkim_header(m->h[i], (unsigned char *) line, o) != DKIM_STAT_OK)
            rc = -1;            /* a malformed header: the result will say so */
    free(line);
    return rc;
}

int     dkim_msg_eoh(struct dkim_msg *m)
{
    int     rc = 0;

    for (size_t i = 0; i < m->n; i++) {
        DKIM_STAT st = dkim_eoh(m->h[i]);

        if (st != DKIM_STAT_OK && st != DKIM_STAT_NOSIG)
            rc = -1;
    }
    return rc;
}

int     dkim_msg_body(struct dkim_msg *m, const unsigned char *buf, size_t len)
{
    int     rc = 0;

    for (size_t i = 0; i < m->n; i++)
        if (dkim_body(m->h[i], (unsigned char *) buf, len) != DKIM_STAT_OK)
            rc = -1;
    return rc;
}

/* sign_eom - finish every signing handle and keep its header value */
static int sign_eom(struct dkim_msg *m, char *why, size_t whylen)
{
    for (size_t i = 0; i < m->n; i++) {
        unsigned char *hdr = 0;
        size_t  len = 0;
        DKIM_STAT st = dkim_eom(m->h[i], NULL);

        if (st == DKIM_STAT_OK)
            st = dkim_getsighdr_d(m->h[i], strlen("DKIM-Signature: "), &hdr, &len);
        if (st != DKIM_STAT_OK || hdr == 0) {
            snprintf(why, whylen, "signing: %s (%.100s)", dkim_getresultstr(st),
                     dkim_geterror(m->h[i]) ? dkim_geterror(m->h[i]) : "");
            return -1;
        }
        if ((m->sighdr[i] = malloc(len + 1)) == 0) {
            snprintf(why, whylen, "out of memory");
            return -1;
        }
        /* the library folds with CRLF; a milter header value wants LF */
        size_t  o = 0;

        for (size_t j = 0; j < len; j++)
            if (hdr[j] != '\r')
                m->sighdr[i][o++] = (char) hdr[j];
        m->sighdr[i][o] = 0;
    }
    return 0;
}

/* sig_error_res - the RFC 8601 result for a signature that did not pass */
static enum dkim_msg_res sig_error_res(int err, int bh)
{
    switch (err) {
    case DKIM_SIGERROR_KEYFAIL:
        return DKIM_MSG_TEMPERROR;
    case DKIM_SIGERROR_NOKEY: case DKIM_SIGERROR_DNSSYNTAX: case DKIM_SIGERROR_MULTIREPLY:
    case DKIM_SIGERROR_KEYVERSION: case DKIM_SIGERROR_KEYUNKNOWNHASH:
    case DKIM_SIGERROR_KEYHASHMISMATCH: case DKIM_SIGERROR_NOTEMAILKEY:
    case DKIM_SIGERROR_KEYTYPEMISSING: case DKIM_SIGERROR_KEYTYPEUNKNOWN:
    case DKIM_SIGERROR_KEYREVOKED: case DKIM_SIGERROR_KEYDECODE:
        return DKIM_MSG_PERMERROR;
    case DKIM_SIGERROR_BADSIG: case DKIM_SIGERROR_KEYTOOSMALL:
        return DKIM_MSG_FAIL;
    case DKIM_SIGERROR_OK:
        return bh == DKIM_SIGBH_MISMATCH ? DKIM_MSG_FAIL : DKIM_MSG_NEUTRAL;
    default:
        return DKIM_MSG_NEUTRAL;
    }
}

/* tags_res - the result of a signature whose tags did not pass */
static enum dkim_msg_res tags_res(enum dkim_tags_st st)
{
    return st == DKIM_TAGS_REFUSED ? DKIM_MSG_POLICY : st == DKIM_TAGS_SYNTAX ? DKIM_MSG_NEUTRAL
        : DKIM_MSG_PERMERROR;
}

/* sig_describe - fill OUT from one judged signature P: its tags, and the
 * library's verdict when the tags passed */
static void sig_describe(DKIM *h, const struct presig *p, struct dkim_msg_sig *out)
{
    DKIM_SIGINFO *sig = p->lib;
    unsigned int bits = 0;

    memset(out, 0, sizeof(*out));
    snprintf(out->d, sizeof(out->d), "%s", p->d);
    snprintf(out->s, sizeof(out->s), "%s", p->s);
    snprintf(out->a, sizeof(out->a), "%s", p->a);
    snprintf(out->b, sizeof(out->b), "%s", p->b8);
    if (p->st != DKIM_TAGS_OK || sig == 0) {
        out->res = p->st != DKIM_TAGS_OK ? tags_res(p->st) : DKIM_MSG_PERMERROR;
        snprintf(out->why, sizeof(out->why), "%s", sig ? p->why : p->st != DKIM_TAGS_OK
                 ? p->why : "signature not accepted by the verifier");
        return;
    }
    if (!(dkim_sig_getflags(sig) & DKIM_SIGFLAG_PROCESSED))
        (void) dkim_sig_process(h, sig);
    if (dkim_sig_getkeysize(sig, &bits) == DKIM_STAT_OK)
        out->bits = (int) bits;
    if (out->bits == 0 && strcmp(p->a, "ed25519-sha256") == 0)
        out->bits = 256;        /* the library reports no size for Ed25519 */
    if ((dkim_sig_getflags(sig) & DKIM_SIGFLAG_PASSED) && dkim_sig_getbh(sig) == DKIM_SIGBH_MATCH) {
        out->res = DKIM_MSG_PASS;
        return;
    }
    out->res = sig_error_res(dkim_sig_geterror(sig), dkim_sig_getbh(sig));
    snprintf(out->why, sizeof(out->why), "%s",
             dkim_sig_geterror(sig) == DKIM_SIGERROR_OK ? "body hash mismatch"
             : dkim_sig_geterrorstr(dkim_sig_geterror(sig)));
}

static int verify_eom(struct dkim_msg *m, char *why, size_t whylen)
{
    DKIM_STAT st = dkim_eom(m->h[0], NULL);

    if (st == DKIM_STAT_NORESOURCE || st == DKIM_STAT_INTERNAL) {
        snprintf(why, whylen, "verifying: %s", dkim_getresultstr(st));
        return -1;
    }
    if (m->npre == 0)
        return 0;
    if ((m->sig = calloc(m->npre, sizeof(*m->sig))) == 0) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < m->npre; i++)
        sig_describe(m->h[0], &m->pre[i], &m->sig[m->nsig++]);
    return 0;
}

int     dkim_msg_eom(struct dkim_msg *m, char *why, size_t whylen)
{
    return m->signing ? sign_eom(m, why, whylen) : verify_eom(m, why, whylen);
}

size_t  dkim_msg_nsighdr(const struct dkim_msg *m)
{
    return m->signing ? m->n : 0;
}

const char *dkim_msg_sighdr(const struct dkim_msg *m, size_t i)
{
    return m->signing && i < m->n ? m->sighdr[i] : 0;
}

size_t  dkim_msg_nsig(const struct dkim_msg *m)
{
    return m->nsig;
}

size_t  dkim_msg_nextra(const struct dkim_msg *m)
{
    return m->nextra;
}

const struct dkim_msg_sig *dkim_msg_sig(const struct dkim_msg *m, size_t i)
{
    return i < m->nsig ? &m->sig[i] : 0;
}

void    dkim_msg_free(struct dkim_msg *m)
{
    if (m == 0)
        return;
    for (size_t i = 0; i < m->n; i++) {
        dkim_free(m->h[i]);
        free(m->sighdr[i]);
    }
    free(m->sig);
    free(m->pre);
    free(m);
}

const char *dkim_msg_res_name(enum dkim_msg_res r)
{
    static const char *const names[] = {
        "none", "pass", "fail", "neutral", "policy", "temperror", "permerror"
    };

    return (unsigned) r < sizeof(names) / sizeof(names[0]) ? names[r] : "none";
}
