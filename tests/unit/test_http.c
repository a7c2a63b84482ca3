/*
 * test_http.c - the pure parts of mxdock-policy serve (policy/http_*.c):
 * listen addresses, the delay table, Stalwart's signature (RFC 4231's
 * HMAC-SHA256 test vector), Dovecot's request JSON as 2.3.19 sends it, the
 * once-a-minute 401 log, the Prometheus counters.
 */
#include <arpa/inet.h>
#include <stdlib.h>

#include "http.h"
#include "t.h"

static void test_listen(void)
{
    static const struct {
        const char *in;
        int     family, port;
    } cases[] = {
        {"127.0.0.1:8787", AF_INET, 8787},
        {"0.0.0.0:1", AF_INET, 1},
        {"[::1]:65535", AF_INET6, 65535},
        {"[2001:db8::5]:80", AF_INET6, 80},
        {"unix:/run/mxdock/policy.sock", AF_UNIX, 0},
        {"127.0.0.1", -1, 0},                   /* no port */
        {"127.0.0.1:0", -1, 0},
        {"127.0.0.1:65536", -1, 0},
        {"127.0.0.1:80x", -1, 0},
        {"::1:80", -1, 0},                      /* IPv6 needs brackets */
        {"[127.0.0.1]:80", -1, 0},
        {"[::1]80", -1, 0},
        {"localhost:80", -1, 0},                /* no name lookups */
        {":80", -1, 0},
        {"unix:relative.sock", -1, 0},
        {"", -1, 0},
    };
    char    name[128], why[200];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct http_listen l;
        int     rc = http_listen_parse(cases[i].in, &l, why, sizeof(why));
        int     port = 0;

        snprintf(name, sizeof(name), "listen \"%s\"", cases[i].in);
        if (cases[i].family < 0) {
            T_INT(name, rc, -1);
            continue;
        }
        T_INT(name, rc == 0 ? l.family : -1, cases[i].family);
        if (l.family == AF_INET)
            port = ntohs(((struct sockaddr_in *) &l.ss)->sin_port);
        else if (l.family == AF_INET6)
            port = ntohs(((struct sockaddr_in6 *) &l.ss)->sin6_port);
        snprintf(name, sizeof(name), "listen \"%s\": port", cases[i].in);
        T_INT(name, port, cases[i].port);
    }
}

static void test_delay(void)
{
    static const struct {
        long    failures, from, max, want;
    } cases[] = {
        {9, 0, 8, 0},           /* off */
        {4, 5, 8, 0},           /* below the start */
        {5, 5, 8, 1}, {6, 5, 8, 2}, {7, 5, 8, 4}, {8, 5, 8, 8},
        {9, 5, 8, 8},           /* capped */
        {1000000, 5, 60, 60},   /* no overflow on the way */
        {3, 1, 5, 4}, {4, 1, 5, 5},
    };
    char    name[96];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(name, sizeof(name), "delay: %ld failures, from %ld, max %ld", cases[i].failures,
                 cases[i].from, cases[i].max);
        T_INT(name, http_delay(cases[i].failures, cases[i].from, cases[i].max), cases[i].want);
    }
}

static void test_signature(void)
{
    /* RFC 4231 test case 2: HMAC-SHA256("Jefe", "what do ya want for
     * nothing?") = 5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843,
     * here in standard base64 as Stalwart sends it */
    const char *body = "what do ya want for nothing?";
    const char *good = "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=";

    T_INT("signature: RFC 4231 case 2", http_signature_ok("Jefe", body, strlen(body), good), 1);
    T_INT("signature: another key", http_signature_ok("Jeff", body, strlen(body), good), 0);
    T_INT("signature: a byte of the body changed",
          http_signature_ok("Jefe", "what do ya want for nothing!", strlen(body), good), 0);
    T_INT("signature: without padding",
          http_signature_ok("Jefe", body, strlen(body), "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM"), 0);
    T_INT("signature: hex instead of base64", http_signature_ok("Jefe", body, strlen(body),
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"), 0);
    T_INT("signature: missing", http_signature_ok("Jefe", body, strlen(body), 0), 0);
    T_INT("signature: empty", http_signature_ok("Jefe", body, strlen(body), ""), 0);
    T_INT("signature: no key configured", http_signature_ok("", body, strlen(body), good), 0);
}

/* dovecot_case - parse BODY; "rc remote login protocol success reject tried" */
static const char *dovecot_case(const char *body, char *out, size_t outlen)
{
    struct http_dovecot_req r;
    char    why[160];
    int     rc = http_dovecot_parse(body, strlen(body), &r, why, sizeof(why));

    if (rc < 0)
        snprintf(out, outlen, "-1");
    else
        snprintf(out, outlen, "0 %s %s %s %d %d %d", r.remote, r.login, r.protocol, r.success,
                 r.policy_reject, r.tried_password);
    return out;
}

static void test_dovecot(void)
{
    static const struct {
        const char *name, *body, *want;
    } cases[] = {
        /* as Dovecot 2.3.19 sends allow (auth-policy.c:487-550, tls last) */
        {"allow", "{\"device_id\":\"\",\"login\":\"user@example.org\",\"protocol\":\"imap\","
         "\"pwhash\":\"0a1\",\"remote\":\"127.0.0.3\",\"session_id\":\"WUUI3fJhYYZ/AAAD\","
         "\"tls\":false}", "0 127.0.0.3 user@example.org imap 0 0 1"},
        {"report, failed (no tried_password: true)", "{\"login\":\"u\",\"protocol\":\"smtp\","
         "\"remote\":\"192.0.2.1\",\"success\":false,\"policy_reject\":false,\"tls\":true}",
         "0 192.0.2.1 u smtp 0 0 1"},
        {"report, refused by the policy", "{\"remote\":\"192.0.2.1\",\"success\":false,"
         "\"policy_reject\":true}", "0 192.0.2.1   0 1 1"},
        {"report, tried_password false", "{\"remote\":\"192.0.2.1\",\"success\":false,"
         "\"tried_password\":false}", "0 192.0.2.1   0 0 0"},
        {"report, success", "{\"remote\":\"::1\",\"success\":true}", "0 ::1   1 0 1"},
        {"remote null", "{\"remote\":null}", "0    0 0 1"},
        {"protocol longer than 16: cut", "{\"protocol\":\"managesieve-and-more\"}",
         "0   managesieve-and- 0 0 1"},
        {"success not a boolean", "{\"remote\":\"192.0.2.1\",\"success\":\"false\"}", "-1"},
        {"remote a number", "{\"remote\":3232235777}", "-1"},
        {"an array", "[1,2]", "-1"},
        {"truncated", "{\"remote\":", "-1"},
        {"duplicate key", "{\"remote\":\"192.0.2.1\",\"remote\":\"192.0.2.2\"}", "-1"},
        {"empty", "", "-1"},
    };
    char    got[400];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        T_STR(cases[i].name, dovecot_case(cases[i].body, got, sizeof(got)), cases[i].want);
}

static void test_denylog(void)
{
    struct http_denylog *d = http_denylog_new();
    long    sup = -1;

    T_INT("401 log: first from a client", http_deny_log(d, "192.0.2.1 401", 1000, &sup), 1);
    T_INT("401 log: again 1 s later: not logged", http_deny_log(d, "192.0.2.1 401", 1001, &sup), 0);
    T_INT("401 log: another client: logged", http_deny_log(d, "192.0.2.2 401", 1001, &sup), 1);
    T_INT("401 log: 59 s later: not logged", http_deny_log(d, "192.0.2.1 401", 1059, &sup), 0);
    T_INT("401 log: 60 s later: logged", http_deny_log(d, "192.0.2.1 401", 1060, &sup), 1);
    T_INT("401 log: ... saying 2 were not", sup, 2);
    for (int i = 0; i < 300; i++) {             /* more clients than slots */
        char    c[32];

        snprintf(c, sizeof(c), "198.51.100.%d 401", i);
        http_deny_log(d, c, 1061, &sup);
    }
    T_INT("401 log: a new client when the table is full: logged",
          http_deny_log(d, "203.0.113.1 401", 1062, &sup), 1);
    http_denylog_free(d);
}

static void test_metrics(void)
{
    struct http_metrics *m = http_metrics_new();
    char   *text;

    http_metrics_request(m, HTTP_EP_ALLOW, 200, 0.003);
    http_metrics_request(m, HTTP_EP_ALLOW, 200, 0.3);
    http_metrics_request(m, HTTP_EP_ALLOW, 418, 0.0001);
    http_metrics_decision(m, HTTP_DEC_REFUSE);
    http_metrics_failure(m, HTTP_SRC_STALWART);
    text = http_metrics_render(m);
    T_HAS("metrics: by endpoint and code", text,
          "mxdock_policy_http_requests_total{endpoint=\"dovecot_allow\",code=\"200\"} 2\n");
    T_HAS("metrics: an unlisted code", text,
          "mxdock_policy_http_requests_total{endpoint=\"dovecot_allow\",code=\"other\"} 1\n");
    T_HAS("metrics: histogram below 3 ms",
          text, "{endpoint=\"dovecot_allow\",le=\"0.0025\"} 1\n");
    T_HAS("metrics: histogram up to 5 ms (cumulative)",
          text, "{endpoint=\"dovecot_allow\",le=\"0.005\"} 2\n");
    T_HAS("metrics: histogram +Inf", text, "{endpoint=\"dovecot_allow\",le=\"+Inf\"} 3\n");
    T_HAS("metrics: count", text,
          "mxdock_policy_http_request_duration_seconds_count{endpoint=\"dovecot_allow\"} 3\n");
    T_HAS("metrics: decisions", text, "mxdock_policy_decisions_total{decision=\"refuse\"} 1\n");
    T_HAS("metrics: failures", text,
          "mxdock_policy_failures_recorded_total{source=\"stalwart\"} 1\n");
    free(text);
    http_metrics_free(m);
}

int     main(void)
{
    test_listen();
    test_delay();
    test_signature();
    test_dovecot();
    test_denylog();
    test_metrics();
    return t_done();
}
