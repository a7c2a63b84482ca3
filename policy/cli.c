/*
 * cli.c - argument helpers shared by the mxdock-policy verbs, and init-db.
 *
 *   cli_parse      options (--name[=value]) and positionals
 *   cli_opt        one option's value
 *   cli_db         the quiet connection pool for a command
 *   cli_db_error   the one-line database message and its exit code
 *   cli_db_error_on  the same, saying what failed
 *   cli_duration   "30m", "2h", "1d" -> seconds
 *   cli_json_str   a JSON string literal
 *   cli_init_db    create or upgrade the tables
 *
 * Messages go to stderr as one line naming the input; the pool is closed
 * by the caller.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "schema.h"

int     cli_parse(struct cli *c, int argc, char **argv, const char *allowed,
                  int minpos, int maxpos)
{
    c->npos = c->nopt = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *eq;
        char    name[64];
        size_t  n;

        if (strncmp(a, "--", 2) != 0 || a[2] == 0) {
            if (c->npos >= maxpos || c->npos >= CLI_MAXARG) {
                fprintf(stderr, "%s: unexpected argument \"%.100s\" (see -h)\n", c->prog, a);
                return -1;
            }
            c->pos[c->npos++] = a;
            continue;
        }
        n = (eq = strchr(a, '=')) ? (size_t) (eq - a - 2) : strlen(a + 2);
        snprintf(name, sizeof(name), "%.*s%s", (int) (n < 50 ? n : 50), a + 2, eq ? "=" : "");
        if (!conf_list_has(allowed, name) || c->nopt >= CLI_MAXARG) {
            fprintf(stderr, "%s: unknown option \"%.100s\" (see -h)\n", c->prog, a);
            return -1;
        }
        c->optname[c->nopt] = a + 2;
        c->optval[c->nopt++] = eq ? eq + 1 : "";
    }
    if (c->npos < minpos) {
        fprintf(stderr, "%s: missing argument (see -h)\n", c->prog);
        return -1;
    }
    return 0;
}

const char *cli_opt(const struct cli *c, const char *name, const char *def)
{
    size_t  n = strlen(name);

    for (int i = 0; i < c->nopt; i++)
        if (strncmp(c->optname[i], name, n) == 0
            && (c->optname[i][n] == 0 || c->optname[i][n] == '='))
            return c->optval[i];
    return def;
}

struct pdb *cli_db(const struct cli *c)
{
    struct pdb *db = pdb_open(c->conf, 1, PDB_QUIET);

    if (db == 0) {
        fprintf(stderr, "%s: out of memory\n", c->prog);
        exit(EX_OSERR);
    }
    return db;
}

int     cli_db_error(const struct cli *c, struct pdb *db)
{
    return cli_db_error_on(c, db, 0);
}

int     cli_db_error_on(const struct cli *c, struct pdb *db, const char *what)
{
    int     refused = pdb_is_refused(db), down = pdb_is_down(db);

    fprintf(stderr, "%s: %s%s%sdatabase %s: %s\n", c->prog, what ? "cannot " : "",
            what ? what : "", what ? ": " : "",
            refused ? "refused the login (check mysql_user, mysql_password, mysql_database)"
            : down ? "unreachable" : "error", pdb_error(db));
    /* refused login, a statement the server refuses (a wrong quota_query,
     * no init-db): the configuration's fault; unreachable: try later */
    return down && !refused ? EX_UNAVAILABLE : EX_CONFIG;
}

long long cli_duration(const char *s)
{
    char   *end;
    long long n = strtoll(s, &end, 10);
    static const char units[] = "smhdw";
    static const long long mult[] = {1, 60, 3600, 86400, 604800};
    const char *u;

    if (end == s || n < 0 || n > CLI_DURATION_MAX)
        return -1;
    if (*end == 0)
        return n;
    if (end[1] != 0 || (u = strchr(units, *end)) == 0 || n > CLI_DURATION_MAX / mult[u - units])
        return -1;                              /* "5000000w" is not 100 years */
    return n * mult[u - units];
}

void    cli_json_str(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (; *s; s++) {
        unsigned char ch = (unsigned char) *s;

        if (ch == '"' || ch == '\\')
            fprintf(fp, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(fp, "\\u%04x", ch);
        else
            fputc(ch, fp);
    }
    fputc('"', fp);
}

int     cli_init_db(struct cli *c, int argc, char **argv)
{
    struct pdb *db;
    int     from, rc = 0;

    if (cli_parse(c, argc, argv, "", 0, 0) < 0)
        return EX_USAGE;
    db = cli_db(c);
    if (schema_upgrade(db, &from) < 0)
        rc = cli_db_error(c, db);
    else if (from >= SCHEMA_VERSION)
        printf("policy tables are up to date (version %d)\n", from);
    else
        printf("policy tables %s to version %d\n", from ? "upgraded" : "created",
               SCHEMA_VERSION);
    pdb_close(db);
    return rc;
}
