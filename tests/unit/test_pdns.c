/*
 * test_pdns.c - the pure parts of pdns-hooks: normal form, names, TXT
 * quoting, SPF lookup count, MTA-STS id, the record-set builder and the
 * reconcile diff (ownership rules), what create records in a zone
 * (--template, --ip).  Table-driven where inputs vary.
 */
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "dns_cli.h"

static void test_norm(void)
{
    static const struct { const char *type, *in, *want; } cases[] = {
        {"TXT", "\"v=spf1 mx -all\"", "v=spf1 mx -all"},
        {"TXT", "\"abc\" \"def\"", "abcdef"},
        {"TXT", "\"a\\\"b\\\\c\"", "a\"b\\c"},
        {"TXT", "\"caf\\195\\169\"", "caf\xc3\xa9"},
        {"TXT", "unquoted text", "unquoted text"},
        {"AAAA", "2001:0db8:0000:0000:0000:0000:0000:0025", "2001:db8::25"},
        {"AAAA", "2001:DB8::1", "2001:db8::1"},
        {"A", "192.0.2.1", "192.0.2.1"},
        {"MX", "10  Mail.Example.TEST", "10 mail.example.test."},
        {"CNAME", "Mail.example.test.", "mail.example.test."},
        {"SRV", "0 1 443 MAIL.example.test", "0 1 443 mail.example.test."},
        {"SRV", "0 0 0 .", "0 0 0 ."},
        {"TLSA", "3 1 1 ABCDEF 0123", "3 1 1 abcdef0123"},
        {"SOA", "NS1.x.test. Host.x.test. 5 10800 3600 604800 3600",
         "ns1.x.test. host.x.test. 5 10800 3600 604800 3600"},
        {"CAA", "0 issue  \"letsencrypt.org\"", "0 issue \"letsencrypt.org\""},
    };

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct strbuf sb = STRBUF_INIT;
        char    name[80];

        pdns_norm(cases[i].type, cases[i].in, &sb);
        snprintf(name, sizeof name, "norm %s %.40s", cases[i].type, cases[i].in);
        T_STR(name, sb_str(&sb), cases[i].want);
        sb_free(&sb);
    }
    T_OK("rec_equal: split TXT = joined", pdns_rec_equal("TXT", "\"ab\" \"c\"", "\"abc\""));
    T_OK("rec_equal: MX differs", !pdns_rec_equal("MX", "10 a.test.", "20 a.test."));
}

static void test_names(void)
{
    static const struct { const char *in, *want; } cases[] = {
        {"@", "example.test."}, {"", "example.test."}, {"www", "www.example.test."},
        {"WWW.Example.Test", "www.example.test."}, {"www.example.test.", "www.example.test."},
        {"other.net.", "other.net."}, {"example.test", "example.test."},
        {"myexample.test", "myexample.test.example.test."},
    };

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct strbuf sb = STRBUF_INIT;
        char    name[80];

        pdns_name_abs(cases[i].in, "example.test", &sb);
        snprintf(name, sizeof name, "name_abs \"%s\"", cases[i].in);
        T_STR(name, sb_str(&sb), cases[i].want);
        sb_free(&sb);
    }
}

static void test_txt_quote(void)
{
    char    big[601];
    struct strbuf sb = STRBUF_INIT, back = STRBUF_INIT;

    memset(big, 'k', 600);
    big[600] = 0;
    pdns_txt_quote(big, &sb);
    T_INT("600 bytes: three strings", sb.len, 600 + 6 + 2);
    T_OK("first string is 255 bytes", sb.s[256] == '"' && sb.s[257] == ' ');
    pdns_norm("TXT", sb_str(&sb), &back);
    T_STR("quote then join gives the value back", sb_str(&back), big);
    sb_reset(&sb);
    pdns_txt_quote("say \"hi\"", &sb);
    T_STR("quotes escaped", sb_str(&sb), "\"say \\\"hi\\\"\"");
    sb_free(&sb);
    sb_free(&back);
}

static void test_spf_and_sts(void)
{
    static const struct { const char *spf; int want; } cases[] = {
        {"v=spf1 mx -all", 1}, {"v=spf1 a mx include:x.test -all", 3},
        {"v=spf1 ip4:192.0.2.0/24 -all", 0}, {"v=spf1 redirect=_spf.x.test", 1},
        {"v=spf1 a:m.test mx/24 ptr exists:%{i}.x.test ~all", 4},
        {"v=spf1 include:a include:b include:c include:d include:e include:f"
         " include:g include:h include:i include:j include:k -all", 11},
    };
    char    id[40], name[100];

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        snprintf(name, sizeof name, "spf lookups %.50s", cases[i].spf);
        T_INT(name, pdns_spf_lookups(cases[i].spf), cases[i].want);
    }
    pdns_mta_sts_id("version: STSv1\r\n", id, sizeof id);
    T_INT("sts id: 32 characters", strlen(id), 32);
    T_OK("sts id: letters and digits", strspn(id, "0123456789abcdef") == 32);
}

static struct dkim_selector sel_of(const char *name, enum dkim_alg alg, enum dkim_state st,
                                   const char *p)
{
    struct dkim_selector s;

    memset(&s, 0, sizeof s);
    snprintf(s.name, sizeof s.name, "%s", name);
    s.alg = alg;
    s.state = st;
    snprintf(s.pubkey_b64, sizeof s.pubkey_b64, "%s", p);
    return s;
}

/* rec - the first record of NAME/TYPE in SET, or "" */
static const char *rec(const struct pdns_rrsets *set, const char *name, const char *type)
{
    const struct pdns_rrset *rs = pdns_rrset_find(set, name, type);

    return rs && rs->n ? rs->rec[0] : "";
}

static void build(struct mx_conf *conf, struct dkim_selector *sel, size_t nsel,
                  struct pdns_rrsets *out, struct strbuf *warn)
{
    struct pdns_build_in in = {"example.test", sel, nsel, NULL, 0, NULL, 0, 0, NULL};
    char    why[200];

    T_INT("build ok", pdns_build(conf, &in, out, warn, why, sizeof why), 0);
}

static void test_build(void)
{
    struct mx_conf *conf = conf_defaults();
    struct dkim_selector sel[3];
    struct pdns_rrsets out = PDNS_RRSETS_INIT;
    struct strbuf warn = STRBUF_INIT;
    char    rsa[420];

    memset(rsa, 'A', 400);
    rsa[400] = 0;
    sel[0] = sel_of("s1e", DKIM_ALG_ED25519, DKIM_ACTIVE, "EDKEY=");
    sel[1] = sel_of("s1r", DKIM_ALG_RSA, DKIM_PENDING, rsa);
    sel[2] = sel_of("s0r", DKIM_ALG_RSA, DKIM_RETIRED, "OLD");
    free(conf->dns_server_ipv4);
    conf->dns_server_ipv4 = strdup("192.0.2.25");
    build(conf, sel, 3, &out, &warn);
    static const struct { const char *name, *type, *want; } cases[] = {
        {"example.test.", "SOA", "ns1.example.test. hostmaster.example.test. 1 10800 3600 604800 3600"},
        {"example.test.", "MX", "10 mail.example.test."},
        {"example.test.", "TXT", "\"v=spf1 mx -all\""},
        {"mail.example.test.", "TXT", "\"v=spf1 a -all\""},
        {"mail.example.test.", "A", "192.0.2.25"},
        {"ns2.example.test.", "A", "192.0.2.25"},
        {"mail.example.test.", "AAAA", ""},
        {"example.test.", "A", ""},
        {"s1e._domainkey.example.test.", "TXT", "\"v=DKIM1; k=ed25519; p=EDKEY=\""},
        {"s0r._domainkey.example.test.", "TXT", ""},
        {"_dmarc.example.test.", "TXT",
         "\"v=DMARC1; p=quarantine; rua=mailto:postmaster@example.test\""},
        {"_smtp._tls.example.test.", "TXT", "\"v=TLSRPTv1; rua=mailto:postmaster@example.test\""},
        {"mta-sts.example.test.", "CNAME", "mail.example.test."},
        {"_submissions._tcp.example.test.", "SRV", "0 1 465 mail.example.test."},
        {"_submission._tcp.example.test.", "SRV", "0 1 587 mail.example.test."},
        {"_imaps._tcp.example.test.", "SRV", "0 1 993 mail.example.test."},
        {"_pop3s._tcp.example.test.", "SRV", "0 1 995 mail.example.test."},
        {"_imap._tcp.example.test.", "SRV", "0 0 0 ."},
        {"_pop3._tcp.example.test.", "SRV", "0 0 0 ."},
        {"_jmap._tcp.example.test.", "SRV", ""},
        {"autoconfig.example.test.", "CNAME", "mail.example.test."},
        {"autodiscover.example.test.", "CNAME", "mail.example.test."},
        {"_autodiscover._tcp.example.test.", "SRV", "0 1 443 mail.example.test."},
        {"example.test.", "CAA", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char    name[120];

        snprintf(name, sizeof name, "build %s %s", cases[i].name, cases[i].type);
        T_STR(name, rec(&out, cases[i].name, cases[i].type), cases[i].want);
    }
    T_HAS("RSA DKIM split in strings", rec(&out, "s1r._domainkey.example.test.", "TXT"), "\" \"");
    T_INT("two NS", pdns_rrset_find(&out, "example.test.", "NS")->n, 2);
    T_STR("MTA-STS id in TXT", strncmp(rec(&out, "_mta-sts.example.test.", "TXT"),
                                       "\"v=STSv1; id=", 13) ? "no" : "yes", "yes");
    T_STR("no warning", sb_str(&warn), "");

    /* a template overrides the apex SPF; too many lookups warn */
    {
        struct pdns_tmpl_rec t[2] = {
            {"@", "TXT", "\"v=spf1 include:a include:b include:c include:d include:e"
             " include:f include:g include:h include:i include:j mx -all\"", 0},
            {"www", "A", "192.0.2.80", 600},
        };
        struct pdns_build_in in = {"example.test", sel, 3, NULL, 0, t, 2, 0, NULL};
        char    why[200];

        pdns_rrsets_free(&out);
        T_INT("build with template", pdns_build(conf, &in, &out, &warn, why, sizeof why), 0);
        T_INT("template replaced the apex TXT rrset", pdns_rrset_find(&out, "example.test.",
                                                                      "TXT")->n, 1);
        T_HAS("SPF over 10 lookups warns", sb_str(&warn), "needs 11 DNS lookups");
        T_INT("template TTL kept", pdns_rrset_find(&out, "www.example.test.", "A")->ttl, 600);
        sb_reset(&warn);
    }
    pdns_rrsets_free(&out);

    /* dns_publish switches groups off */
    free(conf->dns_publish);
    conf->dns_publish = strdup("soa, ns, mx");
    build(conf, sel, 3, &out, &warn);
    T_STR("publish=mx: no SPF", rec(&out, "example.test.", "TXT"), "");
    T_STR("publish=mx: no DKIM", rec(&out, "s1e._domainkey.example.test.", "TXT"), "");
    T_STR("publish=mx: no A", rec(&out, "mail.example.test.", "A"), "");
    T_INT("publish=soa,ns,mx: three rrsets", out.n, 3);
    pdns_rrsets_free(&out);
    sb_free(&warn);
    conf_free(conf);
}

/* one-record helper for the diff tests */
static void put(struct pdns_rrsets *s, const char *name, const char *type, const char *c)
{
    pdns_rrset_add(s, name, type, 3600, c);
}

/* memo - mark the rrset NAME/TYPE of S as published by mxdock with MEMO */
static void memo(struct pdns_rrsets *s, const char *name, const char *type, const char *m)
{
    struct pdns_rrset *rs = pdns_rrset_find(s, name, type);

    free(rs->memo);
    rs->memo = strdup(m);
}

/* plan - the three-way plan of WANT against HAVE; returns the change count */
static size_t plan(const struct pdns_rrsets *want, const struct pdns_rrsets *have,
                   const struct dkim_selector *sel, size_t nsel, const char *only, int force,
                   int drop, struct pdns_plan *out)
{
    struct mx_conf *conf = conf_defaults();
    struct pdns_sync_in in = {conf, "example.test", want, have, sel, nsel, only, force, drop};

    memset(out, 0, sizeof *out);
    pdns_plan_make(&in, out);
    conf_free(conf);
    return out->ch.n;
}

/* body - the PATCH body of P, keys sorted; caller frees */
static char *body(const struct pdns_plan *p)
{
    json_t *j = pdns_changes_json(&p->ch);
    char   *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);

    json_decref(j);
    return s;
}

static void test_plan(void)
{
    struct pdns_rrsets want = PDNS_RRSETS_INIT, have = PDNS_RRSETS_INIT;
    struct pdns_plan p;
    struct dkim_selector sel[1];
    char   *s;

    sel[0] = sel_of("old", DKIM_ALG_ED25519, DKIM_RETIRED, "K0");
    put(&want, "example.test.", "MX", "10 mail.example.test.");
    put(&want, "example.test.", "TXT", "\"v=spf1 mx -all\"");
    put(&want, "example.test.", "SOA", "ns1. h. 1 2 3 4 5");
    put(&have, "Example.Test.", "MX", "10 Mail.Example.Test.");
    memo(&have, "example.test.", "MX", "10 mail.example.test.");
    put(&have, "example.test.", "TXT", "\"v=spf1 \" \"mx -all\"");
    put(&have, "example.test.", "TXT", "\"hello=world\"");
    memo(&have, "example.test.", "TXT", "\"v=spf1 mx -all\"");
    put(&have, "example.test.", "SOA", "ns1. h. 2026112199 2 3 4 5");
    T_INT("equal after normalising: no change (no PATCH)", plan(&want, &have, sel, 1, NULL, 0, 0, &p), 0);
    T_INT("hello=world is foreign", pdns_plan_count(&p, PDNS_FOREIGN, -1), 1);
    pdns_plan_free(&p);

    /* a backup MX beside ours: kept, nothing to do */
    put(&have, "example.test.", "MX", "20 backup.other.test.");
    T_INT("backup MX: no change", plan(&want, &have, sel, 1, NULL, 0, 0, &p), 0);
    pdns_plan_free(&p);

    /* ours changes: the old one (unchanged) goes, the backup stays, one REPLACE */
    pdns_rrset_clear(pdns_rrset_find(&want, "example.test.", "MX"));
    put(&want, "example.test.", "MX", "10 mx2.example.test.");
    T_INT("new MX: one change", plan(&want, &have, sel, 1, NULL, 0, 0, &p), 1);
    s = body(&p);
    T_HAS("one REPLACE with the backup and the new MX", s,
          "\"records\":[{\"content\":\"10 mx2.example.test.\",\"disabled\":false},"
          "{\"content\":\"20 backup.other.test.\",\"disabled\":false}]");
    T_HAS("the memo names only ours", s,
          "\"comments\":[{\"account\":\"mxdock\",\"content\":\"10 mx2.example.test.\"}]");
    T_INT("stale: one removed", pdns_plan_count(&p, PDNS_STALE, 1), 1);
    free(s);
    pdns_plan_free(&p);
    pdns_rrset_clear(pdns_rrset_find(&want, "example.test.", "MX"));
    put(&want, "example.test.", "MX", "10 mail.example.test.");

    /* the SPF edited by hand: drift, kept; force replaces it */
    pdns_rrset_clear(pdns_rrset_find(&have, "example.test.", "TXT"));
    put(&have, "example.test.", "TXT", "\"v=spf1 a -all\"");
    put(&have, "example.test.", "TXT", "\"hello=world\"");
    T_INT("edited SPF: no change", plan(&want, &have, sel, 1, NULL, 0, 0, &p), 0);
    T_INT("edited SPF: drift kept", pdns_plan_count(&p, PDNS_DRIFT, 0), 1);
    pdns_plan_free(&p);
    T_INT("edited SPF, force: one change", plan(&want, &have, sel, 1, NULL, 1, 0, &p), 1);
    s = body(&p);
    T_OK("force: the edit goes", !strstr(s, "v=spf1 a -all"));
    T_HAS("force: hello=world stays", s, "hello=world");
    free(s);
    pdns_plan_free(&p);
    T_INT("--only=MX: the TXT not considered", plan(&want, &have, sel, 1, "MX", 1, 0, &p), 0);
    pdns_plan_free(&p);

    /* records-only: ours go, the backup MX and hello=world stay, NS untouched */
    put(&have, "example.test.", "NS", "ns1.example.test.");
    memo(&have, "example.test.", "NS", "ns1.example.test.");
    T_INT("drop: MX trimmed, TXT memo forgotten (records: the edit and a foreign one)",
          plan(&want, &have, sel, 1, NULL, 0, 1, &p), 2);
    s = body(&p);
    T_HAS("drop: REPLACE keeps only the backup", s,
          "\"records\":[{\"content\":\"20 backup.other.test.\",\"disabled\":false}]");
    T_OK("drop: NS untouched", !strstr(s, "\"NS\""));
    free(s);
    pdns_plan_free(&p);

    /* a retired selector's name filled by a template: one REPLACE, no DELETE */
    put(&want, "old._domainkey.example.test.", "TXT", "\"v=DKIM1; p=\"");
    put(&have, "old._domainkey.example.test.", "TXT", "\"v=DKIM1; k=ed25519; p=K0\"");
    memo(&have, "old._domainkey.example.test.", "TXT", "\"v=DKIM1; k=ed25519; p=K0\"");
    T_INT("retired + template: one change", plan(&want, &have, sel, 1, "TXT", 0, 0, &p), 1);
    T_OK("retired + template: a REPLACE", p.ch.v[0].kind == PDNS_REPLACE);
    pdns_plan_free(&p);
    pdns_rrsets_free(&want);
    pdns_rrsets_free(&have);
}

/* test_plan_cases - one rrset each: desired, live (| = next record, ! =
 * disabled), memo (NULL = the zone has none) -> changes, drift. */
static void test_plan_cases(void)
{
    static const struct {
        const char *what, *type, *want, *live, *memo;
        long    live_ttl;
        size_t  changes, drift;
        const char *has;
    } cases[] = {
        {"disabled MX of ours: kept disabled, not re-added", "MX", "10 mail.example.test.",
         "!10 mail.example.test.", "10 mail.example.test.", 3600, 0, 1, NULL},
        {"disabled foreign record kept in a REPLACE", "MX", "10 mail.example.test.",
         "!20 b.other.test.", "", 3600, 1, 0, "{\"content\":\"20 b.other.test.\",\"disabled\":true}"},
        {"second TLSA kept", "TLSA", "3 1 1 aa", "3 1 1 aa|3 1 1 bb", "3 1 1 aa", 3600, 0, 0, NULL},
        {"TLSA: rollover to the admin's next key", "TLSA", "3 1 1 bb", "3 1 1 aa|3 1 1 bb",
         "3 1 1 aa", 3600, 1, 0, "\"records\":[{\"content\":\"3 1 1 bb\""},
        {"no memo: edited SPF blocks ours (one SPF)", "TXT", "\"v=spf1 mx -all\"",
         "\"v=spf1 a -all\"", NULL, 3600, 0, 1, NULL},
        {"no memo: equal record adopted (memo only)", "MX", "10 mail.example.test.",
         "10 mail.example.test.", NULL, 3600, 1, 0, "\"account\":\"mxdock\""},
        {"mixed rrset: the administrator's TTL stays", "MX", "10 mail.example.test.",
         "20 b.other.test.", "", 300, 1, 0, "\"ttl\":300"},
        {"all ours: the desired TTL", "MX", "10 mail.example.test.",
         "10 mail.example.test.", "10 mail.example.test.", 300, 1, 0, "\"ttl\":3600"},
        {"our MX deleted by hand, nothing in its place: put back", "MX",
         "10 mail.example.test.", "20 b.other.test.", "10 mail.example.test.", 3600, 1, 0, NULL},
        {"our MX edited (same preference): drift", "MX", "10 mail.example.test.",
         "10 mx.other.test.", "10 mail.example.test.", 3600, 0, 1, NULL},
    };

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct pdns_rrsets want = PDNS_RRSETS_INIT, have = PDNS_RRSETS_INIT;
        struct pdns_rrset *rs;
        struct pdns_plan p;
        char    name[200], live[300], *save, *r;
        const char *n = "x.example.test.";

        pdns_rrset_add(&want, n, cases[i].type, 3600, cases[i].want);
        rs = pdns_rrset_add(&have, n, cases[i].type, cases[i].live_ttl, NULL);
        snprintf(live, sizeof live, "%s", cases[i].live);
        for (r = strtok_r(live, "|", &save); r; r = strtok_r(NULL, "|", &save))
            pdns_rrset_push(rs, r + (*r == '!'), *r == '!');
        if (cases[i].memo)
            rs->memo = strdup(cases[i].memo);
        snprintf(name, sizeof name, "%s: changes", cases[i].what);
        T_INT(name, plan(&want, &have, NULL, 0, NULL, 0, 0, &p), cases[i].changes);
        snprintf(name, sizeof name, "%s: drift", cases[i].what);
        T_INT(name, pdns_plan_count(&p, PDNS_DRIFT, -1), cases[i].drift);
        if (cases[i].has) {
            char   *s = body(&p);

            snprintf(name, sizeof name, "%s: body", cases[i].what);
            T_HAS(name, s, cases[i].has);
            free(s);
        }
        pdns_plan_free(&p);
        pdns_rrsets_free(&want);
        pdns_rrsets_free(&have);
    }
}

/* test_diff_off - a zone made before memos, with a group switched off in
 * dns_publish: its records at names only mxdock uses are adopted and go
 * when their content is mxdock's, hand-made ones stay, apex SPF and MX and
 * any TLSA (never adopted) stay. */
static void test_diff_off(void)
{
    static const char *const dflt = "soa, ns, a, mx, spf, dkim, dmarc, tlsrpt, mta-sts, srv, autoconfig";
    static const struct {
        const char *what, *publish, *name, *type, *content, *only;
        int     in_desired, deleted;
    } cases[] = {
        {"mta-sts off: CNAME to M goes", "mx", "mta-sts.example.test.", "CNAME",
         "mail.example.test.", NULL, 0, 1},
        {"mta-sts off: hand-made CNAME stays", "mx", "mta-sts.example.test.", "CNAME",
         "web.example.net.", NULL, 0, 0},
        {"mta-sts off: STS TXT goes", "mx", "_mta-sts.example.test.", "TXT",
         "\"v=STSv1; id=abc\"", NULL, 0, 1},
        {"mta-sts off: non-STS TXT stays", "mx", "_mta-sts.example.test.", "TXT",
         "\"hello=world\"", NULL, 0, 0},
        {"mta-sts on: nothing deleted", dflt, "mta-sts.example.test.", "CNAME",
         "mail.example.test.", NULL, 0, 0},
        {"srv off: SRV to M goes", "mx", "_submission._tcp.example.test.", "SRV",
         "0 1 587 mail.example.test.", NULL, 0, 1},
        {"srv off: not-offered SRV goes", "mx", "_imap._tcp.example.test.", "SRV",
         "0 0 0 .", NULL, 0, 1},
        {"srv off: SRV to another host stays", "mx", "_imaps._tcp.example.test.", "SRV",
         "0 1 993 imap.example.net.", NULL, 0, 0},
        {"srv off: template keeps its SRV", "mx", "_submission._tcp.example.test.", "SRV",
         "0 1 587 mail.example.test.", NULL, 1, 0},
        {"srv off, --only=TXT: SRV not considered", "mx", "_submission._tcp.example.test.",
         "SRV", "0 1 587 mail.example.test.", "TXT", 0, 0},
        {"dmarc off: DMARC TXT goes", "mx", "_dmarc.example.test.", "TXT",
         "\"v=DMARC1; p=none\"", NULL, 0, 1},
        {"tlsrpt off: TLS-RPT TXT goes", "mx", "_smtp._tls.example.test.", "TXT",
         "\"v=TLSRPTv1; rua=mailto:x@example.test\"", NULL, 0, 1},
        {"autoconfig off: autodiscover CNAME goes", "mx", "autodiscover.example.test.",
         "CNAME", "Mail.Example.Test.", NULL, 0, 1},
        {"autoconfig off: _autodiscover SRV goes", "mx", "_autodiscover._tcp.example.test.",
         "SRV", "0 1 443 mail.example.test.", NULL, 0, 1},
        {"tlsa off: a 3 1 1 TLSA not known to be ours stays", "mx",
         "_25._tcp.mail.example.test.", "TLSA", "3 1 1 abcd", NULL, 0, 0},
        {"tlsa off: other TLSA usage stays", "mx", "_25._tcp.mail.example.test.", "TLSA",
         "2 0 1 abcd", NULL, 0, 0},
        {"spf, mx off: apex SPF stays", "soa", "example.test.", "TXT",
         "\"v=spf1 mx -all\"", NULL, 0, 0},
        {"spf, mx off: MX stays", "soa", "example.test.", "MX",
         "10 mail.example.test.", NULL, 0, 0},
    };
    struct mx_conf *conf = conf_defaults();

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct pdns_rrsets want = PDNS_RRSETS_INIT, have = PDNS_RRSETS_INIT;
        struct pdns_sync_in in = {conf, "example.test", &want, &have, NULL, 0, cases[i].only,
                                  0, 0};
        struct pdns_plan p = PDNS_PLAN_INIT;
        size_t  deletes = 0;
        char    name[160];

        free(conf->dns_publish);
        conf->dns_publish = strdup(cases[i].publish);
        put(&have, cases[i].name, cases[i].type, cases[i].content);
        if (cases[i].in_desired)
            put(&want, cases[i].name, cases[i].type, cases[i].content);
        pdns_plan_make(&in, &p);
        for (size_t j = 0; j < p.ch.n; j++)
            deletes += p.ch.v[j].kind == PDNS_DELETE && !strcmp(p.ch.v[j].want.name, cases[i].name)
                && !strcmp(p.ch.v[j].want.type, cases[i].type);
        snprintf(name, sizeof name, "%s: DELETE of the rrset", cases[i].what);
        T_INT(name, deletes, cases[i].deleted);
        pdns_plan_free(&p);
        pdns_rrsets_free(&want);
        pdns_rrsets_free(&have);
    }
    conf_free(conf);
}

static void test_family(void)
{
    static const struct { const char *in, *want; } cases[] = {
        {"\"v=spf1 mx -all\"", "v=spf1"}, {"\"V=DMARC1; p=none\"", "v=dmarc1"},
        {"\"hello=world\"", ""}, {"\"v=STSv1; id=1\"", "v=stsv1"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char    fam[32], name[80];

        pdns_txt_family(cases[i].in, fam, sizeof fam);
        snprintf(name, sizeof name, "family of %s", cases[i].in);
        T_STR(name, fam, cases[i].want);
    }
}

/* test_recorded - create's options replace what the zone recorded; absent
 * options keep it; the account field says whether metadata is to be read. */
static void test_recorded(void)
{
    static const struct {
        const char *name, *old_tmpl, *old_ip, *arg1, *arg2;
        int     old_lost;
        const char *tmpl, *ips, *account;
        int     lost;
    } cases[] = {
        {"nothing", "", NULL, NULL, NULL, 0, "", "", "mxdock", 0},
        {"--ip recorded", "", NULL, "--ip=192.0.2.10", NULL, 0, "", "192.0.2.10,",
         "mxdock+meta", 0},
        {"no --ip keeps the old", "web", "192.0.2.10", NULL, NULL, 0, "web", "192.0.2.10,",
         "mxdock+meta", 0},
        {"--ip replaces, template kept", "web", "192.0.2.10", "--ip=2001:db8::1",
         "--ip=192.0.2.11", 0, "web", "2001:db8::1,192.0.2.11,", "mxdock+meta", 0},
        {"--template replaces", "web", NULL, "--template=web2", NULL, 0, "web2", "",
         "mxdock+meta", 0},
        {"lost stays lost without options", "", NULL, NULL, NULL, 1, "", "", "mxdock", 1},
        {"lost is healed by --ip", "", NULL, "--ip=192.0.2.1", NULL, 1, "", "192.0.2.1,",
         "mxdock+meta", 0},
    };

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct cli c = {"test", NULL, NULL, {0}};
        struct dns_recorded old = {{0}, 0, {{0}}, cases[i].old_lost}, out;
        char   *argv[3] = {(char *) "x.test", (char *) cases[i].arg1, (char *) cases[i].arg2};
        char    name[120], ips[200] = "";

        snprintf(old.tmpl, sizeof old.tmpl, "%s", cases[i].old_tmpl);
        if (cases[i].old_ip)
            snprintf(old.ips[old.nips++], sizeof old.ips[0], "%s", cases[i].old_ip);
        T_INT(cases[i].name, cli_parse(&c, 1 + !!cases[i].arg1 + !!cases[i].arg2, argv,
                                       "template=,ip="), 0);
        dns_recorded_merge(&c, &old, &out);
        for (size_t j = 0; j < out.nips; j++)
            snprintf(ips + strlen(ips), sizeof ips - strlen(ips), "%s,", out.ips[j]);
        snprintf(name, sizeof name, "%s: template", cases[i].name);
        T_STR(name, out.tmpl, cases[i].tmpl);
        snprintf(name, sizeof name, "%s: addresses", cases[i].name);
        T_STR(name, ips, cases[i].ips);
        snprintf(name, sizeof name, "%s: account", cases[i].name);
        T_STR(name, dns_recorded_account(&out), cases[i].account);
        snprintf(name, sizeof name, "%s: lost", cases[i].name);
        T_INT(name, out.lost, cases[i].lost);
    }
}

int     main(void)
{
    test_norm();
    test_names();
    test_txt_quote();
    test_spf_and_sts();
    test_build();
    test_plan();
    test_plan_cases();
    test_diff_off();
    test_family();
    test_recorded();
    return t_done();
}
