/*
 * authfail.c - failed logins and bans on the shared database.
 *
 *   authfail_ip_normalize  client address text as the MTA and logs give it
 *   authfail_range         IP or CIDR -> first and last 16-byte address
 *   authfail_covers_ipv4   does an IPv6 range hold every mapped IPv4 address?
 *   authfail_ban_length    ban_time * factor^(n-1), capped
 *   authfail_check         current ban, or a new one from the window
 *   authfail_record        one login attempt
 *   authfail_ban           a manual ban (not of a range holding all of IPv4)
 *   authfail_unban         lift a ban and forget that IP's failures
 *   authfail_list          bans and failure counts
 *   authfail_prune         forget old attempts and long-expired bans
 *
 * Bans cover ranges: each auth_ban row keeps its first and last address as
 * VARBINARY(16), so one indexed range query answers for IPs and CIDRs.  The
 * failures that made a ban are consumed by it: only failures after the
 * ban's created_at count towards the next one, which lasts factor times
 * longer (auth_ban.count remembers how many window bans that row had).
 * Times are epoch seconds from mx_now(), kept as DATETIME (UTC session)
 * and converted by TIMESTAMPADD/TIMESTAMPDIFF, valid to the year 9999.  Every statement is prepared; no input reaches SQL text.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "authfail.h"
#include "cidr.h"

/* Epoch seconds <-> DATETIME by plain arithmetic on a UTC session:
 * FROM_UNIXTIME and UNIX_TIMESTAMP stop at 2038-01-19 in MariaDB before
 * 11.5 ("Truncated incorrect unixtime value"), DATETIME holds to 9999. */
#define FROM_EPOCH(x) "TIMESTAMPADD(SECOND, " x ", '1970-01-01')"
#define TO_EPOCH(x) "TIMESTAMPDIFF(SECOND, '1970-01-01', " x ")"

#define SQL_BAN_COLS "ban, " TO_EPOCH("until") ", `count`, " TO_EPOCH("created_at") ", reason"

static const char sql_ban_find[] =
    "SELECT " SQL_BAN_COLS " FROM auth_ban WHERE ip_from <= ? AND ip_to >= ?";
static const char sql_list_bans[] =
    "SELECT " SQL_BAN_COLS " FROM auth_ban ORDER BY until DESC LIMIT 10000";
static const char sql_fail_count[] =
    "SELECT COUNT(*) FROM auth_attempt WHERE ip = ? AND success = 0 "
    "AND attempted_at > " FROM_EPOCH("?");
static const char sql_ban_window[] =
    "INSERT INTO auth_ban (ban, ip_from, ip_to, reason, created_at, until, `count`) "
    "VALUES (?, ?, ?, ?, " FROM_EPOCH("?") ", " FROM_EPOCH("?") ", ?) ON DUPLICATE KEY UPDATE "
    "reason = VALUES(reason), created_at = VALUES(created_at), until = VALUES(until), "
    "`count` = VALUES(`count`)";
static const char sql_ban_manual[] =
    "INSERT INTO auth_ban (ban, ip_from, ip_to, reason, created_at, until, `count`) "
    "VALUES (?, ?, ?, ?, " FROM_EPOCH("?") ", " FROM_EPOCH("?") ", 0) ON DUPLICATE KEY UPDATE "
    "reason = VALUES(reason), created_at = VALUES(created_at), until = VALUES(until)";
static const char sql_record[] =
    "INSERT INTO auth_attempt (ip, principal, protocol, success, attempted_at) "
    "VALUES (?, ?, ?, ?, " FROM_EPOCH("?") ")";
static const char sql_unban[] = "DELETE FROM auth_ban WHERE ban = ?";
static const char sql_forget[] = "DELETE FROM auth_attempt WHERE ip = ?";
static const char sql_prune[] =
    "DELETE FROM auth_attempt WHERE attempted_at < " FROM_EPOCH("?") " LIMIT 10000";
static const char sql_prune_bans[] = "DELETE FROM auth_ban WHERE until < " FROM_EPOCH("?");
static const char sql_list_fails[] =
    "SELECT ip, COUNT(*), " TO_EPOCH("MAX(attempted_at)") " FROM auth_attempt "
    "WHERE success = 0 AND attempted_at > " FROM_EPOCH("?") " AND (? = '' OR ip = ?) "
    "GROUP BY ip ORDER BY 2 DESC LIMIT 10000";

int     authfail_ip_normalize(const char *in, char *out, size_t outlen)
{
    char    buf[INET6_ADDRSTRLEN + 8];
    unsigned char a[16];
    size_t  len = strlen(in);

    if (len >= 2 && in[0] == '[' && in[len - 1] == ']')
        in++, len -= 2;
    if (len > 5 && strncasecmp(in, "IPv6:", 5) == 0)
        in += 5, len -= 5;
    if (len >= sizeof(buf))
        return -1;
    memcpy(buf, in, len);
    buf[len] = 0;
    if (inet_pton(AF_INET, buf, a) == 1)
        return inet_ntop(AF_INET, a, out, (socklen_t) outlen) ? 0 : -1;
    if (inet_pton(AF_INET6, buf, a) != 1)
        return -1;
    if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
        return inet_ntop(AF_INET, a + 12, out, (socklen_t) outlen) ? 0 : -1;
    return inet_ntop(AF_INET6, a, out, (socklen_t) outlen) ? 0 : -1;
}

int     authfail_range(const char *in, char *norm, size_t normlen,
                       unsigned char from[16], unsigned char to[16])
{
    struct cidr c;
    char    addr[INET6_ADDRSTRLEN];
    int     bits, full;

    if (cidr_parse(in, &c) < 0)
        return -1;
    memset(from, 0, 16);
    if (c.family == AF_INET) {
        memcpy(from + 10, "\xff\xff", 2);
        memcpy(from + 12, c.addr, 4);
        bits = c.bits + 96;
    } else {
        memcpy(from, c.addr, 16);
        bits = c.bits;
    }
    for (int i = 0; i < 16; i++) {
        int     keep = bits - i * 8;
        unsigned char mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char) (0xff << (8 - keep));

        from[i] &= mask;
        to[i] = from[i] | (unsigned char) ~mask;
    }
    full = c.bits == (c.family == AF_INET ? 32 : 128);
    if (inet_ntop(c.family, c.family == AF_INET ? from + 12 : from, addr, sizeof(addr)) == 0)
        return -1;
    if ((size_t) snprintf(norm, normlen, full ? "%s" : "%s/%d", addr, c.bits) >= normlen)
        return -1;
    return 0;
}

long long authfail_ban_length(long base, long factor, long n)
{
    long long len = base;

    for (long i = 1; i < n && len < AUTHFAIL_BAN_MAX; i++)
        len *= factor;
    return len > AUTHFAIL_BAN_MAX ? AUTHFAIL_BAN_MAX : len;
}

/* ban_row - copy one auth_ban row */
static void ban_row(const struct pdb_col *c, struct authfail_ban_row *r)
{
    snprintf(r->ban, sizeof(r->ban), "%.63s", c[0].s);
    r->until = c[1].n;
    r->count = c[2].n;
    snprintf(r->reason, sizeof(r->reason), "%s", c[4].null ? "" : c[4].s);
}

#define BAN_COLS_INIT { {.type = PDB_TEXT}, {.type = PDB_INT}, {.type = PDB_INT}, \
                        {.type = PDB_INT}, {.type = PDB_TEXT} }

struct check_ctx {
    const char *ip;
    time_t  now;
    struct authfail_verdict *v;
    long long own_count, own_created;
};

static int check_row(void *ctx, const struct pdb_col *c, int n)
{
    struct check_ctx *cc = ctx;

    (void) n;
    if (c[1].n > cc->now && c[1].n > cc->v->until) {
        cc->v->banned = 1;
        cc->v->until = c[1].n;
        snprintf(cc->v->ban, sizeof(cc->v->ban), "%.63s", c[0].s);
    }
    if (strcmp(c[0].s, cc->ip) == 0) {
        cc->own_count = c[2].n;
        cc->own_created = c[3].n;
    }
    return 0;
}

static int count_row(void *ctx, const struct pdb_col *c, int n)
{
    (void) n;
    *(long *) ctx = (long) c[0].n;
    return 1;
}

/* window_ban - write the ban that the window earned */
static int window_ban(struct pdb *db, const struct authfail_params *ap, const char *ip,
                      const unsigned char *a, time_t now, struct check_ctx *cc)
{
    char    reason[128];
    long long n = cc->own_count + 1;
    long long until = now + authfail_ban_length(ap->ban_time, ap->factor, (long) n);
    struct pdb_val in[7] = {
        {PDB_TEXT, 0, ip, strlen(ip)}, {PDB_BLOB, 0, (const char *) a, 16},
        {PDB_BLOB, 0, (const char *) a, 16}, {PDB_TEXT, 0, reason, 0},
        {PDB_INT, now, 0, 0}, {PDB_INT, until, 0, 0}, {PDB_INT, n, 0, 0},
    };

    snprintf(reason, sizeof(reason), "%ld failed logins within %lds (ban %lld)",
             cc->v->failures, ap->window, n);
    in[3].len = strlen(reason);
    if (pdb_run(db, PDB_S_BAN_WINDOW, sql_ban_window, in, 7, 0, 0, 0, 0, 0) < 0)
        return -1;
    cc->v->banned = cc->v->new_ban = 1;
    cc->v->until = until;
    snprintf(cc->v->ban, sizeof(cc->v->ban), "%s", ip);
    return 0;
}

int     authfail_check(struct pdb *db, const struct authfail_params *ap, const char *ip,
                       time_t now, struct authfail_verdict *v)
{
    char    norm[AUTHFAIL_IP_MAX], addr[AUTHFAIL_IP_MAX];
    unsigned char a[16], b[16];
    struct pdb_col cols[5] = BAN_COLS_INIT;
    struct pdb_col cnt[1] = {{.type = PDB_INT}};
    struct check_ctx cc = {norm, now, v, 0, 0};
    struct pdb_val in[2] = {{PDB_BLOB, 0, (const char *) a, 16}, {PDB_INT, 0, 0, 0}};
    long long since;

    memset(v, 0, sizeof(*v));
    if (authfail_ip_normalize(ip, addr, sizeof(addr)) < 0
        || authfail_range(addr, norm, sizeof(norm), a, b) < 0)
        return 0;                               /* not an address: nothing to say */
    if (pdb_run(db, PDB_S_BAN_FIND, sql_ban_find, in, 1, cols, 5, check_row, &cc, 0) < 0)
        return -1;
    if (v->banned)
        return 0;
    since = now - ap->window;
    if (cc.own_created > since)
        since = cc.own_created;
    in[0] = (struct pdb_val) {PDB_TEXT, 0, norm, strlen(norm)};
    in[1].n = since;
    if (pdb_run(db, PDB_S_FAIL_COUNT, sql_fail_count, in, 2, cnt, 1, count_row,
                &v->failures, 0) < 0)
        return -1;
    if (v->failures >= ap->max)
        return window_ban(db, ap, norm, a, now, &cc);
    return 0;
}

int     authfail_record(struct pdb *db, const char *ip, const char *principal,
                        const char *protocol, int success, time_t now)
{
    char    norm[AUTHFAIL_IP_MAX];
    size_t  plen = strlen(principal), tlen = strlen(protocol);
    struct pdb_val in[5] = {
        {PDB_TEXT, 0, norm, 0}, {PDB_TEXT, 0, principal, plen > 255 ? 255 : plen},
        {PDB_TEXT, 0, protocol, tlen > 16 ? 16 : tlen}, {PDB_INT, success ? 1 : 0, 0, 0},
        {PDB_INT, now, 0, 0},
    };

    if (authfail_ip_normalize(ip, norm, sizeof(norm)) < 0)
        return -2;
    in[0].len = strlen(norm);
    return pdb_run(db, PDB_S_RECORD, sql_record, in, 5, 0, 0, 0, 0, 0);
}

int     authfail_covers_ipv4(const unsigned char from[16], const unsigned char to[16])
{
    static const unsigned char lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0};
    static const unsigned char hi[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff};

    return memcmp(from, lo, 16) <= 0 && memcmp(to, hi, 16) >= 0 && memcmp(from, to, 16) != 0
        && !(memcmp(from, lo, 16) == 0 && memcmp(to, hi, 16) == 0);
}

int     authfail_ban(struct pdb *db, const char *ip_or_cidr, long long seconds,
                     const char *reason, time_t now)
{
    char    norm[AUTHFAIL_IP_MAX];
    unsigned char a[16], b[16];
    struct pdb_val in[6] = {
        {PDB_TEXT, 0, norm, 0}, {PDB_BLOB, 0, (const char *) a, 16},
        {PDB_BLOB, 0, (const char *) b, 16}, {PDB_TEXT, 0, reason, strlen(reason)},
        {PDB_INT, now, 0, 0}, {PDB_INT, now + seconds, 0, 0},
    };

    if (authfail_range(ip_or_cidr, norm, sizeof(norm), a, b) < 0)
        return -2;
    if (strchr(norm, ':') && authfail_covers_ipv4(a, b))
        return -3;
    in[0].len = strlen(norm);
    return pdb_run(db, PDB_S_BAN_MANUAL, sql_ban_manual, in, 6, 0, 0, 0, 0, 0);
}

int     authfail_unban(struct pdb *db, const char *ip_or_cidr, long long *found)
{
    char    norm[AUTHFAIL_IP_MAX];
    unsigned char a[16], b[16];
    struct pdb_val in = {PDB_TEXT, 0, norm, 0};
    long long n1 = 0, n2 = 0;

    if (authfail_range(ip_or_cidr, norm, sizeof(norm), a, b) < 0)
        return -2;
    in.len = strlen(norm);
    if (pdb_run(db, PDB_S_UNBAN, sql_unban, &in, 1, 0, 0, 0, 0, &n1) < 0
        || pdb_run(db, PDB_S_FORGET, sql_forget, &in, 1, 0, 0, 0, 0, &n2) < 0)
        return -1;
    *found = n1 + n2;
    return 0;
}

struct list_ctx {
    authfail_ban_fn ban_fn;
    authfail_fail_fn fail_fn;
    void   *ctx;
};

static int list_ban_row(void *ctx, const struct pdb_col *c, int n)
{
    struct list_ctx *lc = ctx;
    struct authfail_ban_row r;

    (void) n;
    ban_row(c, &r);
    lc->ban_fn(lc->ctx, &r);
    return 0;
}

static int list_fail_row(void *ctx, const struct pdb_col *c, int n)
{
    struct list_ctx *lc = ctx;
    struct authfail_fail_row r;

    (void) n;
    snprintf(r.ip, sizeof(r.ip), "%.63s", c[0].s);
    r.count = c[1].n;
    r.last = c[2].n;
    lc->fail_fn(lc->ctx, &r);
    return 0;
}

int     authfail_list(struct pdb *db, const char *ip, time_t since,
                      authfail_ban_fn ban_fn, authfail_fail_fn fail_fn, void *ctx)
{
    char    norm[AUTHFAIL_IP_MAX] = "";
    unsigned char a[16], b[16];
    struct pdb_col bc[5] = BAN_COLS_INIT;
    struct pdb_col fc[3] = {{.type = PDB_TEXT}, {.type = PDB_INT}, {.type = PDB_INT}};
    struct list_ctx lc = {ban_fn, fail_fn, ctx};
    struct pdb_val in[3] = {{PDB_BLOB, 0, (const char *) a, 16}};
    int     rc;

    if (ip && authfail_range(ip, norm, sizeof(norm), a, b) < 0)
        return -2;
    rc = ip ? pdb_run(db, PDB_S_BAN_FIND, sql_ban_find, in, 1, bc, 5, list_ban_row, &lc, 0)
        : pdb_run(db, PDB_S_LIST_BANS, sql_list_bans, 0, 0, bc, 5, list_ban_row, &lc, 0);
    if (rc < 0)
        return -1;
    in[0] = (struct pdb_val) {PDB_INT, since, 0, 0};
    in[1] = in[2] = (struct pdb_val) {PDB_TEXT, 0, norm, strlen(norm)};
    return pdb_run(db, PDB_S_LIST_FAILS, sql_list_fails, in, 3, fc, 3, list_fail_row, &lc, 0);
}

int     authfail_prune(struct pdb *db, time_t before, time_t bans_before, long long *n)
{
    struct pdb_val in = {PDB_INT, before, 0, 0};
    long long got;

    *n = 0;
    do {                                        /* in slices: short locks */
        if (pdb_run(db, PDB_S_PRUNE, sql_prune, &in, 1, 0, 0, 0, 0, &got) < 0)
            return -1;
        *n += got;
    } while (got == 10000);
    in.n = bans_before;
    if (pdb_run(db, PDB_S_PRUNE_BANS, sql_prune_bans, &in, 1, 0, 0, 0, 0, &got) < 0)
        return -1;
    *n += got;
    return 0;
}
