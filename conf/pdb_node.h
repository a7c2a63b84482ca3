/*
 * pdb_node.h - the database nodes of a pool and its statements (pdb.c's
 * private half, pdb_node.c and pdb_stmt.c): the
 * mysql_host list in order of preference, each remembered as failed for a
 * while.  The caller (pdb.c) holds the pool's lock around every call but
 * pdb_node_usable, which talks to a server.  Also the pool's structures
 * and the few pool internals pdb_tx.c (one transaction) shares with pdb.c.
 *
 * Ownership: pdb_nodes_parse fills NODES->v, freed by pdb_nodes_free.
 */
#ifndef MX_PDB_NODE_H
#define MX_PDB_NODE_H

#include <pthread.h>
#include <stddef.h>
#include <mariadb/mysql.h>

#include "pdb.h"

struct pdb_node {
    char    host[256];          /* "" = the client library's default */
    unsigned port;
    unsigned gen;               /* bumped when its connections are lost */
    int     failed;             /* the last try failed (logged once) */
    long long hold_until;       /* monotonic ms: skipped until then */
};

struct pdb_nodes {
    struct pdb_node *v;
    int     n;
    long long hold_ms;          /* how long a failed node is skipped */
};

/* pdb_nodes_parse - LIST ("HOST[:PORT], ...", "" = one default node) */
int     pdb_nodes_parse(struct pdb_nodes *, const char *list, unsigned defport,
                        long long hold_ms);
void    pdb_nodes_free(struct pdb_nodes *);

/* pdb_node_pick - the first node at or after FROM that is not held, or -1.
 * A node that failed before is held again while this caller tries it, so
 * one caller, not every one, pays for a node still hung. */
int     pdb_node_pick(struct pdb_nodes *, int from, long long now);

/* pdb_node_better - is a node before I worth trying now? */
int     pdb_node_better(const struct pdb_nodes *, int i, long long now);

/* pdb_node_fail - hold node I (HOLD: skip it for hold_ms) and drop its
 * connections; 1 when it was fine before (log it), else 0 */
int     pdb_node_fail(struct pdb_nodes *, int i, int hold, long long now);

/* pdb_node_ok - node I answered; 1 when it had failed (log it), else 0 */
int     pdb_node_ok(struct pdb_nodes *, int i);

/* pdb_node_usable - is the server on MY fit for statements?  A Galera node
 * must be Synced; *GALERA says it is one.  0, or -1 with WHY and *ERR_NO
 * (1047 for a node not ready, a 2000s client error when the link failed). */
int     pdb_node_usable(MYSQL *my, int *galera, unsigned *err_no, char *why, size_t whylen);

/* pdb_stmt_exec - SQL on MY (pdb_stmt.c): prepared once and kept in *CACHE
 * (NULL: not kept), IN bound, rows typed as OUT handed to FN.  0, or -1
 * with *ERR_NO and WHY; *SENT says it reached the server (it may have run).
 * CAUSAL: behind SET STATEMENT wsrep_sync_wait = 1 (Galera). */
int     pdb_stmt_exec(MYSQL *my, MYSQL_STMT **cache, const char *sql, int causal,
                      const struct pdb_val *in, int nin, struct pdb_col *out, int nout,
                      pdb_row_fn fn, void *ctx, long long *affected,
                      unsigned *err_no, int *sent, char *why, size_t whylen);

struct pdb_conn {
    MYSQL  *my;
    MYSQL_STMT *st[PDB_NSLOTS];
    unsigned gen;               /* its node's generation when it was opened */
    int     node;               /* index into nodes */
    int     galera;             /* the node is a Galera node */
    int     busy;
};

struct pdb {
    char   *socket, *user, *password, *database;
    unsigned timeout;
    int     flags, causal;
    struct pdb_nodes nodes;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int     max;
    struct pdb_conn *conns;
    int     down;
    int     refused;            /* the last connect failed on login or database name */
    long long down_since, last_try;     /* monotonic ms */
    unsigned sql_logged;        /* slots whose SQL error was logged */
    char    err[256];
    struct pdb_conn *tx;        /* held by pdb_tx_begin (pdb_tx.c) */
    pthread_t tx_owner;         /* the thread that holds it */
    unsigned tx_errno;          /* the last error of a transaction */
};


/* pdb.c's pool internals, shared with pdb_tx.c (the pool's lock is taken
 * inside each) */
struct pdb_conn *pdb_conn_acquire(struct pdb *, int *stale);
void    pdb_conn_release(struct pdb *, struct pdb_conn *);
void    pdb_conn_drop(struct pdb_conn *);
int     pdb_conn_connect(struct pdb *, struct pdb_conn *, int *slow);
void    pdb_thread_ready_now(void);
int     pdb_tx_run(struct pdb *, int slot, const char *sql, const struct pdb_val *in, int nin,
                   struct pdb_col *out, int nout, pdb_row_fn fn, void *ctx, long long *affected);
int     pdb_tx_mine(struct pdb *);

#endif
