/*
 * pdb_node.c - the nodes of a database pool (conf/pdb.c).
 *
 *   pdb_nodes_parse   mysql_host's "HOST[:PORT], ..." into nodes
 *   pdb_nodes_free    release them
 *   pdb_node_pick     the first node not held (claiming a failed one)
 *   pdb_node_better   is an earlier node worth trying again?
 *   pdb_node_fail     remember a failure: hold the node, drop its connections
 *   pdb_node_ok       forget a failure
 *   pdb_node_usable   is a Galera node Synced (wsrep_local_state_comment)?
 *
 * The order of the list is the order of preference.  A node that failed is
 * skipped for hold_ms; after that one caller tries it again while the others
 * keep using a later node, and a connection on a later node goes back to the
 * earlier one once that answers.  The client library's own host list
 * handling is not used: it tries the next host on a refused connection only,
 * not on a timeout, and not with spaces in the list.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mariadb/mysqld_error.h>

#include "conf.h"
#include "pdb_node.h"

int     pdb_nodes_parse(struct pdb_nodes *ns, const char *list, unsigned defport,
                        long long hold_ms)
{
    char    host[256];
    unsigned port;
    const char *cur = list;
    int     r, n = 0;

    memset(ns, 0, sizeof(*ns));
    ns->hold_ms = hold_ms;
    while (conf_host_next(&cur, host, sizeof(host), &port, defport) != 0)
        n++;
    if ((ns->v = calloc((size_t) (n ? n : 1), sizeof(*ns->v))) == 0)
        return -1;
    ns->v[0].port = defport;            /* "" = one node, the library's default host */
    for (cur = list; (r = conf_host_next(&cur, host, sizeof(host), &port, defport)) != 0;) {
        if (r < 0)
            continue;                   /* conf_load refused it already */
        memcpy(ns->v[ns->n].host, host, strlen(host) + 1);
        ns->v[ns->n++].port = port;
    }
    if (ns->n == 0)
        ns->n = 1;
    return 0;
}

void    pdb_nodes_free(struct pdb_nodes *ns)
{
    free(ns->v);
    ns->v = 0;
    ns->n = 0;
}

int     pdb_node_pick(struct pdb_nodes *ns, int from, long long now)
{
    for (int i = from < 0 ? 0 : from; i < ns->n; i++) {
        struct pdb_node *nd = &ns->v[i];

        if (nd->hold_until > now)
            continue;
        if (nd->failed)
            nd->hold_until = now + ns->hold_ms;
        return i;
    }
    return -1;
}

int     pdb_node_better(const struct pdb_nodes *ns, int i, long long now)
{
    for (int j = 0; j < i && j < ns->n; j++)
        if (ns->v[j].hold_until <= now)
            return 1;
    return 0;
}

int     pdb_node_fail(struct pdb_nodes *ns, int i, int hold, long long now)
{
    struct pdb_node *nd = &ns->v[i];
    int     was_ok = !nd->failed;

    nd->gen++;
    if (hold) {
        nd->failed = 1;
        nd->hold_until = now + ns->hold_ms;
    }
    return hold && was_ok;
}

int     pdb_node_ok(struct pdb_nodes *ns, int i)
{
    struct pdb_node *nd = &ns->v[i];
    int     was_failed = nd->failed;

    nd->failed = 0;
    nd->hold_until = 0;
    return was_failed;
}

/* query_text - the first column of the first row of SQL into OUT ("" = no
 * row); -1 with mysql_errno set on an error */
static int query_text(MYSQL *my, const char *sql, int col, char *out, size_t outlen)
{
    MYSQL_RES *res;
    MYSQL_ROW row;

    out[0] = 0;
    if (mysql_query(my, sql) != 0 || (res = mysql_store_result(my)) == 0)
        return -1;
    if ((row = mysql_fetch_row(res)) != 0 && (unsigned) col < mysql_num_fields(res)
        && row[col])
        snprintf(out, outlen, "%s", row[col]);
    mysql_free_result(res);
    return 0;
}

int     pdb_node_usable(MYSQL *my, int *galera, unsigned *err_no, char *why, size_t whylen)
{
    char    v[64];

    *galera = 0;
    if (query_text(my, "SELECT @@wsrep_on", 0, v, sizeof(v)) < 0) {
        *err_no = mysql_errno(my);
        if (*err_no == ER_UNKNOWN_SYSTEM_VARIABLE)
            return 0;                   /* not MariaDB, or built without wsrep */
        snprintf(why, whylen, "%s", mysql_error(my));
        return -1;
    }
    if (strcmp(v, "1") != 0)
        return 0;
    *galera = 1;
    if (query_text(my, "SHOW GLOBAL STATUS LIKE 'wsrep_local_state_comment'", 1, v,
                   sizeof(v)) < 0) {
        *err_no = mysql_errno(my);
        snprintf(why, whylen, "%s", mysql_error(my));
        return -1;
    }
    if (strcasecmp(v, "Synced") == 0)
        return 0;
    *err_no = ER_UNKNOWN_COM_ERROR;
    snprintf(why, whylen, "Galera node not Synced (wsrep_local_state_comment %.40s)", v);
    return -1;
}
