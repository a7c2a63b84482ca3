/*
 * dmarc_report_sent.c - never twice (RFC 9990 3, "Handling of Duplicates"):
 * the bookkeeping of `mxdock-policy dmarc-report send`
 * (dmarc_report_send.c), one row per (policy domain, day, URI) in table
 * dmarc_report_sent.
 *
 *   dmarc_report_claim  is this destination ours to send now?
 *   dmarc_report_done   record what happened to it
 *
 * A destination is claimed with one UPDATE that only matches a row that is
 * new, failed and due, or stuck in "sending" for over an hour; the claim
 * is ours only when it changed one row, so two runs at once cannot both
 * send.  After the attempt the row says sent, failed (next_try =
 * now + dmarc_report_retry_delay * 2^attempts, given up after
 * dmarc_report_retries), refused (the destination did not authorise
 * reports) or toolarge.  A failure report's rows are keyed by its spool
 * file name in place of the policy domain, day -1.
 *
 * Ownership: nothing is kept.  Diagnostics: -1 when the database failed
 * (pdb logs it).
 */
#include <string.h>

#include "dmarc_report.h"

#define STUCK_SECONDS 3600      /* a "sending" row older than this was a crash */

static const char sql_new[] =
    "INSERT IGNORE INTO dmarc_report_sent (policy_domain, period_begin, uri, status, attempts,"
    " next_try, report_id, updated) VALUES (?,?,?,'new',0,0,?,?)";
static const char sql_claim[] =
    "UPDATE dmarc_report_sent SET status = 'sending', updated = ?"
    " WHERE policy_domain = ? AND period_begin = ? AND uri = ? AND (status = 'new'"
    " OR (status = 'failed' AND next_try <= ? AND attempts < ?)"
    " OR (status = 'sending' AND updated < ?))";
/* next_try before attempts: MariaDB assigns left to right */
static const char sql_done[] =
    "UPDATE dmarc_report_sent SET status = ?,"
    " next_try = ? + ? * POW(2, LEAST(attempts, 20)), attempts = attempts + ?,"
    " bytes = ?, error = ?, updated = ?"
    " WHERE policy_domain = ? AND period_begin = ? AND uri = ?";


/* dmarc_report_claim - is D's destination ours to send now?  1 yes, 0 no
 * (sent, refused, not due, given up, or claimed by another run), -1 db */
int     dmarc_report_claim(const struct dmarc_report_dest *d)
{
    struct pdb_val in[7] = {pdb_text(d->domain), pdb_int(d->begin), pdb_text(d->uri), pdb_text(d->report_id),
        pdb_int(d->now)};
    long long n = 0;

    if (pdb_run(d->db, -1, sql_new, in, 5, NULL, 0, NULL, NULL, NULL) < 0)
        return -1;
    in[0] = pdb_int(d->now);
    in[1] = pdb_text(d->domain);
    in[2] = pdb_int(d->begin);
    in[3] = pdb_text(d->uri);
    in[4] = pdb_int(d->now);
    in[5] = pdb_int(d->c->dmarc_report_retries);
    in[6] = pdb_int(d->now - STUCK_SECONDS);
    if (pdb_run(d->db, -1, sql_claim, in, 7, NULL, 0, NULL, NULL, &n) < 0)
        return -1;
    return n == 1;
}

/* dmarc_report_done - record what happened to D's destination: STATUS
 * ("sent", "failed", "refused", "toolarge"), BYTES, ERROR; -1 db */
int     dmarc_report_done(const struct dmarc_report_dest *d, const char *status, size_t bytes,
                          const char *error)
{
    int     failed = strcmp(status, "failed") == 0;
    struct pdb_val in[10] = {pdb_text(status), pdb_int(failed ? d->now : 0),
        pdb_int(failed ? d->c->dmarc_report_retry_delay : 0), pdb_int(strcmp(status, "refused") != 0),
        pdb_int((long long) bytes), pdb_text(error), pdb_int(d->now), pdb_text(d->domain), pdb_int(d->begin),
        pdb_text(d->uri)};

    return pdb_run(d->db, -1, sql_done, in, 10, NULL, 0, NULL, NULL, NULL);
}
