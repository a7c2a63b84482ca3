/*
 * dns_meta.c - what create records in a zone so that sync, check and
 * delete --records-only rebuild the same model later (mxdock-dkim runs
 * sync on every key change): the template name and the --ip addresses.
 *
 *   dns_recorded_get    read them from a zone just fetched
 *   dns_recorded_merge  the values of this create: --template and --ip
 *                       replace the recorded ones, absent options keep them
 *   dns_recorded_put    store them: metadata first, then the account field
 *   dns_recorded_account  the account field that goes with them
 *
 * The zone's account field says where to look: "mxdock" (nothing
 * recorded), "mxdock+meta" (the metadata kinds X-MXDOCK-TEMPLATE and
 * X-MXDOCK-IP, one more GET), or, as older versions wrote it,
 * "mxdock:NAME" (template NAME, no addresses).  A zone that says
 * "mxdock+meta" but carries neither kind has lost them (a create cut off
 * between its POST and its metadata PUT): LOST is set, and sync refuses to
 * guess rather than put the configured addresses back.
 *
 * Errors are written (cli_err) and returned as sysexits codes.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "dns_cli.h"

#define KIND_TMPL "X-MXDOCK-TEMPLATE"
#define KIND_IP   "X-MXDOCK-IP"
#define ACCOUNT_META "mxdock+meta"
#define ACCOUNT_OLD  "mxdock:"

/* good_ip - an IPv4 or IPv6 address in presentation form. */
static int good_ip(const char *s)
{
    unsigned char bin[16];

    return inet_pton(AF_INET, s, bin) == 1 || inet_pton(AF_INET6, s, bin) == 1;
}

/* from_meta - fill R from the zone's metadata (one GET). */
static int from_meta(const struct cli *c, struct pdns_api *api, const char *domain,
                     struct dns_recorded *r)
{
    json_t *meta;
    const char *v;
    char    why[400];
    int     rc;

    if ((rc = pdns_zone_meta_get(api, domain, &meta, why, sizeof why)) != 0) {
        cli_err(c, "%s: %s", domain, why);
        return rc;
    }
    if ((v = pdns_meta_value(meta, KIND_TMPL, 0)) != NULL)
        snprintf(r->tmpl, sizeof r->tmpl, "%s", v);
    for (size_t i = 0; r->nips < DNS_MAXIPS && (v = pdns_meta_value(meta, KIND_IP, i)); i++) {
        if (!good_ip(v) || strlen(v) >= sizeof r->ips[0]) {
            cli_err(c, "%s: metadata %s holds \"%.60s\": not an address", domain, KIND_IP, v);
            json_decref(meta);
            return EX_DATAERR;
        }
        snprintf(r->ips[r->nips++], sizeof r->ips[0], "%s", v);
    }
    r->lost = !*r->tmpl && r->nips == 0;
    json_decref(meta);
    return 0;
}

int     dns_recorded_get(const struct cli *c, struct pdns_api *api, const char *domain,
                         const struct pdns_zone *z, struct dns_recorded *r)
{
    memset(r, 0, sizeof *r);
    if (strcmp(z->account, ACCOUNT_META) == 0)
        return from_meta(c, api, domain, r);
    if (strncmp(z->account, ACCOUNT_OLD, strlen(ACCOUNT_OLD)) == 0)
        snprintf(r->tmpl, sizeof r->tmpl, "%s", z->account + strlen(ACCOUNT_OLD));
    return 0;
}

void    dns_recorded_merge(const struct cli *c, const struct dns_recorded *old,
                           struct dns_recorded *out)
{
    const char *ips[DNS_MAXIPS], *tmpl = cli_opt(c, "template");
    size_t  n = cli_opt_all(c, "ip", ips, DNS_MAXIPS);

    *out = *old;
    out->lost = old->lost && !tmpl && n == 0;
    if (tmpl)
        snprintf(out->tmpl, sizeof out->tmpl, "%s", tmpl);
    if (n > 0) {
        out->nips = n;
        for (size_t i = 0; i < n; i++)
            snprintf(out->ips[i], sizeof out->ips[i], "%s", ips[i]);
    }
}

const char *dns_recorded_account(const struct dns_recorded *r)
{
    return *r->tmpl || r->nips ? ACCOUNT_META : "mxdock";
}

/* same_ips - the same addresses in the same order. */
static int same_ips(const struct dns_recorded *a, const struct dns_recorded *b)
{
    if (a->nips != b->nips)
        return 0;
    for (size_t i = 0; i < a->nips; i++)
        if (strcmp(a->ips[i], b->ips[i]))
            return 0;
    return 1;
}

/* put_kind - one metadata kind, error written. */
static int put_kind(const struct cli *c, struct pdns_api *api, const char *domain,
                    const char *kind, const char *const *vals, size_t n)
{
    char    why[400];
    int     rc = pdns_zone_meta_put(api, domain, kind, vals, n, why, sizeof why);

    if (rc != 0)
        cli_err(c, "%s: storing %s: %s", domain, kind, why);
    return rc;
}

int     dns_recorded_put(const struct cli *c, struct pdns_api *api, const char *domain,
                         const char *account, const struct dns_recorded *old,
                         const struct dns_recorded *want)
{
    static const struct dns_recorded none;
    const struct dns_recorded *stored = strcmp(account, ACCOUNT_META) ? &none : old;
    const char *ips[DNS_MAXIPS], *tmpl = want->tmpl;
    const char *acct = dns_recorded_account(want);
    char    why[400];
    int     rc = 0;

    for (size_t i = 0; i < want->nips; i++)
        ips[i] = want->ips[i];
    if (strcmp(stored->tmpl, want->tmpl))
        rc = put_kind(c, api, domain, KIND_TMPL, &tmpl, *tmpl ? 1 : 0);
    if (rc == 0 && !same_ips(stored, want))
        rc = put_kind(c, api, domain, KIND_IP, ips, want->nips);
    if (rc == 0 && strcmp(account, acct)
        && (rc = pdns_zone_set_account(api, domain, acct, why, sizeof why)) != 0)
        cli_err(c, "%s: %s", domain, why);
    return rc;
}
