/*
 * pdns.h - the pdns-hooks part: the mail record-set model, its builder (a
 * pure function: domain + config + template + keys -> desired rrsets), the
 * reconcile step (desired vs actual -> one PATCH), and the PowerDNS REST
 * client.  Knows nothing of milters.
 *
 * Ownership: every struct pdns_rrsets is freed by its owner with
 * pdns_rrsets_free(); strings inside belong to it.  json_t references
 * returned by the client belong to the caller (json_decref).
 */
#ifndef MX_PDNS_H
#define MX_PDNS_H

#include <stddef.h>
#include <jansson.h>

#include "conf.h"
#include "dkim.h"
#include "strbuf.h"

/* ---- the model (pdns_rrset.c) ------------------------------------------ */

struct pdns_rrset {
    char   *name;               /* absolute, lowercase, trailing dot */
    char    type[12];           /* "MX", "TXT", ... */
    long    ttl;
    size_t  n;
    char  **rec;                /* content as PowerDNS wants it */
    unsigned char *off;         /* per record, 1 = disabled; NULL = none is */
    char   *memo;               /* mxdock's comment: the records it published
                                 * here, one a line; NULL = none */
    json_t *comments;           /* the rrset's other comments, kept; or NULL */
};

struct pdns_rrsets {
    size_t  n, cap;
    struct pdns_rrset *v;
};

#define PDNS_RRSETS_INIT {0, 0, 0}

/* pdns_rrset_add - add CONTENT to the rrset NAME/TYPE (made if absent; a
 * record already there is not added twice).  Returns the rrset. */
struct pdns_rrset *pdns_rrset_add(struct pdns_rrsets *, const char *name, const char *type,
                                  long ttl, const char *content);
struct pdns_rrset *pdns_rrset_find(const struct pdns_rrsets *, const char *name,
                                   const char *type);
void    pdns_rrset_clear(struct pdns_rrset *);      /* drop its records */
/* pdns_rrset_push - append CONTENT (DISABLED or not) without the equality
 * test of pdns_rrset_add: live rrsets as PowerDNS holds them. */
void    pdns_rrset_push(struct pdns_rrset *, const char *content, int disabled);
/* pdns_rrset_memo_set - MEMO = every record of RS, one a line. */
void    pdns_rrset_memo_set(struct pdns_rrset *);
#define PDNS_MEMO_ACCOUNT "mxdock"

void    pdns_rrset_del_rec(struct pdns_rrset *, size_t i);
void    pdns_rrsets_free(struct pdns_rrsets *);
void    pdns_rrsets_sort(struct pdns_rrsets *);     /* by name, then type */

/* pdns_norm - CONTENT of TYPE in the one form used for comparing: names
 * lowercase with trailing dot, TXT strings joined and unquoted, IPv6
 * compressed, hex lowercase, spaces single.  Into OUT (appended). */
void    pdns_norm(const char *type, const char *content, struct strbuf *out);

/* pdns_rec_equal - same record after normalising both. */
int     pdns_rec_equal(const char *type, const char *a, const char *b);

/* pdns_txt_quote - VALUE as TXT content: quoted strings of at most 255
 * bytes, '"' and '\' escaped. */
void    pdns_txt_quote(const char *value, struct strbuf *out);

/* pdns_name_abs - NAME relative to ZONE ("@", "www", "www.zone.",
 * "www.zone") as an absolute lowercase name with trailing dot. */
void    pdns_name_abs(const char *name, const char *zone, struct strbuf *out);

/* ---- the builder (pdns_build.c) ---------------------------------------- */

struct pdns_tmpl_rec {
    char   *name, *type, *content;      /* name may be relative; %d/%m done */
    long    ttl;                        /* 0 = dns_ttl */
};

struct pdns_build_in {
    const char *domain;                 /* normalised, no trailing dot */
    const struct dkim_selector *sel;    /* the domain's selectors */
    size_t  nsel;
    const char *const *ips;             /* --ip overrides, or NULL */
    size_t  nips;
    const struct pdns_tmpl_rec *tmpl;   /* template records, or NULL */
    size_t  ntmpl;
    int     zone_signed;                /* TLSA only when signed */
    const char *tlsa_hex;               /* sha256 of the SPKI, or NULL */
};

/* pdns_build - the desired rrsets of a mail domain into OUT; warnings (SPF
 * lookup count) as lines into WARN.  -1 with WHY on a bad configured name. */
int     pdns_build(const struct mx_conf *, const struct pdns_build_in *,
                   struct pdns_rrsets *out, struct strbuf *warn, char *why, size_t whylen);

/* pdns_mail_host - dns_mail_host expanded for DOMAIN, no trailing dot. */
int     pdns_mail_host(const struct mx_conf *, const char *domain, char *out, size_t len);

/* pdns_mta_sts_policy - the RFC 8461 policy text of DOMAIN (CRLF lines);
 * pdns_mta_sts_id - its id: 32 hex digits of its SHA-256. */
void    pdns_mta_sts_policy(const struct mx_conf *, const char *domain, struct strbuf *out);
void    pdns_mta_sts_id(const char *policy, char *id, size_t idlen);

/* pdns_spf_lookups - DNS-lookup terms in an SPF record (RFC 7208 4.6.4). */
int     pdns_spf_lookups(const char *spf);

/* ---- reconcile (pdns_diff.c, pdns_sync.c) ------------------------------ */

enum pdns_change_kind { PDNS_REPLACE, PDNS_DELETE };

struct pdns_change {
    enum pdns_change_kind kind;
    struct pdns_rrset want;             /* the rrset after the change */
    const struct pdns_rrset *was;       /* in ACTUAL, or NULL */
    int     comments;                   /* REPLACE the comments too (memo) */
};

struct pdns_changes {
    size_t  n, cap;
    struct pdns_change *v;
};

#define PDNS_CHANGES_INIT {0, 0, 0}

void    pdns_changes_free(struct pdns_changes *);

/* why a record is in a plan (pdns_sync.c) */
enum pdns_reason {
    PDNS_MISSING,               /* desired, not live: added */
    PDNS_STALE,                 /* mxdock's, unchanged, no longer desired: removed */
    PDNS_DRIFT,                 /* mxdock's, edited or displaced by hand: kept
                                 * (replaced with force) */
    PDNS_FOREIGN                /* never mxdock's: kept */
};

struct pdns_item {
    enum pdns_reason reason;
    int     applied;            /* the plan changes it (add, remove, replace) */
    char   *name;
    char    type[12];
    long    ttl;
    char   *content;            /* the record: live one for drift, foreign */
    char   *want;               /* drift: what mxdock published or wants */
    int     disabled;
};

struct pdns_plan {
    struct pdns_changes ch;             /* one change per rrset at most */
    size_t  n, cap;
    struct pdns_item *v;
};

#define PDNS_PLAN_INIT {PDNS_CHANGES_INIT, 0, 0, 0}

struct pdns_sync_in {
    const struct mx_conf *conf;
    const char *domain;                 /* no trailing dot */
    const struct pdns_rrsets *desired;  /* the model (pdns_build) */
    const struct pdns_rrsets *live;     /* the zone, memos and disabled included */
    const struct dkim_selector *sel;    /* the store's selectors (retired ones) */
    size_t  nsel;
    const char *only;                   /* comma list of types, or NULL */
    int     force;                      /* drift: mxdock's record wins */
    int     drop;                       /* delete --records-only: want nothing */
};

/* pdns_plan_make - the three-way reconcile: desired, last published (the
 * memo comments, or for a zone without any, what equals the model), live
 * -> items and at most one change per rrset.  See pdns_sync.c. */
void    pdns_plan_make(const struct pdns_sync_in *, struct pdns_plan *out);
void    pdns_plan_free(struct pdns_plan *);
size_t  pdns_plan_count(const struct pdns_plan *, enum pdns_reason, int applied);
const char *pdns_reason_name(enum pdns_reason);
/* pdns_plan_print - one line per item whose reason is in MASK (bits
 * 1 << reason): reason, action, name, ttl, type, content, and for drift
 * mxdock's record. */
void    pdns_plan_print(const struct pdns_plan *, unsigned mask, struct strbuf *out);
/* pdns_plan_json - the items as a JSON array; caller json_decref()s. */
json_t *pdns_plan_json(const struct pdns_plan *);

/* pdns_rrsets_memo_all - the memo of every rrset but SOA (create). */
void    pdns_rrsets_memo_all(struct pdns_rrsets *);

/* pdns_changes_json - the PATCH body; caller json_decref()s. */
json_t *pdns_changes_json(const struct pdns_changes *);

/* pdns_changes_print - zone-file lines with '-' and '+'. */
void    pdns_changes_print(const struct pdns_changes *, struct strbuf *out);

/* pdns_rrsets_json - rrsets as the API's "rrsets" array (POST, PATCH). */
json_t *pdns_rrsets_json(const struct pdns_rrsets *, int with_changetype);

/* pdns_rrsets_from_json - the "rrsets" of a zone answer into OUT. */
int     pdns_rrsets_from_json(json_t *rrsets, struct pdns_rrsets *out);

/* pdns_txt_family - "v=spf1" style family of a TXT value, lowercase, into
 * FAM; "" when the value carries no v= tag. */
void    pdns_txt_family(const char *value, char *fam, size_t famlen);

/* ---- the REST client (pdns_api.c) -------------------------------------- */

struct pdns_api;

/* pdns_api_open - a client for the configured server; NULL with WHY. */
struct pdns_api *pdns_api_open(const struct mx_conf *, char *why, size_t whylen);
void    pdns_api_close(struct pdns_api *);

/* pdns_api_call - METHOD on BASE/servers/ID + PATH with BODY (or NULL).
 * Returns 0 with *REPLY (parsed JSON, or NULL when the answer was not
 * JSON; TEXT, when not NULL, gets the raw body), or a sysexits code with
 * a one-line WHY: EX_UNAVAILABLE unreachable, EX_TEMPFAIL timeout,
 * EX_NOPERM 401/403, EX_NOINPUT 404, EX_CANTCREAT 409, EX_DATAERR 400/422,
 * EX_PROTOCOL anything else, and a 2xx whose body is not JSON (or a GET
 * or POST with none) unless TEXT asks for the raw body. */
int     pdns_api_call(struct pdns_api *, const char *method, const char *path,
                      json_t *body, json_t **reply, struct strbuf *text,
                      char *why, size_t whylen);

/* pdns_api_requests - how many requests this client has sent. */
int     pdns_api_requests(const struct pdns_api *);

/* ---- zones (pdns_zone.c) ----------------------------------------------- */

struct pdns_zone {
    int     exists;
    int     dnssec;
    char    account[128];       /* "mxdock" or "mxdock:TEMPLATE" */
    struct pdns_rrsets rr;
};

/* pdns_zone_get - one GET of DOMAIN's zone; absent is exists = 0, not an
 * error.  Returns 0 or a sysexits code with WHY. */
int     pdns_zone_get(struct pdns_api *, const char *domain, struct pdns_zone *z,
                      char *why, size_t whylen);
void    pdns_zone_free(struct pdns_zone *);

/* pdns_zone_create - one POST of DOMAIN with every rrset of RR; ACCOUNT
 * is stored in the zone's account field. */
int     pdns_zone_create(struct pdns_api *, const struct mx_conf *, const char *domain,
                         const char *account, const struct pdns_rrsets *rr,
                         char *why, size_t whylen);

/* pdns_zone_set_account - PUT the zone's account field. */
int     pdns_zone_set_account(struct pdns_api *, const char *domain, const char *account,
                              char *why, size_t whylen);

/* pdns_zone_patch - one PATCH carrying CH (never called with none). */
int     pdns_zone_patch(struct pdns_api *, const char *domain, const struct pdns_changes *ch,
                        char *why, size_t whylen);

/* pdns_zone_bump_serial - SOA serial + 1 (after key changes). */
int     pdns_zone_bump_serial(struct pdns_api *, const char *domain, char *why, size_t whylen);

/* pdns_zone_meta_get - every metadata kind of DOMAIN in one GET: *OUT is
 * the API's array of {"kind", "metadata": [...]}, the caller's to
 * json_decref.  pdns_meta_value - value I of KIND in it, or NULL (the
 * string belongs to META). */
int     pdns_zone_meta_get(struct pdns_api *, const char *domain, json_t **out,
                           char *why, size_t whylen);
const char *pdns_meta_value(json_t *meta, const char *kind, size_t i);

/* pdns_zone_meta_put - replace the values of metadata KIND (custom kinds
 * start with "X-"); N = 0 deletes the kind. */
int     pdns_zone_meta_put(struct pdns_api *, const char *domain, const char *kind,
                           const char *const *vals, size_t n, char *why, size_t whylen);

#endif
