/*
 * dmarc_report.c - DMARC aggregate reports: the table, the recording of
 * evaluated messages, the XML of one report, the dmarc-report verb.
 *
 *   dmarc_report_ddl     CREATE TABLE dmarc_message, dmarc_policy (init-db)
 *   dmarc_report_record  one evaluated message into the table
 *   dmarc_report_xml     RFC 7489 appendix C XML for one domain and period
 *   dmarc_report_main    mxdock-policy dmarc-report [--date=D] [--send]
 *
 * A report covers one UTC day [begin, begin + 86400) and one policy domain
 * (the domain whose _dmarc record applied).  Rows with the same source,
 * identifiers and results are counted together.  The file name is the
 * RFC 7489 7.2.1.1 one, receiver!domain!begin!end.xml.gz, written
 * atomically in dmarc_report_dir.  IPv6 sources are written in full
 * 8-group form, the only one the RFC's schema pattern accepts.
 *
 * Ownership: dmarc_report_xml() returns a malloc'd string the caller
 * frees.  Diagnostics: database failures return -1/NULL (pdb logs them);
 * the verb writes one line on stderr and returns a <sysexits.h> code.
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
    " KEY dmarc_message_day (received, policy_domain)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    "CREATE TABLE IF NOT EXISTS dmarc_policy ("
    " domain VARCHAR(253) NOT NULL PRIMARY KEY,"
    " p VARCHAR(10) NOT NULL, sp VARCHAR(10) NOT NULL,"
    " pct TINYINT UNSIGNED NOT NULL,"
    " adkim CHAR(1) NOT NULL, aspf CHAR(1) NOT NULL,"
    " rua VARCHAR(255) NOT NULL,"
    " seen BIGINT NOT NULL"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    NULL
};

static const char sql_insert[] =
    "INSERT INTO dmarc_message (received, source_ip, header_from, envelope_from,"
    " policy_domain, disposition, dkim_eval, spf_eval, dkim_domain, dkim_result,"
    " spf_domain, spf_scope, spf_result, reason)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)";

/* the policy as last seen: what <policy_published> reports */
static const char sql_seen[] =
    "INSERT INTO dmarc_policy (domain, p, sp, pct, adkim, aspf, rua, seen)"
    " VALUES (?,?,?,?,?,?,?,?) ON DUPLICATE KEY UPDATE p = VALUES(p), sp = VALUES(sp),"
    " pct = VALUES(pct), adkim = VALUES(adkim), aspf = VALUES(aspf), rua = VALUES(rua),"
    " seen = VALUES(seen)";

static const char sql_domains[] =
    "SELECT DISTINCT policy_domain FROM dmarc_message"
    " WHERE received >= ? AND received < ? ORDER BY policy_domain";

static const char sql_policy[] =
    "SELECT p, sp, pct, adkim, aspf, rua FROM dmarc_policy WHERE domain = ?";

#define GROUPED "source_ip, disposition, dkim_eval, spf_eval, reason, header_from," \
    " envelope_from, dkim_domain, dkim_result, spf_domain, spf_scope, spf_result"
static const char sql_rows[] =
    "SELECT " GROUPED ", COUNT(*) FROM dmarc_message"
    " WHERE policy_domain = ? AND received >= ? AND received < ?"
    " GROUP BY " GROUPED " ORDER BY source_ip, COUNT(*) DESC";

static struct pdb_val text(const char *s)
{
    struct pdb_val v = {PDB_TEXT, 0, s ? s : "", 0};

    v.len = strlen(v.s);
    return v;
}

static struct pdb_val num(long long n)
{
    struct pdb_val v = {PDB_INT, n, NULL, 0};

    return v;
}

int     dmarc_report_record(struct pdb *db, const struct dmarc_report_msg *m)
{
    char    adkim[2] = {m->adkim ? m->adkim : 'r', 0}, aspf[2] = {m->aspf ? m->aspf : 'r', 0};
    struct pdb_val in[14], pol[8];

    in[0] = num((long long) m->when);
    in[1] = text(m->source_ip);
    in[2] = text(m->header_from);
    in[3] = text(m->envelope_from);
    in[4] = text(m->policy_domain);
    in[5] = text(m->disposition);
    in[6] = text(m->dkim_aligned ? "pass" : "fail");
    in[7] = text(m->spf_aligned ? "pass" : "fail");
    in[8] = text(m->dkim_domain);
    in[9] = text(m->dkim_result);
    in[10] = text(m->spf_domain);
    in[11] = text(m->spf_scope && *m->spf_scope ? m->spf_scope : "mfrom");
    in[12] = text(m->spf_result && *m->spf_result ? m->spf_result : "none");
    in[13] = text(m->reason);
    pol[0] = text(m->policy_domain);
    pol[1] = text(m->p);
    pol[2] = text(m->sp && *m->sp ? m->sp : m->p);
    pol[3] = num(m->pct);
    pol[4] = text(adkim);
    pol[5] = text(aspf);
    pol[6] = text(m->rua);
    pol[7] = num((long long) m->when);
    if (pdb_run(db, -1, sql_insert, in, 14, NULL, 0, NULL, NULL, NULL) < 0)
        return -1;
    return pdb_run(db, -1, sql_seen, pol, 8, NULL, 0, NULL, NULL, NULL);
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

struct rows_ctx {
    struct strbuf *sb;
    long    msgs;
};

/* one_record - one <record> from a grouped row (13 columns). */
static int one_record(void *ctx, const struct pdb_col *c, int ncols)
{
    struct rows_ctx *rc = ctx;
    struct strbuf *sb = rc->sb;

    (void) ncols;
    sb_puts(sb, "<record><row>");
    xml_source_ip(sb, c[0].s);
    sb_printf(sb, "<count>%lld</count><policy_evaluated>", c[12].n);
    xml_elem(sb, "disposition", c[1].s);
    xml_elem(sb, "dkim", c[2].s);
    xml_elem(sb, "spf", c[3].s);
    if (c[4].s[0]) {
        sb_puts(sb, "<reason>");
        xml_elem(sb, "type", c[4].s);
        sb_puts(sb, "</reason>");
    }
    sb_puts(sb, "</policy_evaluated></row><identifiers>");
    xml_elem(sb, "envelope_from", c[6].s);
    xml_elem(sb, "header_from", c[5].s);
    sb_puts(sb, "</identifiers><auth_results>");
    if (c[7].s[0]) {
        sb_puts(sb, "<dkim>");
        xml_elem(sb, "domain", c[7].s);
        xml_elem(sb, "result", c[8].s);
        sb_puts(sb, "</dkim>");
    }
    sb_puts(sb, "<spf>");
    xml_elem(sb, "domain", c[9].s);
    xml_elem(sb, "scope", c[10].s);
    xml_elem(sb, "result", c[11].s);
    sb_puts(sb, "</spf></auth_results></record>\n");
    rc->msgs += c[12].n;
    return 0;
}

/* policy_cols - the columns of sql_policy: p sp pct adkim aspf rua. */
static void policy_cols(struct pdb_col *pol)
{
    memset(pol, 0, 6 * sizeof *pol);
    for (int i = 0; i < 6; i++)
        pol[i].type = i == 2 ? PDB_INT : PDB_TEXT;
}

/* policy_row - <policy_published> from the latest row. */
static int policy_row(void *ctx, const struct pdb_col *c, int ncols)
{
    struct strbuf *sb = ctx;

    (void) ncols;
    xml_elem(sb, "adkim", c[3].s);
    xml_elem(sb, "aspf", c[4].s);
    xml_elem(sb, "p", c[0].s);
    xml_elem(sb, "sp", c[1].s);
    sb_printf(sb, "<pct>%lld</pct><fo>0</fo>", c[2].n);
    return 0;
}

static void metadata(struct strbuf *sb, const struct dmarc_report_meta *m)
{
    sb_puts(sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<feedback xmlns=\"http://dmarc.org/dmarc-xml/0.1\">\n<version>1.0</version>\n"
            "<report_metadata>");
    xml_elem(sb, "org_name", m->org_name);
    xml_elem(sb, "email", m->email);
    xml_elem(sb, "report_id", m->report_id);
    sb_printf(sb, "<date_range><begin>%lld</begin><end>%lld</end></date_range>"
              "</report_metadata>\n", (long long) m->begin, (long long) m->end - 1);
}

char   *dmarc_report_xml(struct pdb *db, const struct dmarc_report_meta *meta,
                         const char *policy_domain, long *nmsgs)
{
    struct strbuf sb = STRBUF_INIT;
    struct pdb_val in[3] = {text(policy_domain), num(meta->begin), num(meta->end)};
    struct pdb_col pol[6];
    struct pdb_col rows[13];
    struct rows_ctx rc = {&sb, 0};

    memset(rows, 0, sizeof rows);
    for (int i = 0; i < 13; i++)
        rows[i].type = i == 12 ? PDB_INT : PDB_TEXT;
    policy_cols(pol);
    metadata(&sb, meta);
    sb_puts(&sb, "<policy_published>");
    xml_elem(&sb, "domain", policy_domain);
    if (pdb_run(db, -1, sql_policy, in, 1, pol, 6, policy_row, &sb, NULL) < 0)
        goto fail;
    sb_puts(&sb, "</policy_published>\n");
    if (pdb_run(db, -1, sql_rows, in, 3, rows, 13, one_record, &rc, NULL) < 0)
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

/* ---- the dmarc-report verb -------------------------------------------- */

struct run {
    const struct mx_conf *c;
    struct pdb *db;
    char    org[256], email[320];
    time_t  begin, end;
    int     send, reports, sent;
    long    msgs;
};

/* parse_date - YYYY-MM-DD as the UTC midnight that starts it. */
static int parse_date(const char *s, time_t *begin)
{
    struct tm tm;
    char   *end;

    memset(&tm, 0, sizeof tm);
    end = strptime(s, "%Y-%m-%d", &tm);
    if (end == NULL || *end != 0 || tm.tm_year < 70)
        return -1;
    *begin = timegm(&tm);
    return 0;
}

/* identity - org_name and email, from the settings or the host name. */
static void identity(struct run *r)
{
    char    host[200] = "localhost";

    gethostname(host, sizeof host - 1);
    snprintf(r->org, sizeof r->org, "%s",
             *r->c->dmarc_report_org_name ? r->c->dmarc_report_org_name : host);
    if (*r->c->dmarc_report_email)
        snprintf(r->email, sizeof r->email, "%s", r->c->dmarc_report_email);
    else
        snprintf(r->email, sizeof r->email, "postmaster@%s", host);
    for (char *p = r->org; *p; p++)
        if (*p == '/' || *p == '!')
            *p = '_';           /* the org name goes into the file name */
}

static int collect_domain(void *ctx, const struct pdb_col *c, int ncols)
{
    (void) ncols;
    sb_puts(ctx, c[0].s);
    sb_putc(ctx, '\n');
    return 0;
}

static int rua_row(void *ctx, const struct pdb_col *c, int ncols)
{
    (void) ncols;
    snprintf(ctx, 256, "%s", c[5].s);
    return 0;
}

/* write_report - FILE in dmarc_report_dir; -1 with a line on stderr. */
static int write_report(struct run *r, const char *file, const unsigned char *gz, size_t len)
{
    char    path[1024];

    if (mx_mkdir_p(r->c->dmarc_report_dir, 0750) < 0
        || snprintf(path, sizeof path, "%s/%s", r->c->dmarc_report_dir, file) >= (int) sizeof path
        || mx_write_atomic(path, gz, len, 0640) < 0) {
        fprintf(stderr, "mxdock-policy: dmarc-report: cannot write %s/%s\n",
                r->c->dmarc_report_dir, file);
        return -1;
    }
    printf("%s\n", path);
    return 0;
}

/* one_report - build, write and maybe send the report of DOMAIN. */
static int one_report(struct run *r, const char *domain)
{
    char    id[400], file[700], rua[256] = "";
    struct dmarc_report_meta meta = {r->org, r->email, id, r->begin, r->end};
    struct pdb_val in[3] = {text(domain), num(r->begin), num(r->end)};
    struct pdb_col pol[6];
    unsigned char *gz = NULL;
    size_t  gzlen = 0;
    long    n = 0;
    char   *xml;
    int     rc = EX_OK, sent;

    policy_cols(pol);
    snprintf(id, sizeof id, "mxdock.%lld.%s", (long long) r->begin, domain);
    snprintf(file, sizeof file, "%s!%s!%lld!%lld.xml.gz", r->org, domain,
             (long long) r->begin, (long long) r->end - 1);
    if ((xml = dmarc_report_xml(r->db, &meta, domain, &n)) == NULL
        || pdb_run(r->db, -1, sql_policy, in, 1, pol, 6, rua_row, rua, NULL) < 0) {
        fprintf(stderr, "mxdock-policy: dmarc-report: database: %s\n", pdb_error(r->db));
        free(xml);
        return EX_UNAVAILABLE;
    }
    if (dmarc_report_gzip(xml, strlen(xml), &gz, &gzlen) < 0 || write_report(r, file, gz, gzlen) < 0)
        rc = EX_CANTCREAT;
    else if (r->send && (sent = dmarc_report_send(r->c, &meta, domain, rua, file, gz, gzlen)) < 0)
        rc = EX_UNAVAILABLE;
    else if (r->send)
        r->sent += sent;
    r->reports++;
    r->msgs += n;
    free(xml);
    free(gz);
    return rc;
}

/* every_report - one report per policy domain seen in the period. */
static int every_report(struct run *r)
{
    struct strbuf domains = STRBUF_INIT;
    struct pdb_val in[2] = {num(r->begin), num(r->end)};
    struct pdb_col col;
    char   *line, *save = NULL;
    int     rc = EX_OK;

    memset(&col, 0, sizeof col);
    col.type = PDB_TEXT;

    if (pdb_run(r->db, -1, sql_domains, in, 2, &col, 1, collect_domain, &domains, NULL) < 0) {
        fprintf(stderr, "mxdock-policy: dmarc-report: database: %s\n", pdb_error(r->db));
        sb_free(&domains);
        return EX_UNAVAILABLE;
    }
    for (line = domains.s ? strtok_r(domains.s, "\n", &save) : NULL; line && rc == EX_OK;
         line = strtok_r(NULL, "\n", &save))
        rc = one_report(r, line);
    sb_free(&domains);
    return rc;
}

int     dmarc_report_main(const struct mx_conf *c, int argc, char **argv)
{
    struct run r;
    const char *date = NULL;
    char    day[16];
    int     rc;

    memset(&r, 0, sizeof r);
    r.c = c;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--date=", 7) == 0)
            date = argv[i] + 7;
        else if (strcmp(argv[i], "--send") == 0)
            r.send = 1;
        else {
            fprintf(stderr, "usage: mxdock-policy dmarc-report [--date=YYYY-MM-DD] [--send]\n");
            return EX_USAGE;
        }
    }
    if (date == NULL) {
        r.begin = mx_now() / 86400 * 86400 - 86400;     /* yesterday, UTC */
    } else if (parse_date(date, &r.begin) < 0) {
        fprintf(stderr, "mxdock-policy: dmarc-report: bad date \"%.40s\" (want YYYY-MM-DD)\n", date);
        return EX_USAGE;
    }
    r.end = r.begin + 86400;
    strftime(day, sizeof day, "%Y-%m-%d", gmtime(&r.begin));
    identity(&r);
    if ((r.db = pdb_open(c, 1, PDB_QUIET)) == NULL) {
        fprintf(stderr, "mxdock-policy: dmarc-report: cannot open the database\n");
        return EX_UNAVAILABLE;
    }
    rc = every_report(&r);
    pdb_close(r.db);
    pdb_thread_end();
    fprintf(stderr, "mxdock-policy: dmarc-report %s: %d reports, %ld messages, %d mails sent\n",
            day, r.reports, r.msgs, r.sent);
    return rc;
}
