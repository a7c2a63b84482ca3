/*
 * test_milter.c - the milter's deciding code without an MTA (decide.c:
 * verdicts, the one From domain, the sender check; authres.c), and
 * dkim_msg: sign with the keyring's Ed25519 and RSA keys, verify in-process with the keys served from a file (DKIM_QUERY_FILE),
 * tamper -> fail.  Also proves the TCP_NODELAY trick: an accepted socket
 * inherits the option from its listening socket.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "decide.h"
#include "dkim_msg.h"
#include "t.h"
#include "t_keyfile.h"

/* __lsan_default_suppressions - libopendkim 2.11 (Debian) does not free
 * the key it loads for one of the two signing handles (dkim_privkey_load,
 * about 1.3 KB per signed message); reported, not ours to fix */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:dkim_privkey_load\n";
}

/* __asan_default_options - full stacks through libcrypto, so the
 * suppression above sees dkim_privkey_load under the OpenSSL frames */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}

static void test_escape(void)
{
    static const struct { const char *in, *want; } cases[] = {
        {"plain text", "plain text"},
        {"100% sure", "100%% sure"},
        {"line\r\nbreak", "line  break"},
        {"%%", "%%%%"},
    };
    char    out[64], name[32];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        milter_reply_escape(cases[i].in, out, sizeof(out));
        snprintf(name, sizeof(name), "reply escape #%zu", i);
        T_STR(name, out, cases[i].want);
    }
    T_INT("escape overflow", milter_reply_escape("%%%%%%", out, 5), -1);
}

static void test_spf_verdicts(struct mx_conf *c)
{
    static const struct {
        enum mxspf_result r; const char *act; int kind; const char *rcode, *xcode; int tag;
    } cases[] = {
        {MXSPF_FAIL, 0, MV_REJECT, "550", "5.7.23", 1},
        {MXSPF_SOFTFAIL, 0, MV_CONTINUE, "", "", 1},
        {MXSPF_PERMERROR, 0, MV_CONTINUE, "", "", 1},
        {MXSPF_PERMERROR, "reject", MV_REJECT, "550", "5.7.24", 1},
        {MXSPF_TEMPERROR, 0, MV_TEMPFAIL, "451", "4.7.24", 1},
        {MXSPF_FAIL, "tempfail", MV_TEMPFAIL, "451", "4.7.23", 1},
        {MXSPF_FAIL, "ignore", MV_CONTINUE, "", "", 0},
        {MXSPF_PASS, 0, MV_CONTINUE, "", "", 1},
    };
    struct mxspf_answer a;
    struct milter_verdict v;
    char    name[64];
    int     tag;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char   *saved_fail = c->spf_fail_action, *saved_perm = c->spf_permerror_action;

        if (cases[i].act)
            c->spf_fail_action = c->spf_permerror_action = (char *) cases[i].act;
        memset(&a, 0, sizeof(a));
        a.result = cases[i].r;
        snprintf(a.domain, sizeof(a.domain), "example.org");
        milter_decide_spf(c, &a, "192.0.2.1", &v, &tag);
        snprintf(name, sizeof(name), "spf %s/%s kind", mxspf_result_name(cases[i].r),
                 cases[i].act ? cases[i].act : "default");
        T_INT(name, v.kind, cases[i].kind);
        T_STR(name, v.rcode, cases[i].rcode);
        T_STR(name, v.xcode, cases[i].xcode);
        T_INT(name, tag, cases[i].tag);
        c->spf_fail_action = saved_fail;
        c->spf_permerror_action = saved_perm;
    }
    memset(&a, 0, sizeof(a));
    a.result = MXSPF_FAIL;
    snprintf(a.domain, sizeof(a.domain), "example.org");
    milter_decide_spf(c, &a, "192.0.2.1", &v, &tag);
    T_STR("spf fail text", v.text, "192.0.2.1 is not allowed to send mail from example.org");
}

static void test_dkim_verdicts(struct mx_conf *c)
{
    static const struct {
        const char *name; enum dkim_msg_res r[3]; size_t n; int kind; const char *xcode;
    } cases[] = {
        {"none", {0}, 0, MV_CONTINUE, ""},
        {"one pass one fail", {DKIM_MSG_PASS, DKIM_MSG_FAIL}, 2, MV_CONTINUE, ""},
        {"fail default tag", {DKIM_MSG_FAIL}, 1, MV_CONTINUE, ""},
        {"all temperror", {DKIM_MSG_TEMPERROR, DKIM_MSG_TEMPERROR}, 2, MV_TEMPFAIL, "4.7.20"},
        {"temperror + fail", {DKIM_MSG_TEMPERROR, DKIM_MSG_FAIL}, 2, MV_CONTINUE, ""},
    };
    struct dkim_msg_sig s[3];
    struct milter_verdict v;
    int     tag;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(s, 0, sizeof(s));
        for (size_t j = 0; j < cases[i].n; j++)
            s[j].res = cases[i].r[j];
        milter_decide_dkim(c, s, cases[i].n, &v, &tag);
        T_INT(cases[i].name, v.kind, cases[i].kind);
        T_STR(cases[i].name, v.xcode, cases[i].xcode);
    }
    char   *saved = c->dkim_fail_action;

    c->dkim_fail_action = "reject";
    memset(s, 0, sizeof(s));
    s[0].res = DKIM_MSG_FAIL;
    milter_decide_dkim(c, s, 1, &v, &tag);
    T_INT("fail reject kind", v.kind, MV_REJECT);
    T_STR("fail reject code", v.xcode, "5.7.20");
    c->dkim_fail_action = saved;
}

/* test_our_ar - RFC 8601 2.5: an incoming A-R is ours (and removed) when
 * its authserv-id is ours, written as a token or a quoted-string, with or
 * without a final dot; an id that ours merely starts with stays (item 6) */
static void test_our_ar(void)
{
    static const struct {
        const char *name, *value;
        int     want;
    } cases[] = {
        {"token", " mx.example.org; dkim=pass", 1},
        {"case and comment", " (c) MX.Example.ORG 1; none", 1},
        {"quoted-string", " \"mx.example.org\"; dkim=pass header.d=x.test", 1},
        {"quoted with a quoted-pair", " \"mx.exam\\ple.org\"; dkim=pass", 1},
        {"trailing dot", " mx.example.org.; dkim=pass", 1},
        {"quoted trailing dot", " \"mx.example.org.\"; dkim=pass", 1},
        {"prefix of ours", " mx; dkim=pass", 0},
        {"quoted prefix of ours", " \"mx.example\"; dkim=pass", 0},
        {"ours is a prefix of it", " mx.example.org.evil; dkim=pass", 0},
        {"unterminated quote", " \"mx.example.org; dkim=pass", 0},
        {"empty", " ; dkim=pass", 0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        T_INT(cases[i].name, milter_is_our_ar(cases[i].value, "mx.example.org"), cases[i].want);
}

static void test_headers(const struct mx_conf *c)
{
    static const struct {
        const char *name, *f1, *f2, *want;
    } from[] = {
        {"display name", " Alice <alice@Example.COM>", 0, "example.com"},
        {"comment", " bob@sub.example.org (Bob)", 0, "sub.example.org"},
        {"quoted local", " \"a@evil.test\" <x@good.test>", 0, "good.test"},
        {"two addresses", " a@one.test, b@two.test", 0, ""},
        {"two angle addresses", " <alice@example.test>, <ceo@victim.test>", 0, ""},
        {"two From fields", " <alice@example.test>", " <ceo@victim.test>", ""},
        {"no address", " undisclosed", 0, ""},
    };
    static const struct {
        const char *name, *user, *dom;
        size_t  nfrom;
        int     want;
    } sender[] = {
        {"own domain", "u@example.com", "example.com", 1, 0},
        {"other domain", "u@example.com", "other.com", 1, 1},
        {"several From", "u@example.com", "", 2, 1},
        {"several addresses", "u@example.com", "", 1, 1},
        {"no From", "u@example.com", "", 0, 1},
        {"plain user, no From", "user", "", 0, 0},
        {"plain user, several", "user", "", 2, 1},
    };
    char    dom[256], why[128];
    struct strbuf sb = STRBUF_INIT;
    struct dkim_msg_sig s;

    for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
        const char *v[2] = {from[i].f1, from[i].f2};
        int     rc = milter_from_domain(v, from[i].f2 ? 2 : 1, dom, sizeof(dom), why,
                                        sizeof(why));

        T_STR(from[i].name, dom, from[i].want);
        T_INT(from[i].name, rc, *from[i].want ? 0 : -1);
    }
    for (size_t i = 0; i < sizeof(sender) / sizeof(sender[0]); i++)
        T_INT(sender[i].name, milter_sender_refused(sender[i].user, sender[i].nfrom,
                                                    sender[i].dom), sender[i].want);
    T_INT("our A-R", milter_is_our_ar(" mx.test; dkim=pass", "mx.test"), 1);
    T_INT("our A-R case", milter_is_our_ar(" (c) MX.Test 1; none", "mx.test"), 1);
    T_INT("other A-R", milter_is_our_ar(" mx.test.evil; dkim=pass", "mx.test"), 0);
    T_INT("sender ok", milter_sender_ok("u@example.com", "example.com"), 1);
    T_INT("sender sub ok", milter_sender_ok("u@example.com", "a.example.com"), 1);
    T_INT("sender bad", milter_sender_ok("u@example.com", "other.com"), 0);
    T_INT("sender plain name", milter_sender_ok("user", "other.com"), 1);
    T_STR("parent", milter_parent_domain("a.b.example.com"), "b.example.com");
    T_OK("no parent of 2 labels", milter_parent_domain("example.com") == 0);
    T_INT("trusted auth", milter_trusted(c, "u@x.test", 0, ""), 1);
    T_INT("untrusted", milter_trusted(c, "", 0, "smtpd"), 0);
    memset(&s, 0, sizeof(s));
    s.res = DKIM_MSG_PASS, s.bits = 2048;
    snprintf(s.d, sizeof(s.d), "example.com");
    snprintf(s.s, sizeof(s.s), "sel1");
    snprintf(s.a, sizeof(s.a), "rsa-sha256");
    snprintf(s.b, sizeof(s.b), "AbCdEfGh");
    milter_ar_build(&sb, "mx.test", "u@example.com", 0, 1, &s, 1);
    T_STR("A-R", sb_str(&sb), "mx.test;\n\tauth=pass;\n\t"
          "dkim=pass (2048-bit key) header.d=example.com header.s=sel1 "
          "header.a=rsa-sha256 header.b=AbCdEfGh");
    T_OK("A-R never shows the SASL login", strstr(sb_str(&sb), "u@example.com") == 0);
    sb_reset(&sb);
    milter_ar_build(&sb, "mx.test", "", 0, 1, 0, 0);
    T_STR("A-R none", sb_str(&sb), "mx.test;\n\tdkim=none");
    sb_reset(&sb);
    s.res = DKIM_MSG_NEUTRAL, s.bits = 0, s.d[0] = 0;
    snprintf(s.s, sizeof(s.s), "r?s?a");
    snprintf(s.b, sizeof(s.b), "UK/F/7gh");
    snprintf(s.why, sizeof(s.why), "syntax: d= is not a domain name");
    milter_ar_build(&sb, "mx.test", "", 0, 1, &s, 1);
    T_STR("A-R quotes values that are no token, leaves empty ones out", sb_str(&sb),
          "mx.test;\n\tdkim=neutral (syntax: d= is not a domain name) header.s=\"r?s?a\" "
          "header.a=rsa-sha256 header.b=\"UK/F/7gh\"");
    sb_free(&sb);
    test_our_ar();
}

/* feed - a small message through M; BODY chooses the body text */
static void feed(struct dkim_msg *m, const char *body)
{
    static const char *const h[][2] = {
        {"Received", " from x by y; Sat, 21 Nov 2026 12:00:00 +0000"},
        {"From", " Alice <alice@example.test>"},
        {"To", " bob@example.org"},
        {"Subject", " hello\n\tfolded"},
        {"Date", " Sat, 21 Nov 2026 12:00:00 +0000"},
        {"Message-ID", " <1@example.test>"},
    };

    for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++)
        dkim_msg_header(m, h[i][0], h[i][1]);
    dkim_msg_eoh(m);
    dkim_msg_body(m, (const unsigned char *) body, strlen(body));
}

static void verify_with(struct dkim_msg_lib *lib, char *const *sighdr, size_t n,
                        const char *body, enum dkim_msg_res want, const char *label)
{
    char    why[256], name[96];
    struct dkim_msg *v = dkim_msg_verify_new(lib, "test", why, sizeof(why));

    T_OK("verify handle", v != 0);
    if (v == 0)
        return;
    for (size_t i = 0; i < n; i++)
        dkim_msg_header(v, "DKIM-Signature", sighdr[i]);
    feed(v, body);
    T_INT("verify eom", dkim_msg_eom(v, why, sizeof(why)), 0);
    T_INT("two results", dkim_msg_nsig(v), 2);
    for (size_t i = 0; i < dkim_msg_nsig(v); i++) {
        const struct dkim_msg_sig *s = dkim_msg_sig(v, i);

        snprintf(name, sizeof(name), "%s %s", label, s->a);
        T_STR(name, dkim_msg_res_name(s->res), dkim_msg_res_name(want));
        if (s->res != want)
            printf("# why: %s\n", s->why);
        T_STR("d=", s->d, "example.test");
        T_INT("b= prefix", strlen(s->b), 8);
        if (want == DKIM_MSG_PASS)
            T_INT("key bits", s->bits, strcmp(s->a, "rsa-sha256") == 0 ? 2048 : 256);
    }
    dkim_msg_free(v);
}

/* mutate - SIG with the first FROM replaced by TO (FROM "" = prepend);
 * the caller frees */
static char *mutate(const char *sig, const char *from, const char *to)
{
    const char *at = *from ? strstr(sig, from) : sig;
    size_t  fl = strlen(from), tl = strlen(to);
    char   *out;

    if (at == 0 || (out = malloc(strlen(sig) + tl + 1)) == 0)
        return strdup("broken mutation");
    memcpy(out, sig, (size_t) (at - sig));
    memcpy(out + (at - sig), to, tl);
    strcpy(out + (at - sig) + tl, at + fl);
    return out;
}

/* verify_one - the results of the signatures SIGS[0..N) over feed()'s
 * message; the handle is the caller's */
static struct dkim_msg *verify_one(struct dkim_msg_lib *lib, char *const *sigs, size_t n)
{
    char    why[256];
    struct dkim_msg *v = dkim_msg_verify_new(lib, "test", why, sizeof(why));

    if (v == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        dkim_msg_header(v, "DKIM-Signature", sigs[i]);
    feed(v, "Hello\r\nWorld\r\n");
    if (dkim_msg_eom(v, why, sizeof(why)) != 0) {
        dkim_msg_free(v);
        return 0;
    }
    return v;
}

/* test_bad_sigs - issue 12 items 1 and 4: signatures whose tags are wrong
 * get the result of docs/MILTER.md's table with the real reason, never
 * "policy (rsa-sha1 ...)" and never pass or temperror; header.a only when
 * the algorithm is known.  RSA is the valid signature they start from. */
static void test_bad_sigs(struct dkim_msg_lib *lib, const char *rsa, const char *ed)
{
    static const struct {
        const char *name, *from, *to, *res, *why, *a;
    } cases[] = {
        {"valid", "", "", "pass", "", "rsa-sha256"},
        {"x= in the past", "v=1;", "v=1; x=1000000000;", "permerror", "signature expired: x= is past", "rsa-sha256"},
        {"no v=", "v=1;", "", "permerror", "missing required tag v=", "rsa-sha256"},
        {"v=2", "v=1;", "v=2;", "permerror", "unsupported version", "rsa-sha256"},
        {"i= outside d=", "v=1;", "v=1; i=a@evil.test;", "permerror", "i= is not within d=", "rsa-sha256"},
        {"unknown a=", "a=rsa-sha256", "a=rsa-sha512", "permerror", "unknown algorithm", ""},
        {"rsa-sha1", "a=rsa-sha256", "a=rsa-sha1", "policy", "rsa-sha1 not accepted", "rsa-sha1"},
        {"random bytes", "", "\x01\xfe junk;;== ", "neutral", "syntax: bad tag name", ""},
        {"space inside d=", "d=example.test", "d=example. test", "neutral", "d= is not a domain", "rsa-sha256"},
        {"s= not a selector", "s=", "s=r(s)a", "neutral", "s= is not a selector", "rsa-sha256"},
        {"duplicate d=", "v=1;", "v=1; d=example.test;", "neutral", "duplicate d=", ""},
        {"From not signed", "h=From:To:Subject:Date:Message-ID:from:", "h=To:Subject:Date:Message-ID:", "permerror", "From is not signed", "rsa-sha256"},
        {"x= before t=", "; t=", "; x=4102444799; t=4102444800; z=", "permerror", "x= is not after t=", "rsa-sha256"},
        {"q= unknown", "v=1;", "v=1; q=http/get;", "permerror", "no known query method", "rsa-sha256"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char   *sig = *cases[i].to || *cases[i].from ? mutate(rsa, cases[i].from, cases[i].to)
            : strdup(rsa);
        struct dkim_msg *v = verify_one(lib, &sig, 1);
        const struct dkim_msg_sig *s = v ? dkim_msg_sig(v, 0) : 0;
        char    name[128];

        if (strcmp(cases[i].name, "random bytes") == 0)
            free(sig), sig = strdup(cases[i].to);
        snprintf(name, sizeof(name), "bad sig %s: result", cases[i].name);
        T_STR(name, s ? dkim_msg_res_name(s->res) : "(none)", cases[i].res);
        snprintf(name, sizeof(name), "bad sig %s: reason", cases[i].name);
        T_HAS(name, s ? s->why : "(none)", cases[i].why);
        snprintf(name, sizeof(name), "bad sig %s: header.a", cases[i].name);
        T_STR(name, s ? s->a : "(none)", cases[i].a);
        dkim_msg_free(v);
        free(sig);
    }
    (void) ed;
}

/* test_sig_limit - dkim_max_signatures (5) counts every signature, junk
 * included: 50 junk signatures give 5 results and 45 counted, and the
 * A-R stays bounded with one comment for the rest (items 1 and 2) */
static void test_sig_limit(struct dkim_msg_lib *lib, const char *rsa)
{
    char   *sigs[1900];
    struct dkim_msg *v;
    struct strbuf sb = STRBUF_INIT;

    for (size_t i = 0; i < 1900; i++)
        sigs[i] = i == 1899 ? strdup(rsa) : mutate(rsa, "v=1;", "v=1; x=1000000000;");
    v = verify_one(lib, sigs + 1850, 50);
    T_INT("50 junk signatures: 5 results", v ? dkim_msg_nsig(v) : 99, 5);
    T_INT("50 junk signatures: 45 past the limit", v ? dkim_msg_nextra(v) : 0, 45);
    dkim_msg_free(v);
    v = verify_one(lib, sigs, 1900);
    if (v) {
        struct milter_ar_in in = {"mx.test", "", 0, 1, dkim_msg_sig(v, 0), dkim_msg_nsig(v),
            dkim_msg_nextra(v), 0};

        milter_ar_write(&sb, &in);
    }
    T_OK("1900 signatures: A-R bounded", sb.len > 0 && sb.len < MILTER_AR_MAX);
    T_HAS("1900 signatures: the rest summarised", sb_str(&sb),
          "(1895 more DKIM signatures not evaluated");
    T_INT("1900 signatures: 5 dkim= results", v ? dkim_msg_nsig(v) : 0, 5);
    dkim_msg_free(v);
    sb_free(&sb);
    for (size_t i = 0; i < 1900; i++)
        free(sigs[i]);
}

static void test_sign_verify(struct mx_conf *c, const char *dir)
{
    char    why[256], path[512];
    struct dkim_keyring *kr;
    struct dkim_keyset *ks;
    struct dkim_msg_lib *lib;
    struct dkim_msg *m;
    char   *sig[2] = {0, 0};

    T_INT("keygen", dkim_store_keygen(c, "example.test", 0, 2048, DKIM_ACTIVE, why,
                                      sizeof(why)), 0);
    snprintf(path, sizeof(path), "%s/keys.txt", dir);
    T_INT("keyfile", t_keyfile(c, path), 0);
    kr = dkim_keyring_new(c);
    ks = dkim_keyring_get(kr, "example.test");
    T_OK("keyset", ks != 0 && ks->n == 2);
    T_OK("no keys for other domain", dkim_keyring_get(kr, "example.org") == 0);
    lib = dkim_msg_lib_new(c, path, why, sizeof(why));
    T_OK("lib", lib != 0);
    if (ks == 0 || lib == 0)
        return;
    m = dkim_msg_sign_new(lib, "test", ks, why, sizeof(why));
    T_OK("sign handle", m != 0);
    feed(m, "Hello\r\nWorld\r\n");
    T_INT("sign eom", dkim_msg_eom(m, why, sizeof(why)), 0);
    T_INT("two signatures", dkim_msg_nsighdr(m), 2);
    for (size_t i = 0; i < 2 && dkim_msg_sighdr(m, i); i++)
        sig[i] = strdup(dkim_msg_sighdr(m, i));
    T_HAS("oversigned from", sig[0] ? sig[0] : "", "Message-ID:from:to");
    T_HAS("relaxed", sig[0] ? sig[0] : "", "c=relaxed/relaxed");
    dkim_msg_free(m);
    verify_with(lib, sig, 2, "Hello\r\nWorld\r\n", DKIM_MSG_PASS, "pass");
    verify_with(lib, sig, 2, "Hellp\r\nWorld\r\n", DKIM_MSG_FAIL, "tampered");
    if (sig[0] && sig[1]) {
        test_bad_sigs(lib, strstr(sig[0], "rsa-sha256") ? sig[0] : sig[1],
                      strstr(sig[0], "rsa-sha256") ? sig[1] : sig[0]);
        test_sig_limit(lib, strstr(sig[0], "rsa-sha256") ? sig[0] : sig[1]);
    }
    free(sig[0]);
    free(sig[1]);
    dkim_keyset_release(kr, ks);
    dkim_keyring_free(kr);
    dkim_msg_lib_free(lib);
}

/* test_nodelay - accepted sockets inherit TCP_NODELAY from the listener
 * (what mxdock-milter relies on, since libmilter owns accept()) */
static void test_nodelay(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int     one = 1, got = 0, l = socket(AF_INET, SOCK_STREAM, 0), s, a;
    socklen_t gl = sizeof(got);

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(l, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    bind(l, (struct sockaddr *) &sa, sizeof(sa));
    listen(l, 1);
    getsockname(l, (struct sockaddr *) &sa, &len);
    s = socket(AF_INET, SOCK_STREAM, 0);
    T_INT("connect", connect(s, (struct sockaddr *) &sa, sizeof(sa)), 0);
    a = accept(l, 0, 0);
    getsockopt(a, IPPROTO_TCP, TCP_NODELAY, &got, &gl);
    T_INT("accepted socket inherits TCP_NODELAY", got != 0, 1);
    close(a), close(s), close(l);
}

int     main(void)
{
    char    dir[] = "/tmp/test_milter.XXXXXX";
    struct mx_conf *c = conf_defaults();
    char    cmd[128];

    if (c == 0 || mkdtemp(dir) == 0)
        return 2;
    free(c->dkim_keydir);
    c->dkim_keydir = strdup(dir);
    test_escape();
    test_spf_verdicts(c);
    test_dkim_verdicts(c);
    test_headers(c);
    test_sign_verify(c, dir);
    test_nodelay();
    conf_free(c);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    return t_done();
}
