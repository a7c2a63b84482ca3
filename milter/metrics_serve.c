/*
 * metrics_serve.c - GET /metrics of mxdock-milter on libmicrohttpd, as
 * mxdock-policy serve answers its own (policy/http_serve.c).
 *
 *   milter_metrics_check   milter_metrics_listen is IP:PORT or [IPv6]:PORT
 *   milter_metrics_open    bind it (as root, before fork)
 *   milter_metrics_start   libmicrohttpd's one polling thread answers
 *
 * The address is parsed and bound by policy/http_conn.c, the one listen
 * parser of the house; unix: is refused here (Prometheus scrapes TCP).
 * Every path but /metrics is 404, every method but GET and HEAD 405; no
 * request body is read.  A scrape takes a reference to the current
 * generation for the key store it counts.  The socket and the daemon live
 * until exit (the process ends after smfi_main returns).
 *
 * Diagnostics: bad address or bind failure at start-up is fatal
 * (EX_CONFIG, EX_UNAVAILABLE); a failed render answers 500.
 */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "gen.h"
#include "http.h"
#include "log.h"
#include "metrics.h"

#define METRICS_CONNS   16      /* scrapers at once */
#define METRICS_TIMEOUT 10      /* seconds a scraper may idle */

static int metrics_fd = -1;
static struct MHD_Daemon *metrics_daemon;
static char metrics_addr[80];

int     milter_metrics_check(const struct mx_conf *c, char *why, size_t whylen)
{
    struct http_listen l;
    char    w[200];

    if (c->milter_metrics_listen == 0 || *c->milter_metrics_listen == 0)
        return 0;
    if (strncmp(c->milter_metrics_listen, "unix:", 5) == 0
        || http_listen_parse(c->milter_metrics_listen, &l, w, sizeof(w)) != 0)
        return snprintf(why, whylen, "%s: milter_metrics_listen: \"%.80s\" is not IP:PORT or "
                        "[IPv6]:PORT", c->path, c->milter_metrics_listen), -1;
    return 0;
}

void    milter_metrics_open(const struct mx_conf *c)
{
    struct http_listen l;
    char    why[300];

    if (c->milter_metrics_listen == 0 || *c->milter_metrics_listen == 0)
        return;
    if (milter_metrics_check(c, why, sizeof(why)) != 0
        || http_listen_parse(c->milter_metrics_listen, &l, why, sizeof(why)) != 0)
        mx_fatal(EX_CONFIG, "%s", why);
    if ((metrics_fd = http_listen_open(&l, 16, why, sizeof(why))) < 0)
        mx_fatal(EX_UNAVAILABLE, "milter_metrics_listen %s: %s", c->milter_metrics_listen, why);
    snprintf(metrics_addr, sizeof(metrics_addr), "%s", c->milter_metrics_listen);
    milter_metrics_started(time(0));
}

/* answer - CODE with BODY (copied) */
static enum MHD_Result answer(struct MHD_Connection *conn, unsigned int code, const char *body,
                              const char *ctype)
{
    struct MHD_Response *r;
    enum MHD_Result rc;

    r = MHD_create_response_from_buffer(strlen(body), (void *) body, MHD_RESPMEM_MUST_COPY);
    if (r == 0)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    rc = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return rc;
}

/* scrape - the text, with the current generation's key store */
static enum MHD_Result scrape(struct MHD_Connection *conn)
{
    struct milter_gen *g = milter_gen_acquire();
    char   *text = milter_metrics_render(g ? g->conf : 0);
    enum MHD_Result rc;

    milter_gen_release(g);
    if (text == 0)
        return answer(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n", "text/plain");
    rc = answer(conn, MHD_HTTP_OK, text, "text/plain; version=0.0.4; charset=utf-8");
    free(text);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *data, size_t *size, void **con_cls)
{
    static int first;

    (void) cls, (void) version, (void) data;
    if (*con_cls == 0) {                /* headers only: answer with the last call */
        *con_cls = &first;
        return MHD_YES;
    }
    if (*size) {                        /* a body nobody asked for: dropped */
        *size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return answer(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n", "text/plain");
    if (strcmp(url, "/metrics") != 0)
        return answer(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n", "text/plain");
    return scrape(conn);
}

void    milter_metrics_start(void)
{
    if (metrics_fd < 0)
        return;
    metrics_daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, 0, 0,
                                      on_request, 0,
                                      MHD_OPTION_LISTEN_SOCKET, metrics_fd,
                                      MHD_OPTION_CONNECTION_LIMIT, (unsigned int) METRICS_CONNS,
                                      MHD_OPTION_CONNECTION_TIMEOUT,
                                      (unsigned int) METRICS_TIMEOUT,
                                      MHD_OPTION_END);
    if (metrics_daemon == 0)
        mx_fatal(EX_OSERR, "cannot start the metrics server");
    mx_info("metrics on http://%s/metrics", metrics_addr);
}
