/*
 * mxdock-policy - administer the quota and auth-attempt policy.
 *
 *   mxdock-policy [-c FILE] VERB ...   (see usage() below)
 *
 * main() reads the configuration and dispatches to the verbs in cli.c
 * (init-db and the argument helpers), cli_authfail.c and cli_quota.c.
 * Errors: one line on stderr naming the bad input, and a <sysexits.h>
 * code: EX_USAGE for the command line, EX_DATAERR for a bad address or
 * number, EX_UNAVAILABLE when the database cannot be reached, EX_CONFIG
 * for the configuration file.  The database password comes from the
 * configuration only; it is never printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "dmarc_report.h"
#include "http.h"
#include "log.h"
#include "pdb.h"

static void usage(FILE *fp)
{
    fprintf(fp, "usage: mxdock-policy [-c FILE] VERB ...\n"
            "  init-db                                  create or upgrade the policy tables\n"
            "  authfail list [--ip=IP] [--json]         bans and failures in the window\n"
            "  authfail record IP [--principal=P] [--protocol=smtp]\n"
            "                                           count one failed login\n"
            "  authfail ban IP|CIDR [--for=1d] [--reason=TEXT]\n"
            "  authfail unban IP|CIDR                   lift the ban, forget the failures\n"
            "  authfail check IP                        the decision at connect\n"
            "  authfail prune [--keep-bans=30d]         forget old attempts and bans\n"
            "  quota show ADDRESS [--size=BYTES] [--json]\n"
            "                                           quota, usage and the RCPT decision\n"
            "  quota set-usage ADDRESS BYTES            store an account's usage\n"
            "  watch-log [--state=FILE] [--from-start] [--once] FILE...\n"
            "                                           record failed logins from mail logs\n"
            "  dmarc-report [--date=YYYY-MM-DD]         DMARC aggregate reports of a day, to files\n"
            "  dmarc-report send [--date=YYYY-MM-DD]    send the reports of the last\n"
            "                                           dmarc_report_days by SMTP, each once\n"
            "                                           (RFC 9990; docs/DMARC.md)\n"
            "  probe                                    decisions for lines on stdin:\n"
            "                                           connect IP | rcpt ADDR [SIZE] | eom ADDR SIZE\n"
            "  serve [-f]                               Dovecot's auth policy and Stalwart's\n"
            "                                           webhook over HTTP (docs/POLICY.md)\n"
            "  -h, --help                               this text; VERB [SUB] --help: the\n"
            "                                           command's own, with examples\n"
            "exit codes: 0 ok; 64 usage; 65 bad address, number or duration; 69 database\n"
            "  unreachable; 71 cannot set up; 73 cannot write; 78 configuration (or the\n"
            "  database refused the login)\n"
            "examples:\n"
            "  mxdock-policy init-db\n"
            "  mxdock-policy authfail list --json | jq -r '.bans[].ban'\n"
            "  mxdock-policy quota show bob@example.com --size=1000000\n");
}

int     main(int argc, char **argv)
{
    struct cli c = {.prog = "mxdock-policy"};
    const char *conf_opt = 0, *verb;
    int     i = 1, rc;

    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc > 2 && strcmp(argv[1], "-c") == 0)
        conf_opt = argv[2], i = 3;
    if (i >= argc) {
        fprintf(stderr, "%s: missing verb (see -h)\n", c.prog);
        return EX_USAGE;
    }
    verb = argv[i++];
    if (strcmp(verb, "help") == 0 || cli_help_wanted(argc - i, argv + i)) {
        const char *v = strcmp(verb, "help") == 0 ? (i < argc ? argv[i++] : 0) : verb;
        const char *sub = i < argc && argv[i][0] != '-' ? argv[i] : 0;

        if (v == 0 || cli_help(v, sub, stdout) != 0)
            usage(stdout);
        return 0;
    }
    mx_log_init(c.prog, 1, "mail");
    c.conf = conf_load_or_exit(c.prog, conf_opt);
    if (strcmp(verb, "init-db") == 0)
        rc = cli_init_db(&c, argc - i, argv + i);
    else if (strcmp(verb, "authfail") == 0)
        rc = cli_authfail(&c, argc - i, argv + i);
    else if (strcmp(verb, "quota") == 0)
        rc = cli_quota(&c, argc - i, argv + i);
    else if (strcmp(verb, "watch-log") == 0)
        rc = cli_watch_log(&c, argc - i, argv + i);
    else if (strcmp(verb, "dmarc-report") == 0)
        rc = dmarc_report_main(c.conf, argc - i + 1, argv + i - 1);
    else if (strcmp(verb, "serve") == 0)
        rc = http_serve_main(c.conf, argc - i, argv + i);
    else if (strcmp(verb, "probe") == 0)
        rc = cli_probe(&c, argc - i, argv + i);
    else {
        fprintf(stderr, "%s: unknown verb \"%.40s\" (see -h)\n", c.prog, verb);
        rc = EX_USAGE;
    }
    conf_free(c.conf);
    pdb_thread_end();
    return rc;
}
