/*
 * cidr.c - parse address prefixes and lists, and match addresses against them.
 *
 *   cidr_parse, cidr_list_check, cidr_list_parse, cidr_list_free,
 *   cidr_list_match_sa, cidr_list_match_text
 *
 * IPv4-mapped IPv6 clients (::ffff:a.b.c.d) are matched as IPv4.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "conf.h"

int     cidr_parse(const char *text, struct cidr *out)
{
    char    buf[INET6_ADDRSTRLEN + 8], *slash, *end;
    long    bits;

    if (strlen(text) >= sizeof(buf))
        return -1;
    strcpy(buf, text);
    if ((slash = strchr(buf, '/')) != 0)
        *slash++ = 0;
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, buf, out->addr) == 1)
        out->family = AF_INET, out->bits = 32;
    else if (inet_pton(AF_INET6, buf, out->addr) == 1)
        out->family = AF_INET6, out->bits = 128;
    else
        return -1;
    if (slash) {
        bits = strtol(slash, &end, 10);
        if (*slash == 0 || *end || bits < 0 || bits > out->bits)
            return -1;
        out->bits = (int) bits;
    }
    return 0;
}

int     cidr_list_check(const char *list, char *why, size_t whylen)
{
    char    item[128];
    struct cidr c;

    for (const char *cur = list; conf_list_next(&cur, item, sizeof(item));)
        if (cidr_parse(item, &c) < 0) {
            snprintf(why, whylen, "\"%.60s\" is not an address or prefix", item);
            return -1;
        }
    return 0;
}

struct cidr_list *cidr_list_parse(const char *list)
{
    char    item[128];
    struct cidr_list *l = calloc(1, sizeof(*l));
    size_t  cap = 0;

    if (l == 0)
        return 0;
    for (const char *cur = list; conf_list_next(&cur, item, sizeof(item));) {
        if (l->n == cap) {
            struct cidr *nv = realloc(l->v, (cap = cap ? cap * 2 : 4) * sizeof(*nv));

            if (nv == 0)
                return cidr_list_free(l), (struct cidr_list *) 0;
            l->v = nv;
        }
        if (cidr_parse(item, &l->v[l->n]) == 0)
            l->n++;
    }
    return l;
}

void    cidr_list_free(struct cidr_list *l)
{
    if (l) {
        free(l->v);
        free(l);
    }
}

static int prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
    int     full = bits / 8, rest = bits % 8;

    if (memcmp(a, b, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char) (0xff << (8 - rest));

    return (a[full] & mask) == (b[full] & mask);
}

static int match_raw(const struct cidr_list *l, int family, const unsigned char *addr)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    if (family == AF_INET6 && memcmp(addr, mapped, 12) == 0) {
        family = AF_INET;
        addr += 12;
    }
    for (size_t i = 0; l && i < l->n; i++)
        if (l->v[i].family == family && prefix_match(l->v[i].addr, addr, l->v[i].bits))
            return 1;
    return 0;
}

int     cidr_list_match_sa(const struct cidr_list *l, const struct sockaddr *sa)
{
    if (sa == 0)
        return 0;
    if (sa->sa_family == AF_INET)
        return match_raw(l, AF_INET,
                         (const unsigned char *) &((const struct sockaddr_in *) sa)->sin_addr);
    if (sa->sa_family == AF_INET6)
        return match_raw(l, AF_INET6,
                         (const unsigned char *) &((const struct sockaddr_in6 *) sa)->sin6_addr);
    return 0;
}

int     cidr_list_match_text(const struct cidr_list *l, const char *addr)
{
    struct cidr c;

    if (cidr_parse(addr, &c) < 0)
        return 0;
    return match_raw(l, c.family, c.addr);
}
