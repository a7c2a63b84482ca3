/*
 * policy.h - quota at RCPT and the auth-attempt policy, on MySQL (issue 7).
 * Returns decisions; never calls libmilter.  Safe to call from many milter
 * threads; a thread that used the database gets mysql_thread_end when it
 * exits, or earlier from policy_thread_end().
 *
 * Ownership: policy_open() returns a handle freed with policy_close().
 */
#ifndef MX_POLICY_H
#define MX_POLICY_H

#include "conf.h"

enum policy_action { POLICY_CONTINUE, POLICY_TEMPFAIL, POLICY_REJECT };

struct policy_decision {
    enum policy_action action;
    char    rcode[4];           /* "452", "552", "421", "451" ... ("" = continue) */
    char    xcode[16];          /* "4.2.2" ... */
    char    text[256];          /* reply text, no CR/LF; '%' not yet escaped */
    char    header[256];        /* optional header value to add (quota warning), "" = none */
    long    failures;           /* policy_connect: failures counted in the window */
    int     db_error;           /* the database failed: ACTION is *_db_error_action's */
};

struct policy;

/* policy_open - NULL when neither quota_enable nor authfail_enable is set.
 * Never fails on a database that is down: it connects lazily. */
struct policy *policy_open(const struct mx_conf *c);
void    policy_close(struct policy *);

/* policy_connect - may CLIENT_IP connect? (bans, authfail_max in window) */
void    policy_connect(struct policy *, const char *client_ip, struct policy_decision *out);

/* policy_rcpt - quota check for RCPT (SIZE_HINT = ESMTP SIZE=, 0 = none) */
void    policy_rcpt(struct policy *, const char *rcpt, unsigned long size_hint,
                    struct policy_decision *out);

/* policy_eom - quota check with the real message size at end of message */
void    policy_eom(struct policy *, const char *rcpt, unsigned long msg_size,
                   struct policy_decision *out);

/* policy_parse_size - an RFC 1870 size-value (1*20DIGIT) that fits an
 * unsigned long into *OUT; -1 for anything else ("-1", "", "1e3", " 5",
 * 99999999999999999999999) */
int     policy_parse_size(const char *s, unsigned long *out);

/* policy_record_authfail - count a failed or refused authentication;
 * 0, -1 when the database did not take it, -2 when CLIENT_IP is no address */
int     policy_record_authfail(struct policy *, const char *client_ip, const char *principal,
                               const char *protocol);

/* policy_db_error - the last database error text (single-threaded callers);
 * *DOWN says it could not be reached, *REFUSED that it refused the login
 * (a configuration error, as is a refused statement: neither set) */
const char *policy_db_error(struct policy *, int *down, int *refused);

void    policy_thread_end(void);

/* policy_db_ping - 0 when the database answers, -1 when not (health checks) */
int     policy_db_ping(struct policy *);

#endif
