/*
 * pdb_tx.c - one transaction on one connection of the pool (pdb.c).
 *
 *   pdb_tx_begin   hold a connection, START TRANSACTION on it
 *   pdb_tx_end     COMMIT (or ROLLBACK), then release it
 *   pdb_tx_errno   the server's error number of the last failure
 *   pdb_tx_mine    does this thread hold the pool's transaction? (pdb_run)
 *   pdb_tx_run     one statement inside it (pdb_run sends it here)
 *
 * A statement of a transaction is never retried on its own: a lost
 * connection or a deadlock (on Galera also a certification conflict, error
 * 1213, on any statement or on COMMIT) rolls the whole transaction back,
 * and the caller decides what to do, knowing nothing was kept.  One
 * transaction per pool at a time (command-line use); other threads' pdb_run
 * calls keep using the other connections.
 */
#include <stdio.h>
#include <string.h>

#include <mariadb/mysql.h>

#include "pdb_node.h"

/* fail - remember why the transaction's statement failed; a lost
 * connection is closed (its transaction is gone with it) */
static void fail(struct pdb *db, struct pdb_conn *c, unsigned err_no, const char *why)
{
    pthread_mutex_lock(&db->lock);
    db->tx_errno = err_no;
    if (why != db->err)
        snprintf(db->err, sizeof(db->err), "%s", why);
    pthread_mutex_unlock(&db->lock);
    if (c && err_no >= 2000 && err_no < 3000)
        pdb_conn_drop(c);
}

/* query - SQL (no parameters, no rows) on C; 0, or -1 noted by fail() */
static int query(struct pdb *db, struct pdb_conn *c, const char *sql)
{
    if (c->my == 0) {
        fail(db, c, 2006, "the connection of the transaction was lost");
        return -1;
    }
    if (mysql_query(c->my, sql) == 0)
        return 0;
    fail(db, c, mysql_errno(c->my), mysql_error(c->my));
    return -1;
}

/* begin_on - START TRANSACTION on a (connected) free connection C */
static int begin_on(struct pdb *db, struct pdb_conn *c, int *slow)
{
    if (c->my == 0 && pdb_conn_connect(db, c, slow) < 0) {
        fail(db, c, 2003, db->err);
        return -1;
    }
    return query(db, c, "START TRANSACTION");
}

int     pdb_tx_begin(struct pdb *db)
{
    int     slow = 0;

    pdb_thread_ready_now();
    for (int attempt = 0; attempt < 2; attempt++) {
        int     stale = 0, sql_error;
        struct pdb_conn *c = pdb_conn_acquire(db, &stale);

        if (c == 0) {
            fail(db, 0, 2013, "no free database connection within mysql_timeout");
            return -1;
        }
        if (stale)
            pdb_conn_drop(c);
        if (begin_on(db, c, &slow) == 0) {
            pthread_mutex_lock(&db->lock);
            db->tx = c;
            db->tx_owner = pthread_self();
            pthread_mutex_unlock(&db->lock);
            return 0;
        }
        sql_error = c->my != 0;         /* read before C is another thread's */
        pdb_conn_release(db, c);
        if (sql_error || slow)          /* an SQL error, or a hung server */
            break;
    }
    return -1;
}

int     pdb_tx_end(struct pdb *db, int commit)
{
    struct pdb_conn *c;
    int     rc;

    pthread_mutex_lock(&db->lock);
    c = db->tx;
    db->tx = 0;
    pthread_mutex_unlock(&db->lock);
    if (c == 0)
        return -1;
    rc = query(db, c, commit ? "COMMIT" : "ROLLBACK");
    if (rc < 0 && !commit)
        pdb_conn_drop(c);       /* its state is unknown: not for the next user */
    pdb_conn_release(db, c);
    return rc;
}

unsigned pdb_tx_errno(struct pdb *db)
{
    unsigned e;

    pthread_mutex_lock(&db->lock);
    e = db->tx_errno;
    pthread_mutex_unlock(&db->lock);
    return e;
}

int     pdb_tx_mine(struct pdb *db)
{
    int     mine;

    pthread_mutex_lock(&db->lock);
    mine = db->tx != 0 && pthread_equal(db->tx_owner, pthread_self());
    pthread_mutex_unlock(&db->lock);
    return mine;
}

int     pdb_tx_run(struct pdb *db, int slot, const char *sql, const struct pdb_val *in, int nin,
                   struct pdb_col *out, int nout, pdb_row_fn fn, void *ctx, long long *affected)
{
    struct pdb_conn *c = db->tx;        /* only its owner thread gets here */
    unsigned err_no = 0;
    int     sent = 0, causal;
    char    why[256] = "";

    if (c->my == 0) {
        fail(db, c, 2006, "the connection of the transaction was lost");
        return -1;
    }
    causal = db->causal && c->galera && slot >= 0;
    if (pdb_stmt_exec(c->my, slot >= 0 ? &c->st[slot] : 0, sql, causal, in, nin, out, nout,
                      fn, ctx, affected, &err_no, &sent, why, sizeof(why)) == 0)
        return 0;
    fail(db, c, err_no, why);
    return -1;
}
