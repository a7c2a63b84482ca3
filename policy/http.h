/*
 * http.h - mxdock-policy serve: the HTTP front of the auth-attempt policy
 * on libmicrohttpd.  It parses, asks policy.h what the milter asks
 * (policy_connect, policy_record_authfail), and answers:
 *
 *   POST /dovecot/policy?command=allow|report   Dovecot 2.3's auth policy
 *   POST /stalwart/events                       Stalwart's telemetry webhook
 *   GET  /health, GET /metrics                  database state, Prometheus
 *
 * Internal to policy/: http_main.c (start, run, stop), http_serve.c (the
 * libmicrohttpd handlers: routing, bounds, answers), http_conn.c
 * (listen address, connection deadlines, rate-limited 401 log lines),
 * http_dovecot.c, http_stalwart.c, http_metrics.c.
 *
 * Ownership: every struct here is owned by the struct http_ctx that
 * http_serve_main() builds; answers are fixed-size, nothing to free.
 */
#ifndef MX_HTTP_H
#define MX_HTTP_H

#include <pthread.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "conf.h"
#include "policy.h"

#define HTTP_SECRET_MAX 512

/* ---- http_metrics.c ---------------------------------------------------- */

enum http_ep { HTTP_EP_ALLOW, HTTP_EP_REPORT, HTTP_EP_STALWART, HTTP_EP_HEALTH,
    HTTP_EP_METRICS, HTTP_EP_OTHER, HTTP_EP_N };
enum http_dec { HTTP_DEC_ACCEPT, HTTP_DEC_DELAY, HTTP_DEC_REFUSE, HTTP_DEC_TEMPFAIL,
    HTTP_DEC_N };
enum http_src { HTTP_SRC_DOVECOT, HTTP_SRC_STALWART, HTTP_SRC_N };

struct http_metrics;

struct http_metrics *http_metrics_new(void);
void    http_metrics_free(struct http_metrics *);
void    http_metrics_request(struct http_metrics *, enum http_ep, int code, double seconds);
void    http_metrics_decision(struct http_metrics *, enum http_dec);
void    http_metrics_failure(struct http_metrics *, enum http_src);
void    http_metrics_db_error(struct http_metrics *);
void    http_metrics_ignored(struct http_metrics *, int duplicate);

/* http_metrics_render - Prometheus text; the caller frees; NULL on memory */
char   *http_metrics_render(const struct http_metrics *);

/* ---- http_conn.c -------------------------------------------------------- */

struct http_listen {
    int     family;             /* AF_INET, AF_INET6 or AF_UNIX */
    struct sockaddr_storage ss;
    socklen_t sslen;
    char    path[sizeof(((struct sockaddr_un *) 0)->sun_path)];
};

/* http_listen_parse - "IP:PORT", "[IPv6]:PORT" or "unix:PATH"; -1 with WHY */
int     http_listen_parse(const char *text, struct http_listen *, char *why, size_t whylen);

/* http_listen_open - a listening socket (a unix socket gets mode 0660,
 * replacing a stale socket file); -1 with WHY */
int     http_listen_open(const struct http_listen *, int backlog, char *why, size_t whylen);

/* http_conns - open connections and when each last started waiting */
struct http_conns;
struct http_conn;

struct http_conns *http_conns_new(void);
void    http_conns_free(struct http_conns *);
struct http_conn *http_conns_add(struct http_conns *, int fd);
void    http_conns_remove(struct http_conns *, struct http_conn *);
void    http_conns_touch(struct http_conns *, struct http_conn *);

/* http_conns_replying - an answer is about to be queued on C; -1 when the
 * sweep answered it already (then queue nothing) */
int     http_conns_replying(struct http_conns *, struct http_conn *c);

/* http_conns_sweep - answer 408 and shut down connections busy longer than
 * LIMIT seconds; returns how many got the 408 */
int     http_conns_sweep(struct http_conns *, double limit);

/* http_deny_log - may a 401 for CLIENT be logged now (once a minute per
 * client)?  *SUPPRESSED gets how many were not logged since the last one. */
struct http_denylog;

struct http_denylog *http_denylog_new(void);
void    http_denylog_free(struct http_denylog *);
int     http_deny_log(struct http_denylog *, const char *client, time_t now, long *suppressed);

/* http_now - monotonic seconds */
double  http_now(void);

/* ---- the shared context ------------------------------------------------- */

struct http_seen;

struct http_ctx {
    struct policy *policy;
    struct http_metrics *metrics;
    struct http_conns *conns;
    struct http_denylog *denylog;
    struct http_seen *seen;
    char    token[HTTP_SECRET_MAX];     /* "" = no token asked */
    char    secret[HTTP_SECRET_MAX];    /* "" = /stalwart/events off */
    long    max_body, timeout, delay_from, delay_max;
    long    body_budget;                /* bytes all bodies in flight may hold */
    long    body_held;                  /* ... and hold now (atomic) */
};

/* http_answer - what an endpoint answers: a code and a JSON body */
struct http_answer {
    int     code;
    char    body[256];
    char    why[160];           /* for the log when code >= 400; never a secret */
};

/* ---- http_dovecot.c ------------------------------------------------------ */

enum http_dovecot_cmd { HTTP_DOVECOT_ALLOW, HTTP_DOVECOT_REPORT };

struct http_dovecot_req {
    char    remote[64];
    char    login[256];
    char    protocol[17];
    int     success, policy_reject, tried_password;
};

/* http_dovecot_parse - Dovecot's JSON body -> REQ; -1 with WHY */
int     http_dovecot_parse(const char *body, size_t len, struct http_dovecot_req *req,
                           char *why, size_t whylen);

/* http_delay - seconds of delay for FAILURES (0 = none): 1 at FROM,
 * doubling with each failure after it, at most MAX; FROM 0 = never */
long    http_delay(long failures, long from, long max);

/* http_dovecot - answer one allow or report request */
void    http_dovecot(struct http_ctx *, enum http_dovecot_cmd, const char *body, size_t len,
                     struct http_answer *);

/* ---- http_stalwart.c ----------------------------------------------------- */

/* http_signature_ok - is SIG (base64, as Stalwart's X-Signature) the
 * HMAC-SHA256 of BODY under KEY?  Compared in constant time. */
int     http_signature_ok(const char *key, const char *body, size_t len, const char *sig);

struct http_seen *http_seen_new(void);
void    http_seen_free(struct http_seen *);

/* http_stalwart - answer one webhook delivery (SIG = X-Signature or NULL) */
void    http_stalwart(struct http_ctx *, const char *sig, const char *body, size_t len,
                      struct http_answer *);

/* ---- http_serve.c, http_main.c -------------------------------------------- */

struct MHD_Daemon;

/* http_daemon_start - libmicrohttpd answering on the listening socket FD
 * with H; NULL when it does not start */
struct MHD_Daemon *http_daemon_start(struct http_ctx *h, const struct mx_conf *c, int fd);

/* http_serve_main - mxdock-policy serve [-f]: runs until SIGTERM/SIGINT;
 * an exit code from <sysexits.h> */
int     http_serve_main(const struct mx_conf *, int argc, char **argv);

#endif
