/*
 * dkim_seal.c - private keys sealed for the database store (dkim_store =
 * mysql): AES-256-GCM (OpenSSL EVP) under the key of
 * dkim_store_seal_key_file, so the database alone never reveals a key.
 *
 *   dkim_seal_key_read  the 32-byte key from its file (64 hex digits, a
 *                       newline, nothing else; 0600, or 0640 with the
 *                       service user's group)
 *   dkim_seal           plaintext -> sealed blob
 *   dkim_unseal         sealed blob -> plaintext (checked)
 *
 * A sealed blob is: version byte (DKIM_SEAL_V1), a random 12-byte nonce,
 * the ciphertext, the 16-byte GCM tag.  The domain and the selector are
 * bound in as additional data: a blob copied to another row does not open.
 * The caller wipes the key (OPENSSL_cleanse) and the plaintext
 * (dkim_sb_wipe) after use; nothing here keeps a copy.  Diagnostics go to
 * WHY and never contain key material.
 */
#include <ctype.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "dkim_impl.h"
#include "fileio.h"

#define SEAL_NONCE 12
#define SEAL_TAG 16
#define SEAL_OVERHEAD (1 + SEAL_NONCE + SEAL_TAG)

/* service_gid - the group that may read a 0640 seal key file: milter_user's,
 * else our own (never "any group" for a root-owned file read by root, as
 * mx_read_secret allows without a service group: the seal key opens every
 * private key of every host) */
static gid_t service_gid(const struct mx_conf *conf)
{
    struct passwd *pw;

    if (conf->milter_user && *conf->milter_user && (pw = getpwnam(conf->milter_user)) != 0)
        return pw->pw_gid;
    return getegid();
}

/* one_line - FILE is the key and its newline, nothing after it (a second
 * line would be ignored by mx_read_secret, e.g. a new key appended) */
static int one_line(const char *file)
{
    struct stat st;

    return stat(file, &st) == 0 && st.st_size >= 2 * DKIM_SEAL_KEYLEN
        && st.st_size <= 2 * DKIM_SEAL_KEYLEN + 2;
}

/* hex_val - one hex digit's value, or -1 */
static int hex_val(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int     dkim_seal_key_read(const struct mx_conf *conf, unsigned char key[DKIM_SEAL_KEYLEN],
                           char *why, size_t whylen)
{
    const char *file = conf->dkim_store_seal_key_file;
    char    buf[256], reason[300];
    int     rc = 0;

    if (file == 0 || *file == 0)
        return snprintf(why, whylen, "dkim_store = mysql needs dkim_store_seal_key_file"), -1;
    if (mx_read_secret_as(file, service_gid(conf), buf, sizeof(buf), reason,
                          sizeof(reason)) < 0)
        return snprintf(why, whylen, "dkim_store_seal_key_file: %s", reason), -1;
    if (strlen(buf) != 2 * DKIM_SEAL_KEYLEN || !one_line(file))
        rc = -1;
    for (int i = 0; rc == 0 && i < DKIM_SEAL_KEYLEN; i++) {
        int     hi = hex_val((unsigned char) buf[2 * i]), lo = hex_val((unsigned char) buf[2 * i + 1]);

        if (hi < 0 || lo < 0)
            rc = -1;
        else
            key[i] = (unsigned char) (hi << 4 | lo);
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    if (rc < 0) {
        OPENSSL_cleanse(key, DKIM_SEAL_KEYLEN);
        snprintf(why, whylen, "%.200s: want 64 hex digits (an AES-256 key, e.g. from "
                 "\"openssl rand -hex 32\") and a newline", file);
    }
    return rc;
}

/* aad - what binds a blob to its row: version, domain, selector */
static void aad(const char *domain, const char *selector, struct strbuf *out)
{
    sb_printf(out, "mxdock-dkim-seal %d", DKIM_SEAL_V1);
    sb_append(out, "", 1);
    sb_puts(out, domain);
    sb_append(out, "", 1);
    sb_puts(out, selector);
}

/* gcm_init - CTX set up for AES-256-GCM with KEY, NONCE and the row's AAD */
static int gcm_init(EVP_CIPHER_CTX *ctx, int enc, const unsigned char *key,
                    const unsigned char *nonce, const char *domain, const char *selector)
{
    struct strbuf ad = STRBUF_INIT;
    int     n, ok;

    ok = EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), 0, 0, 0, enc) == 1
        && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE, 0) == 1
        && EVP_CipherInit_ex(ctx, 0, 0, key, nonce, enc) == 1;
    aad(domain, selector, &ad);
    ok = ok && !sb_failed(&ad)
        && EVP_CipherUpdate(ctx, 0, &n, (const unsigned char *) ad.s, (int) ad.len) == 1;
    sb_free(&ad);
    return ok ? 0 : -1;
}

int     dkim_seal(const unsigned char key[DKIM_SEAL_KEYLEN], const char *domain,
                  const char *selector, const void *plain, size_t len,
                  struct strbuf *out, char *why, size_t whylen)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    unsigned char *buf = malloc(len + SEAL_OVERHEAD);
    int     n = 0, m = 0, ok;

    if (buf)
        buf[0] = DKIM_SEAL_V1;
    ok = ctx && buf && len < 65536 && RAND_bytes(buf + 1, SEAL_NONCE) == 1
        && gcm_init(ctx, 1, key, buf + 1, domain, selector) == 0
        && EVP_EncryptUpdate(ctx, buf + 1 + SEAL_NONCE, &n, plain, (int) len) == 1
        && EVP_EncryptFinal_ex(ctx, buf + 1 + SEAL_NONCE + n, &m) == 1
        && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG,
                               buf + 1 + SEAL_NONCE + n + m) == 1;
    if (ok)
        sb_append(out, (const char *) buf, (size_t) (1 + SEAL_NONCE + n + m + SEAL_TAG));
    EVP_CIPHER_CTX_free(ctx);
    free(buf);                  /* ciphertext only: nothing secret */
    if (!ok || sb_failed(out))
        return snprintf(why, whylen, "cannot seal the key of %.70s: OpenSSL failed",
                        selector), -1;
    return 0;
}

/* open_blob - decrypt SEALED (checked header) into PT; 0, or -1 */
static int open_blob(const unsigned char *key, const char *domain, const char *selector,
                     const unsigned char *sealed, size_t len, unsigned char *pt, int *ptlen)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    size_t  clen = len - SEAL_OVERHEAD;
    int     n = 0, m = 0, ok;

    ok = ctx && gcm_init(ctx, 0, key, sealed + 1, domain, selector) == 0
        && EVP_DecryptUpdate(ctx, pt, &n, sealed + 1 + SEAL_NONCE, (int) clen) == 1
        && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG,
                               (void *) (sealed + len - SEAL_TAG)) == 1
        && EVP_DecryptFinal_ex(ctx, pt + n, &m) == 1;
    EVP_CIPHER_CTX_free(ctx);
    *ptlen = n + m;
    return ok ? 0 : -1;
}

int     dkim_unseal(const unsigned char key[DKIM_SEAL_KEYLEN], const char *domain,
                    const char *selector, const void *sealed, size_t len,
                    struct strbuf *plain, char *why, size_t whylen)
{
    const unsigned char *b = sealed;
    unsigned char *pt;
    int     n = 0, rc;

    if (len <= SEAL_OVERHEAD || len > 65536 || b[0] != DKIM_SEAL_V1)
        return snprintf(why, whylen, "the sealed key of %.100s/%.70s is not a version-%d "
                        "blob (%zu bytes)", domain, selector, DKIM_SEAL_V1, len), -1;
    if ((pt = malloc(len)) == 0)
        return snprintf(why, whylen, "out of memory"), -1;
    rc = open_blob(key, domain, selector, b, len, pt, &n);
    if (rc == 0)
        sb_append(plain, (const char *) pt, (size_t) n);
    OPENSSL_cleanse(pt, len);
    free(pt);
    if (rc < 0)
        return snprintf(why, whylen, "the sealed key of %.100s/%.70s does not open: another "
                        "dkim_store_seal_key_file, or a row changed or copied from another "
                        "selector", domain, selector), -1;
    return sb_failed(plain) ? (snprintf(why, whylen, "out of memory"), -1) : 0;
}
