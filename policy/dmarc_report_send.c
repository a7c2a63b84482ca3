/*
 * dmarc_report_send.c - the dmarc-report verb: build each policy domain's
 * aggregate report of a UTC day and send it once to each destination.
 *
 *   dmarc_report_main  mxdock-policy dmarc-report [send] [--date=YYYY-MM-DD]
 *
 * Without "send": the reports of one day (default yesterday) are written
 * to dmarc_report_dir, nothing is mailed.  With "send": every day of the
 * last dmarc_report_days (or the one --date names), every policy domain
 * with recorded rows, every rua= mailto: that passes the external
 * destination check gets the report by SMTP (dmarc_report_out.c).
 *
 * With dmarc_failure_reports = yes, "send" also mails the failure reports
 * the milter spooled in dmarc_report_dir/failures (dmarc_report_fail.c) to
 * each ruf= destination that passes the same check, under the same
 * bookkeeping (key: the spool file name, period -1, URI "ruf:mailto:...").
 *
 * Never twice (RFC 9990 3, "Handling of Duplicates"): each destination is
 * claimed before and its outcome recorded after the attempt in table
 * dmarc_report_sent (dmarc_report_sent.c).  A report over
 * dmarc_report_max_size is failed for good.  A resent report keeps its
 * file name, Report-ID and Message-ID.
 *
 * Ownership: everything is freed before return.  Diagnostics: one line on
 * stderr per destination that is refused or fails, a summary line, and a
 * <sysexits.h> exit code (64 usage, 69 database, 73 cannot write, 75 some
 * destination failed and will be retried, 78 bad SMTP settings).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "dmarc_report.h"
#include "fileio.h"
#include "log.h"
#include "strbuf.h"

struct run {
    const struct mx_conf *c;
    struct pdb *db;
    char    org[256], email[320];
    time_t  now;
    int     send;
    int     reports, sent, failed, refused, skipped, failures;
    long    msgs;
    int     rc;
};

/* One report of one domain and day, built when a destination needs it. */
struct report {
    const char *domain;
    time_t  begin, end;
    char    id[400], file[700], rua[256];
    unsigned char *gz;
    size_t  gzlen;
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

/* write_report - the gzip as FILE in dmarc_report_dir; -1 with a line. */
static int write_report(struct run *r, const struct report *rep)
{
    char    path[1024];

    if (mx_mkdir_p(r->c->dmarc_report_dir, 0750) < 0
        || snprintf(path, sizeof path, "%s/%s", r->c->dmarc_report_dir, rep->file)
        >= (int) sizeof path || mx_write_atomic(path, rep->gz, rep->gzlen, 0640) < 0) {
        fprintf(stderr, "mxdock-policy: dmarc-report: cannot write %s/%s\n",
                r->c->dmarc_report_dir, rep->file);
        return -1;
    }
    printf("%s\n", path);
    return 0;
}

/* build - XML, gzip and file of REP, once; EX_OK or a code */
static int build(struct run *r, struct report *rep)
{
    struct dmarc_report_meta meta = {r->org, r->email, rep->id, rep->begin, rep->end};
    char   *xml;

    if (rep->gz)
        return EX_OK;
    if ((xml = dmarc_report_xml(r->db, &meta, rep->domain, &rep->msgs)) == NULL) {
        fprintf(stderr, "mxdock-policy: dmarc-report: database: %s\n", pdb_error(r->db));
        return EX_UNAVAILABLE;
    }
    if (dmarc_report_gzip(xml, strlen(xml), &rep->gz, &rep->gzlen) < 0) {
        free(xml);
        fprintf(stderr, "mxdock-policy: dmarc-report: out of memory\n");
        return EX_OSERR;
    }
    free(xml);
    r->reports++;
    r->msgs += rep->msgs;
    return write_report(r, rep) < 0 ? EX_CANTCREAT : EX_OK;
}

/* claim - is destination URI of REP ours to send now?  1 yes, 0 no, -1 db */
static int claim(struct run *r, const struct report *rep, const char *uri)
{
    struct dmarc_report_dest d = {r->db, r->c, rep->domain, rep->begin, uri, rep->id, r->now};

    return dmarc_report_claim(&d);
}

/* finish - record what happened to URI: STATUS, ERROR; -1 db */
static int finish(struct run *r, const struct report *rep, const char *uri, const char *status,
                  size_t bytes, const char *error)
{
    struct dmarc_report_dest d = {r->db, r->c, rep->domain, rep->begin, uri, rep->id, r->now};

    return dmarc_report_done(&d, status, bytes, error);
}

/* deliver - mail REP to ADDR; "sent" or "failed" with ERR */
static const char *deliver(struct run *r, struct report *rep, const char *addr, size_t *bytes,
                           char *err, size_t errlen)
{
    struct dmarc_report_meta meta = {r->org, r->email, rep->id, rep->begin, rep->end};
    struct strbuf msg = STRBUF_INIT;
    const char *status = "sent";

    dmarc_report_message(&msg, &meta, rep->domain, addr, rep->file, rep->gz, rep->gzlen);
    *bytes = msg.len;
    if (sb_failed(&msg)) {
        snprintf(err, errlen, "out of memory");
        status = "failed";
    } else if ((long) msg.len > r->c->dmarc_report_max_size) {
        snprintf(err, errlen, "report mail of %zu bytes exceeds dmarc_report_max_size",
                 msg.len);
        status = "toolarge";
    } else if (dmarc_report_smtp(r->c, r->email, addr, &msg, err, errlen) < 0) {
        status = "failed";
    }
    sb_free(&msg);
    return status;
}

/* destination - one rua= item of REP: checked, claimed, sent, recorded */
static void destination(struct run *r, struct report *rep, const char *item)
{
    char    addr[240], err[400] = "", uri[256];
    const char *dom, *status;
    size_t  bytes = 0;
    int     ok, rc;

    if (dmarc_report_mailto(item, addr, sizeof addr, &dom) < 0) {
        fprintf(stderr, "mxdock-policy: dmarc-report: %s: skipping rua \"%.100s\": not a plain "
                "mailto: address\n", rep->domain, item);
        return;
    }
    snprintf(uri, sizeof uri, "mailto:%s", addr);
    if ((rc = claim(r, rep, uri)) <= 0) {
        r->skipped += rc == 0;
        r->rc = rc < 0 ? EX_UNAVAILABLE : r->rc;
        return;
    }
    if ((ok = dmarc_report_authorised(r->c, rep->domain, "rua", dom, addr, sizeof addr, err,
                                      sizeof err)) <= 0) {
        status = ok < 0 ? "failed" : "refused";
    } else if ((rc = build(r, rep)) != EX_OK) {
        r->rc = rc;
        status = "failed";
        snprintf(err, sizeof err, "report not built");
    } else {
        status = deliver(r, rep, addr, &bytes, err, sizeof err);
    }
    if (strcmp(status, "sent") != 0)
        fprintf(stderr, "mxdock-policy: dmarc-report: %s: %s: %s\n", rep->domain, uri, err);
    r->sent += strcmp(status, "sent") == 0;
    r->refused += strcmp(status, "refused") == 0;
    r->failed += strcmp(status, "failed") == 0 || strcmp(status, "toolarge") == 0;
    if (finish(r, rep, uri, strcmp(status, "toolarge") == 0 ? "toolarge" : status, bytes, err) < 0)
        r->rc = EX_UNAVAILABLE;
}

/* one_domain - the report of DOMAIN for [BEGIN, BEGIN+1 day) */
static void one_domain(struct run *r, const char *domain, time_t begin)
{
    struct report rep;
    struct pdb_col pol[DMARC_REPORT_POLICY_COLS];
    const char *cursor;
    char    item[512];
    int     found;

    memset(&rep, 0, sizeof rep);
    rep.domain = domain;
    rep.begin = begin;
    rep.end = begin + 86400;
    snprintf(rep.id, sizeof rep.id, "%lld.%s@%s", (long long) begin, domain, r->org);
    snprintf(rep.file, sizeof rep.file, "%s!%s!%lld!%lld.xml.gz", r->org, domain,
             (long long) begin, (long long) rep.end - 1);
    if ((found = dmarc_report_policy(r->db, domain, pol)) < 0) {
        r->rc = EX_UNAVAILABLE;
        return;
    }
    snprintf(rep.rua, sizeof rep.rua, "%s", found ? pol[5].s : "");
    if (!r->send) {
        int     rc = build(r, &rep);

        r->rc = rc != EX_OK ? rc : r->rc;
    }
    for (cursor = rep.rua; r->send && conf_list_next(&cursor, item, sizeof item);)
        destination(r, &rep, item);
    free(rep.gz);
}

/* one_day - every policy domain with rows on the day starting at BEGIN */
static void one_day(struct run *r, time_t begin)
{
    struct strbuf domains = STRBUF_INIT;
    char   *line, *save = NULL;

    if (dmarc_report_domains(r->db, begin, begin + 86400, &domains) < 0) {
        fprintf(stderr, "mxdock-policy: dmarc-report: database: %s\n", pdb_error(r->db));
        r->rc = EX_UNAVAILABLE;
        sb_free(&domains);
        return;
    }
    for (line = domains.s ? strtok_r(domains.s, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save))
        one_domain(r, line, begin);
    sb_free(&domains);
}

/* ---- failure reports (spooled by the milter, dmarc_report_fail.c) ---- */

/* fail_one - the spooled report TEXT (after its two lines) to ADDR */
static const char *fail_one(struct run *r, const char *text, const char *addr, size_t *bytes,
                            char *err, size_t errlen)
{
    struct strbuf msg = STRBUF_INIT;
    const char *status = "sent";

    sb_printf(&msg, "To: %s\r\n", addr);
    sb_puts(&msg, text);
    *bytes = msg.len;
    if (sb_failed(&msg)) {
        snprintf(err, errlen, "out of memory");
        status = "failed";
    } else if ((long) msg.len > r->c->dmarc_report_max_size) {
        snprintf(err, errlen, "report mail of %zu bytes exceeds dmarc_report_max_size", msg.len);
        status = "toolarge";
    } else if (dmarc_report_smtp(r->c, r->email, addr, &msg, err, errlen) < 0) {
        status = "failed";
    }
    sb_free(&msg);
    return status;
}

/* fail_dest - one ruf= ITEM of the report KEY (the spool file name) */
static void fail_dest(struct run *r, struct report *rep, const char *policy_domain,
                      const char *item, const char *text)
{
    char    addr[240], err[400] = "", uri[256];
    const char *dom, *status;
    size_t  bytes = 0;
    int     ok, rc;

    if (dmarc_report_mailto(item, addr, sizeof addr, &dom) < 0)
        return;
    snprintf(uri, sizeof uri, "ruf:mailto:%s", addr);
    if ((rc = claim(r, rep, uri)) <= 0) {
        r->rc = rc < 0 ? EX_UNAVAILABLE : r->rc;
        return;
    }
    if ((ok = dmarc_report_authorised(r->c, policy_domain, "ruf", dom, addr, sizeof addr, err,
                                      sizeof err)) <= 0)
        status = ok < 0 ? "failed" : "refused";
    else
        status = fail_one(r, text, addr, &bytes, err, sizeof err);
    if (strcmp(status, "sent") != 0)
        fprintf(stderr, "mxdock-policy: dmarc-report: failure report %s: %s: %s\n",
                rep->domain, uri, err);
    r->failures += strcmp(status, "sent") == 0;
    r->refused += strcmp(status, "refused") == 0;
    r->failed += strcmp(status, "failed") == 0 || strcmp(status, "toolarge") == 0;
    if (finish(r, rep, uri, status, bytes, err) < 0)
        r->rc = EX_UNAVAILABLE;
}

/* line - the value of the spool line "NAME: VALUE\r\n" at *P, moved on */
static int line(char **p, const char *name, char **value)
{
    size_t  n = strlen(name);
    char   *end;

    if (strncmp(*p, name, n) != 0 || (end = strstr(*p, "\r\n")) == NULL)
        return -1;
    *end = 0;
    *value = *p + n;
    *p = end + 2;
    return 0;
}

/* fail_file - the spooled report NAME to each of its destinations; the
 * file is removed once older than dmarc_report_days */
static void fail_file(struct run *r, const char *dir, const char *name)
{
    char    path[1200], item[512];
    char   *text, *p, *ruf, *domain;
    const char *cursor;
    struct report rep;
    long long when = strtoll(name, NULL, 10);

    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int) sizeof path
        || (text = mx_read_file(path, NULL)) == NULL)
        return;
    p = text;
    memset(&rep, 0, sizeof rep);
    rep.domain = name;          /* the key of its rows in dmarc_report_sent */
    rep.begin = -1;
    snprintf(rep.id, sizeof rep.id, "%s", name);
    if (line(&p, "Ruf: ", &ruf) == 0 && line(&p, "Policy-Domain: ", &domain) == 0)
        for (cursor = ruf; conf_list_next(&cursor, item, sizeof item);)
            fail_dest(r, &rep, domain, item, p);
    free(text);
    if (when < r->now - 86400 * r->c->dmarc_report_days)
        unlink(path);
}

/* failures - every spooled failure report (dmarc_failure_reports = yes) */
static void failures(struct run *r)
{
    char    dir[1100];
    struct dirent *e;
    DIR    *d;

    snprintf(dir, sizeof dir, "%s/failures", r->c->dmarc_report_dir);
    if ((d = opendir(dir)) == NULL)
        return;
    while ((e = readdir(d)) != NULL)
        if (strlen(e->d_name) > 4 && strcmp(e->d_name + strlen(e->d_name) - 4, ".eml") == 0)
            fail_file(r, dir, e->d_name);
    closedir(d);
}

/* summary - the run in one line on stderr; the exit code */
static int summary(const struct run *r, time_t first, time_t last)
{
    char    a[16], b[16];
    struct tm tm;

    strftime(a, sizeof a, "%Y-%m-%d", gmtime_r(&first, &tm));
    strftime(b, sizeof b, "%Y-%m-%d", gmtime_r(&last, &tm));
    fprintf(stderr, "mxdock-policy: dmarc-report %s%s%s: %d reports, %ld messages",
            a, first != last ? ".." : "", first != last ? b : "", r->reports, r->msgs);
    if (r->send)
        fprintf(stderr, ", %d sent, %d failed, %d refused, %d done or not due, "
                "%d failure reports sent", r->sent, r->failed, r->refused, r->skipped,
                r->failures);
    fputc('\n', stderr);
    if (r->rc != EX_OK)
        return r->rc;
    return r->failed ? EX_TEMPFAIL : EX_OK;
}

/* preflight - the SMTP settings "send" needs, checked before any report is
 * claimed: a bad setting is one line and EX_CONFIG, not a day of failures */
static int preflight(const struct mx_conf *c)
{
    char    pw[256], why[200];
    int     rc = 0;

    if (strncmp(c->dmarc_report_smtp_url, "smtp://", 7) != 0
        && strncmp(c->dmarc_report_smtp_url, "smtps://", 8) != 0) {
        fprintf(stderr, "mxdock-policy: dmarc-report: dmarc_report_smtp_url \"%.100s\" is not "
                "smtp://HOST[:PORT] or smtps://HOST[:PORT]\n", c->dmarc_report_smtp_url);
        return -1;
    }
    if (*c->dmarc_report_smtp_user == 0)
        return 0;
    if (*c->dmarc_report_smtp_password_file == 0) {
        fprintf(stderr, "mxdock-policy: dmarc-report: dmarc_report_smtp_user is set but "
                "dmarc_report_smtp_password_file is not\n");
        return -1;
    }
    if (mx_read_secret(c->dmarc_report_smtp_password_file, pw, sizeof pw, why, sizeof why) < 0) {
        fprintf(stderr, "mxdock-policy: dmarc-report: dmarc_report_smtp_password_file: %s\n",
                why);
        rc = -1;
    }
    explicit_bzero(pw, sizeof pw);
    return rc;
}

static int usage(void)
{
    fprintf(stderr, "usage: mxdock-policy dmarc-report [send] [--date=YYYY-MM-DD]\n");
    return EX_USAGE;
}

int     dmarc_report_main(const struct mx_conf *c, int argc, char **argv)
{
    struct run r;
    const char *date = NULL;
    time_t  first, last, today;

    memset(&r, 0, sizeof r);
    r.c = c;
    r.now = mx_now();
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--date=", 7) == 0)
            date = argv[i] + 7;
        else if (strcmp(argv[i], "send") == 0 || strcmp(argv[i], "--send") == 0)
            r.send = 1;
        else
            return usage();
    }
    today = r.now / 86400 * 86400;
    first = last = today - 86400;       /* yesterday, UTC */
    if (date && parse_date(date, &first) < 0) {
        fprintf(stderr, "mxdock-policy: dmarc-report: bad date \"%.40s\" (want YYYY-MM-DD)\n",
                date);
        return EX_USAGE;
    }
    if (date)
        last = first;
    else if (r.send)
        first = today - 86400 * c->dmarc_report_days;
    if (r.send && preflight(c) < 0)
        return EX_CONFIG;
    identity(&r);
    if ((r.db = pdb_open(c, 1, PDB_QUIET)) == NULL) {
        fprintf(stderr, "mxdock-policy: dmarc-report: cannot open the database\n");
        return EX_UNAVAILABLE;
    }
    for (time_t day = first; day <= last && r.rc != EX_UNAVAILABLE; day += 86400)
        one_day(&r, day);
    if (r.send && c->dmarc_failure_reports && r.rc != EX_UNAVAILABLE)
        failures(&r);
    pdb_close(r.db);
    pdb_thread_end();
    return summary(&r, first, last);
}
