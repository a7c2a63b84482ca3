/*
 * hostlist.c - a list of database servers: "HOST[:PORT], HOST[:PORT], ...".
 *
 *   conf_host_next   the next HOST and PORT of such a list
 *   conf_host_check  is every item of a list well formed?
 *
 * HOST is a name, an IPv4 address, or an IPv6 address in brackets
 * ("[::1]:3307"); a bare IPv6 address ("::1") takes no port.  Items are
 * separated by commas; spaces around them are ignored.  Nothing is
 * resolved here: a name is checked for its characters only.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

/* parse_port - "1".."65535" */
static int parse_port(const char *s, unsigned *port)
{
    char   *end;
    long    v;

    if (!isdigit((unsigned char) *s))
        return -1;
    v = strtol(s, &end, 10);
    if (*end || v < 1 || v > 65535)
        return -1;
    *port = (unsigned) v;
    return 0;
}

/* host_chars - a name or an address: letters, digits, '.', '-', '_', ':' */
static int host_chars(const char *h, int colons)
{
    if (*h == 0)
        return 0;
    for (; *h; h++)
        if (!isalnum((unsigned char) *h) && !strchr(colons ? ".-_:" : ".-_", *h))
            return 0;
    return 1;
}

/* split_item - ITEM (trimmed) into HOST and PORT (DEFPORT when absent) */
static int split_item(char *item, char *host, size_t hostlen, unsigned *port, unsigned defport)
{
    char   *colon, *h = item;

    *port = defport;
    if (*item == '[') {
        char   *close = strchr(item, ']');

        if (close == 0 || (close[1] && close[1] != ':'))
            return -1;
        *close = 0;
        h = item + 1;
        if (close[1] == ':' && parse_port(close + 2, port) < 0)
            return -1;
        if (!host_chars(h, 1) || !strchr(h, ':'))
            return -1;
    } else if ((colon = strchr(item, ':')) != 0 && strchr(colon + 1, ':') == 0) {
        *colon = 0;
        if (parse_port(colon + 1, port) < 0 || !host_chars(item, 0))
            return -1;
    } else if (!host_chars(item, colon != 0)) {
        return -1;
    }
    if (strlen(h) >= hostlen)
        return -1;
    memcpy(host, h, strlen(h) + 1);
    return 0;
}

int     conf_host_next(const char **cursor, char *host, size_t hostlen,
                       unsigned *port, unsigned defport)
{
    char    item[300];
    const char *p = *cursor, *s, *e;

    while (*p == ',' || isspace((unsigned char) *p))
        p++;
    if (*p == 0) {
        *cursor = p;
        return 0;
    }
    for (s = p; *p && *p != ','; p++)
        ;
    for (e = p; e > s && isspace((unsigned char) e[-1]); e--)
        ;
    *cursor = p;
    if ((size_t) (e - s) >= sizeof(item))
        return -1;
    memcpy(item, s, (size_t) (e - s));
    item[e - s] = 0;
    return split_item(item, host, hostlen, port, defport) < 0 ? -1 : 1;
}

int     conf_host_check(const char *list, char *why, size_t whylen)
{
    char    host[256];
    unsigned port;
    const char *cur = list;
    int     r;

    while ((r = conf_host_next(&cur, host, sizeof(host), &port, 3306)) == 1)
        ;
    if (r == 0)
        return 0;
    snprintf(why, whylen, "\"%.80s\" is not a list of HOST, HOST:PORT or [IPv6]:PORT", list);
    return -1;
}
