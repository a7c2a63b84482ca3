/*
 * dnsq_send.c - the transport of every DNS question mxdock asks one server:
 * resolver addresses (IPv4 and IPv6), UDP with a TCP retry on truncation,
 * and the per-message time budget.
 *
 *   dnsq_parse_server   "IP", "IPv4:PORT", "IPv6", "[IPv6]", "[IPv6]:PORT"
 *   dnsq_system_server  the first nameserver of resolv.conf
 *   dnsq_send           one query, one answer (or none) before a deadline
 *   dnsq_budget_enter, dnsq_budget_leave, dnsq_budget_deadline,
 *   dnsq_budget_ran_out the calling thread's lookup deadline
 *   dnsq_now_ms         CLOCK_MONOTONIC in milliseconds
 *
 * libresolv's res_nsend takes whole seconds per try and no deadline, and
 * speaks IPv6 only through glibc's private _u._ext fields; this file does
 * the sending itself so that every lookup of a message (DKIM keys, DMARC
 * policies; SPF reads dnsq_budget_deadline) stops when the message's
 * budget is spent.  The budget is thread-local: libopendkim's resolver
 * callbacks carry no message, and each milter callback runs in one thread.
 *
 * Ownership: nothing is allocated.  Diagnostics: -1 and errno.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dnsq.h"

static __thread long long budget_deadline;     /* 0: no budget running */
static __thread long long budget_start;
static __thread int budget_out;

long long dnsq_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void    dnsq_budget_enter(long left_ms)
{
    budget_start = dnsq_now_ms();
    budget_deadline = budget_start + (left_ms > 0 ? left_ms : 0);
    budget_out = left_ms <= 0;
    if (budget_deadline == 0)
        budget_deadline = 1;            /* 0 means "none" */
}

long    dnsq_budget_leave(void)
{
    long    used = budget_deadline ? (long) (dnsq_now_ms() - budget_start) : 0;

    budget_deadline = 0;
    return used;
}

long long dnsq_budget_deadline(void)
{
    return budget_deadline;
}

int     dnsq_budget_ran_out(void)
{
    return budget_out || (budget_deadline && dnsq_now_ms() >= budget_deadline);
}

/* split_server - host text and port of SERVER; -1 when malformed */
static int split_server(const char *server, char *host, size_t hostlen, long *port)
{
    const char *p = 0, *close;
    char   *end;
    size_t  n;

    if (server[0] == '[') {
        if ((close = strchr(server, ']')) == 0 || (close[1] && close[1] != ':'))
            return -1;
        n = (size_t) (close - server - 1);
        p = close[1] ? close + 2 : 0;
        server++;
    } else if ((close = strchr(server, ':')) != 0 && strchr(close + 1, ':') == 0) {
        n = (size_t) (close - server);          /* IPv4:PORT */
        p = close + 1;
    } else {
        n = strlen(server);                     /* IP or bare IPv6 */
    }
    if (n == 0 || n >= hostlen)
        return -1;
    memcpy(host, server, n);
    host[n] = 0;
    *port = 53;
    if (p) {
        errno = 0;
        *port = strtol(p, &end, 10);
        if (errno || end == p || *end || *port < 1 || *port > 65535)
            return -1;
    }
    return 0;
}

int     dnsq_parse_server(const char *server, struct sockaddr_storage *ss, socklen_t *len)
{
    struct sockaddr_in *v4 = (struct sockaddr_in *) ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *) ss;
    char    host[INET6_ADDRSTRLEN + 1];
    long    port;

    memset(ss, 0, sizeof *ss);
    if (server == 0 || split_server(server, host, sizeof host, &port) < 0)
        return -1;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        if (server[0] == '[')
            return -1;                          /* [1.2.3.4] is not a form */
        v4->sin_family = AF_INET;
        v4->sin_port = htons((unsigned short) port);
        *len = sizeof *v4;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((unsigned short) port);
        *len = sizeof *v6;
        return 0;
    }
    return -1;
}

void    dnsq_system_server(struct sockaddr_storage *ss, socklen_t *len)
{
    struct __res_state st;

    memset(&st, 0, sizeof st);
    memset(ss, 0, sizeof *ss);
    if (res_ninit(&st) == 0 && st.nscount > 0) {
        if (st.nsaddr_list[0].sin_family == AF_INET) {
            memcpy(ss, &st.nsaddr_list[0], sizeof st.nsaddr_list[0]);
            *len = sizeof st.nsaddr_list[0];
        } else if (st._u._ext.nsaddrs[0] != 0) {        /* glibc keeps IPv6 here */
            memcpy(ss, st._u._ext.nsaddrs[0], sizeof(struct sockaddr_in6));
            *len = sizeof(struct sockaddr_in6);
        }
    }
    res_nclose(&st);
    if (ss->ss_family == 0)
        (void) dnsq_parse_server("127.0.0.1", ss, len);
}

/* deadline_of - now + TIMEOUT s, cut to the thread's budget */
static long long deadline_of(int timeout)
{
    long long d = dnsq_now_ms() + (timeout > 0 ? timeout : 5) * 1000LL;

    if (budget_deadline && budget_deadline < d)
        d = budget_deadline;
    return d;
}

/* wait_for - poll FD for EVENTS until DEADLINE; 0 ready, -1 (errno) not */
static int wait_for(int fd, short events, long long deadline)
{
    struct pollfd pfd = {fd, events, 0};
    long long left = deadline - dnsq_now_ms();
    int     n;

    if (left <= 0)
        return errno = ETIMEDOUT, -1;
    if ((n = poll(&pfd, 1, (int) left)) == 1)
        return 0;
    return errno = n == 0 ? ETIMEDOUT : errno, -1;
}

/* ask_udp - Q over UDP, once and once more at half time; answer length */
static int ask_udp(const struct sockaddr_storage *ss, socklen_t len, const unsigned char *q,
                   int qlen, unsigned char *ans, int anslen, long long deadline)
{
    long long resend = dnsq_now_ms() + (deadline - dnsq_now_ms()) / 2;
    int     fd, n = -1, sent = 0, err = ETIMEDOUT;

    if ((fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *) ss, len) < 0)
        goto out;
    while (n < 0) {
        if (sent == 0 || (sent == 1 && dnsq_now_ms() >= resend)) {
            if (send(fd, q, (size_t) qlen, 0) != qlen) {
                err = errno;
                break;
            }
            sent++;
        }
        if (wait_for(fd, POLLIN, sent < 2 ? resend : deadline) < 0) {
            if (errno == ETIMEDOUT && sent < 2 && dnsq_now_ms() < deadline)
                continue;                       /* time to send again */
            break;
        }
        n = (int) recv(fd, ans, (size_t) anslen, 0);
        if (n < 0 && errno != EINTR) {
            err = errno;                        /* ECONNREFUSED: nobody there */
            break;
        }
        if (n < 12 || ans[0] != q[0] || ans[1] != q[1] || !(ans[2] & 0x80))
            n = -1;                             /* not our answer: keep waiting */
    }
out:
    close(fd);
    return n >= 0 ? n : (errno = err, -1);
}

/* io_all - read (WR 0) or write (WR 1) exactly LEN bytes before DEADLINE */
static int io_all(int fd, int wr, unsigned char *buf, int len, long long deadline)
{
    int     done = 0, n;

    while (done < len) {
        if (wait_for(fd, wr ? POLLOUT : POLLIN, deadline) < 0)
            return -1;
        n = (int) (wr ? write(fd, buf + done, (size_t) (len - done))
                   : read(fd, buf + done, (size_t) (len - done)));
        if (n <= 0)
            return n == 0 ? (errno = ECONNRESET, -1) : errno == EINTR ? 0 : -1;
        done += n;
    }
    return 0;
}

/* ask_tcp - Q over TCP (RFC 1035 4.2.2 length prefix); answer length */
static int ask_tcp(const struct sockaddr_storage *ss, socklen_t len, const unsigned char *q,
                   int qlen, unsigned char *ans, int anslen, long long deadline)
{
    unsigned char hdr[2] = {(unsigned char) (qlen >> 8), (unsigned char) qlen};
    int     fd, n = -1, err = 0;
    socklen_t el = sizeof err;

    if ((fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
        return -1;
    if ((connect(fd, (const struct sockaddr *) ss, len) == 0 || errno == EINPROGRESS)
        && wait_for(fd, POLLOUT, deadline) == 0
        && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0
        && io_all(fd, 1, hdr, 2, deadline) == 0
        && io_all(fd, 1, (unsigned char *) q, qlen, deadline) == 0
        && io_all(fd, 0, hdr, 2, deadline) == 0) {
        n = (hdr[0] << 8) | hdr[1];
        if (n > anslen || io_all(fd, 0, ans, n, deadline) < 0)
            n = -1;
    }
    if (err)
        errno = err;
    close(fd);
    return n;
}

int     dnsq_send(const struct sockaddr_storage *ss, socklen_t len, const unsigned char *q,
                  int qlen, unsigned char *ans, int anslen, int timeout)
{
    long long deadline = deadline_of(timeout);
    int     n;

    if (budget_deadline && dnsq_now_ms() >= budget_deadline) {
        budget_out = 1;
        return errno = ETIMEDOUT, -1;
    }
    n = ask_udp(ss, len, q, qlen, ans, anslen < 4096 ? anslen : 4096, deadline);
    if (n >= 12 && (ans[2] & 0x02))
        n = ask_tcp(ss, len, q, qlen, ans, anslen, deadline);
    if (n < 0 && budget_deadline && dnsq_now_ms() >= budget_deadline)
        budget_out = 1;
    return n;
}
