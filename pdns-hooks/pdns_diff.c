/*
 * pdns_diff.c - the change set of a reconcile and its JSON: what goes to
 * PowerDNS, what is read back from it.
 *
 *   pdns_changes_json    the PATCH body; pdns_changes_print the +/- lines
 *   pdns_changes_free
 *   pdns_rrsets_json     rrsets as the API's JSON array (POST, PATCH)
 *   pdns_rrsets_from_json  the API's rrsets -> the model: disabled records
 *                        kept (flagged), mxdock's comment as the memo of
 *                        what it published, other comments kept verbatim
 *   pdns_txt_family      "v=spf1", "v=dmarc1", ... of a TXT value
 *
 * The deciding (desired, last published, live -> changes) is pdns_sync.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pdns.h"

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

void    pdns_changes_free(struct pdns_changes *ch)
{
    for (size_t i = 0; i < ch->n; i++) {
        pdns_rrset_clear(&ch->v[i].want);
        free(ch->v[i].want.rec);
        free(ch->v[i].want.name);
        free(ch->v[i].want.off);
        free(ch->v[i].want.memo);
        json_decref(ch->v[i].want.comments);
    }
    free(ch->v);
    memset(ch, 0, sizeof *ch);
}

/* comments_json - the rrset's other comments and, when it has one,
 * mxdock's memo of what it published there. */
static json_t *comments_json(const struct pdns_rrset *rs)
{
    json_t *a = rs->comments ? json_deep_copy(rs->comments) : json_array();

    if (rs->memo && *rs->memo)
        json_array_append_new(a, json_pack("{s:s, s:s}", "content", rs->memo,
                                           "account", PDNS_MEMO_ACCOUNT));
    return a;
}

static json_t *rrset_json(const struct pdns_rrset *rs, const char *changetype, int comments)
{
    json_t *recs;
    json_t *o = json_pack("{s:s, s:s}", "name", rs->name, "type", rs->type);

    if (changetype)
        json_object_set_new(o, "changetype", json_string(changetype));
    if (changetype && !strcmp(changetype, "DELETE"))
        return o;
    recs = json_array();
    for (size_t i = 0; i < rs->n; i++)
        json_array_append_new(recs, json_pack("{s:s, s:b}", "content", rs->rec[i],
                                              "disabled", rs->off && rs->off[i]));
    json_object_set_new(o, "ttl", json_integer(rs->ttl));
    json_object_set_new(o, "records", recs);
    if (comments)
        json_object_set_new(o, "comments", comments_json(rs));
    return o;
}

json_t *pdns_rrsets_json(const struct pdns_rrsets *set, int with_changetype)
{
    json_t *a = json_array();

    for (size_t i = 0; i < set->n; i++)
        json_array_append_new(a, rrset_json(&set->v[i], with_changetype ? "REPLACE" : NULL,
                                            set->v[i].memo != NULL));
    return a;
}

json_t *pdns_changes_json(const struct pdns_changes *ch)
{
    json_t *a = json_array();

    for (size_t i = 0; i < ch->n; i++)
        json_array_append_new(a, rrset_json(&ch->v[i].want,
                                            ch->v[i].kind == PDNS_DELETE ? "DELETE" : "REPLACE",
                                            ch->v[i].comments));
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

/* comments_from_json - mxdock's memo into SET's MEMO, every other comment
 * kept in its COMMENTS. */
static void comments_from_json(json_t *comments, struct pdns_rrset *set)
{
    size_t  i;
    json_t *cm;

    json_array_foreach(comments, i, cm) {
        const char *acct = json_string_value(json_object_get(cm, "account"));
        const char *text = json_string_value(json_object_get(cm, "content"));

        if (acct && text && !strcmp(acct, PDNS_MEMO_ACCOUNT) && set->memo == NULL) {
            if ((set->memo = strdup(text)) == NULL)
                mx_panic("out of memory");
            continue;
        }
        if (set->comments == NULL)
            set->comments = json_array();
        json_array_append(set->comments, cm);
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

            if (c)
                pdns_rrset_push(set, c, json_is_true(json_object_get(rec, "disabled")));
        }
        comments_from_json(json_object_get(rs, "comments"), set);
    }
    pdns_rrsets_sort(out);
    return 0;
}
