/*
 * pdns_rrset.c - the rrset model and the one normal form used to compare
 * records read from PowerDNS (or from DNS) with records the builder wants.
 *
 *   pdns_rrset_add / _find / _clear / _del_rec   the set of rrsets
 *   pdns_rrsets_free / _sort
 *   pdns_norm, pdns_rec_equal      normal form, comparison
 *   pdns_txt_quote                 TXT value -> quoted strings <= 255 bytes
 *   pdns_name_abs                  relative or absolute name -> absolute
 *
 * Out of memory is a panic: these are small sets in a command-line tool.
 * Ownership: pdns_rrsets_free() frees names, records and the array.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pdns.h"
#include "log.h"

#define TXT_STRING_MAX 255

static void *xrealloc(void *p, size_t n)
{
    void   *q = realloc(p, n ? n : 1);

    if (q == NULL)
        mx_panic("out of memory");
    return q;
}

static char *xstrdup(const char *s)
{
    char   *d = strdup(s);

    if (d == NULL)
        mx_panic("out of memory");
    return d;
}

struct pdns_rrset *pdns_rrset_find(const struct pdns_rrsets *set, const char *name,
                                   const char *type)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcasecmp(set->v[i].name, name) == 0 && strcasecmp(set->v[i].type, type) == 0)
            return &set->v[i];
    return NULL;
}

struct pdns_rrset *pdns_rrset_add(struct pdns_rrsets *set, const char *name, const char *type,
                                  long ttl, const char *content)
{
    struct pdns_rrset *rs = pdns_rrset_find(set, name, type);

    if (rs == NULL) {
        if (set->n == set->cap) {
            set->cap = set->cap ? 2 * set->cap : 16;
            set->v = xrealloc(set->v, set->cap * sizeof *set->v);
        }
        rs = &set->v[set->n++];
        memset(rs, 0, sizeof *rs);
        rs->name = xstrdup(name);
        for (char *p = rs->name; *p; p++)
            *p = (char) tolower((unsigned char) *p);
        snprintf(rs->type, sizeof rs->type, "%s", type);
        for (char *p = rs->type; *p; p++)
            *p = (char) toupper((unsigned char) *p);
        rs->ttl = ttl;
    }
    if (content == NULL)
        return rs;
    for (size_t i = 0; i < rs->n; i++)
        if (pdns_rec_equal(rs->type, rs->rec[i], content))
            return rs;
    pdns_rrset_push(rs, content, 0);
    return rs;
}

void    pdns_rrset_push(struct pdns_rrset *rs, const char *content, int disabled)
{
    rs->rec = xrealloc(rs->rec, (rs->n + 1) * sizeof *rs->rec);
    if (rs->off || disabled) {
        int     fresh = rs->off == NULL;

        rs->off = xrealloc(rs->off, rs->n + 1);
        if (fresh)
            memset(rs->off, 0, rs->n);
        rs->off[rs->n] = (unsigned char) (disabled != 0);
    }
    rs->rec[rs->n++] = xstrdup(content);
}

void    pdns_rrset_memo_set(struct pdns_rrset *rs)
{
    struct strbuf m = STRBUF_INIT;

    for (size_t i = 0; i < rs->n; i++)
        if (!rs->off || !rs->off[i])
            sb_printf(&m, "%s%s", m.len ? "\n" : "", rs->rec[i]);
    free(rs->memo);
    rs->memo = xstrdup(sb_str(&m));
    sb_free(&m);
}

void    pdns_rrset_del_rec(struct pdns_rrset *rs, size_t i)
{
    free(rs->rec[i]);
    memmove(rs->rec + i, rs->rec + i + 1, (rs->n - i - 1) * sizeof *rs->rec);
    if (rs->off)
        memmove(rs->off + i, rs->off + i + 1, rs->n - i - 1);
    rs->n--;
}

void    pdns_rrset_clear(struct pdns_rrset *rs)
{
    while (rs->n > 0)
        pdns_rrset_del_rec(rs, rs->n - 1);
}

void    pdns_rrsets_free(struct pdns_rrsets *set)
{
    for (size_t i = 0; i < set->n; i++) {
        pdns_rrset_clear(&set->v[i]);
        free(set->v[i].rec);
        free(set->v[i].name);
        free(set->v[i].off);
        free(set->v[i].memo);
        json_decref(set->v[i].comments);
    }
    free(set->v);
    memset(set, 0, sizeof *set);
}

static int cmp_rrset(const void *a, const void *b)
{
    const struct pdns_rrset *x = a, *y = b;
    int     c = strcmp(x->name, y->name);

    return c ? c : strcmp(x->type, y->type);
}

void    pdns_rrsets_sort(struct pdns_rrsets *set)
{
    if (set->n > 1)
        qsort(set->v, set->n, sizeof *set->v, cmp_rrset);
}

/* txt_join - quoted character-strings joined, escapes undone.  Unquoted
 * input is taken as it is. */
static void txt_join(const char *s, struct strbuf *out)
{
    if (*s != '"') {
        sb_puts(out, s);
        return;
    }
    while (*s) {
        if (*s != '"') {
            s++;
            continue;
        }
        for (s++; *s && *s != '"'; s++) {
            if (*s == '\\' && isdigit((unsigned char) s[1]) && isdigit((unsigned char) s[2])
                && isdigit((unsigned char) s[3])) {
                sb_putc(out, (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0'));
                s += 3;
            } else {
                if (*s == '\\' && s[1])
                    s++;
                sb_putc(out, *s);
            }
        }
        if (*s == '"')
            s++;
    }
}

/* norm_words - word by word: the name fields lowercase with a trailing
 * dot, hex fields lowercase and glued, single spaces. */
static void norm_words(const char *type, const char *s, struct strbuf *out)
{
    int     idx = 0;
    int     name_at = -1, hex_from = 99, lower_all = 0;

    if (!strcasecmp(type, "NS") || !strcasecmp(type, "CNAME") || !strcasecmp(type, "PTR"))
        name_at = 0;
    else if (!strcasecmp(type, "MX"))
        name_at = 1;
    else if (!strcasecmp(type, "SRV"))
        name_at = 3;
    else if (!strcasecmp(type, "TLSA") || !strcasecmp(type, "DS"))
        hex_from = 3;
    else if (!strcasecmp(type, "SOA"))
        lower_all = 1;
    while (*s) {
        const char *w;
        size_t  l;

        while (isspace((unsigned char) *s))
            s++;
        if (!*s)
            break;
        for (w = s; *s && !isspace((unsigned char) *s); s++)
            ;
        l = (size_t) (s - w);
        if (idx > 0 && idx <= hex_from)
            sb_putc(out, ' ');      /* hex data split by spaces is glued */
        for (size_t i = 0; i < l; i++)
            sb_putc(out, idx == name_at || idx >= hex_from || (lower_all && idx < 2)
                    ? tolower((unsigned char) w[i]) : w[i]);
        if ((idx == name_at || (lower_all && idx < 2)) && (l == 0 || w[l - 1] != '.'))
            sb_putc(out, '.');
        idx++;
    }
}

void    pdns_norm(const char *type, const char *content, struct strbuf *out)
{
    unsigned char bin[16];
    char    addr[INET6_ADDRSTRLEN];
    if (!strcasecmp(type, "TXT") || !strcasecmp(type, "SPF")) {
        txt_join(content, out);
    } else if (!strcasecmp(type, "AAAA") && inet_pton(AF_INET6, content, bin) == 1) {
        sb_puts(out, inet_ntop(AF_INET6, bin, addr, sizeof addr));
    } else if (!strcasecmp(type, "A") && inet_pton(AF_INET, content, bin) == 1) {
        sb_puts(out, inet_ntop(AF_INET, bin, addr, sizeof addr));
    } else {
        norm_words(type, content, out);
    }
}

int     pdns_rec_equal(const char *type, const char *a, const char *b)
{
    struct strbuf x = STRBUF_INIT, y = STRBUF_INIT;
    int     eq;

    pdns_norm(type, a, &x);
    pdns_norm(type, b, &y);
    eq = strcmp(sb_str(&x), sb_str(&y)) == 0;
    sb_free(&x);
    sb_free(&y);
    return eq;
}

void    pdns_txt_quote(const char *value, struct strbuf *out)
{
    size_t  len = strlen(value), off = 0;

    do {
        size_t  n = len - off > TXT_STRING_MAX ? TXT_STRING_MAX : len - off;

        if (off > 0)
            sb_putc(out, ' ');
        sb_putc(out, '"');
        for (size_t i = 0; i < n; i++) {
            if (value[off + i] == '"' || value[off + i] == '\\')
                sb_putc(out, '\\');
            sb_putc(out, value[off + i]);
        }
        sb_putc(out, '"');
        off += n;
    } while (off < len);
}

void    pdns_name_abs(const char *name, const char *zone, struct strbuf *out)
{
    size_t  start = out->len, nl = strlen(name), zl = strlen(zone);

    if (nl == 0 || strcmp(name, "@") == 0) {
        sb_puts(out, zone);
    } else if (name[nl - 1] == '.') {
        sb_append(out, name, nl - 1);
    } else if ((nl == zl && !strcasecmp(name, zone))
               || (nl > zl && name[nl - zl - 1] == '.' && !strcasecmp(name + nl - zl, zone))) {
        sb_puts(out, name);
    } else {
        sb_printf(out, "%s.%s", name, zone);
    }
    sb_putc(out, '.');
    for (size_t i = start; i < out->len; i++)
        out->s[i] = (char) tolower((unsigned char) out->s[i]);
}
