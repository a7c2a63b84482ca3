/*
 * test_dkim_eng - mxdock's DKIM engine (dkim/dkim_canon.c, dkim_eng_sign.c)
 * against the RFC and against libopendkim:
 *
 *  - body canonicalization: the canonical text of each case is written out
 *    by hand from RFC 6376 3.4.3-3.4.5 (not computed), hashed, and
 *    compared with the engine fed the whole body and fed byte by byte;
 *  - header canonicalization: the RFC 6376 3.4.5 example;
 *  - the DKIM-Signature field of both engines for the same message, with
 *    t= and b= masked, is the same text (folded as libopendkim folds it),
 *    and the body hashes agree;
 *  - four threads signing at once with the one shared keyset (parsed keys
 *    read by all): every signature verifies with libopendkim;
 *  - an 8 MB body is signed without the process growing by its size.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <openssl/evp.h>

#include "conf.h"
#include "dkim.h"
#include "dkim_eng.h"
#include "dkim_msg.h"
#include "t.h"
#include "t_keyfile.h"

/* libopendkim loses its parsed Ed25519 key in every dkim_sign() (issue 16
 * measured it): its leaks are suppressed by name, with full stacks so that
 * one of OpenSSL's objects made by mxdock's engine would still show */
const char *__asan_default_options(void);
const char *__lsan_default_suppressions(void);

const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}

const char *__lsan_default_suppressions(void)
{
    return "leak:dkim_privkey_load\nleak:libopendkim.so\n";
}

/* RFC 6376 3.4.5 body, and the corner cases of 3.4.3 / 3.4.4 */
static const struct {
    const char *name;
    int     relaxed;
    long long limit;
    const char *in, *want;
} bodies[] = {
    {"3.4.5 relaxed", 1, -1, " C \r\nD \t E\r\n\r\n\r\n", " C\r\nD E\r\n"},
    {"3.4.5 simple", 0, -1, " C \r\nD \t E\r\n\r\n\r\n", " C \r\nD \t E\r\n"},
    {"empty relaxed", 1, -1, "", ""},
    {"empty simple", 0, -1, "", "\r\n"},
    {"only CRLFs relaxed", 1, -1, "\r\n\r\n\r\n", ""},
    {"only CRLFs simple", 0, -1, "\r\n\r\n\r\n", "\r\n"},
    {"white-space lines at the end relaxed", 1, -1, "a\r\n \t\r\n\r\n", "a\r\n"},
    {"white-space lines at the end simple", 0, -1, "a\r\n \t\r\n\r\n", "a\r\n \t\r\n"},
    {"no final CRLF relaxed", 1, -1, "a\r\nb", "a\r\nb\r\n"},
    {"no final CRLF simple", 0, -1, "a\r\nb", "a\r\nb\r\n"},
    {"unterminated white space relaxed", 1, -1, "a\r\nb  ", "a\r\nb\r\n"},
    {"bare LF is CRLF", 0, -1, "a\nb\n\n", "a\r\nb\r\n"},
    {"bare CR is text", 0, -1, "a\rb\r\n", "a\rb\r\n"},
    {"leading space relaxed", 1, -1, "  a  b\t\r\n", " a b\r\n"},
    {"8-bit relaxed", 1, -1, "\xc3\xa9 \xff\r\n", "\xc3\xa9 \xff\r\n"},
    {"l=3 relaxed", 1, 3, "abc def\r\n", "abc"},
    {"l=0", 1, 0, "abc\r\n", ""},
};

static void digest_of(const char *text, size_t len, unsigned char out[32])
{
    EVP_Digest(text, len, out, 0, EVP_sha256(), 0);
}

/* body_hash - the engine's hash of IN fed in chunks of STEP (0 = whole) */
static int body_hash(int relaxed, long long limit, const char *in, size_t step,
                     unsigned char out[32])
{
    struct dkim_canon_body cb;
    size_t  len = strlen(in);
    int     rc = dkim_canon_body_init(&cb, relaxed, limit);

    for (size_t o = 0; rc == 0 && o < len; o += step ? step : len)
        rc = dkim_canon_body_update(&cb, (const unsigned char *) in + o,
                                    step && step < len - o ? step : len - o);
    rc |= dkim_canon_body_final(&cb, out);
    dkim_canon_body_free(&cb);
    return rc;
}

static void test_bodies(void)
{
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        unsigned char want[32], whole[32], bytes[32];
        char    name[128];

        digest_of(bodies[i].want, strlen(bodies[i].want), want);
        T_INT(bodies[i].name, body_hash(bodies[i].relaxed, bodies[i].limit, bodies[i].in, 0,
                                        whole), 0);
        (void) body_hash(bodies[i].relaxed, bodies[i].limit, bodies[i].in, 1, bytes);
        snprintf(name, sizeof(name), "%s: hash of the canonical text", bodies[i].name);
        T_INT(name, memcmp(whole, want, 32), 0);
        snprintf(name, sizeof(name), "%s: byte by byte the same", bodies[i].name);
        T_INT(name, memcmp(bytes, want, 32), 0);
    }
}

static void test_headers(void)
{
    static const struct {
        int     relaxed;
        const char *name, *value, *want;
    } h[] = {
        {1, "A", " X", "a:X\r\n"},
        {1, "B ", " Y\t\n\tZ  ", "b:Y Z\r\n"},
        {0, "B ", " Y\t\n\tZ  ", "B : Y\t\r\n\tZ  \r\n"},
        {0, "Subject", " a\r\n b", "Subject: a\r\n b\r\n"},
        {1, "SUBJECT", "  a \r\n\t b ", "subject:a b\r\n"},
    };

    for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
        struct strbuf sb = STRBUF_INIT;
        char    name[64];

        dkim_canon_header(h[i].relaxed, h[i].name, h[i].value, &sb);
        snprintf(name, sizeof(name), "header %zu (%s)", i, h[i].relaxed ? "relaxed" : "simple");
        T_STR(name, sb_str(&sb), h[i].want);
        sb_free(&sb);
    }
}

/* mask - HDR with the values of t= and b= replaced by '*', so two
 * signatures made at different times with different keys compare */
static void mask(char *hdr)
{
    for (char *p = hdr; *p; p++) {
        if (!((p[0] == 't' || p[0] == 'b') && p[1] == '='
              && (p == hdr || p[-1] == ' ' || p[-1] == '\t')))
            continue;
        for (p += 2; *p && *p != ';'; p++)
            if (*p != '\n' && *p != '\t' && *p != ' ')
                *p = '*';
        if (*p == 0)
            break;
    }
}

/* sign_with - the signature values of KS for a fixed message, by ENGINE */
static int sign_with(struct mx_conf *c, const char *engine, const struct dkim_keyset *ks,
                     char **out)
{
    static const char *const h[][2] = {
        {"From", " Alice <alice@example.test>"}, {"To", " bob@example.org"},
        {"Subject", " a subject long enough\n\tto be folded"}, {"To", " carol@example.org"},
        {"Date", " Sat, 21 Nov 2026 12:00:00 +0000"}, {"Message-ID", " <1@example.test>"},
    };
    char    why[256];
    struct dkim_msg_lib *lib;
    struct dkim_msg *m;

    c->dkim_engine = (char *) engine;
    if ((lib = dkim_msg_lib_new(c, "/dev/null", why, sizeof(why))) == 0
        || (m = dkim_msg_sign_new(lib, "t", ks, why, sizeof(why))) == 0)
        return printf("# %s\n", why), -1;
    for (size_t i = 0; i < 6; i++)
        dkim_msg_header(m, h[i][0], h[i][1]);
    dkim_msg_eoh(m);
    dkim_msg_body(m, (const unsigned char *) "Hello  \r\nworld\r\n\r\n", 18);
    if (dkim_msg_eom(m, why, sizeof(why)) != 0)
        return printf("# %s\n", why), -1;
    for (size_t i = 0; i < ks->n; i++)
        out[i] = strdup(dkim_msg_sighdr(m, i) ? dkim_msg_sighdr(m, i) : "");
    dkim_msg_free(m);
    dkim_msg_lib_free(lib);
    return 0;
}

static void test_threads(struct mx_conf *c, const struct dkim_keyset *ks, const char *dir);
static void test_big_body(struct mx_conf *c, const struct dkim_keyset *ks);

static void test_same_as_libopendkim(void)
{
    char    dir[] = "/tmp/test_dkim_eng.XXXXXX", why[256];
    struct mx_conf *c = conf_defaults();
    struct dkim_keyring *kr;
    struct dkim_keyset *ks;
    char   *ours[2] = {0, 0}, *theirs[2] = {0, 0};

    char   *engine = c ? c->dkim_engine : 0;        /* the tests set literals */

    if (c == 0 || mkdtemp(dir) == 0)
        return;
    free(c->dkim_keydir);
    c->dkim_keydir = strdup(dir);
    T_INT("keygen", dkim_store_keygen(c, "example.test", 0, 2048, DKIM_ACTIVE, why,
                                      sizeof(why)), 0);
    kr = dkim_keyring_new(c);
    ks = dkim_keyring_get(kr, "example.test");
    T_OK("two keys, both parsed", ks && ks->n == 2 && ks->keys[0].pkey && ks->keys[1].pkey);
    if (ks && ks->n == 2 && sign_with(c, "mxdock", ks, ours) == 0
        && sign_with(c, "opendkim", ks, theirs) == 0) {
        for (size_t i = 0; i < 2; i++) {
            T_HAS("our b= is there", ours[i], "\n\tb=");
            mask(ours[i]);
            mask(theirs[i]);
            T_STR(i ? "second signature folded as libopendkim's"
                  : "first signature folded as libopendkim's", ours[i], theirs[i]);
            free(ours[i]);
            free(theirs[i]);
        }
    }
    if (ks && ks->n == 2) {
        test_threads(c, ks, dir);
        test_big_body(c, ks);
    }
    dkim_keyset_release(kr, ks);
    dkim_keyring_free(kr);
    c->dkim_engine = engine;
    conf_free(c);
    snprintf(why, sizeof(why), "rm -rf %s", dir);
    (void) system(why);
}

#define NTHREADS 4
#define PERTHREAD 25

struct job {
    struct dkim_msg_lib *lib;
    const struct dkim_keyset *ks;
    int     id;
    char   *sig[PERTHREAD][2];
    char    body[PERTHREAD][64];
};

static const char *const thr_hdr[][2] = {
    {"From", " Alice <alice@example.test>"}, {"Subject", " threads"},
};

/* signer - PERTHREAD messages, each with its own body, signed at once with
 * the other threads */
static void *signer(void *arg)
{
    struct job *j = arg;
    char    why[256];

    for (int n = 0; n < PERTHREAD; n++) {
        struct dkim_msg *m = dkim_msg_sign_new(j->lib, "t", j->ks, why, sizeof(why));

        snprintf(j->body[n], sizeof(j->body[n]), "thread %d message %d\r\n", j->id, n);
        if (m == 0)
            continue;
        for (size_t i = 0; i < 2; i++)
            dkim_msg_header(m, thr_hdr[i][0], thr_hdr[i][1]);
        dkim_msg_eoh(m);
        dkim_msg_body(m, (const unsigned char *) j->body[n], strlen(j->body[n]));
        if (dkim_msg_eom(m, why, sizeof(why)) == 0 && dkim_msg_nsighdr(m) == 2)
            for (size_t i = 0; i < 2; i++)
                j->sig[n][i] = strdup(dkim_msg_sighdr(m, i));
        dkim_msg_free(m);
    }
    return 0;
}

/* passes - SIG (two values) over BODY verified by libopendkim: passes */
static int passes(struct dkim_msg_lib *lib, char *const *sig, const char *body)
{
    char    why[256];
    struct dkim_msg *v = dkim_msg_verify_new(lib, "t", why, sizeof(why));
    int     ok;

    if (v == 0 || sig[0] == 0 || sig[1] == 0)
        return dkim_msg_free(v), 0;
    for (size_t i = 0; i < 2; i++)
        dkim_msg_header(v, "DKIM-Signature", sig[i]);
    for (size_t i = 0; i < 2; i++)
        dkim_msg_header(v, thr_hdr[i][0], thr_hdr[i][1]);
    dkim_msg_eoh(v);
    dkim_msg_body(v, (const unsigned char *) body, strlen(body));
    ok = dkim_msg_eom(v, why, sizeof(why)) == 0 && dkim_msg_nsig(v) == 2
        && dkim_msg_sig(v, 0)->res == DKIM_MSG_PASS && dkim_msg_sig(v, 1)->res == DKIM_MSG_PASS;
    dkim_msg_free(v);
    return ok;
}

static void test_threads(struct mx_conf *c, const struct dkim_keyset *ks, const char *dir)
{
    char    why[256], path[512];
    struct dkim_msg_lib *lib, *vlib;
    struct job *jobs = calloc(NTHREADS, sizeof(*jobs));
    pthread_t th[NTHREADS];
    int     good = 0;

    snprintf(path, sizeof(path), "%s/keys.txt", dir);
    c->dkim_engine = "mxdock";
    lib = dkim_msg_lib_new(c, "/dev/null", why, sizeof(why));
    vlib = t_keyfile(c, path) == 0 ? dkim_msg_lib_new(c, path, why, sizeof(why)) : 0;
    if (jobs == 0 || lib == 0 || vlib == 0)
        return (void) T_OK("thread test set up", 0);
    for (int t = 0; t < NTHREADS; t++) {
        jobs[t] = (struct job) {.lib = lib, .ks = ks, .id = t};
        pthread_create(&th[t], 0, signer, &jobs[t]);
    }
    for (int t = 0; t < NTHREADS; t++)
        pthread_join(th[t], 0);
    for (int t = 0; t < NTHREADS; t++)
        for (int n = 0; n < PERTHREAD; n++) {
            good += passes(vlib, jobs[t].sig[n], jobs[t].body[n]);
            free(jobs[t].sig[n][0]), free(jobs[t].sig[n][1]);
        }
    T_INT("signed by 4 threads at once, all pass libopendkim", good, NTHREADS * PERTHREAD);
    free(jobs);
    dkim_msg_lib_free(lib);
    dkim_msg_lib_free(vlib);
}

static long maxrss_kb(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* test_big_body - 8 MB of body in 64 KB chunks: the engine holds none of it */
static void test_big_body(struct mx_conf *c, const struct dkim_keyset *ks)
{
    static char chunk[65536];
    char    why[256];
    struct dkim_msg_lib *lib;
    struct dkim_msg *m;
    long    before;

    for (size_t i = 0; i < sizeof(chunk); i++)
        chunk[i] = i % 80 == 79 ? '\n' : "ab cd\t"[i % 6];
    c->dkim_engine = "mxdock";
    if ((lib = dkim_msg_lib_new(c, "/dev/null", why, sizeof(why))) == 0
        || (m = dkim_msg_sign_new(lib, "t", ks, why, sizeof(why))) == 0)
        return (void) T_OK("big body set up", 0);
    dkim_msg_header(m, "From", " a@example.test");
    dkim_msg_eoh(m);
    before = maxrss_kb();
    for (int i = 0; i < 128; i++)
        dkim_msg_body(m, (const unsigned char *) chunk, sizeof(chunk));
    T_INT("8 MB body signed", dkim_msg_eom(m, why, sizeof(why)), 0);
    T_OK("memory flat for an 8 MB body (max RSS grew under 1 MB)", maxrss_kb() - before < 1024);
    dkim_msg_free(m);
    dkim_msg_lib_free(lib);
}

int     main(void)
{
    test_bodies();
    test_headers();
    test_same_as_libopendkim();
    return t_done();
}
