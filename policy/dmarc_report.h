/*
 * dmarc_report.h - DMARC aggregate reports (RFC 7489 section 7.2): each
 * evaluated inbound message recorded in MySQL, one gzipped XML report per
 * policy domain and UTC day, sent to the rua= addresses after the
 * external-destination check of RFC 7489 7.1.
 *
 * The milter records (dmarc_report_record, when dmarc_report_enable is
 * set); `mxdock-policy dmarc-report [--date=YYYY-MM-DD] [--send]` builds
 * and sends (dmarc_report_main).  Knows nothing of libmilter or of the
 * evaluation code: the caller fills struct dmarc_report_msg.
 *
 * Ownership: strings in struct dmarc_report_msg are the caller's;
 * dmarc_report_xml() returns a malloc'd string the caller frees.
 */
#ifndef MX_DMARC_REPORT_H
#define MX_DMARC_REPORT_H

#include <time.h>
#include "conf.h"
#include "pdb.h"

/* the tables, for mxdock-policy init-db: statements, NULL-terminated */
extern const char *const dmarc_report_ddl[];

/* One evaluated message with a DMARC policy (result pass or fail). */
struct dmarc_report_msg {
    time_t  when;
    const char *source_ip;      /* client address, v4 or v6 text */
    const char *header_from;    /* author domain */
    const char *envelope_from;  /* MAIL FROM domain, "" for <> */
    const char *policy_domain;  /* where the record was found */
    const char *rua;            /* rua= of that record, "" when none */
    const char *p, *sp;         /* "none" "quarantine" "reject" */
    int     pct;
    char    adkim, aspf;        /* 'r' or 's' */
    const char *disposition;    /* what was applied: none/quarantine/reject */
    int     dkim_aligned, spf_aligned;  /* the DMARC-aligned results */
    const char *dkim_domain, *dkim_result;  /* one signature, "" when none */
    const char *spf_domain, *spf_scope, *spf_result;   /* scope "mfrom"/"helo" */
    const char *reason;         /* "" or sampled_out, local_policy, ... */
};

/* dmarc_report_record - insert M; 0, or -1 when the database failed. */
int     dmarc_report_record(struct pdb *, const struct dmarc_report_msg *m);

/* Report identity, for dmarc_report_xml. */
struct dmarc_report_meta {
    const char *org_name, *email, *report_id;
    time_t  begin, end;
};

/* dmarc_report_xml - the XML of one report for POLICY_DOMAIN from the
 * database rows of [BEGIN,END); NULL on a database error, *NROWS = the
 * messages counted (0 = nothing to report). */
char   *dmarc_report_xml(struct pdb *, const struct dmarc_report_meta *meta,
                         const char *policy_domain, long *nmsgs);

/* dmarc_report_main - the dmarc-report verb; ARGV[0] is "dmarc-report".
 * Returns a <sysexits.h> code. */
int     dmarc_report_main(const struct mx_conf *c, int argc, char **argv);

/* ---- inside the report builder (dmarc_report_out.c) ---- */

/* dmarc_report_gzip - gzip LEN bytes of DATA; malloc'd result in *OUT. */
int     dmarc_report_gzip(const char *data, size_t len, unsigned char **out, size_t *outlen);

/* dmarc_report_send - mail the gzipped report to every verified mailto:
 * of RUA; returns how many were sent, -1 on a local failure. */
int     dmarc_report_send(const struct mx_conf *c, const struct dmarc_report_meta *meta,
                          const char *policy_domain, const char *rua, const char *filename,
                          const unsigned char *gz, size_t gzlen);

#endif
