/*
 * metrics.c - the counters of mxdock-milter and their Prometheus text
 * exposition (format 0.0.4); the HTTP side is metrics_serve.c.
 *
 *   milter_metrics_message      one message judged: direction and action
 *   milter_metrics_spf/dkim/dmarc   one result (DKIM: per signature, by a=)
 *   milter_metrics_signature    one DKIM-Signature added, by algorithm
 *   milter_metrics_quota_refusal, milter_metrics_ban_refusal
 *   milter_metrics_error        one error, by kind
 *   milter_metrics_reload       one SIGUSR1 reload, applied or refused
 *   milter_metrics_dns          one step's DNS time (histogram)
 *   milter_metrics_db           one policy decision's time (histogram)
 *   milter_metrics_started      when the process started (for its gauge)
 *   milter_metrics_render       all of it, and the key store by state
 *
 * Every counter is a C11 atomic updated with relaxed order: a scrape may
 * see one counter a message ahead of another, never a torn value.  The
 * counters are this file's only state; they outlive every generation.
 * Render allocates; the caller frees.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decide.h"
#include "dkim_msg.h"
#include "metrics.h"
#include "strbuf.h"

#define NSPF   7                /* enum mxspf_result */
#define NDKIM  7                /* enum dkim_msg_res */
#define NDMARC 5                /* enum mxdmarc_status */
#define NALG   4                /* rsa-sha256, ed25519-sha256, rsa-sha1, other */
#define NKIND  3                /* continue, reject, tempfail */
#define NSTEP  3                /* DNS: mail, eoh, eom */
#define NSTATE 4                /* enum dkim_state */
#define KEYS_TTL 60             /* seconds a count of the key store is shown */

static const double dns_bounds[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
    5, 10, 30};
static const double db_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 0.5, 1, 2.5, 5};

#define NB(a) ((int) (sizeof(a) / sizeof((a)[0])))

struct hist {
    atomic_ulong b[16];         /* per bucket (not cumulative); last: +Inf only */
    atomic_ullong us;           /* sum in microseconds */
};

_Static_assert(NB(dns_bounds) < 16 && NB(db_bounds) < 16, "a histogram has 16 slots");

static const char *const alg_names[NALG] = {"rsa-sha256", "ed25519-sha256", "rsa-sha1", "other"};
static const char *const step_names[NSTEP] = {"mail", "eoh", "eom"};
static const char *const db_names[MMDB_N] = {"connect", "rcpt", "eom"};
static const char *const err_names[MME_N] = {
    "internal", "sign", "verify", "header", "reply", "dns_budget", "db"
};

static struct {
    atomic_ulong messages[2][NKIND];    /* [outbound][kind] */
    atomic_ulong spf[NSPF];
    atomic_ulong dkim[NDKIM][NALG];
    atomic_ulong dkim_unsigned;
    atomic_ulong dmarc[NDMARC];
    atomic_ulong signatures[2];         /* enum dkim_alg */
    atomic_ulong quota[2];              /* [at_eom] */
    atomic_ulong bans;
    atomic_ulong errors[MME_N];
    atomic_ulong reloads[2];            /* [ok] */
    atomic_ulong dbq[MMDB_N][2];        /* [op][failed] */
    struct hist dns[NSTEP];
    struct hist db[MMDB_N];
} M;

static time_t started;

#define INC(x) atomic_fetch_add_explicit(&(x), 1, memory_order_relaxed)
#define GET(x) atomic_load_explicit(&(x), memory_order_relaxed)

/* clamp - I when 0 <= I < N, else N - 1 (the catch-all slot) */
static int clamp(int i, int n)
{
    return i >= 0 && i < n ? i : n - 1;
}

void    milter_metrics_message(int outbound, int kind)
{
    INC(M.messages[outbound != 0][clamp(kind, NKIND)]);
}

void    milter_metrics_spf(enum mxspf_result r)
{
    INC(M.spf[clamp((int) r, NSPF)]);
}

/* alg_index - the a= tag's slot; anything unknown is "other" */
static int alg_index(const char *a)
{
    for (int i = 0; a && i < NALG - 1; i++)
        if (strcmp(a, alg_names[i]) == 0)
            return i;
    return NALG - 1;
}

void    milter_metrics_dkim(int res, const char *a)
{
    INC(M.dkim[clamp(res, NDKIM)][alg_index(a)]);
}

void    milter_metrics_dkim_unsigned(void)
{
    INC(M.dkim_unsigned);
}

void    milter_metrics_dmarc(enum mxdmarc_status s)
{
    INC(M.dmarc[clamp((int) s, NDMARC)]);
}

void    milter_metrics_signature(enum dkim_alg a)
{
    INC(M.signatures[a == DKIM_ALG_ED25519 ? DKIM_ALG_ED25519 : DKIM_ALG_RSA]);
}

void    milter_metrics_quota_refusal(int at_eom)
{
    INC(M.quota[at_eom != 0]);
}

void    milter_metrics_ban_refusal(void)
{
    INC(M.bans);
}

void    milter_metrics_error(enum milter_metrics_err e)
{
    INC(M.errors[clamp((int) e, MME_N)]);
}

void    milter_metrics_reload(int ok)
{
    INC(M.reloads[ok != 0]);
}

/* hist_add - one observation of US microseconds against BOUNDS (seconds) */
static void hist_add(struct hist *h, const double *bounds, int nb, long long us)
{
    int     b = 0;

    if (us < 0)
        us = 0;
    while (b < nb && us / 1e6 > bounds[b])
        b++;
    INC(h->b[b]);
    atomic_fetch_add_explicit(&h->us, (unsigned long long) us, memory_order_relaxed);
}

void    milter_metrics_dns(const char *step, long ms)
{
    int     s = 0;

    while (s < NSTEP - 1 && strcmp(step, step_names[s]) != 0)
        s++;
    hist_add(&M.dns[s], dns_bounds, NB(dns_bounds), (long long) ms * 1000);
}

long long milter_metrics_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void    milter_metrics_db(enum milter_metrics_db op, long long t0, int failed)
{
    op = (enum milter_metrics_db) clamp((int) op, MMDB_N);
    INC(M.dbq[op][failed != 0]);
    hist_add(&M.db[op], db_bounds, NB(db_bounds), milter_metrics_now() - t0);
    if (failed)
        milter_metrics_error(MME_DB);
}

void    milter_metrics_started(time_t t)
{
    started = t;
}

/* ---- rendering ----------------------------------------------------------- */

static void head(struct strbuf *sb, const char *name, const char *type, const char *help)
{
    sb_printf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* render_hist - NAME{LABEL="V",le=...} for each of N histograms */
static void render_hist(struct strbuf *sb, const char *name, const char *label,
                        const char *const *values, struct hist *h, int n,
                        const double *bounds, int nb)
{
    for (int i = 0; i < n; i++) {
        unsigned long cum = 0;

        for (int b = 0; b <= nb; b++) {
            cum += GET(h[i].b[b]);
            if (b < nb)
                sb_printf(sb, "%s_bucket{%s=\"%s\",le=\"%g\"} %lu\n", name, label, values[i],
                          bounds[b], cum);
            else
                sb_printf(sb, "%s_bucket{%s=\"%s\",le=\"+Inf\"} %lu\n", name, label,
                          values[i], cum);
        }
        sb_printf(sb, "%s_sum{%s=\"%s\"} %.6f\n%s_count{%s=\"%s\"} %lu\n", name, label,
                  values[i], (double) GET(h[i].us) / 1e6, name, label, values[i], cum);
    }
}

static void render_messages(struct strbuf *sb)
{
    head(sb, "mxdock_milter_messages_total", "counter",
         "Messages answered, by direction (outbound = signed side) and action.");
    for (int o = 0; o < 2; o++)
        for (int k = 0; k < NKIND; k++)
            sb_printf(sb, "mxdock_milter_messages_total{direction=\"%s\",action=\"%s\"} %lu\n",
                      o ? "outbound" : "inbound", milter_kind_name((enum milter_kind) k),
                      GET(M.messages[o][k]));
}

static void render_results(struct strbuf *sb)
{
    head(sb, "mxdock_milter_spf_results_total", "counter", "SPF checks of MAIL FROM, by result.");
    for (int r = 0; r < NSPF; r++)
        sb_printf(sb, "mxdock_milter_spf_results_total{result=\"%s\"} %lu\n",
                  mxspf_result_name((enum mxspf_result) r), GET(M.spf[r]));
    head(sb, "mxdock_milter_dkim_results_total", "counter",
         "DKIM signatures verified, by result and algorithm (a=).");
    for (int r = 1; r < NDKIM; r++)
        for (int a = 0; a < NALG; a++)
            sb_printf(sb, "mxdock_milter_dkim_results_total{result=\"%s\",algorithm=\"%s\"} %lu\n",
                      dkim_msg_res_name((enum dkim_msg_res) r), alg_names[a], GET(M.dkim[r][a]));
    head(sb, "mxdock_milter_dkim_unsigned_total", "counter",
         "Messages verified that carried no DKIM signature.");
    sb_printf(sb, "mxdock_milter_dkim_unsigned_total %lu\n", GET(M.dkim_unsigned));
    head(sb, "mxdock_milter_dmarc_results_total", "counter", "DMARC evaluations, by result.");
    for (int r = 0; r < NDMARC; r++)
        sb_printf(sb, "mxdock_milter_dmarc_results_total{result=\"%s\"} %lu\n",
                  mxdmarc_status_name((enum mxdmarc_status) r), GET(M.dmarc[r]));
    head(sb, "mxdock_milter_dkim_signatures_total", "counter",
         "DKIM-Signature headers added, by key algorithm.");
    for (int a = 0; a < 2; a++)
        sb_printf(sb, "mxdock_milter_dkim_signatures_total{algorithm=\"%s\"} %lu\n",
                  dkim_alg_name((enum dkim_alg) a), GET(M.signatures[a]));
}

static void render_policy(struct strbuf *sb)
{
    head(sb, "mxdock_milter_quota_refusals_total", "counter",
         "Quota refusals, by stage (rcpt: one recipient; eom: the whole message).");
    sb_printf(sb, "mxdock_milter_quota_refusals_total{stage=\"rcpt\"} %lu\n"
              "mxdock_milter_quota_refusals_total{stage=\"eom\"} %lu\n",
              GET(M.quota[0]), GET(M.quota[1]));
    head(sb, "mxdock_milter_ban_refusals_total", "counter",
         "SMTP sessions refused because the client is banned (failed logins).");
    sb_printf(sb, "mxdock_milter_ban_refusals_total %lu\n", GET(M.bans));
    head(sb, "mxdock_milter_policy_checks_total", "counter",
         "Policy decisions (database queries unless exempt or cached), by operation and outcome.");
    for (int o = 0; o < MMDB_N; o++)
        for (int f = 0; f < 2; f++)
            sb_printf(sb, "mxdock_milter_policy_checks_total{op=\"%s\",outcome=\"%s\"} %lu\n",
                      db_names[o], f ? "error" : "ok", GET(M.dbq[o][f]));
    head(sb, "mxdock_milter_policy_check_duration_seconds", "histogram",
         "Time of one policy decision, its database query included, by operation.");
    render_hist(sb, "mxdock_milter_policy_check_duration_seconds", "op", db_names, M.db, MMDB_N,
                db_bounds, NB(db_bounds));
    head(sb, "mxdock_milter_dns_step_duration_seconds", "histogram",
         "Time a message's step spent in DNS lookups (mail: SPF; eoh: Stalwart keys; "
         "eom: DKIM keys and DMARC).");
    render_hist(sb, "mxdock_milter_dns_step_duration_seconds", "step", step_names, M.dns,
                NSTEP, dns_bounds, NB(dns_bounds));
}

static void render_process(struct strbuf *sb)
{
    head(sb, "mxdock_milter_errors_total", "counter", "Errors, by kind.");
    for (int e = 0; e < MME_N; e++)
        sb_printf(sb, "mxdock_milter_errors_total{kind=\"%s\"} %lu\n", err_names[e],
                  GET(M.errors[e]));
    head(sb, "mxdock_milter_reloads_total", "counter",
         "Configuration reloads (SIGUSR1), by result.");
    sb_printf(sb, "mxdock_milter_reloads_total{result=\"ok\"} %lu\n"
              "mxdock_milter_reloads_total{result=\"error\"} %lu\n",
              GET(M.reloads[1]), GET(M.reloads[0]));
    head(sb, "mxdock_milter_build_info", "gauge", "Always 1; the version built.");
    sb_printf(sb, "mxdock_milter_build_info{version=\"%s\"} 1\n", MXDOCK_VERSION);
    head(sb, "mxdock_milter_start_time_seconds", "gauge", "When the milter started (Unix time).");
    sb_printf(sb, "mxdock_milter_start_time_seconds %lld\n", (long long) started);
}

/* count_keys - the key store of C by state into N, unreadable domains
 * (or store) into *BAD.  Every key file is parsed: see keys_cached. */
static void count_keys(const struct mx_conf *c, unsigned long *n, unsigned long *bad)
{
    char  **names = 0, why[256];
    size_t  nd = 0;

    memset(n, 0, NSTATE * sizeof(*n));
    *bad = 0;
    if (c == 0 || dkim_store_domains(c, &names, &nd, why, sizeof(why)) != 0)
        (*bad)++, nd = 0;
    for (size_t i = 0; i < nd; i++) {
        struct dkim_domain *d = 0;

        if (dkim_store_load(c, names[i], &d, why, sizeof(why)) != 0)
            (*bad)++;
        for (size_t k = 0; d && k < d->n; k++)
            n[clamp((int) d->sel[k].state, NSTATE)]++;
        dkim_domain_free(d);
        free(names[i]);
    }
    free(names);
}

/* render_keys - the key store by state, counted at most once every
 * KEYS_TTL seconds (and again when the configuration changed): a store of
 * thousands of domains costs a parse of every key file */
static void render_keys(struct strbuf *sb, const struct mx_conf *c)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static unsigned long cn[NSTATE], cbad;
    static const struct mx_conf *cc;
    static time_t at;
    unsigned long n[NSTATE], bad;
    time_t  now = time(0);

    pthread_mutex_lock(&lock);
    if (c != cc || now < at || now - at >= KEYS_TTL) {
        count_keys(c, cn, &cbad);
        cc = c;
        at = now;
    }
    memcpy(n, cn, sizeof(n));
    bad = cbad;
    pthread_mutex_unlock(&lock);
    head(sb, "mxdock_milter_dkim_keys", "gauge", "DKIM keys in the key store, by state.");
    for (int s = 0; s < NSTATE; s++)
        sb_printf(sb, "mxdock_milter_dkim_keys{state=\"%s\"} %lu\n",
                  dkim_state_name((enum dkim_state) s), n[s]);
    head(sb, "mxdock_milter_dkim_store_unreadable", "gauge",
         "Domains (or the store itself) whose keys could not be read when last counted.");
    sb_printf(sb, "mxdock_milter_dkim_store_unreadable %lu\n", bad);
}

char   *milter_metrics_render(const struct mx_conf *c)
{
    struct strbuf sb = STRBUF_INIT;

    render_messages(&sb);
    render_results(&sb);
    render_policy(&sb);
    render_process(&sb);
    render_keys(&sb, c);
    if (sb_failed(&sb)) {
        sb_free(&sb);
        return 0;
    }
    return sb_steal(&sb);
}
