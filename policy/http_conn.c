/*
 * http_conn.c - the sockets of mxdock-policy serve.
 *
 *   http_listen_parse    policy_http_listen: IP:PORT, [IPv6]:PORT, unix:PATH
 *   http_listen_open     bind and listen (unix sockets mode 0660)
 *   http_conns_*         open connections and when each started waiting:
 *                        the sweep shuts down those past the time bound
 *   http_denylog_*       a 401 logged once a minute per client
 *   http_now             monotonic seconds
 *
 * libmicrohttpd bounds idle time, not the time of a request a client
 * trickles in byte by byte; the sweep bounds that.  A connection busy
 * past the bound whose request has no answer queued gets a fixed
 * "408 Request Timeout" written and its sending side shut; a second later
 * its receiving side too, so libmicrohttpd closes it (the second lets the
 * client read the 408 before a reset could discard it).  libmicrohttpd
 * answers only once the whole request is in, so this is the one way to
 * answer a client that never finishes.  The sweep touches only
 * descriptors still registered: libmicrohttpd tells us (http_conns_remove)
 * before it closes one, under the same lock, so a reused descriptor
 * number is never touched; and an answer is queued (http_conns_replying)
 * only on a connection the sweep has not answered.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"

double  http_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

/* parse_port - "1".."65535" -> port; -1 if not */
static int parse_port(const char *s)
{
    char   *end;
    long    n;

    if (*s < '0' || *s > '9')
        return -1;
    n = strtol(s, &end, 10);
    return (*end || n < 1 || n > 65535) ? -1 : (int) n;
}

/* listen_unix - "unix:PATH" */
static int listen_unix(const char *path, struct http_listen *l, char *why, size_t whylen)
{
    struct sockaddr_un *un = (struct sockaddr_un *) &l->ss;

    if (*path != '/' || strlen(path) >= sizeof(l->path)) {
        snprintf(why, whylen, "unix:PATH needs an absolute path shorter than %zu bytes",
                 sizeof(l->path));
        return -1;
    }
    l->family = AF_UNIX;
    snprintf(l->path, sizeof(l->path), "%s", path);
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, l->path, strlen(l->path) + 1);
    l->sslen = sizeof(*un);
    return 0;
}

int     http_listen_parse(const char *text, struct http_listen *l, char *why, size_t whylen)
{
    char    host[64];
    const char *colon, *start = text;
    size_t  n;
    int     port;

    memset(l, 0, sizeof(*l));
    if (strncmp(text, "unix:", 5) == 0)
        return listen_unix(text + 5, l, why, whylen);
    if (*text == '[') {
        start = text + 1;
        colon = strstr(text, "]:");
        n = colon ? (size_t) (colon - start) : 0;
        colon = colon ? colon + 1 : 0;
    } else {
        colon = strrchr(text, ':');
        n = colon ? (size_t) (colon - text) : 0;
    }
    if (colon == 0 || n == 0 || n >= sizeof(host) || (port = parse_port(colon + 1)) < 0) {
        snprintf(why, whylen, "\"%.80s\" is not IP:PORT, [IPv6]:PORT or unix:PATH", text);
        return -1;
    }
    memcpy(host, start, n);
    host[n] = 0;
    if (*text != '[' && inet_pton(AF_INET, host, &((struct sockaddr_in *) &l->ss)->sin_addr) == 1) {
        struct sockaddr_in *in = (struct sockaddr_in *) &l->ss;

        l->family = in->sin_family = AF_INET;
        in->sin_port = htons((unsigned short) port);
        l->sslen = sizeof(*in);
        return 0;
    }
    if (*text == '[' && inet_pton(AF_INET6, host, &((struct sockaddr_in6 *) &l->ss)->sin6_addr) == 1) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &l->ss;

        l->family = in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((unsigned short) port);
        l->sslen = sizeof(*in6);
        return 0;
    }
    snprintf(why, whylen, "\"%.80s\": \"%s\" is not an IPv4 address or a bracketed IPv6 address",
             text, host);
    return -1;
}

/* unlink_stale - remove a socket file left by an earlier run (never
 * anything that is not a socket) */
static void unlink_stale(const char *path)
{
    struct stat st;

    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
}

int     http_listen_open(const struct http_listen *l, int backlog, char *why, size_t whylen)
{
    int     fd, one = 1;

    if ((fd = socket(l->family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
        snprintf(why, whylen, "socket: %s", strerror(errno));
        return -1;
    }
    if (l->family == AF_UNIX)
        unlink_stale(l->path);
    else
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (l->family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, (const struct sockaddr *) &l->ss, l->sslen) < 0
        || (l->family == AF_UNIX && chmod(l->path, 0660) < 0) || listen(fd, backlog) < 0) {
        snprintf(why, whylen, "bind/listen: %s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* ---- connections and their deadlines ----------------------------------- */

struct http_conn {
    int     fd;
    double  since;              /* accepted, or its last answer sent */
    double  cut_at;             /* when the sweep answered it */
    int     cut;                /* 1: 408 sent, 2: shut down */
    int     replying;           /* an answer is queued for its request */
    struct http_conn *prev, *next;
};

static const char late[] = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
    "Content-Type: application/json\r\nContent-Length: 34\r\n\r\n"
    "{\"error\":\"request took too long\"}";

struct http_conns {
    pthread_mutex_t lock;
    struct http_conn *head;
};

struct http_conns *http_conns_new(void)
{
    struct http_conns *cs = calloc(1, sizeof(*cs));

    if (cs)
        pthread_mutex_init(&cs->lock, 0);
    return cs;
}

void    http_conns_free(struct http_conns *cs)
{
    if (cs == 0)
        return;
    while (cs->head)
        http_conns_remove(cs, cs->head);
    pthread_mutex_destroy(&cs->lock);
    free(cs);
}

struct http_conn *http_conns_add(struct http_conns *cs, int fd)
{
    struct http_conn *c = calloc(1, sizeof(*c));

    if (c == 0)
        return 0;
    c->fd = fd;
    c->since = http_now();
    pthread_mutex_lock(&cs->lock);
    c->next = cs->head;
    if (cs->head)
        cs->head->prev = c;
    cs->head = c;
    pthread_mutex_unlock(&cs->lock);
    return c;
}

void    http_conns_remove(struct http_conns *cs, struct http_conn *c)
{
    if (c == 0)
        return;
    pthread_mutex_lock(&cs->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        cs->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&cs->lock);
    free(c);
}

void    http_conns_touch(struct http_conns *cs, struct http_conn *c)
{
    if (c == 0)
        return;
    pthread_mutex_lock(&cs->lock);
    c->since = http_now();
    c->replying = 0;
    pthread_mutex_unlock(&cs->lock);
}

int     http_conns_replying(struct http_conns *cs, struct http_conn *c)
{
    int     ok = 1;

    if (c == 0)
        return 0;
    pthread_mutex_lock(&cs->lock);
    if (c->cut)
        ok = 0;
    else
        c->replying = 1;
    pthread_mutex_unlock(&cs->lock);
    return ok ? 0 : -1;
}

int     http_conns_sweep(struct http_conns *cs, double limit)
{
    double  now = http_now();
    int     n = 0;

    pthread_mutex_lock(&cs->lock);
    for (struct http_conn *c = cs->head; c; c = c->next) {
        if (!c->cut && now - c->since > limit) {
            if (!c->replying && send(c->fd, late, sizeof(late) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) > 0)
                n++;
            shutdown(c->fd, SHUT_WR);
            c->cut = 1;
            c->cut_at = now;
        } else if (c->cut == 1 && now - c->cut_at >= 1) {
            shutdown(c->fd, SHUT_RD);
            c->cut = 2;
        }
    }
    pthread_mutex_unlock(&cs->lock);
    return n;
}

/* ---- 401 log lines, once a minute per client ----------------------------- */

#define DENY_SLOTS 256

struct deny_slot {
    char    client[64];
    time_t  last;
    long    suppressed;
};

struct http_denylog {
    pthread_mutex_t lock;
    struct deny_slot slot[DENY_SLOTS];
};

struct http_denylog *http_denylog_new(void)
{
    struct http_denylog *d = calloc(1, sizeof(*d));

    if (d)
        pthread_mutex_init(&d->lock, 0);
    return d;
}

void    http_denylog_free(struct http_denylog *d)
{
    if (d == 0)
        return;
    pthread_mutex_destroy(&d->lock);
    free(d);
}

int     http_deny_log(struct http_denylog *d, const char *client, time_t now, long *suppressed)
{
    struct deny_slot *s = 0, *oldest = &d->slot[0];
    int     log_it = 1;

    pthread_mutex_lock(&d->lock);
    for (int i = 0; i < DENY_SLOTS && s == 0; i++) {
        if (strcmp(d->slot[i].client, client) == 0 && d->slot[i].last)
            s = &d->slot[i];
        else if (d->slot[i].last < oldest->last)
            oldest = &d->slot[i];
    }
    if (s == 0) {                       /* a new client takes the oldest slot */
        s = oldest;
        snprintf(s->client, sizeof(s->client), "%s", client);
        s->last = 0;
        s->suppressed = 0;
    }
    *suppressed = s->suppressed;
    if (s->last && now - s->last < 60) {
        s->suppressed++;
        log_it = 0;
    } else {
        s->last = now;
        s->suppressed = 0;
    }
    pthread_mutex_unlock(&d->lock);
    return log_it;
}
