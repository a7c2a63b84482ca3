/*
 * libloop - the library limit: libopendkim signing or verifying the bench
 * messages in-process, with no milter protocol, no socket and no DNS (keys
 * for verifying come from a file, DKIM_QUERY_FILE).  No milter built on
 * libopendkim can do better than this per message.
 *
 *   libloop --mode=sign --key=PEM --selector=S --alg=rsa|ed [--threads=N]
 *           [--seconds=S] [--label=TEXT] MESSAGE
 *   libloop --mode=verify --keyfile=FILE [--threads=N] [--seconds=S] MESSAGE
 *
 * FILE for verifying has one line per key: "S._domainkey.DOMAIN TXT-value".
 * Signing uses relaxed/relaxed and d=bench.test; verifying checks that the
 * message's first signature passes.  Every result is checked: a failure
 * ends the run with exit 1.
 *
 * Output: one line, key=value: msgs, secs, rate (msgs/s over all threads),
 * cpu_ms (process CPU per message), fails.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sysexits.h>
#include <time.h>

#include <opendkim/dkim.h>

#include "ml.h"

static struct {
    const char *mode, *keypath, *keyfile, *selector, *alg, *label;
    int     threads;
    double  seconds;
} opt = {"sign", NULL, NULL, "rsa", "rsa", "-", 1, 2};

static DKIM_LIB *lib;
static unsigned char *key;
static struct ml_msg *msg;
static char **hdrs;             /* "Name:value" with CRLF folds */
static atomic_long total;
static atomic_int fails;

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_ms(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3
        + (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* header_text - "Name:value" as libopendkim wants it, folds as CRLF. */
static char *header_text(const struct ml_header *h)
{
    char   *out = malloc(strlen(h->name) + 2 * strlen(h->value) + 2), *o = out;
    const char *v;

    if (out == NULL)
        abort();
    o += sprintf(o, "%s:", h->name);
    for (v = h->value; *v; v++) {
        if (*v == '\n')
            *o++ = '\r';
        *o++ = *v;
    }
    *o = 0;
    return out;
}

/* feed - headers, end of headers, body and end of message into D. */
static DKIM_STAT feed(DKIM *d)
{
    DKIM_STAT st = DKIM_STAT_OK;
    size_t  i;

    for (i = 0; i < msg->nhdr && st == DKIM_STAT_OK; i++)
        st = dkim_header(d, (unsigned char *) hdrs[i], strlen(hdrs[i]));
    if (st == DKIM_STAT_OK)
        st = dkim_eoh(d);
    if (st == DKIM_STAT_OK)
        st = dkim_body(d, (unsigned char *) msg->body, msg->bodylen);
    if (st == DKIM_STAT_OK)
        st = dkim_eom(d, NULL);
    return st;
}

/* one - sign or verify the message once; 0 when it worked. */
static int one(long n)
{
    unsigned char id[32], *sig;
    size_t  len;
    DKIM_STAT st;
    DKIM   *d;

    snprintf((char *) id, sizeof id, "loop%ld", n);
    if (opt.mode[0] == 's')
        d = dkim_sign(lib, id, NULL, key, (const unsigned char *) opt.selector,
                      (const unsigned char *) "bench.test", DKIM_CANON_RELAXED,
                      DKIM_CANON_RELAXED, opt.alg[0] == 'e' ? DKIM_SIGN_ED25519SHA256
                      : DKIM_SIGN_RSASHA256, -1, &st);
    else
        d = dkim_verify(lib, id, NULL, &st);
    if (d == NULL)
        return -1;
    st = feed(d);
    if (st == DKIM_STAT_OK && opt.mode[0] == 's')
        st = dkim_getsighdr_d(d, strlen("DKIM-Signature: "), &sig, &len);
    dkim_free(d);
    return st == DKIM_STAT_OK ? 0 : -1;
}

static void *run(void *arg)
{
    double  end = now() + opt.seconds;
    long    n = 0;

    (void) arg;
    while (now() < end && atomic_load(&fails) == 0) {
        if (one(n++) < 0 && atomic_fetch_add(&fails, 1) == 0)
            fprintf(stderr, "libloop: %s of %s failed\n", opt.mode, msg->path);
        atomic_fetch_add(&total, 1);
    }
    return NULL;
}

#define ARG(name) (strncmp(a, name "=", sizeof name) == 0 ? (v = a + sizeof name) : NULL)

static const char *parse_args(int argc, char **argv)
{
    const char *v, *path = NULL;
    int     i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (ARG("--mode")) opt.mode = v;
        else if (ARG("--key")) opt.keypath = v;
        else if (ARG("--keyfile")) opt.keyfile = v;
        else if (ARG("--selector")) opt.selector = v;
        else if (ARG("--alg")) opt.alg = v;
        else if (ARG("--threads")) opt.threads = atoi(v);
        else if (ARG("--seconds")) opt.seconds = atof(v);
        else if (ARG("--label")) opt.label = v;
        else if (a[0] != '-') path = a;
        else path = NULL, i = argc;
    }
    return path;
}

/* setup - the library handle, the key, the message. */
static int setup(const char *path)
{
    char    err[256];
    size_t  n, i;
    int     q = DKIM_QUERY_FILE;
    FILE   *fp;

    if ((lib = dkim_init(NULL, NULL)) == NULL)
        return EX_SOFTWARE;
    if (opt.keyfile) {
        dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYMETHOD, &q, sizeof q);
        dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYINFO, (void *) opt.keyfile,
                     strlen(opt.keyfile));
    }
    if (opt.keypath) {
        if ((fp = fopen(opt.keypath, "r")) == NULL
            || (key = calloc(1, 16384)) == NULL || fread(key, 1, 16383, fp) == 0) {
            fprintf(stderr, "libloop: %s: cannot read the key\n", opt.keypath);
            return EX_NOINPUT;
        }
        fclose(fp);
    }
    if (ml_corpus_load(path, &msg, &n, err, sizeof err) < 0) {
        fprintf(stderr, "libloop: %s\n", err);
        return EX_NOINPUT;
    }
    if ((hdrs = calloc(msg->nhdr, sizeof *hdrs)) == NULL)
        abort();
    for (i = 0; i < msg->nhdr; i++)
        hdrs[i] = header_text(&msg->hdr[i]);
    return 0;
}

int     main(int argc, char **argv)
{
    const char *path = parse_args(argc, argv);
    pthread_t tid[64];
    double  t0, c0, secs;
    int     i, rc;

    if (path == NULL || opt.threads < 1 || opt.threads > 64
        || (opt.mode[0] == 's' && opt.keypath == NULL)
        || (opt.mode[0] == 'v' && opt.keyfile == NULL)) {
        fprintf(stderr, "usage: libloop --mode=sign --key=PEM --selector=S --alg=rsa|ed "
                "| --mode=verify --keyfile=FILE [--threads=N] [--seconds=S] MESSAGE\n");
        return EX_USAGE;
    }
    if ((rc = setup(path)) != 0)
        return rc;
    if (one(-1) < 0) {
        fprintf(stderr, "libloop: %s of %s failed\n", opt.mode, path);
        return 1;
    }
    t0 = now();
    c0 = cpu_ms();
    for (i = 0; i < opt.threads; i++)
        pthread_create(&tid[i], NULL, run, NULL);
    for (i = 0; i < opt.threads; i++)
        pthread_join(tid[i], NULL);
    secs = now() - t0;
    printf("label=%s msgs=%ld secs=%.3f rate=%.1f cpu_ms=%.4f fails=%d\n", opt.label,
           atomic_load(&total), secs, atomic_load(&total) / secs,
           (cpu_ms() - c0) / (double) atomic_load(&total), atomic_load(&fails));
    return atomic_load(&fails) ? 1 : 0;
}
