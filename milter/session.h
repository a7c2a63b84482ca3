/*
 * session.h - per-connection and per-message state of the milter, shared by
 * the libmilter callbacks (callbacks.c) and the end-of-message work (eom.c).
 *
 * One struct milter_conn per MTA connection (smfi_setpriv); its struct
 * milter_msg part is reset at MAIL, end of message and abort.
 *
 * Ownership: the connection owns everything inside it, including a
 * reference to the configuration generation it started with.
 */
#ifndef MX_MILTER_SESSION_H
#define MX_MILTER_SESSION_H

#include <libmilter/mfapi.h>
#include <time.h>

#include "decide.h"
#include "gen.h"

#define MILTER_MAX_RCPT   1000
#define MILTER_MAX_HDRS   2000  /* more: 552 5.3.4 at end of message */

/* what the body chunks are (rawbody.c) */
#define MILTER_RAW_NO     0     /* the body itself: fed as it comes */
#define MILTER_RAW_HEAD   1     /* Stalwart: held until the header block ends */
#define MILTER_RAW_CUT    2     /* Stalwart: the header block was cut off */

struct milter_hdr {
    char   *name;
    char   *value;
};

struct milter_msg {
    int     active;             /* MAIL seen */
    struct timespec t0;
    char    mail_from[512];
    char    auth[256];          /* {auth_authen}, "" when not authenticated */
    unsigned long size_hint;    /* ESMTP SIZE= */
    unsigned long hbytes;       /* header bytes (for quota): the callbacks' sum,
                                 * or the exact raw block cut from a Stalwart body */
    unsigned long bytes;        /* body bytes fed (for quota) */
    int     raw;                /* MILTER_RAW_*: the body's header block (rawbody.c) */
    unsigned char *rb;          /* body bytes held until the raw block ends */
    size_t  rlen, rcap;
    char  **rcpt;
    size_t  nrcpt;
    size_t  rcpt_unchecked;     /* past MILTER_MAX_RCPT: quota checked at RCPT only */
    struct milter_hdr *hdr;     /* kept until end of header */
    size_t  nhdr, hcap;
    int     too_many_hdrs;      /* over MILTER_MAX_HDRS: refused 552 5.3.4 */
    int     ar_seen;            /* Authentication-Results headers so far */
    int    *ours;               /* indexes of those carrying our id (grows) */
    size_t  nours, ocap;
    char    from_domain[256];   /* the one From address's domain, or "" */
    char    from_why[128];      /* why there is none (several, unparseable) */
    int     trusted;
    int     spf_done, spf_tag;
    struct mxspf_answer spf;
    struct milter_verdict spf_v;
    struct dkim_msg *dm;        /* signing or verifying handle */
    struct dkim_keyset *ks;     /* keys used when signing */
    int     signing;
    int     sender_bad;         /* milter_sender_check refused it */
    int     over_quota;         /* recipients over quota at end of message */
    long    dns_ms;             /* DNS lookup time spent (milter_dns_budget) */
    int     failed;             /* internal error seen: the failure policy */
    char    failwhy[400];      /* one log line: file and reason */
};

struct milter_conn {
    struct milter_gen *g;
    unsigned long nr;           /* SMFIP_NR_* steps negotiated as no-reply */
    int     leadspc;            /* SMFIP_HDR_LEADSPC: values we add need their space */
    char    ip[64];
    int     internal;
    char    daemon[64];
    int     stalwart;           /* {daemon_name} is Stalwart's (milter_is_stalwart) */
    char    helo[256];
    int     refused;            /* by policy_connect: answered at HELO/MAIL */
    struct policy_decision refusal;
    struct milter_msg m;
};

/* milter_dns_enter - the thread's lookups end by what is left of the
 * message's milter_dns_budget; milter_dns_leave counts the time spent and
 * logs once when the budget ran out (STEP names the step) */
void    milter_dns_enter(struct milter_conn *c);
void    milter_dns_leave(struct milter_conn *c, const char *step);

/* milter_msg_reset - free and clear the per-message part */
void    milter_msg_reset(struct milter_conn *c);

/* milter_reply - send verdict V (escaped) unless dry run; the sfsistat to
 * return.  STEP names the step for the log. */
sfsistat milter_reply(SMFICTX *ctx, struct milter_conn *c, const struct milter_verdict *v,
                      const char *step);

/* milter_eom_run - the end-of-message work: signatures or verification,
 * headers, verdict, the log line */
sfsistat milter_eom_run(SMFICTX *ctx, struct milter_conn *c);

/* milter_begin_body - at end of header: sign or verify (the headers are
 * fed by milter_feed_begin) */
void    milter_begin_body(struct milter_conn *c, const char *qid);

/* rawbody.c: header fields and body to the DKIM handle, bytes for quota */
int     milter_is_stalwart(const char *daemon);
void    milter_feed_begin(struct milter_conn *c);
void    milter_feed_body(struct milter_conn *c, const unsigned char *buf, size_t len);
void    milter_feed_end(struct milter_conn *c);

extern struct smfiDesc milter_desc;

#endif
