/*
 * dns_records_cmd.c - the administrator's commands on zones and records.
 *
 *   cmd_list           every zone (name, serial, dnssec), text or --json
 *   cmd_records        the records of a zone, text or --json, --type=T
 *   cmd_add            add one record to its rrset (read, merge, replace)
 *   cmd_delete_record  remove one record (--value) or a whole rrset
 *
 * Names may be relative ("www", "@") or absolute.  Each change is one
 * PATCH; a record already there (or already gone) sends nothing.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "dns_cli.h"

static void print_json(json_t *j)
{
    char   *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);

    if (s)
        puts(s);
    free(s);
}

int     cmd_list(struct cli *c)
{
    struct pdns_api *api = cli_api(c);
    json_t *reply, *z, *out = json_array();
    char    why[400];
    size_t  i;
    int     rc;

    if (api == NULL)
        return EX_CONFIG;
    if ((rc = pdns_api_call(api, "GET", "/zones", NULL, &reply, NULL, why, sizeof why)) != 0) {
        cli_err(c, "%s", why);
    } else if (!json_is_array(reply)) {
        cli_err(c, "PowerDNS answered GET /zones with something that is not a list of zones");
        rc = EX_PROTOCOL;
    }
    json_array_foreach(reply, i, z) {
        const char *name = json_string_value(json_object_get(z, "name"));
        char    n[300];

        snprintf(n, sizeof n, "%s", name ? name : "");
        if (*n && n[strlen(n) - 1] == '.')
            n[strlen(n) - 1] = 0;
        json_array_append_new(out, json_pack("{s:s, s:I, s:b, s:s}", "name", n, "serial",
                                             json_integer_value(json_object_get(z, "serial")),
                                             "dnssec", json_is_true(json_object_get(z, "dnssec")),
                                             "kind", json_string_value(json_object_get(z, "kind"))
                                             ? json_string_value(json_object_get(z, "kind")) : ""));
        if (!cli_flag(c, "json"))
            printf("%s\t%lld\t%s\n", n, json_integer_value(json_object_get(z, "serial")),
                   json_is_true(json_object_get(z, "dnssec")) ? "dnssec" : "-");
    }
    if (rc == 0 && cli_flag(c, "json"))
        print_json(out);
    json_decref(out);
    json_decref(reply);
    pdns_api_close(api);
    return rc;
}

/* get_zone - the zone of DOMAIN; EX_NOINPUT (written) when absent. */
static int get_zone(struct cli *c, struct pdns_api *api, const char *domain, struct pdns_zone *z)
{
    char    why[400];
    int     rc = pdns_zone_get(api, domain, z, why, sizeof why);

    if (rc != 0)
        cli_err(c, "%s: %s", domain, why);
    else if (!z->exists) {
        cli_err(c, "%s: no such zone in PowerDNS", domain);
        rc = EX_NOINPUT;
    }
    return rc;
}

int     cmd_records(struct cli *c)
{
    struct pdns_api *api;
    struct pdns_zone z;
    const char *type = cli_opt(c, "type");
    json_t *out = json_array();
    char    domain[256];
    int     rc;

    if ((rc = cli_domain(c, c->a.pos[0], domain, sizeof domain)) != 0
        || (api = cli_api(c)) == NULL) {
        json_decref(out);
        return rc ? rc : EX_CONFIG;
    }
    if ((rc = get_zone(c, api, domain, &z)) == 0) {
        for (size_t i = 0; i < z.rr.n; i++) {
            const struct pdns_rrset *rs = &z.rr.v[i];

            if (type && strcasecmp(type, rs->type))
                continue;
            for (size_t j = 0; j < rs->n; j++) {
                int     off = rs->off && rs->off[j];
                json_t *o;

                if (cli_flag(c, "json")) {
                    o = json_pack("{s:s, s:s, s:i, s:s}", "name", rs->name, "type", rs->type,
                                  "ttl", (int) rs->ttl, "content", rs->rec[j]);
                    if (off)
                        json_object_set_new(o, "disabled", json_true());
                    json_array_append_new(out, o);
                } else {
                    printf("%s\t%ld\tIN\t%s\t%s%s\n", rs->name, rs->ttl, rs->type, rs->rec[j],
                           off ? "\t; disabled" : "");
                }
            }
        }
        if (cli_flag(c, "json"))
            print_json(out);
        pdns_zone_free(&z);
    }
    json_decref(out);
    pdns_api_close(api);
    return rc;
}

/* content_of - the record content as PowerDNS wants it: priority put in
 * front for MX/SRV, TXT quoted, target names given a trailing dot. */
static void content_of(const char *type, const char *value, const char *prio,
                       struct strbuf *out)
{
    size_t  l = strlen(value);

    if (!strcasecmp(type, "TXT") || !strcasecmp(type, "SPF")) {
        if (*value == '"')
            sb_puts(out, value);
        else
            pdns_txt_quote(value, out);
        return;
    }
    if (prio && (!strcasecmp(type, "MX") || !strcasecmp(type, "SRV")))
        sb_printf(out, "%s ", prio);
    sb_puts(out, value);
    if ((!strcasecmp(type, "MX") || !strcasecmp(type, "SRV") || !strcasecmp(type, "CNAME")
         || !strcasecmp(type, "NS") || !strcasecmp(type, "PTR")) && l && value[l - 1] != '.')
        sb_putc(out, '.');
}

/* patch_one - REPLACE (or DELETE when empty) the rrset RS. */
static int patch_one(struct cli *c, struct pdns_api *api, const char *domain,
                     struct pdns_rrset *rs)
{
    struct pdns_changes ch = PDNS_CHANGES_INIT;
    struct pdns_change one = {rs->n ? PDNS_REPLACE : PDNS_DELETE, *rs, NULL, 0};
    char    why[400];
    int     rc;

    ch.n = ch.cap = 1;
    ch.v = &one;
    if ((rc = pdns_zone_patch(api, domain, &ch, why, sizeof why)) != 0)
        cli_err(c, "%s: %s", domain, why);
    return rc;
}

/* upper_type - TYPE checked (letters and digits) and uppercased. */
static int upper_type(struct cli *c, const char *in, char *out, size_t len)
{
    size_t  i;

    for (i = 0; in && in[i] && i + 1 < len; i++) {
        if (!isalnum((unsigned char) in[i])) {
            cli_err(c, "bad record type \"%.20s\"", in);
            return EX_USAGE;
        }
        out[i] = (char) toupper((unsigned char) in[i]);
    }
    out[i] = 0;
    if (i == 0 || (in && in[i])) {
        cli_err(c, "bad record type \"%.20s\"", in ? in : "");
        return EX_USAGE;
    }
    return 0;
}

/* number_opt - option NAME as a whole number in MIN..MAX into *OUT (left
 * alone when the option is absent); EX_USAGE, written, when it is not. */
static int number_opt(const struct cli *c, const char *name, long min, long max, long *out)
{
    const char *v = cli_opt(c, name);
    char   *end;
    long    n;

    if (v == NULL)
        return 0;
    errno = 0;
    n = strtol(v, &end, 10);
    if (!isdigit((unsigned char) *v) || *end || errno || n < min || n > max) {
        cli_err(c, "bad --%s \"%.40s\": want a whole number from %ld to %ld", name, v, min,
                max);
        return EX_USAGE;
    }
    *out = n;
    return 0;
}

int     cmd_add(struct cli *c)
{
    struct pdns_api *api;
    struct pdns_zone z;
    struct strbuf name = STRBUF_INIT, content = STRBUF_INIT;
    long    ttlopt = -1, prio = -1;
    char    domain[256], type[12], prio_s[8];
    int     rc;

    if (c->a.npos != 4) {
        cli_err(c, "usage: add DOMAIN NAME TYPE CONTENT [--ttl=3600] [--priority=N]");
        return EX_USAGE;
    }
    if ((rc = number_opt(c, "ttl", 0, 2147483647L, &ttlopt)) != 0   /* RFC 2181 8 */
        || (rc = number_opt(c, "priority", 0, 65535, &prio)) != 0
        || (rc = cli_domain(c, c->a.pos[0], domain, sizeof domain)) != 0
        || (rc = dns_add_type(c, c->a.pos[2], type, sizeof type)) != 0)
        return rc;
    snprintf(prio_s, sizeof prio_s, "%ld", prio);
    content_of(type, c->a.pos[3], prio >= 0 ? prio_s : NULL, &content);
    if ((rc = dns_add_name(c, c->a.pos[1], domain, &name)) != 0
        || (rc = dns_add_content(c, type, sb_str(&content), prio >= 0)) != 0
        || (api = cli_api(c)) == NULL) {
        sb_free(&name);
        sb_free(&content);
        return rc ? rc : EX_CONFIG;
    }
    if ((rc = get_zone(c, api, domain, &z)) == 0) {
        struct pdns_rrset *rs = pdns_rrset_find(&z.rr, sb_str(&name), type);
        size_t  before = rs ? rs->n : 0;
        long    ttl = ttlopt >= 0 ? ttlopt : rs ? rs->ttl : c->conf->dns_ttl;

        rs = pdns_rrset_add(&z.rr, sb_str(&name), type, ttl, sb_str(&content));
        if (rs->n == before && rs->ttl == ttl) {
            printf("%s: %s %s %s already there\n", domain, rs->name, type, sb_str(&content));
        } else {
            rs->ttl = ttl;
            if ((rc = patch_one(c, api, domain, rs)) == 0)
                printf("%s: added %s %ld IN %s %s\n", domain, rs->name, ttl, type,
                       sb_str(&content));
        }
        pdns_zone_free(&z);
    }
    sb_free(&name);
    sb_free(&content);
    pdns_api_close(api);
    return rc;
}

int     cmd_delete_record(struct cli *c)
{
    struct pdns_api *api;
    struct pdns_zone z;
    struct strbuf name = STRBUF_INIT, content = STRBUF_INIT;
    const char *value = cli_opt(c, "value");
    char    domain[256], type[12];
    int     rc;

    if (c->a.npos != 1 || !cli_opt(c, "name")) {
        cli_err(c, "usage: delete-record DOMAIN --type=T --name=N [--value=V]");
        return EX_USAGE;
    }
    if ((rc = cli_domain(c, c->a.pos[0], domain, sizeof domain)) != 0
        || (rc = upper_type(c, cli_opt(c, "type"), type, sizeof type)) != 0)
        return rc;
    if ((api = cli_api(c)) == NULL)
        return EX_CONFIG;
    pdns_name_abs(cli_opt(c, "name"), domain, &name);
    if (value)
        content_of(type, value, NULL, &content);
    if ((rc = get_zone(c, api, domain, &z)) == 0) {
        struct pdns_rrset *rs = pdns_rrset_find(&z.rr, sb_str(&name), type);
        size_t  before = rs ? rs->n : 0;

        for (size_t i = rs ? rs->n : 0; value && i-- > 0;)
            if (pdns_rec_equal(type, rs->rec[i], sb_str(&content)))
                pdns_rrset_del_rec(rs, i);
        if (rs && !value)
            pdns_rrset_clear(rs);
        if (rs == NULL || rs->n == before) {
            cli_err(c, "%s: no such record: %s %s%s%.200s", domain, sb_str(&name), type,
                    value ? " " : "", value ? value : "");
            rc = EX_NOINPUT;
        } else if ((rc = patch_one(c, api, domain, rs)) == 0) {
            printf("%s: removed %zu record(s) of %s %s\n", domain, before - rs->n, rs->name, type);
        }
        pdns_zone_free(&z);
    }
    sb_free(&name);
    sb_free(&content);
    pdns_api_close(api);
    return rc;
}
