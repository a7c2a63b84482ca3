/*
 * cli_help.c - `mxdock-policy VERB [SUB] --help`: each command's usage,
 * what it does, examples and exit codes, on stdout.
 *
 *   cli_help         the text of VERB SUB, or of every SUB of VERB;
 *                    -1 when VERB is not a verb
 *   cli_help_wanted  is --help or -h among the words after the verb?
 *
 * Fixed texts; docs/POLICY.md is the reference (its JSON formats section
 * for --json).  No configuration is read.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define DB_EXITS "  64 usage; 69 database unreachable; 78 configuration, or the database\n" \
    "  refused the login\n"

static const struct {
    const char *cmd;            /* "verb" or "verb sub" */
    const char *text;
} helps[] = {
    {"init-db", "usage: mxdock-policy [-c FILE] init-db\n"
     "Create or upgrade the policy tables (safe to run again).\n"
     "examples:\n"
     "  mxdock-policy init-db\n"
     "  mxdock-policy -c /etc/mxdock/mxdock.conf init-db\n"
     "exit codes: 0 done;\n" DB_EXITS},
    {"authfail list", "usage: mxdock-policy [-c FILE] authfail list [--ip=IP] [--json]\n"
     "Bans (active and expired) and the failures counted in authfail_window.\n"
     "  --json   {\"bans\": [{\"active\",\"ban\",\"count\",\"reason\",\"until\",\"until_utc\"}],\n"
     "            \"failures\": [{\"count\",\"ip\",\"last\"}]} (docs/POLICY.md)\n"
     "examples:\n"
     "  mxdock-policy authfail list --ip=192.0.2.0/24\n"
     "  mxdock-policy authfail list --json | jq -r '.bans[] | select(.active) | .ban'\n"
     "exit codes: 0 ok; 65 not an address;\n" DB_EXITS},
    {"authfail record", "usage: mxdock-policy [-c FILE] authfail record IP [--principal=P] [--protocol=smtp]\n"
     "Count one failed login of IP (for panels and scripts).\n"
     "examples:\n"
     "  mxdock-policy authfail record 192.0.2.7 --principal=alice@example.com\n"
     "  mxdock-policy authfail record 2001:db8::7 --protocol=imap\n"
     "exit codes: 0 recorded; 65 not an address;\n" DB_EXITS},
    {"authfail ban", "usage: mxdock-policy [-c FILE] authfail ban IP|CIDR [--for=1d] [--reason=TEXT]\n"
     "Ban an address or a range now (IPv6 prefixes that would cover IPv4 are refused).\n"
     "examples:\n"
     "  mxdock-policy authfail ban 198.51.100.0/24 --for=7d --reason='password spraying'\n"
     "  mxdock-policy authfail ban 2001:db8:bad::/48\n"
     "exit codes: 0 banned; 65 not an address, range or duration;\n" DB_EXITS},
    {"authfail unban", "usage: mxdock-policy [-c FILE] authfail unban IP|CIDR\n"
     "Lift the ban of exactly IP|CIDR and forget the failures of an IP.\n"
     "examples:\n"
     "  mxdock-policy authfail unban 192.0.2.7\n"
     "  mxdock-policy authfail unban 198.51.100.0/24\n"
     "exit codes: 0 done; 65 not an address or range;\n" DB_EXITS},
    {"authfail check", "usage: mxdock-policy [-c FILE] authfail check IP\n"
     "The decision mxdock-milter takes at connect: accept IP, or reject/tempfail\n"
     "with the reply code and text.\n"
     "examples:\n"
     "  mxdock-policy authfail check 192.0.2.7\n"
     "  mxdock-policy authfail check 192.0.2.7 | grep -q '^accept' && echo allowed\n"
     "exit codes: 0 decided; 65 not an address; 71 cannot set up;\n" DB_EXITS},
    {"authfail prune", "usage: mxdock-policy [-c FILE] authfail prune [--keep-bans=30d]\n"
     "Forget attempts older than the window and bans ended more than --keep-bans ago.\n"
     "examples:\n"
     "  mxdock-policy authfail prune\n"
     "  23 4 * * *  root  mxdock-policy authfail prune --keep-bans=90d   (crontab)\n"
     "exit codes: 0 done; 65 bad duration;\n" DB_EXITS},
    {"quota show", "usage: mxdock-policy [-c FILE] quota show ADDRESS [--size=BYTES] [--json]\n"
     "Quota, usage and the RCPT decision for a message of BYTES.\n"
     "  --json   {\"action\",\"address\",\"catchall\",\"found\",\"quota\",\"reply\",\"used\",\n"
     "            \"warning\"} (docs/POLICY.md)\n"
     "examples:\n"
     "  mxdock-policy quota show bob@example.com --size=10485760\n"
     "  mxdock-policy quota show bob@example.com --json | jq '.used / .quota'\n"
     "exit codes: 0 ok; 65 bad size;\n" DB_EXITS},
    {"quota set-usage", "usage: mxdock-policy [-c FILE] quota set-usage ADDRESS BYTES\n"
     "Store the usage of the account owning ADDRESS (mailbox_usage).\n"
     "examples:\n"
     "  mxdock-policy quota set-usage bob@example.com 52428800\n"
     "  du -sb /var/mail/example.com/bob | awk '{print $1}' | xargs mxdock-policy quota set-usage bob@example.com\n"
     "exit codes: 0 stored; 65 bad byte count, or no account owns ADDRESS;\n" DB_EXITS},
    {"watch-log", "usage: mxdock-policy [-c FILE] watch-log [--state=FILE] [--from-start] [--once] FILE...\n"
     "Follow mail logs (Postfix, Dovecot) and record the failed logins they show.\n"
     "examples:\n"
     "  mxdock-policy watch-log /var/log/mail.log\n"
     "  mxdock-policy watch-log --once --from-start --state=/var/lib/mxdock/watch.state /var/log/mail.log\n"
     "exit codes: 0 stopped or --once done; 71 cannot read or follow; 69 database\n"
     "  unreachable; 64 usage; 78 configuration\n"},
    {"dmarc-report", "usage: mxdock-policy [-c FILE] dmarc-report [--date=YYYY-MM-DD] [--send]\n"
     "DMARC aggregate reports of a day (default yesterday, UTC), written to\n"
     "dmarc_report_dir, and with --send mailed to each rua= (docs/DMARC.md).\n"
     "examples:\n"
     "  mxdock-policy dmarc-report --date=2026-12-05\n"
     "  5 0 * * *  root  mxdock-policy dmarc-report --send   (crontab)\n"
     "exit codes: 0 done; 64 usage; 69 database or mail submission unavailable;\n"
     "  73 cannot write a report; 78 configuration\n"},
    {"probe", "usage: mxdock-policy [-c FILE] probe < LINES\n"
     "The milter's decisions for lines on stdin: connect IP | rcpt ADDR [SIZE] |\n"
     "eom ADDR SIZE; one answer line each.\n"
     "examples:\n"
     "  echo 'connect 192.0.2.7' | mxdock-policy probe\n"
     "  printf 'rcpt bob@example.com 1000\\neom bob@example.com 2000\\n' | mxdock-policy probe\n"
     "A bad line is answered \"error: ...\" and the next one read.\n"
     "exit codes: 0 done; 64 usage; 78 configuration (neither quota_enable nor\n"
     "  authfail_enable)\n"},
    {"serve", "usage: mxdock-policy [-c FILE] serve [-f]\n"
     "Dovecot's auth policy and Stalwart's webhook over HTTP on policy_http_listen,\n"
     "with GET /health and GET /metrics (docs/POLICY.md); -f stays in the foreground.\n"
     "examples:\n"
     "  mxdock-policy serve -f\n"
     "  mxdock-policy -c /etc/mxdock/mxdock.conf serve -f & curl -s http://127.0.0.1:8787/health\n"
     "exit codes: 0 stopped by SIGTERM or SIGINT; 64 usage; 69 cannot listen; 78\n"
     "  configuration (or authfail_enable off)\n"},
};

int     cli_help(const char *verb, const char *sub, FILE *fp)
{
    size_t  n = strlen(verb), shown = 0;

    for (size_t i = 0; sub && i < sizeof(helps) / sizeof(helps[0]); i++)
        if (strncmp(helps[i].cmd, verb, n) == 0 && helps[i].cmd[n] == ' '
            && strcmp(helps[i].cmd + n + 1, sub) == 0)
            return fputs(helps[i].text, fp), 0;
    for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++)
        if (strncmp(helps[i].cmd, verb, n) == 0 && (helps[i].cmd[n] == ' ' || !helps[i].cmd[n]))
            fprintf(fp, "%s%s", shown++ ? "\n" : "", helps[i].text);
    return shown ? 0 : -1;
}

int     cli_help_wanted(int argc, char **argv)
{
    for (int i = 0; i < argc && strcmp(argv[i], "--"); i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}
