/*
 * test_policy.c - the pure parts of policy/: address normalisation, reply
 * codes, quota decisions, ban arithmetic, address ranges, log-line parsing,
 * and the bounded quota cache.  Table-driven: name, input, want.
 */
#include <stdio.h>
#include <string.h>

#include "authfail.h"
#include "logscan.h"
#include "pdb_node.h"
#include "quota.h"
#include "t.h"

static void test_normalize(void)
{
    static const struct { const char *name, *in, *want; } cases[] = {
        {"plain", "bob@example.org", "bob@example.org"},
        {"angle brackets and case", "<Bob@EXAMPLE.Org>", "bob@example.org"},
        {"+detail stripped", "bob+lists@example.org", "bob@example.org"},
        {"+detail with dots", "<B.O.B+a+b@x.example>", "b.o.b@x.example"},
        {"plus in domain kept", "bob@a+b.example", "bob@a+b.example"},
        {"injection is just text", "'; DROP TABLE accounts; --@x", "'; drop table accounts; --@x"},
        {"no at sign", "bob", 0},
        {"empty local part", "@example.org", 0},
        {"only +detail", "+x@example.org", 0},
        {"empty domain", "bob@", 0},
        {"control character", "bo\rb@example.org", 0},
        {"empty", "", 0},
        {"null sender", "<>", 0},
    };
    char    out[QUOTA_ADDR_MAX], name[128];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int     rc = quota_normalize(cases[i].in, out, sizeof(out));

        snprintf(name, sizeof(name), "normalize: %s", cases[i].name);
        if (cases[i].want)
            T_STR(name, rc == 0 ? out : "(refused)", cases[i].want);
        else
            T_INT(name, rc, -1);
    }
    T_INT("normalize: too long refused", quota_normalize("abcdefgh@example.org", out, 8), -1);
    T_OK("catchall", quota_catchall("bob@example.org", out, sizeof(out)) == 0
         && strcmp(out, "@example.org") == 0);
}

static void test_reply(void)
{
    static const struct { const char *in; int rc; const char *rcode, *xcode; } cases[] = {
        {"452 4.2.2", 0, "452", "4.2.2"},
        {"552 5.2.2", 0, "552", "5.2.2"},
        {"452 5.2.2", -1, 0, 0},
        {"252 2.0.0", -1, 0, 0},
        {"452", -1, 0, 0},
        {"452 4.2.2 extra", -1, 0, 0},
        {"45x 4.2.2", -1, 0, 0},
    };
    char    rcode[4], xcode[16], name[64];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int     rc = quota_parse_reply(cases[i].in, rcode, xcode);

        snprintf(name, sizeof(name), "reply \"%s\"", cases[i].in);
        T_INT(name, rc, cases[i].rc);
        if (rc == 0 && cases[i].rc == 0) {
            T_STR(name, rcode, cases[i].rcode);
            T_STR(name, xcode, cases[i].xcode);
        }
    }
}

static void test_decide(void)
{
    static const struct {
        const char *name;
        int     found;
        long long quota, used;
        unsigned long size;
        const char *reply;
        enum policy_action action;
        const char *want;       /* "rcode xcode text" or "" / header text */
    } cases[] = {
        {"no row: no decision", 0, 0, 0, 0, "452 4.2.2", POLICY_CONTINUE, ""},
        {"unlimited (0)", 1, 0, 99999, 99999, "452 4.2.2", POLICY_CONTINUE, ""},
        {"under quota", 1, 1000, 10, 0, "452 4.2.2", POLICY_CONTINUE, ""},
        {"used == quota: full", 1, 1000, 1000, 0, "452 4.2.2", POLICY_TEMPFAIL,
         "452 4.2.2 <a@b.example>: mailbox full"},
        {"over quota", 1, 1000, 2000, 0, "452 4.2.2", POLICY_TEMPFAIL,
         "452 4.2.2 <a@b.example>: mailbox full"},
        {"permanent reply configured", 1, 1000, 1000, 0, "552 5.2.2", POLICY_REJECT,
         "552 5.2.2 <a@b.example>: mailbox full"},
        {"used + size > quota", 1, 1000, 600, 401, "452 4.2.2", POLICY_TEMPFAIL,
         "452 4.2.2 <a@b.example>: mailbox full"},
        {"used + size == quota fits", 1, 1000, 600, 400, "452 4.2.2", POLICY_CONTINUE, ""},
        {"size > quota: 552 5.2.3", 1, 1000, 0, 1001, "452 4.2.2", POLICY_REJECT,
         "552 5.2.3 <a@b.example>: message larger than the mailbox quota"},
        /* the boundaries a mutation of > into >= would move (issue 12) */
        {"size == quota, nothing used: fits", 1, 1000, 0, 1000, "452 4.2.2", POLICY_CONTINUE,
         ""},
        {"usage exactly at quota_warn_percent: warns", 1, 1000, 900, 0, "452 4.2.2",
         POLICY_CONTINUE, "<a@b.example> is at 90% of its mailbox quota"},
        {"warning above 90%", 1, 1000, 950, 0, "452 4.2.2", POLICY_CONTINUE,
         "<a@b.example> is at 95% of its mailbox quota"},
        {"no warning below 90%", 1, 1000, 899, 0, "452 4.2.2", POLICY_CONTINUE, ""},
        {"huge numbers do not overflow", 1, 9000000000000000000LL, 8500000000000000000LL, 0,
         "452 4.2.2", POLICY_CONTINUE, "<a@b.example> is at 94% of its mailbox quota"},
    };
    char    rcode[4], xcode[16], got[600];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct quota_info qi = {cases[i].found, cases[i].quota, cases[i].used, 0};
        struct policy_decision d;

        quota_parse_reply(cases[i].reply, rcode, xcode);
        quota_decide(&qi, "a@b.example", cases[i].size, rcode, xcode, 90, &d);
        if (d.action == POLICY_CONTINUE)
            snprintf(got, sizeof(got), "%s", d.header);
        else
            snprintf(got, sizeof(got), "%s %s %s", d.rcode, d.xcode, d.text);
        T_INT(cases[i].name, d.action, cases[i].action);
        T_STR(cases[i].name, got, cases[i].want);
    }
}

/* test_size - ESMTP SIZE= and byte counts: RFC 1870 size-value is
 * 1*20DIGIT; nothing out of range is clamped (issue 12.16) */
static void test_size(void)
{
    static const struct { const char *in; int rc; unsigned long want; } cases[] = {
        {"0", 0, 0}, {"1000", 0, 1000}, {"18446744073709551615", 0, 18446744073709551615UL},
        {"00000000000000000042", 0, 42},                /* 20 digits */
        {"000000000000000000042", -1, 0},               /* 21 digits */
        {"18446744073709551616", -1, 0},                /* ULONG_MAX + 1 */
        {"99999999999999999999999", -1, 0}, {"-1", -1, 0}, {"+5", -1, 0}, {" 5", -1, 0},
        {"5 ", -1, 0}, {"", -1, 0}, {"1e3", -1, 0}, {"0x10", -1, 0},
    };
    char    name[96];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned long got = 7;
        int     rc = policy_parse_size(cases[i].in, &got);

        snprintf(name, sizeof(name), "size \"%s\"", cases[i].in);
        T_INT(name, rc, cases[i].rc);
        if (cases[i].rc == 0)
            T_INT(name, (long long) (got - cases[i].want), 0);
    }
}

static void test_bans(void)
{
    static const struct { long base, factor, n; long long want; } cases[] = {
        {3600, 2, 1, 3600}, {3600, 2, 2, 7200}, {3600, 2, 3, 14400},
        {3600, 1, 5, 3600}, {600, 10, 3, 60000},
        {3600, 100, 50, AUTHFAIL_BAN_MAX},   /* capped, no overflow */
    };
    char    name[64];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(name, sizeof(name), "ban length %ld*%ld^(%ld-1)", cases[i].base,
                 cases[i].factor, cases[i].n);
        T_INT(name, authfail_ban_length(cases[i].base, cases[i].factor, cases[i].n),
              cases[i].want);
    }
}

/* test_ipv4_cover - which IPv6 bans would also ban every IPv4 client (issue 12.13) */
static void test_ipv4_cover(void)
{
    static const struct { const char *in; int want; } cases[] = {
        {"::/0", 1}, {"::/1", 1}, {"::/80", 1},       /* hold ::ffff:0:0/96 and more */
        {"::/81", 0}, {"::/96", 0},                    /* leave it out */
        {"::ffff:0:0/96", 0},                          /* exactly IPv4: says so */
        {"::ffff:192.0.2.0/120", 0}, {"2001:db8::/32", 0}, {"2000::/3", 0},
        {"0.0.0.0/0", 0},                              /* IPv4 ranges never count */
    };
    char    out[AUTHFAIL_IP_MAX], name[96];
    unsigned char a[16], b[16];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(name, sizeof(name), "covers all IPv4: \"%s\"", cases[i].in);
        authfail_range(cases[i].in, out, sizeof(out), a, b);
        T_INT(name, strchr(out, ':') != 0 && authfail_covers_ipv4(a, b), cases[i].want);
    }
}

static void test_addresses(void)
{
    static const struct { const char *in, *want; } ips[] = {
        {"192.0.2.7", "192.0.2.7"}, {"[192.0.2.7]", "192.0.2.7"},
        {"::ffff:192.0.2.7", "192.0.2.7"}, {"IPv6:2001:DB8::1", "2001:db8::1"},
        {"[2001:db8:0:0::1]", "2001:db8::1"}, {"unknown", 0}, {"192.0.2.7/24", 0},
        {"1.2.3.4'; DROP TABLE x", 0},
    };
    static const struct { const char *in, *norm; unsigned char first, last; } ranges[] = {
        {"192.0.2.7", "192.0.2.7", 7, 7},
        {"192.0.2.77/24", "192.0.2.0/24", 0, 255},
        {"2001:db8::/32", "2001:db8::/32", 0, 255},
    };
    char    out[AUTHFAIL_IP_MAX], name[96];
    unsigned char a[16], b[16];

    for (size_t i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
        int     rc = authfail_ip_normalize(ips[i].in, out, sizeof(out));

        snprintf(name, sizeof(name), "ip \"%s\"", ips[i].in);
        T_STR(name, rc == 0 ? out : "(refused)", ips[i].want ? ips[i].want : "(refused)");
    }
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        snprintf(name, sizeof(name), "range \"%s\"", ranges[i].in);
        T_INT(name, authfail_range(ranges[i].in, out, sizeof(out), a, b), 0);
        T_STR(name, out, ranges[i].norm);
        T_INT(name, a[15], ranges[i].first);
        T_INT(name, b[15], ranges[i].last);
    }
    authfail_range("192.0.2.7", out, sizeof(out), a, b);
    T_OK("IPv4 mapped into ::ffff:0:0/96", a[10] == 0xff && a[11] == 0xff && a[12] == 192);
    test_ipv4_cover();
}

static void test_logscan(void)
{
    static const struct { const char *name, *line, *ip, *principal, *protocol; int count; } cases[] = {
        {"postfix syslog",
         "Nov 21 13:00:01 mx postfix/smtpd[1234]: warning: unknown[192.0.2.7]: SASL LOGIN "
         "authentication failed: UGFzc3dvcmQ6", "192.0.2.7", "", "smtp", 1},
        {"postfix with sasl_username",
         "2026-11-21T13:00:01.123456+00:00 mx postfix/submission/smtpd[9]: warning: "
         "host.example[2001:db8::7]: SASL PLAIN authentication failed: authentication failure, "
         "sasl_username=bob@example.org", "2001:db8::7", "bob@example.org", "smtp", 1},
        {"dovecot login, 3 attempts",
         "Nov 21 13:00:02 mx dovecot: imap-login: Disconnected (auth failed, 3 attempts in 15 "
         "secs): user=<alice@example.org>, method=PLAIN, rip=198.51.100.4, lip=192.0.2.1, TLS",
         "198.51.100.4", "alice@example.org", "imap", 3},
        {"dovecot pop3 aborted",
         "Nov 21 13:00:03 mx dovecot: pop3-login: Aborted login (auth failed, 1 attempts in 2 "
         "secs): user=<carol>, method=PLAIN, rip=198.51.100.5, lip=192.0.2.1",
         "198.51.100.5", "carol", "pop3", 1},
        {"dovecot auth-worker unknown user",
         "Nov 21 13:00:04 mx dovecot: auth-worker(77): sql(dave@example.org,198.51.100.6,"
         "<Ab12>): unknown user", "198.51.100.6", "dave@example.org", "dovecot", 1},
        {"dovecot password mismatch",
         "Nov 21 13:00:05 mx dovecot: auth: passwd-file(erin,198.51.100.7): Password mismatch",
         "198.51.100.7", "erin", "dovecot", 1},
        {"stalwart auth.failed",
         "2026-11-21T13:00:06Z INFO Authentication failed (auth.failed) listenerId = "
         "\"submission\", localPort = 587, remoteIp = 203.0.113.8, remotePort = 40000, "
         "accountName = \"frank@example.org\"", "203.0.113.8", "frank@example.org",
         "submission", 1},
        {"postfix success is not a failure",
         "Nov 21 13:00:07 mx postfix/smtpd[1]: 4AB: client=x[192.0.2.9], sasl_method=PLAIN, "
         "sasl_username=bob", 0, 0, 0, 0},
        {"dovecot login success",
         "Nov 21 13:00:08 mx dovecot: imap-login: Login: user=<bob>, method=PLAIN, "
         "rip=192.0.2.10, lip=192.0.2.1", 0, 0, 0, 0},
        {"bad address in a failure line",
         "postfix/smtpd[1]: warning: unknown[not-an-ip]: SASL LOGIN authentication failed: x",
         0, 0, 0, 0},
        {"empty line", "", 0, 0, 0, 0},
    };
    struct logscan_hit hit;
    char    name[128];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int     rc = logscan_parse(cases[i].line, &hit);

        snprintf(name, sizeof(name), "logscan: %s", cases[i].name);
        T_INT(name, rc, cases[i].ip != 0);
        if (rc && cases[i].ip) {
            T_STR(name, hit.ip, cases[i].ip);
            T_STR(name, hit.principal, cases[i].principal);
            T_STR(name, hit.protocol, cases[i].protocol);
            T_INT(name, hit.count, cases[i].count);
        }
    }
}

static void test_cache(void)
{
    struct quota_cache *qc = quota_cache_new(3);
    struct quota_info qi = {1, 100, 5, 0}, got;
    char    key[32];

    quota_cache_put(qc, "a@x", 1000, &qi);
    T_INT("cache: hit", quota_cache_get(qc, "a@x", 1010, 30, &got), 1);
    T_INT("cache: value", got.used, 5);
    T_INT("cache: expired after ttl", quota_cache_get(qc, "a@x", 1030, 30, &got), 0);
    T_INT("cache: ttl 0 is off", quota_cache_get(qc, "a@x", 1000, 0, &got), 0);
    for (int i = 0; i < 5; i++) {
        snprintf(key, sizeof(key), "k%d@x", i);
        qi.used = i;
        quota_cache_put(qc, key, 1000, &qi);
    }
    T_INT("cache: bounded", quota_cache_count(qc), 3);
    T_INT("cache: oldest evicted", quota_cache_get(qc, "a@x", 1000, 30, &got), 0);
    T_INT("cache: k1 evicted", quota_cache_get(qc, "k1@x", 1000, 30, &got), 0);
    T_INT("cache: newest kept", quota_cache_get(qc, "k4@x", 1000, 30, &got), 1);
    T_INT("cache: newest value", got.used, 4);
    qi.used = 42;
    quota_cache_put(qc, "k4@x", 1001, &qi);
    T_INT("cache: update in place", quota_cache_count(qc), 3);
    quota_cache_get(qc, "k4@x", 1001, 30, &got);
    T_INT("cache: updated value", got.used, 42);
    quota_cache_free(qc);
}

/* test_nodes - the node list of a pool (pdb_node.c): a failed node is
 * skipped for the hold, then claimed by one caller while the others keep
 * using the next node; an earlier node is "better" once its hold is over.
 * Steps run in order on one list of three nodes, hold 1000 ms. */
static void test_nodes(void)
{
    enum { PICK, BETTER, FAIL, FAIL_NOHOLD, OK };
    static const struct {
        const char *name;
        int     op, node;
        long long now;
        int     want;
    } steps[] = {
        {"all well: first node", PICK, 0, 0, 0},
        {"first failure is news", FAIL, 0, 0, 1},
        {"second failure is not", FAIL, 0, 10, 0},
        {"held node skipped", PICK, 0, 500, 1},
        {"no better node while held", BETTER, 1, 500, 0},
        {"hold over: node 0 better", BETTER, 1, 1010, 1},
        {"hold over: node 0 tried", PICK, 0, 1010, 0},
        {"while tried: others skip it", PICK, 0, 1020, 1},
        {"while tried: not better", BETTER, 1, 1020, 0},
        {"answered: news", OK, 0, 1030, 1},
        {"answered again: no news", OK, 0, 1040, 0},
        {"back in use", PICK, 0, 1050, 0},
        {"quick loss: not held", FAIL_NOHOLD, 0, 1060, 0},
        {"quick loss: still first", PICK, 0, 1070, 0},
        {"node 1 fails", FAIL, 1, 1080, 1},
        {"node 2 fails", FAIL, 2, 1080, 1},
        {"node 0 fails", FAIL, 0, 1080, 1},
        {"all held: none", PICK, 0, 1500, -1},
        {"from after the last: none", PICK, 3, 5000, -1},
    };
    struct pdb_nodes ns;
    unsigned gen0;

    T_INT("parse three nodes", pdb_nodes_parse(&ns, "a:1, b, [::1]:3", 3306, 1000), 0);
    T_INT("three nodes", ns.n, 3);
    T_STR("node 2 host", ns.v[1].host, "b");
    T_INT("node 2 default port", ns.v[1].port, 3306);
    T_STR("node 3 IPv6 host", ns.v[2].host, "::1");
    gen0 = ns.v[0].gen;
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        int     got = 0;

        switch (steps[i].op) {
        case PICK:
            got = pdb_node_pick(&ns, steps[i].node, steps[i].now);
            break;
        case BETTER:
            got = pdb_node_better(&ns, steps[i].node, steps[i].now);
            break;
        case FAIL:
        case FAIL_NOHOLD:
            got = pdb_node_fail(&ns, steps[i].node, steps[i].op == FAIL, steps[i].now);
            break;
        case OK:
            got = pdb_node_ok(&ns, steps[i].node);
            break;
        }
        T_INT(steps[i].name, got, steps[i].want);
    }
    T_INT("each failure drops node 0's connections (generation)", ns.v[0].gen - gen0, 4);
    pdb_nodes_free(&ns);
    T_INT("parse empty", pdb_nodes_parse(&ns, "", 3307, 1000), 0);
    T_INT("empty: one node", ns.n, 1);
    T_STR("empty: library default host", ns.v[0].host, "");
    T_INT("empty: mysql_port", ns.v[0].port, 3307);
    pdb_nodes_free(&ns);
}

int     main(void)
{
    test_normalize();
    test_reply();
    test_decide();
    test_size();
    test_bans();
    test_addresses();
    test_logscan();
    test_cache();
    test_nodes();
    return t_done();
}
