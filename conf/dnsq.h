/*
 * dnsq.h - ask one DNS server a question, directly (libresolv).  Used to
 * see what an authoritative server publishes (mxdock-dns check, DKIM
 * rotation), and the transport of the milter's DKIM and DMARC lookups.
 *
 * Ownership: *RRS is an array of malloc'd strings the caller frees with
 * dnsq_free().
 */
#ifndef MX_DNSQ_H
#define MX_DNSQ_H

#include <stddef.h>

/* dnsq_query - records of TYPE (ns_t_txt, ns_t_mx, ...) at NAME from SERVER
 * (as dnsq_parse_server; NULL or "" = the system resolver), non-recursive when
 * SERVER is set.  Each record as presentation-format rdata, TXT strings
 * joined without quotes.  Returns the count (0 = NXDOMAIN or no data), or -1
 * with WHY (timeout, refused, SERVFAIL).  TIMEOUT in seconds. */
int     dnsq_query(const char *server, const char *name, int type, int timeout,
                   char ***rrs, size_t *n, char *why, size_t whylen);

void    dnsq_free(char **rrs, size_t n);

#include <sys/socket.h>

/* dnsq_parse_server - "IP", "IPv4:PORT", "IPv6", "[IPv6]" or "[IPv6]:PORT"
 * (port 53 by default) into SS and *LEN; -1 when it is not one.  The one
 * parser of resolver and check-server addresses. */
int     dnsq_parse_server(const char *server, struct sockaddr_storage *ss, socklen_t *len);

/* dnsq_system_server - the first nameserver of /etc/resolv.conf (IPv4 or
 * IPv6), else 127.0.0.1:53, into SS and *LEN */
void    dnsq_system_server(struct sockaddr_storage *ss, socklen_t *len);

/* dnsq_send - one query Q of QLEN bytes to the server at SS over UDP (sent
 * twice at most), over TCP when the answer is truncated; the answer in ANS
 * and its length, or -1 when none came (errno ETIMEDOUT, ECONNREFUSED...).
 * Waits TIMEOUT seconds at most, and never past the thread's budget. */
int     dnsq_send(const struct sockaddr_storage *ss, socklen_t len, const unsigned char *q,
                  int qlen, unsigned char *ans, int anslen, int timeout);

/*
 * The per-message time budget (milter_dns_budget): every lookup a thread
 * makes between dnsq_budget_enter and dnsq_budget_leave ends by the deadline
 * (dnsq_send, and SPF's own sender through dnsq_budget_deadline); once it
 * has passed, lookups fail at once, as temporary errors.  Thread-local:
 * libopendkim's resolver callbacks carry no message, and a message's
 * lookups run in the thread of the callback that asks.
 */
void    dnsq_budget_enter(long left_ms);        /* lookups end by now + LEFT_MS */
long    dnsq_budget_leave(void);                /* ms spent since enter */
long long dnsq_budget_deadline(void);           /* CLOCK_MONOTONIC ms; 0 = none */
int     dnsq_budget_ran_out(void);              /* a lookup was cut by it */
long long dnsq_now_ms(void);                    /* CLOCK_MONOTONIC ms */

#endif
