/*
 * test_dkim_seal - dkim/dkim_seal.c: a sealed private key opens only with
 * the same key, for the same domain and selector, unchanged; the seal key
 * file is refused when loose or malformed.  No services.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dkim_impl.h"
#include "fileio.h"
#include "t.h"

#define PEM "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n" \
    "-----END PRIVATE KEY-----\n"

static const unsigned char key1[DKIM_SEAL_KEYLEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
static const unsigned char key2[DKIM_SEAL_KEYLEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 11};
static char tmpdir[] = "/tmp/mxdock-test-seal.XXXXXX";

/* opens - does BLOB open with KEY as DOMAIN/SELECTOR, giving PEM back? */
static int opens(const unsigned char *key, const char *domain, const char *selector,
                 const struct strbuf *blob, char *why, size_t whylen)
{
    struct strbuf plain = STRBUF_INIT;
    int     ok;

    ok = dkim_unseal(key, domain, selector, blob->s, blob->len, &plain, why, whylen) == 0
        && plain.len == strlen(PEM) && memcmp(plain.s, PEM, plain.len) == 0;
    dkim_sb_wipe(&plain);
    return ok;
}

static void test_round_trip(void)
{
    struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
    char    why[300] = "";

    T_INT("seal: ok", dkim_seal(key1, "example.com", "sel1", PEM, strlen(PEM), &a, why,
                                sizeof(why)), 0);
    T_INT("seal: version byte, 12-byte nonce, ciphertext, 16-byte tag",
          a.len, 1 + 12 + strlen(PEM) + 16);
    T_INT("seal: first byte is the version", (unsigned char) a.s[0], DKIM_SEAL_V1);
    T_OK("seal: no PEM text in the blob", memmem(a.s, a.len, "PRIVATE KEY", 11) == 0);
    T_OK("unseal: the same PEM back", opens(key1, "example.com", "sel1", &a, why, sizeof(why)));
    dkim_seal(key1, "example.com", "sel1", PEM, strlen(PEM), &b, why, sizeof(why));
    T_OK("seal twice: other nonces, other blobs",
         a.len == b.len && memcmp(a.s + 1, b.s + 1, 12) != 0);
    sb_free(&a);
    sb_free(&b);
}

struct tamper_case {
    const char *name;
    size_t  at;                 /* byte index from the start (or from the end when back) */
    int     back;
};

static void test_tampered(void)
{
    static const struct tamper_case cases[] = {
        {"tampered version byte", 0, 0},
        {"tampered nonce", 5, 0},
        {"tampered ciphertext, first byte", 13, 0},
        {"tampered ciphertext, middle", 60, 0},
        {"tampered tag, last byte", 1, 1},
    };
    struct strbuf a = STRBUF_INIT;
    char    why[300];

    dkim_seal(key1, "example.com", "sel1", PEM, strlen(PEM), &a, why, sizeof(why));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t  at = cases[i].back ? a.len - cases[i].at : cases[i].at;

        a.s[at] ^= 0x01;
        *why = 0;
        T_OK(cases[i].name, !opens(key1, "example.com", "sel1", &a, why, sizeof(why)));
        T_OK(cases[i].name, *why != 0);
        a.s[at] ^= 0x01;
    }
    T_OK("untampered again: opens", opens(key1, "example.com", "sel1", &a, why, sizeof(why)));
    a.len -= 1;
    T_OK("cut short: refused", !opens(key1, "example.com", "sel1", &a, why, sizeof(why)));
    sb_free(&a);
}

static void test_wrong_aad_key(void)
{
    struct strbuf a = STRBUF_INIT;
    char    why[300] = "";

    dkim_seal(key1, "example.com", "sel1", PEM, strlen(PEM), &a, why, sizeof(why));
    T_OK("another selector (row copied): refused",
         !opens(key1, "example.com", "sel2", &a, why, sizeof(why)));
    T_HAS("another selector: says it does not open", why, "example.com/sel2 does not open");
    T_OK("another domain: refused", !opens(key1, "example.org", "sel1", &a, why, sizeof(why)));
    T_OK("domain and selector run together differently: refused",
         !opens(key1, "example.coms", "el1", &a, why, sizeof(why)));
    T_OK("another seal key: refused", !opens(key2, "example.com", "sel1", &a, why, sizeof(why)));
    sb_free(&a);
}

/* key_file - TEXT as the seal key file in MODE; dkim_seal_key_read's result */
static int key_file(const char *text, mode_t mode, unsigned char *key, char *why, size_t whylen)
{
    char    path[300];
    struct mx_conf c;

    memset(&c, 0, sizeof(c));
    snprintf(path, sizeof(path), "%s/seal.key", tmpdir);
    unlink(path);
    if (mx_write_atomic(path, text, strlen(text), 0600) < 0 || chmod(path, mode) < 0)
        return printf("# cannot write %s\n", path), -2;
    c.dkim_store_seal_key_file = path;
    return dkim_seal_key_read(&c, key, why, whylen);
}

struct file_case {
    const char *name;
    const char *text;
    mode_t  mode;
    int     want;
    const char *why;            /* part of the diagnostic wanted */
};

static void test_key_file(void)
{
    static const struct file_case cases[] = {
        {"64 hex digits, 0600", "0102030405060708090a00000000000000000000000000000000000000000000\n",
         0600, 0, 0},
        {"upper-case hex", "0102030405060708090A00000000000000000000000000000000000000000000\n",
         0600, 0, 0},
        {"mode 0644: refused", "0102030405060708090a00000000000000000000000000000000000000000000\n",
         0644, -1, "mode 0644"},
        {"63 digits: refused", "0102030405060708090a0000000000000000000000000000000000000000000\n",
         0600, -1, "want 64 hex digits"},
        {"not hex: refused", "0102030405060708090a000000000000000000000000000000000000000000zz\n",
         0600, -1, "want 64 hex digits"},
        {"empty: refused", "\n", 0600, -1, "is empty"},
    };
    unsigned char key[DKIM_SEAL_KEYLEN];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char    why[400] = "";

        memset(key, 0xee, sizeof(key));
        T_INT(cases[i].name, key_file(cases[i].text, cases[i].mode, key, why, sizeof(why)),
              cases[i].want);
        if (cases[i].want == 0)
            T_OK("the key the file names", memcmp(key, key1, sizeof(key)) == 0);
        else
            T_HAS(cases[i].name, why, cases[i].why);
    }
}

int     main(void)
{
    if (mkdtemp(tmpdir) == 0)
        return perror("mkdtemp"), 1;
    test_round_trip();
    test_tampered();
    test_wrong_aad_key();
    test_key_file();
    return t_done_rm(tmpdir);
}
