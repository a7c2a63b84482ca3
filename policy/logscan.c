/*
 * logscan.c - recognise failed logins in mail-server log lines.
 *
 *   logscan_parse   one line -> ip, principal, protocol, count
 *
 * Shapes recognised (syslog or maillog_file prefixes are ignored):
 *   Postfix  "warning: NAME[IP]: SASL LOGIN authentication failed: ...
 *            [, sasl_username=USER]"
 *   Dovecot  "imap-login: Disconnected (auth failed, 3 attempts in 15 secs):
 *            user=<U>, method=PLAIN, rip=IP, ..." (counts 3), and the auth
 *            process "auth-worker(9): sql(U,IP,<s>): unknown user" /
 *            "...: Password mismatch"
 *   Stalwart "Authentication failed (auth.failed) listenerId = "smtp", ...
 *            remoteIp = IP, ... accountName = "U""
 * Input is untrusted: every copy is bounded, addresses are validated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logscan.h"

/* copy_until - copy from S up to a char in STOP (or end) into OUT */
static void copy_until(const char *s, const char *stop, char *out, size_t outlen)
{
    size_t  n = strcspn(s, stop);

    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, s, n);
    out[n] = 0;
}

/* field - the value after KEY (e.g. "rip="), up to a char in STOP */
static int field(const char *line, const char *key, const char *stop, char *out, size_t outlen)
{
    const char *p = strstr(line, key);

    if (p == 0)
        return 0;
    copy_until(p + strlen(key), stop, out, outlen);
    return 1;
}

static int set_ip(struct logscan_hit *hit, const char *raw)
{
    return authfail_ip_normalize(raw, hit->ip, sizeof(hit->ip)) == 0;
}

/* postfix - "NAME[IP]: SASL MECH authentication failed" */
static int postfix(const char *line, struct logscan_hit *hit)
{
    const char *sasl = strstr(line, "]: SASL "), *open;
    char    ip[AUTHFAIL_IP_MAX];
    size_t  n;

    if (sasl == 0 || strstr(sasl, " authentication failed") == 0)
        return 0;
    for (open = sasl; open > line && open[-1] != '['; open--)
        ;
    if (open == line || (n = (size_t) (sasl - open)) >= sizeof(ip))
        return 0;
    memcpy(ip, open, n);
    ip[n] = 0;
    if (!set_ip(hit, ip))
        return 0;
    field(sasl, "sasl_username=", ", \r\n", hit->principal, sizeof(hit->principal));
    strcpy(hit->protocol, "smtp");
    return 1;
}

/* dovecot_login - "PROTO-login: ... (auth failed, N attempts ...): user=<U>, rip=IP" */
static int dovecot_login(const char *line, struct logscan_hit *hit)
{
    const char *login = strstr(line, "-login: "), *af = strstr(line, "auth failed"), *p;
    char    ip[AUTHFAIL_IP_MAX];
    int     n;

    if (login == 0 || af == 0 || !field(line, "rip=", ", \r\n", ip, sizeof(ip)) || !set_ip(hit, ip))
        return 0;
    for (p = login; p > line && p[-1] != ' ' && p[-1] != ':'; p--)
        ;
    snprintf(hit->protocol, sizeof(hit->protocol), "%.*s",
             (int) (login - p < 16 ? login - p : 16), p);
    field(line, "user=<", ">", hit->principal, sizeof(hit->principal));
    if (sscanf(af, "auth failed, %d attempt", &n) == 1 && n > 1)
        hit->count = n > 100 ? 100 : n;
    return 1;
}

/* dovecot_auth - "PASSDB(U,IP[,<session>]): unknown user|Password mismatch" */
static int dovecot_auth(const char *line, struct logscan_hit *hit)
{
    const char *end = strstr(line, "): unknown user"), *open, *comma;
    char    ip[AUTHFAIL_IP_MAX];

    if (end == 0)
        end = strcasestr(line, "): password mismatch");
    if (end == 0 || strstr(line, "auth") == 0)
        return 0;
    for (open = end; open > line && open[-1] != '('; open--)
        ;
    if (open == line || (comma = memchr(open, ',', (size_t) (end - open))) == 0)
        return 0;
    snprintf(hit->principal, sizeof(hit->principal), "%.*s",
             (int) (comma - open < 255 ? comma - open : 255), open);
    copy_until(comma + 1, ",)", ip, sizeof(ip));
    if (!set_ip(hit, ip))
        return 0;
    strcpy(hit->protocol, "dovecot");
    return 1;
}

/* stalwart - "(auth.failed) ... remoteIp = IP, ... accountName = "U"" */
static int stalwart(const char *line, struct logscan_hit *hit)
{
    char    ip[AUTHFAIL_IP_MAX];

    if (strstr(line, "(auth.failed)") == 0 && strstr(line, "Authentication failed") == 0)
        return 0;
    if (!field(line, "remoteIp = ", ", \r\n", ip, sizeof(ip)) || !set_ip(hit, ip))
        return 0;
    if (!field(line, "accountName = \"", "\"", hit->principal, sizeof(hit->principal)))
        field(line, " id = \"", "\"", hit->principal, sizeof(hit->principal));
    if (!field(line, "listenerId = \"", "\"", hit->protocol, sizeof(hit->protocol)))
        strcpy(hit->protocol, "stalwart");
    return 1;
}

int     logscan_parse(const char *line, struct logscan_hit *hit)
{
    static int (*const parsers[]) (const char *, struct logscan_hit *) = {
        postfix, dovecot_login, dovecot_auth, stalwart,
    };

    for (size_t i = 0; i < sizeof(parsers) / sizeof(parsers[0]); i++) {
        memset(hit, 0, sizeof(*hit));
        hit->count = 1;
        if (parsers[i](line, hit))
            return 1;
    }
    memset(hit, 0, sizeof(*hit));
    return 0;
}
