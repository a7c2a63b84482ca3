/*
 * spfcheck.c - one SPF check from the command line, for the RFC 7208 suite
 * driver (tests/spf/suite.py) and the benchmark.
 *
 *   spfcheck [-l|-L] [-r IP:PORT] [-t SECS] [-n COUNT] CLIENT_IP HELO MAIL_FROM
 *
 * -l: plain libspf2 (the baseline), -L: the same without libspf2's DNS
 * cache; -n: repeat the check COUNT times (for timing).  Prints "result<TAB>explanation<TAB>Received-SPF value".
 * Exit: 0, or EX_USAGE / EX_CONFIG.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "spf.h"

int     main(int argc, char **argv)
{
    struct mx_conf conf;
    struct mxspf *spf;
    struct mxspf_answer a;
    char    why[200];
    int     ch, lib = 0;
    long    count = 1, i;

    memset(&conf, 0, sizeof conf);
    conf.dns_resolver = "";
    conf.dns_timeout = 2;
    while ((ch = getopt(argc, argv, "lLr:t:n:")) != -1) {
        switch (ch) {
        case 'l': lib = 1; break;
        case 'L': lib = 2; break;
        case 'r': conf.dns_resolver = optarg; break;
        case 't': conf.dns_timeout = atol(optarg); break;
        case 'n': count = atol(optarg); break;
        default:
            fprintf(stderr, "usage: spfcheck [-l] [-r IP:PORT] [-t SECS] [-n N] IP HELO FROM\n");
            return EX_USAGE;
        }
    }
    if (argc - optind != 3) {
        fprintf(stderr, "usage: spfcheck [-l] [-r IP:PORT] [-t SECS] [-n N] IP HELO FROM\n");
        return EX_USAGE;
    }
    if ((spf = mxspf_new(&conf, why, sizeof why)) == NULL || mxspf_set_engine(spf, lib) < 0) {
        fprintf(stderr, "spfcheck: %s\n", spf ? "libspf2 failed" : why);
        return EX_CONFIG;
    }
    for (i = 0; i < count; i++)
        mxspf_check(spf, argv[optind], argv[optind + 1], argv[optind + 2], "spfcheck.test", &a);
    printf("%s\t%s\t%s\n", mxspf_result_name(a.result), a.explanation, a.received_spf);
    mxspf_free(spf);
    return 0;
}
