/*
 * dkim_tags.c - parse and check the tags of one DKIM-Signature (RFC 6376
 * 3.2 tag-list, 3.5 tag syntax, 6.1.1 validation) before a verifier sees
 * it.  libopendkim drops white space inside values ("d=sig. example"
 * becomes "sig.example") and looks up keys for selectors that are no
 * domain name ("s=r(s)a", a temperror): both are refused here.
 *
 *   dkim_tags_list    VALUE -> tag names and values (pointers into VALUE)
 *   dkim_tags_get     one tag by name
 *   dkim_tags_parse   the whole check: OK, SYNTAX, UNUSABLE or REFUSED
 *   dkim_tags_bhash   the key matching a signature to a verifier's copy
 *
 * Leniency, on purpose: s= may hold '_' (selectors such as "s_1" exist
 * and no key lookup breaks on them); d= and i= may hold UTF-8 (RFC 8616).
 * Reasons (T->why) are fixed texts and tag names, never message bytes.
 * Pure functions: no allocation, no I/O.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dkim_tags.h"

static int is_ws(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static const char *skip_ws(const char *p)
{
    while (is_ws((unsigned char) *p))
        p++;
    return p;
}

static int fail(struct dkim_tags *t, enum dkim_tags_st st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* fail - status ST with the reason FMT (fixed text and tag names) */
static int fail(struct dkim_tags *t, enum dkim_tags_st st, const char *fmt, ...)
{
    va_list ap;

    t->st = st;
    va_start(ap, fmt);
    vsnprintf(t->why, sizeof(t->why), fmt, ap);
    va_end(ap);
    return -1;
}

/* read_spec - one tag-spec at *P into T; -1 on a syntax error */
static int read_spec(const char **pp, struct dkim_tags *t)
{
    const char *p = skip_ws(*pp), *v, *e;
    struct dkim_tag *tg = &t->tag[t->n];
    size_t  nl = 0;

    if (!is_alpha((unsigned char) *p))
        return fail(t, DKIM_TAGS_SYNTAX, "%s", "syntax: bad tag name");
    while (is_alpha((unsigned char) p[nl]) || is_digit((unsigned char) p[nl]) || p[nl] == '_')
        nl++;
    if (nl >= sizeof(tg->name))
        return fail(t, DKIM_TAGS_SYNTAX, "%s", "syntax: tag name too long");
    memcpy(tg->name, p, nl);
    tg->name[nl] = 0;
    p = skip_ws(p + nl);
    if (*p != '=')
        return fail(t, DKIM_TAGS_SYNTAX, "syntax: no '=' after %s", tg->name);
    v = p = skip_ws(p + 1);
    for (; *p && *p != ';'; p++)
        if ((unsigned char) *p < 0x21 && !is_ws((unsigned char) *p))
            return fail(t, DKIM_TAGS_SYNTAX, "syntax: control character in %s=", tg->name);
    for (e = p; e > v && is_ws((unsigned char) e[-1]); e--)
        ;
    if (dkim_tags_get(t, tg->name))
        return fail(t, DKIM_TAGS_SYNTAX, "syntax: duplicate %s=", tg->name);
    tg->v = v;
    tg->len = (size_t) (e - v);
    t->n++;
    *pp = *p == ';' ? p + 1 : p;
    return 0;
}

int     dkim_tags_list(const char *value, struct dkim_tags *t)
{
    const char *p = value ? value : "";

    t->n = 0;
    t->st = DKIM_TAGS_OK;
    t->why[0] = 0;
    while (*skip_ws(p)) {
        if (t->n >= DKIM_TAGS_MAX)
            return fail(t, DKIM_TAGS_SYNTAX, "%s", "syntax: too many tags");
        if (read_spec(&p, t) != 0)
            return -1;
    }
    return 0;
}

const struct dkim_tag *dkim_tags_get(const struct dkim_tags *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->tag[i].name, name) == 0)
            return &t->tag[i];
    return 0;
}

uint64_t dkim_tags_bhash(const char *s, size_t len)
{
    uint64_t h = 14695981039346656037ULL;

    for (size_t i = 0; i < len; i++)
        if (!is_ws((unsigned char) s[i])) {
            h ^= (unsigned char) s[i];
            h *= 1099511628211ULL;
        }
    return h;
}

/* is_name - LEN bytes of V are a domain name (RFC 5321 sub-domains) of at
 * least MINLABELS labels; '_' allowed when UNDERSCORE */
static int is_name(const char *v, size_t len, int minlabels, int underscore)
{
    size_t  labels = 0, ll = 0;

    if (len == 0 || len > 253)
        return 0;
    for (size_t i = 0; i <= len; i++) {
        unsigned char c = i < len ? (unsigned char) v[i] : '.';

        if (c == '.') {
            if (ll == 0 || ll > 63 || v[i - 1] == '-' || v[i - ll] == '-')
                return 0;
            labels++, ll = 0;
        } else if (is_alpha(c) || is_digit(c) || c >= 0x80 || c == '-' || (underscore && c == '_')) {
            ll++;
        } else {
            return 0;
        }
    }
    return labels >= (size_t) minlabels;
}

/* is_b64 - base64 with folding white space, at most two '=' at the end */
static int is_b64(const char *v, size_t len)
{
    size_t  chars = 0, pad = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) v[i];

        if (is_ws(c))
            continue;
        if (c == '=')
            pad++;
        else if (pad || !(is_alpha(c) || is_digit(c) || c == '+' || c == '/'))
            return 0;
        else
            chars++;
    }
    return chars > 0 && pad <= 2;
}

static int is_digits(const char *v, size_t len, size_t max)
{
    for (size_t i = 0; i < len; i++)
        if (!is_digit((unsigned char) v[i]))
            return 0;
    return len > 0 && len <= max;
}

/* is_word - a hyphenated-word or x-token: ALPHA then ALPHA, DIGIT, '-' */
static int is_word(const char *v, size_t len)
{
    if (len == 0 || !is_alpha((unsigned char) v[0]) || v[len - 1] == '-')
        return 0;
    for (size_t i = 1; i < len; i++)
        if (!is_alpha((unsigned char) v[i]) && !is_digit((unsigned char) v[i]) && v[i] != '-')
            return 0;
    return 1;
}

/* list_ok - SEP-separated elements, white space around them, each
 * accepted by OK (a field name, a q= method); -1 on a syntax error, else
 * whether an element equals WANT (case-insensitive; NULL = don't care) */
static int list_ok(const char *v, size_t len, int sep, int (*ok)(const char *, size_t),
                   const char *want)
{
    int     found = 0;
    size_t  i = 0;

    while (i <= len) {
        size_t  a = i, b;

        while (a < len && is_ws((unsigned char) v[a]))
            a++;
        for (b = a; b < len && v[b] != sep && !is_ws((unsigned char) v[b]); b++)
            ;
        if (!ok(v + a, b - a))
            return -1;
        found |= want && strlen(want) == b - a && strncasecmp(v + a, want, b - a) == 0;
        for (i = b; i < len && is_ws((unsigned char) v[i]); i++)
            ;
        if (i < len && v[i] != sep)
            return -1;
        i++;
    }
    return found;
}

static int is_field(const char *v, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char) v[i] < 0x21 || (unsigned char) v[i] > 0x7e || v[i] == ':')
            return 0;
    return len > 0;
}

/* is_pair - WORD ["/" WORD]: a q= method or a c= value (known or not) */
static int is_pair(const char *v, size_t len)
{
    const char *slash = memchr(v, '/', len);

    return slash ? is_word(v, (size_t) (slash - v)) && is_word(slash + 1, len - (size_t) (slash - v) - 1)
        : is_word(v, len);
}

/* known_canon - every part of c= is simple or relaxed */
static int known_canon(const char *v, size_t len)
{
    const char *slash = memchr(v, '/', len);
    size_t  hl = slash ? (size_t) (slash - v) : len;
    int     ok = (hl == 6 && strncasecmp(v, "simple", 6) == 0)
        || (hl == 7 && strncasecmp(v, "relaxed", 7) == 0);

    return ok && (slash == 0 || known_canon(slash + 1, len - hl - 1));
}

/* is_alg - a= syntax: ALPHA *(ALPHA / DIGIT) "-" ALPHA *(ALPHA / DIGIT) */
static int is_alg(const char *v, size_t len)
{
    const char *dash = memchr(v, '-', len);

    return dash && is_word(v, (size_t) (dash - v)) && !memchr(v, '-', (size_t) (dash - v))
        && is_word(dash + 1, len - (size_t) (dash - v) - 1)
        && !memchr(dash + 1, '-', len - (size_t) (dash - v) - 1);
}

/* within - domain D (LEN bytes) is DOM or a subdomain of it */
static int within(const char *d, size_t len, const char *dom)
{
    size_t  dl = strlen(dom);

    return len >= dl && strncasecmp(d + len - dl, dom, dl) == 0
        && (len == dl || d[len - dl - 1] == '.');
}

static int is_i(const char *v, size_t len)
{
    const char *at = len ? memrchr(v, '@', len) : 0;

    for (size_t i = 0; i < len; i++)
        if (is_ws((unsigned char) v[i]))
            return 0;
    return at && is_name(at + 1, len - (size_t) (at - v) - 1, 1, 0);
}

/* i_within - the domain of i= (syntax checked: it has an '@') is D or
 * below it (RFC 6376 3.5 i=) */
static int i_within(const struct dkim_tag *i, const char *d)
{
    const char *at = memrchr(i->v, '@', i->len);

    return at && within(at + 1, i->len - (size_t) (at + 1 - i->v), d);
}

static void copy(char *out, size_t outlen, const struct dkim_tag *tg)
{
    snprintf(out, outlen, "%.*s", (int) (tg->len < outlen ? tg->len : outlen - 1), tg->v);
}

/* check_syntax - every known tag present has its RFC 6376 3.5 syntax;
 * the values kept in T (d, s, b8, bhash) are those that do */
static int check_syntax(struct dkim_tags *t)
{
    static const char *const digits[] = {"l", "t", "x"};
    const struct dkim_tag *tg;

    const struct dkim_tag *d = dkim_tags_get(t, "d"), *s = dkim_tags_get(t, "s");
    int     d_ok = d == 0 || is_name(d->v, d->len, 2, 0);
    int     s_ok = s == 0 || (s->len < sizeof(t->s) && is_name(s->v, s->len, 1, 1));

    if (d && d_ok)
        copy(t->d, sizeof(t->d), d);
    if (s && s_ok)
        copy(t->s, sizeof(t->s), s);
    if (!d_ok)
        return fail(t, DKIM_TAGS_SYNTAX, "%s", "syntax: d= is not a domain name");
    if (!s_ok)
        return fail(t, DKIM_TAGS_SYNTAX, "%s", "syntax: s= is not a selector");
    for (size_t i = 0; i < sizeof(digits) / sizeof(digits[0]); i++)
        if ((tg = dkim_tags_get(t, digits[i])) && !is_digits(tg->v, tg->len, *digits[i] == 'l' ? 76 : 12))
            return fail(t, DKIM_TAGS_SYNTAX, "syntax: %s= is not a number", digits[i]);
    if ((tg = dkim_tags_get(t, "v")) && !is_digits(tg->v, tg->len, 8))
        return fail(t, DKIM_TAGS_SYNTAX, "%s", "syntax: bad v=");
    if ((tg = dkim_tags_get(t, "b")) && !is_b64(tg->v, tg->len))
        return fail(t, DKIM_TAGS_SYNTAX, "%s", "syntax: b= is not base64");
    for (size_t i = 0, o = 0; tg && i < tg->len && o < 8; i++)
        if (!is_ws((unsigned char) tg->v[i]))
            t->b8[o++] = tg->v[i];
    t->bhash = tg ? dkim_tags_bhash(tg->v, tg->len) : 0;
    if ((tg = dkim_tags_get(t, "bh")) && !is_b64(tg->v, tg->len))
        return fail(t, DKIM_TAGS_SYNTAX, "%s", "syntax: bh= is not base64");
    if ((tg = dkim_tags_get(t, "a")) && !is_alg(tg->v, tg->len))
        return fail(t, DKIM_TAGS_SYNTAX, "%s", "syntax: bad a=");
    if ((tg = dkim_tags_get(t, "c")) && !is_pair(tg->v, tg->len))
        return fail(t, DKIM_TAGS_SYNTAX, "%s", "syntax: bad c=");
    if ((tg = dkim_tags_get(t, "h")) && list_ok(tg->v, tg->len, ':', is_field, 0) < 0)
        return fail(t, DKIM_TAGS_SYNTAX, "%s", "syntax: bad h=");
    if ((tg = dkim_tags_get(t, "q")) && list_ok(tg->v, tg->len, ':', is_pair, 0) < 0)
        return fail(t, DKIM_TAGS_SYNTAX, "%s", "syntax: bad q=");
    if ((tg = dkim_tags_get(t, "i")) && !is_i(tg->v, tg->len))
        return fail(t, DKIM_TAGS_SYNTAX, "%s", "syntax: bad i=");
    return 0;
}

static unsigned long long number(const struct dkim_tag *tg)
{
    unsigned long long n = 0;

    for (size_t i = 0; i < tg->len; i++)
        n = n * 10 + (unsigned) (tg->v[i] - '0');
    return n;
}

/* known_alg - a= into T->a when it names an algorithm we know (its own
 * syntax is all it needs: header.a is reported even when other tags fail) */
static void known_alg(struct dkim_tags *t)
{
    static const char *const known[] = {"rsa-sha256", "ed25519-sha256", "rsa-sha1"};
    const struct dkim_tag *a = dkim_tags_get(t, "a");

    for (size_t i = 0; a && i < sizeof(known) / sizeof(known[0]); i++)
        if (a->len == strlen(known[i]) && strncasecmp(a->v, known[i], a->len) == 0)
            snprintf(t->a, sizeof(t->a), "%s", known[i]);
}

/* check_meaning - RFC 6376 6.1.1: required tags, version, i= within d=,
 * From signed, x= after t= and not past, known c= and q= */
static int check_meaning(struct dkim_tags *t, time_t now)
{
    static const char *const required[] = {"v", "a", "b", "bh", "d", "h", "s"};
    const struct dkim_tag *tg, *x;

    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        if (dkim_tags_get(t, required[i]) == 0)
            return fail(t, DKIM_TAGS_UNUSABLE, "missing required tag %s=", required[i]);
    if (number(dkim_tags_get(t, "v")) != 1)
        return fail(t, DKIM_TAGS_UNUSABLE, "%s", "unsupported version v=");
    if ((tg = dkim_tags_get(t, "i")) && !i_within(tg, t->d))
        return fail(t, DKIM_TAGS_UNUSABLE, "%s", "i= is not within d=");
    tg = dkim_tags_get(t, "h");
    if (list_ok(tg->v, tg->len, ':', is_field, "from") != 1)
        return fail(t, DKIM_TAGS_UNUSABLE, "%s", "From is not signed: not in h=");
    if ((tg = dkim_tags_get(t, "c")) && !known_canon(tg->v, tg->len))
        return fail(t, DKIM_TAGS_UNUSABLE, "%s", "unknown canonicalization c=");
    if ((tg = dkim_tags_get(t, "q")) && list_ok(tg->v, tg->len, ':', is_pair, "dns/txt") != 1)
        return fail(t, DKIM_TAGS_UNUSABLE, "%s", "no known query method q=");
    x = dkim_tags_get(t, "x");
    if (x && number(x) < (unsigned long long) now)
        return fail(t, DKIM_TAGS_UNUSABLE, "%s", "signature expired: x= is past");
    if (x && (tg = dkim_tags_get(t, "t")) && number(x) <= number(tg))
        return fail(t, DKIM_TAGS_UNUSABLE, "%s", "x= is not after t=");
    if (t->a[0] == 0)
        return fail(t, DKIM_TAGS_UNUSABLE, "%s", "unknown algorithm a=");
    if (strcmp(t->a, "rsa-sha1") == 0)
        return fail(t, DKIM_TAGS_REFUSED, "%s", "rsa-sha1 not accepted");
    return 0;
}

enum dkim_tags_st dkim_tags_parse(const char *value, time_t now, struct dkim_tags *t)
{
    memset(t, 0, sizeof(*t));
    if (dkim_tags_list(value, t) != 0)
        return t->st;
    known_alg(t);
    if (check_syntax(t) == 0)
        (void) check_meaning(t, now);
    return t->st;
}
