/*
 * authfail.h - the auth-attempt (brute-force) policy on the shared
 * database: failed logins per IP in a window, bans by IP or CIDR.
 */
#ifndef MX_AUTHFAIL_H
#define MX_AUTHFAIL_H

#include <stddef.h>
#include <time.h>

#include "pdb.h"

#define AUTHFAIL_IP_MAX     64
#define AUTHFAIL_BAN_MAX    (10LL * 365 * 86400)     /* longest ban, seconds */

struct authfail_params {
    long    max;                /* failures within window that get a ban */
    long    window;             /* seconds */
    long    ban_time;           /* first ban, seconds */
    long    factor;             /* each repeated ban this many times longer */
};

struct authfail_verdict {
    int     banned;
    char    ban[AUTHFAIL_IP_MAX];       /* the matching ban (IP or CIDR) */
    long long until;            /* epoch seconds */
    long    failures;           /* counted in the window */
    int     new_ban;            /* this check made the ban */
};

/* authfail_ip_normalize - "[::ffff:192.0.2.1]" -> "192.0.2.1", "IPv6:2001:db8::1"
 * -> "2001:db8::1"; -1 when IN is not an address */
int     authfail_ip_normalize(const char *in, char *out, size_t outlen);

/* authfail_range - IP or CIDR -> its normal text and the first and last
 * address as 16 bytes (IPv4 mapped into ::ffff:0:0/96); -1 if invalid */
int     authfail_range(const char *in, char *norm, size_t normlen,
                       unsigned char from[16], unsigned char to[16]);

/* authfail_covers_ipv4 - does FROM..TO hold all of ::ffff:0:0/96 (where
 * IPv4 is stored) and more?  True for ::/0 up to ::/80. */
int     authfail_covers_ipv4(const unsigned char from[16], const unsigned char to[16]);

/* authfail_ban_length - BASE * FACTOR^(N-1) seconds, capped */
long long authfail_ban_length(long base, long factor, long n);

/* authfail_check - is IP banned now, or does the window ban it now? */
int     authfail_check(struct pdb *, const struct authfail_params *, const char *ip,
                       time_t now, struct authfail_verdict *);

/* authfail_record - one login attempt (SUCCESS 0 = failed) */
int     authfail_record(struct pdb *, const char *ip, const char *principal,
                        const char *protocol, int success, time_t now);

/* authfail_ban - ban IP or CIDR for SECONDS with REASON; -2 when it is
 * not an address or prefix, -3 for an IPv6 prefix holding all of
 * ::ffff:0:0/96 (::/0 .. ::/80): it would ban every IPv4 client too */
int     authfail_ban(struct pdb *, const char *ip_or_cidr, long long seconds,
                     const char *reason, time_t now);

/* authfail_unban - lift the ban and forget the failures; *FOUND = rows removed */
int     authfail_unban(struct pdb *, const char *ip_or_cidr, long long *found);

/* authfail_prune - delete attempts older than BEFORE and bans that ended
 * before BANS_BEFORE; *N gets the rows deleted */
int     authfail_prune(struct pdb *, time_t before, time_t bans_before, long long *n);

struct authfail_ban_row {
    char    ban[AUTHFAIL_IP_MAX];
    long long until, count;
    char    reason[256];
};

struct authfail_fail_row {
    char    ip[AUTHFAIL_IP_MAX];
    long long count, last;
};

typedef void (*authfail_ban_fn) (void *ctx, const struct authfail_ban_row *);
typedef void (*authfail_fail_fn) (void *ctx, const struct authfail_fail_row *);

/* authfail_list - every ban (or only IP's, when IP is not NULL), then the
 * failures per IP since SINCE */
int     authfail_list(struct pdb *, const char *ip, time_t since,
                      authfail_ban_fn, authfail_fail_fn, void *ctx);

#endif
