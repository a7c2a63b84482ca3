/*
 * ml.h - milterload internals: the milter protocol (version 6, as Postfix
 * speaks it) from the MTA side, and the message corpus.
 *
 * One struct ml_link is one MTA-to-milter connection; a chain of them (the
 * way a site runs opendkim then pyspf-milter) is walked step by step, the
 * first milter first, as Postfix does.
 */
#ifndef ML_H
#define ML_H

#include <stddef.h>
#include <stdint.h>

#define ML_MAX_CHAIN    4
#define ML_MAX_CHANGES  16

/* Protocol flags a milter may negotiate (libmilter mfdef.h). */
#define SMFIP_NOCONNECT 0x00000001u
#define SMFIP_NOHELO    0x00000002u
#define SMFIP_NOMAIL    0x00000004u
#define SMFIP_NORCPT    0x00000008u
#define SMFIP_NOBODY    0x00000010u
#define SMFIP_NOHDRS    0x00000020u
#define SMFIP_NOEOH     0x00000040u
#define SMFIP_NR_HDR    0x00000080u
#define SMFIP_NOUNKNOWN 0x00000100u
#define SMFIP_NODATA    0x00000200u
#define SMFIP_SKIP      0x00000400u
#define SMFIP_RCPT_REJ  0x00000800u
#define SMFIP_NR_CONN   0x00001000u
#define SMFIP_NR_HELO   0x00002000u
#define SMFIP_NR_MAIL   0x00004000u
#define SMFIP_NR_RCPT   0x00008000u
#define SMFIP_NR_DATA   0x00010000u
#define SMFIP_NR_UNKN   0x00020000u
#define SMFIP_NR_EOH    0x00040000u
#define SMFIP_NR_BODY   0x00080000u
#define SMFIP_HDR_LEADSPC 0x00100000u

struct ml_header {
    char   *name;
    char   *value;              /* as in the message: leading space, "\n" folds */
};

/* One corpus message, parsed once. */
struct ml_msg {
    char    path[256];
    char    from[256];          /* envelope sender, from the From: header */
    size_t  nhdr;
    struct ml_header *hdr;
    char   *body;               /* CRLF line ends, as Postfix sends it */
    size_t  bodylen;
};

/* The SMTP session as the MTA saw it. */
struct ml_env {
    const char *client_addr;
    const char *client_name;
    const char *helo;
    const char *rcpt;
    const char *auth;           /* {auth_authen}, or NULL */
    const char *daemon_name;
    const char *from;           /* overrides the message's From, or NULL */
};

struct ml_change {
    char    op;                 /* 'h' add, 'i' insert, 'm' change, other */
    char    name[64];
    char    value[2048];
};

/* What one message got back from the chain. */
struct ml_result {
    char    verdict;            /* 'a' accepted, 'r' reject, 't' tempfail, 'd' discard */
    char    step;               /* the command that got the verdict ('E': end of message) */
    int     reopen;             /* a milter left its session mid-message: QUIT and reconnect */
    char    reply[256];         /* SMFIR_REPLYCODE text */
    int     nchg;
    struct ml_change chg[ML_MAX_CHANGES];
    char    err[256];           /* protocol or I/O error: empty when none */
};

struct ml_link {
    char    spec[256];
    int     fd;
    uint32_t proto;             /* negotiated SMFIP_* flags */
    uint32_t actions;
    int     in_session;
    int     coalesce;           /* one send() per step, not one per packet */
    int     done;               /* accepted: sees no more of this message */
    int     eom;                /* this message reached its end-of-message reply */
    unsigned char *wbuf;
    size_t  wlen, wcap;
    unsigned char *rbuf;
    size_t  rcap;
};

/* ml_link_open - connect SPEC (inet:PORT@HOST, unix:PATH, local:PATH) and
 * negotiate; 0, or -1 with ERR. */
int     ml_link_open(struct ml_link *, const char *spec, int nodelay, int coalesce,
                     char *err, size_t errlen);
void    ml_link_close(struct ml_link *);

/* ml_message - one message through the chain, opening a session (CONNECT,
 * HELO) first when none is open.  Returns 0 (RES filled) or -1 on a
 * protocol or I/O error (RES->err). */
int     ml_message(struct ml_link *chain, int n, const struct ml_env *,
                   const struct ml_msg *, const char *queue_id, struct ml_result *res);

/* ml_between - after a message: SMFIC_ABORT when the SMTP session goes
 * on; at its end SMFIC_QUIT_NC (the connection is reused) or, when LAST,
 * SMFIC_QUIT.  libmilter accepts QUIT_NC only after end-of-message: a
 * message that ended early (res->reopen) needs QUIT and a new connection. */
void    ml_between(struct ml_link *chain, int n, int end_session, int last);

/* ml_corpus_load - every regular file of PATH (a file or a directory),
 * sorted.  The caller frees with ml_corpus_free. -1 with ERR. */
int     ml_corpus_load(const char *path, struct ml_msg **msgs, size_t *n,
                       char *err, size_t errlen);
void    ml_corpus_free(struct ml_msg *, size_t);

#endif
