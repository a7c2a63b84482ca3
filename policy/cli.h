/*
 * cli.h - the verbs of mxdock-policy, one function each; main() in
 * mxdock-policy.c parses -c and dispatches.  Each returns an exit code
 * from <sysexits.h> and prints one line on stderr when it fails.
 */
#ifndef MX_CLI_H
#define MX_CLI_H

#include "conf.h"
#include "pdb.h"

#define CLI_MAXARG 32

struct cli {
    const char *prog;
    struct mx_conf *conf;
    int     npos;
    const char *pos[CLI_MAXARG];        /* positional arguments */
    int     nopt;
    const char *optname[CLI_MAXARG];    /* "--name=value" options */
    const char *optval[CLI_MAXARG];     /* "" for a flag */
};

/* cli_parse - split ARGV into options (each named in ALLOWED, a comma
 * list; "name=" takes a value) and at most MAXPOS positionals, at least
 * MINPOS.  -1 after printing a usage line. */
int     cli_parse(struct cli *, int argc, char **argv, const char *allowed, int minpos, int maxpos);

/* cli_opt - value of --NAME, or DEF when absent */
const char *cli_opt(const struct cli *, const char *name, const char *def);

/* cli_db - the pool for command-line use (quiet); exits EX_OSERR on memory */
struct pdb *cli_db(const struct cli *);

/* cli_db_error - "database unreachable: ..." on stderr and EX_UNAVAILABLE;
 * EX_CONFIG when the server refused the login or the statement */
int     cli_db_error(const struct cli *, struct pdb *);

/* cli_db_error_on - the same, naming what could not be done ("cannot
 * WHAT: database error: ..."), so the server's text is never the only word */
int     cli_db_error_on(const struct cli *, struct pdb *, const char *what);

#define CLI_DURATION_MAX (100LL * 365 * 86400)

/* cli_duration - "90", "30m", "2h", "1d", "1w" -> seconds, at most 100
 * years (CLI_DURATION_MAX); -1 if not */
long long cli_duration(const char *);

/* cli_help - the --help text of VERB SUB (SUB NULL or unknown: of every
 * SUB of VERB) on FP; -1 when VERB is not a verb (cli_help.c) */
int     cli_help(const char *verb, const char *sub, FILE *fp);

/* cli_help_wanted - is --help or -h among the ARGC words of ARGV? */
int     cli_help_wanted(int argc, char **argv);

/* cli_json_str - S as a JSON string */
void    cli_json_str(FILE *, const char *s);

int     cli_init_db(struct cli *, int argc, char **argv);
int     cli_authfail(struct cli *, int argc, char **argv);
int     cli_quota(struct cli *, int argc, char **argv);
int     cli_watch_log(struct cli *, int argc, char **argv);
int     cli_probe(struct cli *, int argc, char **argv);

#endif
