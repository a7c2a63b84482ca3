/*
 * test_milter_metrics.c - the milter's counters and their Prometheus text
 * (milter/metrics.c) without a scrape: histogram buckets are cumulative
 * and bounded as the text format wants (le="+Inf" equals _count), a= tags
 * map to their algorithm label, and a scrape without a configuration says
 * the key store could not be read.  The exact counts through a real MTA
 * are tests/integration/milter_metrics.sh's.
 */
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "metrics.h"
#include "t.h"

/* line_of - the value of the sample NAME (a whole "name{labels}") in TEXT,
 * or -1 when it is not there */
static double line_of(const char *text, const char *name)
{
    size_t  n = strlen(name);

    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : 0)
        if (strncmp(p, name, n) == 0 && p[n] == ' ')
            return atof(p + n + 1);
    return -1;
}

static void test_histogram(void)
{
    char   *t;

    milter_metrics_dns("mail", 0);
    milter_metrics_dns("mail", 3);              /* 0.003 s: le="0.005" */
    milter_metrics_dns("mail", 40000);          /* 40 s: past the last bound */
    t = milter_metrics_render(0);
#define H "mxdock_milter_dns_step_duration_seconds"
    T_INT("0 s falls in the first bucket",
          line_of(t, H "_bucket{step=\"mail\",le=\"0.001\"}"), 1);
    T_INT("buckets are cumulative", line_of(t, H "_bucket{step=\"mail\",le=\"0.005\"}"), 2);
    T_INT("40 s is in no finite bucket", line_of(t, H "_bucket{step=\"mail\",le=\"30\"}"), 2);
    T_INT("+Inf holds every observation", line_of(t, H "_bucket{step=\"mail\",le=\"+Inf\"}"), 3);
    T_INT("_count equals +Inf", line_of(t, H "_count{step=\"mail\"}"), 3);
    T_OK("_sum in seconds", line_of(t, H "_sum{step=\"mail\"}") > 40.0029
         && line_of(t, H "_sum{step=\"mail\"}") < 40.0031);
    T_INT("another step untouched", line_of(t, H "_count{step=\"eom\"}"), 0);
#undef H
    free(t);
}

static void test_labels(void)
{
    char   *t;

    milter_metrics_dkim(1, "ed25519-sha256");   /* DKIM_MSG_PASS */
    milter_metrics_dkim(2, "rsa-sha1");         /* DKIM_MSG_FAIL */
    milter_metrics_dkim(1, "");
    milter_metrics_dkim(1, 0);
    milter_metrics_dkim(1, "hmac-md5");
    milter_metrics_message(1, MV_REJECT);
    milter_metrics_signature(DKIM_ALG_ED25519);
    milter_metrics_db(MMDB_RCPT, milter_metrics_now() - 2000, 1);     /* 2 ms, failed */
    t = milter_metrics_render(0);
#define D "mxdock_milter_dkim_results_total"
    T_INT("ed25519 pass", line_of(t, D "{result=\"pass\",algorithm=\"ed25519-sha256\"}"), 1);
    T_INT("rsa-sha1 fail", line_of(t, D "{result=\"fail\",algorithm=\"rsa-sha1\"}"), 1);
    T_INT("missing, empty and unknown a= are other",
          line_of(t, D "{result=\"pass\",algorithm=\"other\"}"), 3);
    T_INT("no result none series (unsigned mail has its own)",
          line_of(t, D "{result=\"none\",algorithm=\"other\"}"), -1);
#undef D
    T_INT("outbound reject",
          line_of(t, "mxdock_milter_messages_total{direction=\"outbound\",action=\"reject\"}"), 1);
    T_INT("inbound continue untouched",
          line_of(t, "mxdock_milter_messages_total{direction=\"inbound\",action=\"continue\"}"), 0);
    T_INT("ed25519 signature",
          line_of(t, "mxdock_milter_dkim_signatures_total{algorithm=\"ed25519\"}"), 1);
    T_INT("failed policy check counted as such",
          line_of(t, "mxdock_milter_policy_checks_total{op=\"rcpt\",outcome=\"error\"}"), 1);
    T_INT("... and as a db error", line_of(t, "mxdock_milter_errors_total{kind=\"db\"}"), 1);
    T_INT("2 ms is past 1 ms",
          line_of(t, "mxdock_milter_policy_check_duration_seconds_bucket{op=\"rcpt\",le=\"0.001\"}"), 0);
    T_INT("2 ms is within 2.5 ms",
          line_of(t, "mxdock_milter_policy_check_duration_seconds_bucket{op=\"rcpt\",le=\"0.0025\"}"), 1);
    T_INT("no configuration: the store is unreadable",
          line_of(t, "mxdock_milter_dkim_store_unreadable"), 1);
    T_INT("build info is 1", line_of(t, "mxdock_milter_build_info{version=\"" MXDOCK_VERSION "\"}"), 1);
    free(t);
}

/* test_types - every sample follows the # TYPE of its family */
static void test_types(void)
{
    char   *t = milter_metrics_render(0), *save = 0, family[128] = "";
    int     bad = 0, samples = 0;

    for (char *l = strtok_r(t, "\n", &save); l; l = strtok_r(0, "\n", &save)) {
        if (strncmp(l, "# TYPE ", 7) == 0) {
            snprintf(family, sizeof(family), "%.*s", (int) strcspn(l + 7, " "), l + 7);
            continue;
        }
        if (l[0] == '#')
            continue;
        samples++;
        if (family[0] == 0 || strncmp(l, family, strlen(family)) != 0)
            bad++, printf("# sample outside its family %s: %s\n", family, l);
    }
    T_INT("every sample under its # TYPE", bad, 0);
    T_OK("a few hundred series", samples > 100 && samples < 1000);
    free(t);
}

int     main(void)
{
    test_histogram();
    test_labels();
    test_types();
    return t_done();
}
