/*
 * ml_proto - the milter protocol, version 6, from the MTA side.
 *
 *   ml_link_open     connect and negotiate (SMFIC_OPTNEG)
 *   ml_message       one message: [MACRO+CONNECT, HELO,] MAIL, RCPT, DATA,
 *                    HEADER..., EOH, BODY (64 KB chunks), BODYEOB
 *   ml_between       SMFIC_ABORT, SMFIC_QUIT_NC or SMFIC_QUIT
 *
 * Writes are buffered as Postfix's VSTREAM buffers them: out in 4096-byte
 * pieces as the buffer fills, the rest when a reply is to be read, and at
 * the hand-over from smtpd to cleanup after the envelope (Postfix's smtpd
 * sends connect..RCPT/DATA, its cleanup the headers and body).  The socket
 * keeps Nagle's algorithm, as Postfix's does.  So the stalls a real
 * Postfix meets over TCP happen here too: a small write that follows an
 * unacknowledged one (the DATA macros of a milter that negotiated
 * SMFIP_NODATA, then the headers) waits for the milter's delayed ACK, and
 * a milter that writes a header change and its verdict as two small
 * packets waits for this side's.  --coalesce flushes only before reads
 * (an idealised MTA, no stall of the first kind).
 *
 * Steps the milter negotiated away (SMFIP_NO*) are not sent, but their
 * macros are, as Postfix does; steps it negotiated as no-reply (SMFIP_NR_*)
 * are sent and no reply is read.
 * Diagnostics: every error is returned as text; nothing is printed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ml.h"

#define CHUNK       65535       /* MILTER_CHUNK_SIZE */
#define VSTREAM_BUF 4096        /* Postfix's VSTREAM_BUFSIZE */
#define MAX_REPLY   (1 << 20)
#define OFFER_ACTS  0x1ffu      /* every SMFIF_* action of version 6 */
#define OFFER_PROTO 0x1fffffu   /* every SMFIP_* step flag Postfix offers */

/* grow - room for N more bytes in the write buffer. */
static void grow(struct ml_link *l, size_t n)
{
    if (l->wlen + n <= l->wcap)
        return;
    while (l->wlen + n > l->wcap)
        l->wcap = l->wcap ? 2 * l->wcap : 8192;
    if ((l->wbuf = realloc(l->wbuf, l->wcap)) == NULL)
        abort();
}

/* put - queue one packet: length, command, data. */
/* spill - write out full VSTREAM-sized pieces, as a filling VSTREAM does;
 * an error shows at the next read. */
static void spill(struct ml_link *l)
{
    size_t  off = 0;
    ssize_t k;

    while (!l->coalesce && l->wlen - off >= VSTREAM_BUF) {
        k = send(l->fd, l->wbuf + off, VSTREAM_BUF, MSG_NOSIGNAL);
        if (k <= 0)
            break;
        off += (size_t) k;
    }
    memmove(l->wbuf, l->wbuf + off, l->wlen - off);
    l->wlen -= off;
}

static void put(struct ml_link *l, char cmd, const void *data, size_t len)
{
    uint32_t n = htonl((uint32_t) len + 1);

    grow(l, len + 5);
    memcpy(l->wbuf + l->wlen, &n, 4);
    l->wbuf[l->wlen + 4] = (unsigned char) cmd;
    if (len)
        memcpy(l->wbuf + l->wlen + 5, data, len);
    l->wlen += len + 5;
    spill(l);
}

static int seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int flush(struct ml_link *l, char *err, size_t errlen)
{
    size_t off = 0;
    ssize_t k;

    while (off < l->wlen) {
        k = send(l->fd, l->wbuf + off, l->wlen - off, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return seterr(err, errlen, "%s: write: %s", l->spec, strerror(errno));
        off += (size_t) k;
    }
    l->wlen = 0;
    return 0;
}

static int readn(struct ml_link *l, void *buf, size_t n, char *err, size_t errlen)
{
    size_t off = 0;
    ssize_t k;

    while (off < n) {
        k = recv(l->fd, (char *) buf + off, n - off, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k == 0)
            return seterr(err, errlen, "%s: milter closed the connection", l->spec);
        if (k < 0)
            return seterr(err, errlen, "%s: read: %s", l->spec,
                          errno == EAGAIN ? "timeout (30 s)" : strerror(errno));
        off += (size_t) k;
    }
    return 0;
}

/* get - flush, then read one reply packet: *CMD and *LEN bytes in l->rbuf
 * (NUL-terminated for convenience). */
static int get(struct ml_link *l, char *cmd, size_t *len, char *err, size_t errlen)
{
    uint32_t n;

    if (flush(l, err, errlen) < 0 || readn(l, &n, 4, err, errlen) < 0)
        return -1;
    n = ntohl(n);
    if (n < 1 || n > MAX_REPLY)
        return seterr(err, errlen, "%s: bad reply length %u", l->spec, n);
    if (l->rcap < n + 1) {
        l->rcap = n + 1;
        if ((l->rbuf = realloc(l->rbuf, l->rcap)) == NULL)
            abort();
    }
    if (readn(l, l->rbuf, n, err, errlen) < 0)
        return -1;
    *cmd = (char) l->rbuf[0];
    *len = n - 1;
    memmove(l->rbuf, l->rbuf + 1, n - 1);
    l->rbuf[n - 1] = 0;
    return 0;
}

/* dial - a connected socket for SPEC, or -1. */
static int dial(const char *spec, int nodelay, char *err, size_t errlen)
{
    struct sockaddr_un sun;
    struct addrinfo hints, *ai;
    struct timeval tv = {30, 0};
    char    host[128], port[16];
    const char *at;
    int     fd, one = 1;

    if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
        memset(&sun, 0, sizeof sun);
        sun.sun_family = AF_UNIX;
        if (snprintf(sun.sun_path, sizeof sun.sun_path, "%s", strchr(spec, ':') + 1)
            >= (int) sizeof sun.sun_path)
            return seterr(err, errlen, "%s: path too long", spec);
        if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
            return seterr(err, errlen, "socket: %s", strerror(errno));
        if (connect(fd, (struct sockaddr *) &sun, sizeof sun) < 0) {
            close(fd);
            return seterr(err, errlen, "%s: connect: %s", spec, strerror(errno));
        }
    } else {
        if (strncmp(spec, "inet:", 5) != 0 || (at = strchr(spec, '@')) == NULL
            || at - spec - 5 >= (int) sizeof port
            || snprintf(host, sizeof host, "%s", at + 1) >= (int) sizeof host)
            return seterr(err, errlen, "%s: want inet:PORT@HOST or unix:PATH", spec);
        snprintf(port, sizeof port, "%.*s", (int) (at - spec - 5), spec + 5);
        memset(&hints, 0, sizeof hints);
        hints.ai_socktype = SOCK_STREAM;
        if (getaddrinfo(host, port, &hints, &ai) != 0)
            return seterr(err, errlen, "%s: bad address", spec);
        fd = socket(ai->ai_family, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            freeaddrinfo(ai);
            if (fd >= 0)
                close(fd);
            return seterr(err, errlen, "%s: connect: %s", spec, strerror(errno));
        }
        freeaddrinfo(ai);
        if (nodelay)
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

int     ml_link_open(struct ml_link *l, const char *spec, int nodelay, int coalesce,
                     char *err, size_t errlen)
{
    uint32_t v[3];
    size_t  len;
    char    cmd;

    snprintf(l->spec, sizeof l->spec, "%s", spec);
    l->in_session = 0;
    l->coalesce = coalesce;
    l->wlen = 0;
    if ((l->fd = dial(spec, nodelay, err, errlen)) < 0)
        return -1;
    v[0] = htonl(6);
    v[1] = htonl(OFFER_ACTS);
    v[2] = htonl(OFFER_PROTO);
    put(l, 'O', v, sizeof v);
    if (get(l, &cmd, &len, err, errlen) < 0)
        return -1;
    if (cmd != 'O' || len < 12)
        return seterr(err, errlen, "%s: OPTNEG reply '%c' (%zu bytes)", spec, cmd, len);
    memcpy(v, l->rbuf, sizeof v);
    if (ntohl(v[0]) < 2 || ntohl(v[0]) > 6)
        return seterr(err, errlen, "%s: milter protocol version %u", spec, ntohl(v[0]));
    l->actions = ntohl(v[1]);
    l->proto = ntohl(v[2]);
    return 0;
}

void    ml_link_close(struct ml_link *l)
{
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    free(l->wbuf);
    free(l->rbuf);
    l->wbuf = l->rbuf = NULL;
    l->wcap = l->rcap = l->wlen = 0;
}

/* macros - queue SMFIC_MACRO for step STEP from NULL-terminated pairs. */
static void macros(struct ml_link *l, char step, const char *const *kv)
{
    char    buf[2048];
    size_t  n = 1, k;

    buf[0] = step;
    for (; kv[0]; kv += 2) {
        if (kv[1] == NULL)
            continue;
        k = strlen(kv[0]) + strlen(kv[1]) + 2;
        if (n + k > sizeof buf)
            break;
        memcpy(buf + n, kv[0], strlen(kv[0]) + 1);
        memcpy(buf + n + strlen(kv[0]) + 1, kv[1], strlen(kv[1]) + 1);
        n += k;
    }
    put(l, 'D', buf, n);
}

/* change - record one modification reply of end-of-message. */
static void change(struct ml_result *res, char op, const unsigned char *p, size_t len)
{
    struct ml_change *c;
    const char *name, *value;

    if (res->nchg >= ML_MAX_CHANGES)
        return;
    c = &res->chg[res->nchg++];
    c->op = op;
    c->name[0] = c->value[0] = 0;
    if (op == 'i' || op == 'm') {       /* 4-byte index first */
        if (len < 4)
            return;
        p += 4;
        len -= 4;
    }
    if (op != 'h' && op != 'i' && op != 'm')
        return;
    name = (const char *) p;
    value = memchr(p, 0, len) ? name + strlen(name) + 1 : "";
    if (value > name + len)
        value = "";
    snprintf(c->name, sizeof c->name, "%s", name);
    snprintf(c->value, sizeof c->value, "%s", value);
}

/* reply - read replies until a verdict; 1 = go on, 0 = the message ended
 * (res->verdict set) or this link is done, -1 = error.  EOM collects the
 * modifications; SKIP is taken as continue (the rest is sent anyway). */
static int reply(struct ml_link *l, int eom, struct ml_result *res)
{
    char    cmd;
    size_t  len;

    for (;;) {
        if (get(l, &cmd, &len, res->err, sizeof res->err) < 0)
            return -1;
        switch (cmd) {
        case 'p':
            continue;
        case 'c':
        case 's':
            l->eom = eom;
            return 1;
        case 'a':
            l->done = 1;
            l->eom = eom;
            return 1;
        case 'r':
        case 't':
        case 'd':
            res->verdict = cmd;
            l->eom = eom;
            return 0;
        case 'y':
            snprintf(res->reply, sizeof res->reply, "%s", (char *) l->rbuf);
            res->verdict = l->rbuf[0] == '4' ? 't' : 'r';
            l->eom = eom;
            return 0;
        case 'h': case 'i': case 'm': case '+': case '-': case '2':
        case 'e': case 'b': case 'q':
            if (!eom)
                return seterr(res->err, sizeof res->err,
                              "%s: modification '%c' outside end-of-message", l->spec, cmd);
            change(res, cmd, l->rbuf, len);
            continue;
        default:
            return seterr(res->err, sizeof res->err, "%s: unknown reply '%c'", l->spec, cmd);
        }
    }
}

/* step - one protocol step on every link still in the message. */
static int step(struct ml_link *chain, int n, char cmd, const void *data, size_t len,
                uint32_t skip, uint32_t nr, const char *const *kv, struct ml_result *res)
{
    int     i, rc;

    for (i = 0; i < n; i++) {
        struct ml_link *l = &chain[i];

        if (l->done)
            continue;
        if (kv)
            macros(l, cmd, kv);
        if (l->proto & skip)
            continue;
        put(l, cmd, data, len);
        if (nr && (l->proto & nr))
            continue;
        if ((rc = reply(l, cmd == 'E', res)) <= 0) {
            res->step = cmd;
            return rc;
        }
    }
    return 1;
}

/* session - MACRO + CONNECT, HELO. */
static int session(struct ml_link *chain, int n, const struct ml_env *env,
                   struct ml_result *res)
{
    unsigned char buf[512];
    struct in6_addr a6;
    uint16_t port = htons(40000);
    size_t  k;
    int     rc, v6 = inet_pton(AF_INET6, env->client_addr, &a6) == 1;
    const char *conn_kv[] = {"j", "mx.bench.test", "{daemon_name}", env->daemon_name,
        "{daemon_addr}", "127.0.0.1", "v", "Postfix 3.7.11", "_", env->client_name,
        "{client_addr}", env->client_addr, "{client_name}", env->client_name, NULL};
    const char *helo_kv[] = {"{tls_version}", NULL, NULL};

    k = (size_t) snprintf((char *) buf, sizeof buf - 64, "%s", env->client_name) + 1;
    buf[k++] = v6 ? '6' : '4';
    memcpy(buf + k, &port, 2);
    k += 2;
    k += (size_t) snprintf((char *) buf + k, sizeof buf - k, "%s", env->client_addr) + 1;
    if ((rc = step(chain, n, 'C', buf, k, SMFIP_NOCONNECT, SMFIP_NR_CONN, conn_kv, res)) <= 0)
        return rc;
    return step(chain, n, 'H', env->helo, strlen(env->helo) + 1, SMFIP_NOHELO,
                SMFIP_NR_HELO, helo_kv, res);
}

/* envelope - MAIL, RCPT, DATA. */
static int envelope(struct ml_link *chain, int n, const struct ml_env *env,
                    const struct ml_msg *m, const char *qid, struct ml_result *res)
{
    char    from[300], rcpt[300];
    const char *from_addr = env->from ? env->from : m->from;
    const char *mail_kv[] = {"i", qid, "{mail_addr}", from_addr, "{mail_host}", NULL,
        "{mail_mailer}", "smtp", "{auth_type}", env->auth ? "PLAIN" : NULL,
        "{auth_authen}", env->auth, NULL};
    const char *rcpt_kv[] = {"{rcpt_addr}", env->rcpt, "{rcpt_mailer}", "smtp", NULL};
    const char *data_kv[] = {"i", qid, NULL};
    int     rc;

    snprintf(from, sizeof from, "<%s>", from_addr);
    snprintf(rcpt, sizeof rcpt, "<%s>", env->rcpt);
    if ((rc = step(chain, n, 'M', from, strlen(from) + 1, SMFIP_NOMAIL, SMFIP_NR_MAIL,
                   mail_kv, res)) <= 0)
        return rc;
    if ((rc = step(chain, n, 'R', rcpt, strlen(rcpt) + 1, SMFIP_NORCPT, SMFIP_NR_RCPT,
                   rcpt_kv, res)) <= 0)
        return rc;
    return step(chain, n, 'T', NULL, 0, SMFIP_NODATA, SMFIP_NR_DATA, data_kv, res);
}

/* headers - one SMFIC_HEADER per header, leading space kept only for
 * milters that negotiated SMFIP_HDR_LEADSPC. */
static int headers(struct ml_link *chain, int n, const struct ml_msg *m, struct ml_result *res)
{
    static char empty[] = "";
    size_t  i, nl, vl;
    int     j, rc;
    char   *buf = NULL;
    size_t  cap = 0;

    for (j = 0; j < n; j++) {
        struct ml_link *l = &chain[j];

        if (l->done || (l->proto & SMFIP_NOHDRS))
            continue;
        for (i = 0; i < m->nhdr; i++) {
            const char *v = m->hdr[i].value ? m->hdr[i].value : empty;

            if (!(l->proto & SMFIP_HDR_LEADSPC))
                while (*v == ' ' || *v == '\t')
                    v++;
            nl = strlen(m->hdr[i].name);
            vl = strlen(v);
            if (cap < nl + vl + 2 && (buf = realloc(buf, cap = nl + vl + 2)) == NULL)
                abort();
            memcpy(buf, m->hdr[i].name, nl + 1);
            memcpy(buf + nl + 1, v, vl + 1);
            put(l, 'L', buf, nl + vl + 2);
            if (l->proto & SMFIP_NR_HDR)
                continue;
            if ((rc = reply(l, 0, res)) <= 0) {
                free(buf);
                return rc;
            }
            if (l->done)
                break;
        }
    }
    free(buf);
    return 1;
}

/* body - EOH, the body in chunks, then BODYEOB with its macros. */
static int body(struct ml_link *chain, int n, const struct ml_msg *m, const char *qid,
                struct ml_result *res)
{
    const char *eom_kv[] = {"i", qid, NULL};
    size_t  off, k;
    int     rc;

    if ((rc = step(chain, n, 'N', NULL, 0, SMFIP_NOEOH, SMFIP_NR_EOH, NULL, res)) <= 0)
        return rc;
    for (off = 0; off < m->bodylen; off += k) {
        k = m->bodylen - off > CHUNK ? CHUNK : m->bodylen - off;
        if ((rc = step(chain, n, 'B', m->body + off, k, SMFIP_NOBODY, SMFIP_NR_BODY,
                       NULL, res)) <= 0)
            return rc;
    }
    return step(chain, n, 'E', NULL, 0, 0, 0, eom_kv, res);
}

int     ml_message(struct ml_link *chain, int n, const struct ml_env *env,
                   const struct ml_msg *m, const char *qid, struct ml_result *res)
{
    int     i, rc = 1, need_session = 0;

    memset(res, 0, offsetof(struct ml_result, chg));
    res->err[0] = 0;
    res->verdict = 'a';
    res->step = 'E';
    for (i = 0; i < n; i++) {
        chain[i].done = chain[i].eom = 0;
        need_session |= !chain[i].in_session;
        chain[i].in_session = 1;
    }
    if (need_session)
        rc = session(chain, n, env, res);
    if (rc > 0)
        rc = envelope(chain, n, env, m, qid, res);
    for (i = 0; rc > 0 && i < n; i++)   /* smtpd hands over to cleanup */
        if (!chain[i].coalesce && flush(&chain[i], res->err, sizeof res->err) < 0)
            rc = -1;
    if (rc > 0)
        rc = headers(chain, n, m, res);
    if (rc > 0)
        rc = body(chain, n, m, qid, res);
    for (i = 0; i < n; i++)
        res->reopen |= !chain[i].eom;
    return rc < 0 ? -1 : 0;
}

void    ml_between(struct ml_link *chain, int n, int end_session, int last)
{
    char    err[256];
    int     i;

    for (i = 0; i < n; i++) {
        struct ml_link *l = &chain[i];

        if (!end_session) {
            put(l, 'A', NULL, 0);
            continue;
        }
        put(l, last ? 'Q' : 'K', NULL, 0);
        l->in_session = 0;
        if (last)
            flush(l, err, sizeof err);
    }
}
