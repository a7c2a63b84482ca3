/*
 * cli_authfail.c - mxdock-policy authfail list|record|ban|unban|check|prune.
 *
 *   cli_authfail   dispatch the authfail sub-verbs
 *
 * Addresses are checked before any database work (EX_DATAERR); every
 * statement is prepared, so hostile text is only ever data.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>

#include "authfail.h"
#include "cli.h"
#include "fileio.h"
#include "policy.h"

/* iso - epoch seconds as UTC text, in BUF */
static const char *iso(long long t, char *buf, size_t len)
{
    time_t  tt = (time_t) t;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == 0 || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "%lld", t);
    return buf;
}

struct list_out {
    int     json, nbans, nfails;
    time_t  now;
};

static void print_ban(void *ctx, const struct authfail_ban_row *r)
{
    struct list_out *lo = ctx;
    char    t[32];
    int     active = r->until > lo->now;

    if (!lo->json) {
        printf("ban %s until %s (%s, window bans %lld): %s\n", r->ban, iso(r->until, t, sizeof(t)),
               active ? "active" : "expired", r->count, r->reason);
        return;
    }
    printf("%s\n    {\"ban\": ", lo->nbans++ ? "," : "");
    cli_json_str(stdout, r->ban);
    printf(", \"until\": %lld, \"until_utc\": \"%s\", \"active\": %s, \"count\": %lld, \"reason\": ",
           r->until, iso(r->until, t, sizeof(t)), active ? "true" : "false", r->count);
    cli_json_str(stdout, r->reason);
    printf("}");
}

static void print_fail(void *ctx, const struct authfail_fail_row *r)
{
    struct list_out *lo = ctx;
    char    t[32];

    if (!lo->json) {
        printf("failures %s: %lld in the window, last %s\n", r->ip, r->count,
               iso(r->last, t, sizeof(t)));
        return;
    }
    if (lo->nfails++ == 0)
        printf("\n  ],\n  \"failures\": [");
    printf("%s\n    {\"ip\": ", lo->nfails > 1 ? "," : "");
    cli_json_str(stdout, r->ip);
    printf(", \"count\": %lld, \"last\": %lld}", r->count, r->last);
}

static int do_list(struct cli *c, struct pdb *db)
{
    const char *ip = cli_opt(c, "ip", 0);
    struct list_out lo = {cli_opt(c, "json", 0) != 0, 0, 0, mx_now()};
    unsigned char a[16], b[16];
    char    norm[AUTHFAIL_IP_MAX];
    int     rc;

    if (ip && authfail_range(ip, norm, sizeof(norm), a, b) < 0) {
        fprintf(stderr, "%s: not an address: \"%.100s\"\n", c->prog, ip);
        return EX_DATAERR;
    }
    if (lo.json)
        printf("{\n  \"bans\": [");
    rc = authfail_list(db, ip ? norm : 0, lo.now - c->conf->authfail_window,
                       print_ban, print_fail, &lo);
    if (lo.json)
        printf("%s\n  ]\n}\n", lo.nfails ? "" : "\n  ],\n  \"failures\": [");
    return rc < 0 ? cli_db_error(c, db) : 0;
}

static int do_record(struct cli *c, struct pdb *db)
{
    int     rc = authfail_record(db, c->pos[0], cli_opt(c, "principal", ""),
                                 cli_opt(c, "protocol", "smtp"), 0, mx_now());

    if (rc == -2) {
        fprintf(stderr, "%s: not an address: \"%.100s\"\n", c->prog, c->pos[0]);
        return EX_DATAERR;
    }
    return rc < 0 ? cli_db_error(c, db) : 0;
}

static int do_ban(struct cli *c, struct pdb *db)
{
    const char *f = cli_opt(c, "for", 0);
    long long secs = f ? cli_duration(f) : c->conf->authfail_ban_time;
    time_t  now = mx_now();
    char    t[32];
    int     rc;

    if (secs <= 0) {
        fprintf(stderr, "%s: bad duration \"%.40s\" (e.g. 3600, 30m, 2h, 1d)\n", c->prog, f);
        return EX_DATAERR;
    }
    rc = authfail_ban(db, c->pos[0], secs, cli_opt(c, "reason", "manual ban"), now);
    if (rc == -2) {
        fprintf(stderr, "%s: not an address or prefix: \"%.100s\"\n", c->prog, c->pos[0]);
        return EX_DATAERR;
    }
    if (rc == -3) {
        fprintf(stderr, "%s: refused: \"%.100s\" holds ::ffff:0:0/96, where IPv4 clients are "
                "stored, so it would ban every IPv4 client too; ban 0.0.0.0/0 for IPv4 and "
                "IPv6 prefixes that leave ::ffff:0:0/96 out\n", c->prog, c->pos[0]);
        return EX_DATAERR;
    }
    if (rc < 0) {
        char    what[200];

        snprintf(what, sizeof(what), "store the ban of %.100s until %s", c->pos[0],
                 iso(now + secs, t, sizeof(t)));
        return cli_db_error_on(c, db, what);
    }
    printf("banned %s for %lld s, until %s\n", c->pos[0], secs, iso(now + secs, t, sizeof(t)));
    return 0;
}

static int do_unban(struct cli *c, struct pdb *db)
{
    long long n = 0;
    int     rc = authfail_unban(db, c->pos[0], &n);

    if (rc == -2) {
        fprintf(stderr, "%s: not an address or prefix: \"%.100s\"\n", c->prog, c->pos[0]);
        return EX_DATAERR;
    }
    if (rc < 0)
        return cli_db_error(c, db);
    printf("%s %s\n", n ? "unbanned" : "nothing to unban for", c->pos[0]);
    return 0;
}

/* do_prune - forget attempts older than the window, bans ended long ago */
static int do_prune(struct cli *c, struct pdb *db)
{
    const char *k = cli_opt(c, "keep-bans", "30d");
    long long keep = cli_duration(k), n;
    time_t  now = mx_now();

    if (keep < 0) {
        fprintf(stderr, "%s: bad duration \"%.40s\" (e.g. 30d)\n", c->prog, k);
        return EX_DATAERR;
    }
    if (authfail_prune(db, now - c->conf->authfail_window, now - keep, &n) < 0)
        return cli_db_error(c, db);
    printf("pruned %lld row(s)\n", n);
    return 0;
}

/* check_db_error - the decision printed is authfail_db_error_action's, not
 * the database's: say so, EX_UNAVAILABLE (EX_CONFIG for a refused login) */
static int check_db_error(struct cli *c, struct policy *p, const char *ip)
{
    int     down, refused;
    const char *why = policy_db_error(p, &down, &refused);

    fprintf(stderr, "%s: cannot check %s: database %s: %.200s (the line above is "
            "authfail_db_error_action = %s)\n", c->prog, ip,
            refused ? "refused the login (check mysql_user, mysql_password, mysql_database)"
            : down ? "unreachable" : "error", why, c->conf->authfail_db_error_action);
    return down && !refused ? EX_UNAVAILABLE : EX_CONFIG;
}

/* do_check - the decision mxdock-milter takes at connect, through policy.h */
static int do_check(struct cli *c)
{
    char    norm[AUTHFAIL_IP_MAX];
    struct policy *p;
    struct policy_decision d;
    int     rc;

    if (authfail_ip_normalize(c->pos[0], norm, sizeof(norm)) < 0) {
        fprintf(stderr, "%s: not an address: \"%.100s\"\n", c->prog, c->pos[0]);
        return EX_DATAERR;
    }
    c->conf->authfail_enable = 1;
    c->conf->quota_enable = 0;
    if ((p = policy_open(c->conf)) == 0)
        return EX_OSERR;
    policy_connect(p, norm, &d);
    if (d.action == POLICY_CONTINUE)
        printf("accept %s\n", norm);
    else
        printf("%s %s %s %s\n", d.action == POLICY_REJECT ? "reject" : "tempfail",
               d.rcode, d.xcode, d.text);
    rc = d.db_error ? check_db_error(c, p, norm) : 0;
    policy_close(p);
    return rc;
}

int     cli_authfail(struct cli *c, int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : "";
    struct pdb *db;
    int     rc;

    if (strcmp(sub, "list") == 0)
        rc = cli_parse(c, argc - 1, argv + 1, "ip=,json", 0, 0);
    else if (strcmp(sub, "record") == 0)
        rc = cli_parse(c, argc - 1, argv + 1, "principal=,protocol=", 1, 1);
    else if (strcmp(sub, "ban") == 0)
        rc = cli_parse(c, argc - 1, argv + 1, "for=,reason=", 1, 1);
    else if (strcmp(sub, "unban") == 0 || strcmp(sub, "check") == 0)
        rc = cli_parse(c, argc - 1, argv + 1, "", 1, 1);
    else if (strcmp(sub, "prune") == 0)
        rc = cli_parse(c, argc - 1, argv + 1, "keep-bans=", 0, 0);
    else {
        fprintf(stderr, "%s: authfail: want list, record, ban, unban, check or prune "
                "(see -h)\n", c->prog);
        return EX_USAGE;
    }
    if (rc < 0)
        return EX_USAGE;
    if (strcmp(sub, "check") == 0)
        return do_check(c);
    db = cli_db(c);
    rc = sub[0] == 'l' ? do_list(c, db) : sub[0] == 'r' ? do_record(c, db)
        : sub[0] == 'b' ? do_ban(c, db) : sub[0] == 'p' ? do_prune(c, db) : do_unban(c, db);
    pdb_close(db);
    return rc;
}
