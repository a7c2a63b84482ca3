/*
 * spf_int.h - what the files of milter/spf/ share and nothing else uses.
 *
 * One check is one struct spf_req (the inputs, parsed) evaluated into one
 * struct spf_verdict.  spf_dns.c counts the lookups of one check in a
 * struct spf_dns_ctx that lives on the caller's stack: nothing is shared
 * between threads except the read-only struct mxspf.
 */
#ifndef MX_SPF_INT_H
#define MX_SPF_INT_H

#include <stddef.h>
#include <netinet/in.h>
#include "spf.h"

#define SPF_MAX_LOOKUPS 10      /* RFC 7208 4.6.4 */
#define SPF_MAX_VOID    2
#define SPF_MAX_MX      10
#define SPF_MAX_PTR     10
#define SPF_MAX_NAME    256     /* a domain name, NUL included */

struct spf_req {
    int     family;             /* AF_INET or AF_INET6 (v4-mapped made AF_INET) */
    unsigned char addr[16];     /* 4 or 16 bytes in network order */
    char    ip_text[64];        /* the address as checked */
    char    local[256];         /* local-part of the sender */
    char    domain[SPF_MAX_NAME];   /* the domain checked */
    char    sender[520];        /* local@domain */
    char    helo[SPF_MAX_NAME];
    char    receiver[SPF_MAX_NAME];
    int     is_helo;            /* identity is HELO */
};

struct spf_verdict {
    enum mxspf_result result;
    char    reason[160];        /* why, for permerror/temperror comments */
    char    exp[512];           /* explanation, expanded, not yet sanitised */
    char    mech[128];          /* the mechanism that matched, if any */
};

/* the shared, read-only checker */
struct mxspf {
    struct sockaddr_storage ns;  /* dns_resolver; family 0 = system resolver */
    int     ns_len;
    long    timeout;            /* seconds, one query */
    int     use_libspf2;        /* plain libspf2 (baseline, benchmarks) */
    struct spf_cache *cache;    /* DNS answers for their TTL; locked inside */
    void   *libspf2;            /* SPF_server_t *, when use_libspf2 */
};

/* spf_dns.c: one lookup */
#define SPF_DNS_MAXRR 64
enum { SPF_DNS_OK, SPF_DNS_NXDOMAIN, SPF_DNS_NODATA, SPF_DNS_TEMP };
struct spf_rrs {
    int     count;
    const char *item[SPF_DNS_MAXRR];    /* A: 4 bytes, AAAA: 16, TXT: joined
                                         * strings (may hold NUL), MX/PTR: name */
    size_t  len[SPF_DNS_MAXRR];
    size_t  used;
    char    buf[32768];
};
struct spf_ctx;
void    mxspf_dns_default(struct mxspf *);
long long mxspf_dns_deadline(long secs);
void    mxspf_dns_done(struct spf_ctx *);
int     mxspf_dns_lookup(struct spf_ctx *, const char *name, int type, struct spf_rrs *);

/* spf_cache.c: answers kept for their TTL */
struct spf_cache *mxspf_cache_new(void);
void    mxspf_cache_free(struct spf_cache *);
int     mxspf_cache_get(struct spf_cache *, const char *name, int type, struct spf_rrs *);
void    mxspf_cache_put(struct spf_cache *, const char *name, int type, int rc,
                        const struct spf_rrs *, long ttl);

/* spf_record.c: a record parsed after the RFC 7208 ABNF */
enum spf_mech { SPF_M_ALL, SPF_M_INCLUDE, SPF_M_A, SPF_M_MX, SPF_M_PTR, SPF_M_IP4,
                SPF_M_IP6, SPF_M_EXISTS };
#define SPF_MAX_TERMS 128
struct spf_term {
    unsigned char mech;         /* enum spf_mech */
    char    qual;               /* '+', '-', '~', '?' */
    unsigned short off, len;    /* domain-spec in the record text; len 0: none */
    unsigned char cidr4, cidr6; /* prefix lengths (32 / 128 when absent) */
    unsigned char addr[16];     /* ip4 / ip6 network */
};
struct spf_record {
    char    text[4096];         /* the record, NUL-terminated */
    int     nterms;
    struct spf_term term[SPF_MAX_TERMS];
    unsigned short redirect_off, redirect_len;  /* len 0: none */
    unsigned short exp_off, exp_len;
    char    error[120];         /* why it is a permerror */
};
int     mxspf_record_is_spf(const char *txt, size_t len);
int     mxspf_record_parse(const char *txt, size_t len, struct spf_record *);
int     mxspf_macro_check(const char *s, size_t len, int in_exp, int want_domain);

/* spf_eval.c: the state of one check, on the checking thread's stack */
#define SPF_CHECK_BUDGET 20     /* seconds for one whole check, at least */
struct spf_ctx {
    const struct mxspf *s;
    const struct spf_req *req;
    int     lookups;            /* terms that cost DNS (RFC 7208 4.6.4) */
    int     voids;              /* lookups that found nothing */
    long long deadline;         /* CLOCK_MONOTONIC ms: the whole check's budget */
    int     udp;                /* the check's UDP socket, -1 until needed */
    int     ptr_done;           /* ptr_name computed (for %{p}) */
    char    ptr_name[SPF_MAX_NAME];
};
int     mxspf_ptr_names(struct spf_ctx *, const char *want, char *found, size_t len);

/* spf_macro.c: macro expansion (RFC 7208 7) */
int     mxspf_macro_expand(struct spf_ctx *, const char *spec, size_t len, const char *domain,
                           int in_exp, char *out, size_t outlen);
int     mxspf_domain_expand(struct spf_ctx *, const char *spec, size_t len, const char *domain,
                            char *out, size_t outlen);

/* spf_explain.c: the explanation of a fail */
void    mxspf_explain(struct spf_ctx *, const struct spf_record *, const char *domain,
                      struct spf_verdict *);

/* spf_libspf2.c: plain libspf2, the baseline */
void   *mxspf_lib_new(int cache);
void    mxspf_lib_free(void *);
void    mxspf_lib_eval(void *, const struct spf_req *, struct spf_verdict *);

/* spf_eval.c: mxdock's RFC 7208 evaluation */
void    mxspf_eval(const struct mxspf *, const struct spf_req *, struct spf_verdict *);

/* spf.c helpers others use */
void    mxspf_sanitise(char *dst, size_t len, const char *src);
size_t  mxspf_strlcpy(char *dst, const char *src, size_t len);

#endif
