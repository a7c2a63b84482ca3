/*
 * dmarc_glue.h - DMARC in the milter: the inputs the milter already has
 * (From header values, the MAIL FROM SPF answer, the DKIM verify results)
 * handed to milter/dmarc, its action turned into a milter verdict, and the
 * aggregate-report row.  Free of libmilter: eom.c applies the outcome.
 *
 * Ownership: caller-provided structs only; the input's strings stay the
 * caller's.
 */
#ifndef MX_MILTER_DMARC_GLUE_H
#define MX_MILTER_DMARC_GLUE_H

#include <stddef.h>

#include "conf.h"
#include "decide.h"
#include "dmarc.h"
#include "dmarc_report.h"
#include "dkim_msg.h"
#include "pdb.h"
#include "spf.h"

#define MILTER_DMARC_MAX_FROM 8     /* more From fields are a permerror anyway */

struct milter_dmarc_in {
    const char *from[MILTER_DMARC_MAX_FROM];
    size_t  nfrom;              /* From fields seen (capped at the array size) */
    const char *client_ip;
    const char *mail_from;      /* envelope sender without <>; "" = null sender */
    const struct mxspf_answer *spf;     /* NULL: SPF was not checked */
    const struct dkim_msg_sig *sigs;
    size_t  nsig;
    int     trusted;
    /* for a failure report (RFC 9991), kept by milter_dmarc_input_from */
    const char *date, *message_id, *to, *cc;
    const char *dkim_sig[DMARC_FAILURE_MAX_SIGS];
    size_t  ndkim_sig;
};

/* what the milter does; quarantine and header are applied by eom.c */
struct milter_dmarc_out {
    struct mxdmarc_result r;
    struct mxdmarc_action a;
    struct milter_verdict v;    /* reject or tempfail, else MV_CONTINUE */
    int     quarantine;         /* smfi_quarantine(a.text) */
    int     tag;                /* add a.header_name: a.header_value */
    char    log[64];            /* "fail/reject", "pass", ... for the log line */
};

/* milter_dmarc_input_from - note one header for IN (only From counts) */
void    milter_dmarc_input_from(struct milter_dmarc_in *in, const char *name,
                                const char *value);

/* milter_dmarc_run - evaluate IN with D, decide under C (milter_dry_run
 * included), and with dmarc_report_enable record the message in DB
 * (NULL = not recorded).  A database failure never changes OUT. */
void    milter_dmarc_run(const struct mxdmarc *d, struct pdb *db, const struct mx_conf *c,
                         const struct milter_dmarc_in *in, struct milter_dmarc_out *out);

/* milter_dmarc_record_msg - the aggregate-report row for IN and OUT into
 * *M (strings point into IN, OUT and static text) */
void    milter_dmarc_record_msg(const struct milter_dmarc_in *in,
                                const struct milter_dmarc_out *out, int dry_run,
                                struct dmarc_report_msg *m);

#endif
