/*
 * mxdock-dns - the DNS side of a mail domain, through the PowerDNS REST API.
 *
 *   mxdock-dns [-c FILE] VERB [ARGS]      (see usage() or docs/DNS.md)
 *
 * A thin main: read the configuration, pick the command from the table,
 * hand it its arguments.  Each command writes its own one-line error and
 * returns a sysexits code.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "dns_cli.h"

static int cmd_config_check(struct cli *c)
{
    printf("%s: configuration %s is valid\n", c->prog, c->conf->path);
    return 0;
}

static const struct command {
    const char *verb;
    const char *options;
    int     (*fn)(struct cli *);
} commands[] = {
    {"create", "template=,ip=", cmd_create},
    {"sync", "dry-run,only=,force,json", cmd_sync},
    {"diff", "only=,force,json", cmd_diff},
    {"delete", "records-only,purge-keys", cmd_delete},
    {"list", "json", cmd_list},
    {"records", "type=,json", cmd_records},
    {"add", "ttl=,priority=", cmd_add},
    {"delete-record", "type=,name=,value=", cmd_delete_record},
    {"check", "", cmd_check},
    {"config-check", "", cmd_config_check},
    {"mta-sts-policy", "", cmd_mta_sts_policy},
    {"template", "", cmd_template},
    {"dnssec", "algorithm=,finish,json", cmd_dnssec},
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
          "  check DOMAIN                                     ask the servers: ok/missing/stale\n"
          "  config-check                                     validate the configuration\n"
          "  mta-sts-policy DOMAIN                            print the MTA-STS policy\n"
          "  template list | template show NAME [DOMAIN]\n"
          "  dnssec enable DOMAIN [--algorithm=ecdsap256sha256|ed25519]\n"
          "  dnssec disable|status|ds DOMAIN;  dnssec rollover DOMAIN [--finish]\n"
          "exit codes: 0 ok; 1 check found records not ok; 64 usage; 65 bad input or\n"
          "  PowerDNS 400/422; 66 no such zone (404); 69 PowerDNS unreachable;\n"
          "  73 already exists (409) or cannot write; 75 timeout; 76 unexpected answer;\n"
          "  77 wrong API key (401/403); 78 configuration\n", f);
}

int     main(int argc, char **argv)
{
    struct cli c = {"mxdock-dns", NULL, NULL, {0}};
    int     opt, rc;

    for (int i = 1; i < argc && argv[i][0] == '-'; i++) {   /* --help before the verb */
        if (!strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        }
        i += !strcmp(argv[i], "-c");
    }
    while ((opt = getopt(argc, argv, "+c:h")) != -1) {
        if (opt == 'c') {
            c.conf_path = optarg;
        } else {
            usage(opt == 'h' ? stdout : stderr);
            return opt == 'h' ? 0 : EX_USAGE;
        }
    }
    if (optind < argc && !strcmp(argv[optind], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; optind < argc && i < sizeof commands / sizeof *commands; i++) {
        if (strcmp(argv[optind], commands[i].verb))
            continue;
        if ((rc = cli_parse(&c, argc - optind - 1, argv + optind + 1, commands[i].options)))
            return rc;
        c.conf = conf_load_or_exit(c.prog, c.conf_path);
        curl_global_init(CURL_GLOBAL_DEFAULT);
        rc = commands[i].fn(&c);
        curl_global_cleanup();
        conf_free(c.conf);
        return rc;
    }
    if (optind < argc) {
        fprintf(stderr, "mxdock-dns: unknown verb \"%.40s\" (see mxdock-dns --help)\n",
                argv[optind]);
        return EX_USAGE;
    }
    usage(stderr);
    return EX_USAGE;
}
