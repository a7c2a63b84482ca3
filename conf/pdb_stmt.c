/*
 * pdb_stmt.c - one prepared statement on one connection (pdb.c's helper).
 *
 *   pdb_stmt_exec  prepare (or reuse), bind, execute, fetch rows
 *
 * A statement cached in *CACHE stays prepared for the next call; on any
 * error it is closed, so the next call prepares it again.  With CAUSAL the
 * text is prefixed with PDB_SYNC_PREFIX (SET STATEMENT wsrep_sync_wait = 1
 * FOR ...): the Galera node applies the cluster's earlier writes first.
 */
#include <stdlib.h>
#include <string.h>

#include "pdb_node.h"

#define PDB_MAXPARAM    16
#define PDB_SYNC_PREFIX "SET STATEMENT wsrep_sync_wait = 1 FOR "

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

/* terminate - a fetched text column NUL-terminated, its length cut to
 * what its buffer holds (TRUNC set when it was cut) */
static void terminate(struct pdb_col *col, int null)
{
    char   *buf = col->big ? col->big : col->s;
    unsigned long cap = col->big ? col->bigcap : sizeof(col->s);

    col->trunc = col->len >= cap;
    if (col->trunc)
        col->len = cap - 1;
    buf[null ? 0 : col->len] = 0;
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
            rb[i].buffer = out[i].big ? out[i].big : out[i].s;
            rb[i].buffer_length = (out[i].big ? out[i].bigcap : sizeof(out[i].s)) - 1;
            rb[i].length = &out[i].len;
        }
    }
    if (mysql_stmt_bind_result(st, rb) || mysql_stmt_store_result(st))
        return -1;
    while ((r = mysql_stmt_fetch(st)) == 0 || r == MYSQL_DATA_TRUNCATED) {
        for (int i = 0; i < nout; i++) {
            out[i].null = nulls[i];
            if (out[i].type != PDB_INT)
                terminate(&out[i], nulls[i]);
        }
        if (fn && fn(ctx, out, nout))
            break;
    }
    r = (r == 1) ? -1 : 0;
    mysql_stmt_free_result(st);
    return r;
}

/* prepare - ST from SQL, behind PDB_SYNC_PREFIX when CAUSAL; 0 or nonzero */
static int prepare(MYSQL_STMT *st, const char *sql, int causal)
{
    size_t  n = strlen(sql), p = sizeof(PDB_SYNC_PREFIX) - 1;
    char   *text;
    int     r;

    if (!causal)
        return mysql_stmt_prepare(st, sql, n);
    if ((text = malloc(p + n + 1)) == 0)
        return -1;
    memcpy(text, PDB_SYNC_PREFIX, p);
    memcpy(text + p, sql, n + 1);
    r = mysql_stmt_prepare(st, text, p + n);
    free(text);
    return r;
}

int     pdb_stmt_exec(MYSQL *my, MYSQL_STMT **cache, const char *sql, int causal,
                      const struct pdb_val *in, int nin, struct pdb_col *out, int nout,
                      pdb_row_fn fn, void *ctx, long long *affected,
                      unsigned *err_no, int *sent, char *why, size_t whylen)
{
    MYSQL_STMT *st = cache ? *cache : 0;
    MYSQL_BIND pb[PDB_MAXPARAM];
    unsigned long lens[PDB_MAXPARAM];
    long long nums[PDB_MAXPARAM];
    int     rc = -1;

    if (st == 0) {
        if ((st = mysql_stmt_init(my)) == 0) {
            *err_no = mysql_errno(my);
            snprintf(why, whylen, "mysql_stmt_init: %s", mysql_error(my));
            return -1;
        }
        if (prepare(st, sql, causal) != 0)
            goto fail;
        if (cache)
            *cache = st;
    }
    if (bind_params(st, in, nin, pb, lens, nums) < 0) {
        snprintf(why, whylen, "binding %lu parameter(s) failed", mysql_stmt_param_count(st));
        goto done;
    }
    *sent = 1;
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
    if (cache == 0 || rc < 0) {
        if (cache && *cache == st)
            *cache = 0;
        mysql_stmt_close(st);
    }
    return rc;
}
