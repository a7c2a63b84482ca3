/*
 * cidr.h - address lists ("127.0.0.0/8, ::1/128, 192.0.2.7") and matching.
 *
 * Ownership: cidr_list_parse() returns a list the caller frees with
 * cidr_list_free().
 */
#ifndef MX_CIDR_H
#define MX_CIDR_H

#include <stddef.h>
#include <sys/socket.h>

struct cidr {
    int     family;             /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int     bits;
};

struct cidr_list {
    size_t  n;
    struct cidr *v;
};

/* cidr_parse - one "ADDR" or "ADDR/BITS"; -1 when it is not one */
int     cidr_parse(const char *text, struct cidr *out);

/* cidr_list_check - 0 when every item parses, else -1 and why */
int     cidr_list_check(const char *list, char *why, size_t whylen);

struct cidr_list *cidr_list_parse(const char *list);
void    cidr_list_free(struct cidr_list *);

/* cidr_list_match_sa - is the address of SA in the list? IPv4-mapped IPv6
 * addresses match IPv4 entries. */
int     cidr_list_match_sa(const struct cidr_list *, const struct sockaddr *sa);

/* cidr_list_match_text - the same for a textual address */
int     cidr_list_match_text(const struct cidr_list *, const char *addr);

#endif
