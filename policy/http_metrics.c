/*
 * http_metrics.c - the counters of mxdock-policy serve, and their
 * Prometheus text exposition (GET /metrics).
 *
 *   http_metrics_new/free     the counters, all zero
 *   http_metrics_request      one answered request: endpoint, code, latency
 *   http_metrics_decision     one allow decision (accept/delay/refuse/tempfail)
 *   http_metrics_failure      one failed login recorded (Dovecot or Stalwart)
 *   http_metrics_db_error     one request the database did not answer
 *   http_metrics_ignored      one Stalwart event not recorded (type, duplicate)
 *   http_metrics_render       the text; the caller frees it
 *
 * Counters are updated with relaxed atomics from the server's threads; a
 * scrape may see one counter a request ahead of another, never a torn value.
 */
#include <stdlib.h>

#include "http.h"
#include "strbuf.h"

static const int codes[] = {200, 400, 401, 403, 404, 405, 408, 413, 500, 503};

#define NCODES ((int) (sizeof(codes) / sizeof(codes[0])))

static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 0.5, 1, 2.5, 5, 10};

#define NBOUNDS ((int) (sizeof(bounds) / sizeof(bounds[0])))

static const char *const ep_names[HTTP_EP_N] = {
    "dovecot_allow", "dovecot_report", "stalwart_events", "health", "metrics", "other",
};
static const char *const dec_names[HTTP_DEC_N] = {"accept", "delay", "refuse", "tempfail"};
static const char *const src_names[HTTP_SRC_N] = {"dovecot", "stalwart"};

struct http_metrics {
    unsigned long requests[HTTP_EP_N][NCODES + 1];      /* last: any other code */
    unsigned long buckets[HTTP_EP_N][NBOUNDS + 1];      /* last: +Inf only */
    unsigned long micros[HTTP_EP_N];                    /* latency sum */
    unsigned long decisions[HTTP_DEC_N];
    unsigned long failures[HTTP_SRC_N];
    unsigned long db_errors, ignored, duplicates;
};

#define ADD(x, n) __atomic_fetch_add(&(x), (n), __ATOMIC_RELAXED)
#define GET(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

struct http_metrics *http_metrics_new(void)
{
    return calloc(1, sizeof(struct http_metrics));
}

void    http_metrics_free(struct http_metrics *m)
{
    free(m);
}

void    http_metrics_request(struct http_metrics *m, enum http_ep ep, int code, double seconds)
{
    int     c = 0, b = 0;

    while (c < NCODES && codes[c] != code)
        c++;
    while (b < NBOUNDS && seconds > bounds[b])
        b++;
    ADD(m->requests[ep][c], 1);
    ADD(m->buckets[ep][b], 1);
    ADD(m->micros[ep], (unsigned long) (seconds * 1e6));
}

void    http_metrics_decision(struct http_metrics *m, enum http_dec d)
{
    ADD(m->decisions[d], 1);
}

void    http_metrics_failure(struct http_metrics *m, enum http_src s)
{
    ADD(m->failures[s], 1);
}

void    http_metrics_db_error(struct http_metrics *m)
{
    ADD(m->db_errors, 1);
}

void    http_metrics_ignored(struct http_metrics *m, int duplicate)
{
    if (duplicate)
        ADD(m->duplicates, 1);
    else
        ADD(m->ignored, 1);
}

/* render_requests - requests_total by endpoint and code */
static void render_requests(struct strbuf *sb, const struct http_metrics *m)
{
    sb_puts(sb, "# HELP mxdock_policy_http_requests_total HTTP requests answered, by endpoint and code.\n"
            "# TYPE mxdock_policy_http_requests_total counter\n");
    for (int e = 0; e < HTTP_EP_N; e++)
        for (int c = 0; c <= NCODES; c++) {
            unsigned long n = GET(m->requests[e][c]);

            if (n == 0 && !(c == 0 && e <= HTTP_EP_STALWART))
                continue;
            if (c < NCODES)
                sb_printf(sb, "mxdock_policy_http_requests_total{endpoint=\"%s\",code=\"%d\"} %lu\n",
                          ep_names[e], codes[c], n);
            else
                sb_printf(sb, "mxdock_policy_http_requests_total{endpoint=\"%s\",code=\"other\"} %lu\n",
                          ep_names[e], n);
        }
}

/* render_latency - one histogram per endpoint that decides something */
static void render_latency(struct strbuf *sb, const struct http_metrics *m)
{
    sb_puts(sb, "# HELP mxdock_policy_http_request_duration_seconds Time from the request's "
            "headers to its answer.\n"
            "# TYPE mxdock_policy_http_request_duration_seconds histogram\n");
    for (int e = 0; e <= HTTP_EP_STALWART; e++) {
        unsigned long cum = 0;

        for (int b = 0; b <= NBOUNDS; b++) {
            cum += GET(m->buckets[e][b]);
            if (b < NBOUNDS)
                sb_printf(sb, "mxdock_policy_http_request_duration_seconds_bucket"
                          "{endpoint=\"%s\",le=\"%g\"} %lu\n", ep_names[e], bounds[b], cum);
            else
                sb_printf(sb, "mxdock_policy_http_request_duration_seconds_bucket"
                          "{endpoint=\"%s\",le=\"+Inf\"} %lu\n", ep_names[e], cum);
        }
        sb_printf(sb, "mxdock_policy_http_request_duration_seconds_sum{endpoint=\"%s\"} %.6f\n"
                  "mxdock_policy_http_request_duration_seconds_count{endpoint=\"%s\"} %lu\n",
                  ep_names[e], GET(m->micros[e]) / 1e6, ep_names[e], cum);
    }
}

/* render_policy - decisions, failures recorded, database errors, ignored */
static void render_policy(struct strbuf *sb, const struct http_metrics *m)
{
    sb_puts(sb, "# HELP mxdock_policy_decisions_total Dovecot allow decisions.\n"
            "# TYPE mxdock_policy_decisions_total counter\n");
    for (int d = 0; d < HTTP_DEC_N; d++)
        sb_printf(sb, "mxdock_policy_decisions_total{decision=\"%s\"} %lu\n", dec_names[d],
                  GET(m->decisions[d]));
    sb_puts(sb, "# HELP mxdock_policy_failures_recorded_total Failed logins recorded.\n"
            "# TYPE mxdock_policy_failures_recorded_total counter\n");
    for (int s = 0; s < HTTP_SRC_N; s++)
        sb_printf(sb, "mxdock_policy_failures_recorded_total{source=\"%s\"} %lu\n", src_names[s],
                  GET(m->failures[s]));
    sb_printf(sb, "# HELP mxdock_policy_db_errors_total Requests the database did not answer.\n"
              "# TYPE mxdock_policy_db_errors_total counter\n"
              "mxdock_policy_db_errors_total %lu\n"
              "# HELP mxdock_policy_stalwart_events_ignored_total Stalwart events not recorded.\n"
              "# TYPE mxdock_policy_stalwart_events_ignored_total counter\n"
              "mxdock_policy_stalwart_events_ignored_total{reason=\"type\"} %lu\n"
              "mxdock_policy_stalwart_events_ignored_total{reason=\"duplicate\"} %lu\n",
              GET(m->db_errors), GET(m->ignored), GET(m->duplicates));
}

char   *http_metrics_render(const struct http_metrics *m)
{
    struct strbuf sb = STRBUF_INIT;

    render_requests(&sb, m);
    render_latency(&sb, m);
    render_policy(&sb, m);
    if (sb_failed(&sb)) {
        sb_free(&sb);
        return 0;
    }
    return sb_steal(&sb);
}
