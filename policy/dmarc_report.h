/*
 * dmarc_report.h - DMARC aggregate reports (RFC 9990): each evaluated
 * inbound message recorded in MySQL, one gzipped XML report per policy
 * domain and UTC day, sent by SMTP (libcurl) to the rua= addresses that
 * pass the external destination check (RFC 9990 section 4), each report
 * and destination once, failures retried with backoff.
 *
 * The milter records (dmarc_report_record, when dmarc_report_enable is
 * set); `mxdock-policy dmarc-report [send] [--date=YYYY-MM-DD]` builds
 * (and sends) (dmarc_report_main, dmarc_report_send.c).  Knows nothing of
 * libmilter or of the evaluation code: the caller fills struct
 * dmarc_report_msg.
 *
 * Ownership: strings in struct dmarc_report_msg are the caller's;
 * dmarc_report_xml() returns a malloc'd string the caller frees.
 */
#ifndef MX_DMARC_REPORT_H
#define MX_DMARC_REPORT_H

#include <time.h>
#include "conf.h"
#include "pdb.h"
#include "strbuf.h"

/* the tables, for mxdock-policy init-db: idempotent statements (schema
 * versions 2 and 3), NULL-terminated */
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
    const char *dkim_selector;  /* its s= */
    char    dkim_all[256];      /* every signature "d/s/result ...", the
                                 * aligned pass first; "" = only the above */
    const char *np;             /* np= as published, "" when absent */
    int     testing;            /* t=y */
    const char *fo;             /* fo= ("0" when absent) */
    const char *discovery;      /* "treewalk" or "psl" (dmarc_org_domain) */
    const char *spf_domain, *spf_scope, *spf_result;   /* scope "mfrom"/"helo" */
    const char *reason;         /* "", policy_test_mode, local_policy, sampled_out */
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

/* ---- inside the report builder ---- */

#define DMARC_REPORT_POLICY_COLS 10     /* p sp pct adkim aspf rua np testing fo discovery */

void    dmarc_report_policy_cols(struct pdb_col *pol);
int     dmarc_report_policy(struct pdb *, const char *domain, struct pdb_col *pol);
int     dmarc_report_domains(struct pdb *, time_t begin, time_t end, struct strbuf *out);

/* dmarc_report_gzip - gzip LEN bytes of DATA; malloc'd result in *OUT. */
int     dmarc_report_gzip(const char *data, size_t len, unsigned char **out, size_t *outlen);

/* dmarc_report_mailto - the address and its domain of one rua=/ruf= item
 * ("mailto:a@b!10m", the obsolete size suffix ignored); -1 when it is not
 * a plain, safe mailto: address */
int     dmarc_report_mailto(const char *item, char *addr, size_t addrlen, const char **domain);

/* dmarc_report_authorised - RFC 9990 section 4: may reports about
 * POLICY_DOMAIN go to DEST_DOMAIN?  1 yes (ADDR possibly replaced by the
 * TAG, "rua" or "ruf", of the authorising record: step 9), 0 no, -1 DNS
 * failure (try again later).  WHY says why not. */
int     dmarc_report_authorised(const struct mx_conf *c, const char *policy_domain,
                                const char *tag, const char *dest_domain, char *addr,
                                size_t addrlen, char *why, size_t whylen);

/* dmarc_report_smtp - send MSG (CRLF lines) from FROM to RCPT through
 * dmarc_report_smtp_url (STARTTLS and AUTH as configured); 0, or -1 with
 * ERR (no secret in it) */
int     dmarc_report_smtp(const struct mx_conf *c, const char *from, const char *rcpt,
                          const struct strbuf *msg, char *err, size_t errlen);

/* dmarc_report_message - the RFC 9990 section 3 mail carrying GZ as FILE */
void    dmarc_report_message(struct strbuf *sb, const struct dmarc_report_meta *m,
                             const char *domain, const char *addr, const char *file,
                             const unsigned char *gz, size_t len);

/* One destination of one report, in table dmarc_report_sent. */
struct dmarc_report_dest {
    struct pdb *db;
    const struct mx_conf *c;
    const char *domain;         /* the policy domain (failure report: spool file) */
    time_t  begin;              /* the day's first second; -1: a failure report */
    const char *uri;            /* "mailto:ADDR", "ruf:mailto:ADDR" */
    const char *report_id;      /* written when the row is new */
    time_t  now;
};

/* dmarc_report_claim - is D's destination ours to send now?  1 yes, 0 no,
 * -1 database error (dmarc_report_sent.c) */
int     dmarc_report_claim(const struct dmarc_report_dest *d);

/* dmarc_report_done - record STATUS, BYTES and ERROR of D's attempt; -1 db */
int     dmarc_report_done(const struct dmarc_report_dest *d, const char *status, size_t bytes,
                          const char *error);

/* ---- failure reports (RFC 9991, dmarc_report_fail.c) ---- */

#define DMARC_FAILURE_MAX_SIGS 4

/* One failed message, as the milter has it; every string the caller's. */
struct dmarc_failure {
    time_t  when;
    const char *policy_domain, *ruf, *fo;
    const char *submitter;      /* our domain name, for the Message-ID */
    const char *report_from;    /* dmarc_report_email */
    const char *source_ip, *header_from, *envelope_from;
    const char *identity_alignment;     /* "none", "dkim", "spf", "dkim, spf" */
    const char *dkim_domain, *dkim_selector;    /* an aligned DKIM failure, or "" */
    const char *date, *message_id, *from, *to, *cc;     /* header values or NULL */
    const char *sigs[DMARC_FAILURE_MAX_SIGS];   /* DKIM-Signature values */
    size_t  nsig;
};

/* dmarc_failure_wanted - does FO (with RUF, not a PSD's record) ask for a
 * report of a DMARC failure (DKIM_FAILED/SPF_FAILED: of an aligned
 * identifier, for fo=d and fo=s)? */
int     dmarc_failure_wanted(const char *fo, const char *ruf, int psd, int dkim_failed,
                             int spf_failed);

/* dmarc_failure_admit - one more report for DOMAIN this hour: 1 within
 * LIMIT, 0 over it, -1 database error */
int     dmarc_failure_admit(struct pdb *, const char *domain, time_t now, long limit);

/* dmarc_failure_spool - the redacted report of F into the spool; 0 or -1 */
int     dmarc_failure_spool(const struct mx_conf *c, const struct dmarc_failure *f);

/* dmarc_failure_redact - VALUE with each address's local part replaced */
void    dmarc_failure_redact(struct strbuf *sb, const char *value);

#endif
