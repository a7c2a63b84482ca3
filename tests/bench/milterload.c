/*
 * milterload - a load generator that speaks the milter protocol to any
 * milter socket, as Postfix's smtp-source does for SMTP.
 *
 *   milterload --socket=inet:PORT@127.0.0.1 [--socket=... (a chain)]
 *              --corpus=DIR [--conns=N] [--seconds=S] [--count=N]
 *              [--warmup=N] [--session=N] [--quit-nc] [--nodelay] [--coalesce]
 *              [--client-addr=IP] [--client-name=NAME] [--helo=NAME]
 *              [--rcpt=ADDR] [--from=ADDR] [--auth=USER] [--daemon-name=NAME]
 *              [--expect-header=NAME[:COUNT]] [--expect-no-header=NAME]
 *              [--expect-value=NAME:TEXT] [--expect-ar=TEXT]
 *              [--expect-verdict=accept|reject|tempfail|discard]
 *              [--expect-reply=TEXT] [--pid=PID ...] [--label=TEXT] [--dump]
 *
 * N threads, each with its own connection(s) to the milter(s), replay the
 * corpus round robin, --session=N messages per SMTP session (default 1)
 * with SMFIC_ABORT between them, and at the end of a session SMFIC_QUIT and
 * a new connection, as Postfix does.  --quit-nc keeps the connection with
 * SMFIC_QUIT_NC instead, but libmilter takes QUIT_NC only after an
 * end-of-message answered CONTINUE (an ACCEPT, REJECT or TEMPFAIL resets it
 * to the HELO state, where QUIT_NC and CONNECT are ignored and the client
 * hangs): so it is for milters that answer CONTINUE.  Every reply is checked against
 * the --expect-* options: a wrong or missing header or verdict makes the
 * run fail (exit 1), however fast it was.
 *
 * Output: one line on stdout, key=value: msgs, secs, rate (msgs/s), p50_ms,
 * p95_ms, p99_ms, max_ms, cpu_ms (the --pid processes' utime+stime per
 * message, from /proc), client_cpu_ms, rss_kb (their VmRSS after the run),
 * fails, errors.  The first failures are described on stderr.
 * Exit: 0, 1 (failed checks or errors), EX_USAGE, EX_NOINPUT.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "ml.h"

#define MAX_EXPECT  16
#define MAX_PIDS    8
#define MAX_FAILS   50

struct expect {
    char    kind;               /* 'h' count, 'n' absent, 'v' value contains */
    char    name[64];
    char    text[256];
    int     count;              /* -1: at least one */
};

static struct opts {
    const char *sockets[ML_MAX_CHAIN];
    int     nsock;
    const char *corpus, *label, *verdict, *reply;
    int     conns, warmup, session, quitnc, nodelay, coalesce, dump;
    double  seconds;
    long    count;
    struct ml_env env;
    struct expect ex[MAX_EXPECT];
    int     nex;
    int     pids[MAX_PIDS];
    int     npid;
} opt;

static struct ml_msg *corpus;
static size_t ncorpus;
static pthread_barrier_t start_line;
static atomic_long issued;
static atomic_int fails, errors, dumped;

struct worker {
    pthread_t tid;
    int     id;
    struct ml_link chain[ML_MAX_CHAIN];
    double *lat;
    size_t  nlat, cap;
};

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

/* count_added - headers named NAME that the milters added or inserted. */
static int count_added(const struct ml_result *r, const char *name, const char *text)
{
    int     i, n = 0;

    for (i = 0; i < r->nchg; i++)
        if ((r->chg[i].op == 'h' || r->chg[i].op == 'i')
            && strcasecmp(r->chg[i].name, name) == 0
            && (text == NULL || strcasestr(r->chg[i].value, text)))
            n++;
    return n;
}

/* check - NULL when R is what the options expect, else why not (in BUF). */
static const char *check(const struct ml_result *r, char *buf, size_t len)
{
    const char *want = opt.verdict ? opt.verdict : "accept";
    int     i, n;

    if (r->err[0])
        return r->err;
    if (r->verdict != want[0]) {
        snprintf(buf, len, "verdict '%c' at '%c' %.100s, want %s", r->verdict, r->step,
                 r->reply, want);
        return buf;
    }
    if (opt.reply && strncmp(r->reply, opt.reply, strlen(opt.reply)) != 0) {
        snprintf(buf, len, "reply \"%.100s\", want \"%s...\"", r->reply, opt.reply);
        return buf;
    }
    for (i = 0; i < opt.nex; i++) {
        const struct expect *e = &opt.ex[i];

        n = count_added(r, e->name, e->kind == 'v' ? e->text : NULL);
        if ((e->kind == 'h' && (e->count < 0 ? n < 1 : n != e->count))
            || (e->kind == 'n' && n != 0) || (e->kind == 'v' && n < 1)) {
            if (e->kind == 'n')
                snprintf(buf, len, "%d added %s header(s), want none", n, e->name);
            else if (e->kind == 'v')
                snprintf(buf, len, "no added %s header containing \"%s\"", e->name, e->text);
            else if (e->count < 0)
                snprintf(buf, len, "no added %s header, want at least one", e->name);
            else
                snprintf(buf, len, "%d added %s header(s), want %d", n, e->name, e->count);
            return buf;
        }
    }
    return NULL;
}

static void dump(const struct ml_msg *m, const struct ml_result *r)
{
    int     i;

    fprintf(stderr, "milterload: %s: verdict '%c' at '%c' %s\n", m->path, r->verdict,
            r->step, r->reply);
    for (i = 0; i < r->nchg; i++)
        fprintf(stderr, "  %c %s: %.300s\n", r->chg[i].op, r->chg[i].name, r->chg[i].value);
}

static int open_chain(struct worker *w)
{
    char    err[256];
    int     i;

    for (i = 0; i < opt.nsock; i++)
        if (ml_link_open(&w->chain[i], opt.sockets[i], opt.nodelay, opt.coalesce, err,
                         sizeof err) < 0) {
            if (atomic_fetch_add(&errors, 1) < 5)
                fprintf(stderr, "milterload: connection %d: %s\n", w->id, err);
            return -1;
        }
    return 0;
}

static void close_chain(struct worker *w)
{
    int     i;

    for (i = 0; i < opt.nsock; i++)
        ml_link_close(&w->chain[i]);
}

/* one - send message K of this worker and check the result; its latency
 * in ms, or -1 after an error or a failed check. */
static double one(struct worker *w, long k)
{
    const struct ml_msg *m = &corpus[(size_t) (w->id + k) % ncorpus];
    struct ml_result res;
    char    qid[32], why[512];
    const char *bad;
    double  t0 = now(), t;
    int     end = (k + 1) % opt.session == 0;

    snprintf(qid, sizeof qid, "%04X%07lX", w->id, k);
    if (ml_message(w->chain, opt.nsock, &opt.env, m, qid, &res) < 0) {
        if (atomic_fetch_add(&errors, 1) < 5)
            fprintf(stderr, "milterload: %s: %s\n", m->path, res.err);
        close_chain(w);
        open_chain(w);
        return -1;
    }
    if (end && (!opt.quitnc || res.reopen)) {
        ml_between(w->chain, opt.nsock, 1, 1);
        close_chain(w);
        open_chain(w);
    } else
        ml_between(w->chain, opt.nsock, end, 0);
    t = (now() - t0) * 1e3;
    if (opt.dump && atomic_fetch_add(&dumped, 1) == 0)
        dump(m, &res);
    if ((bad = check(&res, why, sizeof why)) != NULL) {
        if (atomic_fetch_add(&fails, 1) < 5)
            fprintf(stderr, "milterload: FAIL %s: %s\n", m->path, bad);
        return -1;
    }
    return t;
}

static void *run(void *arg)
{
    struct worker *w = arg;
    long    k = 0;
    double  t, deadline;

    open_chain(w);
    for (; k < opt.warmup; k++)
        one(w, k);
    pthread_barrier_wait(&start_line);
    deadline = now() + opt.seconds;
    for (; atomic_load(&fails) + atomic_load(&errors) < MAX_FAILS; k++) {
        if (opt.count && atomic_fetch_add(&issued, 1) >= opt.count)
            break;
        if (now() > deadline)
            break;
        if ((t = one(w, k)) < 0)
            continue;
        if (w->nlat == w->cap && (w->lat = realloc(w->lat, (w->cap = 2 * w->cap + 1024)
                                                   * sizeof *w->lat)) == NULL)
            abort();
        w->lat[w->nlat++] = t;
    }
    ml_between(w->chain, opt.nsock, 1, 1);
    close_chain(w);
    return NULL;
}

/* proc_cpu - utime+stime of the --pid processes, in ms; RSS in kB. */
static double proc_cpu(long *rss_kb)
{
    char    path[64], buf[1024], *p;
    unsigned long ut, st;
    double  ms = 0;
    int     i;
    FILE   *fp;

    *rss_kb = 0;
    for (i = 0; i < opt.npid; i++) {
        snprintf(path, sizeof path, "/proc/%d/stat", opt.pids[i]);
        if ((fp = fopen(path, "r")) != NULL && fgets(buf, sizeof buf, fp)
            && (p = strrchr(buf, ')')) != NULL
            && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
                      &ut, &st) == 2)
            ms += (double) (ut + st) * 1e3 / (double) sysconf(_SC_CLK_TCK);
        if (fp)
            fclose(fp);
        snprintf(path, sizeof path, "/proc/%d/status", opt.pids[i]);
        if ((fp = fopen(path, "r")) == NULL)
            continue;
        while (fgets(buf, sizeof buf, fp))
            if (strncmp(buf, "VmRSS:", 6) == 0)
                *rss_kb += atol(buf + 6);
        fclose(fp);
    }
    return ms;
}

static double self_cpu(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3
        + (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static int cmpd(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}

/* report - merge the workers' latencies and print the result line. */
static void report(struct worker *w, double secs, double cpu_ms, double client_ms, long rss)
{
    size_t  n = 0, i, j;
    double *all;

    for (i = 0; i < (size_t) opt.conns; i++)
        n += w[i].nlat;
    if ((all = malloc((n + 1) * sizeof *all)) == NULL)
        abort();
    for (n = 0, i = 0; i < (size_t) opt.conns; i++)
        for (j = 0; j < w[i].nlat; j++)
            all[n++] = w[i].lat[j];
    qsort(all, n, sizeof *all, cmpd);
    all[n] = 0;
#define PCT(q) (n ? all[(size_t) ((q) * (double) (n - 1) + 0.5)] : 0.0)
    printf("label=%s msgs=%zu secs=%.3f rate=%.1f p50_ms=%.3f p95_ms=%.3f p99_ms=%.3f "
           "max_ms=%.3f cpu_ms=%.4f client_cpu_ms=%.4f rss_kb=%ld fails=%d errors=%d\n",
           opt.label ? opt.label : "-", n, secs, n / secs, PCT(0.50), PCT(0.95), PCT(0.99),
           n ? all[n - 1] : 0.0, n && opt.npid ? cpu_ms / (double) n : 0.0,
           n ? client_ms / (double) n : 0.0, rss, atomic_load(&fails), atomic_load(&errors));
    free(all);
}

static void usage(const char *why)
{
    fprintf(stderr, "milterload: %s\nusage: milterload --socket=SPEC --corpus=DIR "
            "[--conns=N] [--seconds=S] [--count=N] [--expect-...] (see the source)\n", why);
    exit(EX_USAGE);
}

/* expect - parse one --expect-* option value into the table. */
static void expect(char kind, const char *v)
{
    struct expect *e = &opt.ex[opt.nex];
    const char *colon = strchr(v, ':');

    if (opt.nex >= MAX_EXPECT)
        usage("too many --expect options");
    opt.nex++;
    e->kind = kind;
    e->count = -1;
    snprintf(e->name, sizeof e->name, "%.*s", colon ? (int) (colon - v) : (int) strlen(v), v);
    if (kind == 'v' && colon)
        snprintf(e->text, sizeof e->text, "%s", colon + 1);
    else if (kind == 'v')
        usage("--expect-value wants NAME:TEXT");
    if (kind == 'h' && colon)
        e->count = atoi(colon + 1);
}

#define ARG(name) (strncmp(a, name "=", sizeof name) == 0 ? (v = a + sizeof name) : NULL)

static void parse_args(int argc, char **argv)
{
    const char *v;
    int     i;

    opt.conns = 1, opt.seconds = 3, opt.warmup = 20, opt.session = 1;
    opt.env = (struct ml_env) {"192.0.2.10", "client.example.net", "client.example.net",
        "user@rcpt.bench.test", NULL, "smtpd", NULL};
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (ARG("--socket") && opt.nsock < ML_MAX_CHAIN) opt.sockets[opt.nsock++] = v;
        else if (ARG("--corpus")) opt.corpus = v;
        else if (ARG("--conns")) opt.conns = atoi(v);
        else if (ARG("--seconds")) opt.seconds = atof(v);
        else if (ARG("--count")) opt.count = atol(v);
        else if (ARG("--warmup")) opt.warmup = atoi(v);
        else if (ARG("--session")) opt.session = atoi(v);
        else if (strcmp(a, "--quit-nc") == 0) opt.quitnc = 1;
        else if (strcmp(a, "--nodelay") == 0) opt.nodelay = 1;
        else if (strcmp(a, "--coalesce") == 0) opt.coalesce = 1;
        else if (strcmp(a, "--dump") == 0) opt.dump = 1;
        else if (ARG("--client-addr")) opt.env.client_addr = v;
        else if (ARG("--client-name")) opt.env.client_name = v;
        else if (ARG("--helo")) opt.env.helo = v;
        else if (ARG("--rcpt")) opt.env.rcpt = v;
        else if (ARG("--from")) opt.env.from = v;
        else if (ARG("--auth")) opt.env.auth = v;
        else if (ARG("--daemon-name")) opt.env.daemon_name = v;
        else if (ARG("--expect-header")) expect('h', v);
        else if (ARG("--expect-no-header")) expect('n', v);
        else if (ARG("--expect-value")) expect('v', v);
        else if (ARG("--expect-ar")) {
            char    buf[300];

            snprintf(buf, sizeof buf, "Authentication-Results:%s", v);
            expect('v', strdup(buf));
        } else if (ARG("--expect-verdict")) opt.verdict = v;
        else if (ARG("--expect-reply")) opt.reply = v;
        else if (ARG("--pid") && opt.npid < MAX_PIDS) opt.pids[opt.npid++] = atoi(v);
        else if (ARG("--label")) opt.label = v;
        else usage(a);
    }
    if (opt.nsock == 0 || opt.corpus == NULL)
        usage("--socket and --corpus are required");
    if (opt.conns < 1 || opt.conns > 4096 || opt.session < 1 || opt.warmup < 0)
        usage("--conns 1..4096, --session >= 1, --warmup >= 0");
    if (opt.verdict && strchr("artd", opt.verdict[0]) == NULL)
        usage("--expect-verdict=accept|reject|tempfail|discard");
    if (opt.count && opt.seconds == 3)
        opt.seconds = 3600;
}

int     main(int argc, char **argv)
{
    struct worker *w;
    pthread_attr_t attr;
    double  t0, cpu0, self0, secs, cpu;
    long    rss;
    char    err[512];
    int     i;

    parse_args(argc, argv);
    if (ml_corpus_load(opt.corpus, &corpus, &ncorpus, err, sizeof err) < 0) {
        fprintf(stderr, "milterload: %s\n", err);
        return EX_NOINPUT;
    }
    w = calloc((size_t) opt.conns, sizeof *w);
    pthread_barrier_init(&start_line, NULL, (unsigned) opt.conns + 1);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (i = 0; i < opt.conns; i++) {
        w[i].id = i;
        if (pthread_create(&w[i].tid, &attr, run, &w[i]) != 0) {
            fprintf(stderr, "milterload: cannot start thread %d\n", i);
            return EX_OSERR;
        }
    }
    pthread_barrier_wait(&start_line);
    t0 = now();
    cpu0 = proc_cpu(&rss);
    self0 = self_cpu();
    for (i = 0; i < opt.conns; i++)
        pthread_join(w[i].tid, NULL);
    secs = now() - t0;
    cpu = proc_cpu(&rss) - cpu0;
    report(w, secs, cpu, self_cpu() - self0, rss);
    for (i = 0; i < opt.conns; i++)
        free(w[i].lat);
    free(w);
    ml_corpus_free(corpus, ncorpus);
    return atomic_load(&fails) || atomic_load(&errors) ? 1 : 0;
}
