/*
 * dkim_help.h - the --help text of each mxdock-dkim verb (dkim_help.c).
 */
#ifndef MX_DKIM_HELP_H
#define MX_DKIM_HELP_H

#include <stdio.h>

/* dkim_help - VERB's usage, description, examples and exit codes on FP;
 * -1 when there is no such verb */
int     dkim_help(const char *verb, FILE *fp);

/* dkim_help_wanted - is --help or -h among the ARGC words of ARGV? */
int     dkim_help_wanted(int argc, char **argv);

#endif
