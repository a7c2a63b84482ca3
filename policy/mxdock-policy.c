/*
 * mxdock-policy - the policy administration tool (quota, auth-attempt
 * bans).  For now it only says what it will do.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

static void usage(FILE *fp)
{
    fprintf(fp, "usage: mxdock-policy [-c FILE] VERB ...\n"
            "  init-db                     create or upgrade the policy tables\n"
            "  authfail list|record|ban|unban ...\n"
            "  quota show|set-usage ...\n"
            "  watch-log FILE...\n"
            "(not implemented yet)\n");
}

int     main(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return EX_USAGE;
}
