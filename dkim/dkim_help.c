/*
 * dkim_help.c - `mxdock-dkim VERB --help`: each verb's usage, what it
 * does, examples and exit codes, on stdout.
 *
 *   dkim_help   the text of VERB; -1 when there is no such verb
 *
 * Fixed texts; docs/DKIM.md is the reference (its JSON formats section for
 * --json).  No configuration is read.
 */
#include <stdio.h>
#include <string.h>

#include "dkim_help.h"

#define COMMON_EXITS "  64 usage; 65 bad domain, selector or a store that does not load;\n" \
    "  69 the key database does not answer (dkim_store = mysql);\n" \
    "  78 configuration (a bad seal key file, a database refusing us included)\n"

static const struct {
    const char *verb;
    const char *text;
} helps[] = {
    {"keygen", "usage: mxdock-dkim [-c FILE] keygen DOMAIN [--algorithm=ed25519|rsa] [--bits=N]\n"
     "New keys in state pending: one per dkim_algorithms, or only the one named\n"
     "(N = RSA bits, 1024..4096).  Prints SELECTOR._domainkey.DOMAIN ALG BITS pending\n"
     "per key; the next tick publishes and then activates them.\n"
     "examples:\n"
     "  mxdock-dkim keygen example.com\n"
     "  mxdock-dkim keygen example.com --algorithm=rsa --bits=3072\n"
     "exit codes: 0 made; 73 the store cannot be written;\n" COMMON_EXITS},
    {"dns", "usage: mxdock-dkim [-c FILE] dns DOMAIN [--json]\n"
     "The TXT records to publish (pending, active and retiring keys), one line each:\n"
     "SELECTOR._domainkey.DOMAIN. IN TXT \"...\" \"...\"\n"
     "  --json   [{\"algorithm\",\"domain\",\"name\",\"selector\",\"state\",\"value\"}]\n"
     "           (value unquoted: \"v=DKIM1; k=...; p=...\"; docs/DKIM.md)\n"
     "examples:\n"
     "  mxdock-dkim dns example.com >> /etc/bind/db.example.com\n"
     "  mxdock-dkim dns example.com --json | jq -r '.[] | select(.state == \"active\") | .name'\n"
     "exit codes: 0 ok; 66 the domain has no published keys;\n" COMMON_EXITS},
    {"list", "usage: mxdock-dkim [-c FILE] list [DOMAIN] [--json]\n"
     "Every key of the store (or of DOMAIN): domain, selector, algorithm, bits,\n"
     "state, age (since created) and since (last change).\n"
     "  --json   [{\"age\",\"algorithm\",\"bits\",\"changed\",\"created\",\"domain\",\n"
     "            \"selector\",\"state\"}] (times in seconds; docs/DKIM.md)\n"
     "examples:\n"
     "  mxdock-dkim list example.com\n"
     "  mxdock-dkim list --json | jq -r '.[] | select(.state == \"pending\") | .domain'\n"
     "exit codes: 0 ok; 66 no key store;\n" COMMON_EXITS},
    {"activate", "usage: mxdock-dkim [-c FILE] activate DOMAIN SELECTOR\n"
     "Sign with SELECTOR now, without waiting for DNS; the active key of its\n"
     "algorithm goes retiring (a retired key cannot be activated).\n"
     "examples:\n"
     "  mxdock-dkim activate example.com ed202612a\n"
     "  mxdock-dkim activate example.com $(mxdock-dkim list example.com --json |\n"
     "      jq -r '.[] | select(.state == \"pending\" and .algorithm == \"rsa\") | .selector')\n"
     "exit codes: 0 done; 73 the store cannot be written;\n"
     COMMON_EXITS},
    {"retire", "usage: mxdock-dkim [-c FILE] retire DOMAIN SELECTOR\n"
     "Stop signing with SELECTOR: it goes retiring; a retiring key goes retired\n"
     "and the DNS sync removes its TXT record.\n"
     "examples:\n"
     "  mxdock-dkim retire example.com rsa202501a\n"
     "  mxdock-dkim retire example.com rsa202501a && mxdock-dkim dns example.com\n"
     "exit codes: 0 done; 73 the store cannot be written; 69 the DNS sync failed;\n"
     COMMON_EXITS},
    {"rotate", "usage: mxdock-dkim [-c FILE] rotate DOMAIN\n"
     "New pending keys (one per dkim_algorithms that has none pending), then the\n"
     "DNS sync; tick activates them once DNS serves them.\n"
     "examples:\n"
     "  mxdock-dkim rotate example.com\n"
     "  mxdock-dkim -c /etc/mxdock/mxdock.conf rotate example.com\n"
     "exit codes: 0 done; 73 the store cannot be written; 69 the DNS sync failed;\n"
     COMMON_EXITS},
    {"tick", "usage: mxdock-dkim [-c FILE] tick\n"
     "Advance every domain whose time has come (publish, activate, retire,\n"
     "delete, rotate), then the DNS syncs.  Prints the changes it committed.\n"
     "examples:\n"
     "  mxdock-dkim tick\n"
     "  17 * * * *  root  /usr/sbin/mxdock-dkim tick     (crontab)\n"
     "exit codes: 0 done; 66 no key store; 69 a DNS sync failed; 75 a domain's\n"
     "  change could not be written (left as it was; the next tick retries);\n"
     COMMON_EXITS},
    {"import", "usage: mxdock-dkim [-c FILE] import KEYTABLE SIGNINGTABLE\n"
     "Take over an OpenDKIM site's keys as active keys under their own selectors\n"
     "(docs/DKIM.md, Moving from OpenDKIM).  Running it again changes nothing.\n"
     "examples:\n"
     "  mxdock-dkim import /etc/opendkim/KeyTable refile:/etc/opendkim/SigningTable\n"
     "  mxdock-dkim import file:/etc/opendkim/KeyTable /etc/opendkim/SigningTable\n"
     "exit codes: 0 every key imported; 65 a key or line refused (the others\n"
     "  imported); 66 a table cannot be read; 64 usage; 78 configuration\n"},
    {"migrate-store", "usage: mxdock-dkim [-c FILE] migrate-store --to=mysql|files [DOMAIN...]\n"
     "Copy every domain (or those named) from the other key store into the one\n"
     "named (whatever dkim_store says: --to=mysql with dkim_store = mysql copies\n"
     "dkim_keydir in): the same private keys, selectors, states, created and\n"
     "changed times, each domain in one transaction (or under its lock on\n"
     "files); then both are loaded and compared.  A domain already in the\n"
     "target the same is skipped;\n"
     "with other keys or states it is refused.  The source is left as it was.\n"
     "Then set dkim_store and reload the milter (SIGUSR1): the keys are the same,\n"
     "so signing never stops (docs/DKIM.md, Keys in the database).\n"
     "examples:\n"
     "  mxdock-dkim migrate-store --to=mysql\n"
     "  mxdock-dkim migrate-store --to=files example.com\n"
     "exit codes: 0 every domain copied or skipped; 65 a domain already there with\n"
     "  other keys, or a bad domain; 66 the source store cannot be read, or a domain\n"
     "  has no keys there; 73 a copy\n"
     "  failed (nothing of that domain written);\n" COMMON_EXITS},
};

int     dkim_help(const char *verb, FILE *fp)
{
    for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++)
        if (strcmp(verb, helps[i].verb) == 0) {
            fputs(helps[i].text, fp);
            return 0;
        }
    return -1;
}

int     dkim_help_wanted(int argc, char **argv)
{
    for (int i = 0; i < argc && strcmp(argv[i], "--"); i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}
