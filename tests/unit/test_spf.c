/*
 * test_spf.c - the SPF module (milter/spf/): one table per class of fault
 * that libspf2 has and mxdock's layer fixes (issue 6), then whole checks
 * against a small DNS responder run on 127.0.0.1 by this program (a thread
 * answering from the zone table below; "slow." names are never answered).
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "spf_int.h"
#include "t.h"

/* ---- record syntax (RFC 7208 ABNF), checked before evaluation ---- */
static const struct {
    const char *name, *record;
    int     valid;
} records[] = {
    {"plain", "v=spf1 a mx -all", 1},
    {"trailing space", "v=spf1 -all ", 1},
    {"two spaces", "v=spf1 a  -all", 1},
    /* /0 prefixes are valid (libspf2 refuses them) */
    {"a/0", "v=spf1 a/0 -all", 1},
    {"mx//0", "v=spf1 mx:example.com//0 -all", 1},
    {"ip4 /0", "v=spf1 ip4:1.2.3.4/0", 1},
    {"ip6 /0", "v=spf1 ip6:::1/0", 1},
    {"a/33", "v=spf1 a/33", 0},
    {"ip6 /129", "v=spf1 ip6:::1/129", 0},
    {"ip4 //32", "v=spf1 ip4:1.2.3.4//32", 0},
    {"leading zero cidr", "v=spf1 a/024", 0},
    /* domain-spec: top label, empty, characters */
    {"numeric toplabel", "v=spf1 a:example.123", 0},
    {"only toplabel", "v=spf1 a:museum", 0},
    {"toplabel hyphen", "v=spf1 a:example.-com", 0},
    {"colon in domain", "v=spf1 a:foo:bar/baz.example.com", 1},
    {"empty include", "v=spf1 include:", 0},
    {"empty ptr", "v=spf1 ptr:", 0},
    {"macro at end", "v=spf1 exists:%{i}.%{d}", 1},
    /* modifiers */
    {"redirect twice", "v=spf1 redirect=a.example.com redirect=b.example.com", 0},
    {"exp twice", "v=spf1 -all exp=a.example.com exp=b.example.com", 0},
    {"empty exp", "v=spf1 -all exp=", 0},
    {"redirect as mechanism", "v=spf1 redirect:example.com", 0},
    {"modifier name chars", "v=spf1 -all foo-bar.baz_1=x", 1},
    {"modifier name digit first", "v=spf1 -all 1foo=x", 0},
    {"qualified modifier", "v=spf1 -redirect=example.com", 0},
    /* macros */
    {"bad macro letter", "v=spf1 exists:%{q}.example.com", 0},
    {"percent before char", "v=spf1 exists:foo%.example.com", 0},
    {"parenthesis macro", "v=spf1 -exists:%(ir).example.com", 0},
    {"c macro outside exp", "v=spf1 exists:%{c}.example.com", 0},
    {"escapes", "v=spf1 a:macro%%p%_s%-u.example.com", 1},
    {"unknown modifier macro", "v=spf1 foo=%{x}", 0},
    /* bytes */
    {"non-ascii", "v=spf1 a:\xef\xbb\xbfgarbage.example.net -all", 0},
    {"control char", "v=spf1 a:ctrl.example.com\rptr -all", 0},
    {"newline", "v=spf1 ip4:192.0.2.5\n include:x.example.com", 0},
    {"unknown mechanism", "v=spf1 foo", 0},
    {"all with arg", "v=spf1 all:x", 0},
    {"ptr cidr", "v=spf1 ptr/24", 0},
};

static void test_records(void)
{
    struct spf_record *r = malloc(sizeof *r);
    char    name[120];
    size_t  i;

    for (i = 0; i < sizeof records / sizeof records[0]; i++) {
        snprintf(name, sizeof name, "record: %s", records[i].name);
        T_INT(name, mxspf_record_parse(records[i].record, strlen(records[i].record), r) == 0,
              records[i].valid);
    }
    T_INT("record: NUL inside", mxspf_record_parse("v=spf1 a\0b -all", 15, r), -1);
    T_OK("record: v=spf10 is not SPF", !mxspf_record_is_spf("v=spf10", 7));
    T_OK("record: V=SPF1 is SPF", mxspf_record_is_spf("V=SPF1 -all", 11));
    free(r);
}

/* ---- macro expansion: explanations and domain-specs ---- */
static const struct {
    const char *name, *spec, *ip, *want;
    int     in_exp;
} macros[] = {
    {"literal space kept", "See me.", "1.2.3.4", "See me.", 1},
    {"two spaces kept", "a  b", "1.2.3.4", "a  b", 1},
    {"uppercase escapes", "%{L}", "1.2.3.4", "jack%26jill", 1},
    {"ir", "%{ir}.%{v}.arpa", "192.0.2.3", "3.2.0.192.in-addr.arpa", 0},
    {"d2", "%{d2}", "1.2.3.4", "example.com", 0},
    {"l-", "%{l-}", "1.2.3.4", "jack&jill", 0},
    {"escapes", "%%%_%-", "1.2.3.4", "% %20", 0},
    {"c in exp", "%{c}", "2001:db8::1", "2001:db8::1", 1},
    {"i v6", "%{i}", "2001:db8::1",
     "2.0.0.1.0.D.B.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1", 0},
};

static void test_macros(void)
{
    struct spf_req req;
    struct spf_ctx c;
    char    out[600], name[120];

    memset(&c, 0, sizeof c);
    size_t  i;

    for (i = 0; i < sizeof macros / sizeof macros[0]; i++) {
        memset(&req, 0, sizeof req);
        memset(&c, 0, sizeof c);
        c.req = &req;
        snprintf(req.local, sizeof req.local, "jack&jill");
        snprintf(req.domain, sizeof req.domain, "mail.example.com");
        snprintf(req.sender, sizeof req.sender, "jack&jill@mail.example.com");
        req.family = strchr(macros[i].ip, ':') ? AF_INET6 : AF_INET;
        inet_pton(req.family, macros[i].ip, req.addr);
        snprintf(req.ip_text, sizeof req.ip_text, "%s", macros[i].ip);
        snprintf(name, sizeof name, "macro: %s", macros[i].name);
        if (mxspf_macro_expand(&c, macros[i].spec, strlen(macros[i].spec), "mail.example.com",
                               macros[i].in_exp, out, sizeof out) < 0)
            snprintf(out, sizeof out, "(error)");
        T_STR(name, out, macros[i].want);
    }
    T_INT("macro: %{d0} refused", mxspf_macro_expand(&c, "%{d0}", 5, "a.b", 0, out, sizeof out), -1);
}

/* ---- a DNS responder on 127.0.0.1 for whole checks ---- */
static const struct rr {
    const char *name;
    int     type;               /* 1 A, 12 PTR, 16 TXT, 28 AAAA */
    const char *data;
} zone[] = {
    {"pass.test", 16, "v=spf1 ip4:192.0.2.0/24 -all"},
    {"zero.test", 16, "v=spf1 a/0 -all"},
    {"zero.test", 1, "10.0.0.1"},
    {"ip6zero.test", 16, "v=spf1 ip6:::/0 -all"},
    {"syntax.test", 16, "v=spf1 a:museum -all"},
    {"redir.test", 16, "v=spf1 redirect=pass.test ip4:198.51.100.1"},
    {"redirnone.test", 16, "v=spf1 redirect=nothing.test"},
    {"twice.test", 16, "v=spf1 -all"},
    {"twice.test", 16, "v=spf1 +all"},
    {"e1.test", 16, "v=spf1 -all"},
    {"inc.test", 16, "v=spf1 include:e1.test include:e1.test include:e1.test include:e1.test "
     "include:e1.test include:e1.test include:e1.test include:e1.test include:e1.test "
     "include:e1.test include:e1.test +all"},
    {"void.test", 16, "v=spf1 a:n1.test a:n2.test a:n3.test +all"},
    {"void2.test", 16, "v=spf1 a:n1.test a:n2.test +all"},
    {"incnone.test", 16, "v=spf1 include:nothing.test +all"},
    {"ptr.test", 16, "v=spf1 ptr:ptr.test -all"},
    {"9.2.0.192.in-addr.arpa", 12, "h1.ptr.test"},
    {"9.2.0.192.in-addr.arpa", 12, "h2.ptr.test"},
    {"9.2.0.192.in-addr.arpa", 12, "h3.ptr.test"},
    {"9.2.0.192.in-addr.arpa", 12, "h4.ptr.test"},
    {"9.2.0.192.in-addr.arpa", 12, "h5.ptr.test"},
    {"9.2.0.192.in-addr.arpa", 12, "h6.ptr.test"},
    {"9.2.0.192.in-addr.arpa", 12, "h7.ptr.test"},
    {"9.2.0.192.in-addr.arpa", 12, "h8.ptr.test"},
    {"9.2.0.192.in-addr.arpa", 12, "h9.ptr.test"},
    {"9.2.0.192.in-addr.arpa", 12, "h10.ptr.test"},
    {"9.2.0.192.in-addr.arpa", 12, "h11.ptr.test"},
    {"h11.ptr.test", 1, "192.0.2.9"},
    {"exp.test", 16, "v=spf1 -all exp=why.exp.test"},
    {"why.exp.test", 16, "See %{i} now."},
    {"expmulti.test", 16, "v=spf1 -all exp=two.test"},
    {"two.test", 16, "one"},
    {"two.test", 16, "two"},
    {"pct.test", 16, "v=spf1 -all exp=pctmsg.test"},
    {"pctmsg.test", 16, "100%% sure"},
    {"expinc.test", 16, "v=spf1 include:exp.test -all"},
};

static int dns_fd;

/* put_name - a domain name in wire form at P; its length */
static size_t put_name(unsigned char *p, const char *name)
{
    size_t  at = 0;

    while (*name) {
        size_t  n = strcspn(name, ".");

        p[at++] = (unsigned char) n;
        memcpy(p + at, name, n);
        at += n;
        name += n;
        if (*name == '.')
            name++;
    }
    p[at++] = 0;
    return at;
}

/* put_rdata - the record's data at P; its length */
static size_t put_rdata(unsigned char *p, const struct rr *rr)
{
    size_t  n;

    switch (rr->type) {
    case 1:
        inet_pton(AF_INET, rr->data, p);
        return 4;
    case 28:
        inet_pton(AF_INET6, rr->data, p);
        return 16;
    case 12:
        return put_name(p, rr->data);
    default:
        n = strlen(rr->data);
        p[0] = (unsigned char) n;
        memcpy(p + 1, rr->data, n);
        return n + 1;
    }
}

/* answer - the reply to Q (QLEN bytes) into R; its length, or 0: no reply */
static size_t answer(const unsigned char *q, size_t qlen, unsigned char *r)
{
    char    name[256];
    size_t  at = 12, o = 0, i, k;
    int     type, count = 0, known = 0;

    while (at < qlen && q[at] && o + q[at] + 1 < sizeof name) {
        if (o)
            name[o++] = '.';
        memcpy(name + o, q + at + 1, q[at]);
        o += q[at];
        at += q[at] + 1;
    }
    name[o] = 0;
    type = q[at + 1] << 8 | q[at + 2];
    at += 5;
    if (strncmp(name, "slow.", 5) == 0)
        return 0;
    memcpy(r, q, at);
    r[2] = 0x84 | (q[2] & 1);
    r[3] = 0x80;
    for (i = 0; i < sizeof zone / sizeof zone[0]; i++) {
        if (strcasecmp(zone[i].name, name) != 0)
            continue;
        known = 1;
        if (zone[i].type != type)
            continue;
        r[at++] = 0xc0, r[at++] = 12;
        r[at++] = 0, r[at++] = (unsigned char) type, r[at++] = 0, r[at++] = 1;
        memset(r + at, 0, 4);
        r[at + 3] = 60;                            /* TTL: the cache is used */
        at += 4;
        k = put_rdata(r + at + 2, &zone[i]);
        r[at] = (unsigned char) (k >> 8), r[at + 1] = (unsigned char) k;
        at += 2 + k;
        count++;
    }
    r[7] = (unsigned char) count;
    if (!known)
        r[3] |= 3;                                 /* NXDOMAIN */
    return at;
}

static void *dns_serve(void *arg)
{
    unsigned char q[512], r[4096];
    struct sockaddr_storage from;
    socklen_t flen;
    ssize_t n;
    size_t  k;

    (void) arg;
    for (;;) {
        flen = sizeof from;
        if ((n = recvfrom(dns_fd, q, sizeof q, 0, (struct sockaddr *) &from, &flen)) < 12)
            continue;
        if ((k = answer(q, (size_t) n, r)) > 0)
            sendto(dns_fd, r, k, 0, (struct sockaddr *) &from, flen);
    }
    return NULL;
}

/* dns_start - the responder on an ephemeral port; "127.0.0.1:PORT" */
static void dns_start(char *where, size_t len)
{
    struct sockaddr_in sin;
    socklen_t slen = sizeof sin;
    pthread_t t;

    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    dns_fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (bind(dns_fd, (struct sockaddr *) &sin, sizeof sin) < 0
        || getsockname(dns_fd, (struct sockaddr *) &sin, &slen) < 0) {
        perror("test_spf: dns bind");
        exit(1);
    }
    snprintf(where, len, "127.0.0.1:%d", ntohs(sin.sin_port));
    pthread_create(&t, NULL, dns_serve, NULL);
    pthread_detach(t);
}

/* ---- whole checks: every class libspf2 gets wrong ---- */
static const struct {
    const char *name, *ip, *from, *want, *exp;
} checks[] = {
    {"pass", "192.0.2.5", "x@pass.test", "pass", NULL},
    {"fail", "198.51.100.7", "x@pass.test", "fail", NULL},
    {"no record: none", "192.0.2.5", "x@nothing.test", "none", NULL},
    {"dns timeout: temperror", "192.0.2.5", "x@slow.test", "temperror", NULL},
    {"syntax error: permerror", "192.0.2.5", "x@syntax.test", "permerror", NULL},
    {"two records: permerror", "192.0.2.5", "x@twice.test", "permerror", NULL},
    {"a/0 matches any v4", "203.0.113.1", "x@zero.test", "pass", NULL},
    {"ip6 /0 matches any v6", "2001:db8::5", "x@ip6zero.test", "pass", NULL},
    {"ip6 /0 not a v4 client", "203.0.113.1", "x@ip6zero.test", "fail", NULL},
    {"redirect after mechanisms", "198.51.100.1", "x@redir.test", "pass", NULL},
    {"redirect taken", "192.0.2.5", "x@redir.test", "pass", NULL},
    {"redirect to none: permerror", "192.0.2.5", "x@redirnone.test", "permerror", NULL},
    {"include of none: permerror", "192.0.2.5", "x@incnone.test", "permerror", NULL},
    {"v4-mapped client is v4", "::ffff:192.0.2.5", "x@pass.test", "pass", NULL},
    {"11th lookup: permerror", "198.51.100.7", "x@inc.test", "permerror", NULL},
    {"3rd void lookup: permerror", "192.0.2.5", "x@void.test", "permerror", NULL},
    {"2 void lookups allowed", "192.0.2.5", "x@void2.test", "pass", NULL},
    {"ptr: 11th name ignored", "192.0.2.9", "x@ptr.test", "fail", NULL},
    {"exp expanded", "198.51.100.7", "x@exp.test", "fail", "See 198.51.100.7 now."},
    {"exp with 2 TXT: default", "198.51.100.7", "x@expmulti.test", "fail",
     "198.51.100.7 is not allowed to send mail from expmulti.test"},
    {"exp not from include", "198.51.100.7", "x@expinc.test", "fail",
     "198.51.100.7 is not allowed to send mail from expinc.test"},
    {"exp with %: sanitised", "198.51.100.7", "x@pct.test", "fail", "100? sure"},
    {"null sender: helo", "192.0.2.5", "<>", "pass", NULL},
    {"bad domain: none", "192.0.2.5", "x@a..test", "none", NULL},
};

static void test_threads(struct mxspf *);

static void test_checks(void)
{
    struct mx_conf conf;
    struct mxspf *spf;
    struct mxspf_answer a;
    char    where[64], why[200], name[160];
    size_t  i;

    dns_start(where, sizeof where);
    memset(&conf, 0, sizeof conf);
    conf.dns_resolver = where;
    conf.dns_timeout = 1;
    if ((spf = mxspf_new(&conf, why, sizeof why)) == NULL) {
        T_STR("mxspf_new", why, "");
        return;
    }
    for (i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        mxspf_check(spf, checks[i].ip, "pass.test", checks[i].from, "mx.test", &a);
        snprintf(name, sizeof name, "check: %s", checks[i].name);
        T_STR(name, mxspf_result_name(a.result), checks[i].want);
        if (checks[i].exp) {
            snprintf(name, sizeof name, "check: %s: explanation", checks[i].name);
            T_STR(name, a.explanation, checks[i].exp);
        }
        snprintf(name, sizeof name, "check: %s: header has no %% CR LF", checks[i].name);
        T_OK(name, strpbrk(a.received_spf, "%\r\n") == NULL);
    }
    mxspf_check(spf, "192.0.2.5", "h.test", "x@pass.test", "mx.test", &a);
    T_HAS("received-spf: comment", a.received_spf,
          "pass (mx.test: domain of x@pass.test designates 192.0.2.5 as permitted sender)");
    T_HAS("received-spf: pairs", a.received_spf,
          "client-ip=192.0.2.5; envelope-from=x@pass.test; helo=h.test;");
    T_HAS("received-spf: identity", a.received_spf, "receiver=mx.test; identity=mailfrom");
    mxspf_check(spf, "192.0.2.5", "pass.test", "", "mx.test", &a);
    T_STR("null sender: identity", a.identity, "helo");
    mxspf_check(spf, "not-an-ip", "pass.test", "x@pass.test", "mx.test", &a);
    T_STR("bad client ip: permerror", mxspf_result_name(a.result), "permerror");
    test_threads(spf);
    mxspf_free(spf);
}

/* ---- one checker, many threads: results stay right (run under ASan) ---- */
struct worker {
    struct mxspf *spf;
    int     wrong;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    struct mxspf_answer a;
    int     i;

    for (i = 0; i < 300; i++) {
        size_t  k = (size_t) i % (sizeof checks / sizeof checks[0]);

        if (strncmp(checks[k].from, "x@slow", 6) == 0)
            continue;                           /* a second each: not here */
        mxspf_check(w->spf, checks[k].ip, "pass.test", checks[k].from, "mx.test", &a);
        if (strcmp(mxspf_result_name(a.result), checks[k].want) != 0)
            w->wrong++;
    }
    return NULL;
}

static void test_threads(struct mxspf *spf)
{
    struct worker w[4];
    pthread_t t[4];
    int     i, wrong = 0;

    for (i = 0; i < 4; i++) {
        w[i].spf = spf;
        w[i].wrong = 0;
        pthread_create(&t[i], NULL, work, &w[i]);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        wrong += w[i].wrong;
    }
    T_INT("threads: 4 x 300 checks on one checker, wrong results", wrong, 0);
}

static void test_sanitise(void)
{
    char    out[16];

    mxspf_sanitise(out, sizeof out, "a%b\r\nc\001\xff");
    T_STR("sanitise: % CR LF control 8bit", out, "a?b??c??");
    mxspf_sanitise(out, sizeof out, "0123456789abcdefghij");
    T_STR("sanitise: bounded", out, "0123456789abcde");
}

int     main(void)
{
    test_records();
    test_macros();
    test_sanitise();
    test_checks();
    return t_done();
}
