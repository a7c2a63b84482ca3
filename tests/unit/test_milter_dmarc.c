/*
 * test_milter_dmarc.c - the milter's DMARC glue without an MTA
 * (milter/dmarc_glue.c, the dmarc= part of authres.c): From fields
 * collected, SPF and DKIM results handed over (a HELO pass never aligns),
 * actions made verdicts, and the aggregate-report row (disposition applied,
 * local_policy), on an in-memory DNS.
 */
#include <arpa/nameser.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc_glue.h"
#include "t.h"

/* fake_lookup - _dmarc.rej.example p=reject, _dmarc.q.example
 * p=quarantine; every other name does not exist */
static enum mxdmarc_dns fake_lookup(void *ctx, const char *name, int type, char ***rrs,
                                    size_t *n)
{
    const char *txt = 0;

    (void) ctx;
    *rrs = 0, *n = 0;
    if (strcmp(name, "_dmarc.rej.example") == 0)
        txt = "v=DMARC1; p=reject";
    else if (strcmp(name, "_dmarc.q.example") == 0)
        txt = "v=DMARC1; p=quarantine";
    if (txt == 0 || type != ns_t_txt)
        return txt ? MXDMARC_DNS_NODATA : MXDMARC_DNS_NXDOMAIN;
    *rrs = calloc(1, sizeof(char *));
    (*rrs)[0] = strdup(txt);
    *n = 1;
    return MXDMARC_DNS_OK;
}

static void spf_answer(struct mxspf_answer *a, const char *identity, const char *domain)
{
    memset(a, 0, sizeof(*a));
    a->result = MXSPF_PASS;
    snprintf(a->identity, sizeof(a->identity), "%s", identity);
    snprintf(a->domain, sizeof(a->domain), "%s", domain);
}

static void test_cases(struct mxdmarc *d, struct mx_conf *c)
{
    static const struct {
        const char *name, *from1, *from2, *mailfrom, *spf_id, *dkim_d;
        int     dry;
        enum milter_kind kind;
        int     quarantine;
        const char *ar, *disposition, *reason;
    } cases[] = {
        {"reject: unaligned SPF", "<a@rej.example>", 0, "b@other.example", "mailfrom", 0, 0,
         MV_REJECT, 0, "dmarc=fail (p=reject sp=reject dis=reject) header.from=rej.example",
         "reject", ""},
        {"pass: aligned SPF", "<a@rej.example>", 0, "b@rej.example", "mailfrom", 0, 0,
         MV_CONTINUE, 0, "dmarc=pass", "none", ""},
        {"HELO pass never aligns", "<a@rej.example>", 0, "", "helo", 0, 0,
         MV_REJECT, 0, "dmarc=fail", "reject", ""},
        {"pass: aligned DKIM", "<a@rej.example>", 0, "b@other.example", "mailfrom",
         "rej.example", 0, MV_CONTINUE, 0, "dmarc=pass", "none", ""},
        {"quarantine", "<a@q.example>", 0, "b@other.example", "mailfrom", 0, 0,
         MV_CONTINUE, 1, "dmarc=fail (p=quarantine", "quarantine", ""},
        {"two From fields", "<a@rej.example>", "<c@rej.example>", "b@rej.example", "mailfrom",
         0, 0, MV_REJECT, 0, "dmarc=permerror", 0, 0},
        {"dry run", "<a@rej.example>", 0, "b@other.example", "mailfrom", 0, 1,
         MV_CONTINUE, 0, "dis=reject", "none", "local_policy"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct milter_dmarc_in in;
        struct milter_dmarc_out out;
        struct mxspf_answer spf;
        struct dkim_msg_sig sig;
        struct dmarc_report_msg m;
        char    name[160];

        memset(&in, 0, sizeof(in));
        memset(&sig, 0, sizeof(sig));
        milter_dmarc_input_from(&in, "Subject", "x");
        milter_dmarc_input_from(&in, "from", cases[i].from1);
        if (cases[i].from2)
            milter_dmarc_input_from(&in, "From", cases[i].from2);
        spf_answer(&spf, cases[i].spf_id, strrchr(cases[i].mailfrom, '@')
                   ? strrchr(cases[i].mailfrom, '@') + 1 : "client.example");
        in.client_ip = "192.0.2.9";
        in.mail_from = cases[i].mailfrom;
        in.spf = &spf;
        if (cases[i].dkim_d) {
            sig.res = DKIM_MSG_PASS;
            snprintf(sig.d, sizeof(sig.d), "%s", cases[i].dkim_d);
            in.sigs = &sig, in.nsig = 1;
        }
        c->dmarc_dry_run = cases[i].dry;
        milter_dmarc_run(d, 0, c, &in, &out);
        snprintf(name, sizeof(name), "%s: verdict", cases[i].name);
        T_INT(name, out.v.kind, cases[i].kind);
        snprintf(name, sizeof(name), "%s: quarantine", cases[i].name);
        T_INT(name, out.quarantine, cases[i].quarantine);
        snprintf(name, sizeof(name), "%s: A-R", cases[i].name);
        T_HAS(name, out.r.ar, cases[i].ar);
        if (cases[i].disposition == 0)
            continue;
        milter_dmarc_record_msg(&in, &out, 0, &m);
        snprintf(name, sizeof(name), "%s: disposition recorded", cases[i].name);
        T_STR(name, m.disposition, cases[i].disposition);
        snprintf(name, sizeof(name), "%s: reason recorded", cases[i].name);
        T_STR(name, m.reason, cases[i].reason);
    }
    c->dmarc_dry_run = 0;
}

/* test_dkim_all - every signature goes into the report row, in RFC 9990's
 * order ("DKIM Signatures in Aggregate Reports": strict-aligned pass,
 * relaxed-aligned pass, other passes, the rest) */
static void test_dkim_all(struct mxdmarc *d, struct mx_conf *c)
{
    static const struct {
        const char *d, *s;
        enum dkim_msg_res res;
    } sigs[] = {
        {"other.example", "s3", DKIM_MSG_FAIL}, {"sub.rej.example", "s2", DKIM_MSG_PASS},
        {"x.other.example", "s4", DKIM_MSG_PASS}, {"rej.example", "s1", DKIM_MSG_PASS},
    };
    struct dkim_msg_sig k[4];
    struct milter_dmarc_in in;
    struct milter_dmarc_out out;
    struct dmarc_report_msg m;

    memset(&in, 0, sizeof(in));
    memset(k, 0, sizeof(k));
    for (int i = 0; i < 4; i++) {
        snprintf(k[i].d, sizeof(k[i].d), "%s", sigs[i].d);
        snprintf(k[i].s, sizeof(k[i].s), "%s", sigs[i].s);
        k[i].res = sigs[i].res;
    }
    milter_dmarc_input_from(&in, "From", "<a@rej.example>");
    in.client_ip = "192.0.2.9";
    in.mail_from = "b@other.example";
    in.sigs = k, in.nsig = 4;
    milter_dmarc_run(d, 0, c, &in, &out);
    milter_dmarc_record_msg(&in, &out, 0, &m);
    T_STR("report row: every signature, best first", m.dkim_all,
          "rej.example/s1/pass sub.rej.example/s2/pass x.other.example/s4/pass "
          "other.example/s3/fail");
    T_STR("report row: the aligned one", m.dkim_domain, "sub.rej.example");
}

/* test_from_reply - issue 12 item 9: a From that gives no author domain
 * is refused (dmarc_multifrom_action = reject, the default) with a reply
 * that says what is wrong; a group is refused like any unparseable From */
static void test_from_reply(struct mxdmarc *d, struct mx_conf *c)
{
    static const struct {
        const char *name, *from, *text;
    } cases[] = {
        {"literal", "postmaster@[192.0.2.1]", "rejected: the From domain is an address literal"},
        {"invalid domain", "a@exa_mple.com", "rejected: the From domain is not a valid domain name"},
        {"single label", "a@localhost", "rejected: the From domain is not a valid domain name"},
        {"group", "Group: a@rej.example;", "rejected: unparseable From header field: a group"},
        {"empty group", "undisclosed-recipients:;", "unparseable From header field: a group"},
        {"two addresses", "a@rej.example, b@evil.example", "rejected: 2 addresses in From"},
        {"unparseable", "<a@rej.example", "rejected: unparseable From header field;"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct milter_dmarc_in in;
        struct milter_dmarc_out out;
        char    name[160];

        memset(&in, 0, sizeof(in));
        milter_dmarc_input_from(&in, "From", cases[i].from);
        in.client_ip = "192.0.2.9";
        in.mail_from = "b@rej.example";
        milter_dmarc_run(d, 0, c, &in, &out);
        snprintf(name, sizeof(name), "From %s: refused", cases[i].name);
        T_INT(name, out.v.kind, MV_REJECT);
        snprintf(name, sizeof(name), "From %s: reply says why", cases[i].name);
        T_HAS(name, out.v.text, cases[i].text);
        snprintf(name, sizeof(name), "From %s: dmarc=permerror", cases[i].name);
        T_HAS(name, out.r.ar, "dmarc=permerror (");
    }
}

static void test_reject_text(struct mxdmarc *d, struct mx_conf *c)
{
    struct milter_dmarc_in in;
    struct milter_dmarc_out out;

    memset(&in, 0, sizeof(in));
    milter_dmarc_input_from(&in, "From", "<a@rej.example>");
    in.client_ip = "192.0.2.9";
    in.mail_from = "b@other.example";
    milter_dmarc_run(d, 0, c, &in, &out);
    T_STR("reject reply code", out.v.rcode, "550");
    T_STR("reject enhanced code", out.v.xcode, "5.7.1");
    T_STR("reject text", out.v.text, "rejected by DMARC policy for rej.example");
    T_STR("log word", out.log, "fail/reject");
}

static void test_ar(void)
{
    struct strbuf sb = STRBUF_INIT;

    milter_ar_build_dmarc(&sb, "mx.test", "", 0, 1, 0, 0,
                          "dmarc=fail (p=reject sp=none dis=reject)\r\nheader.from=x.example");
    T_STR("A-R with dmarc= last, controls made spaces", sb_str(&sb),
          "mx.test;\n\tdkim=none;\n\tdmarc=fail (p=reject sp=none dis=reject)  header.from=x.example");
    sb_free(&sb);
}

int     main(void)
{
    struct mx_conf *c = conf_defaults();
    char    why[256] = "";
    struct mxdmarc *d = mxdmarc_new(c, why, sizeof(why));

    T_OK("checker built", d != 0);
    if (d == 0)
        return t_done();
    mxdmarc_set_lookup(d, fake_lookup, 0);
    test_cases(d, c);
    test_dkim_all(d, c);
    test_reject_text(d, c);
    test_from_reply(d, c);
    test_ar();
    mxdmarc_free(d);
    conf_free(c);
    return t_done();
}
