/*
 * dmarccheck - drive milter/dmarc and policy/dmarc_report from the tests
 * (tests/integration/dmarc_eval.sh, dmarc_report.sh).
 *
 *   dmarccheck [-c CONF] [-r IP:PORT] [-d IP:PORT] [-p PSL] [-o treewalk|psl]
 *              [-m SOURCE_IP] CASES
 *       evaluate every case of CASES (tests/dmarc/cases.txt format); one
 *       line each: name, result, policy (after t=y), disposition, A-R
 *       fragment, tab-separated.  Cases with option "dead" use the -d
 *       resolver.  With -m, each pass/fail is also recorded in the MySQL
 *       table of CONF as a message from SOURCE_IP (what the milter does).
 *   dmarccheck -c CONF report [--date=YYYY-MM-DD] [--send]
 *       dmarc_report_main, as `mxdock-policy dmarc-report` will run it
 *   dmarccheck ddl
 *       print the table definition
 *
 * Exit: 0, or a <sysexits.h> code with a line on stderr.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "conf.h"
#include "dmarc.h"
#include "dmarc_cases.h"
#include "dmarc_report.h"
#include "fileio.h"

struct opts {
    const char *conf, *resolver, *dead, *psl, *source, *org;
};

static struct mx_conf *make_conf(const struct opts *o, const char *resolver)
{
    struct mx_conf *c = o->conf ? conf_load_or_exit("dmarccheck", o->conf) : conf_defaults();

    if (resolver) {
        free(c->dns_resolver);
        c->dns_resolver = strdup(resolver);
    }
    c->dns_timeout = 2;
    if (o->org) {
        free(c->dmarc_org_domain);
        c->dmarc_org_domain = strdup(o->org);
    }
    if (o->psl) {
        free(c->dmarc_psl_file);
        c->dmarc_psl_file = strdup(o->psl);
    }
    return c;
}

/* all_sigs - every signature of C as "d/sel1/result", the aligned pass
 * first (what milter/dmarc_glue.c records) */
static void all_sigs(const struct dc_case *c, const struct mxdmarc_result *r, char *out,
                     size_t outlen)
{
    size_t  len = 0;

    out[0] = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < c->ndkim; i++) {
            int     first = r->dkim_aligned && strcasecmp(c->dkim[i].domain, r->dkim_domain) == 0;

            if (first != (pass == 0))
                continue;
            len += (size_t) snprintf(out + len, outlen - len, "%s%s/sel1/%s", len ? " " : "",
                                     c->dkim[i].domain, c->dkim[i].result);
            if (len >= outlen)
                return;
        }
}

/* record - the row the milter would record for case C with result R. */
static int record(struct pdb *db, const char *source, const struct dc_case *c,
                  const struct mxdmarc_result *r)
{
    struct dmarc_report_msg m;
    const struct mxdmarc_dkim *k = c->ndkim ? c->dkim : NULL;

    memset(&m, 0, sizeof m);
    for (size_t i = 0; i < c->ndkim; i++)
        if (r->dkim_aligned && strcasecmp(c->dkim[i].domain, r->dkim_domain) == 0)
            k = c->dkim + i;
    m.when = mx_now();
    m.source_ip = source;
    m.header_from = r->author_domain;
    m.envelope_from = c->mailfrom;
    m.policy_domain = r->policy_domain;
    m.rua = r->rua;
    m.p = mxdmarc_policy_name(r->p);
    m.sp = mxdmarc_policy_name(r->sp);
    m.pct = r->pct;
    m.adkim = r->adkim;
    m.aspf = r->aspf;
    m.disposition = mxdmarc_policy_name(r->disposition ? r->disposition : MXDMARC_P_NONE);
    m.dkim_aligned = r->dkim_aligned;
    m.spf_aligned = r->spf_aligned;
    m.dkim_domain = k ? k->domain : "";
    m.dkim_result = k ? k->result : "";
    m.dkim_selector = k ? "sel1" : "";
    all_sigs(c, r, m.dkim_all, sizeof m.dkim_all);
    m.np = mxdmarc_policy_name(r->np);
    m.testing = r->testing;
    m.fo = r->fo;
    m.discovery = r->treewalk ? "treewalk" : "psl";
    m.spf_domain = c->mailfrom;
    m.spf_scope = strcmp(c->identity, "helo") == 0 ? "helo" : "mfrom";
    m.spf_result = c->spf;
    m.reason = r->sampled_out ? "sampled_out"
        : r->testing && r->status == MXDMARC_FAIL && r->applied > MXDMARC_P_NONE
        ? "policy_test_mode" : "";
    return dmarc_report_record(db, &m);
}

static int evaluate(const struct opts *o, const char *file)
{
    static struct dc_case cases[DC_MAX];
    struct mx_conf *live_c = make_conf(o, o->resolver), *dead_c = make_conf(o, o->dead);
    struct mxdmarc *live, *dead;
    struct pdb *db = o->source ? pdb_open(live_c, 1, PDB_QUIET) : NULL;
    char    why[256];
    int     n, rc = 0;

    if ((n = dc_load_cases(file, cases)) < 0) {
        fprintf(stderr, "dmarccheck: cannot read %s\n", file);
        return EX_NOINPUT;
    }
    if ((live = mxdmarc_new(live_c, why, sizeof why)) == NULL
        || (dead = mxdmarc_new(dead_c, why, sizeof why)) == NULL) {
        fprintf(stderr, "dmarccheck: %s\n", why);
        return EX_SOFTWARE;
    }
    for (int i = 0; i < n; i++) {
        struct mxdmarc_input in;
        struct mxdmarc_result r;

        dc_input(cases + i, &in);
        mxdmarc_evaluate(strcmp(cases[i].opts, "dead") == 0 ? dead : live, &in, &r);
        printf("%s\t%s\t%s\t%s\t%s\n", cases[i].name, mxdmarc_status_name(r.status),
               dc_policy(&r), mxdmarc_policy_name(r.disposition ? r.disposition : MXDMARC_P_NONE),
               r.ar);
        if (db && (r.status == MXDMARC_PASS || r.status == MXDMARC_FAIL)
            && record(db, o->source, cases + i, &r) < 0) {
            fprintf(stderr, "dmarccheck: record: %s\n", pdb_error(db));
            rc = EX_UNAVAILABLE;
        }
    }
    if (db)
        pdb_close(db);
    mxdmarc_free(live);
    mxdmarc_free(dead);
    conf_free(live_c);
    conf_free(dead_c);
    return rc;
}

int     main(int argc, char **argv)
{
    struct opts o = {NULL, NULL, "127.0.0.1:9", NULL, NULL, NULL};
    int     ch;

    while ((ch = getopt(argc, argv, "+c:r:d:p:m:o:")) != -1) {
        if (ch == 'c')
            o.conf = optarg;
        else if (ch == 'r')
            o.resolver = optarg;
        else if (ch == 'd')
            o.dead = optarg;
        else if (ch == 'p')
            o.psl = optarg;
        else if (ch == 'o')
            o.org = optarg;
        else if (ch == 'm')
            o.source = optarg;
        else
            return EX_USAGE;
    }
    if (optind < argc && strcmp(argv[optind], "ddl") == 0) {
        for (int i = 0; dmarc_report_ddl[i]; i++)
            printf("%s;\n", dmarc_report_ddl[i]);
        return 0;
    }
    if (optind < argc && strcmp(argv[optind], "report") == 0) {
        struct mx_conf *c = make_conf(&o, o.resolver);
        int     rc = dmarc_report_main(c, argc - optind, argv + optind);

        conf_free(c);
        return rc;
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "usage: dmarccheck [-c CONF] [-r IP:PORT] [-d IP:PORT] [-p PSL] "
                "[-o treewalk|psl] [-m SOURCE_IP] CASES | report ... | ddl\n");
        return EX_USAGE;
    }
    return evaluate(&o, argv[optind]);
}
