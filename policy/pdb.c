/*
 * pdb.c - the policy database pool (MariaDB Connector/C).
 *
 *   pdb_open        a pool of at most N connections, connecting lazily
 *   pdb_close       close every connection and free the pool
 *   pdb_run         one prepared statement: bind, execute, fetch rows
 *   pdb_error       the last error text (command-line use)
 *   pdb_is_down     is the database considered unreachable now?
 *   pdb_is_refused  did it refuse our login (a configuration error)?
 *   pdb_thread_end  mysql_thread_end now (threads that exit get it anyway)
 *
 * A lost connection is dropped, every idle connection of the same
 * generation with it, and the statement is retried once on a new one,
 * unless the failure took the whole timeout (a hung server: a retry would
 * only double the wait of a decision that must come within mysql_timeout).
 * While the database is down, a new connection is tried at most once per
 * PDB_RETRY_MS, so a dead server costs callers no waiting.  The outage is
 * logged once when it starts and once when it ends; the password is never
 * logged.  Connect, read and write timeouts are mysql_timeout.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mariadb/mysql.h>
#include <mariadb/errmsg.h>
#include <mariadb/mysqld_error.h>

#include "log.h"
#include "pdb.h"

#define PDB_RETRY_MS    1000
#define PDB_MAXPARAM    16

struct pdb_conn {
    MYSQL  *my;
    MYSQL_STMT *st[PDB_NSLOTS];
    unsigned gen;               /* pool generation it was opened in */
    int     busy;
};

struct pdb {
    char   *host, *socket, *user, *password, *database;
    unsigned port, timeout;
    int     flags;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int     max;
    struct pdb_conn *conns;
    unsigned gen;               /* bumped when a connection is lost */
    int     down;
    int     refused;            /* the last connect failed on login or database name */
    long long down_since, last_try;     /* monotonic ms */
    unsigned sql_logged;        /* slots whose SQL error was logged */
    char    err[256];
};

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
    db->host = dup_or_empty(c->mysql_host);
    db->socket = dup_or_empty(c->mysql_socket);
    db->user = dup_or_empty(c->mysql_user);
    db->password = dup_or_empty(c->mysql_password);
    db->database = dup_or_empty(c->mysql_database);
    db->port = (unsigned) c->mysql_port;
    db->timeout = (unsigned) c->mysql_timeout;
    db->flags = flags;
    db->max = maxconn > 0 ? maxconn : 1;
    db->conns = calloc((size_t) db->max, sizeof(*db->conns));
    pthread_mutex_init(&db->lock, 0);
    pthread_cond_init(&db->cond, 0);
    if (!db->host || !db->socket || !db->user || !db->password || !db->database
        || !db->conns) {
        pdb_close(db);
        return 0;
    }
    return db;
}

/* drop - close a connection and its statements */
static void drop(struct pdb_conn *c)
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
        drop(&db->conns[i]);
    pthread_mutex_destroy(&db->lock);
    pthread_cond_destroy(&db->cond);
    if (db->password)
        explicit_bzero(db->password, strlen(db->password));     /* memset may be elided before free */
    free(db->host);
    free(db->socket);
    free(db->user);
    free(db->password);
    free(db->database);
    free(db->conns);
    free(db);
}

/* acquire - a free slot (connected and current, if any); NULL on timeout.
 * *STALE says its connection predates a lost one and must be dropped. */
static struct pdb_conn *acquire(struct pdb *db, int *stale)
{
    struct timespec until;
    struct pdb_conn *pick = 0;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += db->timeout;
    pthread_mutex_lock(&db->lock);
    while (pick == 0) {
        for (int i = 0; i < db->max; i++) {
            struct pdb_conn *c = &db->conns[i];

            if (c->busy)
                continue;
            if (c->my && c->gen == db->gen) {
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
        *stale = pick->my != 0 && pick->gen != db->gen;
    }
    pthread_mutex_unlock(&db->lock);
    return pick;
}

static void release(struct pdb *db, struct pdb_conn *c)
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

/* connect_conn - open C->my; -1 with the reason noted */
static int connect_conn(struct pdb *db, struct pdb_conn *c)
{
    unsigned t = db->timeout;
    char    off = 0;
    const char *host = *db->host ? db->host : 0;
    const char *sock = *db->socket ? db->socket : 0;

    pthread_mutex_lock(&db->lock);
    if (db->down) {                     /* one thread tries, the others fail fast */
        if (now_ms() - db->last_try < PDB_RETRY_MS) {
            pthread_mutex_unlock(&db->lock);
            return -1;
        }
        db->last_try = now_ms();
    }
    c->gen = db->gen;
    pthread_mutex_unlock(&db->lock);
    if ((c->my = mysql_init(0)) == 0) {
        note_error(db, -1, 1, "mysql_init: out of memory");
        return -1;
    }
    mysql_options(c->my, MYSQL_OPT_CONNECT_TIMEOUT, &t);
    mysql_options(c->my, MYSQL_OPT_READ_TIMEOUT, &t);
    mysql_options(c->my, MYSQL_OPT_WRITE_TIMEOUT, &t);
    mysql_options(c->my, MYSQL_OPT_RECONNECT, &off);
    mysql_options(c->my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_options(c->my, MYSQL_INIT_COMMAND, "SET time_zone = '+00:00'");
    if (mysql_real_connect(c->my, sock ? 0 : host, db->user, db->password, db->database,
                           db->port, sock, 0) == 0) {
        char    why[256];

        unsigned e = mysql_errno(c->my);

        snprintf(why, sizeof(why), "connect to %s: %s", sock ? sock : host,
                 mysql_error(c->my));
        pthread_mutex_lock(&db->lock);
        db->refused = login_refused(e);
        pthread_mutex_unlock(&db->lock);
        drop(c);
        note_error(db, -1, 1, why);
        return -1;
    }
    return 0;
}

/* bind_params - IN onto the statement's markers */
static int bind_params(MYSQL_STMT *st, const struct pdb_val *in, int nin,
                       MYSQL_BIND *pb, unsigned long *lens, long long *nums)
{
    unsigned long n = mysql_stmt_param_count(st);

    if (n == 0)
        return 0;
    if (n > PDB_MAXPARAM || nin < 1)
        return -1;
    memset(pb, 0, sizeof(*pb) * n);
    for (unsigned long i = 0; i < n; i++) {
        const struct pdb_val *v = &in[i < (unsigned long) nin ? i : (unsigned long) nin - 1];

        if (v->type == PDB_INT) {
            nums[i] = v->n;
            pb[i].buffer_type = MYSQL_TYPE_LONGLONG;
            pb[i].buffer = &nums[i];
        } else {
            lens[i] = (unsigned long) v->len;
            pb[i].buffer_type = v->type == PDB_TEXT ? MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB;
            pb[i].buffer = (void *) v->s;
            pb[i].buffer_length = lens[i];
            pb[i].length = &lens[i];
        }
    }
    return mysql_stmt_bind_param(st, pb) ? -1 : 0;
}

/* fetch_rows - bind OUT as the result and hand each row to FN */
static int fetch_rows(MYSQL_STMT *st, struct pdb_col *out, int nout, pdb_row_fn fn, void *ctx)
{
    unsigned nf = mysql_stmt_field_count(st);
    MYSQL_BIND rb[PDB_MAXPARAM];
    my_bool nulls[PDB_MAXPARAM];
    char    scratch[64];
    unsigned long slen;
    int     r;

    if (nf == 0)
        return 0;
    if (nf > PDB_MAXPARAM || (int) nf < nout)
        return -2;
    memset(rb, 0, sizeof(rb));
    for (unsigned i = 0; i < nf; i++) {
        rb[i].is_null = &nulls[i];
        if ((int) i >= nout) {
            rb[i].buffer_type = MYSQL_TYPE_STRING;
            rb[i].buffer = scratch, rb[i].buffer_length = sizeof(scratch), rb[i].length = &slen;
        } else if (out[i].type == PDB_INT) {
            rb[i].buffer_type = MYSQL_TYPE_LONGLONG;
            rb[i].buffer = &out[i].n;
        } else {
            rb[i].buffer_type = MYSQL_TYPE_STRING;
            rb[i].buffer = out[i].s;
            rb[i].buffer_length = sizeof(out[i].s) - 1;
            rb[i].length = &out[i].len;
        }
    }
    if (mysql_stmt_bind_result(st, rb) || mysql_stmt_store_result(st))
        return -1;
    while ((r = mysql_stmt_fetch(st)) == 0 || r == MYSQL_DATA_TRUNCATED) {
        for (int i = 0; i < nout; i++) {
            out[i].null = nulls[i];
            if (out[i].type != PDB_INT) {
                if (out[i].len >= sizeof(out[i].s))
                    out[i].len = sizeof(out[i].s) - 1;
                out[i].s[nulls[i] ? 0 : out[i].len] = 0;
            }
        }
        if (fn && fn(ctx, out, nout))
            break;
    }
    r = (r == 1) ? -1 : 0;
    mysql_stmt_free_result(st);
    return r;
}

/* exec_on - run the statement on connection C; -1 with *ERRNO set */
static int exec_on(struct pdb_conn *c, int slot, const char *sql,
                   const struct pdb_val *in, int nin, struct pdb_col *out, int nout,
                   pdb_row_fn fn, void *ctx, long long *affected,
                   unsigned *err_no, char *why, size_t whylen)
{
    MYSQL_STMT *st = slot >= 0 ? c->st[slot] : 0;
    MYSQL_BIND pb[PDB_MAXPARAM];
    unsigned long lens[PDB_MAXPARAM];
    long long nums[PDB_MAXPARAM];
    int     rc = -1;

    if (st == 0) {
        if ((st = mysql_stmt_init(c->my)) == 0) {
            *err_no = mysql_errno(c->my);
            snprintf(why, whylen, "mysql_stmt_init: %s", mysql_error(c->my));
            return -1;
        }
        if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0)
            goto fail;
        if (slot >= 0)
            c->st[slot] = st;
    }
    if (bind_params(st, in, nin, pb, lens, nums) < 0) {
        snprintf(why, whylen, "binding %lu parameter(s) failed", mysql_stmt_param_count(st));
        goto done;
    }
    if (mysql_stmt_execute(st) != 0)
        goto fail;
    if ((rc = fetch_rows(st, out, nout, fn, ctx)) == -2) {
        snprintf(why, whylen, "query returns %u column(s), want %d",
                 mysql_stmt_field_count(st), nout);
        rc = -1;
        goto done;
    }
    if (rc < 0)
        goto fail;
    if (affected)
        *affected = (long long) mysql_stmt_affected_rows(st);
    goto done;
fail:
    rc = -1;
    *err_no = mysql_stmt_errno(st);
    snprintf(why, whylen, "%s", mysql_stmt_error(st));
done:
    if (slot < 0 || (rc < 0 && c->st[slot] != st)) {
        mysql_stmt_close(st);
    } else if (rc < 0) {
        mysql_stmt_close(st);
        c->st[slot] = 0;
    }
    return rc;
}

int     pdb_run(struct pdb *db, int slot, const char *sql,
                const struct pdb_val *in, int nin,
                struct pdb_col *out, int nout, pdb_row_fn fn, void *ctx,
                long long *affected)
{
    char    why[256];

    if (!pdb_thread_ready) {
        mysql_thread_init();
        pthread_once(&pdb_thread_once, thread_key_make);
        (void) pthread_setspecific(pdb_thread_key, &pdb_thread_ready);
        pdb_thread_ready = 1;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        int     stale = 0, fresh = 0;
        struct pdb_conn *c = acquire(db, &stale);
        unsigned err_no = 0;
        long long t0 = now_ms();

        if (c == 0) {
            note_error(db, slot, 0, "no free database connection within mysql_timeout");
            return -1;
        }
        if (stale)
            drop(c);
        if (c->my == 0) {
            if (connect_conn(db, c) < 0) {
                release(db, c);
                return -1;
            }
            fresh = 1;
        }
        why[0] = 0;
        if (exec_on(c, slot, sql, in, nin, out, nout, fn, ctx, affected,
                    &err_no, why, sizeof(why)) == 0) {
            release(db, c);
            note_ok(db, slot);
            return 0;
        }
        if (err_no >= 2000 && err_no < 3000) {  /* client error: connection */
            drop(c);
            release(db, c);
            pthread_mutex_lock(&db->lock);
            db->gen++;
            pthread_mutex_unlock(&db->lock);
            if (!fresh && attempt == 0 && now_ms() - t0 < 1000LL * db->timeout - 100)
                continue;
            note_error(db, slot, 1, why);
            return -1;
        }
        release(db, c);
        note_error(db, slot, 0, why);
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
