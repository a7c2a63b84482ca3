/*
 * engbench - CPU per signing and per verification of the two DKIM engines
 * behind dkim_msg.h (dkim_engine = mxdock and = opendkim) and of OpenSSL
 * alone on the same parsed keys (the floor), in-process, one thread, no
 * milter protocol.  Verifying reads the public keys from a key file
 * (libopendkim: every message; mxdock: once, then from its key cache, the
 * warm-cache case).
 *
 *   engbench -c CONF DOMAIN MESSAGE LABEL
 *
 * CONF names the key store; DOMAIN has one active RSA and one active
 * Ed25519 key.  Each row runs for about a second of CPU; the message is
 * parsed once and fed as the milter feeds it (65535-byte body chunks).
 * Every signature is made for real; a failure ends the run with exit 1.
 *
 * Output: markdown rows "| LABEL | operation | engine | CPU ms | per s |".
 * The verify rows check a message signed here by mxdock's engine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sysexits.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "conf.h"
#include "dkim.h"
#include "dkim_msg.h"
#include "dkimfeed.h"
#include "strbuf.h"

#define BENCH_CPU_MS 1000.0

static double cpu_ms(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3
        + (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* sign_once - one message signed with every key of KS; 0 on success */
static int sign_once(struct dkim_msg_lib *lib, const struct dkim_keyset *ks,
                     const struct dkimfeed *f)
{
    char    why[256];
    struct dkim_msg *m = dkim_msg_sign_new(lib, "bench", ks, why, sizeof(why));
    int     rc;

    if (m == 0)
        return -1;
    dkimfeed_run(f, m, 0);
    rc = dkim_msg_eom(m, why, sizeof(why)) == 0 && dkim_msg_nsighdr(m) == ks->n ? 0 : -1;
    dkim_msg_free(m);
    return rc;
}

/* floor_once - what OpenSSL alone must do: SHA-256 of the body, then one
 * signature per key over a 32-byte digest */
static int floor_once(const struct dkim_keyset *ks, const struct dkimfeed *f)
{
    unsigned char d[32], sig[1024];
    int     ok = EVP_Digest(f->text + f->body, f->len - f->body, d, 0, EVP_sha256(), 0) == 1;

    for (size_t i = 0; ok && i < ks->n; i++) {
        size_t  n = sizeof(sig);

        if (ks->keys[i].alg == DKIM_ALG_ED25519) {
            EVP_MD_CTX *mc = EVP_MD_CTX_new();

            ok = EVP_DigestSignInit(mc, 0, 0, 0, ks->keys[i].pkey) == 1
                && EVP_DigestSign(mc, sig, &n, d, 32) == 1;
            EVP_MD_CTX_free(mc);
        } else {
            EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(ks->keys[i].pkey, 0);

            ok = EVP_PKEY_sign_init(pc) == 1
                && EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) == 1
                && EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) == 1
                && EVP_PKEY_sign(pc, sig, &n, d, 32) == 1;
            EVP_PKEY_CTX_free(pc);
        }
    }
    return ok ? 0 : -1;
}

/* verify_once - F (signed) verified: every signature must pass */
static int verify_once(struct dkim_msg_lib *lib, size_t want, const struct dkimfeed *f)
{
    char    why[256];
    struct dkim_msg *m = dkim_msg_verify_new(lib, "bench", why, sizeof(why));
    int     rc = -1;

    if (m == 0)
        return -1;
    dkimfeed_run(f, m, 0);
    if (dkim_msg_eom(m, why, sizeof(why)) == 0 && dkim_msg_nsig(m) == want) {
        rc = 0;
        for (size_t i = 0; i < want; i++)
            if (dkim_msg_sig(m, i)->res != DKIM_MSG_PASS)
                rc = -1;
    }
    dkim_msg_free(m);
    return rc;
}

/* vfloor_once - OpenSSL alone for a verification: SHA-256 of the body and
 * one signature check per key (over a signature made here once) */
static int vfloor_once(const struct dkim_keyset *ks, const struct dkimfeed *f)
{
    static unsigned char sig[2][1024];
    static size_t siglen[2];
    unsigned char d[32] = {0};
    int     ok = EVP_Digest(f->text + f->body, f->len - f->body, d, 0, EVP_sha256(), 0) == 1;

    memset(d, 7, sizeof(d));
    for (size_t i = 0; ok && i < ks->n && i < 2; i++) {
        int     ed = ks->keys[i].alg == DKIM_ALG_ED25519;
        EVP_MD_CTX *mc = ed ? EVP_MD_CTX_new() : 0;
        EVP_PKEY_CTX *pc = ed ? 0 : EVP_PKEY_CTX_new(ks->keys[i].pkey, 0);

        if (siglen[i] == 0 || (ed != (siglen[i] == 64))) {     /* made once per key */
            siglen[i] = sizeof(sig[i]);
            ok = ed ? EVP_DigestSignInit(mc, 0, 0, 0, ks->keys[i].pkey) == 1
                && EVP_DigestSign(mc, sig[i], &siglen[i], d, 32) == 1
                : EVP_PKEY_sign_init(pc) == 1
                && EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) == 1
                && EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) == 1
                && EVP_PKEY_sign(pc, sig[i], &siglen[i], d, 32) == 1;
            EVP_MD_CTX_free(mc), EVP_PKEY_CTX_free(pc);
            mc = ed ? EVP_MD_CTX_new() : 0;
            pc = ed ? 0 : EVP_PKEY_CTX_new(ks->keys[i].pkey, 0);
        }
        ok = ok && (ed ? EVP_DigestVerifyInit(mc, 0, 0, 0, ks->keys[i].pkey) == 1
                    && EVP_DigestVerify(mc, sig[i], siglen[i], d, 32) == 1
                    : EVP_PKEY_verify_init(pc) == 1
                    && EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) == 1
                    && EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) == 1
                    && EVP_PKEY_verify(pc, sig[i], siglen[i], d, 32) == 1);
        EVP_MD_CTX_free(mc), EVP_PKEY_CTX_free(pc);
    }
    return ok ? 0 : -1;
}

/* row - run one operation for about BENCH_CPU_MS and print its row */
static int row(const char *label, const char *op, const char *engine,
               struct dkim_msg_lib *lib, const struct dkim_keyset *ks,
               const struct dkimfeed *f)
{
    double  t0 = cpu_ms(), t;
    long    n = 0;
    int     verify = strncmp(op, "verify", 6) == 0;

    do {
        int     rc = verify ? (lib ? verify_once(lib, ks->n, f) : vfloor_once(ks, f))
            : (lib ? sign_once(lib, ks, f) : floor_once(ks, f));

        if (rc != 0) {
            fprintf(stderr, "engbench: %s %s %s failed\n", label, op, engine);
            return -1;
        }
        n++;
    } while ((t = cpu_ms() - t0) < BENCH_CPU_MS);
    printf("| %s | %s | %s | %.3f | %.0f |\n", label, op, engine, t / (double) n,
           (double) n * 1e3 / t);
    return 0;
}

/* subset - KS narrowed to the keys of ALG (-1 = all) */
static struct dkim_keyset subset(const struct dkim_keyset *ks, int alg,
                                 struct dkim_msg_key *keys)
{
    struct dkim_keyset out = *ks;

    out.n = 0;
    out.keys = keys;
    for (size_t i = 0; i < ks->n && out.n < 2; i++)
        if (alg < 0 || (int) ks->keys[i].alg == alg)
            keys[out.n++] = ks->keys[i];
    return out;
}

static int run_all(struct mx_conf *c, const struct dkim_keyset *ks, const struct dkimfeed *f,
                   const char *label)
{
    static const struct { const char *name; int alg; } ops[] = {
        {"sign RSA-2048", DKIM_ALG_RSA}, {"sign Ed25519", DKIM_ALG_ED25519},
        {"sign RSA + Ed25519", -1},
    };
    char    why[256];
    struct dkim_msg_lib *lib[2];
    int     rc = 0;

    c->dkim_engine = "mxdock";
    lib[0] = dkim_msg_lib_new(c, "/dev/null", why, sizeof(why));
    c->dkim_engine = "opendkim";
    lib[1] = dkim_msg_lib_new(c, "/dev/null", why, sizeof(why));
    for (size_t i = 0; i < 3 && lib[0] && lib[1] && rc == 0; i++) {
        struct dkim_msg_key keys[2];
        struct dkim_keyset sub = subset(ks, ops[i].alg, keys);

        rc = row(label, ops[i].name, "mxdock", lib[0], &sub, f)
            | row(label, ops[i].name, "libopendkim", lib[1], &sub, f)
            | row(label, ops[i].name, "OpenSSL floor (body SHA-256 + sign)", 0, &sub, f);
    }
    dkim_msg_lib_free(lib[0]);
    dkim_msg_lib_free(lib[1]);
    return rc == 0 && lib[0] && lib[1] ? 0 : EX_SOFTWARE;
}

/* signed_copy - F with the DKIM-Signature fields of KS (by LIB) on top;
 * free with signed_free */
static int signed_copy(struct dkim_msg_lib *lib, const struct dkim_keyset *ks,
                       const struct dkimfeed *f, struct dkimfeed *out)
{
    char    why[256];
    struct dkim_msg *m = dkim_msg_sign_new(lib, "bench", ks, why, sizeof(why));
    size_t  n;

    if (m == 0)
        return -1;
    dkimfeed_run(f, m, 0);
    if (dkim_msg_eom(m, why, sizeof(why)) != 0 || (n = dkim_msg_nsighdr(m)) != ks->n)
        return dkim_msg_free(m), -1;
    *out = *f;
    out->nhdr = f->nhdr + n;
    out->name = calloc(out->nhdr, sizeof(char *));
    out->value = calloc(out->nhdr, sizeof(char *));
    for (size_t i = 0; i < out->nhdr; i++) {
        out->name[i] = strdup(i < n ? "DKIM-Signature" : f->name[i - n]);
        out->value[i] = strdup(i < n ? dkim_msg_sighdr(m, i) : f->value[i - n]);
    }
    dkim_msg_free(m);
    return 0;
}

static void signed_free(struct dkimfeed *s)
{
    for (size_t i = 0; i < s->nhdr; i++)
        free(s->name[i]), free(s->value[i]);
    free(s->name), free(s->value);
}

/* keyfile - the TXT records of the keys of KS in the key-file format */
static int keyfile(struct mx_conf *c, const struct dkim_keyset *ks, const char *path)
{
    struct dkim_domain *d;
    char    why[256];
    FILE   *fp = fopen(path, "w");

    if (fp == 0 || dkim_store_load(c, ks->domain, &d, why, sizeof(why)) != 0)
        return -1;
    for (size_t i = 0; i < d->n; i++) {
        struct strbuf sb = STRBUF_INIT;

        dkim_txt_value(&d->sel[i], &sb);
        fprintf(fp, "%s._domainkey.%s %s\n", d->sel[i].name, ks->domain, sb_str(&sb));
        sb_free(&sb);
    }
    dkim_domain_free(d);
    return fclose(fp);
}

static int verify_all(struct mx_conf *c, const struct dkim_keyset *ks,
                      const struct dkimfeed *f, const char *label, const char *kf)
{
    static const struct { const char *name; int alg; } ops[] = {
        {"verify RSA-2048", DKIM_ALG_RSA}, {"verify Ed25519", DKIM_ALG_ED25519},
    };
    char    why[256];
    struct dkim_msg_lib *lib[2];
    int     rc = keyfile(c, ks, kf);

    c->dkim_engine = "mxdock";
    lib[0] = dkim_msg_lib_new(c, kf, why, sizeof(why));
    c->dkim_engine = "opendkim";
    lib[1] = dkim_msg_lib_new(c, kf, why, sizeof(why));
    for (size_t i = 0; i < 2 && lib[0] && lib[1] && rc == 0; i++) {
        struct dkim_msg_key keys[2];
        struct dkim_keyset sub = subset(ks, ops[i].alg, keys);
        struct dkimfeed sf;

        if ((rc = signed_copy(lib[0], &sub, f, &sf)) != 0)
            break;
        rc = row(label, ops[i].name, "mxdock (warm key cache)", lib[0], &sub, &sf)
            | row(label, ops[i].name, "libopendkim (key from a file)", lib[1], &sub, &sf)
            | row(label, ops[i].name, "OpenSSL floor (body SHA-256 + check)", 0, &sub, &sf);
        signed_free(&sf);
    }
    dkim_msg_lib_free(lib[0]);
    dkim_msg_lib_free(lib[1]);
    return rc == 0 && lib[0] && lib[1] ? 0 : EX_SOFTWARE;
}

int     main(int argc, char **argv)
{
    char    why[512];
    struct mx_conf *c;
    struct dkim_keyring *kr;
    struct dkim_keyset *ks;
    struct dkimfeed f;
    int     rc;

    if (argc != 6 || strcmp(argv[1], "-c") != 0) {
        fprintf(stderr, "usage: engbench -c CONF DOMAIN MESSAGE LABEL\n");
        return EX_USAGE;
    }
    if ((c = conf_load(argv[2], why, sizeof(why))) == 0) {
        fprintf(stderr, "engbench: %s\n", why);
        return EX_CONFIG;
    }
    if (dkimfeed_read(argv[4], &f) != 0) {
        fprintf(stderr, "engbench: %s: cannot read\n", argv[4]);
        return EX_NOINPUT;
    }
    kr = dkim_keyring_new(c);
    if ((ks = dkim_keyring_get(kr, argv[3])) == 0 || ks->n != 2) {
        fprintf(stderr, "engbench: %s: want one active RSA and one Ed25519 key\n", argv[3]);
        return EX_DATAERR;
    }
    rc = run_all(c, ks, &f, argv[5]);
    if (rc == 0) {
        char    kf[] = "/tmp/engbench-keys.XXXXXX";
        int     fd = mkstemp(kf);

        rc = fd < 0 ? EX_CANTCREAT : verify_all(c, ks, &f, argv[5], kf);
        if (fd >= 0)
            close(fd), unlink(kf);
    }
    dkim_keyset_release(kr, ks);
    dkim_keyring_free(kr);
    dkimfeed_free(&f);
    return rc;
}
