/*
 * dmarc_record.c - the DMARC policy record (RFC 7489 6.3, 6.4; RFC 9989
 * 4.7: np=, t=, psd=).
 *
 *   mxdmarc_is_dmarc      does a TXT record start with v=DMARC1?
 *   mxdmarc_record_parse  tag=value list into struct mxdmarc_record
 *
 * Unknown tags are ignored; a bad adkim/aspf/pct falls back to its
 * default; a missing or bad p=, or a bad sp=/np=, makes the record
 * p=none when rua= names a URI and unusable otherwise (RFC 7489 6.6.3,
 * RFC 9989 4.10.1).  psd= is filled even when the record is unusable, as
 * the tree walk stops at it all the same.  pct= is read for the RFC 7489
 * mode (dmarc_org_domain = psl) only.  Tag names are case-insensitive, as most publishers
 * and receivers treat them.  Nothing is allocated; nothing logged.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dmarc.h"

struct tag {
    char    name[16];
    const char *val;
    size_t  vlen;
};

static const char *skip_wsp(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
        s++;
    return s;
}

/* trim_end - END moved back over white space down to S. */
static const char *trim_end(const char *s, const char *end)
{
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
        end--;
    return end;
}

int     mxdmarc_is_dmarc(const char *txt)
{
    const char *end = txt + strlen(txt);
    const char *s = skip_wsp(txt, end);

    if (s >= end || (*s != 'v' && *s != 'V'))
        return 0;
    s = skip_wsp(s + 1, end);
    if (s >= end || *s != '=')
        return 0;
    s = skip_wsp(s + 1, end);
    if ((size_t) (end - s) < 6 || strncmp(s, "DMARC1", 6) != 0)
        return 0;
    s = skip_wsp(s + 6, end);
    return s == end || *s == ';';
}

/* next_tag - the tag at *CURSOR; 1 found, 0 at the end, -1 malformed. */
static int next_tag(const char **cursor, const char *end, struct tag *t)
{
    const char *s = *cursor, *semi, *eq, *ne;

    while (s < end && (*s == ';' || *s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
        s++;
    if (s >= end)
        return 0;
    semi = memchr(s, ';', (size_t) (end - s));
    if (semi == NULL)
        semi = end;
    *cursor = semi;
    eq = memchr(s, '=', (size_t) (semi - s));
    if (eq == NULL || eq == s)
        return -1;
    ne = trim_end(s, eq);
    if ((size_t) (ne - s) >= sizeof t->name)
        return -1;
    memcpy(t->name, s, (size_t) (ne - s));
    t->name[ne - s] = 0;
    t->val = skip_wsp(eq + 1, semi);
    t->vlen = (size_t) (trim_end(t->val, semi) - t->val);
    return 1;
}

static int val_is(const struct tag *t, const char *word)
{
    return t->vlen == strlen(word) && strncasecmp(t->val, word, t->vlen) == 0;
}

/* policy_of - none/quarantine/reject, or -1. */
static int policy_of(const struct tag *t)
{
    if (val_is(t, "none"))
        return MXDMARC_P_NONE;
    if (val_is(t, "quarantine"))
        return MXDMARC_P_QUARANTINE;
    if (val_is(t, "reject"))
        return MXDMARC_P_REJECT;
    return -1;
}

/* rua_has_uri - does rua= list one URI (scheme ":" ...)? */
static int rua_has_uri(const char *v, size_t len)
{
    size_t  i = 0;

    while (i < len) {
        size_t  j = i;

        while (j < len && (v[j] == ' ' || v[j] == '\t'))
            j++;
        if (j < len && isalpha((unsigned char) v[j])) {
            while (j < len && (isalnum((unsigned char) v[j]) || strchr("+.-", v[j])))
                j++;
            if (j < len && v[j] == ':')
                return 1;
        }
        while (i < len && v[i] != ',')
            i++;
        i++;
    }
    return 0;
}

/* copy_val - the value of T into OUT, cut to fit */
static void copy_val(const struct tag *t, char *out, size_t outlen)
{
    size_t  n = t->vlen < outlen - 1 ? t->vlen : outlen - 1;

    memcpy(out, t->val, n);
    out[n] = 0;
}

/* apply - one tag into R; BAD counts policy tags with bad values. */
static void apply(const struct tag *t, struct mxdmarc_record *r, int *bad, int *has_p)
{
    int     pol;

    if (strcasecmp(t->name, "p") == 0 || strcasecmp(t->name, "sp") == 0
        || strcasecmp(t->name, "np") == 0) {
        if ((pol = policy_of(t)) < 0) {
            (*bad)++;
            return;
        }
        if (strcasecmp(t->name, "p") == 0) {
            r->p = (enum mxdmarc_policy) pol;
            *has_p = 1;
        } else if (strcasecmp(t->name, "sp") == 0) {
            r->sp = (enum mxdmarc_policy) pol;
        } else {
            r->np = (enum mxdmarc_policy) pol;
        }
    } else if (strcasecmp(t->name, "adkim") == 0 || strcasecmp(t->name, "aspf") == 0) {
        char   *mode = strcasecmp(t->name, "adkim") == 0 ? &r->adkim : &r->aspf;

        if (val_is(t, "s") || val_is(t, "r"))
            *mode = (char) tolower((unsigned char) t->val[0]);
    } else if (strcasecmp(t->name, "pct") == 0) {
        char    num[8];
        char   *e;
        long    v;

        if (t->vlen == 0 || t->vlen >= sizeof num)
            return;
        memcpy(num, t->val, t->vlen);
        num[t->vlen] = 0;
        v = strtol(num, &e, 10);
        if (*e == 0 && v >= 0 && v <= 100 && isdigit((unsigned char) num[0]))
            r->pct = (int) v;
    } else if (strcasecmp(t->name, "t") == 0) {
        r->testing = val_is(t, "y");
    } else if (strcasecmp(t->name, "psd") == 0) {
        /* RFC 9989 4.7: y, n or u; anything else is u (the default) */
        r->psd = val_is(t, "y") ? 'y' : val_is(t, "n") ? 'n' : 'u';
    } else if (strcasecmp(t->name, "rua") == 0) {
        copy_val(t, r->rua, sizeof r->rua);
        r->has_rua = rua_has_uri(t->val, t->vlen);
    } else if (strcasecmp(t->name, "ruf") == 0) {
        copy_val(t, r->ruf, sizeof r->ruf);
    } else if (strcasecmp(t->name, "fo") == 0 && t->vlen < sizeof r->fo) {
        copy_val(t, r->fo, sizeof r->fo);
    }
}

int     mxdmarc_record_parse(const char *txt, struct mxdmarc_record *r)
{
    const char *cursor, *end = txt + strlen(txt);
    struct tag t;
    int     bad = 0, has_p = 0, rc;

    memset(r, 0, sizeof *r);
    r->adkim = r->aspf = 'r';
    r->pct = 100;
    r->psd = 'u';
    strcpy(r->fo, "0");
    if (!mxdmarc_is_dmarc(txt))
        return -1;
    cursor = memchr(txt, '=', (size_t) (end - txt));
    cursor = cursor ? memchr(cursor, ';', (size_t) (end - cursor)) : NULL;
    if (cursor == NULL)
        cursor = end;
    while ((rc = next_tag(&cursor, end, &t)) != 0)
        if (rc > 0)
            apply(&t, r, &bad, &has_p);
    if (has_p && bad == 0)
        return 0;
    if (!r->has_rua)
        return -1;
    r->p = MXDMARC_P_NONE;      /* RFC 7489 6.6.3: bad policy, rua= valid */
    r->sp = r->np = MXDMARC_P_UNSET;
    return 0;
}
