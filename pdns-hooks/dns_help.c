/*
 * dns_help.c - `mxdock-dns VERB --help`: each verb's usage, what it does,
 * examples and exit codes, on stdout.
 *
 *   dns_help   the text of VERB; -1 when there is no such verb
 *
 * The texts are fixed; docs/DNS.md says the same at more length (its JSON
 * formats section is the reference for --json).  No configuration is read.
 */
#include <stdio.h>
#include <string.h>

#include "dns_help.h"

#define API_EXITS "  64 usage; 65 bad input or PowerDNS 400/422; 66 no such zone (404);\n" \
    "  69 PowerDNS unreachable; 75 timeout; 76 unexpected answer;\n" \
    "  77 wrong API key (401/403); 78 configuration\n"

static const struct {
    const char *verb;
    const char *text;
} helps[] = {
    {"create", "usage: mxdock-dns [-c FILE] create DOMAIN [--template=NAME] [--ip=ADDR]...\n"
     "Make the zone with its mail records and DKIM keys, or reconcile it when it\n"
     "exists (a second run changes nothing).\n"
     "examples:\n"
     "  mxdock-dns create example.com\n"
     "  mxdock-dns create example.com --template=google --ip=192.0.2.10 --ip=2001:db8::10\n"
     "exit codes: 0 created or up to date; 73 cannot write;\n"
     API_EXITS},
    {"sync", "usage: mxdock-dns [-c FILE] sync DOMAIN [--dry-run] [--only=TYPES] [--force] [--json]\n"
     "Reconcile: one GET, at most one PATCH; records someone edited (drift) are\n"
     "kept and listed unless --force.\n"
     "  --json   one object {\"changes\",\"domain\",\"records\":[...]} (docs/DNS.md)\n"
     "examples:\n"
     "  mxdock-dns sync example.com --dry-run\n"
     "  mxdock-dns sync example.com --only=MX,TXT --json | jq .changes\n"
     "exit codes: 0 done (drift kept and listed too);\n" API_EXITS},
    {"diff", "usage: mxdock-dns [-c FILE] diff DOMAIN [--only=TYPES] [--force] [--json]\n"
     "What sync would do, record by record, with the reason (missing, stale-ours,\n"
     "drift, foreign).  Changes nothing.\n"
     "  --json   one object {\"changes\",\"domain\",\"records\":[...]} (docs/DNS.md)\n"
     "examples:\n"
     "  mxdock-dns diff example.com\n"
     "  mxdock-dns diff example.com --json | jq -r '.records[] | select(.reason == \"drift\") | .name'\n"
     "exit codes: 0 nothing to do and no drift; 1 sync has something to do;\n" API_EXITS},
    {"delete", "usage: mxdock-dns [-c FILE] delete DOMAIN [--records-only] [--purge-keys]\n"
     "Remove the zone (or with --records-only only the records mxdock owns);\n"
     "--purge-keys also deletes the DKIM keys from the store.\n"
     "examples:\n"
     "  mxdock-dns delete example.com\n"
     "  mxdock-dns delete example.com --records-only\n"
     "exit codes: 0 deleted;\n" API_EXITS},
    {"list", "usage: mxdock-dns [-c FILE] list [--json]\n"
     "Every zone of the PowerDNS server: name, serial, DNSSEC.\n"
     "  --json   [{\"dnssec\",\"kind\",\"name\",\"serial\"}] (docs/DNS.md)\n"
     "examples:\n"
     "  mxdock-dns list\n"
     "  mxdock-dns list --json | jq -r '.[].name'\n"
     "exit codes: 0 ok;\n" API_EXITS},
    {"records", "usage: mxdock-dns [-c FILE] records DOMAIN [--type=T] [--json]\n"
     "The records of a zone as zone-file lines (\"; disabled\" for disabled ones).\n"
     "  --json   [{\"content\",\"name\",\"ttl\",\"type\"}], \"disabled\": true on disabled ones\n"
     "examples:\n"
     "  mxdock-dns records example.com --type=TXT\n"
     "  mxdock-dns records example.com --json | jq -r '.[] | select(.type == \"MX\") | .content'\n"
     "exit codes: 0 ok;\n" API_EXITS},
    {"add", "usage: mxdock-dns [-c FILE] add DOMAIN NAME TYPE CONTENT [--ttl=3600] [--priority=N]\n"
     "Add one record that mxdock does not own (kept by every sync).\n"
     "examples:\n"
     "  mxdock-dns add example.com www A 192.0.2.80\n"
     "  mxdock-dns add example.com @ MX backup.example.net. --priority=20\n"
     "exit codes: 0 added;\n" API_EXITS},
    {"delete-record", "usage: mxdock-dns [-c FILE] delete-record DOMAIN --type=T --name=N [--value=V]\n"
     "Remove a record set, or with --value one record of it.\n"
     "examples:\n"
     "  mxdock-dns delete-record example.com --type=A --name=www\n"
     "  mxdock-dns delete-record example.com --type=MX --name=@ --value='20 backup.example.net.'\n"
     "exit codes: 0 removed;\n" API_EXITS},
    {"check", "usage: mxdock-dns [-c FILE] check DOMAIN [--json]\n"
     "Ask the authoritative servers (dns_check_server, else the NS hosts) for every\n"
     "record mxdock wants: one line each, ok / missing / stale / error / unchecked /\n"
     "spf-uncovered.\n"
     "  --json   [{\"detail\",\"name\",\"server\",\"status\",\"type\"}] (docs/DNS.md)\n"
     "examples:\n"
     "  mxdock-dns check example.com --json | jq -r '.[] | select(.status != \"ok\") | .name'\n"
     "  mxdock-dns check example.com || echo 'not published yet'\n"
     "exit codes: 0 every record ok; 1 some record not ok;\n" API_EXITS},
    {"config-check", "usage: mxdock-dns [-c FILE] config-check\n"
     "Load and validate the configuration, then exit.\n"
     "examples:\n"
     "  mxdock-dns config-check\n"
     "  mxdock-dns -c /etc/mxdock/new.conf config-check\n"
     "exit codes: 0 valid; 64 usage; 78 configuration (the message names file,\n"
     "  line and key)\n"},
    {"mta-sts-policy", "usage: mxdock-dns [-c FILE] mta-sts-policy DOMAIN\n"
     "Print the MTA-STS policy file the domain's HTTPS host serves.\n"
     "examples:\n"
     "  mxdock-dns mta-sts-policy example.com\n"
     "  mxdock-dns mta-sts-policy example.com > /var/www/mta-sts/.well-known/mta-sts.txt\n"
     "exit codes: 0 ok; 64 usage; 65 bad domain; 78 configuration\n"},
    {"template", "usage: mxdock-dns [-c FILE] template list [--json] | template show NAME [DOMAIN]\n"
     "The record templates create --template= takes: their names, or one\n"
     "rendered for DOMAIN.\n"
     "  --json   list: [\"NAME\", ...], sorted\n"
     "examples:\n"
     "  mxdock-dns template list --json\n"
     "  mxdock-dns template show web example.com\n"
     "exit codes: 0 ok; 64 usage; 65 bad domain or template; 66 no such template;\n"
     "  78 configuration\n"},
    {"dnssec", "usage: mxdock-dns [-c FILE] dnssec enable|disable|status|ds|rollover DOMAIN\n"
     "           [--algorithm=ecdsap256sha256|ed25519] [--finish] [--json]\n"
     "Sign the zone (enable), stop (disable), show its keys (status), the DS\n"
     "records for the parent (ds), or roll its key over (rollover, then\n"
     "rollover --finish).\n"
     "  --json   status: [{\"active\",\"algorithm\",\"id\",\"keytype\",\"published\"}]\n"
     "           ds: [{\"algorithm\",\"digest\",\"digest_type\",\"ds\",\"keytag\",\"name\"}]\n"
     "examples:\n"
     "  mxdock-dns dnssec enable example.com --algorithm=ed25519\n"
     "  mxdock-dns dnssec status example.com --json | jq '.[].active'\n"
     "exit codes: 0 ok;\n" API_EXITS},
};

int     dns_help(const char *verb, FILE *fp)
{
    for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++)
        if (strcmp(verb, helps[i].verb) == 0) {
            fputs(helps[i].text, fp);
            return 0;
        }
    return -1;
}

/* dns_help_wanted - is --help or -h among ARGV (before a "--")? */
int     dns_help_wanted(int argc, char **argv)
{
    for (int i = 0; i < argc && strcmp(argv[i], "--"); i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}
