/*
 * cli_quota.c - mxdock-policy quota show|set-usage, watch-log and probe.
 *
 *   cli_quota      quota show (lookup + the RCPT decision), set-usage
 *   cli_watch_log  follow mail logs (logwatch.c)
 *   cli_probe      decisions through policy.h for lines on stdin
 *
 * set-usage writes mailbox_usage for the account that owns ADDRESS in the
 * documented schema (emails.name); other layouts feed their own table.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "log.h"
#include "logscan.h"
#include "policy.h"
#include "quota.h"

static const char sql_owner[] =
    "SELECT name FROM emails WHERE address = ? AND type <> 'list' LIMIT 1";
static const char sql_set_usage[] =
    "INSERT INTO mailbox_usage (name, used_bytes, updated_at) VALUES (?, ?, UTC_TIMESTAMP()) "
    "ON DUPLICATE KEY UPDATE used_bytes = VALUES(used_bytes), updated_at = VALUES(updated_at)";

static const char *action_name(enum policy_action a)
{
    return a == POLICY_CONTINUE ? "accept" : a == POLICY_REJECT ? "reject" : "tempfail";
}

static void show_text(const char *addr, const struct quota_info *qi,
                      const struct policy_decision *d, int enabled)
{
    printf("address: %s\n", addr);
    if (!qi->found) {
        printf("lookup: no row for %s or its catch-all: not a local mailbox, no decision\n", addr);
        return;
    }
    printf("lookup: %s\n", qi->catchall ? "catch-all (@domain)" : "address");
    if (qi->quota > 0)
        printf("quota: %lld bytes\n", qi->quota);
    else
        printf("quota: unlimited\n");
    printf("used: %lld bytes\n", qi->used);
    if (d->action == POLICY_CONTINUE)
        printf("decision: accept%s%s\n", d->header[0] ? "; warning: " : "", d->header);
    else
        printf("decision: %s %s %s %s\n", action_name(d->action), d->rcode, d->xcode, d->text);
    if (!enabled)
        printf("note: quota_enable = no: mxdock-milter takes no quota decision\n");
}

static void show_json(const char *addr, const struct quota_info *qi,
                      const struct policy_decision *d)
{
    printf("{\"address\": ");
    cli_json_str(stdout, addr);
    printf(", \"found\": %s, \"catchall\": %s, \"quota\": %lld, \"used\": %lld, \"action\": \"%s\"",
           qi->found ? "true" : "false", qi->catchall ? "true" : "false", qi->quota, qi->used,
           action_name(d->action));
    printf(", \"reply\": ");
    if (d->action == POLICY_CONTINUE)
        printf("\"\"");
    else {
        char    reply[300];

        snprintf(reply, sizeof(reply), "%s %s %s", d->rcode, d->xcode, d->text);
        cli_json_str(stdout, reply);
    }
    printf(", \"warning\": ");
    cli_json_str(stdout, d->header);
    printf("}\n");
}

static int do_show(struct cli *c, struct pdb *db, const char *addr)
{
    const char *sz = cli_opt(c, "size", "0");
    char    rcode[4], xcode[16];
    unsigned long size;
    struct quota_info qi;
    struct policy_decision d;

    if (policy_parse_size(sz, &size) < 0) {
        fprintf(stderr, "%s: bad size \"%.40s\" (bytes, 0 to %lu)\n", c->prog, sz, ULONG_MAX);
        return EX_DATAERR;
    }
    if (quota_parse_reply(c->conf->quota_reply, rcode, xcode) < 0) {
        fprintf(stderr, "%s: quota_reply \"%.40s\" is not \"4xx 4.x.x\" or \"5xx 5.x.x\"\n",
                c->prog, c->conf->quota_reply);
        return EX_CONFIG;
    }
    if (quota_lookup(db, c->conf->quota_query, 0, 0, addr, &qi) < 0)
        return cli_db_error(c, db);
    quota_decide(&qi, addr, size, rcode, xcode, c->conf->quota_warn_percent, &d);
    if (cli_opt(c, "json", 0))
        show_json(addr, &qi, &d);
    else
        show_text(addr, &qi, &d, (int) c->conf->quota_enable);
    return 0;
}

static int owner_row(void *ctx, const struct pdb_col *col, int n)
{
    (void) n;
    snprintf(ctx, 256, "%s", col[0].s);
    return 1;
}

static int do_set_usage(struct cli *c, struct pdb *db, const char *addr)
{
    char    name[256] = "";
    unsigned long n;
    long long bytes;
    struct pdb_val in[2] = {{PDB_TEXT, 0, addr, strlen(addr)}};
    struct pdb_col col = {.type = PDB_TEXT};

    if (policy_parse_size(c->pos[2], &n) < 0 || n > LLONG_MAX) {
        fprintf(stderr, "%s: bad byte count \"%.40s\" (0 to %lld)\n", c->prog, c->pos[2],
                LLONG_MAX);
        return EX_DATAERR;
    }
    bytes = (long long) n;
    if (pdb_run(db, -1, sql_owner, in, 1, &col, 1, owner_row, name, 0) < 0)
        return cli_db_error(c, db);
    if (name[0] == 0) {
        fprintf(stderr, "%s: no account has the address \"%.100s\"\n", c->prog, addr);
        return EX_DATAERR;
    }
    in[0] = (struct pdb_val) {PDB_TEXT, 0, name, strlen(name)};
    in[1] = (struct pdb_val) {PDB_INT, bytes, 0, 0};
    if (pdb_run(db, PDB_S_SET_USAGE, sql_set_usage, in, 2, 0, 0, 0, 0, 0) < 0)
        return cli_db_error(c, db);
    printf("usage of %s (%s) set to %lld bytes\n", name, addr, bytes);
    return 0;
}

int     cli_quota(struct cli *c, int argc, char **argv)
{
    char    addr[QUOTA_ADDR_MAX];
    struct pdb *db;
    int     rc, show = argc > 0 && strcmp(argv[0], "show") == 0;

    if (!show && !(argc > 0 && strcmp(argv[0], "set-usage") == 0)) {
        fprintf(stderr, "%s: quota: want show or set-usage (see -h)\n", c->prog);
        return EX_USAGE;
    }
    if (cli_parse(c, argc, argv, show ? "json,size=" : "", show ? 2 : 3, show ? 2 : 3) < 0)
        return EX_USAGE;
    if (quota_normalize(c->pos[1], addr, sizeof(addr)) < 0) {
        fprintf(stderr, "%s: not a mail address: \"%.100s\"\n", c->prog, c->pos[1]);
        return EX_DATAERR;
    }
    db = cli_db(c);
    rc = show ? do_show(c, db, addr) : do_set_usage(c, db, addr);
    pdb_close(db);
    return rc;
}

int     cli_watch_log(struct cli *c, int argc, char **argv)
{
    struct logwatch_opts o = {0, 0, 0, 250};
    struct pdb *db;
    int     rc;

    if (cli_parse(c, argc, argv, "state=,from-start,once", 1, CLI_MAXARG) < 0)
        return EX_USAGE;
    o.state = cli_opt(c, "state", "/var/lib/mxdock/watch-log.state");
    o.from_start = cli_opt(c, "from-start", 0) != 0;
    o.once = cli_opt(c, "once", 0) != 0;
    if ((db = pdb_open(c->conf, 1, 0)) == 0)
        return EX_OSERR;
    rc = logwatch_run(db, (char **) c->pos, c->npos, &o);
    pdb_close(db);
    return rc;
}

/* probe_line - "connect IP", "rcpt ADDR [SIZE]" or "eom ADDR SIZE" */
static void probe_line(struct policy *p, char *line)
{
    char    verb[16], arg[512], sz[32] = "0";
    unsigned long size = 0;
    struct policy_decision d;
    int     n = sscanf(line, "%15s %511s %31s", verb, arg, sz);

    if (n < 2 || policy_parse_size(sz, &size) < 0) {
        printf("error: want \"connect IP\", \"rcpt ADDR [SIZE]\" or \"eom ADDR SIZE\"\n");
        return;
    }
    if (strcmp(verb, "connect") == 0)
        policy_connect(p, arg, &d);
    else if (strcmp(verb, "rcpt") == 0)
        policy_rcpt(p, arg, size, &d);
    else if (strcmp(verb, "eom") == 0)
        policy_eom(p, arg, size, &d);
    else {
        printf("error: unknown request \"%.16s\"\n", verb);
        return;
    }
    if (d.action == POLICY_CONTINUE)
        printf("accept%s%s\n", d.header[0] ? " warning: " : "", d.header);
    else
        printf("%s %s %s %s\n", action_name(d.action), d.rcode, d.xcode, d.text);
}

int     cli_probe(struct cli *c, int argc, char **argv)
{
    struct policy *p;
    char    line[1024];

    if (cli_parse(c, argc, argv, "", 0, 0) < 0)
        return EX_USAGE;
    if ((p = policy_open(c->conf)) == 0) {
        fprintf(stderr, "%s: neither quota_enable nor authfail_enable is set\n", c->prog);
        return EX_CONFIG;
    }
    setvbuf(stdout, 0, _IOLBF, 0);
    while (fgets(line, sizeof(line), stdin))
        probe_line(p, line);
    policy_close(p);
    return 0;
}
