/*
 * dkim_impl.h - the dkim/ part's inside: what its own modules share.  Not
 * for other parts; they use dkim.h.
 *
 *   dkim_key.c    OpenSSL: generate, parse, encode keys; read a key file
 *   dkim_state.c  the per-domain state file; selector names
 *   dkim_store.c  directories, locking, loading
 *   dkim_dirio.c  files inside a domain directory, by its descriptor
 *   dkim_update.c keygen, state moves, adding and deleting selectors
 *   dkim_seal.c   AES-256-GCM sealing of private keys (dkim_store = mysql)
 *   dkim_db.c, dkim_db_tx.c  the same store in the mysql_* database
 *
 * Private key text passes through struct strbuf; dkim_sb_wipe() clears and
 * frees it.
 */
#ifndef MX_DKIM_IMPL_H
#define MX_DKIM_IMPL_H

#include <limits.h>
#include <sys/types.h>
#include <openssl/evp.h>

#include "dkim.h"

#define DKIM_STATE_FILE "state"
#define DKIM_PATH_MAX (PATH_MAX + 128)    /* DIR/DOMAIN + "/" + file name */
#define DKIM_MIN_RSA_BITS 1024
#define DKIM_MAX_RSA_BITS 4096          /* dkim_rsa_bits' maximum; also on import */

/* base64 of an RSA SubjectPublicKeyInfo: modulus + exponent + < 64 bytes of
 * DER framing; it must fit struct dkim_selector's pubkey_b64 */
#define DKIM_PUB_B64_MAX (4 * ((DKIM_MAX_RSA_BITS / 8 + 64 + 8 + 2) / 3) + 1)
_Static_assert(DKIM_PUB_B64_MAX <= sizeof(((struct dkim_selector *) 0)->pubkey_b64),
               "pubkey_b64 cannot hold the largest RSA key accepted");

/* dkim_key.c */
int     dkim_key_generate(enum dkim_alg, int bits, EVP_PKEY **, char *why, size_t whylen);
int     dkim_key_from_pem(const char *text, size_t len, EVP_PKEY **, enum dkim_alg *,
                          int *bits, char *why, size_t whylen);
int     dkim_key_to_pem(EVP_PKEY *, struct strbuf *pem);
int     dkim_key_pub_b64(EVP_PKEY *, enum dkim_alg, char *out, size_t outlen);
int     dkim_key_read_file(const char *path, int strict_mode, struct strbuf *pem,
                           char *why, size_t whylen);
int     dkim_key_read_fd(int fd, const char *label, int strict_mode, struct strbuf *pem,
                         char *why, size_t whylen);
void    dkim_sb_wipe(struct strbuf *);

/* dkim_state.c */
int     dkim_state_parse(const char *text, struct dkim_domain *, char *why, size_t whylen);
void    dkim_state_format(const struct dkim_domain *, struct strbuf *);
int     dkim_selector_valid(const char *name);
int     dkim_alg_parse(const char *name, enum dkim_alg *);
int     dkim_state_parse_name(const char *name, enum dkim_state *);
struct dkim_selector *dkim_domain_find(const struct dkim_domain *, const char *selector);
struct dkim_selector *dkim_domain_add(struct dkim_domain *);
void    dkim_domain_remove(struct dkim_domain *, size_t index);
int     dkim_selector_make(const char *fmt, enum dkim_alg, time_t when,
                           const struct dkim_domain *, int dirfd,
                           char *out, size_t outlen, char *why, size_t whylen);

/* dkim_dirio.c: files of one domain directory, through its descriptor DFD
 * (DIR only names it in diagnostics); UID (uid_t) -1 = keep the owner */
int     dkim_dir_read(int dfd, const char *dir, const char *name, int strict,
                      struct strbuf *out, char *why, size_t whylen);
int     dkim_dir_write(int dfd, const char *name, const void *data, size_t len, mode_t mode,
                       uid_t uid, gid_t gid);
void    dkim_dir_unlink(int dfd, const char *name);
int     dkim_dir_exists(int dfd, const char *name);
void    dkim_dir_clean_temps(int dfd);

/* dkim_store.c: one domain opened for change, locked against other writers.
 * LOCKFD is the domain directory, opened O_NOFOLLOW and flock'ed; every file
 * in it is reached through that descriptor (dkim_dirio.c), never by path. */
struct dkim_handle {
    const struct mx_conf *conf;
    char    dir[PATH_MAX];              /* DIR/DOMAIN, for diagnostics */
    int     lockfd;
    struct dkim_domain *dom;
    struct dkim_dbtx *tx;               /* dkim_store = mysql: its transaction */
};

int     dkim_store_begin(const struct mx_conf *, const char *domain, int create,
                         struct dkim_handle *, char *why, size_t whylen);
int     dkim_store_commit(struct dkim_handle *, char *why, size_t whylen);
void    dkim_store_end(struct dkim_handle *);
int     dkim_store_write_key(struct dkim_handle *, const char *selector, EVP_PKEY *,
                             char *why, size_t whylen);
void    dkim_store_own(const struct mx_conf *, const char *path);
int     dkim_store_owner(const struct mx_conf *, uid_t *, gid_t *);

/* dkim_seal.c */
#define DKIM_SEAL_KEYLEN 32
#define DKIM_SEAL_V1 1
int     dkim_seal_key_read(const struct mx_conf *, unsigned char key[DKIM_SEAL_KEYLEN],
                           char *why, size_t whylen);
int     dkim_seal(const unsigned char key[DKIM_SEAL_KEYLEN], const char *domain,
                  const char *selector, const void *plain, size_t len,
                  struct strbuf *out, char *why, size_t whylen);
int     dkim_unseal(const unsigned char key[DKIM_SEAL_KEYLEN], const char *domain,
                    const char *selector, const void *sealed, size_t len,
                    struct strbuf *plain, char *why, size_t whylen);

/* dkim_db.c, dkim_db_tx.c: the store in the database, behind the same
 * functions (dkim_store.c dispatches on dkim_store) */
struct pdb;
int     dkim_db_on(const struct mx_conf *);
struct pdb *dkim_db_pool(const struct mx_conf *, char *why, size_t whylen);
int     dkim_db_load(const struct mx_conf *, const char *domain, struct dkim_domain **out,
                     char *why, size_t whylen);
int     dkim_db_domains(const struct mx_conf *, char ***names, size_t *n,
                        char *why, size_t whylen);
int     dkim_db_key_pem(const struct mx_conf *, const char *domain, const char *selector,
                        struct strbuf *pem, char *why, size_t whylen);
int     dkim_db_begin(const struct mx_conf *, const char *domain, int create,
                      struct dkim_handle *, char *why, size_t whylen);
int     dkim_db_commit(struct dkim_handle *, char *why, size_t whylen);
void    dkim_db_end(struct dkim_handle *);
int     dkim_db_write_key(struct dkim_handle *, const char *selector, EVP_PKEY *,
                          char *why, size_t whylen);
void    dkim_db_discard(struct dkim_handle *, const char *selector);
int     dkim_db_version(const struct mx_conf *, const char *domain, long long *version,
                        char *why, size_t whylen);
int     dkim_db_seal_check(const struct mx_conf *, struct pdb *, const unsigned char *key,
                           char *why, size_t whylen);
int     dkim_db_check_name(const char *domain, char *why, size_t whylen);
/* dkim_db_domain_new - an empty domain named DOMAIN; NULL on ENOMEM */
struct dkim_domain *dkim_db_domain_new(const char *domain);
/* dkim_db_verify - DOM's rows (DOM->domain) read, each key unsealed and
 * matched to its row; 0, or -1 with WHY (dkim_db_keys.c) */
int     dkim_db_verify(const struct mx_conf *, struct pdb *, struct dkim_domain *dom,
                       char *why, size_t whylen);
/* dkim_db_key_ok - the sealed key B of SEL (DOMAIN) opens with KEY and is
 * the key its row describes; 0, or -1 with WHY */
int     dkim_db_key_ok(const unsigned char *key, const char *domain,
                       const struct dkim_selector *sel, const char *b, size_t len,
                       char *why, size_t whylen);
/* dkim_db_reach - 0 the database answers, -1 it refused our login or
 * database (a configuration error), -2 it is down */
int     dkim_db_reach(const struct mx_conf *);
/* dkim_db_rows - the selectors of DOMAIN into DOM, in order; with BLOB, each
 * row's sealed key is handed to it; LOCK: FOR UPDATE (in a transaction) */
typedef int (*dkim_db_blob_fn) (void *ctx, const char *selector, const char *b, size_t len);
int     dkim_db_rows(struct pdb *, const char *domain, struct dkim_domain *dom, int lock,
                     dkim_db_blob_fn blob, void *ctx, char *why, size_t whylen);
/* dkim_db_fail - WHY for a failed statement of DB; 1213 (another writer
 * won) is said so */
void    dkim_db_fail(struct pdb *, const char *domain, char *why, size_t whylen);

/* dkim_update.c: changes to an open domain (the caller commits) */
int     dkim_update_newkey(struct dkim_handle *, enum dkim_alg, int bits, enum dkim_state,
                           time_t now, char *why, size_t whylen);
void    dkim_update_discard(struct dkim_handle *, const char *selector);
void    dkim_update_activate(struct dkim_domain *, struct dkim_selector *, time_t now,
                             struct strbuf *retired);
int     dkim_update_algs(const char *list, enum dkim_alg *algs, int *n);

#endif
