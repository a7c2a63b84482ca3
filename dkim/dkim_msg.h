/*
 * dkim_msg.h - sign and verify messages with libopendkim, and the in-memory
 * keyring of active signing keys.  Knows nothing of milters: the caller
 * feeds headers, body chunks and the end of the message.
 *
 * One struct dkim_msg_lib (one DKIM_LIB) per configuration generation, shared
 * by every thread; one struct dkim_msg per message (sign or verify).
 *
 * Ownership: dkim_msg_lib_new() -> dkim_msg_lib_free(); dkim_msg_*_new() ->
 * dkim_msg_free(); dkim_keyring_new() -> dkim_keyring_free();
 * dkim_keyring_get() -> dkim_keyset_release().  Strings returned by
 * dkim_msg_sighdr() and results of dkim_msg_sig() belong to the message.
 */
#ifndef MX_DKIM_MSG_H
#define MX_DKIM_MSG_H

#include <stddef.h>
#include <time.h>

#include "conf.h"
#include "dkim.h"

/* Per-signature verification results (RFC 8601 2.7.1). */
enum dkim_msg_res {
    DKIM_MSG_NONE, DKIM_MSG_PASS, DKIM_MSG_FAIL, DKIM_MSG_NEUTRAL,
    DKIM_MSG_POLICY, DKIM_MSG_TEMPERROR, DKIM_MSG_PERMERROR
};

struct dkim_msg_sig {
    enum dkim_msg_res res;
    char    d[256];             /* signing domain */
    char    s[64];              /* selector */
    char    a[24];              /* "rsa-sha256", "ed25519-sha256", "rsa-sha1"; "" = unknown */
    char    b[16];              /* first 8 characters of b= */
    int     bits;               /* key size, 0 when unknown */
    char    why[64];            /* short reason when not pass (fixed text) */
};

/* One signing key: PEM text read once per keyring load, for libopendkim,
 * and the key parsed once from it (an EVP_PKEY, shared read-only by every
 * thread) for mxdock's engine; freed with its keyset. */
struct evp_pkey_st;
struct dkim_msg_key {
    char    selector[64];
    enum dkim_alg alg;
    char   *pem;
    struct evp_pkey_st *pkey;
};

/* The active keys of one domain (immutable once built; reference counted). */
struct dkim_keyset {
    char    domain[256];
    size_t  n;
    struct dkim_msg_key *keys;
    time_t  mtime;              /* of DIR/DOMAIN/state when loaded; 0 = none */
    long    mtime_ns;           /* its nanoseconds and inode: a rewrite in the */
    unsigned long ino;          /* same second is a new file (atomic rename) */
    int     refs;               /* guarded by the keyring lock */
    long long version;          /* dkim_store = mysql: the domain's version */
    long long checked_ms;       /* ... last asked (monotonic ms; keyring lock) */
    char    broken[320];        /* why the store's keys could not all be used
                                 * (file and reason); "" = none was refused */
};

struct dkim_msg_lib;
struct dkim_msg;
struct dkim_keyring;

/* dkim_msg_lib_new - a DKIM_LIB configured from C: sign headers, oversigned
 * headers, minimum key bits, DNS timeout, keys looked up through
 * dns_resolver.  KEYFILE non-NULL makes key lookups read that file instead
 * (lines "SEL._domainkey.DOMAIN v=DKIM1; ...", for tests).  NULL + WHY. */
struct dkim_msg_lib *dkim_msg_lib_new(const struct mx_conf *c, const char *keyfile,
                                      char *why, size_t whylen);
void    dkim_msg_lib_free(struct dkim_msg_lib *);

/* dkim_msg_sign_new - sign with every key of KS as domain KS->domain.
 * JOBID names the message in library diagnostics.  NULL + WHY. */
struct dkim_msg *dkim_msg_sign_new(struct dkim_msg_lib *, const char *jobid,
                                   const struct dkim_keyset *ks, char *why, size_t whylen);

/* dkim_msg_verify_new - verify up to dkim_max_signatures signatures. */
struct dkim_msg *dkim_msg_verify_new(struct dkim_msg_lib *, const char *jobid,
                                     char *why, size_t whylen);

/* dkim_msg_header - one header as the MTA gives it: NAME and VALUE with its
 * leading space and folding kept.  -1 on a library error (see WHY of eom). */
int     dkim_msg_header(struct dkim_msg *, const char *name, const char *value);
int     dkim_msg_eoh(struct dkim_msg *);
int     dkim_msg_body(struct dkim_msg *, const unsigned char *buf, size_t len);

/* dkim_msg_eom - finish: compute the signatures or verify.  -1 + WHY when
 * signing failed or verification hit an internal error. */
int     dkim_msg_eom(struct dkim_msg *, char *why, size_t whylen);

/* Signing results: header values (no "DKIM-Signature:" name, folded with
 * "\n\t"), one per key; NULL past the end. */
size_t  dkim_msg_nsighdr(const struct dkim_msg *);
const char *dkim_msg_sighdr(const struct dkim_msg *, size_t i);

/* Verification results, in the order of the signatures in the message:
 * the first dkim_max_signatures of them; dkim_msg_nextra() counts the
 * DKIM-Signature fields past that limit (not judged). */
size_t  dkim_msg_nsig(const struct dkim_msg *);
const struct dkim_msg_sig *dkim_msg_sig(const struct dkim_msg *, size_t i);
size_t  dkim_msg_nextra(const struct dkim_msg *);

void    dkim_msg_free(struct dkim_msg *);
const char *dkim_msg_res_name(enum dkim_msg_res);

/* dkim_msg_dns_plug - make LIBOPENDKIM (a DKIM_LIB *) send key queries to
 * SERVER ("IP" or "IP:PORT"; "" = the system resolver) with TIMEOUT seconds.
 * Returns an object freed with dkim_msg_dns_free() after the library is
 * closed; NULL + WHY on a bad server address. */
void   *dkim_msg_dns_plug(void *libopendkim, const char *server, long timeout,
                          char *why, size_t whylen);
void    dkim_msg_dns_free(void *);

/* dkim_keyring_new - active keys of every domain in the store of C (C must
 * outlive the keyring).  Keys that cannot be read are logged, left out and
 * remembered as the domain's broken reason.  Never NULL except on memory exhaustion. */
struct dkim_keyring *dkim_keyring_new(const struct mx_conf *c);
void    dkim_keyring_free(struct dkim_keyring *);

/* dkim_keyring_get - the keyset of DOMAIN (normalised), reloaded first when
 * DIR/DOMAIN/state changed since it was loaded: a set with active keys, or
 * one whose keys could not all be read (ks->broken says why; ks->n may be
 * 0); NULL when the domain has no active key and nothing was refused.
 * Thread-safe.  Release with dkim_keyset_release(). */
struct dkim_keyset *dkim_keyring_get(struct dkim_keyring *, const char *domain);
void    dkim_keyset_release(struct dkim_keyring *, struct dkim_keyset *);

/* dkim_keyring_count - domains with active keys (for the reload log line). */
size_t  dkim_keyring_count(struct dkim_keyring *);

#endif
