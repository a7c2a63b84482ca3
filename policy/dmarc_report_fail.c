/*
 * dmarc_report_fail.c - DMARC failure reports (RFC 9991), redacted: made
 * by the milter when a message fails DMARC, spooled, sent by
 * `mxdock-policy dmarc-report send` (dmarc_report_send.c).
 *
 *   dmarc_failure_wanted  does this record ask for a report of this failure?
 *   dmarc_failure_admit   count one report for a policy domain this hour
 *   dmarc_failure_spool   the report, ready but for To:, into the spool
 *   dmarc_failure_redact  a header value with every address's local part
 *                         replaced
 *
 * Off unless dmarc_failure_reports = yes (privacy: RFC 9991 section 7;
 * docs/DMARC.md).  Only for a record with ruf= whose fo= asks for this
 * failure (RFC 9989 4.7: fo=0 and fo=1 both cover a DMARC failure, d and s
 * a DKIM or SPF failure), never for a public suffix domain's record
 * (psd=y: RFC 9991 section 3).  At most dmarc_failure_report_limit reports
 * per policy domain and hour, counted in dmarc_failure_sent by one atomic
 * INSERT ... ON DUPLICATE KEY UPDATE, so every milter process shares the
 * limit.  The report (RFC 6591 as RFC 9991 section 5 updates it:
 * Auth-Failure dmarc, Identity-Alignment) carries no body: its last part is
 * text/rfc822-headers with Date, Message-ID, From, To and Cc (local parts
 * of every address replaced by "redacted") and the DKIM-Signature fields;
 * Subject and Received are left out (they carry content and the path).
 *
 * Spool: dmarc_report_dir/failures/WHEN.PID.N.eml, written atomically; the
 * first line "Ruf: LIST" is for the sender, the rest is the mail without
 * its To: field.
 *
 * Ownership: caller's buffers.  Diagnostics: -1 returns; the milter logs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "dmarc_report.h"
#include "fileio.h"
#include "strbuf.h"

static const char sql_count[] =
    "INSERT INTO dmarc_failure_sent (policy_domain, hour, sent) VALUES (?,?,1)"
    " ON DUPLICATE KEY UPDATE sent = sent + 1";
static const char sql_sent[] =
    "SELECT sent FROM dmarc_failure_sent WHERE policy_domain = ? AND hour = ?";

int     dmarc_failure_wanted(const char *fo, const char *ruf, int psd, int dkim_failed,
                             int spf_failed)
{
    int     want = 0;
    char    item[16];
    const char *cursor = fo && *fo ? fo : "0";

    if (ruf == NULL || *ruf == 0 || psd)
        return 0;
    while (*cursor) {
        size_t  n = strcspn(cursor, ":");

        snprintf(item, sizeof item, "%.*s", (int) (n < 15 ? n : 15), cursor);
        for (char *p = item; *p; p++)
            *p = *p == ' ' ? 0 : *p;
        want |= strcmp(item, "0") == 0 || strcmp(item, "1") == 0
            || (strcmp(item, "d") == 0 && dkim_failed) || (strcmp(item, "s") == 0 && spf_failed);
        cursor += n + (cursor[n] == ':');
    }
    return want;
}

static int got_count(void *ctx, const struct pdb_col *c, int ncols)
{
    (void) ncols;
    *(long long *) ctx = c[0].n;
    return 0;
}

int     dmarc_failure_admit(struct pdb *db, const char *domain, time_t now, long limit)
{
    struct pdb_val in[2] = {{PDB_TEXT, 0, domain, strlen(domain)}, {PDB_INT, now / 3600, 0, 0}};
    struct pdb_col col;
    long long sent = 0;

    memset(&col, 0, sizeof col);
    col.type = PDB_INT;
    if (pdb_run(db, -1, sql_count, in, 2, NULL, 0, NULL, NULL, NULL) < 0
        || pdb_run(db, -1, sql_sent, in, 2, &col, 1, got_count, &sent, NULL) < 0)
        return -1;
    return sent <= limit;
}

/* local_char - can C be part of an address's local part? */
static int local_char(int c)
{
    return c > ' ' && c < 127 && strchr("<>()[]\\,;:@\"", c) == NULL;
}

void    dmarc_failure_redact(struct strbuf *sb, const char *value)
{
    const char *p = value, *at;

    while ((at = strchr(p, '@')) != NULL) {
        const char *start = at;

        while (start > p && local_char((unsigned char) start[-1]))
            start--;
        if (start > p && start[-1] == '"') {    /* a quoted local part */
            const char *q = start - 1;

            while (q > p && q[-1] != '"')
                q--;
            start = q > p ? q - 1 : start;
        }
        sb_append(sb, p, (size_t) (start - p));
        sb_puts(sb, start < at ? "redacted@" : "@");
        p = at + 1;
    }
    sb_puts(sb, p);
}

/* header - "NAME: VALUE" with CRLF line ends, the value redacted if ADDR */
static void header(struct strbuf *sb, const char *name, const char *value, int addr)
{
    struct strbuf v = STRBUF_INIT;

    if (value == NULL)
        return;
    if (addr)
        dmarc_failure_redact(&v, value);
    else
        sb_puts(&v, value);
    sb_printf(sb, "%s:%s", name, *sb_str(&v) == ' ' || *sb_str(&v) == '\t' ? "" : " ");
    for (const char *s = sb_str(&v); *s; s++) {
        if (*s == '\r')
            continue;
        if (*s == '\n')
            sb_puts(sb, "\r\n");
        else
            sb_putc(sb, *s);
    }
    sb_puts(sb, "\r\n");
    sb_free(&v);
}

/* feedback - the message/feedback-report part (RFC 6591, RFC 9991 5) */
static void feedback(struct strbuf *sb, const struct mx_conf *c, const struct dmarc_failure *f,
                     const char *date)
{
    sb_puts(sb, "Content-Type: message/feedback-report\r\n\r\n"
            "Feedback-Type: auth-failure\r\nVersion: 1\r\nUser-Agent: mxdock\r\n"
            "Auth-Failure: dmarc\r\n");
    sb_printf(sb, "Authentication-Results: %s; dmarc=fail header.from=%s\r\n",
              c->milter_authserv_id, f->header_from);
    sb_printf(sb, "Identity-Alignment: %s\r\n", f->identity_alignment);
    if (f->dkim_domain && *f->dkim_domain)
        sb_printf(sb, "DKIM-Domain: %s\r\nDKIM-Identity: @%s\r\nDKIM-Selector: %s\r\n",
                  f->dkim_domain, f->dkim_domain, f->dkim_selector);
    header(sb, "Original-Mail-From", f->envelope_from, 1);
    sb_printf(sb, "Source-IP: %s\r\nReported-Domain: %s\r\nArrival-Date: %s\r\n\r\n",
              f->source_ip, f->header_from, date);
}

/* message - the whole report but its To: field */
static void message(struct strbuf *sb, const struct mx_conf *c, const struct dmarc_failure *f,
                    const char *id)
{
    char    date[64];
    struct tm tm;

    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", gmtime_r(&f->when, &tm));
    sb_printf(sb, "From: %s\r\nDate: %s\r\nMessage-ID: <%s>\r\n", f->report_from, date, id);
    sb_printf(sb, "Subject: DMARC failure report for %s\r\nMIME-Version: 1.0\r\n"
              "Content-Type: multipart/report; report-type=feedback-report;\r\n"
              "\tboundary=\"mxdock-fail\"\r\n\r\n", f->header_from);
    sb_printf(sb, "--mxdock-fail\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
              "This is an authentication failure report for a message from %s\r\n"
              "received from %s on %s.\r\n"
              "Its body is not included and addresses are redacted (RFC 9991\r\n"
              "section 7).\r\n\r\n--mxdock-fail\r\n", f->header_from,
              f->source_ip, date);
    feedback(sb, c, f, date);
    sb_puts(sb, "--mxdock-fail\r\nContent-Type: text/rfc822-headers\r\n\r\n");
    header(sb, "Date", f->date, 0);
    header(sb, "Message-ID", f->message_id, 0);
    header(sb, "From", f->from, 1);
    header(sb, "To", f->to, 1);
    header(sb, "Cc", f->cc, 1);
    for (size_t i = 0; i < f->nsig; i++)
        header(sb, "DKIM-Signature", f->sigs[i], 0);
    sb_puts(sb, "\r\n--mxdock-fail--\r\n");
}

int     dmarc_failure_spool(const struct mx_conf *c, const struct dmarc_failure *f)
{
    static unsigned counter;
    struct strbuf sb = STRBUF_INIT;
    char    dir[1024], path[1200], id[400];
    unsigned n = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
    int     rc = -1;

    snprintf(id, sizeof id, "%lld.%d.%u.%s@%s", (long long) f->when, (int) getpid(), n,
             f->policy_domain, f->submitter);
    if (snprintf(dir, sizeof dir, "%s/failures", c->dmarc_report_dir) >= (int) sizeof dir
        || snprintf(path, sizeof path, "%s/%lld.%d.%u.eml", dir, (long long) f->when,
                    (int) getpid(), n) >= (int) sizeof path)
        return -1;
    sb_puts(&sb, "Ruf: ");
    for (const char *p = f->ruf; *p; p++)      /* from the DNS: no line breaks */
        sb_putc(&sb, (unsigned char) *p < ' ' ? ' ' : *p);
    sb_printf(&sb, "\r\nPolicy-Domain: %s\r\n", f->policy_domain);
    message(&sb, c, f, id);
    if (!sb_failed(&sb) && mx_mkdir_p(dir, 0750) == 0
        && mx_write_atomic(path, sb.s, sb.len, 0640) == 0)
        rc = 0;
    sb_free(&sb);
    return rc;
}
