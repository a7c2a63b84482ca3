/*
 * test_dmarc.c - DMARC evaluation (milter/dmarc): From parsing, record
 * parsing, a fuzz loop over the From parser, the cases of
 * tests/dmarc/cases.txt against an in-memory DNS made of
 * tests/dmarc/zone.txt (the same data PowerDNS serves in
 * tests/integration/dmarc_eval.sh), and the enforcement decisions.
 *
 * Run from the top of the tree (tests/run does), or set MXDOCK_TOP.
 */
#include <arpa/nameser.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "dmarc.h"
#include "t.h"
#include "../dmarc/dmarc_cases.h"

/* ---- From header ------------------------------------------------------ */

static const struct {
    const char *name, *from, *want;     /* want "ERR" = refused */
} from_cases[] = {
    {"plain", "a@example.com", "example.com"},
    {"angle", "<a@example.com>", "example.com"},
    {"display", "Alice <a@Example.COM>", "example.com"},
    {"quoted display with @", "\"b@evil.com\" <a@example.com>", "example.com"},
    {"quoted local part", "\"a b@c\"@example.com", "example.com"},
    {"comment with address", "a@example.com (x <b@evil.com>)", "example.com"},
    {"nested comment", "a@example.com (x (y) z)", "example.com"},
    {"comment inside", "a@(c)example.com", "example.com"},
    {"group of one (From is a mailbox-list)", "team: a@example.com;", "ERR"},
    {"route", "<@relay.net,@r2.net:a@example.com>", "example.com"},
    {"trailing comma", "a@example.com,", "example.com"},
    {"folded", "Alice\r\n <a@example.com>", "example.com"},
    {"idn", "a@b\xc3\xbc" "cher.example", "xn--bcher-kva.example"},
    {"two mailboxes", "a@example.com, b@evil.com", "ERR"},
    {"two same domain", "a@example.com, b@example.com", "ERR"},
    {"two in group", "g: a@example.com, b@evil.com;", "ERR"},
    {"empty group", "undisclosed-recipients:;", "ERR"},
    {"empty", "", "ERR"},
    {"no at", "example.com", "ERR"},
    {"unterminated quote", "\"a@example.com", "ERR"},
    {"unterminated comment", "a@example.com (x", "ERR"},
    {"unterminated angle", "<a@example.com", "ERR"},
    {"two angles", "<a@example.com> <b@evil.com>", "ERR"},
    {"literal", "a@[192.0.2.1]", "ERR"},
    {"single label", "a@localhost", "ERR"},
    {"bad domain", "a@exa_mple.com", "ERR"},
    {"at in display unquoted", "b@evil.com <a@example.com>", "example.com"},
    {"two ats", "a@b@example.com", "ERR"},
    {"nul byte cut", "a@example.com\0b@evil.com", "example.com"},
};

static void test_from(void)
{
    char    out[256], why[256], name[128];

    for (size_t i = 0; i < sizeof from_cases / sizeof from_cases[0]; i++) {
        const char *v[1] = {from_cases[i].from};
        int     rc = mxdmarc_from_domain(v, 1, out, sizeof out, why, sizeof why);

        snprintf(name, sizeof name, "from: %s", from_cases[i].name);
        T_STR(name, rc == 0 ? out : "ERR", from_cases[i].want);
    }
    {
        const char *two[2] = {"a@example.com", "a@example.com"};

        T_INT("from: two From fields refused",
              mxdmarc_from_domain(two, 2, out, sizeof out, why, sizeof why), -1);
        T_HAS("from: two From fields reason", why, "2 From header fields");
        T_INT("from: no From field refused",
              mxdmarc_from_domain(NULL, 0, out, sizeof out, why, sizeof why), -1);
    }
}

#define LDH "abcdefghijklmnopqrstuvwxyz0123456789-."

/* fuzz_from - random inputs and mutations of valid ones: never a crash
 * (run it under make asan), and any accepted domain is a lower-case LDH
 * name from an input that has an '@'. */
static void fuzz_from(void)
{
    static const char alphabet[] = "ab.@<>,;:()\"\\[] \te.com";
    char    buf[96], out[256], why[256];
    int     accepted = 0, bad = 0;

    srandom(8);
    for (int i = 0; i < 200000; i++) {
        size_t  len = (size_t) (random() % (sizeof buf - 1));
        const char *v[1] = {buf};

        if (i % 2) {
            for (size_t k = 0; k < len; k++)
                buf[k] = alphabet[random() % (sizeof alphabet - 1)];
            buf[len] = 0;
        } else {
            snprintf(buf, sizeof buf, "%s", from_cases[random() % 13].from);
            len = strlen(buf);
            for (int m = 0; m < 3 && len; m++)
                buf[random() % len] = (char) (random() % 256 ? random() % 128 : 0);
        }
        if (mxdmarc_from_domain(v, 1, out, sizeof out, why, sizeof why) == 0) {
            accepted++;
            if (out[0] == 0 || strchr(buf, '@') == NULL || strspn(out, LDH) != strlen(out))
                bad++;
        }
    }
    T_INT("fuzz: accepted domains without a defect", bad, 0);
    T_OK("fuzz: some random From values accepted", accepted > 0);
}

/* ---- policy record ---------------------------------------------------- */

static void test_record(void)
{
    struct mxdmarc_record r;

    T_INT("record: minimal", mxdmarc_record_parse("v=DMARC1; p=reject", &r), 0);
    T_INT("record: p", r.p, MXDMARC_P_REJECT);
    T_INT("record: sp unset", r.sp, MXDMARC_P_UNSET);
    T_INT("record: pct default", r.pct, 100);
    T_INT("record: adkim default", r.adkim, 'r');
    T_INT("record: full", mxdmarc_record_parse(
              "v=DMARC1;p=quarantine;sp=none;np=reject;adkim=s;aspf=s;pct=20;t=y;"
              "rua=mailto:d@example.com", &r), 0);
    T_INT("record: full sp", r.sp, MXDMARC_P_NONE);
    T_INT("record: full np", r.np, MXDMARC_P_REJECT);
    T_INT("record: full aspf", r.aspf, 's');
    T_INT("record: full pct", r.pct, 20);
    T_INT("record: full t", r.testing, 1);
    T_STR("record: full rua", r.rua, "mailto:d@example.com");
    T_INT("record: wrong version", mxdmarc_record_parse("v=DMARC2; p=reject", &r), -1);
    T_INT("record: version not first", mxdmarc_record_parse("p=reject; v=DMARC1", &r), -1);
    T_INT("record: lower-case version", mxdmarc_record_parse("v=dmarc1; p=reject", &r), -1);
    T_INT("record: no p, no rua", mxdmarc_record_parse("v=DMARC1", &r), -1);
    T_INT("record: bad p with rua", mxdmarc_record_parse("v=DMARC1; p=x; rua=mailto:a@b.c", &r), 0);
    T_INT("record: bad p with rua is none", r.p, MXDMARC_P_NONE);
    T_INT("record: bad sp no rua", mxdmarc_record_parse("v=DMARC1; p=reject; sp=x", &r), -1);
    T_INT("record: pct out of range", mxdmarc_record_parse("v=DMARC1; p=reject; pct=300", &r), 0);
    T_INT("record: pct out of range ignored", r.pct, 100);
    T_INT("record: spaces", mxdmarc_record_parse(" v = DMARC1 ; p = Reject ; aspf = S ", &r), 0);
    T_INT("record: spaces p", r.p, MXDMARC_P_REJECT);
    T_INT("record: spaces aspf", r.aspf, 's');
    T_INT("record: psd=y", mxdmarc_record_parse("v=DMARC1; p=reject; psd=y", &r) == 0 && r.psd == 'y', 1);
    T_INT("record: psd=n", mxdmarc_record_parse("v=DMARC1; p=none; psd=N", &r) == 0 && r.psd == 'n', 1);
    T_INT("record: psd default u", mxdmarc_record_parse("v=DMARC1; p=none", &r) == 0 && r.psd == 'u', 1);
    T_INT("record: psd=x is u", mxdmarc_record_parse("v=DMARC1; p=none; psd=x", &r) == 0 && r.psd == 'u', 1);
    T_INT("record: unusable, psd still read",
          mxdmarc_record_parse("v=DMARC1; p=bogus; psd=y", &r) == -1 && r.psd == 'y', 1);
    T_INT("record: garbage tag skipped", mxdmarc_record_parse("v=DMARC1; junk; p=none", &r), 0);
}

/* ---- in-memory DNS from zone.txt -------------------------------------- */

#define ZONE_MAX 128
static struct zrec {
    char    name[256];
    int     type;
    char    data[512];
} zone[ZONE_MAX];
static size_t nzone;

static int type_of(const char *s)
{
    return strcmp(s, "TXT") == 0 ? ns_t_txt : strcmp(s, "A") == 0 ? ns_t_a
        : strcmp(s, "AAAA") == 0 ? ns_t_aaaa : strcmp(s, "MX") == 0 ? ns_t_mx : -1;
}

static int load_zone(const char *path)
{
    FILE   *fp = fopen(path, "r");
    char    line[1024], name[256], type[16];
    int     off;

    if (fp == NULL)
        return -1;
    while (nzone < ZONE_MAX && fgets(line, sizeof line, fp)) {
        if (line[0] == '#' || sscanf(line, "%255s %15s %n", name, type, &off) < 2)
            continue;
        line[strcspn(line, "\n")] = 0;
        snprintf(zone[nzone].name, sizeof zone[nzone].name, "%s", name);
        zone[nzone].type = type_of(type);
        snprintf(zone[nzone].data, sizeof zone[nzone].data, "%s", line + off);
        nzone++;
    }
    fclose(fp);
    return 0;
}

/* below - NAME equal to or under Z? */
static int below(const char *name, const char *z)
{
    size_t  nl = strlen(name), zl = strlen(z);

    return nl >= zl && strcasecmp(name + nl - zl, z) == 0 && (nl == zl || name[nl - zl - 1] == '.');
}

/* fake_lookup - authoritative for test. and uk. only (PowerDNS refuses the
 * rest); "dead" context fails every question, as does a name too long to
 * be asked (res_nmkquery refuses it). */
static enum mxdmarc_dns fake_lookup(void *ctx, const char *name, int type, char ***rrs, size_t *n)
{
    int     exists = 0;

    *rrs = calloc(ZONE_MAX, sizeof **rrs);
    *n = 0;
    if (ctx || strlen(name) > 253 || (!below(name, "test") && !below(name, "uk")))
        return MXDMARC_DNS_ERROR;
    for (size_t i = 0; i < nzone; i++) {
        if (below(zone[i].name, name))
            exists = 1;
        if (strcasecmp(zone[i].name, name) == 0 && zone[i].type == type)
            (*rrs)[(*n)++] = strdup(zone[i].data);
    }
    return *n ? MXDMARC_DNS_OK : exists ? MXDMARC_DNS_NODATA : MXDMARC_DNS_NXDOMAIN;
}

/* case_check - case C evaluated by D against WANT/POLICY/DIS, as MODE */
static void case_check(struct mxdmarc *d, const struct dc_case *c, const char *mode,
                       const char *want, const char *policy, const char *dis)
{
    struct mxdmarc_input in;
    struct mxdmarc_result r;
    char    name[200];

    dc_input(c, &in);
    mxdmarc_evaluate(d, &in, &r);
    snprintf(name, sizeof name, "case %s (%s): result", c->name, mode);
    T_STR(name, mxdmarc_status_name(r.status), want);
    snprintf(name, sizeof name, "case %s (%s): policy", c->name, mode);
    T_STR(name, dc_policy(&r), policy);
    snprintf(name, sizeof name, "case %s (%s): disposition", c->name, mode);
    T_STR(name, mxdmarc_policy_name(r.disposition ? r.disposition : MXDMARC_P_NONE), dis);
}

/* test_cases - every case with the tree walk (D), and with the PSL (P)
 * against its psl= answer; DEAD and PDEAD answer nothing */
static void test_cases(struct mxdmarc *d, struct mxdmarc *dead, struct mxdmarc *p,
                       struct mxdmarc *pdead)
{
    static struct dc_case cases[DC_MAX];
    const char *top = getenv("MXDOCK_TOP") ? getenv("MXDOCK_TOP") : ".";
    char    path[512];
    int     n, differ = 0;

    snprintf(path, sizeof path, "%s/tests/dmarc/cases.txt", top);
    n = dc_load_cases(path, cases);
    T_OK("cases.txt has at least 65 cases", n >= 65);
    for (int i = 0; i < n; i++) {
        const struct dc_case *c = cases + i;
        int     isdead = strcmp(c->opts, "dead") == 0;

        case_check(isdead ? dead : d, c, "treewalk", c->want_status, c->want_policy, c->want_dis);
        case_check(isdead ? pdead : p, c, "psl", c->psl_status, c->psl_policy, c->psl_dis);
        differ += strcmp(c->want_status, c->psl_status) != 0 || strcmp(c->want_dis, c->psl_dis) != 0
            || strcmp(c->want_policy, c->psl_policy) != 0;
    }
    T_OK("at least 15 cases where the tree walk and the PSL differ", differ >= 15);
}

/* ---- results, A-R text, decisions --------------------------------------- */

static void eval_one(struct mxdmarc *d, const char *from, const char *dkim_d,
                     struct mxdmarc_input *in, struct mxdmarc_result *r)
{
    static const char *v[1];
    static struct mxdmarc_dkim k;

    v[0] = from;
    k.domain = dkim_d;
    k.result = "pass";
    memset(in, 0, sizeof *in);
    in->from = v;
    in->nfrom = 1;
    in->mailfrom_domain = "other.test";
    in->spf_identity = "mailfrom";
    in->spf_result = "pass";
    in->dkim = &k;
    in->ndkim = 1;
    mxdmarc_evaluate(d, in, r);
}

static void test_decide(struct mxdmarc *d, struct mx_conf *c)
{
    struct mxdmarc_input in;
    struct mxdmarc_result r;
    struct mxdmarc_action a;

    eval_one(d, "a@reject.test", "other.test", &in, &r);
    T_STR("ar: fail", r.ar, "dmarc=fail (p=reject sp=reject dis=reject) header.from=reject.test");
    mxdmarc_decide(d, &in, &r, &a);
    T_STR("decide: p=reject rejects", mxdmarc_verdict_name(a.verdict), "reject");
    T_STR("decide: reply", a.text, "rejected by DMARC policy for reject.test");
    T_STR("decide: code", a.rcode, "550");
    T_STR("decide: xcode", a.xcode, "5.7.1");
    in.trusted = 1;
    mxdmarc_decide(d, &in, &r, &a);
    T_STR("decide: trusted never enforced", mxdmarc_verdict_name(a.verdict), "accept");
    in.trusted = 0;
    c->dmarc_dry_run = 1;
    mxdmarc_decide(d, &in, &r, &a);
    T_STR("decide: dry run accepts", mxdmarc_verdict_name(a.verdict), "accept");
    T_STR("decide: dry run intended", mxdmarc_verdict_name(a.intended), "reject");
    c->dmarc_dry_run = 0;

    eval_one(d, "a@reject.test", "reject.test", &in, &r);
    T_STR("ar: pass", r.ar, "dmarc=pass (p=reject sp=reject dis=none) header.from=reject.test");
    mxdmarc_decide(d, &in, &r, &a);
    T_STR("decide: pass accepts", mxdmarc_verdict_name(a.verdict), "accept");

    eval_one(d, "a@quar.test", "other.test", &in, &r);
    mxdmarc_decide(d, &in, &r, &a);
    T_STR("decide: p=quarantine quarantines", mxdmarc_verdict_name(a.verdict), "quarantine");
    free(c->dmarc_quarantine_action);
    c->dmarc_quarantine_action = strdup("tag");
    mxdmarc_decide(d, &in, &r, &a);
    T_STR("decide: quarantine as tag", mxdmarc_verdict_name(a.verdict), "tag");
    T_STR("decide: tag header", a.header_name, "X-Mxdock-DMARC");
    T_STR("decide: tag value", a.header_value, "quarantine header.from=quar.test");

    eval_one(d, "a@none.test", "other.test", &in, &r);
    mxdmarc_decide(d, &in, &r, &a);
    T_STR("decide: p=none accepts", mxdmarc_verdict_name(a.verdict), "accept");
    T_STR("ar: p=none", r.ar, "dmarc=fail (p=none sp=none dis=none) header.from=none.test");

    eval_one(d, "a@np.test, b@np.test", "np.test", &in, &r);
    T_STR("ar: permerror", r.ar, "dmarc=permerror (2 addresses in From)");
    mxdmarc_decide(d, &in, &r, &a);
    T_STR("decide: multi-From rejects", mxdmarc_verdict_name(a.verdict), "reject");
    free(c->dmarc_multifrom_action);
    c->dmarc_multifrom_action = strdup("ignore");
    mxdmarc_decide(d, &in, &r, &a);
    T_STR("decide: multi-From ignored when set", mxdmarc_verdict_name(a.verdict), "accept");

    {
        char    from[300];

        /* 63+63+63+58 = 250 bytes: valid, but _dmarc.NAME is too long */
        snprintf(from, sizeof from, "a@%.63s.%.63s.%.63s.%.54s.test",
                 "a123456789a123456789a123456789a123456789a123456789a123456789abc",
                 "b123456789a123456789a123456789a123456789a123456789a123456789abc",
                 "c123456789a123456789a123456789a123456789a123456789a123456789abc",
                 "d123456789a123456789a123456789a123456789a123456789abcd");
        eval_one(d, from, "other.test", &in, &r);
        T_STR("long author domain: no policy, no temperror", mxdmarc_status_name(r.status), "none");
    }
    eval_one(d, "a@ghost.np.test", "other.test", &in, &r);
    T_STR("ar: np", r.ar,
          "dmarc=fail (p=none sp=quarantine np=reject dis=reject org=np.test/treewalk) "
          "header.from=ghost.np.test");
}

/* test_org_psl - organizational domains by the PSL (RFC 7489 3.2) */
static void test_org_psl(struct mxdmarc *p)
{
    static const char *in[][2] = {
        {"a.b.example.com", "example.com"}, {"example.com", "example.com"},
        {"a.b.example.co.uk", "example.co.uk"}, {"co.uk", "co.uk"},
        {"x.y.city.kawasaki.jp", "city.kawasaki.jp"}, {"mail.sub.test", "sub.test"},
        {"x.me.blogspot.co.uk", "me.blogspot.co.uk"},
    };
    char    out[256], name[128];

    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        snprintf(name, sizeof name, "psl: org domain of %s", in[i][0]);
        T_STR(name, mxdmarc_org_domain(p, in[i][0], out, sizeof out) == 0 ? out : "ERR", in[i][1]);
    }
}

/* the questions a walk asks, for the query-count checks */
struct asked {
    int     n;
    char    names[16][300];
};

static enum mxdmarc_dns counting_lookup(void *ctx, const char *name, int type, char ***rrs,
                                        size_t *n)
{
    struct asked *a = ctx;

    if (type == ns_t_txt && a->n < 16)
        snprintf(a->names[a->n++], sizeof a->names[0], "%s", name);
    return fake_lookup(NULL, name, type, rrs, n);
}

/* asked - was NAME asked? */
static int was_asked(const struct asked *a, const char *name)
{
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->names[i], name) == 0)
            return 1;
    return 0;
}

/* test_walk_queries - RFC 9989 4.10: at most 8 queries; a name of 8
 * labels or more is followed by its last 7 labels (Stalwart mail-auth
 * src/dmarc/verify.rs:288-290, mailauth get-dmarc-record.js:210) */
static void test_walk_queries(struct mxdmarc *d)
{
    static struct asked a;
    char    out[256];

    mxdmarc_set_lookup(d, counting_lookup, &a);
    memset(&a, 0, sizeof a);
    mxdmarc_org_domain(d, "a.b.c.d.e.f.g.h.deep.test", out, sizeof out);
    T_INT("walk of 10 labels: 8 queries", a.n, 8);
    T_STR("walk of 10 labels: 2nd query at 7 labels", a.names[1], "_dmarc.d.e.f.g.h.deep.test");
    T_OK("walk of 10 labels: 8-label name never asked",
         !was_asked(&a, "_dmarc.c.d.e.f.g.h.deep.test"));
    T_STR("walk of 10 labels: last query the TLD", a.names[7], "_dmarc.test");
    T_STR("walk of 10 labels: org domain", out, "deep.test");
    memset(&a, 0, sizeof a);
    mxdmarc_org_domain(d, "a.b.c.d.e.f.deep.test", out, sizeof out);
    T_INT("walk of 8 labels: 8 queries", a.n, 8);
    memset(&a, 0, sizeof a);
    mxdmarc_org_domain(d, "x.y.z.e.f.g.h.deep.test", out, sizeof out);
    T_INT("walk stops at psd=n: 2 queries", a.n, 2);
    T_STR("walk stops at psd=n: org domain", out, "z.e.f.g.h.deep.test");
    memset(&a, 0, sizeof a);
    mxdmarc_org_domain(d, "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.deep.test", out, sizeof out);
    T_INT("walk of 22 labels: 8 queries", a.n, 8);
    mxdmarc_set_lookup(d, fake_lookup, NULL);
}

/* test_org_walk - organizational domains by the tree walk (RFC 9989
 * 4.10.2) on the data of zone.txt */
static void test_org_walk(struct mxdmarc *d)
{
    static const char *in[][2] = {
        {"mail.sub.test", "mail.sub.test"},     /* nothing published: itself */
        {"a.b.example.co.uk", "example.co.uk"}, /* fewest labels below psd=y */
        {"shop.co.uk", "shop.co.uk"},           /* one label below the PSD */
        {"co.uk", "co.uk"},                     /* the PSD itself */
        {"x.me.blogspot.co.uk", "me.blogspot.co.uk"},
        {"a.site.barsy.co.uk", "barsy.co.uk"},
        {"a.team.dept.corp.test", "dept.corp.test"},
        {"a.unit.corp2.test", "unit.corp2.test"},       /* psd=n */
        {"corp2.test", "corp2.test"},
        {"giant.bank.test", "giant.bank.test"},
        {"mega.bank.test", "mega.bank.test"},
    };
    char    out[256], name[128];

    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        snprintf(name, sizeof name, "treewalk: org domain of %s", in[i][0]);
        T_STR(name, mxdmarc_org_domain(d, in[i][0], out, sizeof out) == 0 ? out : "ERR", in[i][1]);
    }
}

/* test_ar_org - the A-R comment names the method where it mattered */
static void test_ar_org(struct mxdmarc *d, struct mxdmarc *p)
{
    struct mxdmarc_input in;
    struct mxdmarc_result r;

    eval_one(d, "a@shop.co.uk", "other.test", &in, &r);
    T_STR("ar: PSD policy", r.ar,
          "dmarc=fail (p=reject sp=reject dis=reject org=shop.co.uk/treewalk psd=y) "
          "header.from=shop.co.uk");
    eval_one(p, "a@unit.corp2.test", "corp2.test", &in, &r);
    T_STR("ar: psl alignment", r.ar,
          "dmarc=pass (p=reject sp=reject dis=none org=corp2.test/psl) header.from=unit.corp2.test");
    eval_one(d, "a@unit.corp2.test", "corp2.test", &in, &r);
    T_STR("ar: treewalk, no org involved", r.ar,
          "dmarc=fail (p=reject sp=reject dis=reject) header.from=unit.corp2.test");
}

static struct mxdmarc *checker(struct mx_conf *c, const char *mode, void *dead)
{
    char    why[256];
    struct mxdmarc *d;

    free(c->dmarc_org_domain);
    c->dmarc_org_domain = strdup(mode);
    if ((d = mxdmarc_new(c, why, sizeof why)) == NULL) {
        printf("# %s\n", why);
        exit(t_done());
    }
    mxdmarc_set_lookup(d, fake_lookup, dead);
    return d;
}

int     main(void)
{
    struct mx_conf *c = conf_defaults(), *pc = conf_defaults();
    struct mxdmarc *d, *dead, *p, *pdead;
    const char *top = getenv("MXDOCK_TOP") ? getenv("MXDOCK_TOP") : ".";
    char    path[512];

    test_from();
    fuzz_from();
    test_record();
    T_STR("dmarc_org_domain default", c->dmarc_org_domain, "treewalk");
    d = checker(c, "treewalk", NULL);
    dead = checker(c, "treewalk", (void *) "dead");
    p = checker(pc, "psl", NULL);
    pdead = checker(pc, "psl", (void *) "dead");
    test_org_psl(p);
    snprintf(path, sizeof path, "%s/tests/dmarc/zone.txt", top);
    T_INT("zone.txt read", load_zone(path), 0);
    test_org_walk(d);
    test_walk_queries(d);
    test_cases(d, dead, p, pdead);
    test_ar_org(d, p);
    test_decide(d, c);
    mxdmarc_free(d);
    mxdmarc_free(dead);
    mxdmarc_free(p);
    mxdmarc_free(pdead);
    conf_free(c);
    conf_free(pc);
    return t_done();
}
