/*
 * mxdock-dns - the DNS side of a mail domain, through the PowerDNS REST API.
 *
 *   mxdock-dns [-c FILE] VERB [ARGS]      (see usage() or docs/DNS.md)
 *
 * A thin main: pick the command from the table, check its options and the
 * number of its arguments (usage errors come before configuration
 * errors), read the configuration, hand the command its arguments.  Each command writes its own one-line error and
 * returns a sysexits code.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "dns_cli.h"
#include "dns_help.h"

static int cmd_config_check(struct cli *c)
{
    printf("%s: configuration %s is valid\n", c->prog, c->conf->path);
    return 0;
}

static const struct command {
    const char *verb;
    const char *options;
    int     (*fn)(struct cli *);
    int     minpos, maxpos;             /* positional arguments */
    const char *usage;
} commands[] = {
    {"create", "template=,ip=", cmd_create, 1, 1, "create DOMAIN [--template=NAME] [--ip=ADDR]..."},
    {"sync", "dry-run,only=,force,json", cmd_sync, 1, 1,
     "sync DOMAIN [--dry-run] [--only=TYPES] [--force] [--json]"},
    {"diff", "only=,force,json", cmd_diff, 1, 1, "diff DOMAIN [--only=TYPES] [--force] [--json]"},
    {"delete", "records-only,purge-keys", cmd_delete, 1, 1,
     "delete DOMAIN [--records-only] [--purge-keys]"},
    {"list", "json", cmd_list, 0, 0, "list [--json]"},
    {"records", "type=,json", cmd_records, 1, 1, "records DOMAIN [--type=T] [--json]"},
    {"add", "ttl=,priority=", cmd_add, 4, 4,
     "add DOMAIN NAME TYPE CONTENT [--ttl=3600] [--priority=N]"},
    {"delete-record", "type=,name=,value=", cmd_delete_record, 1, 1,
     "delete-record DOMAIN --type=T --name=N [--value=V]"},
    {"check", "json", cmd_check, 1, 1, "check DOMAIN [--json]"},
    {"config-check", "", cmd_config_check, 0, 0, "config-check"},
    {"mta-sts-policy", "", cmd_mta_sts_policy, 1, 1, "mta-sts-policy DOMAIN"},
    {"template", "json", cmd_template, 1, 3, "template list [--json] | template show NAME [DOMAIN]"},
    {"dnssec", "algorithm=,finish,json", cmd_dnssec, 2, 2,
     "dnssec enable|disable|status|ds|rollover DOMAIN [--algorithm=A] [--finish] [--json]"},
};

static void usage(FILE *f)
{
    fputs("usage: mxdock-dns [-c FILE] VERB [ARGS]\n"
          "  create DOMAIN [--template=NAME] [--ip=ADDR]...   make or reconcile the zone\n"
          "  sync DOMAIN [--dry-run] [--only=TYPES] [--force] [--json]\n"
          "                          reconcile: one GET, <= one PATCH; drift kept unless --force\n"
          "  diff DOMAIN [--only=TYPES] [--force] [--json]    what sync would do, and why\n"
          "  delete DOMAIN [--records-only] [--purge-keys]    remove the zone (or mxdock's records)\n"
          "  list [--json]                                    every zone\n"
          "  records DOMAIN [--type=T] [--json]               the records of a zone\n"
          "  add DOMAIN NAME TYPE CONTENT [--ttl=N] [--priority=N]\n"
          "  delete-record DOMAIN --type=T --name=N [--value=V]\n"
          "  check DOMAIN [--json]                            ask the servers: ok/missing/stale\n"
          "  config-check                                     validate the configuration\n"
          "  mta-sts-policy DOMAIN                            print the MTA-STS policy\n"
          "  template list [--json] | template show NAME [DOMAIN]\n"
          "  dnssec enable DOMAIN [--algorithm=ecdsap256sha256|ed25519]\n"
          "  dnssec disable|status|ds DOMAIN;  dnssec rollover DOMAIN [--finish]\n"
          "exit codes: 0 ok (sync: drift kept and listed too); 1 check: records not ok,\n  diff: sync has something to do; 64 usage; 65 bad input or\n"
          "  PowerDNS 400/422; 66 no such zone (404); 69 PowerDNS unreachable;\n"
          "  73 already exists (409) or cannot write; 75 timeout; 76 unexpected answer;\n"
          "  77 wrong API key (401/403); 78 configuration\n"
          "examples:\n"
          "  mxdock-dns create example.com\n"
          "  mxdock-dns diff example.com --json | jq .changes\n"
          "  mxdock-dns sync --help       (every verb: usage, examples, exit codes)\n", f);
}

/* global_opts - -c FILE, -h, --help before the verb, into C; *FIRST is the
 * verb's index.  Returns -1 to go on, else the exit code (usage written). */
static int global_opts(struct cli *c, int argc, char **argv, int *first)
{
    int     i;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--")) {
            i++;
            break;
        }
        if (!strcmp(argv[i], "-c") && i + 1 < argc) {
            c->conf_path = argv[++i];
        } else if (!strncmp(argv[i], "-c", 2) && argv[i][2]) {
            c->conf_path = argv[i] + 2;
        } else {
            fprintf(stderr, "mxdock-dns: %s \"%.60s\" (see mxdock-dns --help)\n",
                    !strcmp(argv[i], "-c") ? "option needs a FILE:" : "unknown option",
                    argv[i]);
            return EX_USAGE;
        }
    }
    *first = i;
    return -1;
}

/* run - the command CMD with the arguments after the verb: usage is
 * checked before the configuration is read. */
static int run(struct cli *c, const struct command *cmd, int argc, char **argv)
{
    int     rc;

    if ((rc = cli_parse(c, argc, argv, cmd->options)))
        return rc;
    if (c->a.npos < cmd->minpos || c->a.npos > cmd->maxpos) {
        cli_err(c, "usage: %s", cmd->usage);
        return EX_USAGE;
    }
    c->conf = conf_load_or_exit(c->prog, c->conf_path);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmd->fn(c);
    curl_global_cleanup();
    conf_free(c->conf);
    return rc;
}

int     main(int argc, char **argv)
{
    struct cli c = {"mxdock-dns", NULL, NULL, {0}};
    int     first = 1, rc;

    if ((rc = global_opts(&c, argc, argv, &first)) >= 0)
        return rc;
    if (first < argc && !strcmp(argv[first], "help")) {
        if (first + 1 < argc && dns_help(argv[first + 1], stdout) == 0)
            return 0;
        usage(stdout);
        return 0;
    }
    if (first < argc && dns_help_wanted(argc - first - 1, argv + first + 1)
        && dns_help(argv[first], stdout) == 0)
        return 0;
    for (size_t i = 0; first < argc && i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[first], commands[i].verb))
            return run(&c, &commands[i], argc - first - 1, argv + first + 1);
    if (first < argc) {
        fprintf(stderr, "mxdock-dns: unknown verb \"%.40s\" (see mxdock-dns --help)\n",
                argv[first]);
        return EX_USAGE;
    }
    usage(stderr);
    return EX_USAGE;
}
