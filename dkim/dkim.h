/*
 * dkim.h - the DKIM key store: keys per domain and selector, their
 * lifecycle states, and their DNS TXT rendering.  Knows nothing of milters
 * or PowerDNS.
 *
 * Layout of dkim_keydir:  DIR/DOMAIN/SELECTOR.pem (0600) and DIR/DOMAIN/state
 * (one line per selector).  Every write is atomic (temp, fsync, rename).
 *
 * Ownership: functions returning struct dkim_domain * give the caller a
 * structure to free with dkim_domain_free().
 */
#ifndef MX_DKIM_H
#define MX_DKIM_H

#include <stddef.h>
#include <time.h>

#include "conf.h"
#include "strbuf.h"

enum dkim_alg { DKIM_ALG_ED25519, DKIM_ALG_RSA };
enum dkim_state { DKIM_PENDING, DKIM_ACTIVE, DKIM_RETIRING, DKIM_RETIRED };

struct dkim_selector {
    char    name[64];
    enum dkim_alg alg;
    int     bits;               /* RSA modulus bits; 256 for Ed25519 */
    time_t  created;
    enum dkim_state state;
    time_t  changed;            /* when state last changed */
    char    pubkey_b64[1024];   /* p= value: SPKI DER (RSA) or raw 32 bytes (Ed25519);
                                 * holds RSA up to 4096 bits, the most the store takes */
};

struct dkim_domain {
    char    domain[256];
    size_t  n;
    struct dkim_selector *sel;
};

const char *dkim_alg_name(enum dkim_alg);       /* "ed25519", "rsa" */
const char *dkim_state_name(enum dkim_state);   /* "pending", ... */

/* dkim_store_load - the selectors of DOMAIN (normalised name).  Returns 0 and
 * *OUT (possibly with n == 0 when the domain has no keys), or -1 with WHY
 * (corrupt state file, symlink out of the store, loose permissions...). */
int     dkim_store_load(const struct mx_conf *, const char *domain,
                        struct dkim_domain **out, char *why, size_t whylen);

void    dkim_domain_free(struct dkim_domain *);

/* dkim_store_keygen - new keys for DOMAIN in state STATE (normally
 * DKIM_PENDING): one per algorithm in dkim_algorithms, or only ALG when not
 * NULL ("ed25519" or "rsa"); BITS 0 = dkim_rsa_bits.  -1 with WHY. */
int     dkim_store_keygen(const struct mx_conf *, const char *domain, const char *alg,
                          int bits, enum dkim_state state, char *why, size_t whylen);

/* dkim_store_ensure - keys for DOMAIN unless it already has some (retired
 * keys do not count); *MADE says whether keys were made.  New keys start
 * pending. */
int     dkim_store_ensure(const struct mx_conf *, const char *domain, int *made,
                          char *why, size_t whylen);

/* dkim_store_set_state - move SELECTOR of DOMAIN to STATE (atomic).  Moving
 * a key to DKIM_ACTIVE moves the other active keys of its algorithm (and
 * older pending ones) to DKIM_RETIRING: one signing key per algorithm. */
int     dkim_store_set_state(const struct mx_conf *, const char *domain, const char *selector,
                             enum dkim_state state, char *why, size_t whylen);

/* dkim_store_domains - names of every domain in the store, sorted; the caller
 * frees each string and the array.  -1 with WHY. */
int     dkim_store_domains(const struct mx_conf *, char ***names, size_t *n,
                           char *why, size_t whylen);

/* dkim_key_path - DIR/DOMAIN/SELECTOR.pem into BUF; -1 when too long. */
int     dkim_key_path(const struct mx_conf *, const char *domain, const char *selector,
                      char *buf, size_t buflen);

/* dkim_txt_value - the TXT record text of SEL, unquoted:
 * "v=DKIM1; k=ed25519; p=..." or "v=DKIM1; k=rsa; p=..." */
void    dkim_txt_value(const struct dkim_selector *sel, struct strbuf *out);

/* dkim_txt_quoted - VALUE as DNS TXT content: quoted strings of at most 255
 * bytes each, separated by one space, as PowerDNS wants it. */
void    dkim_txt_quoted(const char *value, struct strbuf *out);

/* dkim_is_published_state - pending, active and retiring selectors are
 * published in DNS; retired ones are not. */
int     dkim_is_published_state(enum dkim_state);

/* ---- added with the store itself ---- */

/* dkim_store_key_pem - the private key of SELECTOR of DOMAIN as PEM text in
 * *PEM (appended), after the checks dkim_store_load makes (no symlink, mode
 * 0600, parses, RSA >= 1024).  Clear and free it with dkim_key_pem_free.
 * -1 with WHY. */
int     dkim_store_key_pem(const struct mx_conf *, const char *domain, const char *selector,
                           struct strbuf *pem, char *why, size_t whylen);
void    dkim_key_pem_free(struct strbuf *pem);

/* dkim_store_rotate - a new pending key for each algorithm of
 * dkim_algorithms that has no pending key yet; *MADE counts them. */
int     dkim_store_rotate(const struct mx_conf *, const char *domain, int *made,
                          char *why, size_t whylen);

/* dkim_store_published - is SEL's TXT record (its p= value) served by
 * dns_check_server (or, when that is empty, by every IPv4 address of every
 * dns_nameservers host), asked without recursion?  1 yes, 0 no (with the
 * reason in WHY). */
int     dkim_store_published(const struct mx_conf *, const char *domain,
                             const struct dkim_selector *sel, char *why, size_t whylen);

/* dkim_store_tick - advance DOMAIN at time NOW: pending keys seen in DNS
 * go active (their predecessors retiring), retiring keys older than
 * dkim_retire_after go retired, retired keys older than dkim_delete_after
 * are deleted, and a rotation starts when the newest active key of an
 * algorithm of dkim_algorithms is dkim_rotate_after old.  One line per change is appended to
 * REPORT.  *CHANGED says whether anything changed, *UNSEEN how many pending
 * keys are not yet seen in DNS.  -1 with WHY (nothing changed, and REPORT
 * is as it was: only committed changes are reported). */
int     dkim_store_tick(const struct mx_conf *, const char *domain, time_t now,
                        struct strbuf *report, int *changed, int *unseen,
                        char *why, size_t whylen);

/* dkim_store_add_pem - put the private key PEM (or bare base64 DER) under
 * SELECTOR of DOMAIN in STATE, as import does.  A key added as DKIM_ACTIVE
 * follows dkim_store_set_state's rule: the other active keys of its
 * algorithm (and older pending ones) go retiring, and WHY then says
 * "retiring: SEL..." (else it is empty).  0 added, 1 already there with the
 * same key (nothing changed), -1 with WHY (also when the selector holds
 * another key, or an RSA key is outside 1024..4096 bits). */
int     dkim_store_add_pem(const struct mx_conf *, const char *domain, const char *selector,
                           const char *pem, size_t len, enum dkim_state state,
                           char *why, size_t whylen);

/* dkim_store_import - OpenDKIM's KeyTable and SigningTable (plain paths or
 * "file:"/"refile:" data sets): every key the signing table uses goes into
 * the store as an active selector of the same name (by dkim_store_add_pem,
 * so per domain and algorithm the last one imported is the active one).  One line per key on
 * REPORT.  Returns the number of keys that failed, -1 with WHY when a
 * table cannot be read, -2 with WHY (FILE:LINE) when a KeyTable line does
 * not parse: then nothing is imported. */
int     dkim_store_import(const struct mx_conf *, const char *keytable,
                          const char *signingtable, struct strbuf *report,
                          char *why, size_t whylen);

/* dkim_store_check - with dkim_store = mysql: the seal key file reads, is
 * well formed, and opens what the database's keys were sealed with.  0
 * (also on files), -1 with WHY naming the file or the refused login (a
 * configuration error), -2 with WHY when the database cannot be asked. */
int     dkim_store_check(const struct mx_conf *, char *why, size_t whylen);

/* dkim_store_migrate - DOMAIN copied from the store of FROM into the store
 * of TO (configurations differing in dkim_store): the same keys, selectors,
 * states and times, in one change of the target; the source is only read.
 * Then both are loaded and compared.  0 copied, 1 already there the same
 * (nothing done), -2 already there with other keys or states (refused),
 * -3 not in the source store, -1 with WHY. */
int     dkim_store_migrate(const struct mx_conf *from, const struct mx_conf *to,
                           const char *domain, char *why, size_t whylen);

#endif
