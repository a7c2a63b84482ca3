/*
 * test_dkim - the DKIM key store: TXT rendering, key generation, the state
 * file, selector names, refusals of a bad store, and the lifecycle with a
 * fake clock ($MXDOCK_NOW).  No services: DNS checks ask a closed port.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "dkim_impl.h"
#include "dkim_eng.h"
#include "dkim_tags.h"
#include "fileio.h"
#include "t.h"

#define DAY 86400
#define T0 1795219200           /* 2026-11-21 00:00:00 UTC */

static char tmpdir[] = "/tmp/mxdock-test-dkim.XXXXXX";
static char store[300];

/* conf_with - a configuration whose key store is STORE, plus EXTRA lines */
static struct mx_conf *conf_with(const char *extra)
{
    char    path[400], text[2000], err[512];
    struct mx_conf *c;

    snprintf(path, sizeof(path), "%s/mxdock.conf", tmpdir);
    snprintf(text, sizeof(text), "dkim_keydir = %s\npdns_api_url =\n"
             "dns_check_server = 127.0.0.1:9\ndns_timeout = 1\n%s", store, extra);
    if (mx_write_atomic(path, text, strlen(text), 0600) < 0 || (c = conf_load(path, err, sizeof(err))) == 0)
        printf("conf: %s\n", err), exit(1);
    return c;
}

static void set_now(long t)
{
    char    buf[32];

    snprintf(buf, sizeof(buf), "%ld", t);
    setenv("MXDOCK_NOW", buf, 1);
}

/* b64_len - decoded length of base64 TEXT, or -1 */
static int b64_len(const char *text, unsigned char *out)
{
    size_t  n = strlen(text);
    int     len = EVP_DecodeBlock(out, (const unsigned char *) text, (int) n);

    if (len < 0)
        return -1;
    for (size_t i = n; i > 0 && text[i - 1] == '='; i--)
        len--;
    return len;
}

struct quote_case {
    const char *name;
    size_t  len;                /* bytes of value ('a'..) */
    int     strings;            /* quoted strings wanted */
};

static void test_quoted(void)
{
    static const struct quote_case cases[] = {
        {"empty value", 0, 1},
        {"short value", 10, 1},
        {"exactly 255", 255, 1},
        {"256 splits in two", 256, 2},
        {"510 is two", 510, 2},
        {"511 is three", 511, 3},
    };
    char    value[600], name[100];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct strbuf q = STRBUF_INIT, joined = STRBUF_INIT;
        int     strings = 0, maxlen = 0;
        const char *p;

        for (size_t j = 0; j < cases[i].len; j++)
            value[j] = (char) ('a' + j % 26);
        value[cases[i].len] = 0;
        dkim_txt_quoted(value, &q);
        for (p = sb_str(&q); *p == '"'; strings++) {
            const char *end = strchr(p + 1, '"');

            if ((int) (end - p - 1) > maxlen)
                maxlen = (int) (end - p - 1);
            sb_append(&joined, p + 1, (size_t) (end - p - 1));
            p = end + 1;
            if (*p == ' ')
                p++;
        }
        snprintf(name, sizeof(name), "quoted %s: strings", cases[i].name);
        T_INT(name, strings, cases[i].strings);
        snprintf(name, sizeof(name), "quoted %s: each <= 255", cases[i].name);
        T_OK(name, maxlen <= 255);
        snprintf(name, sizeof(name), "quoted %s: joins back", cases[i].name);
        T_STR(name, sb_str(&joined), value);
        sb_free(&q);
        sb_free(&joined);
    }
}

struct key_case {
    const char *name;
    enum dkim_alg alg;
    int     bits;
    const char *prefix;         /* of the TXT value */
    int     raw_len;            /* decoded p= bytes, 0 = an RSA SPKI */
    int     strings;            /* quoted strings */
};

static void test_keys(void)
{
    static const struct key_case cases[] = {
        {"ed25519", DKIM_ALG_ED25519, 256, "v=DKIM1; k=ed25519; p=", 32, 1},
        {"rsa 1024", DKIM_ALG_RSA, 1024, "v=DKIM1; k=rsa; p=", 0, 1},
        {"rsa 2048", DKIM_ALG_RSA, 2048, "v=DKIM1; k=rsa; p=", 0, 2},
        {"rsa 4096", DKIM_ALG_RSA, 4096, "v=DKIM1; k=rsa; p=", 0, 3},
    };
    char    name[120], why[300];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct key_case *k = &cases[i];
        struct dkim_selector sel;
        struct strbuf txt = STRBUF_INIT, q = STRBUF_INIT, pem = STRBUF_INIT;
        EVP_PKEY *pk = 0, *back = 0, *pub = 0;
        unsigned char der[2048];
        const unsigned char *dp = der;
        enum dkim_alg alg;
        int     bits = 0, len, quotes = 0;

        memset(&sel, 0, sizeof(sel));
        sel.alg = k->alg;
        snprintf(name, sizeof(name), "%s: generated", k->name);
        T_INT(name, dkim_key_generate(k->alg, k->bits, &pk, why, sizeof(why)), 0);
        if (pk == 0)
            continue;
        dkim_key_pub_b64(pk, k->alg, sel.pubkey_b64, sizeof(sel.pubkey_b64));
        dkim_txt_value(&sel, &txt);
        snprintf(name, sizeof(name), "%s: TXT value", k->name);
        T_HAS(name, sb_str(&txt), k->prefix);
        len = b64_len(sel.pubkey_b64, der);
        if (k->raw_len) {
            snprintf(name, sizeof(name), "%s: p= decodes to the raw 32-byte key", k->name);
            T_INT(name, len, k->raw_len);
        } else {
            pub = len > 0 ? d2i_PUBKEY(0, &dp, len) : 0;
            snprintf(name, sizeof(name), "%s: p= is an SPKI of the right size", k->name);
            T_INT(name, pub ? EVP_PKEY_get_bits(pub) : -1, k->bits);
            EVP_PKEY_free(pub);
        }
        dkim_txt_quoted(sb_str(&txt), &q);
        for (const char *p = sb_str(&q); *p; p++)
            quotes += *p == '"';
        snprintf(name, sizeof(name), "%s: quoted strings", k->name);
        T_INT(name, quotes / 2, k->strings);
        dkim_key_to_pem(pk, &pem);
        snprintf(name, sizeof(name), "%s: PKCS#8 PEM", k->name);
        T_HAS(name, sb_str(&pem), "-----BEGIN PRIVATE KEY-----");
        snprintf(name, sizeof(name), "%s: PEM parses back", k->name);
        T_INT(name, dkim_key_from_pem(sb_str(&pem), pem.len, &back, &alg, &bits, why,
                                      sizeof(why)) == 0 && alg == k->alg ? bits : -1, k->bits);
        EVP_PKEY_free(back);
        EVP_PKEY_free(pk);
        dkim_sb_wipe(&pem);
        sb_free(&txt);
        sb_free(&q);
    }
}

struct state_case {
    const char *name;
    const char *text;
    const char *want;           /* substring of the error, NULL = parses */
};

static void test_state_parse(void)
{
    static const struct state_case cases[] = {
        {"good", "# c\nmx1e ed25519 256 100 active 100\nmx1r rsa 2048 100 pending 200\n", 0},
        {"blank and comment", "\n   \n# only\n", 0},
        {"five fields", "mx1e ed25519 256 100 active\n", "5 fields, want 6"},
        {"seven fields", "mx1e ed25519 256 100 active 1 2\n", "7 fields, want 6"},
        {"unknown alg", "mx1e dsa 256 100 active 100\n", "unknown algorithm"},
        {"ed25519 bits", "mx1e ed25519 300 100 active 100\n", "bad key size"},
        {"rsa too short", "mx1r rsa 512 100 active 100\n", "bad key size"},
        {"unknown state", "mx1e ed25519 256 100 signing 100\n", "unknown state"},
        {"bad time", "mx1e ed25519 256 1x0 active 100\n", "bad creation time"},
        {"negative time", "mx1e ed25519 256 100 active -5\n", "bad change time"},
        {"bad selector", "../x ed25519 256 100 active 100\n", "bad selector name"},
        {"duplicate", "a ed25519 256 1 active 1\na rsa 1024 1 active 1\n", "line 2: selector a listed twice"},
    };
    char    why[300], name[100];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dkim_domain dom = {"example.com", 0, 0};
        int     rc = dkim_state_parse(cases[i].text, &dom, why, sizeof(why));

        snprintf(name, sizeof(name), "state: %s", cases[i].name);
        if (cases[i].want == 0)
            T_STR(name, rc == 0 ? "parsed" : why, "parsed");
        else
            T_HAS(name, rc == 0 ? "parsed" : why, cases[i].want);
        free(dom.sel);
    }
}

struct name_case {
    const char *name;
    const char *fmt;
    enum dkim_alg alg;
    const char *taken;          /* space-separated names already used */
    const char *want;           /* NULL = refused */
};

static void test_selector_names(void)
{
    static const struct name_case cases[] = {
        {"default ed25519", "mx%Y%m%d%a", DKIM_ALG_ED25519, "", "mx20261121e"},
        {"default rsa", "mx%Y%m%d%a", DKIM_ALG_RSA, "", "mx20261121r"},
        {"second of the day", "mx%Y%m%d%a", DKIM_ALG_RSA, "mx20261121r", "mx20261121rb"},
        {"third of the day", "mx%Y%m%d%a", DKIM_ALG_RSA, "mx20261121r mx20261121rb",
         "mx20261121rc"},
        {"after z", "s%a", DKIM_ALG_ED25519,
         "se seb sec sed see sef seg seh sei sej sek sel sem sen seo sep seq ser ses set "
         "seu sev sew sex sey sez", "sezb"},
        {"literal percent", "k%%%a", DKIM_ALG_ED25519, "", 0},
        {"space refused", "mx %a", DKIM_ALG_ED25519, "", 0},
        {"dots allowed", "%Y.%m.%a", DKIM_ALG_ED25519, "", "2026.11.e"},
    };
    char    out[64], why[300], name[100], buf[400];
    int     dfd = open(tmpdir, O_RDONLY | O_DIRECTORY);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dkim_domain dom = {"example.com", 0, 0};
        char   *save = 0;

        snprintf(buf, sizeof(buf), "%s", cases[i].taken);
        for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(0, " ", &save))
            strcpy(dkim_domain_add(&dom)->name, t);
        snprintf(name, sizeof(name), "selector name: %s", cases[i].name);
        if (dkim_selector_make(cases[i].fmt, cases[i].alg, T0 + 3600, &dom, dfd, out,
                               sizeof(out), why, sizeof(why)) < 0)
            snprintf(out, sizeof(out), "refused");
        T_STR(name, out, cases[i].want ? cases[i].want : "refused");
        free(dom.sel);
    }
    close(dfd);
}

/* state_of - SELECTOR's state name in DOMAIN, or "gone"/"error" */
static const char *state_of(const struct mx_conf *c, const char *domain, const char *selector)
{
    struct dkim_domain *dom;
    struct dkim_selector *s;
    const char *r;
    char    why[300];

    if (dkim_store_load(c, domain, &dom, why, sizeof(why)) < 0)
        return "error";
    s = dkim_domain_find(dom, selector);
    r = s ? dkim_state_name(s->state) : "gone";
    dkim_domain_free(dom);
    return r;
}

static void test_lifecycle(void)
{
    struct mx_conf *c = conf_with("dkim_retire_after = 7d\ndkim_delete_after = 30d\n"
                                  "dkim_rotate_after = 90d\ndkim_rsa_bits = 1024\n");
    struct strbuf rep = STRBUF_INIT;
    char    why[300], path[DKIM_PATH_MAX];
    int     made, changed, unseen;
    struct stat st;

    set_now(T0);
    T_INT("ensure makes keys", dkim_store_ensure(c, "life.test", &made, why, sizeof(why)), 0);
    T_INT("ensure: made", made, 1);
    T_INT("ensure again", dkim_store_ensure(c, "life.test", &made, why, sizeof(why)), 0);
    T_INT("ensure again: made nothing", made, 0);
    T_STR("first key pending", state_of(c, "life.test", "mx20261121e"), "pending");
    dkim_key_path(c, "life.test", "mx20261121e", path, sizeof(path));
    T_INT("key file mode 0600", stat(path, &st) == 0 ? (int) (st.st_mode & 0777) : -1, 0600);
    dkim_store_set_state(c, "life.test", "mx20261121e", DKIM_ACTIVE, why, sizeof(why));
    dkim_store_set_state(c, "life.test", "mx20261121r", DKIM_ACTIVE, why, sizeof(why));
    T_STR("first keys active", state_of(c, "life.test", "mx20261121r"), "active");

    set_now(T0 + 10 * DAY);
    T_INT("rotate", dkim_store_rotate(c, "life.test", &made, why, sizeof(why)), 0);
    T_INT("rotate: two keys", made, 2);
    T_INT("rotate again", dkim_store_rotate(c, "life.test", &made, why, sizeof(why)), 0);
    T_INT("rotate again: none while pending", made, 0);
    dkim_store_tick(c, "life.test", T0 + 10 * DAY, &rep, &changed, &unseen, why, sizeof(why));
    T_INT("tick: not seen in DNS, nothing changes", changed, 0);
    T_INT("tick: two unseen", unseen, 2);
    T_STR("new key still pending", state_of(c, "life.test", "mx20261201e"), "pending");

    /* what a tick does once DNS shows the key */
    dkim_store_set_state(c, "life.test", "mx20261201e", DKIM_ACTIVE, why, sizeof(why));
    T_STR("activation retires the old key", state_of(c, "life.test", "mx20261121e"), "retiring");
    T_STR("other algorithm untouched", state_of(c, "life.test", "mx20261121r"), "active");

    sb_reset(&rep);
    dkim_store_tick(c, "life.test", T0 + 16 * DAY, &rep, &changed, &unseen, why, sizeof(why));
    T_STR("6 days later still retiring", state_of(c, "life.test", "mx20261121e"), "retiring");
    set_now(T0 + 17 * DAY);
    dkim_store_tick(c, "life.test", T0 + 17 * DAY, &rep, &changed, &unseen, why, sizeof(why));
    T_STR("7 days later retired", state_of(c, "life.test", "mx20261121e"), "retired");
    T_HAS("tick reports it", sb_str(&rep), "life.test: mx20261121e (ed25519) -> retired");
    T_INT("tick: changed", changed, 1);
    dkim_key_path(c, "life.test", "mx20261121e", path, sizeof(path));
    dkim_store_tick(c, "life.test", T0 + 46 * DAY, &rep, &changed, &unseen, why, sizeof(why));
    T_OK("key kept until dkim_delete_after", access(path, F_OK) == 0);
    dkim_store_tick(c, "life.test", T0 + 47 * DAY, &rep, &changed, &unseen, why, sizeof(why));
    T_STR("30 days after retired: gone", state_of(c, "life.test", "mx20261121e"), "gone");
    T_OK("private key file deleted", access(path, F_OK) < 0);

    /* automatic rotation: the active ed25519 key is 90 days old at T0+100d */
    sb_reset(&rep);
    dkim_store_tick(c, "life.test", T0 + 99 * DAY, &rep, &changed, &unseen, why, sizeof(why));
    T_OK("no rotation before 90 days", strstr(sb_str(&rep), "rotation") == 0);
    set_now(T0 + 100 * DAY);
    dkim_store_tick(c, "life.test", T0 + 100 * DAY, &rep, &changed, &unseen, why, sizeof(why));
    T_HAS("rotation after 90 days", sb_str(&rep), "mx20270301e (ed25519) new pending key (rotation)");
    T_STR("rotated key pending", state_of(c, "life.test", "mx20270301e"), "pending");
    sb_free(&rep);
    conf_free(c);
}

/* mkstore_domain - a fresh domain with one key, for the refusal tests */
static void fresh_domain(const struct mx_conf *c, const char *domain)
{
    char    why[300];

    if (dkim_store_keygen(c, domain, "ed25519", 0, DKIM_ACTIVE, why, sizeof(why)) < 0)
        printf("keygen %s: %s\n", domain, why), exit(1);
}

static void test_refusals(void)
{
    struct mx_conf *c = conf_with("");
    struct dkim_domain *dom = 0;
    char    why[300], path[DKIM_PATH_MAX], other[400], *before, *after;
    EVP_PKEY *pk;
    FILE   *fp;

    set_now(T0);
    fresh_domain(c, "loose.test");
    snprintf(path, sizeof(path), "%s/loose.test/mx20261121e.pem", store);
    chmod(path, 0640);
    T_INT("loose key mode: load fails", dkim_store_load(c, "loose.test", &dom, why, sizeof(why)), -1);
    T_HAS("loose key mode: says why", why, "has mode 640; private keys must be 0600");
    snprintf(path, sizeof(path), "%s/loose.test/state", store);
    before = mx_read_file(path, 0);
    T_INT("loose key mode: keygen refused",
          dkim_store_keygen(c, "loose.test", 0, 0, DKIM_PENDING, why, sizeof(why)), -1);
    after = mx_read_file(path, 0);
    T_STR("loose key mode: state untouched", after, before);
    free(before);
    free(after);

    fresh_domain(c, "corrupt.test");
    snprintf(path, sizeof(path), "%s/corrupt.test/mx20261121e.pem", store);
    mx_write_atomic(path, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", 58, 0600);
    T_INT("corrupt PEM: load fails", dkim_store_load(c, "corrupt.test", &dom, why, sizeof(why)), -1);
    T_HAS("corrupt PEM: says why", why, "not a readable unencrypted private key");

    fresh_domain(c, "short.test");
    EVP_PKEY *small = EVP_RSA_gen(512);
    snprintf(path, sizeof(path), "%s/short.test/mx20261121e.pem", store);
    fp = fopen(path, "w");
    PEM_write_PKCS8PrivateKey(fp, small, 0, 0, 0, 0, 0);
    fclose(fp);
    EVP_PKEY_free(small);
    T_INT("RSA 512: load fails", dkim_store_load(c, "short.test", &dom, why, sizeof(why)), -1);
    T_HAS("RSA 512: says why", why, "RSA key of 512 bits");

    fresh_domain(c, "badstate.test");
    snprintf(path, sizeof(path), "%s/badstate.test/state", store);
    mx_write_atomic(path, "mx20261121e ed25519 256 1 active\n", 33, 0600);
    T_INT("bad state: load fails", dkim_store_load(c, "badstate.test", &dom, why, sizeof(why)), -1);
    T_HAS("bad state: says why", why, "state: line 1: 5 fields, want 6");

    fresh_domain(c, "mismatch.test");
    snprintf(path, sizeof(path), "%s/mismatch.test/state", store);
    mx_write_atomic(path, "mx20261121e rsa 2048 1 active 1\n", 32, 0600);
    T_INT("key/state mismatch: load fails", dkim_store_load(c, "mismatch.test", &dom, why, sizeof(why)), -1);
    T_HAS("key/state mismatch: says why", why, "is a 256-bit ed25519 key; the state file says 2048-bit rsa");

    fresh_domain(c, "missing.test");
    snprintf(path, sizeof(path), "%s/missing.test/mx20261121e.pem", store);
    unlink(path);
    T_INT("missing key file: load fails", dkim_store_load(c, "missing.test", &dom, why, sizeof(why)), -1);
    T_HAS("missing key file: says why", why, "mx20261121e.pem: No such file");

    int     made = -1;

    fresh_domain(c, "old.test");
    dkim_store_set_state(c, "old.test", "mx20261121e", DKIM_RETIRED, why, sizeof(why));
    T_INT("ensure with only retired keys", dkim_store_ensure(c, "old.test", &made, why, sizeof(why)), 0);
    T_INT("ensure with only retired keys: makes new ones", made, 1);

    snprintf(other, sizeof(other), "%s/outside", tmpdir);
    mkdir(other, 0700);
    snprintf(path, sizeof(path), "%s/link.test", store);
    symlink(other, path);
    T_INT("symlinked domain: load fails", dkim_store_load(c, "link.test", &dom, why, sizeof(why)), -1);
    T_HAS("symlinked domain: says why", why, "is a symbolic link");
    T_INT("symlinked domain: keygen refused",
          dkim_store_keygen(c, "link.test", 0, 0, DKIM_PENDING, why, sizeof(why)), -1);
    snprintf(path, sizeof(path), "%s/state", other);
    T_OK("symlinked domain: nothing written outside", access(path, F_OK) < 0);

    T_INT("unnormalised domain refused", dkim_store_load(c, "../etc", &dom, why, sizeof(why)), -1);
    T_INT("absent domain loads empty", dkim_store_load(c, "none.test", &dom, why, sizeof(why)), 0);
    T_INT("absent domain: no selectors", dom ? (long) dom->n : -1, 0);
    dkim_domain_free(dom);
    T_INT("keygen: RSA 512 refused", dkim_store_keygen(c, "x.test", "rsa", 512, DKIM_PENDING, why,
                                                      sizeof(why)), -1);
    T_INT("generate RSA 512 refused", dkim_key_generate(DKIM_ALG_RSA, 512, &pk, why, sizeof(why)), -1);

    char  **names;
    size_t  n;

    T_INT("domains: listed", dkim_store_domains(c, &names, &n, why, sizeof(why)), 0);
    T_STR("domains: sorted, first", n > 0 ? names[0] : "", "badstate.test");
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    conf_free(c);
}

static void test_add_pem(void)
{
    struct mx_conf *c = conf_with("");
    struct strbuf pem = STRBUF_INIT, got = STRBUF_INIT;
    EVP_PKEY *pk;
    char    why[300];

    dkim_key_generate(DKIM_ALG_RSA, 1024, &pk, why, sizeof(why));
    dkim_key_to_pem(pk, &pem);
    T_INT("add_pem: added", dkim_store_add_pem(c, "imp.test", "default", sb_str(&pem), pem.len,
                                               DKIM_ACTIVE, why, sizeof(why)), 0);
    T_INT("add_pem: again is a no-op", dkim_store_add_pem(c, "imp.test", "default", sb_str(&pem),
                                                          pem.len, DKIM_ACTIVE, why, sizeof(why)), 1);
    T_STR("add_pem: active", state_of(c, "imp.test", "default"), "active");
    T_INT("key_pem: readable", dkim_store_key_pem(c, "imp.test", "default", &got, why, sizeof(why)), 0);
    T_HAS("key_pem: PEM", sb_str(&got), "BEGIN PRIVATE KEY");
    dkim_key_pem_free(&got);
    EVP_PKEY_free(pk);
    dkim_sb_wipe(&pem);
    dkim_key_generate(DKIM_ALG_ED25519, 0, &pk, why, sizeof(why));
    dkim_key_to_pem(pk, &pem);
    T_INT("add_pem: another key, same selector",
          dkim_store_add_pem(c, "imp.test", "default", sb_str(&pem), pem.len, DKIM_ACTIVE, why,
                             sizeof(why)), -1);
    T_HAS("add_pem: says why", why, "already has a different key");
    EVP_PKEY_free(pk);
    dkim_sb_wipe(&pem);
    conf_free(c);
}

/* write_key - a new key of ALG/BITS as PEM in tmpdir/NAME (0600) */
static void write_key(enum dkim_alg alg, int bits, const char *name)
{
    struct strbuf pem = STRBUF_INIT;
    EVP_PKEY *pk;
    char    path[400], why[300];

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    if (dkim_key_generate(alg, bits, &pk, why, sizeof(why)) < 0 || dkim_key_to_pem(pk, &pem) < 0
        || mx_write_atomic(path, pem.s, pem.len, 0600) < 0)
        printf("write_key %s: failed\n", name), exit(1);
    EVP_PKEY_free(pk);
    dkim_sb_wipe(&pem);
}

/* count - occurrences of WANT in TEXT */
static int count(const char *text, const char *want)
{
    int     n = 0;

    for (const char *p = text; (p = strstr(p, want)) != 0; p += strlen(want))
        n++;
    return n;
}

/* test_import_many - 400 domains from one SigningTable (two key files, the
 * OpenDKIM "%" domain): every one imported, none skipped */
static void test_import_many(void)
{
    struct mx_conf *c = conf_with("");
    struct strbuf kt = STRBUF_INIT, st = STRBUF_INIT, rep = STRBUF_INIT;
    char    ktp[400], stp[400], why[300], **names;
    size_t  n = 0;
    int     many = 0;

    write_key(DKIM_ALG_ED25519, 0, "many-e.pem");
    write_key(DKIM_ALG_RSA, 1024, "many-r.pem");
    sb_printf(&kt, "ke %%:mail:%s/many-e.pem\nkr %%:mailr:%s/many-r.pem\n", tmpdir, tmpdir);
    for (int i = 0; i < 400; i++)
        sb_printf(&st, "*@d%03d.a-fairly-long-domain-name.many.test %s\n", i,
                  i % 2 ? "kr" : "ke");
    snprintf(ktp, sizeof(ktp), "%s/KeyTable", tmpdir);
    snprintf(stp, sizeof(stp), "%s/SigningTable", tmpdir);
    mx_write_atomic(ktp, kt.s, kt.len, 0600);
    mx_write_atomic(stp, st.s, st.len, 0600);
    T_INT("import 400 domains: no failure", dkim_store_import(c, ktp, stp, &rep, why, sizeof(why)), 0);
    T_INT("import 400 domains: 400 imported", count(sb_str(&rep), "imported as active"), 400);
    T_STR("import 400 domains: the last one",
          state_of(c, "d399.a-fairly-long-domain-name.many.test", "mailr"), "active");
    dkim_store_domains(c, &names, &n, why, sizeof(why));
    for (size_t i = 0; i < n; i++) {
        many += strstr(names[i], ".many.test") != 0;
        free(names[i]);
    }
    T_INT("import 400 domains: 400 in the store", many, 400);
    free(names);
    sb_reset(&rep);
    T_INT("import again: no failure", dkim_store_import(c, ktp, stp, &rep, why, sizeof(why)), 0);
    T_INT("import again: 400 already there", count(sb_str(&rep), "already in the store"), 400);
    sb_free(&kt);
    sb_free(&st);
    sb_free(&rep);
    conf_free(c);
}

/* test_import_active_rule - an imported active key takes over from the
 * active key of its algorithm: never two active keys of one algorithm */
static void test_import_active_rule(void)
{
    struct mx_conf *c = conf_with("");
    struct strbuf pem = STRBUF_INIT, rep = STRBUF_INIT, kt = STRBUF_INIT;
    char    why[300], path[400], ktp[400], stp[400];

    set_now(T0);
    fresh_domain(c, "rule.test");
    write_key(DKIM_ALG_ED25519, 0, "rule-e.pem");
    snprintf(path, sizeof(path), "%s/rule-e.pem", tmpdir);
    dkim_key_read_file(path, 0, &pem, why, sizeof(why));
    T_INT("add_pem active", dkim_store_add_pem(c, "rule.test", "imp1", pem.s, pem.len, DKIM_ACTIVE,
                                               why, sizeof(why)), 0);
    T_STR("add_pem active: says who retires", why, "retiring: mx20261121e");
    T_STR("add_pem active: imported key active", state_of(c, "rule.test", "imp1"), "active");
    T_STR("add_pem active: old key of its algorithm retiring",
          state_of(c, "rule.test", "mx20261121e"), "retiring");
    dkim_sb_wipe(&pem);

    /* two KeyTable keys of one algorithm for one domain: the last wins */
    write_key(DKIM_ALG_ED25519, 0, "rule-e2.pem");
    write_key(DKIM_ALG_RSA, 1024, "rule-r.pem");
    sb_printf(&kt, "a rule2.test:sa:%s/rule-e.pem\nb rule2.test:sb:%s/rule-e2.pem\n"
              "r rule2.test:sr:%s/rule-r.pem\n", tmpdir, tmpdir, tmpdir);
    snprintf(ktp, sizeof(ktp), "%s/KeyTable2", tmpdir);
    snprintf(stp, sizeof(stp), "%s/SigningTable2", tmpdir);
    mx_write_atomic(ktp, kt.s, kt.len, 0600);
    mx_write_atomic(stp, "rule2.test a\n*@rule2.test b\nrule2.test r\n", 40, 0600);
    T_INT("import two ed25519 keys: no failure", dkim_store_import(c, ktp, stp, &rep, why,
                                                                   sizeof(why)), 0);
    T_STR("import: the first went retiring", state_of(c, "rule2.test", "sa"), "retiring");
    T_STR("import: the last is active", state_of(c, "rule2.test", "sb"), "active");
    T_STR("import: the RSA key is active too", state_of(c, "rule2.test", "sr"), "active");
    T_HAS("import: reported", sb_str(&rep), "sb._domainkey.rule2.test imported as active; "
          "retiring: sa");
    sb_free(&rep);
    sb_free(&kt);
    conf_free(c);
}

/* test_rsa_cap - pubkey_b64 holds RSA up to 4096 bits; bigger is refused */
static void test_rsa_cap(void)
{
    struct mx_conf *c = conf_with("");
    struct strbuf pem = STRBUF_INIT;
    EVP_PKEY *big = EVP_RSA_gen(4160);
    char    why[300];

    dkim_key_to_pem(big, &pem);
    T_INT("RSA 4160: import refused", dkim_store_add_pem(c, "big.test", "big", pem.s, pem.len,
                                                        DKIM_ACTIVE, why, sizeof(why)), -1);
    T_HAS("RSA 4160: says why", why, "RSA key of 4160 bits; mxdock takes 1024..4096");
    T_STR("RSA 4160: nothing stored", state_of(c, "big.test", "big"), "gone");
    T_INT("keygen RSA 4104 refused", dkim_store_keygen(c, "big.test", "rsa", 4104, DKIM_PENDING,
                                                      why, sizeof(why)), -1);
    T_HAS("keygen RSA 4104: says why", why, "outside 1024..4096");
    EVP_PKEY_free(big);
    dkim_sb_wipe(&pem);
    conf_free(c);
}

/* test_planted_links - symbolic links the milter user could plant in a
 * domain directory never make a writer touch a file elsewhere */
static void test_planted_links(void)
{
    struct mx_conf *c = conf_with("");
    char    why[300], path[DKIM_PATH_MAX], victim[400], *text;
    struct dkim_domain *dom = 0;
    int     made;

    set_now(T0);
    snprintf(victim, sizeof(victim), "%s/victim", tmpdir);
    mx_write_atomic(victim, "precious\n", 9, 0644);
    fresh_domain(c, "plant.test");
    snprintf(path, sizeof(path), "%s/plant.test/state.tmp.%d", store, 99999);
    symlink(victim, path);
    snprintf(path, sizeof(path), "%s/plant.test/mx20261121r.pem", store);
    symlink(victim, path);
    T_INT("planted links: rotate works", dkim_store_rotate(c, "plant.test", &made, why,
                                                           sizeof(why)), 0);
    text = mx_read_file(victim, 0);
    T_STR("planted links: the target is untouched", text, "precious\n");
    free(text);
    snprintf(path, sizeof(path), "%s/plant.test/state.tmp.99999", store);
    T_OK("planted temp link removed", access(path, F_OK) < 0 && errno == ENOENT);
    T_STR("planted key-name link: name skipped", state_of(c, "plant.test", "mx20261121rb"),
          "pending");

    snprintf(path, sizeof(path), "%s/plant.test/state", store);
    unlink(path);
    symlink(victim, path);
    T_INT("state is a link: load fails", dkim_store_load(c, "plant.test", &dom, why, sizeof(why)), -1);
    T_HAS("state is a link: says why", why, "state: it is a symbolic link");
    T_INT("state is a link: keygen refused", dkim_store_keygen(c, "plant.test", 0, 0, DKIM_PENDING,
                                                               why, sizeof(why)), -1);
    text = mx_read_file(victim, 0);
    T_STR("state is a link: the target is untouched", text, "precious\n");
    free(text);
    conf_free(c);
}

/* test_tags - dkim_tags_parse on RFC 6376 3.2/3.5 edge cases: the status
 * and what is kept (issue 12 item 4) */
static void test_tags(void)
{
#define GOOD "v=1; a=rsa-sha256; d=example.com; s=sel; h=from:to; bh=YWJj; b=ZGVm"
    static const struct {
        const char *name, *value;
        enum dkim_tags_st want;
        const char *d;
    } cases[] = {
        {"good", GOOD, DKIM_TAGS_OK, "example.com"},
        {"trailing ';' and folding", " " GOOD ";\r\n\t", DKIM_TAGS_OK, "example.com"},
        {"b= folded", GOOD "\n\t ZGVm==", DKIM_TAGS_OK, "example.com"},
        {"selector with '_' and dots", "v=1; a=rsa-sha256; d=e.example; s=s_1.sub; h=from; bh=YQ; b=YQ",
         DKIM_TAGS_OK, "e.example"},
        {"space inside d=", "v=1; a=rsa-sha256; d=sig. example; s=s; h=from; bh=YQ; b=YQ",
         DKIM_TAGS_SYNTAX, ""},
        {"one-label d=", "v=1; a=rsa-sha256; d=example; s=s; h=from; bh=YQ; b=YQ",
         DKIM_TAGS_SYNTAX, ""},
        {"label ends with '-'", "v=1; a=rsa-sha256; d=a-.example; s=s; h=from; bh=YQ; b=YQ",
         DKIM_TAGS_SYNTAX, ""},
        {"s=r(s)a", "v=1; a=rsa-sha256; d=e.example; s=r(s)a; h=from; bh=YQ; b=YQ",
         DKIM_TAGS_SYNTAX, "e.example"},
        {"empty b=", "v=1; a=rsa-sha256; d=e.example; s=s; h=from; bh=YQ; b=",
         DKIM_TAGS_SYNTAX, "e.example"},
        {"'=' inside b=", "v=1; a=rsa-sha256; d=e.example; s=s; h=from; bh=YQ; b=Y=Q",
         DKIM_TAGS_SYNTAX, "e.example"},
        {"empty h= element", "v=1; a=rsa-sha256; d=e.example; s=s; h=from::to; bh=YQ; b=YQ",
         DKIM_TAGS_SYNTAX, "e.example"},
        {"l= not a number", GOOD "; l=12a", DKIM_TAGS_SYNTAX, "example.com"},
        {"tag name with '-'", GOOD "; x-y=1", DKIM_TAGS_SYNTAX, ""},
        {"empty tag-spec", "v=1;; a=rsa-sha256", DKIM_TAGS_SYNTAX, ""},
        {"uppercase V= is another tag", "V=1; a=rsa-sha256; d=e.example; s=s; h=from; bh=YQ; b=YQ",
         DKIM_TAGS_UNUSABLE, "e.example"},
        {"unknown tag ignored", GOOD "; zz=anything at all", DKIM_TAGS_OK, "example.com"},
        {"i= is d=", GOOD "; i=@example.com", DKIM_TAGS_OK, "example.com"},
        {"i= below d=", GOOD "; i=u@a.example.com", DKIM_TAGS_OK, "example.com"},
        {"i= only ends like d=", GOOD "; i=u@badexample.com", DKIM_TAGS_UNUSABLE, "example.com"},
        {"c= unknown", GOOD "; c=relaxed/fancy", DKIM_TAGS_UNUSABLE, "example.com"},
        {"q=dns/txt", GOOD "; q=dns/txt", DKIM_TAGS_OK, "example.com"},
        {"x= now", GOOD "; x=2000000000", DKIM_TAGS_OK, "example.com"},
        {"x= past", GOOD "; x=1999999999", DKIM_TAGS_UNUSABLE, "example.com"},
        {"x= equal t=", GOOD "; t=2000000001; x=2000000001", DKIM_TAGS_UNUSABLE, "example.com"},
        {"ed25519", "v=1; a=ed25519-sha256; d=e.example; s=s; h=From; bh=YQ; b=YQ",
         DKIM_TAGS_OK, "e.example"},
        {"rsa-sha1", "v=1; a=rsa-sha1; d=e.example; s=s; h=from; bh=YQ; b=YQ",
         DKIM_TAGS_REFUSED, "e.example"},
    };
    struct dkim_tags t;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char    name[128];

        snprintf(name, sizeof(name), "tags %s", cases[i].name);
        T_INT(name, dkim_tags_parse(cases[i].value, 2000000000, &t), cases[i].want);
        if (t.st != cases[i].want)
            printf("# why: %s\n", t.why);
        snprintf(name, sizeof(name), "tags %s: d=", cases[i].name);
        T_STR(name, t.d, cases[i].d);
    }
    dkim_tags_parse(GOOD, 2000000000, &t);
    T_STR("tags: b= prefix", t.b8, "ZGVm");
    T_INT("tags: b= hash ignores white space", t.bhash == dkim_tags_bhash(" Z G\r\n\tVm", 9), 1);
#undef GOOD
}

/* test_keyrec - RFC 6376 3.6.1 key records: what a verifier may use */
static void test_keyrec(void)
{
    /* a 2048-bit RSA SubjectPublicKeyInfo and a raw Ed25519 key (RFC 8463) */
    static const char rsa[] =
        "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtayy6mRV+0sLsDFZeh4j1pHLFQSrhm+LdlK/80c4mZd0"
        "zyG8aoQVqcWeKMuKpNhkj2L3H7ErPFeaW1LSqSopyi48wPixnPGMdh57hYB2MonMOm2l8eoC1yfXIK4NXAnbY"
        "nzMlWEICPu0/EvOjR+jo56mvTqKmC1CGApwDkHZsKODr45TNGuDGd+GDEBeQS5yUKoDm9qabwvpcRz1mhB9Z9L"
        "p5RtlUH0wtFMSlCu5ns3dK/0zPsqehCsf04waARF8pLpjBI7ZOib4zFJs2wwGBNBmw7GnfiZIXGbmW6OHBrt87"
        "D5HtK1eO9vwGWjb4uykFViRfeIPk+A/JbXCbqZMNQIDAQAB";
    static const char ed[] = "ucbXhrcdB79DPDgK/zFw6CmVv+c2LBGyLMgcDGvncvE=";
    static const struct {
        const char *name, *pre, *key;
        int     want;
    } cases[] = {
        {"rsa, v= first", "v=DKIM1; k=rsa; p=", rsa, 0},
        {"rsa, no v= (RECOMMENDED only)", "k=rsa; p=", rsa, 0},
        {"rsa, no k= (default rsa)", "v=DKIM1; p=", rsa, 0},
        {"ed25519 with k=ed25519", "v=DKIM1; k=ed25519; p=", ed, 0},
        {"ed25519 key without k= (default rsa)", "v=DKIM1; p=", ed, -1},
        {"rsa key under k=ed25519", "v=DKIM1; k=ed25519; p=", rsa, -1},
        {"v= not first", "k=rsa; v=DKIM1; p=", rsa, -1},
        {"v=DKIM2", "v=DKIM2; p=", rsa, -1},
        {"a tag twice", "v=DKIM1; k=rsa; k=rsa; p=", rsa, -1},
        {"unknown k=", "v=DKIM1; k=dsa; p=", rsa, -1},
        {"revoked (empty p=) is the verifier's to report", "v=DKIM1; p=", "", 0},
        {"unknown tags ignored", "v=DKIM1; zz=1; n=note; p=", rsa, 0},
        {"white space around tags", " v = DKIM1 ;  k = rsa ; p = ", rsa, 0},
        {"p= not base64", "v=DKIM1; p=", "!!!!", -1},
        {"not a tag-list", "hello world", "", -1},
    };
    char    txt[1024], why[128];

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char    name[160];

        snprintf(txt, sizeof txt, "%s%s", cases[i].pre, cases[i].key);
        snprintf(name, sizeof name, "keyrec: %s", cases[i].name);
        T_INT(name, dkim_keyrec_check(txt, why, sizeof why), cases[i].want);
    }
    T_INT("keyrec: no p= at all", dkim_keyrec_check("v=DKIM1; k=rsa", why, sizeof why), -1);
    T_STR("keyrec: the reason in libopendkim's words", why, "key DNS reply corrupt");
}

int     main(void)
{
    if (mkdtemp(tmpdir) == 0)
        return perror("mkdtemp"), 1;
    snprintf(store, sizeof(store), "%s/store", tmpdir);
    test_quoted();
    test_keys();
    test_state_parse();
    test_selector_names();
    test_lifecycle();
    test_refusals();
    test_add_pem();
    test_import_many();
    test_import_active_rule();
    test_rsa_cap();
    test_tags();
    test_keyrec();
    test_planted_links();
    return t_done_rm(tmpdir);
}
