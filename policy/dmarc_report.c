/*
 * dmarc_report.c - DMARC aggregate reports (RFC 9990): the tables, the
 * recording of evaluated messages, the XML of one report.
 *
 *   dmarc_report_ddl          the tables (init-db, schema versions 2 and 3)
 *   dmarc_report_record       one evaluated message into the tables
 *   dmarc_report_xml          RFC 9990 XML for one policy domain and period
 *   dmarc_report_policy       the policy last seen for a domain
 *   dmarc_report_policy_cols  the columns dmarc_report_policy fills
 *   dmarc_report_domains      the policy domains with rows in a period
 *
 * A report covers one UTC day [begin, begin + 86400) and one policy domain
 * (the domain whose _dmarc record applied).  Rows with the same source,
 * disposition, results and identifiers are one <record> with their count
 * (SQL GROUP BY).  IPv6 sources are written in full 8-group form.  The
 * verb is in dmarc_report_send.c, the mail in dmarc_report_out.c.
 *
 * Ownership: dmarc_report_xml() returns a malloc'd string the caller
 * frees.  Diagnostics: database failures return -1/NULL (pdb logs them).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "dmarc_report.h"
#include "fileio.h"
#include "log.h"
#include "strbuf.h"

const char *const dmarc_report_ddl[] = {
    "CREATE TABLE IF NOT EXISTS dmarc_message ("
    " id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
    " received BIGINT NOT NULL,"
    " source_ip VARCHAR(45) NOT NULL,"
    " header_from VARCHAR(253) NOT NULL,"
    " envelope_from VARCHAR(253) NOT NULL,"
    " policy_domain VARCHAR(253) NOT NULL,"
    " disposition VARCHAR(10) NOT NULL,"
    " dkim_eval VARCHAR(4) NOT NULL, spf_eval VARCHAR(4) NOT NULL,"
    " dkim_domain VARCHAR(253) NOT NULL, dkim_result VARCHAR(10) NOT NULL,"
    " spf_domain VARCHAR(253) NOT NULL, spf_scope VARCHAR(5) NOT NULL,"
    " spf_result VARCHAR(10) NOT NULL,"
    " reason VARCHAR(20) NOT NULL,"
    " dkim_selector VARCHAR(63) NOT NULL DEFAULT '',"
    " dkim_all VARCHAR(255) NOT NULL DEFAULT '',"
    " KEY dmarc_message_day (received, policy_domain)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    "CREATE TABLE IF NOT EXISTS dmarc_policy ("
    " domain VARCHAR(253) NOT NULL PRIMARY KEY,"
    " p VARCHAR(10) NOT NULL, sp VARCHAR(10) NOT NULL,"
    " pct TINYINT UNSIGNED NOT NULL,"
    " adkim CHAR(1) NOT NULL, aspf CHAR(1) NOT NULL,"
    " rua VARCHAR(255) NOT NULL,"
    " seen BIGINT NOT NULL,"
    " np VARCHAR(10) NOT NULL DEFAULT '', testing CHAR(1) NOT NULL DEFAULT 'n',"
    " fo VARCHAR(15) NOT NULL DEFAULT '0', discovery VARCHAR(8) NOT NULL DEFAULT 'psl'"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    /* schema 3 (RFC 9990): what version 2 lacked */
    "ALTER TABLE dmarc_message ADD COLUMN IF NOT EXISTS"
    " dkim_selector VARCHAR(63) NOT NULL DEFAULT '',"
    " ADD COLUMN IF NOT EXISTS dkim_all VARCHAR(255) NOT NULL DEFAULT ''",
    "ALTER TABLE dmarc_policy ADD COLUMN IF NOT EXISTS np VARCHAR(10) NOT NULL DEFAULT '',"
    " ADD COLUMN IF NOT EXISTS testing CHAR(1) NOT NULL DEFAULT 'n',"
    " ADD COLUMN IF NOT EXISTS fo VARCHAR(15) NOT NULL DEFAULT '0',"
    " ADD COLUMN IF NOT EXISTS discovery VARCHAR(8) NOT NULL DEFAULT 'psl'",
    /* one row per report, destination and period: what was sent, what
     * failed and when to try again (dmarc_report_sent.c) */
    "CREATE TABLE IF NOT EXISTS dmarc_report_sent ("
    " policy_domain VARCHAR(253) NOT NULL,"
    " period_begin BIGINT NOT NULL,"
    " uri VARCHAR(255) NOT NULL,"
    " status VARCHAR(8) NOT NULL,"
    " attempts INT NOT NULL DEFAULT 0,"
    " next_try BIGINT NOT NULL DEFAULT 0,"
    " report_id VARCHAR(255) NOT NULL,"
    " bytes BIGINT NOT NULL DEFAULT 0,"
    " updated BIGINT NOT NULL,"
    " error VARCHAR(255) NOT NULL DEFAULT '',"
    " PRIMARY KEY (policy_domain, period_begin, uri)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    /* failure reports sent per policy domain and hour (RFC 9991 rate limit) */
    "CREATE TABLE IF NOT EXISTS dmarc_failure_sent ("
    " policy_domain VARCHAR(253) NOT NULL,"
    " hour BIGINT NOT NULL,"
    " sent INT NOT NULL DEFAULT 0,"
    " PRIMARY KEY (policy_domain, hour)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    NULL
};

static const char sql_insert[] =
    "INSERT INTO dmarc_message (received, source_ip, header_from, envelope_from,"
    " policy_domain, disposition, dkim_eval, spf_eval, dkim_domain, dkim_result,"
    " spf_domain, spf_scope, spf_result, reason, dkim_selector, dkim_all)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";

/* the policy as last seen: what <policy_published> reports */
static const char sql_seen[] =
    "INSERT INTO dmarc_policy (domain, p, sp, pct, adkim, aspf, rua, seen, np, testing, fo,"
    " discovery) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON DUPLICATE KEY UPDATE p = VALUES(p),"
    " sp = VALUES(sp), pct = VALUES(pct), adkim = VALUES(adkim), aspf = VALUES(aspf),"
    " rua = VALUES(rua), seen = VALUES(seen), np = VALUES(np), testing = VALUES(testing),"
    " fo = VALUES(fo), discovery = VALUES(discovery)";

static const char sql_domains[] =
    "SELECT DISTINCT policy_domain FROM dmarc_message"
    " WHERE received >= ? AND received < ? ORDER BY policy_domain";

static const char sql_policy[] =
    "SELECT p, sp, pct, adkim, aspf, rua, np, testing, fo, discovery FROM dmarc_policy"
    " WHERE domain = ?";

#define GROUPED "source_ip, disposition, dkim_eval, spf_eval, reason, header_from," \
    " envelope_from, dkim_domain, dkim_result, spf_domain, spf_scope, spf_result, dkim_selector," \
    " dkim_all"
static const char sql_rows[] =
    "SELECT " GROUPED ", COUNT(*) FROM dmarc_message"
    " WHERE policy_domain = ? AND received >= ? AND received < ?"
    " GROUP BY " GROUPED " ORDER BY source_ip, COUNT(*) DESC";


int     dmarc_report_record(struct pdb *db, const struct dmarc_report_msg *m)
{
    char    adkim[2] = {m->adkim ? m->adkim : 'r', 0}, aspf[2] = {m->aspf ? m->aspf : 'r', 0};
    struct pdb_val in[16], pol[12];

    in[0] = pdb_int((long long) m->when);
    in[1] = pdb_text(m->source_ip);
    in[2] = pdb_text(m->header_from);
    in[3] = pdb_text(m->envelope_from);
    in[4] = pdb_text(m->policy_domain);
    in[5] = pdb_text(m->disposition);
    in[6] = pdb_text(m->dkim_aligned ? "pass" : "fail");
    in[7] = pdb_text(m->spf_aligned ? "pass" : "fail");
    in[8] = pdb_text(m->dkim_domain);
    in[9] = pdb_text(m->dkim_result);
    in[10] = pdb_text(m->spf_domain);
    in[11] = pdb_text(m->spf_scope && *m->spf_scope ? m->spf_scope : "mfrom");
    in[12] = pdb_text(m->spf_result && *m->spf_result ? m->spf_result : "none");
    in[13] = pdb_text(m->reason);
    in[14] = pdb_text(m->dkim_selector);
    in[15] = pdb_text(m->dkim_all);
    pol[0] = pdb_text(m->policy_domain);
    pol[1] = pdb_text(m->p);
    pol[2] = pdb_text(m->sp && *m->sp ? m->sp : m->p);
    pol[3] = pdb_int(m->pct);
    pol[4] = pdb_text(adkim);
    pol[5] = pdb_text(aspf);
    pol[6] = pdb_text(m->rua);
    pol[7] = pdb_int((long long) m->when);
    pol[8] = pdb_text(m->np);
    pol[9] = pdb_text(m->testing ? "y" : "n");
    pol[10] = pdb_text(m->fo && *m->fo ? m->fo : "0");
    pol[11] = pdb_text(m->discovery && *m->discovery ? m->discovery : "psl");
    if (pdb_run(db, -1, sql_insert, in, 16, NULL, 0, NULL, NULL, NULL) < 0)
        return -1;
    return pdb_run(db, -1, sql_seen, pol, 12, NULL, 0, NULL, NULL, NULL);
}

/* xml_text - S with the five XML specials escaped. */
static void xml_text(struct strbuf *sb, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': sb_puts(sb, "&amp;"); break;
        case '<': sb_puts(sb, "&lt;"); break;
        case '>': sb_puts(sb, "&gt;"); break;
        case '"': sb_puts(sb, "&quot;"); break;
        case '\'': sb_puts(sb, "&apos;"); break;
        default: sb_putc(sb, *s);
        }
    }
}

static void xml_elem(struct strbuf *sb, const char *name, const char *value)
{
    sb_printf(sb, "<%s>", name);
    xml_text(sb, value);
    sb_printf(sb, "</%s>", name);
}

/* xml_source_ip - IPv6 in full 8-group form (the schema's pattern). */
static void xml_source_ip(struct strbuf *sb, const char *ip)
{
    unsigned char a[16];

    if (strchr(ip, ':') == NULL || inet_pton(AF_INET6, ip, a) != 1) {
        xml_elem(sb, "source_ip", ip);
        return;
    }
    sb_puts(sb, "<source_ip>");
    for (int i = 0; i < 16; i += 2)
        sb_printf(sb, "%s%x", i ? ":" : "", (unsigned) (a[i] << 8 | a[i + 1]));
    sb_puts(sb, "</source_ip>");
}

/* count_row - count rows into the int at CTX (the columns stay in place) */
static int count_row(void *ctx, const struct pdb_col *c, int ncols)
{
    (void) c;
    (void) ncols;
    (*(int *) ctx)++;
    return 0;
}

static int collect_domain(void *ctx, const struct pdb_col *c, int ncols)
{
    (void) ncols;
    sb_puts(ctx, c[0].s);
    sb_putc(ctx, '\n');
    return 0;
}

struct rows_ctx {
    struct strbuf *sb;
    long    msgs;
    int     enforcing;          /* published p= is quarantine or reject */
};

/* reason - <reason> for a recorded reason word (RFC 9990 PolicyOverrideType) */
static void reason(struct strbuf *sb, const char *why)
{
    if (*why == 0)
        return;
    sb_puts(sb, "<reason>");
    if (strcmp(why, "sampled_out") == 0) {
        xml_elem(sb, "type", "other");
        xml_elem(sb, "comment", "pct= sampling (RFC 7489 6.6.4, dmarc_org_domain = psl)");
    } else {
        xml_elem(sb, "type", strcmp(why, "policy_test_mode") == 0 || strcmp(why, "local_policy") == 0
                 ? why : "other");
    }
    sb_puts(sb, "</reason>");
}

/* dkim_list - one <dkim> per "d/s/result" word of LIST (every signature
 * verified, the preferred first: RFC 9990 "DKIM Signatures in Aggregate
 * Reports") */
static void dkim_list(struct strbuf *sb, const char *list)
{
    char    buf[256], *save = NULL;

    snprintf(buf, sizeof buf, "%s", list);
    for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        char   *s = strchr(w, '/'), *res = s ? strchr(s + 1, '/') : NULL;

        if (res == NULL)
            continue;
        *s++ = 0;
        *res++ = 0;
        sb_puts(sb, "<dkim>");
        xml_elem(sb, "domain", w);
        xml_elem(sb, "selector", s);
        xml_elem(sb, "result", res);
        sb_puts(sb, "</dkim>");
    }
}

/* auth_results - the DKIM and SPF results as evaluated (RFC 9990: SPF of
 * the MAIL FROM identity only, scope "mfrom") */
static void auth_results(struct strbuf *sb, const struct pdb_col *c)
{
    sb_puts(sb, "<auth_results>");
    if (c[13].s[0]) {
        dkim_list(sb, c[13].s);
    } else if (c[7].s[0]) {     /* a row of schema 2: one signature */
        sb_puts(sb, "<dkim>");
        xml_elem(sb, "domain", c[7].s);
        xml_elem(sb, "selector", c[12].s);
        xml_elem(sb, "result", c[8].s);
        sb_puts(sb, "</dkim>");
    }
    if (strcmp(c[10].s, "mfrom") == 0 && c[9].s[0]) {
        sb_puts(sb, "<spf>");
        xml_elem(sb, "domain", c[9].s);
        xml_elem(sb, "scope", "mfrom");
        xml_elem(sb, "result", c[11].s);
        sb_puts(sb, "</spf>");
    }
    sb_puts(sb, "</auth_results>");
}

/* one_record - one <record> from a grouped row (15 columns): messages
 * with the same source, results and identifiers are one row. */
static int one_record(void *ctx, const struct pdb_col *c, int ncols)
{
    struct rows_ctx *rc = ctx;
    struct strbuf *sb = rc->sb;
    int     pass = strcmp(c[2].s, "pass") == 0 || strcmp(c[3].s, "pass") == 0;

    (void) ncols;
    sb_puts(sb, "<record><row>");
    xml_source_ip(sb, c[0].s);
    sb_printf(sb, "<count>%lld</count><policy_evaluated>", c[14].n);
    /* "pass": no action, passing DMARC with an enforcing policy */
    xml_elem(sb, "disposition", pass && rc->enforcing ? "pass" : c[1].s);
    xml_elem(sb, "dkim", c[2].s);
    xml_elem(sb, "spf", c[3].s);
    reason(sb, c[4].s);
    sb_puts(sb, "</policy_evaluated></row><identifiers>");
    xml_elem(sb, "header_from", c[5].s);
    xml_elem(sb, "envelope_from", c[6].s);
    sb_puts(sb, "</identifiers>");
    auth_results(sb, c);
    sb_puts(sb, "</record>\n");
    rc->msgs += c[14].n;
    return 0;
}

void    dmarc_report_policy_cols(struct pdb_col *pol)
{
    memset(pol, 0, DMARC_REPORT_POLICY_COLS * sizeof *pol);
    for (int i = 0; i < DMARC_REPORT_POLICY_COLS; i++)
        pol[i].type = i == 2 ? PDB_INT : PDB_TEXT;
}

struct policy_ctx {
    struct strbuf *sb;
    int     found, enforcing;
};

/* policy_row - <policy_published> from the policy last seen (RFC 9990:
 * no pct; discovery_method, np, testing). */
static int policy_row(void *ctx, const struct pdb_col *c, int ncols)
{
    struct policy_ctx *pc = ctx;
    struct strbuf *sb = pc->sb;

    (void) ncols;
    pc->found = 1;
    pc->enforcing = strcmp(c[0].s, "none") != 0;
    xml_elem(sb, "discovery_method", strcmp(c[9].s, "treewalk") == 0 ? "treewalk" : "psl");
    xml_elem(sb, "p", c[0].s);
    xml_elem(sb, "sp", c[1].s);
    if (c[6].s[0])
        xml_elem(sb, "np", c[6].s);
    xml_elem(sb, "fo", c[8].s[0] ? c[8].s : "0");
    xml_elem(sb, "adkim", c[3].s);
    xml_elem(sb, "aspf", c[4].s);
    xml_elem(sb, "testing", strcmp(c[7].s, "y") == 0 ? "y" : "n");
    return 0;
}

static void metadata(struct strbuf *sb, const struct dmarc_report_meta *m)
{
    sb_puts(sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\">\n<version>1.0</version>\n"
            "<report_metadata>");
    xml_elem(sb, "org_name", m->org_name);
    xml_elem(sb, "email", m->email);
    xml_elem(sb, "report_id", m->report_id);
    sb_printf(sb, "<date_range><begin>%lld</begin><end>%lld</end></date_range>"
              "<generator>mxdock</generator></report_metadata>\n", (long long) m->begin,
              (long long) m->end - 1);
}

char   *dmarc_report_xml(struct pdb *db, const struct dmarc_report_meta *meta,
                         const char *policy_domain, long *nmsgs)
{
    struct strbuf sb = STRBUF_INIT;
    struct pdb_val in[3] = {pdb_text(policy_domain), pdb_int(meta->begin), pdb_int(meta->end)};
    struct pdb_col pol[DMARC_REPORT_POLICY_COLS];
    struct pdb_col rows[15];
    struct policy_ctx pc = {&sb, 0, 0};
    struct rows_ctx rc = {&sb, 0, 0};

    memset(rows, 0, sizeof rows);
    for (int i = 0; i < 15; i++)
        rows[i].type = i == 14 ? PDB_INT : PDB_TEXT;
    dmarc_report_policy_cols(pol);
    metadata(&sb, meta);
    sb_puts(&sb, "<policy_published>");
    xml_elem(&sb, "domain", policy_domain);
    if (pdb_run(db, -1, sql_policy, in, 1, pol, DMARC_REPORT_POLICY_COLS, policy_row, &pc,
                NULL) < 0)
        goto fail;
    if (!pc.found)
        xml_elem(&sb, "p", "none");     /* rows without a policy row: never seen so far */
    sb_puts(&sb, "</policy_published>\n");
    rc.enforcing = pc.enforcing;
    if (pdb_run(db, -1, sql_rows, in, 3, rows, 15, one_record, &rc, NULL) < 0)
        goto fail;
    sb_puts(&sb, "</feedback>\n");
    if (sb_failed(&sb))
        goto fail;
    *nmsgs = rc.msgs;
    return sb_steal(&sb);
  fail:
    sb_free(&sb);
    return NULL;
}

/* dmarc_report_policy - the policy last seen for DOMAIN into POL (its
 * rua in POL[5].s); 1 found, 0 none, -1 database error */
int     dmarc_report_policy(struct pdb *db, const char *domain, struct pdb_col *pol)
{
    struct pdb_val in[1] = {pdb_text(domain)};
    int     found = 0;

    dmarc_report_policy_cols(pol);
    if (pdb_run(db, -1, sql_policy, in, 1, pol, DMARC_REPORT_POLICY_COLS, count_row, &found,
                NULL) < 0)
        return -1;
    return found > 0;
}

/* dmarc_report_domains - the policy domains with rows in [BEGIN,END), one
 * a line into OUT; -1 on a database error */
int     dmarc_report_domains(struct pdb *db, time_t begin, time_t end, struct strbuf *out)
{
    struct pdb_val in[2] = {pdb_int(begin), pdb_int(end)};
    struct pdb_col col;

    memset(&col, 0, sizeof col);
    col.type = PDB_TEXT;
    return pdb_run(db, -1, sql_domains, in, 2, &col, 1, collect_domain, out, NULL);
}
