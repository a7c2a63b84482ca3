/*
 * dns_dnssec.c - DNSSEC through the PowerDNS cryptokeys API.
 *
 *   dnssec enable DOMAIN [--algorithm=A]   one active CSK (dnssec_algorithm)
 *   dnssec disable DOMAIN                  remove every key, then the TLSA
 *   dnssec status DOMAIN [--json]          the keys
 *   dnssec ds DOMAIN [--json]              DS records, digest types 2 and 4
 *   dnssec rollover DOMAIN [--finish]      add a new CSK and print its DS
 *                                          (none while two keys exist);
 *                                          --finish removes the older keys
 *
 * Key changes do not bump the SOA serial in PowerDNS, so each change ends
 * with a rectify and a PATCH of the SOA with serial + 1: secondaries and
 * validators then see the new DNSKEY set.
 *
 * A verb takes several requests, so each is safe to run again until it
 * completes: before the first key change the zone gets the metadata kind
 * X-MXDOCK-DNSSEC-PENDING (the verb), and only the last step (rectify,
 * serial + 1, then removing the mark) clears it.  A verb that finds its
 * keys already as wanted still finishes that last step while the mark is
 * there: enable on a zone with an active key, disable on one without keys,
 * rollover with two keys, --finish with one.  Order of disable: keys
 * first, then the TLSA (only published while signed), then the last step.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "dns_cli.h"

#define KIND_PENDING "X-MXDOCK-DNSSEC-PENDING"

struct dctx {
    struct cli *c;
    struct pdns_api *api;
    char    domain[256];
    char    path[400];          /* /zones/D./cryptokeys */
};

/* keys - GET the cryptokeys; *OUT is the caller's to json_decref. */
static int keys(struct dctx *d, json_t **out)
{
    char    why[400];
    int     rc = pdns_api_call(d->api, "GET", d->path, NULL, out, NULL, why, sizeof why);

    if (rc != 0)
        cli_err(d->c, "%s: %s", d->domain, why);
    else if (!json_is_array(*out)) {
        json_decref(*out);
        *out = json_array();
    }
    return rc;
}

/* after_change - rectify and bump the serial. */
static int after_change(struct dctx *d)
{
    char    why[400], path[400];
    json_t *reply;
    int     rc;

    snprintf(path, sizeof path, "/zones/%s./rectify", d->domain);
    rc = pdns_api_call(d->api, "PUT", path, NULL, &reply, NULL, why, sizeof why);
    json_decref(reply);
    if (rc == 0)
        rc = pdns_zone_bump_serial(d->api, d->domain, why, sizeof why);
    if (rc != 0)
        cli_err(d->c, "%s: %s", d->domain, why);
    return rc;
}

/* pending - is the zone marked as changed but not yet finished? */
static int pending(struct dctx *d, int *is)
{
    char    why[400];
    json_t *meta;
    int     rc = pdns_zone_meta_get(d->api, d->domain, &meta, why, sizeof why);

    if (rc != 0) {
        cli_err(d->c, "%s: %s", d->domain, why);
        return rc;
    }
    *is = pdns_meta_value(meta, KIND_PENDING, 0) != NULL;
    json_decref(meta);
    return 0;
}

/* begin - mark the zone before the first key change of VERB. */
static int begin(struct dctx *d, const char *verb)
{
    char    why[400];
    int     rc = pdns_zone_meta_put(d->api, d->domain, KIND_PENDING, &verb, 1, why, sizeof why);

    if (rc != 0)
        cli_err(d->c, "%s: %s", d->domain, why);
    return rc;
}

/* finish - the last step of every change: rectify, serial + 1, unmark. */
static int finish(struct dctx *d)
{
    char    why[400];
    int     rc = after_change(d);

    if (rc == 0 && (rc = pdns_zone_meta_put(d->api, d->domain, KIND_PENDING, NULL, 0,
                                            why, sizeof why)) != 0)
        cli_err(d->c, "%s: %s", d->domain, why);
    return rc;
}

/* print_ds - the DS of KEY with digest type 2 or 4 (never 1: SHA-1), as
 * zone-file lines, or appended to OUT (ds --json) when OUT is not NULL. */
static void print_ds(const struct dctx *d, json_t *key, json_t *out)
{
    size_t  i;
    json_t *ds;
    char    name[300], digest[200];

    snprintf(name, sizeof name, "%s.", d->domain);
    json_array_foreach(json_object_get(key, "ds"), i, ds) {
        const char *s = json_string_value(ds);
        unsigned tag, alg, dt;

        if (!s || sscanf(s, "%u %u %u %199s", &tag, &alg, &dt, digest) != 4
            || (dt != 2 && dt != 4))
            continue;
        if (out)
            json_array_append_new(out, json_pack("{s:s, s:i, s:i, s:i, s:s, s:s}",
                                                 "name", name, "keytag", (int) tag,
                                                 "algorithm", (int) alg, "digest_type", (int) dt,
                                                 "digest", digest, "ds", s));
        else
            printf("%s\tIN\tDS\t%s\n", name, s);
    }
}

/* add_key - POST one active CSK of ALG; prints its DS. */
static int add_key(struct dctx *d, const char *alg)
{
    char    why[400];
    json_t *body = json_pack("{s:s, s:s, s:b}", "keytype", "csk", "algorithm", alg,
                             "active", 1), *reply;
    int     rc = pdns_api_call(d->api, "POST", d->path, body, &reply, NULL, why, sizeof why);

    json_decref(body);
    if (rc != 0)
        cli_err(d->c, "%s: %s", d->domain, why);
    else
        print_ds(d, reply, NULL);
    json_decref(reply);
    return rc;
}

static int enable(struct dctx *d)
{
    const char *alg = cli_opt(d->c, "algorithm");
    json_t *k, *key;
    size_t  i;
    int     rc, active = 0, marked = 0;

    alg = alg ? alg : d->c->conf->dnssec_algorithm;
    if (strcmp(alg, "ecdsap256sha256") && strcmp(alg, "ed25519")) {
        cli_err(d->c, "bad --algorithm \"%.40s\" (ecdsap256sha256 or ed25519)", alg);
        return EX_USAGE;
    }
    if ((rc = keys(d, &k)) != 0)
        return rc;
    json_array_foreach(k, i, key)
        active |= json_is_true(json_object_get(key, "active"));
    if ((rc = pending(d, &marked)) == 0 && active && !marked)
        printf("%s: already signed\n", d->domain);
    else if (rc == 0 && active)         /* a key, but an earlier run stopped short */
        json_array_foreach(k, i, key)
            if (json_is_true(json_object_get(key, "active")))
                print_ds(d, key, NULL);
    json_decref(k);
    if (rc != 0 || (active && !marked))
        return rc;
    if (!active && ((rc = begin(d, "enable")) != 0 || (rc = add_key(d, alg)) != 0))
        return rc;
    if ((rc = finish(d)) == 0)
        printf("%s: signed with one %s CSK; publish the DS above at the parent\n",
               d->domain, alg);
    return rc;
}

/* delete_keys - every key but KEEP (-1 = none kept). */
static int delete_keys(struct dctx *d, json_t *k, long long keep, int *deleted)
{
    char    why[400], path[450];
    json_t *key, *reply;
    size_t  i;
    int     rc = 0;

    *deleted = 0;
    json_array_foreach(k, i, key) {
        long long id = json_integer_value(json_object_get(key, "id"));

        if (id == keep)
            continue;
        snprintf(path, sizeof path, "%s/%lld", d->path, id);
        if ((rc = pdns_api_call(d->api, "DELETE", path, NULL, &reply, NULL, why, sizeof why))) {
            cli_err(d->c, "%s: %s", d->domain, why);
            return rc;
        }
        json_decref(reply);
        (*deleted)++;
    }
    return 0;
}

/* drop_tlsa - TLSA is only published while signed: remove from the mail
 * host's _25._tcp TLSA rrset the records mxdock published there (its
 * memo, or in a zone without memos the one it computes for the current
 * certificate); an administrator's TLSA (a rollover's next key) stays. */
static int drop_tlsa(struct dctx *d)
{
    struct pdns_zone z;
    struct pdns_rrsets want = PDNS_RRSETS_INIT;
    struct pdns_plan plan = PDNS_PLAN_INIT;
    struct dkim_domain *k = NULL;
    char    why[400];
    int     rc;

    if ((rc = pdns_zone_get(d->api, d->domain, &z, why, sizeof why)) != 0) {
        cli_err(d->c, "%s: %s", d->domain, why);
        return rc;
    }
    if ((rc = cli_model(d->c, d->domain, NULL, 1, &want, &k)) == 0) {
        struct pdns_sync_in in = {d->c->conf, d->domain, &want, &z.rr, k->sel, k->n,
                                  "TLSA", 0, 1};

        pdns_plan_make(&in, &plan);
        if (plan.ch.n > 0
            && (rc = pdns_zone_patch(d->api, d->domain, &plan.ch, why, sizeof why)) != 0)
            cli_err(d->c, "%s: %s", d->domain, why);
    }
    pdns_plan_free(&plan);
    dkim_domain_free(k);
    pdns_rrsets_free(&want);
    pdns_zone_free(&z);
    return rc;
}

/* disable - keys first, then the TLSA, then the last step. */
static int disable(struct dctx *d)
{
    json_t *k;
    int     rc, n = 0, marked = 0;

    if ((rc = keys(d, &k)) != 0)
        return rc;
    if ((rc = pending(d, &marked)) == 0 && json_array_size(k) == 0 && !marked) {
        printf("%s: was not signed\n", d->domain);
        json_decref(k);
        return 0;
    }
    if (rc == 0 && json_array_size(k) > 0 && (rc = begin(d, "disable")) == 0)
        rc = delete_keys(d, k, -1, &n);
    json_decref(k);
    if (rc == 0 && conf_list_has(d->c->conf->dns_publish, "tlsa"))
        rc = drop_tlsa(d);
    if (rc == 0 && (rc = finish(d)) == 0)
        printf("%s: unsigned; remove the DS at the parent first next time\n", d->domain);
    return rc;
}

static int status(struct dctx *d)
{
    json_t *k, *key, *out = json_array();
    size_t  i;
    int     rc;

    if ((rc = keys(d, &k)) != 0) {
        json_decref(out);
        return rc;
    }
    if (!cli_flag(d->c, "json"))
        printf("%s: %s\n", d->domain, json_array_size(k) ? "signed" : "unsigned");
    json_array_foreach(k, i, key) {
        json_t *o = json_pack("{s:I, s:s, s:s, s:b, s:b}",
            "id", json_integer_value(json_object_get(key, "id")),
            "keytype", json_string_value(json_object_get(key, "keytype")) ?: "",
            "algorithm", json_string_value(json_object_get(key, "algorithm")) ?: "",
            "active", json_is_true(json_object_get(key, "active")),
            "published", json_is_true(json_object_get(key, "published")));

        if (!cli_flag(d->c, "json"))
            printf("key %lld\t%s\t%s\t%s\n", json_integer_value(json_object_get(o, "id")),
                   json_string_value(json_object_get(o, "keytype")),
                   json_string_value(json_object_get(o, "algorithm")),
                   json_is_true(json_object_get(o, "active")) ? "active" : "inactive");
        json_array_append_new(out, o);
    }
    if (cli_flag(d->c, "json")) {
        char   *s = json_dumps(out, JSON_INDENT(2) | JSON_SORT_KEYS);

        puts(s ? s : "[]");
        free(s);
    }
    json_decref(out);
    json_decref(k);
    return 0;
}

static int ds(struct dctx *d)
{
    json_t *k, *key, *out = cli_flag(d->c, "json") ? json_array() : NULL;
    size_t  i;
    int     rc;

    if ((rc = keys(d, &k)) != 0) {
        json_decref(out);
        return rc;
    }
    json_array_foreach(k, i, key)
        if (json_is_true(json_object_get(key, "active")))
            print_ds(d, key, out);
    if (json_array_size(k) == 0) {
        cli_err(d->c, "%s: not signed (dnssec enable first)", d->domain);
        rc = EX_NOINPUT;
    } else if (out) {
        json_dumpf(out, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
        putchar('\n');
    }
    json_decref(out);
    json_decref(k);
    return rc;
}

/* newest_key - the key with the highest id in K, or NULL. */
static json_t *newest_key(json_t *k)
{
    json_t *key, *best = NULL;
    size_t  i;

    json_array_foreach(k, i, key)
        if (best == NULL || json_integer_value(json_object_get(key, "id"))
            > json_integer_value(json_object_get(best, "id")))
            best = key;
    return best;
}

/* roll_finish - every key but the newest goes; then the last step. */
static int roll_finish(struct dctx *d, json_t *k, json_t *newest, int marked)
{
    long long id = json_integer_value(json_object_get(newest, "id"));
    int     rc = 0, n = 0;

    if (json_array_size(k) > 1 && (rc = begin(d, "rollover --finish")) == 0)
        rc = delete_keys(d, k, id, &n);
    if (rc == 0 && (n > 0 || marked))
        rc = finish(d);
    if (rc == 0)
        printf("%s: %d old key(s) removed; key %lld remains\n", d->domain, n, id);
    return rc;
}

/* roll_start - a second CSK of the same algorithm; with two keys already
 * (a roll under way), no third: only the last step if it is missing. */
static int roll_start(struct dctx *d, json_t *k, json_t *newest, int marked)
{
    const char *alg = json_string_value(json_object_get(newest, "algorithm"));
    int     rc = 0;

    if (json_array_size(k) > 1) {
        print_ds(d, newest, NULL);
        if (marked)
            rc = finish(d);
    } else if ((rc = begin(d, "rollover")) == 0
               && (rc = add_key(d, alg ? alg : d->c->conf->dnssec_algorithm)) == 0) {
        rc = finish(d);
    }
    if (rc == 0)
        printf("%s: %s; put its DS (above) at the parent, wait the DS TTL, "
               "then run: dnssec rollover %s --finish\n", d->domain,
               json_array_size(k) > 1 ? "a rollover is under way, no key added"
               : "new CSK added", d->domain);
    return rc;
}

static int rollover(struct dctx *d)
{
    json_t *k, *newest;
    int     rc, marked = 0;

    if ((rc = keys(d, &k)) != 0)
        return rc;
    if ((newest = newest_key(k)) == NULL) {
        cli_err(d->c, "%s: not signed (dnssec enable first)", d->domain);
        rc = EX_NOINPUT;
    } else if ((rc = pending(d, &marked)) == 0) {
        rc = cli_flag(d->c, "finish") ? roll_finish(d, k, newest, marked)
            : roll_start(d, k, newest, marked);
    }
    json_decref(k);
    return rc;
}

int     cmd_dnssec(struct cli *c)
{
    static const struct { const char *name; int (*fn)(struct dctx *); } subs[] = {
        {"enable", enable}, {"disable", disable}, {"status", status}, {"ds", ds},
        {"rollover", rollover},
    };
    struct dctx d = {c, NULL, "", ""};
    int     rc;

    for (size_t i = 0; c->a.npos == 2 && i < sizeof subs / sizeof *subs; i++) {
        if (strcmp(c->a.pos[0], subs[i].name))
            continue;
        if ((rc = cli_domain(c, c->a.pos[1], d.domain, sizeof d.domain)) != 0)
            return rc;
        if ((d.api = cli_api(c)) == NULL)
            return EX_CONFIG;
        snprintf(d.path, sizeof d.path, "/zones/%s./cryptokeys", d.domain);
        rc = subs[i].fn(&d);
        pdns_api_close(d.api);
        return rc;
    }
    cli_err(c, "usage: dnssec enable|disable|status|ds|rollover DOMAIN");
    return EX_USAGE;
}
