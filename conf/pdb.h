/*
 * pdb.h - the database pool (conf/): a small pool of MariaDB/MySQL connections,
 * prepared statements only, outage detection logged once per outage.
 *
 * Ownership: pdb_open() returns a pool freed with pdb_close().  Each pooled
 * connection belongs to the pool; a caller holds one only inside pdb_run().
 */
#ifndef MX_PDB_H
#define MX_PDB_H

#include <string.h>

#include "conf.h"

/* Statement slots: each pooled connection keeps its prepared statements by
 * slot, so a statement is prepared once per connection.  -1 = not cached. */
enum pdb_slot {
    PDB_S_QUOTA, PDB_S_SET_USAGE, PDB_S_BAN_FIND, PDB_S_FAIL_COUNT,
    PDB_S_BAN_WINDOW, PDB_S_RECORD, PDB_S_BAN_MANUAL, PDB_S_UNBAN,
    PDB_S_FORGET, PDB_S_LIST_BANS, PDB_S_LIST_FAILS, PDB_S_PRUNE, PDB_S_PRUNE_BANS,
    PDB_S_DKIM_VERSION, PDB_S_DKIM_LOCK,      /* the DKIM key store (dkim/dkim_db.c) */
    PDB_NSLOTS
};

enum pdb_type { PDB_INT, PDB_TEXT, PDB_BLOB };

/* pdb_val - one input parameter (S/LEN for TEXT and BLOB, N for INT) */
struct pdb_val {
    enum pdb_type type;
    long long n;
    const char *s;
    size_t  len;
};

/* pdb_text, pdb_int - one statement parameter (NULL text binds as "") */
static inline struct pdb_val pdb_text(const char *s)
{
    return (struct pdb_val) {PDB_TEXT, 0, s ? s : "", s ? strlen(s) : 0};
}

static inline struct pdb_val pdb_int(long long n)
{
    return (struct pdb_val) {PDB_INT, n, 0, 0};
}

/* pdb_col - one output column; NULL columns have null set.  A TEXT or
 * BLOB column longer than s takes BIG (BIGCAP bytes, the caller's) when
 * set; *TRUNC then says it did not fit. */
struct pdb_col {
    enum pdb_type type;         /* INT or TEXT */
    long long n;
    char    s[256];
    unsigned long len;
    char    null;
    char   *big;
    unsigned long bigcap;
    char    trunc;
};

/* pdb_row_fn - called for each row; nonzero stops fetching */
typedef int (*pdb_row_fn) (void *ctx, const struct pdb_col *cols, int ncols);

#define PDB_QUIET 1             /* no outage log lines (command-line use) */

struct pdb;

/* pdb_open - a pool of at most MAXCONN connections; connects lazily. */
struct pdb *pdb_open(const struct mx_conf *c, int maxconn, int flags);
void    pdb_close(struct pdb *);

/* pdb_run - prepare SQL (cached in SLOT, or not when SLOT < 0), bind IN
 * (when the statement has more markers than NIN, the last value repeats),
 * execute, and hand each row (columns typed as OUT[0..NOUT-1]) to FN.
 * AFFECTED gets the affected-row count when not NULL.  On a lost
 * connection it reconnects and retries once (not after a timeout).  0, or
 * -1 on a database error (logged once per outage; pdb_error() says what). */
int     pdb_run(struct pdb *, int slot, const char *sql,
                const struct pdb_val *in, int nin,
                struct pdb_col *out, int nout, pdb_row_fn fn, void *ctx,
                long long *affected);

/* pdb_error - the last error text (single-threaded callers only) */
const char *pdb_error(struct pdb *);

/* pdb_is_down - is the database currently considered unreachable? */
int     pdb_is_down(struct pdb *);

/* pdb_is_refused - is it down because the server refused the login or the
 * database name (access denied, unknown database): a configuration error? */
int     pdb_is_refused(struct pdb *);

/* pdb_tx_begin - hold one connection for a transaction (START
 * TRANSACTION): this thread's pdb_run calls on the pool go to it, with no
 * retry, until pdb_tx_end COMMITs (COMMIT nonzero) or rolls back and
 * releases it.  0, or -1 (pdb_error, pdb_tx_errno say why). */
int     pdb_tx_begin(struct pdb *);
int     pdb_tx_end(struct pdb *, int commit);

/* pdb_tx_errno - the server's error number of the last failed statement of
 * a transaction (1213: a deadlock, or on Galera a certification conflict:
 * the whole transaction was rolled back) */
unsigned pdb_tx_errno(struct pdb *);

/* pdb_thread_end - release this thread's client-library state */
void    pdb_thread_end(void);

#endif
