/*
 * pdns_diff.c - reconcile: what to change so a zone carries the desired
 * mail records, without touching records mxdock does not own.
 *
 *   pdns_diff            desired + actual -> changes (REPLACE / DELETE)
 *   pdns_diff_off        DELETEs for groups dns_publish switched off
 *   pdns_changes_json    the PATCH body; pdns_changes_print the +/- lines
 *   pdns_rrsets_json     rrsets as the API's JSON array
 *   pdns_rrsets_from_json  the API's rrsets -> the model
 *   pdns_txt_family      "v=spf1", "v=dmarc1", ... of a TXT value
 *
 * Ownership rules: TXT at a name mxdock does not own outright (the apex,
 * the mail host) is merged by v= family: records of the families mxdock
 * publishes are replaced, every other TXT there stays.  Names owned
 * outright: _dmarc, _smtp._tls, _mta-sts and the _domainkey names of its
 * own selectors.  Other types mxdock publishes are replaced as a whole
 * rrset.  SOA is left to PowerDNS after creation (serials).  The DKIM TXT
 * of a RETIRED selector of its own store is deleted.
 *
 * Switched-off groups (pdns_diff_off): the rrsets of a group no longer in
 * dns_publish, at names owned outright, are deleted when every record is
 * what mxdock publishes there (a v= family, a CNAME or SRV to the mail
 * host, "0 0 0 .", TLSA "3 1 1"); anything else there is hand-made and
 * stays.  The apex SPF TXT and MX are never removed this way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pdns.h"

static int owned_outright(const char *name, const char *domain)
{
    static const char *const owned[] = {"_dmarc.", "_smtp._tls.", "_mta-sts."};
    size_t  dl = strlen(domain), nl = strlen(name);

    for (size_t i = 0; i < sizeof owned / sizeof *owned; i++) {
        size_t  ol = strlen(owned[i]);

        if (nl == ol + dl + 1 && !strncasecmp(name, owned[i], ol)
            && !strncasecmp(name + ol, domain, dl))
            return 1;
    }
    return strstr(name, "._domainkey.") != NULL;
}

void    pdns_txt_family(const char *value, char *fam, size_t famlen)
{
    size_t  i = 0;
    struct strbuf v = STRBUF_INIT;
    const char *s;

    pdns_norm("TXT", value, &v);
    s = sb_str(&v);
    while (*s == ' ')
        s++;
    if (strncasecmp(s, "v=", 2) == 0)
        for (; s[i] && s[i] != ';' && s[i] != ' ' && i + 1 < famlen; i++)
            fam[i] = (char) (s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    if (famlen)
        fam[i] = 0;
    sb_free(&v);
}

/* has_family - does RS (desired) carry a record of family FAM? */
static int has_family(const struct pdns_rrset *rs, const char *fam)
{
    char    f[32];

    for (size_t i = 0; i < rs->n; i++) {
        pdns_txt_family(rs->rec[i], f, sizeof f);
        if (*f && !strcmp(f, fam))
            return 1;
    }
    return 0;
}

/* merged - the rrset to have: DESIRED, plus, for merged TXT names, the
 * records of ACTUAL whose family DESIRED does not publish. */
static void merged(const struct pdns_rrset *desired, const struct pdns_rrset *actual,
                   int merge, struct pdns_rrsets *tmp)
{
    struct pdns_rrset *rs = pdns_rrset_add(tmp, desired->name, desired->type, desired->ttl, NULL);
    char    f[32];

    if (merge && actual)
        for (size_t i = 0; i < actual->n; i++) {
            pdns_txt_family(actual->rec[i], f, sizeof f);
            if (!*f || !has_family(desired, f))
                pdns_rrset_add(tmp, rs->name, rs->type, rs->ttl, actual->rec[i]);
        }
    for (size_t i = 0; i < desired->n; i++)
        pdns_rrset_add(tmp, rs->name, rs->type, rs->ttl, desired->rec[i]);
}

/* same - equal TTL and equal record sets (order ignored). */
static int same(const struct pdns_rrset *a, const struct pdns_rrset *b)
{
    if (a->ttl != b->ttl || a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++) {
        size_t  j;

        for (j = 0; j < b->n; j++)
            if (pdns_rec_equal(a->type, a->rec[i], b->rec[j]))
                break;
        if (j == b->n)
            return 0;
    }
    return 1;
}

static struct pdns_change *push(struct pdns_changes *out, enum pdns_change_kind kind,
                                const struct pdns_rrset *was)
{
    struct pdns_change *c;

    if (out->n == out->cap) {
        out->cap = out->cap ? out->cap * 2 : 8;
        if ((out->v = realloc(out->v, out->cap * sizeof *out->v)) == NULL)
            mx_panic("out of memory");
    }
    c = &out->v[out->n++];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->was = was;
    return c;
}

/* take - move rrset I of TMP into the change C. */
static void take(struct pdns_change *c, struct pdns_rrsets *tmp, size_t i)
{
    c->want = tmp->v[i];
    memset(&tmp->v[i], 0, sizeof tmp->v[i]);
}

static void delete_rrset(struct pdns_changes *out, const struct pdns_rrset *a)
{
    struct pdns_change *c = push(out, PDNS_DELETE, a);
    struct pdns_rrsets tmp = PDNS_RRSETS_INIT;

    pdns_rrset_add(&tmp, a->name, a->type, a->ttl, NULL);
    take(c, &tmp, 0);
    pdns_rrsets_free(&tmp);
}

static void retired(const struct pdns_rrsets *actual, const char *domain,
                    const struct dkim_selector *sel, size_t nsel, struct pdns_changes *out)
{
    for (size_t i = 0; i < nsel; i++) {
        char    name[320];
        const struct pdns_rrset *a;

        if (sel[i].state != DKIM_RETIRED)
            continue;
        snprintf(name, sizeof name, "%s._domainkey.%s.", sel[i].name, domain);
        if ((a = pdns_rrset_find(actual, name, "TXT")) != NULL)
            delete_rrset(out, a);
    }
}

void    pdns_diff(const struct pdns_rrsets *desired, const struct pdns_rrsets *actual,
                  const char *domain, const struct dkim_selector *sel, size_t nsel,
                  const char *only, struct pdns_changes *out)
{
    for (size_t i = 0; i < desired->n; i++) {
        const struct pdns_rrset *d = &desired->v[i];
        const struct pdns_rrset *a = pdns_rrset_find(actual, d->name, d->type);
        struct pdns_rrsets tmp = PDNS_RRSETS_INIT;
        int     merge = !strcmp(d->type, "TXT") && !owned_outright(d->name, domain);

        if (!strcmp(d->type, "SOA") || (only && *only && !conf_list_has(only, d->type)))
            continue;
        merged(d, a, merge, &tmp);
        if (a == NULL || !same(&tmp.v[0], a))
            take(push(out, PDNS_REPLACE, a), &tmp, 0);
        pdns_rrsets_free(&tmp);
    }
    if (!only || !*only || conf_list_has(only, "TXT"))
        retired(actual, domain, sel, nsel, out);
}

/* what mxdock publishes at a name owned outright, per group */
enum off_kind { OFF_TXT, OFF_CNAME, OFF_SRV, OFF_TLSA };

static const struct off_rule {
    const char *group, *name, *type;    /* name relative to D; NULL = TLSA */
    enum off_kind kind;
    const char *family;                 /* OFF_TXT: its v= family */
    int     port;                       /* OFF_SRV */
} off_rules[] = {
    {"dmarc", "_dmarc", "TXT", OFF_TXT, "v=dmarc1", 0},
    {"tlsrpt", "_smtp._tls", "TXT", OFF_TXT, "v=tlsrptv1", 0},
    {"mta-sts", "_mta-sts", "TXT", OFF_TXT, "v=stsv1", 0},
    {"mta-sts", "mta-sts", "CNAME", OFF_CNAME, 0, 0},
    {"srv", "_submissions._tcp", "SRV", OFF_SRV, 0, 465},
    {"srv", "_submission._tcp", "SRV", OFF_SRV, 0, 587},
    {"srv", "_imaps._tcp", "SRV", OFF_SRV, 0, 993},
    {"srv", "_imap._tcp", "SRV", OFF_SRV, 0, 143},
    {"srv", "_pop3s._tcp", "SRV", OFF_SRV, 0, 995},
    {"srv", "_pop3._tcp", "SRV", OFF_SRV, 0, 110},
    {"srv", "_jmap._tcp", "SRV", OFF_SRV, 0, 443},
    {"autoconfig", "autoconfig", "CNAME", OFF_CNAME, 0, 0},
    {"autoconfig", "autodiscover", "CNAME", OFF_CNAME, 0, 0},
    {"autoconfig", "_autodiscover._tcp", "SRV", OFF_SRV, 0, 443},
    {"tlsa", NULL, "TLSA", OFF_TLSA, 0, 0},
};

/* ours - is record REC what RULE says mxdock publishes (M = mail host)? */
static int ours(const struct off_rule *r, const char *rec, const char *m)
{
    char    want[400], f[32];

    switch (r->kind) {
    case OFF_TXT:
        pdns_txt_family(rec, f, sizeof f);
        return !strcmp(f, r->family);
    case OFF_CNAME:
        snprintf(want, sizeof want, "%s.", m);
        return pdns_rec_equal("CNAME", rec, want);
    case OFF_SRV:
        snprintf(want, sizeof want, "0 1 %d %s.", r->port, m);
        return pdns_rec_equal("SRV", rec, want) || pdns_rec_equal("SRV", rec, "0 0 0 .");
    case OFF_TLSA:
        return strncmp(rec, "3 1 1 ", 6) == 0;
    }
    return 0;
}

/* all_ours - a non-empty rrset every record of which is ours. */
static int all_ours(const struct off_rule *r, const struct pdns_rrset *a, const char *m)
{
    for (size_t i = 0; i < a->n; i++)
        if (!ours(r, a->rec[i], m))
            return 0;
    return a->n > 0;
}

void    pdns_diff_off(const struct mx_conf *conf, const char *domain,
                      const struct pdns_rrsets *desired, const struct pdns_rrsets *actual,
                      const char *only, struct pdns_changes *out)
{
    char    m[300], name[400];

    if (pdns_mail_host(conf, domain, m, sizeof m) < 0)
        return;
    for (size_t i = 0; i < sizeof off_rules / sizeof *off_rules; i++) {
        const struct off_rule *r = &off_rules[i];
        const struct pdns_rrset *a;

        if (conf_list_has(conf->dns_publish, r->group)
            || (only && *only && !conf_list_has(only, r->type)))
            continue;
        if (r->name)
            snprintf(name, sizeof name, "%s.%s.", r->name, domain);
        else
            snprintf(name, sizeof name, "_25._tcp.%s.", m);
        if ((a = pdns_rrset_find(actual, name, r->type)) != NULL
            && !pdns_rrset_find(desired, name, r->type) && all_ours(r, a, m))
            delete_rrset(out, a);
    }
}

void    pdns_changes_free(struct pdns_changes *ch)
{
    for (size_t i = 0; i < ch->n; i++) {
        pdns_rrset_clear(&ch->v[i].want);
        free(ch->v[i].want.rec);
        free(ch->v[i].want.name);
    }
    free(ch->v);
    memset(ch, 0, sizeof *ch);
}

static json_t *rrset_json(const struct pdns_rrset *rs, const char *changetype)
{
    json_t *recs = json_array();
    json_t *o = json_pack("{s:s, s:s}", "name", rs->name, "type", rs->type);

    if (changetype)
        json_object_set_new(o, "changetype", json_string(changetype));
    if (changetype && !strcmp(changetype, "DELETE")) {
        json_decref(recs);
        return o;
    }
    for (size_t i = 0; i < rs->n; i++)
        json_array_append_new(recs, json_pack("{s:s, s:b}", "content", rs->rec[i],
                                              "disabled", 0));
    json_object_set_new(o, "ttl", json_integer(rs->ttl));
    json_object_set_new(o, "records", recs);
    return o;
}

json_t *pdns_rrsets_json(const struct pdns_rrsets *set, int with_changetype)
{
    json_t *a = json_array();

    for (size_t i = 0; i < set->n; i++)
        json_array_append_new(a, rrset_json(&set->v[i], with_changetype ? "REPLACE" : NULL));
    return a;
}

json_t *pdns_changes_json(const struct pdns_changes *ch)
{
    json_t *a = json_array();

    for (size_t i = 0; i < ch->n; i++)
        json_array_append_new(a, rrset_json(&ch->v[i].want,
                                            ch->v[i].kind == PDNS_DELETE ? "DELETE" : "REPLACE"));
    return json_pack("{s:o}", "rrsets", a);
}

static int in_set(const struct pdns_rrset *rs, const char *rec)
{
    if (rs == NULL)
        return 0;
    for (size_t i = 0; i < rs->n; i++)
        if (pdns_rec_equal(rs->type, rs->rec[i], rec))
            return 1;
    return 0;
}

void    pdns_changes_print(const struct pdns_changes *ch, struct strbuf *out)
{
    for (size_t i = 0; i < ch->n; i++) {
        const struct pdns_change *c = &ch->v[i];
        const struct pdns_rrset *w = c->kind == PDNS_DELETE ? NULL : &c->want;
        int     ttl_changed = c->was && w && c->was->ttl != w->ttl;

        for (size_t j = 0; c->was && j < c->was->n; j++)
            if (ttl_changed || !in_set(w, c->was->rec[j]))
                sb_printf(out, "- %s\t%ld\tIN\t%s\t%s\n", c->was->name, c->was->ttl,
                          c->was->type, c->was->rec[j]);
        for (size_t j = 0; w && j < w->n; j++)
            if (ttl_changed || !in_set(c->was, w->rec[j]))
                sb_printf(out, "+ %s\t%ld\tIN\t%s\t%s\n", w->name, w->ttl, w->type, w->rec[j]);
    }
}

int     pdns_rrsets_from_json(json_t *rrsets, struct pdns_rrsets *out)
{
    size_t  i, j;
    json_t *rs, *rec;

    if (!json_is_array(rrsets))
        return -1;
    json_array_foreach(rrsets, i, rs) {
        const char *name = json_string_value(json_object_get(rs, "name"));
        const char *type = json_string_value(json_object_get(rs, "type"));
        long    ttl = (long) json_integer_value(json_object_get(rs, "ttl"));
        struct pdns_rrset *set;

        if (!name || !type)
            return -1;
        set = pdns_rrset_add(out, name, type, ttl, NULL);
        json_array_foreach(json_object_get(rs, "records"), j, rec) {
            const char *c = json_string_value(json_object_get(rec, "content"));

            if (c && !json_is_true(json_object_get(rec, "disabled")))
                pdns_rrset_add(out, set->name, set->type, ttl, c);
        }
    }
    pdns_rrsets_sort(out);
    return 0;
}
