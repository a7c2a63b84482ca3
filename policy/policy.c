/*
 * policy.c - the policy.h interface: quota at RCPT and end of message,
 * the auth-attempt policy at connect, over one shared connection pool.
 *
 *   policy_open             copy the settings, make the pool and cache
 *   policy_close            free them
 *   policy_connect          exempt, banned, or banned now by the window
 *   policy_rcpt/policy_eom  quota with the SIZE= hint / the real size
 *   policy_record_authfail  one failed or refused login
 *   policy_parse_size       an ESMTP SIZE= value, strictly
 *   policy_db_error         what the database said last
 *   policy_thread_end       mysql_thread_end for a milter thread
 *   policy_db_ping          is the database answering (serve's /health)
 *
 * Every function writes a complete decision and never fails the caller:
 * when the database is down the configured *_db_error_action answers
 * (tempfail = 451 4.3.0), and pdb logs the outage once.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authfail.h"
#include "cidr.h"
#include "fileio.h"
#include "log.h"
#include "policy.h"
#include "quota.h"

#define POLICY_POOL 8

struct policy {
    int     quota_on, authfail_on;
    char   *query;
    char    rcode[4], xcode[16];
    long    warn_percent, cache_ttl;
    int     quota_tempfail, authfail_tempfail;
    struct authfail_params ap;
    struct cidr_list *exempt;
    struct quota_cache *cache;
    struct pdb *db;
};

struct policy *policy_open(const struct mx_conf *c)
{
    struct policy *p;

    if (!c->quota_enable && !c->authfail_enable)
        return 0;
    if ((p = calloc(1, sizeof(*p))) == 0)
        return 0;
    p->quota_on = (int) c->quota_enable;
    p->authfail_on = (int) c->authfail_enable;
    p->query = strdup(c->quota_query);
    if (quota_parse_reply(c->quota_reply, p->rcode, p->xcode) < 0) {
        mx_warn("quota_reply \"%.40s\" is not \"4xx 4.x.x\" or \"5xx 5.x.x\"; using 452 4.2.2",
                c->quota_reply);
        strcpy(p->rcode, "452");
        strcpy(p->xcode, "4.2.2");
    }
    p->warn_percent = c->quota_warn_percent;
    p->cache_ttl = c->quota_cache_ttl;
    p->quota_tempfail = strcasecmp(c->quota_db_error_action, "accept") != 0;
    p->authfail_tempfail = strcasecmp(c->authfail_db_error_action, "tempfail") == 0;
    p->ap = (struct authfail_params) {c->authfail_max, c->authfail_window,
        c->authfail_ban_time, c->authfail_ban_factor};
    p->exempt = cidr_list_parse(c->authfail_exempt);
    p->cache = quota_cache_new(QUOTA_CACHE_MAX);
    p->db = pdb_open(c, POLICY_POOL, 0);
    if (!p->query || !p->exempt || !p->cache || !p->db) {
        policy_close(p);
        return 0;
    }
    return p;
}

void    policy_close(struct policy *p)
{
    if (p == 0)
        return;
    free(p->query);
    if (p->exempt)
        cidr_list_free(p->exempt);
    quota_cache_free(p->cache);
    pdb_close(p->db);
    free(p);
}

/* decide - fill OUT */
static void decide(struct policy_decision *out, enum policy_action a,
                   const char *rcode, const char *xcode, const char *text)
{
    memset(out, 0, sizeof(*out));
    out->action = a;
    snprintf(out->rcode, sizeof(out->rcode), "%s", rcode);
    snprintf(out->xcode, sizeof(out->xcode), "%s", xcode);
    snprintf(out->text, sizeof(out->text), "%s", text);
}

static void db_error(struct policy_decision *out, int tempfail)
{
    if (tempfail)
        decide(out, POLICY_TEMPFAIL, "451", "4.3.0", "temporary policy failure, try again later");
    else
        decide(out, POLICY_CONTINUE, "", "", "");
    out->db_error = 1;
}

void    policy_connect(struct policy *p, const char *ip, struct policy_decision *out)
{
    struct authfail_verdict v;
    char    addr[AUTHFAIL_IP_MAX];

    decide(out, POLICY_CONTINUE, "", "", "");
    if (p == 0 || !p->authfail_on || ip == 0
        || authfail_ip_normalize(ip, addr, sizeof(addr)) < 0
        || cidr_list_match_text(p->exempt, addr))
        return;
    if (authfail_check(p->db, &p->ap, addr, mx_now(), &v) < 0) {
        db_error(out, p->authfail_tempfail);
        return;
    }
    out->failures = v.failures;
    if (!v.banned)
        return;
    if (v.new_ban)
        mx_info("authfail: banned %.64s for %lld s after %ld failed logins",
                v.ban, v.until - mx_now(), v.failures);
    mx_info("authfail: refused %s (ban %s)", addr, v.ban);
    decide(out, POLICY_TEMPFAIL, "421", "4.7.0", "too many failed authentication attempts");
    out->failures = v.failures;
}

/* quota_check - the common part of policy_rcpt and policy_eom */
static void quota_check(struct policy *p, const char *rcpt, unsigned long size,
                        const char *stage, struct policy_decision *out)
{
    char    addr[QUOTA_ADDR_MAX], shown[QUOTA_ADDR_MAX];
    struct quota_info qi;
    size_t  len;

    decide(out, POLICY_CONTINUE, "", "", "");
    if (p == 0 || !p->quota_on || rcpt == 0 || quota_normalize(rcpt, addr, sizeof(addr)) < 0)
        return;
    len = strlen(rcpt);
    if (len >= 2 && rcpt[0] == '<' && rcpt[len - 1] == '>')
        rcpt++, len -= 2;
    snprintf(shown, sizeof(shown), "%.*s", (int) (len < 200 ? len : 200), rcpt);
    if (quota_lookup(p->db, p->query, p->cache, p->cache_ttl, addr, &qi) < 0) {
        db_error(out, p->quota_tempfail);
        return;
    }
    quota_decide(&qi, shown, size, p->rcode, p->xcode, p->warn_percent, out);
    if (out->action != POLICY_CONTINUE)
        mx_info("quota: %s %.200s: %s %s (quota %lld, used %lld, size %lu)", stage, addr,
                out->rcode, out->xcode, qi.quota, qi.used, size);
    else if (out->header[0])
        mx_info("quota: %s %.200s above %ld%% (quota %lld, used %lld)", stage, addr,
                p->warn_percent, qi.quota, qi.used);
}

void    policy_rcpt(struct policy *p, const char *rcpt, unsigned long size_hint,
                    struct policy_decision *out)
{
    quota_check(p, rcpt, size_hint, "rcpt", out);
}

void    policy_eom(struct policy *p, const char *rcpt, unsigned long msg_size,
                   struct policy_decision *out)
{
    quota_check(p, rcpt, msg_size, "eom", out);
}

int     policy_parse_size(const char *s, unsigned long *out)
{
    unsigned long n = 0;
    size_t  len = strspn(s, "0123456789");

    if (len == 0 || len > 20 || s[len] != 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned) (s[i] - '0');

        if (n > (ULONG_MAX - d) / 10)
            return -1;
        n = n * 10 + d;
    }
    *out = n;
    return 0;
}

int     policy_record_authfail(struct policy *p, const char *ip, const char *principal,
                               const char *protocol)
{
    int     rc;

    if (p == 0 || !p->authfail_on || ip == 0)
        return 0;
    rc = authfail_record(p->db, ip, principal ? principal : "", protocol ? protocol : "smtp",
                         0, mx_now());
    if (rc == -2)
        mx_warn("authfail: not an address: \"%.64s\"", ip);
    return rc;
}

const char *policy_db_error(struct policy *p, int *down, int *refused)
{
    *down = pdb_is_down(p->db);
    *refused = pdb_is_refused(p->db);
    return pdb_error(p->db);
}

void    policy_thread_end(void)
{
    pdb_thread_end();
}

int     policy_db_ping(struct policy *p)
{
    struct pdb_col one[1] = {{.type = PDB_INT}};

    if (p == 0)
        return -1;
    return pdb_run(p->db, -1, "SELECT 1", 0, 0, one, 1, 0, 0, 0);
}
