/*
 * http_serve.c - mxdock-policy serve: libmicrohttpd does HTTP/1.1; this
 * file routes, bounds and answers.
 *
 *   http_daemon_start libmicrohttpd on a listening socket, with:
 *   (static)          on_request: route and check at the headers, take
 *                     the body in bounded pieces, answer at its end;
 *                     on_done/on_conn: free a request, track connections
 *
 * Bounds: policy_http_max_body per body (Content-Length over it: 413
 * before a byte is read; a chunked body that grows over it: the rest is
 * read and dropped, then 413), all bodies in flight together at most 32
 * of those (503 beyond), headers within libmicrohttpd's 16 KB connection
 * memory (larger: its 431), policy_http_max_connections, and
 * policy_http_timeout for each request: a request complete after it gets
 * 408, one still incomplete gets 408 from the sweep in the main loop
 * (http_conn.c), an idle keep-alive connection is closed by
 * libmicrohttpd.  libmicrohttpd sends an answer queued before the body is
 * read only after reading the rest of it, and loses track of a chunked
 * body then: so past the headers a refusal waits for the body's end.
 *
 * Secrets: the token and the bodies (Dovecot's pwhash) are never logged,
 * the token is compared in constant time, and a body is wiped when its
 * request ends.  Log lines for refused requests are bounded and come once
 * a minute per client and code.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "log.h"

#define CONN_MEMORY (16 * 1024)

struct req {
    enum http_ep ep;
    enum http_dovecot_cmd cmd;
    double  start;
    char   *body;
    size_t  len, cap;
    int     answered;           /* a response is queued */
    int     refused;            /* the code to answer at the body's end */
    const char *why;            /* ... and why */
    char    client[64];
};

/* client_of - the peer's address as text ("unix" on a unix socket) */
static void client_of(struct MHD_Connection *conn, char *out, size_t outlen)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : 0;

    snprintf(out, outlen, "unix");
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, out, (socklen_t) outlen);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr, out,
                  (socklen_t) outlen);
}

/* log_refusal - one bounded line per client and code per minute */
static void log_refusal(struct http_ctx *h, const struct req *r, int code, const char *why)
{
    char    key[80];
    long    suppressed;

    snprintf(key, sizeof(key), "%s %d", r->client, code);
    if (!http_deny_log(h->denylog, key, time(0), &suppressed))
        return;
    mx_warn("serve: %d to %.64s: %.160s%s", code, r->client, why,
            suppressed ? " (more like it in the last minute not logged)" : "");
}

/* respond - queue CODE with BODY (LEN bytes, copied) as CTYPE; count it;
 * log WHY for a refusal */
static enum MHD_Result respond(struct http_ctx *h, struct MHD_Connection *conn, struct req *r,
                               int code, const char *body, size_t len, const char *ctype,
                               const char *why)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct MHD_Response *resp;
    enum MHD_Result rc;

    if (http_conns_replying(h->conns, ci ? ci->socket_context : 0) < 0)
        return MHD_NO;                  /* the sweep answered 408 already */
    resp = MHD_create_response_from_buffer(len, (void *) body, MHD_RESPMEM_MUST_COPY);
    if (resp == 0)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (code == 405)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
                                r->ep == HTTP_EP_HEALTH || r->ep == HTTP_EP_METRICS ? "GET, HEAD" : "POST");
    rc = MHD_queue_response(conn, (unsigned int) code, resp);
    MHD_destroy_response(resp);
    r->answered = 1;
    http_metrics_request(h->metrics, r->ep, code, http_now() - r->start);
    if (code >= 400)
        log_refusal(h, r, code, why && *why ? why : "refused");
    return rc;
}

static enum MHD_Result reply(struct http_ctx *h, struct MHD_Connection *conn, struct req *r,
                             const struct http_answer *a)
{
    return respond(h, conn, r, a->code, a->body, strlen(a->body), "application/json", a->why);
}

/* refuse - answer CODE with a JSON error and WHY for the log */
static enum MHD_Result refuse(struct http_ctx *h, struct MHD_Connection *conn, struct req *r,
                              int code, const char *msg, const char *why)
{
    struct http_answer a = {.code = code};

    snprintf(a.body, sizeof(a.body), "{\"error\":\"%s\"}", msg);
    snprintf(a.why, sizeof(a.why), "%s", why);
    return reply(h, conn, r, &a);
}

/* token_ok - "Authorization: Bearer TOKEN"; Dovecot keeps the space after
 * the colon of auth_policy_server_api_header (auth-policy.c:437) */
static int token_ok(const struct http_ctx *h, struct MHD_Connection *conn)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    size_t  n, want = strlen(h->token);

    if (*h->token == 0)
        return 1;
    if (v == 0)
        return 0;
    v += strspn(v, " \t");
    if (strncasecmp(v, "Bearer", 6) != 0 || (v[6] != ' ' && v[6] != '\t'))
        return 0;
    v += 6 + strspn(v + 6, " \t");
    for (n = strlen(v); n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'); n--)
        ;
    return n == want && CRYPTO_memcmp(v, h->token, n) == 0;
}

/* route_dovecot - /dovecot/policy?command=allow|report */
static int route_dovecot(struct MHD_Connection *conn, struct req *r, const char **why)
{
    const char *cmd = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "command");

    r->ep = HTTP_EP_ALLOW;
    if (cmd && strcmp(cmd, "report") == 0)
        r->ep = HTTP_EP_REPORT, r->cmd = HTTP_DOVECOT_REPORT;
    else if (cmd && strcmp(cmd, "allow") == 0)
        r->cmd = HTTP_DOVECOT_ALLOW;
    else {
        *why = "command must be allow or report";
        return 400;
    }
    return 0;
}

/* route - the endpoint of URL and METHOD; 0, or an error code and WHY */
static int route(struct http_ctx *h, struct MHD_Connection *conn, const char *url,
                 const char *method, struct req *r, const char **why)
{
    int     post = strcmp(method, "POST") == 0;
    int     get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    int     code = 0, need_token = 0;
    const char *cl;

    *why = "no such endpoint";
    r->ep = HTTP_EP_OTHER;
    if (strcmp(url, "/dovecot/policy") == 0) {
        code = post ? route_dovecot(conn, r, why) : 405;
        need_token = 1;
    } else if (strcmp(url, "/stalwart/events") == 0) {
        r->ep = HTTP_EP_STALWART;
        code = *h->secret == 0 ? 404 : post ? 0 : 405;
        if (code == 404)
            *why = "stalwart_webhook_secret_file is not set";
    } else if (strcmp(url, "/health") == 0) {
        r->ep = HTTP_EP_HEALTH;
        code = get ? 0 : 405;
    } else if (strcmp(url, "/metrics") == 0) {
        r->ep = HTTP_EP_METRICS;
        code = get ? 0 : 405;
        need_token = 1;
    } else
        return 404;
    if (code == 405)
        *why = "method not allowed";
    if (code == 0 && need_token && !token_ok(h, conn)) {
        *why = "missing or wrong Authorization: Bearer token";
        code = 401;
    }
    cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (code == 0 && cl && strtoull(cl, 0, 10) > (unsigned long long) h->max_body) {
        *why = "body larger than policy_http_max_body";
        code = 413;
    }
    return code;
}

static const char *error_text(int code)
{
    switch (code) {
    case 400: return "bad request";
    case 401: return "unauthorized";
    case 404: return "not found";
    case 405: return "method not allowed";
    case 408: return "request took too long";
    case 413: return "body too large";
    case 503: return "server busy";
    default: return "error";
    }
}

/* begin - the headers are in: route, check, refuse early */
static enum MHD_Result begin(struct http_ctx *h, struct MHD_Connection *conn, const char *url,
                             const char *method, void **con_cls)
{
    struct req *r = calloc(1, sizeof(*r));
    const char *why = "";
    int     code;

    if (r == 0)
        return MHD_NO;
    *con_cls = r;
    r->start = http_now();
    client_of(conn, r->client, sizeof(r->client));
    if ((code = route(h, conn, url, method, r, &why)) != 0)
        return refuse(h, conn, r, code, error_text(code), why);
    return MHD_YES;
}

/* take - one piece of the body, within the bounds; past one, the rest is
 * dropped and the refusal answered at the end */
static enum MHD_Result take(struct http_ctx *h, struct req *r, const char *data, size_t *size)
{
    size_t  n = *size, cap = r->cap ? r->cap : 1024;
    char   *grown;

    *size = 0;
    if (r->refused)
        return MHD_YES;
    if (http_now() - r->start > (double) h->timeout) {
        r->refused = 408, r->why = "body still arriving after policy_http_timeout";
        return MHD_YES;
    }
    if (r->len + n > (size_t) h->max_body) {
        r->refused = 413, r->why = "body larger than policy_http_max_body";
        return MHD_YES;
    }
    while (cap < r->len + n + 1)
        cap *= 2;
    if (cap > r->cap) {
        if (__atomic_add_fetch(&h->body_held, (long) (cap - r->cap), __ATOMIC_RELAXED) > h->body_budget
            || (grown = realloc(r->body, cap)) == 0) {
            __atomic_sub_fetch(&h->body_held, (long) (cap - r->cap), __ATOMIC_RELAXED);
            r->refused = 503, r->why = "bodies in flight over their budget";
            return MHD_YES;
        }
        r->body = grown;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, n);
    r->len += n;
    r->body[r->len] = 0;
    return MHD_YES;
}

/* metrics - the Prometheus text */
static enum MHD_Result metrics(struct http_ctx *h, struct MHD_Connection *conn, struct req *r)
{
    char   *text = http_metrics_render(h->metrics);
    enum MHD_Result rc;

    if (text == 0)
        return refuse(h, conn, r, 503, error_text(503), "out of memory for /metrics");
    rc = respond(h, conn, r, 200, text, strlen(text), "text/plain; version=0.0.4", 0);
    free(text);
    return rc;
}

/* finish - the whole request is in: answer it */
static enum MHD_Result finish(struct http_ctx *h, struct MHD_Connection *conn, struct req *r)
{
    struct http_answer a = {.code = 200};
    const char *body = r->body ? r->body : "";

    if (r->refused)
        return refuse(h, conn, r, r->refused, error_text(r->refused), r->why);
    if (http_now() - r->start > (double) h->timeout)
        return refuse(h, conn, r, 408, error_text(408), "request complete after policy_http_timeout");
    switch (r->ep) {
    case HTTP_EP_ALLOW:
    case HTTP_EP_REPORT:
        http_dovecot(h, r->cmd, body, r->len, &a);
        break;
    case HTTP_EP_STALWART:
        http_stalwart(h, MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Signature"),
                      body, r->len, &a);
        break;
    case HTTP_EP_HEALTH:
        a.code = policy_db_ping(h->policy) == 0 ? 200 : 503;
        snprintf(a.body, sizeof(a.body), "{\"database\":\"%s\"}", a.code == 200 ? "up" : "down");
        snprintf(a.why, sizeof(a.why), "health: policy database unreachable");
        break;
    case HTTP_EP_METRICS:
        return metrics(h, conn, r);
    default:
        return MHD_NO;
    }
    return reply(h, conn, r, &a);
}

/* on_request - libmicrohttpd's access handler: called at the headers,
 * for each piece of the body, and once at its end */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *data, size_t *size, void **con_cls)
{
    struct http_ctx *h = cls;
    struct req *r = *con_cls;

    (void) version;
    if (r == 0)
        return begin(h, conn, url, method, con_cls);
    if (r->answered) {                  /* answered early: what still comes is dropped */
        *size = 0;
        return MHD_YES;
    }
    if (*size)
        return take(h, r, data, size);
    return finish(h, conn, r);
}

/* on_done - a request ended: wipe and free it; its connection waits anew */
static void on_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                    enum MHD_RequestTerminationCode why)
{
    struct http_ctx *h = cls;
    struct req *r = *con_cls;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    (void) why;
    if (ci)
        http_conns_touch(h->conns, ci->socket_context);
    if (r == 0)
        return;
    if (r->body) {
        explicit_bzero(r->body, r->cap);
        __atomic_sub_fetch(&h->body_held, (long) r->cap, __ATOMIC_RELAXED);
        free(r->body);
    }
    free(r);
    *con_cls = 0;
}

/* on_conn - track each connection for the sweep */
static void on_conn(void *cls, struct MHD_Connection *conn, void **socket_context,
                    enum MHD_ConnectionNotificationCode code)
{
    struct http_ctx *h = cls;
    const union MHD_ConnectionInfo *ci;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = ci ? http_conns_add(h->conns, ci->connect_fd) : 0;
    } else {
        http_conns_remove(h->conns, *socket_context);
        *socket_context = 0;
    }
}

struct MHD_Daemon *http_daemon_start(struct http_ctx *h, const struct mx_conf *c, int fd)
{
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;

    return MHD_start_daemon(flags, 0, 0, 0, on_request, h,
                            MHD_OPTION_LISTEN_SOCKET, fd,
                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned int) c->policy_http_threads,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned int) c->policy_http_max_connections,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) c->policy_http_timeout,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) CONN_MEMORY,
                            MHD_OPTION_NOTIFY_COMPLETED, on_done, h,
                            MHD_OPTION_NOTIFY_CONNECTION, on_conn, h,
                            MHD_OPTION_END);
}

