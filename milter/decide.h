/*
 * decide.h - the milter's deciding code, kept free of libmilter so it can be
 * tested without an MTA (as milter-regex keeps eval.c): actions and SMTP
 * replies for SPF and DKIM results, the signing and sender decisions, the
 * Authentication-Results header, and the one log line per message.
 *
 * Ownership: every function writes into caller-provided storage.
 */
#ifndef MX_MILTER_DECIDE_H
#define MX_MILTER_DECIDE_H

#include <stddef.h>

#include "conf.h"
#include "dkim_msg.h"
#include "spf.h"
#include "strbuf.h"

/* what a configured *_action says */
enum milter_act { MACT_REJECT, MACT_TEMPFAIL, MACT_TAG, MACT_IGNORE };

/* what the milter answers */
enum milter_kind { MV_CONTINUE, MV_TEMPFAIL, MV_REJECT };

struct milter_verdict {
    enum milter_kind kind;
    char    rcode[4];           /* "550", "451"; "" with MV_CONTINUE */
    char    xcode[16];          /* "5.7.23" */
    char    text[256];          /* reply text, no CR/LF; '%' not yet escaped */
    char    why[32];            /* for the log line: "spf-fail", "dkim-fail"... */
};

enum milter_act milter_action(const char *name);
const char *milter_kind_name(enum milter_kind);

/* milter_verdict_set - fill V; kind MV_REJECT wants a 5xx RCODE and
 * MV_TEMPFAIL a 4xx one (libmilter drops a mismatched reply: FIELD-NOTES) */
void    milter_verdict_set(struct milter_verdict *v, enum milter_kind kind, const char *rcode,
                           const char *xcode, const char *why, const char *fmt, ...)
    MX_PRINTF(6, 7);

/* milter_verdict_merge - keep the stronger of *INTO and V (reject >
 * tempfail > continue; the first of equals wins) */
void    milter_verdict_merge(struct milter_verdict *into, const struct milter_verdict *v);

/* milter_decide_spf - the verdict for SPF answer A of CLIENT_IP; *TAG says
 * whether the result goes into the headers (not with action "ignore") */
void    milter_decide_spf(const struct mx_conf *c, const struct mxspf_answer *a,
                          const char *client_ip, struct milter_verdict *v, int *tag);

/* milter_decide_dkim - the verdict for N verification results */
void    milter_decide_dkim(const struct mx_conf *c, const struct dkim_msg_sig *sigs, size_t n,
                           struct milter_verdict *v, int *tag);

/* milter_reply_escape - IN as smfi_setreply text: '%' doubled, CR, LF and
 * other control bytes made spaces; -1 when OUT is too small (truncated) */
int     milter_reply_escape(const char *in, char *out, size_t outlen);

/* milter_trusted - sign rather than check?  AUTH user, internal client or
 * a daemon named in milter_sign_daemons */
int     milter_trusted(const struct mx_conf *c, const char *auth_user, int internal_client,
                       const char *daemon_name);

/* milter_from_domain - the domain of the one address of the N From
 * header values FROM, normalised (DMARC's RFC 5322 parser); -1 with WHY
 * when there is no From, several From fields or addresses, or no domain */
int     milter_from_domain(const char *const *from, size_t n, char *out, size_t outlen,
                           char *why, size_t whylen);

/* milter_sender_refused - should the sender check refuse AUTH_USER with
 * the N From fields whose one domain is FROM_DOMAIN ("" = none)? */
int     milter_sender_refused(const char *auth_user, size_t n, const char *from_domain);

/* milter_sender_ok - may AUTH_USER send as FROM_DOMAIN?  A user name
 * without '@' cannot be compared and is allowed. */
int     milter_sender_ok(const char *auth_user, const char *from_domain);

/* milter_parent_domain - DOMAIN without its first label when at least two
 * labels remain, else NULL (for dkim_sign_subdomains) */
const char *milter_parent_domain(const char *domain);

/* milter_is_our_ar - does Authentication-Results value VALUE carry
 * AUTHSERV_ID as its authserv-id? (RFC 8601 5: such headers are removed) */
int     milter_is_our_ar(const char *value, const char *authserv_id);

/* MILTER_AR_MAX - the size our Authentication-Results value stays under
 * (libmilter carries at most 64 KB per packet; Postfix's header_size_limit
 * is 100 KB) */
#define MILTER_AR_MAX 16384

struct milter_ar_in {
    const char *authserv_id;
    const char *auth_user;      /* NULL/"" = not authenticated; never shown */
    const struct mxspf_answer *spf;     /* NULL = not checked */
    int     dkim_checked;       /* verification ran */
    const struct dkim_msg_sig *sigs;
    size_t  n;                  /* results in SIGS */
    size_t  nextra;             /* signatures past dkim_max_signatures */
    const char *dmarc;          /* DMARC's resinfo; NULL or "" = none */
};

/* milter_ar_write - the Authentication-Results value (without the name)
 * of IN, under MILTER_AR_MAX bytes; DKIM results that do not fit are
 * counted in one comment */
void    milter_ar_write(struct strbuf *out, const struct milter_ar_in *in);

/* milter_ar_build - the Authentication-Results value (without the name):
 * "ID; auth=pass; spf=...; dkim=... (2048-bit key) header.d=..."
 * AUTH_USER NULL/"" = not authenticated; SPF NULL = not checked; SIGS with
 * DKIM_CHECKED = verification ran (n == 0 gives dkim=none). */
void    milter_ar_build(struct strbuf *out, const char *authserv_id, const char *auth_user,
                        const struct mxspf_answer *spf, int dkim_checked,
                        const struct dkim_msg_sig *sigs, size_t n);

/* milter_ar_build_dmarc - the same, with DMARC's resinfo ("dmarc=fail
 * (p=reject ...) header.from=D") last; DMARC NULL or "" = none */
void    milter_ar_build_dmarc(struct strbuf *out, const char *authserv_id,
                              const char *auth_user, const struct mxspf_answer *spf,
                              int dkim_checked, const struct dkim_msg_sig *sigs, size_t n,
                              const char *dmarc);

/* milter_log_line - "qid=Q client=IP from=D spf=R dkim=R,R action=A ms=N" */
void    milter_log_line(struct strbuf *out, const char *qid, const char *client,
                        const char *from_domain, const char *spf, const char *dkim,
                        const char *action, long ms);

#endif
