/*
 * dkim_eng.h - mxdock's own DKIM engine (RFC 6376, RFC 8463): the
 * canonicalization of dkim_canon.c and the signer of dkim_eng_sign.c, on
 * private keys parsed once per key generation (struct dkim_msg_key.pkey).
 * dkim_msg.c dispatches to it when dkim_engine = mxdock; libopendkim is the
 * other engine behind the same dkim_msg.h interface.
 *
 * One struct dkim_eng per configuration generation (read-only, shared by
 * every thread); one struct dkim_eng_sign per message.
 *
 * Ownership: dkim_eng_new() -> dkim_eng_free(); dkim_eng_sign_new() ->
 * dkim_eng_sign_free(); strings from dkim_eng_sign_hdr() belong to the
 * signing handle.  dkim_canon_body_init() -> dkim_canon_body_free().
 */
#ifndef MX_DKIM_ENG_H
#define MX_DKIM_ENG_H

#include <stddef.h>

#include "conf.h"
#include "dkim_msg.h"
#include "strbuf.h"

/* ---- canonicalization (dkim_canon.c) ---- */

#define DKIM_CANON_OUTBUF 4096

/* The streaming body canonicalizer: bytes in, SHA-256 of the canonical body
 * out, never more than DKIM_CANON_OUTBUF bytes held. */
struct dkim_canon_body {
    int     relaxed;
    void   *md;                 /* EVP_MD_CTX * */
    int     cr;                 /* a CR seen, its LF not yet */
    int     wsp;                /* relaxed: white space pending on this line */
    int     emitted;            /* some content hashed (the body is not empty) */
    size_t  crlfs;              /* line ends held back: maybe trailing */
    long long limit;            /* l= of a signature being checked; -1 = none */
    unsigned long long wrote;   /* canonical bytes hashed */
    size_t  n;
    unsigned char out[DKIM_CANON_OUTBUF];
};

/* dkim_canon_body_init - RELAXED or simple (RFC 6376 3.4.3, 3.4.4); LIMIT
 * canonical bytes at most (-1 = all).  -1 when OpenSSL has no memory. */
int     dkim_canon_body_init(struct dkim_canon_body *, int relaxed, long long limit);

/* dkim_canon_body_update - more body bytes, any chunking; a bare LF counts
 * as CRLF (as libopendkim's FIXCRLF). */
int     dkim_canon_body_update(struct dkim_canon_body *, const unsigned char *p, size_t len);

/* dkim_canon_body_final - the 32-byte SHA-256 of the canonical body. */
int     dkim_canon_body_final(struct dkim_canon_body *, unsigned char hash[32]);
void    dkim_canon_body_free(struct dkim_canon_body *);

/* dkim_canon_header - NAME and VALUE (as the MTA gives it: folds with LF or
 * CRLF) canonicalized (RFC 6376 3.4.1, 3.4.2), appended to OUT with its
 * CRLF. */
void    dkim_canon_header(int relaxed, const char *name, const char *value,
                          struct strbuf *out);

/* The headers of one message, as the MTA gave them, in order. */
struct dkim_eng_hdrs {
    size_t  n, cap;
    char  **name, **value;
};

int     dkim_eng_hdrs_add(struct dkim_eng_hdrs *, const char *name, const char *value);
void    dkim_eng_hdrs_free(struct dkim_eng_hdrs *);

/* dkim_canon_block - the canonical headers named by H (colon list, FWS
 * allowed around names), each name taking the lowest instance not yet
 * taken (RFC 6376 5.4.2); a name with none left adds nothing.  -1 on ENOMEM */
int     dkim_canon_block(const struct dkim_eng_hdrs *, int relaxed, const char *h,
                         struct strbuf *out);

/* ---- tag values (dkim_eng_tags.c; the tag lists are dkim_tags.c's) ---- */

struct dkim_tags;

/* dkim_eng_tagstr - the value of tag NAME of T (outer white space gone)
 * copied into BUF; NULL when absent or longer than BUFLEN - 1 */
const char *dkim_eng_tagstr(const struct dkim_tags *t, const char *name, char *buf,
                            size_t buflen);

/* dkim_b64_decode - base64 TEXT (white space allowed) into OUT: the byte
 * count, or -1 when it is not base64 or does not fit */
long    dkim_b64_decode(const char *text, unsigned char *out, size_t outlen);

/* ---- public keys (dkim_eng_key.c) ---- */

enum dkim_key_status { DKIM_KEY_OK, DKIM_KEY_NONE, DKIM_KEY_BAD, DKIM_KEY_TEMP };

struct dkim_eng_pubkey {
    enum dkim_key_status status;
    char    why[64];            /* when not OK: libopendkim's words for it */
    struct evp_pkey_st *pkey;   /* when OK */
    int     ed25519;            /* k=ed25519 */
    int     bits;
    int     testing;            /* t=y */
    int     strict;             /* t=s: i= must be in d= exactly */
};

struct dkim_eng_keys;

/* dkim_eng_key_parse - key record TXT (RFC 6376 3.6.1) into OUT: status,
 * why when not OK, the key (the caller frees OUT->pkey) when OK */
void    dkim_eng_key_parse(const char *txt, struct dkim_eng_pubkey *out);

/* dkim_eng_key_answer - the TXT records of DNS answer ANS (ALEN bytes)
 * joined into OUT ("\n" between records): their count, 0 for none (*TTL
 * the negative TTL), -1 for a malformed record, -2 for a DNS failure
 * (an rcode other than NOERROR/NXDOMAIN, an answer that does not parse) */
struct strbuf;
int     dkim_eng_key_answer(const unsigned char *ans, int alen, struct strbuf *out, long *ttl);

/* dkim_keyrec_check - 0 when TXT is a key record a verifier may use (a
 * revoked one included: the verifier reports it), -1 and WHY when RFC 6376
 * 3.6.1 says to ignore it (v= not first or not DKIM1, a tag twice, an
 * unknown k=, h= without sha256, s= not email, p= not a key of its type) */
int     dkim_keyrec_check(const char *txt, char *why, size_t whylen);

/* dkim_eng_keys_new - a key cache asking SERVER ("" = the system's) with
 * TIMEOUT seconds, or reading KEYFILE ("NAME TXT" lines) when not NULL. */
struct dkim_eng_keys *dkim_eng_keys_new(const char *server, long timeout, const char *keyfile,
                                        char *why, size_t whylen);
void    dkim_eng_keys_free(struct dkim_eng_keys *);

/* dkim_eng_key_get - the key of SELECTOR._domainkey.DOMAIN into OUT; the
 * caller frees OUT->pkey (EVP_PKEY_free).  Thread-safe. */
void    dkim_eng_key_get(struct dkim_eng_keys *, const char *selector, const char *domain,
                         struct dkim_eng_pubkey *out);

/* ---- signing (dkim_eng_sign.c) ---- */

struct dkim_eng;
struct dkim_eng_sign;

/* dkim_eng_new - sign header lists and canonicalization from C, and the
 * verifier's limits and key cache (keys from KEYFILE when not NULL, as
 * dkim_msg_lib_new).  NULL + WHY. */
struct dkim_eng *dkim_eng_new(const struct mx_conf *c, const char *keyfile,
                              char *why, size_t whylen);
void    dkim_eng_free(struct dkim_eng *);
int     dkim_eng_max_sigs(const struct dkim_eng *);
int     dkim_eng_min_bits(const struct dkim_eng *);
struct dkim_eng_keys *dkim_eng_keys_of(const struct dkim_eng *);

/* dkim_eng_sign_new - sign with every key of KS (parsed keys only; a key
 * without pkey makes this fail).  KS must outlive the handle. */
struct dkim_eng_sign *dkim_eng_sign_new(const struct dkim_eng *, const struct dkim_keyset *ks,
                                        char *why, size_t whylen);
int     dkim_eng_sign_header(struct dkim_eng_sign *, const char *name, const char *value);
int     dkim_eng_sign_body(struct dkim_eng_sign *, const unsigned char *p, size_t len);
int     dkim_eng_sign_eom(struct dkim_eng_sign *, char *why, size_t whylen);
size_t  dkim_eng_sign_n(const struct dkim_eng_sign *);
const char *dkim_eng_sign_hdr(const struct dkim_eng_sign *, size_t i);
void    dkim_eng_sign_free(struct dkim_eng_sign *);

/* ---- verifying (dkim_eng_verify.c) ---- */

struct dkim_eng_verify;

struct dkim_eng_verify *dkim_eng_verify_new(const struct dkim_eng *, char *why, size_t whylen);
int     dkim_eng_verify_header(struct dkim_eng_verify *, const char *name, const char *value);
int     dkim_eng_verify_eoh(struct dkim_eng_verify *);
int     dkim_eng_verify_body(struct dkim_eng_verify *, const unsigned char *p, size_t len);
int     dkim_eng_verify_eom(struct dkim_eng_verify *, char *why, size_t whylen);
size_t  dkim_eng_verify_n(const struct dkim_eng_verify *);
size_t  dkim_eng_verify_nextra(const struct dkim_eng_verify *);
const struct dkim_msg_sig *dkim_eng_verify_sig(const struct dkim_eng_verify *, size_t i);
void    dkim_eng_verify_free(struct dkim_eng_verify *);

/* dkim_eng_fold - the DKIM-Signature value of the tags in TAGS (separated
 * by "\001", the last one "b=") with B64 as b=, folded at 75 columns the
 * way libopendkim folds (dkim.c dkim_getsighdr_d), "\r\n\t" between lines,
 * after a first line already INITIAL wide.  BITS: RSA modulus bits (b= then
 * starts a line of its own unless it fits whole), 0 for Ed25519. */
void    dkim_eng_fold(const char *tags, const char *b64, size_t initial, int bits,
                      struct strbuf *out);

#endif
