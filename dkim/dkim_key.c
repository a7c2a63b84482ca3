/*
 * dkim_key.c - DKIM private keys with OpenSSL 3 (EVP only).
 *
 *   dkim_key_generate   a new Ed25519 or RSA key
 *   dkim_key_from_pem   parse PEM (PKCS#8 or PKCS#1) or bare base64 DER;
 *                       say which algorithm and how many bits
 *   dkim_key_to_pem     PKCS#8 PEM text, for the store
 *   dkim_key_pub_b64    the p= value: raw 32 bytes (Ed25519, RFC 8463) or
 *                       SubjectPublicKeyInfo DER (RSA), in base64
 *   dkim_key_read_file  a key file's text; refuses non-files and, when
 *                       strict (the store's own files), symbolic links and
 *                       any group or other permission bit
 *   dkim_key_read_fd    the same for a file already open (LABEL names it)
 *   dkim_sb_wipe        clear and free a strbuf that held key material
 *
 * The caller frees EVP_PKEY with EVP_PKEY_free.  Diagnostics go to WHY and
 * never contain key material.  RSA keys outside 1024..4096 bits are refused:
 * 4096 is what dkim_rsa_bits allows, and what struct dkim_selector's
 * pubkey_b64 is sized for.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "dkim_impl.h"

#define KEYFILE_MAX (128 * 1024)   /* a key file, or a state file of 1000 lines */

/* ssl_reason - the last OpenSSL error, for a diagnostic */
static const char *ssl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : 0;

    return r ? r : "unknown reason";
}

int     dkim_key_generate(enum dkim_alg alg, int bits, EVP_PKEY **out, char *why, size_t whylen)
{
    EVP_PKEY_CTX *ctx;
    int     ok;

    *out = 0;
    if (alg == DKIM_ALG_RSA && (bits < DKIM_MIN_RSA_BITS || bits > DKIM_MAX_RSA_BITS)) {
        snprintf(why, whylen, "RSA key size %d is outside %d..%d", bits, DKIM_MIN_RSA_BITS,
                 DKIM_MAX_RSA_BITS);
        return -1;
    }
    ctx = EVP_PKEY_CTX_new_from_name(0, alg == DKIM_ALG_RSA ? "RSA" : "ED25519", 0);
    ok = ctx != 0 && EVP_PKEY_keygen_init(ctx) > 0
        && (alg != DKIM_ALG_RSA || EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) > 0)
        && EVP_PKEY_generate(ctx, out) > 0;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        snprintf(why, whylen, "cannot generate %s key: %s", dkim_alg_name(alg), ssl_reason());
        ERR_clear_error();
        return -1;
    }
    return 0;
}

/* decode_der - bare base64 DER, as OpenDKIM's KeyTable may hold inline */
static EVP_PKEY *decode_der(const char *text, size_t len)
{
    unsigned char *der = OPENSSL_malloc(len + 1);
    const unsigned char *p = der;
    char   *clean = OPENSSL_malloc(len + 1);
    size_t  n = 0;
    int     dlen;
    EVP_PKEY *pk = 0;

    if (der && clean) {
        for (size_t i = 0; i < len; i++)
            if (text[i] != ' ' && text[i] != '\n' && text[i] != '\r' && text[i] != '\t')
                clean[n++] = text[i];
        dlen = EVP_DecodeBlock(der, (unsigned char *) clean, (int) n);
        while (dlen > 0 && n > 0 && clean[--n] == '=')
            dlen--;
        if (dlen > 0)
            pk = d2i_AutoPrivateKey(0, &p, dlen);
    }
    if (der)
        OPENSSL_clear_free(der, len + 1);
    if (clean)
        OPENSSL_clear_free(clean, len + 1);
    return pk;
}

int     dkim_key_from_pem(const char *text, size_t len, EVP_PKEY **out, enum dkim_alg *alg,
                          int *bits, char *why, size_t whylen)
{
    BIO    *bio = BIO_new_mem_buf(text, (int) len);
    EVP_PKEY *pk = bio ? PEM_read_bio_PrivateKey(bio, 0, 0, (void *) "") : 0;

    BIO_free(bio);
    if (pk == 0 && strstr(text, "-----BEGIN") == 0)
        pk = decode_der(text, len);
    ERR_clear_error();
    *out = 0;
    if (pk == 0) {
        snprintf(why, whylen, "not a readable unencrypted private key (PEM)");
        return -1;
    }
    if (EVP_PKEY_is_a(pk, "ED25519")) {
        *alg = DKIM_ALG_ED25519;
        *bits = 256;
    } else if (EVP_PKEY_is_a(pk, "RSA")) {
        *alg = DKIM_ALG_RSA;
        *bits = EVP_PKEY_get_bits(pk);
        if (*bits < DKIM_MIN_RSA_BITS || *bits > DKIM_MAX_RSA_BITS) {
            snprintf(why, whylen, "RSA key of %d bits; mxdock takes %d..%d", *bits,
                     DKIM_MIN_RSA_BITS, DKIM_MAX_RSA_BITS);
            EVP_PKEY_free(pk);
            return -1;
        }
    } else {
        snprintf(why, whylen, "a %s key; DKIM keys are Ed25519 or RSA",
                 EVP_PKEY_get0_type_name(pk) ? EVP_PKEY_get0_type_name(pk) : "foreign");
        EVP_PKEY_free(pk);
        return -1;
    }
    *out = pk;
    return 0;
}

int     dkim_key_to_pem(EVP_PKEY *pk, struct strbuf *pem)
{
    BIO    *bio = BIO_new(BIO_s_secmem());
    char   *data;
    long    n;
    int     ok;

    if (bio == 0)
        return -1;
    ok = PEM_write_bio_PKCS8PrivateKey(bio, pk, 0, 0, 0, 0, 0) > 0;
    if (ok && (n = BIO_get_mem_data(bio, &data)) > 0)
        sb_append(pem, data, (size_t) n);
    else
        ok = 0;
    BIO_free(bio);
    ERR_clear_error();
    return ok && !sb_failed(pem) ? 0 : -1;
}

int     dkim_key_pub_b64(EVP_PKEY *pk, enum dkim_alg alg, char *out, size_t outlen)
{
    unsigned char raw[32], *der = 0;
    int     len;
    size_t  rawlen = sizeof(raw);

    if (alg == DKIM_ALG_ED25519) {
        if (EVP_PKEY_get_raw_public_key(pk, raw, &rawlen) <= 0 || rawlen != 32)
            return -1;
        if (outlen < 4 * ((rawlen + 2) / 3) + 1)
            return -1;
        EVP_EncodeBlock((unsigned char *) out, raw, (int) rawlen);
        return 0;
    }
    if ((len = i2d_PUBKEY(pk, &der)) <= 0)
        return -1;
    if (outlen < 4 * (((size_t) len + 2) / 3) + 1) {
        OPENSSL_free(der);
        return -1;
    }
    EVP_EncodeBlock((unsigned char *) out, der, len);
    OPENSSL_free(der);
    return 0;
}

int     dkim_key_read_fd(int fd, const char *label, int strict_mode, struct strbuf *pem,
                         char *why, size_t whylen)
{
    struct stat st;
    char    buf[4096];
    ssize_t n;

    if (fstat(fd, &st) < 0)
        return snprintf(why, whylen, "cannot read %.200s: %s", label, strerror(errno)), -1;
    if (!S_ISREG(st.st_mode))
        return snprintf(why, whylen, "%.200s is not a regular file", label), -1;
    if (st.st_size > KEYFILE_MAX)
        return snprintf(why, whylen, "%.200s is too big (%lld bytes)", label,
                        (long long) st.st_size), -1;
    if (strict_mode && (st.st_mode & 077))
        return snprintf(why, whylen, "%.200s has mode %03o; private keys must be 0600",
                        label, (unsigned) (st.st_mode & 0777)), -1;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        sb_append(pem, buf, (size_t) n);
    OPENSSL_cleanse(buf, sizeof(buf));
    if (n < 0 || sb_failed(pem)) {
        snprintf(why, whylen, "cannot read %.200s: %s", label, n < 0 ? strerror(errno) : "no memory");
        return -1;
    }
    return 0;
}

int     dkim_key_read_file(const char *path, int strict_mode, struct strbuf *pem,
                           char *why, size_t whylen)
{
    int     fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK
                      | (strict_mode ? O_NOFOLLOW : 0));
    int     rc;

    if (fd < 0)
        return snprintf(why, whylen, "cannot read %.200s: %s", path,
                        errno == ELOOP ? "it is a symbolic link" : strerror(errno)), -1;
    rc = dkim_key_read_fd(fd, path, strict_mode, pem, why, whylen);
    close(fd);
    return rc;
}

void    dkim_sb_wipe(struct strbuf *sb)
{
    if (sb->s)
        OPENSSL_cleanse(sb->s, sb->cap);
    sb_free(sb);
}
