/*
 * dns_zone_cmd.c - the domain hooks: create, sync, delete.
 *
 *   cmd_create   keys if none; zone missing: one POST; present: as sync;
 *                then the MTA-STS policy file and DKIM activation.  A
 *                create that fails takes back the keys it made
 *   cmd_diff     what sync would do, record by record, and why
 *   cmd_sync     one GET, diff, one PATCH with only the changes, or none
 *   cmd_delete   DELETE the zone, or (--records-only) remove what mxdock
 *                published and still owns in one PATCH; then the MTA-STS
 *                policy file; --purge-keys removes the DKIM keys
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

enum { MODE_SYNC, MODE_CREATE, MODE_DIFF };

/* plan_in - the reconcile's inputs for DOMAIN. */
static void plan_in(const struct cli *c, const char *domain, const struct pdns_zone *z,
                    const struct pdns_rrsets *want, const struct dkim_domain *keys,
                    struct pdns_sync_in *in)
{
    memset(in, 0, sizeof *in);
    in->conf = c->conf;
    in->domain = domain;
    in->desired = want;
    in->live = &z->rr;
    in->sel = keys->sel;
    in->nsel = keys->n;
    in->only = cli_opt(c, "only");
    in->force = cli_flag(c, "force");
}

/* report - the plan on stdout: --json as one object, else the drift lines
 * (every line, foreign records too, for diff: ALL). */
static void report(const struct cli *c, const char *domain, const struct pdns_plan *plan,
                   int all)
{
    struct strbuf out = STRBUF_INIT;

    if (cli_flag(c, "json")) {
        json_t *j = json_pack("{s:s, s:I, s:o}", "domain", domain, "changes",
                              (json_int_t) plan->ch.n, "records", pdns_plan_json(plan));
        char   *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);

        if (s)
            puts(s);
        free(s);
        json_decref(j);
        return;
    }
    pdns_plan_print(plan, all ? ~0u : 1u << PDNS_DRIFT, &out);
    fputs(sb_str(&out), stdout);
    sb_free(&out);
}

/* reconcile - the three-way plan of the model against Z, and one PATCH if
 * anything is to change.  DRY prints the changes instead.  *CHANGED gets
 * the count of rrsets changed, *DRIFT of drifted records left. */
static int reconcile(struct cli *c, struct pdns_api *api, const char *domain,
                     const struct pdns_zone *z, const struct pdns_rrsets *want,
                     const struct dkim_domain *keys, int dry, size_t *changed, size_t *drift)
{
    struct pdns_plan plan = PDNS_PLAN_INIT;
    struct pdns_sync_in in;
    struct strbuf out = STRBUF_INIT;
    char    why[400];
    int     rc = 0;

    plan_in(c, domain, z, want, keys, &in);
    pdns_plan_make(&in, &plan);
    *changed = plan.ch.n;
    *drift = pdns_plan_count(&plan, PDNS_DRIFT, 0);
    if (dry) {
        pdns_changes_print(&plan.ch, &out);
        fputs(sb_str(&out), stdout);
    } else if (plan.ch.n > 0 && (rc = pdns_zone_patch(api, domain, &plan.ch, why, sizeof why)) != 0) {
        cli_err(c, "%s: %s", domain, why);
    }
    if (rc == 0 && !dry)
        report(c, domain, &plan, 0);
    sb_free(&out);
    pdns_plan_free(&plan);
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
        pdns_rrsets_memo_all(&want);        /* what mxdock published: in the POST */
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

/* diff_only - the plan of Z, printed whole; nothing sent.  Exit 1 when
 * sync would change something or drift is there, 0 when all is in place. */
static int diff_only(struct cli *c, const char *domain, const struct pdns_zone *z,
                     const struct pdns_rrsets *want, const struct dkim_domain *keys)
{
    struct pdns_plan plan = PDNS_PLAN_INIT;
    struct pdns_sync_in in;
    int     rc;

    plan_in(c, domain, z, want, keys, &in);
    pdns_plan_make(&in, &plan);
    report(c, domain, &plan, 1);
    rc = plan.ch.n || pdns_plan_count(&plan, PDNS_DRIFT, -1) ? 1 : 0;
    pdns_plan_free(&plan);
    return rc;
}

/* summary - sync's closing line (not with --json: its output is one object) */
static void summary(const struct cli *c, const char *domain, size_t changed, size_t drift)
{
    if (cli_flag(c, "json") || cli_flag(c, "dry-run"))
        return;
    if (changed)
        printf("%s: %zu rrsets changed\n", domain, changed);
    else
        printf("%s: up to date\n", domain);
    if (drift)
        printf("%s: %zu record(s) edited by hand kept (drift); sync --force puts mxdock's "
               "back\n", domain, drift);
}

/* update - one GET (two when the zone has recorded settings), then
 * reconcile (MODE_DIFF: only show the plan). */
static int update(struct cli *c, struct pdns_api *api, const char *domain, int mode)
{
    struct pdns_zone z;
    struct pdns_rrsets want = PDNS_RRSETS_INIT;
    struct dkim_domain *keys = NULL;
    struct dns_recorded rec;
    char    why[400];
    size_t  changed = 0, drift = 0;
    int     rc;

    if ((rc = pdns_zone_get(api, domain, &z, why, sizeof why)) != 0) {
        cli_err(c, "%s: %s", domain, why);
        return rc;
    }
    if (!z.exists) {
        cli_err(c, "%s: no such zone in PowerDNS%s", domain,
                mode == MODE_CREATE ? "" : " (use create)");
        pdns_zone_free(&z);
        return EX_NOINPUT;
    }
    if ((rc = recorded(c, api, domain, &z, mode == MODE_CREATE, &rec)) == 0
        && (rc = cli_model(c, domain, &rec, z.dnssec, &want, &keys)) == 0) {
        if (mode == MODE_DIFF)
            rc = diff_only(c, domain, &z, &want, keys);
        else if ((rc = reconcile(c, api, domain, &z, &want, keys, cli_flag(c, "dry-run"),
                                 &changed, &drift)) == 0)
            summary(c, domain, changed, drift);
    }
    dkim_domain_free(keys);
    pdns_rrsets_free(&want);
    pdns_zone_free(&z);
    return rc;
}

/* publish - create (one POST) or reconcile DOMAIN (or show the plan). */
static int publish(struct cli *c, const char *domain, int mode)
{
    struct pdns_api *api = cli_api(c);
    struct dns_recorded rec;
    int     rc = 0, done = 0;

    if (api == NULL)
        return EX_CONFIG;
    if (mode == MODE_CREATE) {
        static const struct dns_recorded none;

        dns_recorded_merge(c, &none, &rec);
        rc = try_create(c, api, domain, &rec, &done);
    }
    if (rc == 0 && !done)
        rc = update(c, api, domain, mode);
    if (getenv("MXDOCK_DEBUG_HTTP"))
        fprintf(stderr, "%s: %d requests\n", c->prog, pdns_api_requests(api));
    pdns_api_close(api);
    return rc;
}

/* zone_made - after a failed create: does PowerDNS hold the zone after
 * all (a POST that went through before a later step failed)?  Unknown
 * (PowerDNS down) counts as no: the keys made go, the next create makes
 * new ones and sync retires whatever was published. */
static int zone_made(const struct cli *c, const char *domain)
{
    char    why[400];
    struct pdns_api *api = pdns_api_open(c->conf, why, sizeof why);
    struct pdns_zone z = {0};
    int     made = api && pdns_zone_get(api, domain, &z, why, sizeof why) == 0 && z.exists;

    pdns_zone_free(&z);
    pdns_api_close(api);
    return made;
}

int     cmd_create(struct cli *c)
{
    struct dns_keys_snap snap;
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
    dns_keys_snap(c->conf, domain, &snap);
    if (dkim_store_ensure(c->conf, domain, &made, why, sizeof why) < 0) {
        cli_err(c, "%s: DKIM keys: %s", domain, why);
        dns_keys_snap_free(&snap);
        return EX_CANTCREAT;
    }
    rc = publish(c, domain, MODE_CREATE);
    if (rc != 0 && made && !zone_made(c, domain))
        dns_keys_undo(c->prog, &snap);  /* no keys pending for a zone never made */
    dns_keys_snap_free(&snap);
    if (rc != 0)
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
        cli_err(c, "usage: sync DOMAIN [--dry-run] [--only=TYPES] [--force] [--json]");
        return EX_USAGE;
    }
    return publish(c, domain, MODE_SYNC);
}

int     cmd_diff(struct cli *c)
{
    char    domain[256];
    int     rc;

    if ((rc = cli_domain(c, c->a.pos[0], domain, sizeof domain)) != 0)
        return rc;
    if (c->a.npos != 1) {
        cli_err(c, "usage: diff DOMAIN [--only=TYPES] [--force] [--json]");
        return EX_USAGE;
    }
    return publish(c, domain, MODE_DIFF);
}

/* records_only - remove what mxdock owns, keep the zone. */
static int records_only(struct cli *c, struct pdns_api *api, const char *domain)
{
    struct pdns_zone z;
    struct pdns_rrsets want = PDNS_RRSETS_INIT;
    struct pdns_plan plan = PDNS_PLAN_INIT;
    struct pdns_sync_in in;
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
        pdns_zone_free(&z);
        return EX_NOINPUT;
    }
    if ((rc = recorded(c, api, domain, &z, 0, &rec)) == 0
        && (rc = cli_model(c, domain, &rec, z.dnssec, &want, &keys)) == 0) {
        plan_in(c, domain, &z, &want, keys, &in);
        in.drop = 1;
        pdns_plan_make(&in, &plan);
        if (plan.ch.n > 0
            && (rc = pdns_zone_patch(api, domain, &plan.ch, why, sizeof why)) != 0)
            cli_err(c, "%s: %s", domain, why);
        else
            printf("%s: %zu records of mxdock removed from %zu rrsets; %zu edited by hand "
                   "kept\n", domain, pdns_plan_count(&plan, PDNS_STALE, 1), plan.ch.n,
                   pdns_plan_count(&plan, PDNS_DRIFT, -1));
    }
    pdns_plan_free(&plan);
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
    if (rc == 0)
        dns_mta_sts_remove(c, domain);  /* no policy served for a zone gone */
    if (rc == 0 && cli_flag(c, "purge-keys"))
        rc = purge_keys(c, domain);
    return rc;
}
