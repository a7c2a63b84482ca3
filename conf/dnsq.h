/*
 * dnsq.h - ask one DNS server a question, directly (libresolv).  Used to
 * see what an authoritative server publishes (mxdock-dns check, DKIM
 * rotation).  To be written by the pdns-hooks developer.
 *
 * Ownership: *RRS is an array of malloc'd strings the caller frees with
 * dnsq_free().
 */
#ifndef MX_DNSQ_H
#define MX_DNSQ_H

#include <stddef.h>

/* dnsq_query - records of TYPE (ns_t_txt, ns_t_mx, ...) at NAME from SERVER
 * ("IP" or "IP:PORT"; NULL or "" = the system resolver), non-recursive when
 * SERVER is set.  Each record as presentation-format rdata, TXT strings
 * joined without quotes.  Returns the count (0 = NXDOMAIN or no data), or -1
 * with WHY (timeout, refused, SERVFAIL).  TIMEOUT in seconds. */
int     dnsq_query(const char *server, const char *name, int type, int timeout,
                   char ***rrs, size_t *n, char *why, size_t whylen);

void    dnsq_free(char **rrs, size_t n);

struct sockaddr_in;

/* dnsq_parse_server - "IP" or "IP:PORT" (IPv4, port 53 by default) into
 * SIN, for every part that aims libresolv at one server; -1 when it is not
 * one. */
int     dnsq_parse_server(const char *server, struct sockaddr_in *sin);

#endif
