/*
 * metrics.h - the counters of mxdock-milter and their Prometheus text,
 * served on milter_metrics_listen (docs/METRICS.md names every metric).
 *
 * The counters are one process-wide table of C11 atomics (relaxed): the
 * libmilter threads bump them without a lock, a scrape reads each one
 * whole.  They are not part of a configuration generation: a reload
 * (SIGUSR1) keeps them, and milter_metrics_listen is read at start only.
 * No label carries a domain, an address or any text from a message.
 *
 * Ownership: milter_metrics_render() returns text the caller frees.
 */
#ifndef MX_MILTER_METRICS_H
#define MX_MILTER_METRICS_H

#include <stddef.h>
#include <time.h>

#include "conf.h"
#include "dkim.h"
#include "dmarc.h"
#include "spf.h"

#ifndef MXDOCK_VERSION
#define MXDOCK_VERSION "0.1.0"          /* build_info's version (make -DMXDOCK_VERSION=) */
#endif

enum milter_metrics_err {
    MME_INTERNAL,               /* a message failed inside the milter (memory, handle) */
    MME_SIGN,                   /* signing failed at end of message */
    MME_VERIFY,                 /* verification hit an internal error */
    MME_HEADER,                 /* the MTA refused a header change */
    MME_REPLY,                  /* libmilter refused a reply code or text */
    MME_DNS_BUDGET,             /* milter_dns_budget ran out in a step */
    MME_DB,                     /* the policy database failed a query */
    MME_N
};

enum milter_metrics_db { MMDB_CONNECT, MMDB_RCPT, MMDB_EOM, MMDB_N };

/* what happened: each call adds one */
void    milter_metrics_message(int outbound, int kind);   /* kind: enum milter_kind */
void    milter_metrics_spf(enum mxspf_result);
void    milter_metrics_dkim(int res, const char *a);      /* res: enum dkim_msg_res, a= tag */
void    milter_metrics_dkim_unsigned(void);               /* verified, no signature */
void    milter_metrics_dmarc(enum mxdmarc_status);
void    milter_metrics_signature(enum dkim_alg);
void    milter_metrics_quota_refusal(int at_eom);
void    milter_metrics_ban_refusal(void);
void    milter_metrics_error(enum milter_metrics_err);
void    milter_metrics_reload(int ok);

/* milter_metrics_dns - STEP ("mail", "eoh", "eom") spent MS in lookups */
void    milter_metrics_dns(const char *step, long ms);

/* milter_metrics_now - a start time for milter_metrics_db (CLOCK_MONOTONIC us) */
long long milter_metrics_now(void);

/* milter_metrics_db - one policy query OP that began at T0; FAILED: a
 * database error (also counted as an error of kind db) */
void    milter_metrics_db(enum milter_metrics_db op, long long t0, int failed);

/* milter_metrics_started - the start time shown (set by milter_metrics_open) */
void    milter_metrics_started(time_t t);

/* milter_metrics_render - every metric as Prometheus text (0.0.4); C (may
 * be NULL) is the configuration whose key store is counted.  NULL on memory. */
char   *milter_metrics_render(const struct mx_conf *c);

/* milter_metrics_check - is milter_metrics_listen of C usable?  -1 + WHY */
int     milter_metrics_check(const struct mx_conf *c, char *why, size_t whylen);

/* milter_metrics_open - bind milter_metrics_listen (before privileges are
 * dropped and before fork); nothing when it is empty.  Fatal on error. */
void    milter_metrics_open(const struct mx_conf *c);

/* milter_metrics_start - answer scrapes on the socket opened (after fork,
 * as the service user); fatal when the server does not start */
void    milter_metrics_start(void);

#endif
