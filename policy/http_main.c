/*
 * http_main.c - mxdock-policy serve [-f]: start, run, stop.
 *
 *   http_serve_main   read the settings and secrets, listen, start
 *                     libmicrohttpd (http_serve.c), wait for SIGTERM or
 *                     SIGINT while sweeping slow connections, stop
 *
 * Exit codes: EX_USAGE for the command line, EX_CONFIG for a bad
 * policy_http_listen, an unreadable or world-readable token or key file,
 * or authfail_enable off; EX_UNAVAILABLE when it cannot listen.  The token
 * and the webhook key are read once, trimmed, never logged, and wiped at
 * exit.
 */
#include <malloc.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sysexits.h>
#include <unistd.h>

#include "fileio.h"
#include "http.h"
#include "log.h"

#define BODY_BUDGET_FACTOR 32   /* all bodies in flight: 32 x policy_http_max_body */

/* read_secret - FILE's first line, trimmed, into OUT ("" when FILE is "");
 * -1 after a message on stderr */
static int read_secret(const char *key, const char *file, char *out, size_t outlen)
{
    char    why[300];
    size_t  n;

    *out = 0;
    if (*file == 0)
        return 0;
    if (mx_read_secret(file, out, outlen, why, sizeof(why)) < 0) {
        fprintf(stderr, "mxdock-policy: %s: %s\n", key, why);
        return -1;
    }
    n = strlen(out);
    while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
        out[--n] = 0;
    n = strspn(out, " \t");
    memmove(out, out + n, strlen(out + n) + 1);
    if (*out == 0) {
        fprintf(stderr, "mxdock-policy: %s: %s holds only white space\n", key, file);
        return -1;
    }
    return 0;
}

/* raise_nofile - room for MAXCONN connections plus the database's */
static void raise_nofile(long maxconn)
{
    struct rlimit rl;
    rlim_t  want = (rlim_t) maxconn + 64;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < want)
        mx_warn("serve: open files limited to %llu; policy_http_max_connections = %ld "
                "may not be reached", (unsigned long long) rl.rlim_cur, maxconn);
}

/* ctx_open - the context; -1 after a message on stderr */
static int ctx_open(struct http_ctx *h, const struct mx_conf *c)
{
    memset(h, 0, sizeof(*h));
    if (read_secret("policy_http_token_file", c->policy_http_token_file, h->token,
                    sizeof(h->token)) < 0
        || read_secret("stalwart_webhook_secret_file", c->stalwart_webhook_secret_file,
                       h->secret, sizeof(h->secret)) < 0)
        return -1;
    h->max_body = c->policy_http_max_body;
    h->timeout = c->policy_http_timeout;
    h->delay_from = c->policy_http_delay_from;
    h->delay_max = c->policy_http_delay_max;
    h->body_budget = BODY_BUDGET_FACTOR * c->policy_http_max_body;
    h->metrics = http_metrics_new();
    h->conns = http_conns_new();
    h->denylog = http_denylog_new();
    h->seen = http_seen_new();
    h->policy = policy_open(c);
    if (!h->metrics || !h->conns || !h->denylog || !h->seen || !h->policy) {
        fprintf(stderr, "mxdock-policy: serve: out of memory\n");
        return -1;
    }
    return 0;
}

static void ctx_close(struct http_ctx *h)
{
    policy_close(h->policy);
    http_metrics_free(h->metrics);
    http_conns_free(h->conns);
    http_denylog_free(h->denylog);
    http_seen_free(h->seen);
    OPENSSL_cleanse(h->token, sizeof(h->token));
    OPENSSL_cleanse(h->secret, sizeof(h->secret));
}

/* run - wait for SIGTERM or SIGINT, sweeping once a second; every few
 * seconds hand the memory a burst of connections left free back to the
 * system (the worker threads' malloc arenas keep it otherwise) */
static void run(struct http_ctx *h, const sigset_t *set)
{
    struct timespec second = {1, 0};
    int     sig, cut;

    for (unsigned long tick = 1;; tick++) {
        if (tick % 5 == 0)
            malloc_trim(0);
        sig = sigtimedwait(set, 0, &second);
        if (sig == SIGTERM || sig == SIGINT)
            return;
        if (sig == SIGHUP)
            mx_info("serve: SIGHUP ignored; restart serve to read changed files");
        if ((cut = http_conns_sweep(h->conns, (double) h->timeout + 1)) > 0) {
            for (int i = 0; i < cut; i++)
                http_metrics_request(h->metrics, HTTP_EP_OTHER, 408, (double) h->timeout + 1);
            mx_warn("serve: 408 to %d connection(s) busy longer than policy_http_timeout", cut);
        }
    }
}

/* listen_on - open the parsed policy_http_listen; -1 after a message */
static int listen_on(const struct mx_conf *c, const struct http_listen *l)
{
    char    why[200];
    int     fd;

    if ((fd = http_listen_open(l, 511, why, sizeof(why))) < 0)
        fprintf(stderr, "mxdock-policy: cannot listen on %.100s: %s\n", c->policy_http_listen, why);
    return fd;
}

int     http_serve_main(const struct mx_conf *c, int argc, char **argv)
{
    struct http_ctx h;
    struct http_listen l;
    struct MHD_Daemon *d;
    sigset_t set;
    char    why[200];
    int     fd, fg = argc == 1 && strcmp(argv[0], "-f") == 0;

    if (argc > 1 || (argc == 1 && !fg)) {
        fprintf(stderr, "mxdock-policy: usage: serve [-f]\n");
        return EX_USAGE;
    }
    if (!c->authfail_enable) {
        fprintf(stderr, "mxdock-policy: serve needs authfail_enable = yes\n");
        return EX_CONFIG;
    }
    if (http_listen_parse(c->policy_http_listen, &l, why, sizeof(why)) < 0) {
        fprintf(stderr, "mxdock-policy: policy_http_listen: %s\n", why);
        return EX_CONFIG;
    }
    mx_log_init("mxdock-policy", fg, "mail");
    if (ctx_open(&h, c) < 0) {
        ctx_close(&h);
        return EX_CONFIG;
    }
    if ((fd = listen_on(c, &l)) < 0) {
        ctx_close(&h);
        return EX_UNAVAILABLE;
    }
    raise_nofile(c->policy_http_max_connections);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, 0);        /* libmicrohttpd's threads inherit it */
    if ((d = http_daemon_start(&h, c, fd)) == 0) {
        fprintf(stderr, "mxdock-policy: libmicrohttpd did not start on %.100s\n",
                c->policy_http_listen);
        close(fd);
        ctx_close(&h);
        return EX_UNAVAILABLE;
    }
    mx_info("serve: listening on %.100s (token %s, Stalwart webhook %s)", c->policy_http_listen,
            *h.token ? "required" : "NOT required", *h.secret ? "on" : "off");
    run(&h, &set);
    mx_info("serve: stopping");
    MHD_stop_daemon(d);
    close(fd);
    if (l.family == AF_UNIX)
        unlink(l.path);
    ctx_close(&h);
    return 0;
}
