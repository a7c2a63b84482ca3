/*
 * spf.h - SPF checks for the milter: libspf2 where it is right, mxdock's own
 * RFC 7208 layer where it is not (issue 6).  One shared checker per
 * configuration; safe to call from many milter threads at once.
 *
 * Ownership: mxspf_new() returns a checker freed with mxspf_free().
 */
#ifndef MX_SPF_H
#define MX_SPF_H

#include "conf.h"

enum mxspf_result {
    MXSPF_NONE, MXSPF_NEUTRAL, MXSPF_PASS, MXSPF_FAIL, MXSPF_SOFTFAIL,
    MXSPF_TEMPERROR, MXSPF_PERMERROR
};

struct mxspf_answer {
    enum mxspf_result result;
    char    identity[16];       /* "mailfrom" or "helo" (RFC 7208 2.4) */
    char    domain[256];        /* the domain checked */
    char    explanation[256];   /* for a fail reply; sanitised, no %, CR, LF, NUL */
    char    received_spf[1024]; /* Received-SPF header value (RFC 7208 9.1), sanitised */
};

struct mxspf;

/* mxspf_new - a checker using dns_resolver, dns_timeout of C; NULL + WHY. */
struct mxspf *mxspf_new(const struct mx_conf *c, char *why, size_t whylen);
void    mxspf_free(struct mxspf *);

/* mxspf_check - evaluate CLIENT_IP (text, v4 or v6, v4-mapped allowed),
 * HELO and MAIL_FROM (may be "" or "<>" for the null sender: HELO identity).
 * RECEIVER is the host name put into Received-SPF.  Always fills OUT. */
void    mxspf_check(struct mxspf *, const char *client_ip, const char *helo,
                    const char *mail_from, const char *receiver, struct mxspf_answer *out);

const char *mxspf_result_name(enum mxspf_result);    /* "pass", "fail", ... */

/* mxspf_set_engine - LIBSPF2 non-zero: plain libspf2 (the baseline for
 * comparisons; serialised, system resolver), 1 with libspf2's DNS cache,
 * 2 without.  Call once after mxspf_new. */
int     mxspf_set_engine(struct mxspf *, int libspf2);

#endif
