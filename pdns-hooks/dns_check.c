/*
 * dns_check.c - what the authoritative servers really publish.
 *
 *   cmd_check            every expected record: ok / missing / stale /
 *                        error; unchecked (not a failure) for types it
 *                        cannot compare; spf-uncovered when the SPF served
 *                        (an administrator's edit) no longer lets the
 *                        mail host send; --json: one array of them
 *   cmd_mta_sts_policy   print the MTA-STS policy of a domain
 *   dns_mta_sts_write    write it where the web server serves it
 *   dns_dkim_activate    first keys served by every name server (the rule
 *                        of dkim_store_published) become active at once
 *
 * Queries go straight to dns_check_server, or else to each host of
 * dns_nameservers (its IPv4 address), with RD off (conf/dnsq.c).
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>

#include <jansson.h>

#include "dns_cli.h"
#include "dnsq.h"
#include "fileio.h"

static json_t *check_json;      /* check --json: the results, else NULL */

/* emit - one result of check: a tab-separated line, or with --json an
 * object {"detail","name","server","status","type"} */
static void emit(const char *status, const char *name, const char *type, const char *server,
                 const char *detail)
{
    if (check_json) {
        json_array_append_new(check_json, json_pack("{s:s, s:s, s:s, s:s, s:s}",
                                                     "status", status, "name", name,
                                                     "type", type, "server", server,
                                                     "detail", detail));
        return;
    }
    printf("%s\t%s\t%s", status, name, type);
    if (*detail)
        printf("\t%s%s%s", server, *server ? ": " : "", detail);
    putchar('\n');
}

#define MAXSERVERS 8

/* The types whose answers dnsq_query renders in the form pdns_norm
 * compares; a template record of any other type (DS, SSHFP, HTTPS, ...)
 * is reported "unchecked" and does not fail the check. */
static const struct { const char *name; int type; } qtypes[] = {
    {"A", ns_t_a}, {"NS", ns_t_ns}, {"CNAME", ns_t_cname}, {"SOA", ns_t_soa},
    {"MX", ns_t_mx}, {"TXT", ns_t_txt}, {"AAAA", ns_t_aaaa}, {"SRV", ns_t_srv},
    {"TLSA", ns_t_tlsa}, {"CAA", ns_t_caa}, {"PTR", ns_t_ptr},
};

/* qtype - the query type of NAME, or -1 when check cannot compare it. */
static int qtype(const char *name)
{
    for (size_t i = 0; i < sizeof qtypes / sizeof *qtypes; i++)
        if (!strcmp(qtypes[i].name, name))
            return qtypes[i].type;
    return -1;
}

/* servers - dns_check_server, or the IPv4 address of each NS host. */
static size_t servers(const struct cli *c, const char *domain, char out[][64], size_t max)
{
    const char *cur = c->conf->dns_nameservers;
    char    item[300], host[300];
    size_t  n = 0;

    if (*c->conf->dns_check_server) {
        snprintf(out[0], 64, "%s", c->conf->dns_check_server);
        return 1;
    }
    while (n < max && conf_list_next(&cur, item, sizeof item)) {
        struct addrinfo hints = {0}, *ai;

        hints.ai_family = AF_INET;
        if (conf_expand(item, domain, host, sizeof host) < 0
            || getaddrinfo(host, NULL, &hints, &ai) != 0) {
            fprintf(stderr, "%s: cannot resolve name server %.100s\n", c->prog, item);
            continue;
        }
        inet_ntop(AF_INET, &((struct sockaddr_in *) ai->ai_addr)->sin_addr, out[n++], 64);
        freeaddrinfo(ai);
    }
    return n;
}

/* verdict - "ok", "missing" or "stale" of WANT against what SERVER sent.
 * Merged TXT names (apex, mail host) need only carry the wanted records. */
static const char *verdict(const struct pdns_rrset *want, char **got, size_t n, int subset)
{
    size_t  found = 0;

    for (size_t i = 0; i < want->n; i++)
        for (size_t j = 0; j < n; j++)
            if (pdns_rec_equal(want->type, want->rec[i], got[j])) {
                found++;
                break;
            }
    if (n == 0)
        return "missing";
    return found == want->n && (subset || n == want->n) ? "ok" : "stale";
}

/* in_net - ADDR inside NET ("192.0.2.0/24", "2001:db8::1"), family AF. */
static int in_net(int af, const char *net, const char *addr)
{
    unsigned char n[16], a[16];
    char    buf[64];
    const char *slash = strchr(net, '/');
    int     bits = af == AF_INET ? 32 : 128, len = bits / 8;

    snprintf(buf, sizeof buf, "%.*s", slash ? (int) (slash - net) : (int) strlen(net), net);
    if (slash)
        bits = atoi(slash + 1);
    if (!*addr || inet_pton(af, buf, n) != 1 || inet_pton(af, addr, a) != 1 || bits < 0
        || bits > len * 8)
        return 0;
    for (int i = 0; i < len && bits > 0; i++, bits -= 8) {
        unsigned char m = (unsigned char) (bits >= 8 ? 0xff : 0xff << (8 - bits));

        if ((n[i] & m) != (a[i] & m))
            return 0;
    }
    return 1;
}

/* spf_covers - does SPF (joined text) pass mail from the mail host M of
 * domain D (addresses from the configuration)?  1 yes, 0 no, -1 cannot
 * tell (include, redirect, exists, ptr: other domains decide). */
static int spf_covers(const struct mx_conf *conf, const char *spf, const char *d, const char *m)
{
    char    buf[1024], *save, *t;
    int     unknown = 0;

    snprintf(buf, sizeof buf, "%s", spf);
    for (t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        int     pass = *t != '-' && *t != '~' && *t != '?';

        t += *t == '+' || *t == '-' || *t == '~' || *t == '?';
        if (!strncasecmp(t, "include:", 8) || !strncasecmp(t, "redirect=", 9)
            || !strncasecmp(t, "exists:", 7) || !strncasecmp(t, "ptr", 3))
            unknown = 1;
        else if (!pass)
            continue;
        else if (!strcasecmp(t, "mx") || !strncasecmp(t, "mx/", 3)
                 || (!strncasecmp(t, "mx:", 3) && !strcasecmp(t + 3, d))
                 || !strcasecmp(t, "all")
                 || (!strncasecmp(t, "a:", 2) && !strcasecmp(t + 2, m))
                 || (!strcasecmp(t, "a") && !strcasecmp(d, m))
                 || (!strncasecmp(t, "ip4:", 4) && in_net(AF_INET, t + 4, conf->dns_server_ipv4))
                 || (!strncasecmp(t, "ip6:", 4) && in_net(AF_INET6, t + 4, conf->dns_server_ipv6)))
            return 1;
    }
    return unknown ? -1 : 0;
}

/* spf_line - for the apex TXT: an "spf-uncovered" line (returns 1) when
 * the SPF served no longer lets the mail host send. */
static int spf_line(const struct cli *c, const struct pdns_rrset *rs, char **got, size_t n)
{
    char    d[300], m[300], fam[32], detail[700];
    int     spf = 0;

    snprintf(d, sizeof d, "%s", rs->name);
    if (strcmp(rs->type, "TXT") || strlen(d) < 2 || strchr(d, '_'))
        return 0;
    d[strlen(d) - 1] = 0;               /* no trailing dot */
    if (pdns_mail_host(c->conf, d, m, sizeof m) < 0)
        return 0;
    for (size_t i = 0; i < rs->n; i++) {
        pdns_txt_family(rs->rec[i], fam, sizeof fam);
        spf |= !strcmp(fam, "v=spf1");
    }
    for (size_t i = 0; spf && i < n; i++) {
        pdns_txt_family(got[i], fam, sizeof fam);
        if (!strcmp(fam, "v=spf1") && spf_covers(c->conf, got[i], d, m) == 0) {
            snprintf(detail, sizeof detail, "\"%.300s\" does not let %s send", got[i], m);
            emit("spf-uncovered", rs->name, "TXT", "", detail);
            return 1;
        }
    }
    return 0;
}

/* check_one - one rrset on one server; 1 when not ok. */
static int check_one(const struct cli *c, const char *server, const struct pdns_rrset *rs)
{
    char  **got;
    size_t  n;
    char    why[300], detail[700];
    const char *v;
    int     subset = !strcmp(rs->type, "TXT") && !strstr(rs->name, "._domainkey.")
        && strncmp(rs->name, "_", 1);

    if (qtype(rs->type) < 0) {
        snprintf(detail, sizeof detail, "check cannot compare %s records", rs->type);
        emit("unchecked", rs->name, rs->type, "", detail);
        return 0;
    }
    if (dnsq_query(server, rs->name, qtype(rs->type), (int) c->conf->dns_timeout, &got, &n,
                   why, sizeof why) < 0) {
        emit("error", rs->name, rs->type, server, why);
        return 1;
    }
    v = verdict(rs, got, n, subset);
    if (strcmp(v, "ok") && spf_line(c, rs, got, n)) {
        dnsq_free(got, n);
        return 1;
    }
    detail[0] = 0;
    if (strcmp(v, "ok")) {
        struct strbuf g = STRBUF_INIT, w = STRBUF_INIT;

        for (size_t i = 0; i < n; i++)
            sb_printf(&g, "%s%s", i ? " | " : "", got[i]);
        for (size_t i = 0; i < rs->n; i++) {
            sb_puts(&w, i ? " | " : "");
            pdns_norm(rs->type, rs->rec[i], &w);
        }
        snprintf(detail, sizeof detail, "got %.300s; want %.300s", n ? sb_str(&g) : "nothing",
                 sb_str(&w));
        sb_free(&g);
        sb_free(&w);
    }
    emit(v, rs->name, rs->type, *detail ? server : "", detail);
    dnsq_free(got, n);
    return strcmp(v, "ok") != 0;
}

/* zone_facts - recorded template and addresses, and the signed state,
 * from the API when it answers (check also works with DNS alone). */
static int zone_facts(const struct cli *c, const char *domain, struct dns_recorded *rec,
                      int *signed_zone)
{
    char    why[400];
    struct pdns_api *api = pdns_api_open(c->conf, why, sizeof why);
    struct pdns_zone z;
    int     rc = 0;

    memset(rec, 0, sizeof *rec);
    *signed_zone = 0;
    if (api == NULL || pdns_zone_get(api, domain, &z, why, sizeof why) != 0) {
        fprintf(stderr, "%s: %s: warning: PowerDNS API: %s; checking the plain model\n",
                c->prog, domain, why);
        pdns_api_close(api);
        return 0;
    }
    *signed_zone = z.dnssec;
    if (z.exists && (rc = dns_recorded_get(c, api, domain, &z, rec)) == 0 && rec->lost)
        fprintf(stderr, "%s: %s: warning: recorded template and addresses are gone\n",
                c->prog, domain);
    pdns_zone_free(&z);
    pdns_api_close(api);
    return rc;
}

int     cmd_check(struct cli *c)
{
    struct pdns_rrsets want = PDNS_RRSETS_INIT;
    struct dkim_domain *keys = NULL;
    struct dns_recorded rec;
    char    domain[256], srv[MAXSERVERS][64];
    size_t  nsrv;
    int     rc, bad = 0, signed_zone;

    if ((rc = cli_domain(c, c->a.pos[0], domain, sizeof domain)) != 0)
        return rc;
    if ((rc = zone_facts(c, domain, &rec, &signed_zone)) != 0
        || (rc = cli_model(c, domain, &rec, signed_zone, &want, &keys)) != 0)
        return rc;
    if ((nsrv = servers(c, domain, srv, MAXSERVERS)) == 0) {
        cli_err(c, "%s: no server to ask (set dns_check_server)", domain);
        rc = EX_UNAVAILABLE;
    }
    check_json = cli_flag(c, "json") ? json_array() : NULL;
    for (size_t s = 0; s < nsrv; s++)
        for (size_t i = 0; i < want.n; i++)
            if (strcmp(want.v[i].type, "SOA"))
                bad += check_one(c, srv[s], &want.v[i]);
    if (check_json && nsrv) {
        json_dumpf(check_json, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
        putchar('\n');
    }
    json_decref(check_json);
    check_json = NULL;
    dkim_domain_free(keys);
    pdns_rrsets_free(&want);
    return rc ? rc : bad ? 1 : 0;
}

int     cmd_mta_sts_policy(struct cli *c)
{
    struct strbuf pol = STRBUF_INIT;
    char    domain[256];
    int     rc;

    if ((rc = cli_domain(c, c->a.pos[0], domain, sizeof domain)) != 0)
        return rc;
    pdns_mta_sts_policy(c->conf, domain, &pol);
    fputs(sb_str(&pol), stdout);
    sb_free(&pol);
    return 0;
}

int     dns_mta_sts_write(const struct mx_conf *conf, const char *domain, char *why,
                          size_t whylen)
{
    struct strbuf pol = STRBUF_INIT;
    char    dir[1024], path[1100];
    char   *old;
    int     rc = 0;

    pdns_mta_sts_policy(conf, domain, &pol);
    snprintf(dir, sizeof dir, "%s/%s/.well-known", conf->mta_sts_policy_dir, domain);
    snprintf(path, sizeof path, "%s/mta-sts.txt", dir);
    old = mx_read_file(path, NULL);
    if (old == NULL || strcmp(old, sb_str(&pol))) {
        if (mx_mkdir_p(dir, 0755) < 0 || mx_write_atomic(path, pol.s, pol.len, 0644) < 0) {
            snprintf(why, whylen, "cannot write %.200s", path);
            rc = -1;
        }
    }
    free(old);
    sb_free(&pol);
    return rc;
}

/* dns_dkim_activate - the same rule as mxdock-dkim's tick
 * (dkim_store_published): a pending selector goes active only once
 * dns_check_server, or every name server, serves its key. */
void    dns_dkim_activate(const struct cli *c, const char *domain)
{
    struct dkim_domain *keys = NULL;
    char    why[300];

    if (!conf_list_has(c->conf->dns_publish, "dkim")
        || dkim_store_load(c->conf, domain, &keys, why, sizeof why) < 0)
        return;
    for (size_t i = 0; i < keys->n; i++)
        if (keys->sel[i].state == DKIM_ACTIVE) {
            dkim_domain_free(keys);
            return;             /* rotation, not creation: dkim/ decides */
        }
    for (size_t i = 0; i < keys->n; i++) {
        const struct dkim_selector *s = &keys->sel[i];

        if (s->state != DKIM_PENDING)
            continue;
        if (!dkim_store_published(c->conf, domain, s, why, sizeof why))
            printf("%s: DKIM selector %s stays pending: %.200s\n", domain, s->name, why);
        else if (dkim_store_set_state(c->conf, domain, s->name, DKIM_ACTIVE, why, sizeof why) < 0)
            fprintf(stderr, "%s: %s: DKIM selector %s: %s\n", c->prog, domain, s->name, why);
        else
            printf("%s: DKIM selector %s (%s) active\n", domain, s->name, dkim_alg_name(s->alg));
    }
    dkim_domain_free(keys);
}
