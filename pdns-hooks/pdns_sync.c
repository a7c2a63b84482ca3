/*
 * pdns_sync.c - the three-way reconcile: desired (the model), last
 * published (mxdock's memo), live (the zone) -> one change per rrset.
 *
 *   pdns_plan_make       the plan: items (why each record is kept, added,
 *                        removed) and the changes of one PATCH
 *   pdns_plan_free, pdns_plan_count, pdns_reason_name
 *   pdns_plan_print      the items as text lines; pdns_plan_json as JSON
 *   pdns_rrsets_memo_all the memo of a zone mxdock creates
 *
 * Ownership is per record.  The memo is a comment (account "mxdock") on
 * each rrset holding the records mxdock published there, one a line; it
 * travels in the same GET and the same PATCH as the records, so it can
 * never disagree with them after a failure half-way (docs/DNS.md).
 *
 * Per rrset (name, type; SOA never), with D desired, P published, L live:
 *   - live, enabled, in D: mxdock's, kept;
 *   - live, enabled, in P, not in D: stale: removed;
 *   - anything else live (disabled records included): foreign, kept;
 *   - a record of P no longer live while a foreign record holds its slot
 *     (TXT: the same v= family; MX: the same preference; other types: the
 *     rrset) was edited by hand: drift.  The slot is left alone unless
 *     FORCE: then its foreign records go and D's records come back;
 *   - TXT of a v= family, and CNAME, hold one record per slot: a foreign
 *     record there blocks D's record the same way (an edited apex SPF in a
 *     zone made before memos existed);
 *   - D's records not live are added (merged with what stays: one REPLACE).
 * TTL: D's when nothing foreign stays in the rrset, else the live TTL (the
 * administrator's records stay byte for byte).
 *
 * A zone with no memo at all was made by an older mxdock: P is adopted as
 * the live records equal to the model, the records a group switched off in
 * dns_publish would publish at the names only mxdock uses (never apex SPF
 * or MX, never TLSA), and the TXT at its own retired selectors' names.
 * Everything else there is foreign.
 *
 * Memory: the plan owns its items and changes; pdns_plan_free frees them.
 * Changes point into LIVE (was), which must outlive the plan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pdns.h"

/* one record of an rrset being decided */
struct rec {
    const char *content;
    int     disabled;
    enum { R_OURS, R_STALE, R_FOREIGN } kind;
    int     drop;                       /* forced out (drift) */
    int     seen;                       /* reported as drift */
};

static char *xstrdup(const char *s)
{
    char   *d = strdup(s ? s : "");

    if (d == NULL)
        mx_panic("out of memory");
    return d;
}

static void *xrealloc(void *p, size_t n)
{
    if ((p = realloc(p, n)) == NULL)
        mx_panic("out of memory");
    return p;
}

const char *pdns_reason_name(enum pdns_reason r)
{
    static const char *const names[] = {"missing", "stale-ours", "drift", "foreign"};

    return names[r];
}

static void item(struct pdns_plan *p, enum pdns_reason r, int applied,
                 const struct pdns_rrset *rs, long ttl, const char *content,
                 const char *want, int disabled)
{
    struct pdns_item *it;

    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 16;
        p->v = xrealloc(p->v, p->cap * sizeof *p->v);
    }
    it = &p->v[p->n++];
    memset(it, 0, sizeof *it);
    it->reason = r;
    it->applied = applied;
    it->name = xstrdup(rs->name);
    snprintf(it->type, sizeof it->type, "%s", rs->type);
    it->ttl = ttl;
    it->content = xstrdup(content);
    it->want = want ? xstrdup(want) : NULL;
    it->disabled = disabled;
}

/* slot - the place a record holds: TXT its v= family ("" = none, never
 * displaces), MX its preference, any other type the whole rrset. */
static void slot(const char *type, const char *rec, char *out, size_t len)
{
    if (!strcasecmp(type, "TXT"))
        pdns_txt_family(rec, out, len);
    else if (!strcasecmp(type, "MX"))
        snprintf(out, len, "%.*s", (int) strcspn(rec, " \t"), rec);
    else
        snprintf(out, len, "*");
}

static int same_slot(const char *type, const char *a, const char *b)
{
    char    x[64], y[64];

    slot(type, a, x, sizeof x);
    slot(type, b, y, sizeof y);
    return *x && !strcmp(x, y);
}

/* one_per_slot - types where a second record in a slot is an error */
static int one_per_slot(const char *type, const char *rec)
{
    char    f[64];

    if (!strcasecmp(type, "CNAME"))
        return 1;
    if (strcasecmp(type, "TXT"))
        return 0;
    pdns_txt_family(rec, f, sizeof f);
    return *f != 0;
}

static int in_rrset(const struct pdns_rrset *rs, const char *type, const char *rec)
{
    for (size_t i = 0; rs && i < rs->n; i++)
        if ((!rs->off || !rs->off[i]) && pdns_rec_equal(type, rs->rec[i], rec))
            return 1;
    return 0;
}

/* ---- last published ------------------------------------------------------ */

/* memo_parse - the memo's lines as an rrset into P. */
static void memo_parse(const struct pdns_rrset *l, struct pdns_rrsets *p)
{
    const char *s = l->memo;
    struct pdns_rrset *rs = pdns_rrset_add(p, l->name, l->type, l->ttl, NULL);

    while (s && *s) {
        size_t  n = strcspn(s, "\n");
        char   *line = strndup(s, n);

        if (line == NULL)
            mx_panic("out of memory");
        if (*line)
            pdns_rrset_push(rs, line, 0);
        free(line);
        s += n + (s[n] == '\n');
    }
}

/* what mxdock publishes at a name only it uses, per dns_publish group */
enum off_kind { OFF_TXT, OFF_CNAME, OFF_SRV };

static const struct off_rule {
    const char *group, *name, *type;    /* name relative to the domain */
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
};

/* off_ours - REC at L is what a switched-off group published (M = the
 * mail host)? */
static int off_ours(const struct pdns_sync_in *in, const struct pdns_rrset *l,
                    const char *rec, const char *m)
{
    char    name[400], want[400], f[32];

    for (size_t i = 0; i < sizeof off_rules / sizeof *off_rules; i++) {
        const struct off_rule *r = &off_rules[i];

        snprintf(name, sizeof name, "%s.%s.", r->name, in->domain);
        if (conf_list_has(in->conf->dns_publish, r->group) || strcasecmp(name, l->name)
            || strcasecmp(r->type, l->type))
            continue;
        if (r->kind == OFF_TXT) {
            pdns_txt_family(rec, f, sizeof f);
            return !strcmp(f, r->family);
        }
        if (r->kind == OFF_CNAME)
            return snprintf(want, sizeof want, "%s.", m), pdns_rec_equal("CNAME", rec, want);
        snprintf(want, sizeof want, "0 1 %d %s.", r->port, m);
        return pdns_rec_equal("SRV", rec, want) || pdns_rec_equal("SRV", rec, "0 0 0 .");
    }
    return 0;
}

/* retired_name - L is the TXT of one of the store's retired selectors. */
static int retired_name(const struct pdns_sync_in *in, const struct pdns_rrset *l)
{
    char    name[320];

    for (size_t i = 0; i < in->nsel && !strcasecmp(l->type, "TXT"); i++) {
        snprintf(name, sizeof name, "%s._domainkey.%s.", in->sel[i].name, in->domain);
        if (in->sel[i].state == DKIM_RETIRED && !strcasecmp(name, l->name))
            return 1;
    }
    return 0;
}

/* adopt - P for a zone without memos: see the header. */
static void adopt(const struct pdns_sync_in *in, const struct pdns_rrset *l,
                  const struct pdns_rrset *d, struct pdns_rrsets *p)
{
    struct pdns_rrset *rs = pdns_rrset_add(p, l->name, l->type, l->ttl, NULL);
    char    m[300];
    int     retired = retired_name(in, l);

    if (pdns_mail_host(in->conf, in->domain, m, sizeof m) < 0)
        *m = 0;
    for (size_t i = 0; i < l->n; i++)
        if ((!l->off || !l->off[i])
            && (in_rrset(d, l->type, l->rec[i]) || retired || off_ours(in, l, l->rec[i], m)))
            pdns_rrset_push(rs, l->rec[i], 0);
}

/* ---- one rrset ------------------------------------------------------------ */

struct one {
    const struct pdns_sync_in *in;
    const struct pdns_rrset *d, *l, *p; /* each may be NULL (p: empty) */
    struct rec *r;                      /* the live records */
    size_t  nr;
    char  **drifted;                    /* D's records held back by drift */
    size_t  ndrift;
};

/* classify - every live record: mxdock's, stale, or foreign. */
static void classify(struct one *o)
{
    const struct pdns_rrset *l = o->l;

    o->nr = l ? l->n : 0;
    o->r = xrealloc(NULL, (o->nr + 1) * sizeof *o->r);
    for (size_t i = 0; i < o->nr; i++) {
        struct rec *r = &o->r[i];

        r->content = l->rec[i];
        r->disabled = l->off && l->off[i];
        r->drop = r->seen = 0;
        r->kind = r->disabled ? R_FOREIGN
            : in_rrset(o->d, l->type, r->content) ? R_OURS
            : in_rrset(o->p, l->type, r->content) ? R_STALE : R_FOREIGN;
    }
}

/* blocker - the first foreign record in the slot of REC, or NULL: one
 * that displaced a published record (PUBLISHED), or in a one-per-slot
 * type any foreign record there. */
static struct rec *blocker(struct one *o, const char *rec, int published)
{
    if (!published && !one_per_slot(o->l ? o->l->type : "", rec))
        return NULL;
    for (size_t i = 0; i < o->nr; i++)
        if (o->r[i].kind == R_FOREIGN && same_slot(o->l->type, o->r[i].content, rec))
            return &o->r[i];
    return NULL;
}

/* published_gone - a record of P in REC's slot that is no longer live */
static const char *published_gone(struct one *o, const char *rec)
{
    for (size_t i = 0; o->p && i < o->p->n; i++)
        if (same_slot(o->p->type, o->p->rec[i], rec) && !in_rrset(o->l, o->p->type, o->p->rec[i]))
            return o->p->rec[i];
    return NULL;
}

/* held - is D's record REC held back by drift?  Reports it, or with force
 * marks the foreign records of its slot to go. */
static int held(struct one *o, struct pdns_plan *plan, const char *rec)
{
    const char *gone = published_gone(o, rec);
    struct rec *b = o->l ? blocker(o, rec, gone != NULL) : NULL;
    const char *type = o->d->type;

    if (b == NULL)
        return 0;
    for (size_t i = 0; i < o->nr; i++) {
        struct rec *r = &o->r[i];

        if (r->kind != R_FOREIGN || r->seen || !same_slot(type, r->content, rec))
            continue;
        r->seen = 1;
        r->drop = o->in->force;
        item(plan, PDNS_DRIFT, o->in->force, o->l, o->l->ttl, r->content, gone ? gone : rec,
             r->disabled);
    }
    if (o->in->force)
        return 0;
    if (gone) {                         /* still ours: remember it */
        o->drifted = xrealloc(o->drifted, (o->ndrift + 1) * sizeof *o->drifted);
        o->drifted[o->ndrift++] = (char *) gone;
    }
    return 1;
}

/* result - the rrset to have into OUT (name, type, records, memo). */
static void result(struct one *o, struct pdns_plan *plan, struct pdns_rrsets *out)
{
    const struct pdns_rrset *k = o->d ? o->d : o->l;
    struct pdns_rrset *rs = pdns_rrset_add(out, k->name, k->type, 0, NULL);
    struct pdns_rrset memo = {0};
    int     foreign = 0;

    for (size_t i = 0; o->d && i < o->d->n; i++) {   /* drift first: it may drop */
        const char *rec = o->d->rec[i];

        if (in_rrset(o->l, k->type, rec)) {
            pdns_rrset_push(&memo, rec, 0);
        } else if (!held(o, plan, rec)) {
            pdns_rrset_push(rs, rec, 0);
            pdns_rrset_push(&memo, rec, 0);
            item(plan, PDNS_MISSING, 1, o->d, o->d->ttl, rec, NULL, 0);
        }
    }

    for (size_t i = 0; i < o->nr; i++) {
        struct rec *r = &o->r[i];

        if (r->kind == R_STALE) {
            item(plan, PDNS_STALE, 1, o->l, o->l->ttl, r->content, NULL, 0);
        } else if (!r->drop) {
            pdns_rrset_push(rs, r->content, r->disabled);
            foreign |= r->kind == R_FOREIGN;
            if (r->kind == R_FOREIGN && !r->seen)
                item(plan, PDNS_FOREIGN, 0, o->l, o->l->ttl, r->content, NULL, r->disabled);
        }
    }
    for (size_t i = 0; i < o->ndrift; i++)
        pdns_rrset_push(&memo, o->drifted[i], 0);
    rs->ttl = foreign || !o->d ? (o->l ? o->l->ttl : 0) : o->d->ttl;
    if (memo.n > 0)
        pdns_rrset_memo_set(&memo);
    rs->memo = memo.memo;
    memo.memo = NULL;
    pdns_rrset_clear(&memo);
    free(memo.rec);
    free(memo.off);
    if (o->l && o->l->comments)
        rs->comments = json_incref(o->l->comments);
}

/* same_live - RS (to have) equals L (live): records, flags, TTL, memo. */
static int same_live(const struct pdns_rrset *rs, const struct pdns_rrset *l)
{
    if (l == NULL || rs->n != l->n || rs->ttl != l->ttl
        || strcmp(rs->memo ? rs->memo : "", l->memo ? l->memo : ""))
        return 0;
    for (size_t i = 0; i < rs->n; i++) {
        size_t  j;

        for (j = 0; j < l->n; j++)
            if (!!(rs->off && rs->off[i]) == !!(l->off && l->off[j])
                && pdns_rec_equal(rs->type, rs->rec[i], l->rec[j]))
                break;
        if (j == l->n)
            return 0;
    }
    return 1;
}

static void push_change(struct pdns_plan *plan, struct pdns_rrsets *tmp,
                        const struct pdns_rrset *l)
{
    struct pdns_change *c;
    struct pdns_rrset *rs = &tmp->v[0];

    if (rs->n == 0 && (l == NULL || (l->n == 0 && !l->memo)))
        return;                         /* nothing there, nothing wanted */
    if (same_live(rs, l))
        return;
    if (plan->ch.n == plan->ch.cap) {
        plan->ch.cap = plan->ch.cap ? 2 * plan->ch.cap : 8;
        plan->ch.v = xrealloc(plan->ch.v, plan->ch.cap * sizeof *plan->ch.v);
    }
    c = &plan->ch.v[plan->ch.n++];
    memset(c, 0, sizeof *c);
    c->kind = rs->n ? PDNS_REPLACE : PDNS_DELETE;
    c->was = l;
    c->comments = 1;
    c->want = *rs;
    memset(rs, 0, sizeof *rs);
}

static void plan_one(const struct pdns_sync_in *in, const struct pdns_rrset *d,
                     const struct pdns_rrset *l, int memos, struct pdns_plan *plan)
{
    struct pdns_rrsets p = PDNS_RRSETS_INIT, tmp = PDNS_RRSETS_INIT;
    struct one o = {in, d, l, NULL, NULL, 0, NULL, 0};

    if (l && memos)
        memo_parse(l, &p);
    else if (l)
        adopt(in, l, d, &p);
    o.p = p.n ? &p.v[0] : NULL;
    if (in->drop)
        o.d = NULL;
    if (!o.d && (!o.p || o.p->n == 0))
        goto done;                      /* neither wanted nor ever ours */
    classify(&o);
    result(&o, plan, &tmp);
    push_change(plan, &tmp, l);
done:
    free(o.r);
    free(o.drifted);
    pdns_rrsets_free(&p);
    pdns_rrsets_free(&tmp);
}

/* considered - the rrset NAME/TYPE takes part in this reconcile */
static int considered(const struct pdns_sync_in *in, const struct pdns_rrset *rs)
{
    if (!strcmp(rs->type, "SOA") || (in->drop && !strcmp(rs->type, "NS")))
        return 0;
    return !in->only || !*in->only || conf_list_has(in->only, rs->type);
}

void    pdns_plan_make(const struct pdns_sync_in *in, struct pdns_plan *plan)
{
    int     memos = 0;

    for (size_t i = 0; i < in->live->n; i++)
        memos |= in->live->v[i].memo != NULL;
    for (size_t i = 0; i < in->desired->n; i++) {
        const struct pdns_rrset *d = &in->desired->v[i];

        if (considered(in, d))
            plan_one(in, d, pdns_rrset_find(in->live, d->name, d->type), memos, plan);
    }
    for (size_t i = 0; i < in->live->n; i++) {
        const struct pdns_rrset *l = &in->live->v[i];

        if (considered(in, l) && !pdns_rrset_find(in->desired, l->name, l->type))
            plan_one(in, NULL, l, memos, plan);
    }
}

void    pdns_plan_free(struct pdns_plan *plan)
{
    for (size_t i = 0; i < plan->n; i++) {
        free(plan->v[i].name);
        free(plan->v[i].content);
        free(plan->v[i].want);
    }
    free(plan->v);
    pdns_changes_free(&plan->ch);
    memset(plan, 0, sizeof *plan);
}

size_t  pdns_plan_count(const struct pdns_plan *plan, enum pdns_reason r, int applied)
{
    size_t  n = 0;

    for (size_t i = 0; i < plan->n; i++)
        n += plan->v[i].reason == r && (applied < 0 || plan->v[i].applied == applied);
    return n;
}

/* action - what the plan does with IT */
static const char *action(const struct pdns_item *it)
{
    switch (it->reason) {
    case PDNS_MISSING:
        return "add";
    case PDNS_STALE:
        return "remove";
    case PDNS_DRIFT:
        return it->applied ? "replace" : "keep";
    default:
        return "keep";
    }
}

void    pdns_plan_print(const struct pdns_plan *plan, unsigned mask, struct strbuf *out)
{
    for (size_t i = 0; i < plan->n; i++) {
        const struct pdns_item *it = &plan->v[i];

        if (!(mask & (1u << it->reason)))
            continue;
        sb_printf(out, "%s\t%s\t%s\t%ld\t%s\t%s", pdns_reason_name(it->reason), action(it),
                  it->name, it->ttl, it->type, it->content);
        if (it->disabled)
            sb_puts(out, "\t(disabled)");
        if (it->want)
            sb_printf(out, "\tmxdock: %s", it->want);
        sb_putc(out, '\n');
    }
}

json_t *pdns_plan_json(const struct pdns_plan *plan)
{
    json_t *a = json_array();

    for (size_t i = 0; i < plan->n; i++) {
        const struct pdns_item *it = &plan->v[i];
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:b}", "reason",
                              pdns_reason_name(it->reason), "action", action(it), "name",
                              it->name, "type", it->type, "ttl", (json_int_t) it->ttl,
                              "content", it->content, "disabled", it->disabled);

        if (it->want)
            json_object_set_new(o, "mxdock", json_string(it->want));
        json_array_append_new(a, o);
    }
    return a;
}

void    pdns_rrsets_memo_all(struct pdns_rrsets *set)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->v[i].type, "SOA"))
            pdns_rrset_memo_set(&set->v[i]);
}
