/*
 * dmarc.h - DMARC evaluation of inbound mail for the milter: RFC 9989
 * (DNS tree walk, psd=, np=, t=; pct= ignored) by default, RFC 7489 (Public
 * Suffix List, pct= sampling) with dmarc_org_domain = psl (issues 8, 20).
 *
 * Pure evaluation: never calls libmilter and never evaluates SPF or DKIM
 * itself.  The milter hands over every From header value, the SPF answer
 * it already has (MAIL FROM identity only: a HELO pass never counts,
 * CVE-2019-20790) and its DKIM verify results; mxdmarc_evaluate() finds
 * the author domain, discovers the policy in the DNS (tree walk, or author
 * domain then organizational domain from the PSL), checks alignment and
 * fills a result; mxdmarc_decide() turns a result into what the milter
 * should do under the dmarc_* settings.
 *
 * One checker per configuration, read-only after mxdmarc_new(): safe to
 * use from many milter threads at once.
 *
 * Ownership: mxdmarc_new() returns a checker freed with mxdmarc_free().
 * Results and actions are caller-owned structs, nothing inside to free.
 */
#ifndef MX_DMARC_H
#define MX_DMARC_H

#include <stddef.h>
#include "conf.h"

#define MXDMARC_DOMAIN_MAX 256

enum mxdmarc_status {
    MXDMARC_NONE,               /* no policy published */
    MXDMARC_PASS,
    MXDMARC_FAIL,
    MXDMARC_TEMPERROR,          /* DNS failure: the policy is unknown */
    MXDMARC_PERMERROR           /* no usable From: none, several, unparseable */
};

enum mxdmarc_policy {
    MXDMARC_P_UNSET,            /* tag absent */
    MXDMARC_P_NONE,
    MXDMARC_P_QUARANTINE,
    MXDMARC_P_REJECT
};

/* One DKIM verify result as the milter has it: signing domain d= and the
 * result word ("pass", "fail", "neutral", "temperror", "permerror"...). */
struct mxdmarc_dkim {
    const char *domain;
    const char *result;
};

struct mxdmarc_input {
    const char *const *from;    /* the value of every From header field */
    size_t  nfrom;              /* how many From header fields there were */
    const char *mailfrom_domain;    /* RFC5321.MailFrom domain; "" = null sender */
    const char *spf_identity;   /* "mailfrom" or "helo" (only mailfrom counts) */
    const char *spf_result;     /* "pass", "fail", ... */
    const struct mxdmarc_dkim *dkim;
    size_t  ndkim;
    int     trusted;            /* authenticated/internal: never enforced */
};

struct mxdmarc_result {
    enum mxdmarc_status status;
    char    author_domain[MXDMARC_DOMAIN_MAX];   /* header.from; "" when unknown */
    char    org_domain[MXDMARC_DOMAIN_MAX];
    char    policy_domain[MXDMARC_DOMAIN_MAX];   /* where the record was found */
    enum mxdmarc_policy p, sp, np;
    enum mxdmarc_policy applied;    /* p, sp or np: the one for this message */
    enum mxdmarc_policy disposition;    /* after pct=/t=; NONE unless fail */
    int     pct;                /* 0..100 */
    int     sampled_out;        /* pct= sampling lowered the disposition */
    int     testing;            /* t=y */
    int     treewalk;           /* org domain by the RFC 9989 tree walk, not the PSL */
    int     org_mattered;       /* the policy or an alignment came from the org domain */
    int     psd_policy;         /* the policy is a public suffix domain's (psd=y) */
    int     record_psd;         /* the applied record has psd=y */
    char    rua[512];           /* rua= of the record, for aggregate reports */
    char    ruf[512];           /* ruf= of the record, for failure reports */
    char    fo[16];             /* fo= of the record ("0" by default) */
    char    adkim, aspf;        /* 'r' or 's' */
    int     spf_aligned, dkim_aligned;
    char    dkim_domain[MXDMARC_DOMAIN_MAX];     /* the aligned d=, or "" */
    char    reason[320];        /* why, for logs; no CR/LF */
    char    ar[512];            /* Authentication-Results resinfo fragment */
};

enum mxdmarc_verdict {
    MXDMARC_ACCEPT,
    MXDMARC_TAG,                /* accept, add header_name: header_value */
    MXDMARC_QUARANTINE,         /* smfi_quarantine(text) */
    MXDMARC_REJECT,             /* rcode xcode text */
    MXDMARC_TEMPFAIL            /* rcode xcode text */
};

struct mxdmarc_action {
    enum mxdmarc_verdict verdict;       /* what to do (ACCEPT when dry run) */
    enum mxdmarc_verdict intended;      /* what would be done without dry run */
    char    rcode[4];
    char    xcode[16];
    char    text[320];          /* reply or quarantine reason; no CR/LF, '%' as is */
    char    header_name[32];
    char    header_value[320];
};

/* DNS answer status, for the resolver hook. */
enum mxdmarc_dns {
    MXDMARC_DNS_OK,             /* records of the type exist */
    MXDMARC_DNS_NODATA,         /* the name exists, no records of the type */
    MXDMARC_DNS_NXDOMAIN,
    MXDMARC_DNS_ERROR           /* timeout, SERVFAIL, ... */
};

/* A resolver: records of TYPE (ns_t_txt, ns_t_a ...) at NAME.  For TXT,
 * each record's strings joined into one malloc'd string in *RRS (a
 * malloc'd array the caller frees with mxdmarc_rrs_free); other types
 * need only the status and count. */
typedef enum mxdmarc_dns (*mxdmarc_lookup_fn) (void *ctx, const char *name, int type,
                                                char ***rrs, size_t *n);

struct mxdmarc;

/* mxdmarc_new - a checker for dmarc_org_domain (with dmarc_psl_file when
 * it is psl) and the resolver dns_resolver/dns_timeout of C (C must
 * outlive it); NULL + WHY. */
struct mxdmarc *mxdmarc_new(const struct mx_conf *c, char *why, size_t whylen);
void    mxdmarc_free(struct mxdmarc *);

/* mxdmarc_set_lookup - replace the DNS resolver (tests, or a cache). */
void    mxdmarc_set_lookup(struct mxdmarc *, mxdmarc_lookup_fn fn, void *ctx);

/* mxdmarc_evaluate - evaluate IN; always fills OUT; returns OUT->status. */
int     mxdmarc_evaluate(const struct mxdmarc *, const struct mxdmarc_input *in,
                         struct mxdmarc_result *out);

/* mxdmarc_decide - what the milter does with RES under the dmarc_* keys. */
void    mxdmarc_decide(const struct mxdmarc *, const struct mxdmarc_input *in,
                       const struct mxdmarc_result *res, struct mxdmarc_action *out);

/* mxdmarc_org_domain - the organizational domain of DOMAIN (normalised)
 * into OUT by dmarc_org_domain (a tree walk asks the DNS); -1 when it does
 * not fit or the DNS failed. */
int     mxdmarc_org_domain(const struct mxdmarc *, const char *domain, char *out, size_t outlen);

const char *mxdmarc_status_name(enum mxdmarc_status);  /* "pass", "fail", ... */
const char *mxdmarc_policy_name(enum mxdmarc_policy);  /* "none", ...; "" unset */
const char *mxdmarc_verdict_name(enum mxdmarc_verdict);

/* ---- building blocks, exposed for tests and for the report builder ---- */

/* mxdmarc_from_domain - the author domain of the From header values FROM
 * (NFROM fields) into OUT, lower-case A-label.  0 on success; -1 with WHY
 * (no From, several From fields or addresses, unparseable, bad domain). */
int     mxdmarc_from_domain(const char *const *from, size_t nfrom, char *out, size_t outlen,
                            char *why, size_t whylen);

/* A parsed DMARC record (v=DMARC1). */
struct mxdmarc_record {
    enum mxdmarc_policy p, sp, np;
    char    adkim, aspf;
    int     pct;
    int     testing;
    char    psd;                /* psd=: 'y', 'n' or 'u' (RFC 9989 4.7) */
    int     has_rua;
    char    rua[512];           /* rua= as published, "" when absent */
    char    ruf[512];           /* ruf= as published, "" when absent */
    char    fo[16];             /* fo= as published ("0" when absent) */
};

/* mxdmarc_record_parse - parse TXT; 0 when it is a usable DMARC record
 * (after the RFC 7489 6.6.3 fallback of a bad p= to none when rua= is
 * valid), -1 when it must be ignored. */
int     mxdmarc_record_parse(const char *txt, struct mxdmarc_record *out);

/* mxdmarc_is_dmarc - does TXT start with the v=DMARC1 tag? */
int     mxdmarc_is_dmarc(const char *txt);

/* mxdmarc_dns_query - the default resolver (libresolv, RD on) asking
 * SERVER ("IP" or "IP:PORT"; NULL or "" = the system resolver), waiting
 * TIMEOUT seconds.  TXT records into *RRS as for mxdmarc_lookup_fn. */
enum mxdmarc_dns mxdmarc_dns_query(const char *server, int timeout, const char *name,
                                   int type, char ***rrs, size_t *n);
void    mxdmarc_rrs_free(char **rrs, size_t n);

#endif
