/*
 * pdns_zone.c - zone operations over the REST client, one request each.
 *
 *   pdns_zone_get          GET /zones/D.  (404/422 "not found" = absent)
 *   pdns_zone_create       POST /zones with every rrset, Native, soa_edit_api
 *   pdns_zone_set_account  PUT /zones/D. {"account": ...} (template name)
 *   pdns_zone_patch        PATCH /zones/D. with the changed rrsets only
 *   pdns_zone_bump_serial  PATCH of the SOA with serial + 1 (after DNSSEC
 *                          key changes, which do not bump it themselves)
 *   pdns_zone_meta_get     GET /zones/D./metadata (every kind, one request)
 *   pdns_zone_meta_put     PUT (or, with no values, DELETE) one kind
 *   pdns_zone_free
 *
 * Returns 0 or a sysexits code with a one-line reason (see pdns_api.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "pdns.h"

int     pdns_zone_get(struct pdns_api *api, const char *domain, struct pdns_zone *z,
                      char *why, size_t whylen)
{
    char    path[400];
    json_t *reply;
    int     rc;

    memset(z, 0, sizeof *z);
    snprintf(path, sizeof path, "/zones/%s.", domain);
    rc = pdns_api_call(api, "GET", path, NULL, &reply, NULL, why, whylen);
    if (rc == EX_NOINPUT || (rc == EX_DATAERR && strstr(why, "not find"))) {
        *why = 0;
        return 0;               /* absent: not an error */
    }
    if (rc != 0)
        return rc;
    if (pdns_rrsets_from_json(json_object_get(reply, "rrsets"), &z->rr) < 0) {
        snprintf(why, whylen, "PowerDNS sent a zone without rrsets for %.100s", domain);
        json_decref(reply);
        pdns_rrsets_free(&z->rr);
        return EX_PROTOCOL;
    }
    z->exists = 1;
    z->dnssec = json_is_true(json_object_get(reply, "dnssec"));
    snprintf(z->account, sizeof z->account, "%s",
             json_string_value(json_object_get(reply, "account")) ?
             json_string_value(json_object_get(reply, "account")) : "");
    json_decref(reply);
    return 0;
}

void    pdns_zone_free(struct pdns_zone *z)
{
    pdns_rrsets_free(&z->rr);
}

int     pdns_zone_create(struct pdns_api *api, const struct mx_conf *conf, const char *domain,
                         const char *account, const struct pdns_rrsets *rr,
                         char *why, size_t whylen)
{
    char    name[300];
    json_t *body, *reply;
    int     rc;

    snprintf(name, sizeof name, "%s.", domain);
    body = json_pack("{s:s, s:s, s:s, s:s, s:[], s:o}", "name", name, "kind", "Native",
                     "soa_edit_api", conf->dns_soa_edit_api, "account", account, "nameservers",
                     "rrsets", pdns_rrsets_json(rr, 0));
    rc = pdns_api_call(api, "POST", "/zones", body, &reply, NULL, why, whylen);
    json_decref(body);
    json_decref(reply);
    return rc;
}

int     pdns_zone_patch(struct pdns_api *api, const char *domain, const struct pdns_changes *ch,
                        char *why, size_t whylen)
{
    char    path[400];
    json_t *body = pdns_changes_json(ch), *reply;
    int     rc;

    snprintf(path, sizeof path, "/zones/%s.", domain);
    rc = pdns_api_call(api, "PATCH", path, body, &reply, NULL, why, whylen);
    json_decref(body);
    json_decref(reply);
    return rc;
}

int     pdns_zone_set_account(struct pdns_api *api, const char *domain, const char *account,
                              char *why, size_t whylen)
{
    char    path[400];
    json_t *body = json_pack("{s:s}", "account", account), *reply;
    int     rc;

    snprintf(path, sizeof path, "/zones/%s.", domain);
    rc = pdns_api_call(api, "PUT", path, body, &reply, NULL, why, whylen);
    json_decref(body);
    json_decref(reply);
    return rc;
}

/* next_soa - SOA content with the serial (third field) plus one. */
static int next_soa(const char *soa, struct strbuf *out)
{
    char    mname[300], rname[300];
    unsigned long serial, refresh, retry, expire, minimum;

    if (sscanf(soa, "%299s %299s %lu %lu %lu %lu %lu", mname, rname, &serial, &refresh,
               &retry, &expire, &minimum) != 7)
        return -1;
    sb_printf(out, "%s %s %lu %lu %lu %lu %lu", mname, rname, (serial + 1) & 0xffffffffUL,
              refresh, retry, expire, minimum);
    return 0;
}

int     pdns_zone_bump_serial(struct pdns_api *api, const char *domain, char *why, size_t whylen)
{
    struct pdns_zone z;
    struct pdns_changes ch = PDNS_CHANGES_INIT;
    struct pdns_rrsets tmp = PDNS_RRSETS_INIT;
    struct pdns_rrset *soa;
    struct strbuf next = STRBUF_INIT;
    char    name[300];
    int     rc;

    if ((rc = pdns_zone_get(api, domain, &z, why, whylen)) != 0)
        return rc;
    snprintf(name, sizeof name, "%s.", domain);
    if (!z.exists || (soa = pdns_rrset_find(&z.rr, name, "SOA")) == NULL || soa->n != 1
        || next_soa(soa->rec[0], &next) < 0) {
        snprintf(why, whylen, "zone %.100s has no usable SOA", domain);
        pdns_zone_free(&z);
        return EX_DATAERR;
    }
    pdns_rrset_add(&tmp, name, "SOA", soa->ttl, sb_str(&next));
    ch.n = ch.cap = 1;
    ch.v = calloc(1, sizeof *ch.v);
    if (ch.v == NULL)
        mx_panic("out of memory");
    ch.v[0].kind = PDNS_REPLACE;
    ch.v[0].want = tmp.v[0];
    memset(&tmp.v[0], 0, sizeof tmp.v[0]);
    rc = pdns_zone_patch(api, domain, &ch, why, whylen);
    pdns_changes_free(&ch);
    pdns_rrsets_free(&tmp);
    sb_free(&next);
    pdns_zone_free(&z);
    return rc;
}

int     pdns_zone_meta_get(struct pdns_api *api, const char *domain, json_t **out,
                           char *why, size_t whylen)
{
    char    path[400];
    int     rc;

    snprintf(path, sizeof path, "/zones/%s./metadata", domain);
    rc = pdns_api_call(api, "GET", path, NULL, out, NULL, why, whylen);
    if (rc == 0 && !json_is_array(*out)) {
        json_decref(*out);
        *out = NULL;
        snprintf(why, whylen, "PowerDNS sent metadata that is not a list for %.100s", domain);
        rc = EX_PROTOCOL;
    }
    return rc;
}

const char *pdns_meta_value(json_t *meta, const char *kind, size_t i)
{
    size_t  k;
    json_t *m;

    json_array_foreach(meta, k, m)
        if (json_string_value(json_object_get(m, "kind"))
            && !strcmp(json_string_value(json_object_get(m, "kind")), kind))
            return json_string_value(json_array_get(json_object_get(m, "metadata"), i));
    return NULL;
}

int     pdns_zone_meta_put(struct pdns_api *api, const char *domain, const char *kind,
                           const char *const *vals, size_t n, char *why, size_t whylen)
{
    char    path[450];
    json_t *body = NULL, *list, *reply;
    int     rc;

    snprintf(path, sizeof path, "/zones/%s./metadata/%s", domain, kind);
    if (n > 0) {
        list = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(list, json_string(vals[i]));
        body = json_pack("{s:o}", "metadata", list);
    }
    rc = pdns_api_call(api, n ? "PUT" : "DELETE", path, body, &reply, NULL, why, whylen);
    json_decref(body);
    json_decref(reply);
    return rc;
}
