/*
 * pdb.c - the database pool (MariaDB Connector/C), in conf/ because both
 * the policy and the DKIM key store (dkim_store = mysql) use it.
 *
 *   pdb_open        a pool of at most N connections, connecting lazily
 *   pdb_close       close every connection and free the pool
 *   pdb_run         one prepared statement: bind, execute, fetch rows
 *   pdb_error       the last error text (command-line use)
 *   pdb_is_down     is the database considered unreachable now?
 *   pdb_is_refused  did it refuse our login (a configuration error)?
 *   pdb_thread_end  mysql_thread_end now (threads that exit get it anyway)
 *   (pdb_tx.c: pdb_tx_begin, pdb_tx_end, pdb_tx_errno - one transaction)
 *
 * mysql_host names one server or several (Galera nodes, in order of
 * preference; pdb_node.c keeps them).  A connection goes to the first node
 * that answers and is usable: a Galera node must be Synced.  A lost
 * connection is dropped, every idle connection to the same node with it,
 * and the statement is retried once when that is safe (a read, a write that
 * gives the same result twice, or one that never reached the server):
 *   - one server: on a new connection, unless the failure took the whole
 *     timeout (a hung server: a retry would only double the wait of a
 *     decision that must come within mysql_timeout);
 *   - several: on the next node.  A node that failed, hung or answered
 *     error 1047 (WSREP not ready) is skipped for mysql_node_hold, so a hung
 *     node costs mysql_timeout once per hold, not once per statement.
 * A failed node is held PDB_RETRY_MS when it is the only one, so a dead
 * server costs callers no waiting.  On Galera a lock wait timeout (1205)
 * counts as node trouble, like 1047.  A Galera certification conflict (error
 * 1213 on an autocommit statement) is retried on the same connection.  With
 * mysql_causal_reads, the reads whose staleness would be wrong (a ban just
 * lifted elsewhere, quota just raised) run with wsrep_sync_wait = 1 on a
 * Galera node.  The outage and each node's failure are logged once when
 * they start and once when they end; the password is never logged.
 * Connect, read and write timeouts are mysql_timeout.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <mariadb/mysql.h>
#include <mariadb/errmsg.h>
#include <mariadb/mysqld_error.h>

#include "log.h"
#include "pdb.h"
#include "pdb_node.h"

#define PDB_RETRY_MS    1000
#define PDB_CONFLICT_TRIES 4    /* tries of a statement that lost certification */

/* statements that must wait for the cluster's earlier writes on Galera */
#define PDB_CAUSAL ((1u << PDB_S_BAN_FIND) | (1u << PDB_S_FAIL_COUNT) | (1u << PDB_S_QUOTA) \
                    | (1u << PDB_S_DKIM_VERSION) | (1u << PDB_S_DKIM_LOCK))
/* writes that must not run twice (a retry after an unknown outcome) */
#define PDB_ONCE   (1u << PDB_S_RECORD)

static pthread_once_t pdb_once = PTHREAD_ONCE_INIT;
static __thread int pdb_thread_ready;
static pthread_key_t pdb_thread_key;
static pthread_once_t pdb_thread_once = PTHREAD_ONCE_INIT;

/* thread_exit - mysql_thread_end when a thread that used the pool exits:
 * libmilter's worker threads outlive sessions, so a per-session end would
 * only make the next session on the thread initialise again */
static void thread_exit(void *unused)
{
    (void) unused;
    mysql_thread_end();
}

static void thread_key_make(void)
{
    (void) pthread_key_create(&pdb_thread_key, thread_exit);
}

static void pdb_library_init(void)
{
    mysql_library_init(0, 0, 0);
}

/* now_ms - monotonic milliseconds */
static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

struct pdb *pdb_open(const struct mx_conf *c, int maxconn, int flags)
{
    struct pdb *db = calloc(1, sizeof(*db));

    if (db == 0)
        return 0;
    pthread_once(&pdb_once, pdb_library_init);
    db->socket = dup_or_empty(c->mysql_socket);
    db->user = dup_or_empty(c->mysql_user);
    db->password = dup_or_empty(c->mysql_password);
    db->database = dup_or_empty(c->mysql_database);
    db->timeout = (unsigned) c->mysql_timeout;
    db->causal = c->mysql_causal_reads != 0;
    db->flags = flags;
    db->max = maxconn > 0 ? maxconn : 1;
    db->conns = calloc((size_t) db->max, sizeof(*db->conns));
    pthread_mutex_init(&db->lock, 0);
    pthread_cond_init(&db->cond, 0);
    if (pdb_nodes_parse(&db->nodes, c->mysql_host ? c->mysql_host : "",
                        (unsigned) c->mysql_port, 0) < 0) {
        pdb_close(db);
        return 0;
    }
    if (*db->socket)
        db->nodes.n = 1;                /* a socket is one local server */
    db->nodes.hold_ms = db->nodes.n > 1 ? 1000LL * c->mysql_node_hold : PDB_RETRY_MS;
    if (!db->socket || !db->user || !db->password || !db->database
        || !db->conns) {
        pdb_close(db);
        return 0;
    }
    return db;
}

/* drop - close a connection and its statements */
void    pdb_conn_drop(struct pdb_conn *c)
{
    for (int i = 0; i < PDB_NSLOTS; i++)
        if (c->st[i]) {
            mysql_stmt_close(c->st[i]);
            c->st[i] = 0;
        }
    if (c->my)
        mysql_close(c->my);
    c->my = 0;
}

void    pdb_close(struct pdb *db)
{
    if (db == 0)
        return;
    for (int i = 0; db->conns && i < db->max; i++)
        pdb_conn_drop(&db->conns[i]);
    pthread_mutex_destroy(&db->lock);
    pthread_cond_destroy(&db->cond);
    if (db->password)
        explicit_bzero(db->password, strlen(db->password));     /* memset may be elided before free */
    pdb_nodes_free(&db->nodes);
    free(db->socket);
    free(db->user);
    free(db->password);
    free(db->database);
    free(db->conns);
    free(db);
}

/* current - is C's connection fit to use: its node has lost no connection
 * since, and no earlier node is worth trying again?  (lock held) */
static int current(struct pdb *db, const struct pdb_conn *c, long long now)
{
    return c->my && c->gen == db->nodes.v[c->node].gen
        && !pdb_node_better(&db->nodes, c->node, now);
}

/* acquire - a free slot (connected and current, if any); NULL on timeout.
 * *STALE says its connection is no longer current and must be dropped. */
struct pdb_conn *pdb_conn_acquire(struct pdb *db, int *stale)
{
    struct timespec until;
    struct pdb_conn *pick = 0;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += db->timeout;
    pthread_mutex_lock(&db->lock);
    while (pick == 0) {
        long long now = now_ms();

        for (int i = 0; i < db->max; i++) {
            struct pdb_conn *c = &db->conns[i];

            if (c->busy)
                continue;
            if (current(db, c, now)) {
                pick = c;
                break;
            }
            if (pick == 0)
                pick = c;
        }
        if (pick == 0 && pthread_cond_timedwait(&db->cond, &db->lock, &until) == ETIMEDOUT)
            break;
    }
    if (pick) {
        pick->busy = 1;
        *stale = pick->my != 0 && !current(db, pick, now_ms());
    }
    pthread_mutex_unlock(&db->lock);
    return pick;
}

void    pdb_conn_release(struct pdb *db, struct pdb_conn *c)
{
    pthread_mutex_lock(&db->lock);
    c->busy = 0;
    pthread_cond_signal(&db->cond);
    pthread_mutex_unlock(&db->lock);
}

/* note_error - remember ERR; log it when an outage (or a slot's SQL error)
 * starts.  LOST says the server could not be reached. */
static void note_error(struct pdb *db, int slot, int lost, const char *err)
{
    int     log_it = 0;

    pthread_mutex_lock(&db->lock);
    snprintf(db->err, sizeof(db->err), "%s", err);
    if (lost) {
        db->last_try = now_ms();
        if (!db->down) {
            db->down = 1;
            db->down_since = db->last_try;
            log_it = 1;
        }
    } else if (slot >= 0 && !(db->sql_logged & (1u << slot))) {
        db->sql_logged |= 1u << slot;
        log_it = 2;
    } else if (slot < 0) {
        log_it = 2;
    }
    pthread_mutex_unlock(&db->lock);
    if (db->flags & PDB_QUIET)
        return;
    if (log_it == 1)
        mx_warn("policy database unreachable: %.200s (logged once until it recovers)", err);
    else if (log_it == 2)
        mx_warn("policy database query failed: %.200s", err);
}

/* note_ok - the database answered: end an outage */
static void note_ok(struct pdb *db, int slot)
{
    long long since = 0;

    pthread_mutex_lock(&db->lock);
    if (db->down) {
        db->down = 0;
        since = db->down_since;
    }
    db->refused = 0;
    if (slot >= 0)
        db->sql_logged &= ~(1u << slot);
    pthread_mutex_unlock(&db->lock);
    if (since && !(db->flags & PDB_QUIET))
        mx_info("policy database reachable again after %lld ms", now_ms() - since);
}

/* login_refused - a connect error that is the configuration's fault: the
 * server answered and refused the user, password or database name */
static int login_refused(unsigned e)
{
    return e == ER_ACCESS_DENIED_ERROR || e == ER_DBACCESS_DENIED_ERROR
        || e == ER_BAD_DB_ERROR || e == ER_ACCESS_DENIED_NO_PASSWORD_ERROR
        || e == CR_AUTH_PLUGIN_CANNOT_LOAD;
}

/* node_failed - node I failed (HOLD: skip it for a while); log a node of
 * a list once per failure */
static void node_failed(struct pdb *db, int i, int hold, const char *why)
{
    int     first;
    const struct pdb_node *nd = &db->nodes.v[i];

    pthread_mutex_lock(&db->lock);
    first = pdb_node_fail(&db->nodes, i, hold, now_ms());
    pthread_mutex_unlock(&db->lock);
    if (first && db->nodes.n > 1 && !(db->flags & PDB_QUIET))
        mx_warn("policy database node %.100s:%u unusable, skipped for %lld s: %.200s",
                nd->host, nd->port, db->nodes.hold_ms / 1000, why);
}

/* node_ok - node I answered; log a node of a list back in use */
static void node_ok(struct pdb *db, int i)
{
    int     back;

    pthread_mutex_lock(&db->lock);
    back = pdb_node_ok(&db->nodes, i);
    pthread_mutex_unlock(&db->lock);
    if (back && db->nodes.n > 1 && !(db->flags & PDB_QUIET))
        mx_info("policy database node %.100s:%u in use again",
                db->nodes.v[i].host, db->nodes.v[i].port);
}

/* open_node - connect C to node I and check it is usable; -1 with WHY */
static int open_node(struct pdb *db, struct pdb_conn *c, int i, char *why, size_t whylen)
{
    unsigned t = db->timeout, e = 0;
    char    off = 0;
    const struct pdb_node *nd = &db->nodes.v[i];
    const char *host = *nd->host ? nd->host : 0;
    const char *sock = *db->socket ? db->socket : 0;

    if ((c->my = mysql_init(0)) == 0) {
        snprintf(why, whylen, "mysql_init: out of memory");
        return -1;
    }
    mysql_options(c->my, MYSQL_OPT_CONNECT_TIMEOUT, &t);
    mysql_options(c->my, MYSQL_OPT_READ_TIMEOUT, &t);
    mysql_options(c->my, MYSQL_OPT_WRITE_TIMEOUT, &t);
    mysql_options(c->my, MYSQL_OPT_RECONNECT, &off);
    mysql_options(c->my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_options(c->my, MYSQL_INIT_COMMAND, "SET time_zone = '+00:00'");
    if (mysql_real_connect(c->my, sock ? 0 : host, db->user, db->password, db->database,
                           nd->port, sock, 0) == 0) {
        e = mysql_errno(c->my);
        snprintf(why, whylen, "connect to %.100s:%u: %.120s", sock ? sock : host ? host : "localhost",
                 nd->port, mysql_error(c->my));
    } else if (pdb_node_usable(c->my, &c->galera, &e, why, whylen) == 0) {
        c->node = i;
        return 0;
    }
    pthread_mutex_lock(&db->lock);
    db->refused = login_refused(e);
    pthread_mutex_unlock(&db->lock);
    pdb_conn_drop(c);
    return -1;
}

/* connect_conn - open C->my on the first usable node; -1 with the reason
 * noted.  *SLOW counts tries that took the whole timeout: after two, stop. */
int     pdb_conn_connect(struct pdb *db, struct pdb_conn *c, int *slow)
{
    char    why[256] = "no database node usable now (all skipped after failures)";

    for (int from = 0; *slow < 2;) {
        long long t0 = now_ms();
        int     i;

        pthread_mutex_lock(&db->lock);
        i = pdb_node_pick(&db->nodes, from, t0);
        if (i >= 0)
            c->gen = db->nodes.v[i].gen;
        pthread_mutex_unlock(&db->lock);
        if (i < 0)
            break;
        if (open_node(db, c, i, why, sizeof(why)) == 0)
            return 0;
        if (now_ms() - t0 >= 1000LL * db->timeout - 100)
            ++*slow;
        node_failed(db, i, 1, why);
        from = i + 1;
    }
    note_error(db, -1, 1, why);
    return -1;
}

/* retry_safe - may the statement run again after a lost connection?  Not
 * a write that adds a row each time, once it may have reached the server */
static int retry_safe(int slot, const char *sql, int sent)
{
    if (!sent)
        return 1;
    if (slot >= 0)
        return !(PDB_ONCE & (1u << slot));
    while (*sql == ' ' || *sql == '(')
        sql++;
    return strncasecmp(sql, "SELECT", 6) == 0 || strncasecmp(sql, "SHOW", 4) == 0;
}

/* exec_conflicts - pdb_stmt_exec, again after a Galera certification conflict
 * (deadlock error on an autocommit statement: nothing of it was kept) */
static int exec_conflicts(struct pdb *db, struct pdb_conn *c, int slot, const char *sql,
                          const struct pdb_val *in, int nin, struct pdb_col *out, int nout,
                          pdb_row_fn fn, void *ctx, long long *affected,
                          unsigned *err_no, int *sent, char *why, size_t whylen)
{
    int     causal = db->causal && c->galera && slot >= 0 && (PDB_CAUSAL & (1u << slot));

    for (int t = 1;; t++) {
        *err_no = 0;
        if (pdb_stmt_exec(c->my, slot >= 0 ? &c->st[slot] : 0, sql, causal, in, nin,
                          out, nout, fn, ctx, affected, err_no, sent, why, whylen) == 0)
            return 0;
        if (*err_no != ER_LOCK_DEADLOCK || t >= PDB_CONFLICT_TRIES)
            return -1;
        nanosleep(&(struct timespec) {0, 5000000L * t}, 0);
    }
}

/* node_trouble - an error that says the node, not the statement, is at
 * fault: 1047 (WSREP not ready), or on Galera a lock wait timeout: seen
 * (make scale) from a node leaving the primary component mid-statement;
 * a real row lock wait outlasts mysql_timeout (innodb_lock_wait_timeout
 * is 50 s by default) */
static int node_trouble(const struct pdb_conn *c, unsigned err_no)
{
    return err_no == ER_UNKNOWN_COM_ERROR || (c->galera && err_no == ER_LOCK_WAIT_TIMEOUT);
}

/* thread_ready - mysql_thread_init once per thread */
void    pdb_thread_ready_now(void)
{
    if (!pdb_thread_ready) {
        mysql_thread_init();
        pthread_once(&pdb_thread_once, thread_key_make);
        (void) pthread_setspecific(pdb_thread_key, &pdb_thread_ready);
        pdb_thread_ready = 1;
    }
}

/* may_retry - after a lost connection on node I: is another try worth it?
 * One server: only when the failure was quick and not on a new connection.
 * Several: when a node is left to try. */
static int may_retry(struct pdb *db, int i, int slow, int fresh)
{
    int     any;

    if (db->nodes.n == 1)
        return !slow && !fresh;
    pthread_mutex_lock(&db->lock);
    any = 0;
    for (int j = 0; j < db->nodes.n && !any; j++)
        any = db->nodes.v[j].hold_until <= now_ms() && (j != i || !fresh);
    pthread_mutex_unlock(&db->lock);
    return any;
}

int     pdb_run(struct pdb *db, int slot, const char *sql,
                const struct pdb_val *in, int nin,
                struct pdb_col *out, int nout, pdb_row_fn fn, void *ctx,
                long long *affected)
{
    char    why[256];
    int     slow = 0;

    pdb_thread_ready_now();
    if (pdb_tx_mine(db))        /* inside this thread's transaction */
        return pdb_tx_run(db, slot, sql, in, nin, out, nout, fn, ctx, affected);
    for (int attempt = 0; attempt < 2; attempt++) {
        int     stale = 0, fresh = 0, sent = 0, lost, node;
        struct pdb_conn *c = pdb_conn_acquire(db, &stale);
        unsigned err_no = 0;
        long long t0;

        if (c == 0) {
            note_error(db, slot, 0, "no free database connection within mysql_timeout");
            return -1;
        }
        if (stale)
            pdb_conn_drop(c);
        if (c->my == 0) {
            if (pdb_conn_connect(db, c, &slow) < 0) {
                pdb_conn_release(db, c);
                return -1;
            }
            fresh = 1;
        }
        why[0] = 0;
        t0 = now_ms();
        node = c->node;
        if (exec_conflicts(db, c, slot, sql, in, nin, out, nout, fn, ctx, affected,
                           &err_no, &sent, why, sizeof(why)) == 0) {
            pdb_conn_release(db, c);
            node_ok(db, node);
            note_ok(db, slot);
            return 0;
        }
        lost = err_no >= 2000 && err_no < 3000;     /* client error: connection */
        if (!lost && !node_trouble(c, err_no)) {    /* an SQL error */
            pdb_conn_release(db, c);
            note_error(db, slot, 0, why);
            return -1;
        }
        if (now_ms() - t0 >= 1000LL * db->timeout - 100)
            slow++;
        pdb_conn_drop(c);
        pdb_conn_release(db, c);
        /* hold the node when it hung, is not ready (1047), or failed a new
         * connection; a quick loss of an old one may be a restart: try again */
        node_failed(db, node, slow || fresh || !lost, why);
        if (attempt == 0 && slow < 2 && retry_safe(slot, sql, sent && lost)
            && may_retry(db, node, slow, fresh && lost))
            continue;
        note_error(db, slot, 1, why);
        return -1;
    }
    return -1;
}

const char *pdb_error(struct pdb *db)
{
    return db->err;
}

int     pdb_is_down(struct pdb *db)
{
    int     d;

    pthread_mutex_lock(&db->lock);
    d = db->down;
    pthread_mutex_unlock(&db->lock);
    return d;
}

int     pdb_is_refused(struct pdb *db)
{
    int     r;

    pthread_mutex_lock(&db->lock);
    r = db->down && db->refused;
    pthread_mutex_unlock(&db->lock);
    return r;
}

void    pdb_thread_end(void)
{
    if (pdb_thread_ready) {
        (void) pthread_setspecific(pdb_thread_key, 0);
        mysql_thread_end();
        pdb_thread_ready = 0;
    }
}
