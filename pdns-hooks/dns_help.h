/*
 * dns_help.h - the --help text of each mxdock-dns verb (dns_help.c).
 */
#ifndef MX_DNS_HELP_H
#define MX_DNS_HELP_H

#include <stdio.h>

/* dns_help - VERB's usage, description, examples and exit codes on FP;
 * -1 when there is no such verb */
int     dns_help(const char *verb, FILE *fp);

/* dns_help_wanted - is --help or -h among the ARGC words of ARGV? */
int     dns_help_wanted(int argc, char **argv);

#endif
