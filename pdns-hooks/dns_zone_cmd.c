/*
 * dns_zone_cmd.c - the domain hooks: create, sync, delete.
 *
 *   cmd_create   keys if none; zone missing: one POST; present: as sync;
 *                then the MTA-STS policy file and DKIM activation
 *   cmd_sync     one GET, diff, one PATCH with only the changes, or none
 *   cmd_delete   DELETE the zone, or (--records-only) remove what mxdock
 *                owns in one PATCH; --purge-keys removes the DKIM keys
 *
 * The template and --ip addresses a zone was created with are recorded in
 * it (dns_meta.c) before its records change, so that sync rebuilds the
 * same model.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "dns_cli.h"

/* reconcile - diff the model against Z and send one PATCH if anything
 * differs.  DRY prints the diff instead.  *CHANGED gets the count. */
static int reconcile(struct cli *c, struct pdns_api *api, const char *domain,
                     const struct pdns_zone *z, const struct pdns_rrsets *want,
                     const struct dkim_domain *keys, int dry, size_t *changed)
{
    struct pdns_changes ch = PDNS_CHANGES_INIT;
    struct strbuf out = STRBUF_INIT;
    char    why[400];
    int     rc = 0;

    pdns_diff(want, &z->rr, domain, keys->sel, keys->n, cli_opt(c, "only"), &ch);
    pdns_diff_off(c->conf, domain, want, &z->rr, cli_opt(c, "only"), &ch);
    *changed = ch.n;
    if (dry) {
        pdns_changes_print(&ch, &out);
        fputs(sb_str(&out), stdout);
    } else if (ch.n > 0 && (rc = pdns_zone_patch(api, domain, &ch, why, sizeof why)) != 0) {
        cli_err(c, "%s: %s", domain, why);
    }
    sb_free(&out);
    pdns_changes_free(&ch);
    return rc;
}

/* try_create - one POST with the whole model (then the recorded template
 * and addresses, when there are any, as metadata); *DONE unless the zone
 * already exists (409), which is not an error: the caller reconciles. */
static int try_create(struct cli *c, struct pdns_api *api, const char *domain,
                      const struct dns_recorded *rec, int *done)
{
    static const struct dns_recorded none;
    struct pdns_rrsets want = PDNS_RRSETS_INIT;
    struct dkim_domain *keys = NULL;
    const char *account = dns_recorded_account(rec);
    char    why[400];
    int     rc;

    *done = 0;
    if ((rc = cli_model(c, domain, rec, 0, &want, &keys)) == 0) {
        rc = pdns_zone_create(api, c->conf, domain, account, &want, why, sizeof why);
        if (rc == 0) {
            *done = 1;
            rc = dns_recorded_put(c, api, domain, account, &none, rec);
            if (rc == 0)
                printf("%s: zone created with %zu rrsets\n", domain, want.n);
        } else if (rc == EX_CANTCREAT) {
            rc = 0;
        } else {
            cli_err(c, "%s: %s", domain, why);
        }
    }
    dkim_domain_free(keys);
    pdns_rrsets_free(&want);
    return rc;
}

/* recorded - what the zone says create was given; for create, merged with
 * this run's options and stored before anything else changes, so a
 * failure later leaves the next sync working towards the same model. */
static int recorded(struct cli *c, struct pdns_api *api, const char *domain,
                    const struct pdns_zone *z, int create, struct dns_recorded *rec)
{
    struct dns_recorded old;
    int     rc;

    if ((rc = dns_recorded_get(c, api, domain, z, &old)) != 0)
        return rc;
    *rec = old;
    if (create)
        dns_recorded_merge(c, &old, rec);
    if (rec->lost) {
        cli_err(c, "%s: the zone's recorded template and --ip addresses (metadata "
                "X-MXDOCK-*) are gone; run create %s again with them", domain, domain);
        return EX_DATAERR;
    }
    if (create && !cli_flag(c, "dry-run"))
        rc = dns_recorded_put(c, api, domain, z->account, &old, rec);
    return rc;
}

/* update - one GET (two when the zone has recorded settings), then
 * reconcile. */
static int update(struct cli *c, struct pdns_api *api, const char *domain, int create)
{
    struct pdns_zone z;
    struct pdns_rrsets want = PDNS_RRSETS_INIT;
    struct dkim_domain *keys = NULL;
    struct dns_recorded rec;
    char    why[400];
    size_t  changed = 0;
    int     rc;

    if ((rc = pdns_zone_get(api, domain, &z, why, sizeof why)) != 0) {
        cli_err(c, "%s: %s", domain, why);
        return rc;
    }
    if (!z.exists) {
        cli_err(c, "%s: no such zone in PowerDNS%s", domain, create ? "" : " (use create)");
        pdns_zone_free(&z);
        return EX_NOINPUT;
    }
    if ((rc = recorded(c, api, domain, &z, create, &rec)) == 0
        && (rc = cli_model(c, domain, &rec, z.dnssec, &want, &keys)) == 0)
        rc = reconcile(c, api, domain, &z, &want, keys, cli_flag(c, "dry-run"), &changed);
    if (rc == 0 && !cli_flag(c, "dry-run"))
        printf(changed ? "%s: %zu rrsets changed\n" : "%s: up to date\n", domain, changed);
    dkim_domain_free(keys);
    pdns_rrsets_free(&want);
    pdns_zone_free(&z);
    return rc;
}

/* publish - create (one POST) or reconcile DOMAIN. */
static int publish(struct cli *c, const char *domain, int create)
{
    struct pdns_api *api = cli_api(c);
    struct dns_recorded rec;
    int     rc = 0, done = 0;

    if (api == NULL)
        return EX_CONFIG;
    if (create) {
        static const struct dns_recorded none;

        dns_recorded_merge(c, &none, &rec);
        rc = try_create(c, api, domain, &rec, &done);
    }
    if (rc == 0 && !done)
        rc = update(c, api, domain, create);
    if (getenv("MXDOCK_DEBUG_HTTP"))
        fprintf(stderr, "%s: %d requests\n", c->prog, pdns_api_requests(api));
    pdns_api_close(api);
    return rc;
}

int     cmd_create(struct cli *c)
{
    char    domain[256], why[300];
    int     made = 0, rc;

    if ((rc = cli_domain(c, c->a.pos[0], domain, sizeof domain)) != 0)
        return rc;
    if (c->a.npos != 1) {
        cli_err(c, "usage: create DOMAIN [--template=NAME] [--ip=ADDR]...");
        return EX_USAGE;
    }
    if ((rc = cli_check_ips(c)) != 0)
        return rc;
    if (dkim_store_ensure(c->conf, domain, &made, why, sizeof why) < 0) {
        cli_err(c, "%s: DKIM keys: %s", domain, why);
        return EX_CANTCREAT;
    }
    if ((rc = publish(c, domain, 1)) != 0)
        return rc;
    if (conf_list_has(c->conf->dns_publish, "mta-sts")
        && dns_mta_sts_write(c->conf, domain, why, sizeof why) < 0) {
        cli_err(c, "%s: MTA-STS policy file: %s", domain, why);
        return EX_CANTCREAT;
    }
    dns_dkim_activate(c, domain);
    return 0;
}

int     cmd_sync(struct cli *c)
{
    char    domain[256];
    int     rc;

    if ((rc = cli_domain(c, c->a.pos[0], domain, sizeof domain)) != 0)
        return rc;
    if (c->a.npos != 1) {
        cli_err(c, "usage: sync DOMAIN [--dry-run] [--only=TYPES]");
        return EX_USAGE;
    }
    return publish(c, domain, 0);
}

/* owned_changes - what removing mxdock's records from Z takes: the
 * rrsets of the model (not SOA or NS), and for merged TXT only the
 * records of mxdock's families. */
static void owned_changes(const struct pdns_rrsets *want, const struct pdns_zone *z,
                          struct pdns_changes *ch)
{
    for (size_t i = 0; i < want->n; i++) {
        const struct pdns_rrset *w = &want->v[i];
        const struct pdns_rrset *a = pdns_rrset_find(&z->rr, w->name, w->type);
        struct pdns_rrsets keep = PDNS_RRSETS_INIT;
        struct pdns_change *cg;

        if (a == NULL || !strcmp(w->type, "SOA") || !strcmp(w->type, "NS"))
            continue;
        pdns_rrset_add(&keep, a->name, a->type, a->ttl, NULL);
        for (size_t j = 0; !strcmp(w->type, "TXT") && j < a->n; j++) {
            char    fam[32], wf[32];
            int     ours = 0;

            pdns_txt_family(a->rec[j], fam, sizeof fam);
            for (size_t k = 0; k < w->n && *fam; k++) {
                pdns_txt_family(w->rec[k], wf, sizeof wf);
                ours |= !strcmp(fam, wf);
            }
            if (!ours && !strstr(a->name, "._domainkey."))
                pdns_rrset_add(&keep, a->name, a->type, a->ttl, a->rec[j]);
        }
        if (ch->n == ch->cap) {
            ch->cap = ch->cap ? 2 * ch->cap : 16;
            if ((ch->v = realloc(ch->v, ch->cap * sizeof *ch->v)) == NULL)
                mx_panic("out of memory");
        }
        cg = &ch->v[ch->n++];
        cg->kind = keep.v[0].n ? PDNS_REPLACE : PDNS_DELETE;
        cg->was = a;
        cg->want = keep.v[0];
        memset(&keep.v[0], 0, sizeof keep.v[0]);
        pdns_rrsets_free(&keep);
    }
}

/* records_only - remove what mxdock owns, keep the zone. */
static int records_only(struct cli *c, struct pdns_api *api, const char *domain)
{
    struct pdns_zone z;
    struct pdns_rrsets want = PDNS_RRSETS_INIT;
    struct pdns_changes ch = PDNS_CHANGES_INIT;
    struct dkim_domain *keys = NULL;
    struct dns_recorded rec;
    char    why[400];
    int     rc;

    if ((rc = pdns_zone_get(api, domain, &z, why, sizeof why)) != 0) {
        cli_err(c, "%s: %s", domain, why);
        return rc;
    }
    if (!z.exists) {
        cli_err(c, "%s: no such zone in PowerDNS", domain);
        return EX_NOINPUT;
    }
    if ((rc = recorded(c, api, domain, &z, 0, &rec)) == 0
        && (rc = cli_model(c, domain, &rec, z.dnssec, &want, &keys)) == 0) {
        owned_changes(&want, &z, &ch);
        if (ch.n > 0 && (rc = pdns_zone_patch(api, domain, &ch, why, sizeof why)) != 0)
            cli_err(c, "%s: %s", domain, why);
        else
            printf("%s: %zu rrsets removed or trimmed\n", domain, ch.n);
    }
    pdns_changes_free(&ch);
    dkim_domain_free(keys);
    pdns_rrsets_free(&want);
    pdns_zone_free(&z);
    return rc;
}

/* purge_keys - the domain's key files, state file and directory. */
static int purge_keys(struct cli *c, const char *domain)
{
    struct dkim_domain *keys = NULL;
    char    why[300], path[1024];

    if (dkim_store_load(c->conf, domain, &keys, why, sizeof why) < 0) {
        cli_err(c, "%s: DKIM key store: %s", domain, why);
        return EX_CONFIG;
    }
    for (size_t i = 0; i < keys->n; i++)
        if (dkim_key_path(c->conf, domain, keys->sel[i].name, path, sizeof path) == 0)
            unlink(path);
    dkim_domain_free(keys);
    snprintf(path, sizeof path, "%s/%s/state", c->conf->dkim_keydir, domain);
    unlink(path);
    snprintf(path, sizeof path, "%s/%s", c->conf->dkim_keydir, domain);
    rmdir(path);
    printf("%s: DKIM keys removed\n", domain);
    return 0;
}

int     cmd_delete(struct cli *c)
{
    struct pdns_api *api;
    char    domain[256], path[300], why[400];
    json_t *reply;
    int     rc;

    if ((rc = cli_domain(c, c->a.pos[0], domain, sizeof domain)) != 0)
        return rc;
    if ((api = cli_api(c)) == NULL)
        return EX_CONFIG;
    if (cli_flag(c, "records-only")) {
        rc = records_only(c, api, domain);
    } else {
        snprintf(path, sizeof path, "/zones/%s.", domain);
        rc = pdns_api_call(api, "DELETE", path, NULL, &reply, NULL, why, sizeof why);
        json_decref(reply);
        if (rc == EX_NOINPUT) {
            printf("%s: no such zone; nothing to delete\n", domain);
            rc = 0;             /* a hook run twice is not an error */
        } else if (rc != 0) {
            cli_err(c, "%s: %s", domain, why);
        } else {
            printf("%s: zone deleted\n", domain);
        }
    }
    pdns_api_close(api);
    if (rc == 0 && cli_flag(c, "purge-keys"))
        rc = purge_keys(c, domain);
    return rc;
}
