/*
 * spf_record.c - an SPF record checked against RFC 7208's ABNF and parsed
 * into terms, before anything is evaluated (RFC 7208 4.6: a syntax error
 * anywhere makes the whole record a permerror).  This is what libspf2's
 * compiler gets wrong: /0 prefixes, domain-spec top labels, modifier names,
 * duplicate or misplaced modifiers, bad macros, bytes that are not ASCII.
 *
 *   mxspf_record_is_spf  does a TXT string start an SPF record ("v=spf1")
 *   mxspf_record_parse   validate and parse; 0, or -1 with the reason
 *   mxspf_macro_check    validate a macro-string (or domain-spec)
 *
 * Ownership: the caller's struct spf_record holds the text and terms.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "spf_int.h"

/* mxspf_record_is_spf - "v=spf1" followed by a space or the end */
int     mxspf_record_is_spf(const char *txt, size_t len)
{
    return len >= 6 && strncasecmp(txt, "v=spf1", 6) == 0 && (len == 6 || txt[6] == ' ');
}

/* toplabel_ok - RFC 7208 toplabel: alphanumerics and '-', not all digits,
 * no '-' at either end */
static int toplabel_ok(const char *s, size_t n)
{
    size_t  i;
    int     alpha = 0;

    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
        return 0;
    for (i = 0; i < n; i++) {
        if (isalpha((unsigned char) s[i]))
            alpha = 1;
        else if (!isdigit((unsigned char) s[i]) && s[i] != '-')
            return 0;
    }
    return alpha || memchr(s, '-', n) != NULL;
}

/* mxspf_macro_check - S (LEN bytes) is a macro-string; WANT_DOMAIN: it is a
 * domain-spec (ends in "." toplabel ["."] or a macro-expand).  c, r, t only
 * IN_EXP.  0 when valid. */
int     mxspf_macro_check(const char *s, size_t len, int in_exp, int want_domain)
{
    size_t  i = 0, last_macro_end = (size_t) -1;

    while (i < len) {
        unsigned char ch = (unsigned char) s[i];

        if (ch != '%') {
            if ((ch < 0x21 && !(in_exp && ch == ' ')) || ch > 0x7e)
                return -1;
            i++;
            continue;
        }
        if (i + 1 >= len)
            return -1;
        if (strchr("%_-", s[i + 1]) && s[i + 1]) {
            i += 2;
            last_macro_end = i;
            continue;
        }
        if (s[i + 1] != '{' || i + 2 >= len)
            return -1;
        ch = (unsigned char) tolower((unsigned char) s[i + 2]);
        if (!strchr("slodiphv", ch) || ch == 0) {
            if (!(in_exp && ch && strchr("crt", ch)))
                return -1;
        }
        i += 3;
        while (i < len && isdigit((unsigned char) s[i]))
            i++;
        if (i < len && tolower((unsigned char) s[i]) == 'r')
            i++;
        while (i < len && strchr(".-+,/_=", s[i]) && s[i])
            i++;
        if (i >= len || s[i] != '}')
            return -1;
        i++;
        last_macro_end = i;
    }
    if (!want_domain)
        return 0;
    if (len == 0)
        return -1;
    if (last_macro_end == len)
        return 0;
    if (s[len - 1] == '.')
        len--;
    for (i = len; i > 0 && s[i - 1] != '.'; i--)
        ;
    if (i == 0 || (last_macro_end != (size_t) -1 && last_macro_end > i))
        return -1;
    return toplabel_ok(s + i, len - i) ? 0 : -1;
}

/* cidr - "/N" with N in 0..MAX, no leading zero; advances *P */
static int cidr(const char **p, const char *end, int max)
{
    const char *s = *p + 1;
    int     n = 0, digits = 0;

    while (s < end && isdigit((unsigned char) *s) && digits < 4) {
        n = n * 10 + (*s++ - '0');
        digits++;
    }
    if (digits == 0 || (digits > 1 && (*p)[1] == '0') || n > max)
        return -1;
    *p = s;
    return n;
}

/* dual_cidr - [ "/" ip4 ] [ "//" ip6 ] at the end of a term */
static int dual_cidr(struct spf_term *t, const char *p, const char *end)
{
    int     n;

    if (p < end && *p == '/' && (p + 1 >= end || p[1] != '/')) {
        if ((n = cidr(&p, end, 32)) < 0)
            return -1;
        t->cidr4 = (unsigned char) n;
    }
    if (p + 1 < end && p[0] == '/' && p[1] == '/') {
        p++;
        if ((n = cidr(&p, end, 128)) < 0)
            return -1;
        t->cidr6 = (unsigned char) n;
    }
    return p == end ? 0 : -1;
}

/* ip_term - ip4:ADDR[/N] or ip6:ADDR[/N] */
static int ip_term(struct spf_term *t, const char *p, const char *end)
{
    char    addr[64];
    const char *slash = memchr(p, '/', (size_t) (end - p));
    size_t  n = (size_t) ((slash ? slash : end) - p);
    int     v6 = t->mech == SPF_M_IP6, c;

    if (n == 0 || n >= sizeof addr)
        return -1;
    memcpy(addr, p, n);
    addr[n] = 0;
    if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, t->addr) != 1)
        return -1;
    if (slash) {
        if ((c = cidr(&slash, end, v6 ? 128 : 32)) < 0 || slash != end)
            return -1;
        if (v6)
            t->cidr6 = (unsigned char) c;
        else
            t->cidr4 = (unsigned char) c;
    }
    return 0;
}

/* strip_num - Q without a trailing SLASHES slashes + digits, if it has one */
static const char *strip_num(const char *p, const char *q, int slashes)
{
    const char *d = q;
    int     i;

    while (d > p && isdigit((unsigned char) d[-1]))
        d--;
    if (d == q || d - p < slashes)
        return q;
    for (i = 1; i <= slashes; i++)
        if (d[-i] != '/')
            return q;
    if (slashes == 1 && d - p >= 2 && d[-2] == '/')
        return q;
    return d - slashes;
}

/* cidr_start - where a trailing dual-cidr-length begins in P..END: "/N",
 * "//N" or "/N//N" at the very end; a '/' elsewhere belongs to the domain */
static const char *cidr_start(const char *p, const char *end)
{
    return strip_num(p, strip_num(p, end, 2), 1);
}

/* domain_term - [":" domain-spec] [dual-cidr] (REQUIRED: ":" needed) */
static int domain_term(struct spf_record *r, struct spf_term *t, const char *p,
                       const char *end, int required, int cidrs)
{
    const char *spec_end = cidrs ? cidr_start(p, end) : end;

    if (p < end && *p == ':') {
        p++;
        if (spec_end < p)
            spec_end = p;
        if (mxspf_macro_check(p, (size_t) (spec_end - p), 0, 1) < 0)
            return -1;
        t->off = (unsigned short) (p - r->text);
        t->len = (unsigned short) (spec_end - p);
        p = spec_end;
    } else if (required)
        return -1;
    if (cidrs)
        return dual_cidr(t, p, end);
    return p == end ? 0 : -1;
}

static const struct {
    const char *name;
    enum spf_mech mech;
} mechs[] = {
    {"all", SPF_M_ALL}, {"include", SPF_M_INCLUDE}, {"a", SPF_M_A}, {"mx", SPF_M_MX},
    {"ptr", SPF_M_PTR}, {"ip4", SPF_M_IP4}, {"ip6", SPF_M_IP6}, {"exists", SPF_M_EXISTS},
};

/* mechanism - one directive (qualifier already taken) */
static int mechanism(struct spf_record *r, struct spf_term *t, const char *p,
                     const char *name_end, const char *end)
{
    size_t  n = (size_t) (name_end - p), i;

    for (i = 0; i < sizeof mechs / sizeof mechs[0]; i++)
        if (strlen(mechs[i].name) == n && strncasecmp(p, mechs[i].name, n) == 0)
            break;
    if (i == sizeof mechs / sizeof mechs[0])
        return snprintf(r->error, sizeof r->error, "unknown mechanism \"%.40s\"", p), -1;
    t->mech = (unsigned char) mechs[i].mech;
    t->cidr4 = 32;
    t->cidr6 = 128;
    switch (t->mech) {
    case SPF_M_ALL:
        return name_end == end ? 0 : -1;
    case SPF_M_INCLUDE:
    case SPF_M_EXISTS:
        return domain_term(r, t, name_end, end, 1, 0);
    case SPF_M_PTR:
        return domain_term(r, t, name_end, end, 0, 0);
    case SPF_M_A:
    case SPF_M_MX:
        return domain_term(r, t, name_end, end, 0, 1);
    default:
        if (name_end >= end || *name_end != ':')
            return -1;
        return ip_term(t, name_end + 1, end);
    }
}

/* modifier - NAME=VALUE; redirect and exp at most once each */
static int modifier(struct spf_record *r, const char *p, const char *eq, const char *end)
{
    size_t  n = (size_t) (eq - p);
    const char *v = eq + 1;
    unsigned short *off = NULL, *len = NULL;

    if (n == 0 || !isalpha((unsigned char) p[0]))
        return -1;
    if (n == 8 && strncasecmp(p, "redirect", 8) == 0)
        off = &r->redirect_off, len = &r->redirect_len;
    else if (n == 3 && strncasecmp(p, "exp", 3) == 0)
        off = &r->exp_off, len = &r->exp_len;
    if (off == NULL)
        return mxspf_macro_check(v, (size_t) (end - v), 0, 0);
    if (*len != 0 || v == end)
        return snprintf(r->error, sizeof r->error, "%.*s repeated or empty", (int) n, p), -1;
    if (mxspf_macro_check(v, (size_t) (end - v), 0, 1) < 0)
        return -1;
    *off = (unsigned short) (v - r->text);
    *len = (unsigned short) (end - v);
    return 0;
}

/* term - one space-separated term */
static int term(struct spf_record *r, const char *p, const char *end)
{
    const char *q = p;
    char    qual = '+';
    int     has_qual = 0;

    if (strchr("+-~?", *p)) {
        qual = *p;
        q = ++p;
        has_qual = 1;
    }
    while (q < end && (isalnum((unsigned char) *q) || *q == '.' || *q == '-' || *q == '_'))
        q++;
    if (q < end && *q == '=' && !has_qual)
        return modifier(r, p, q, end);
    if (r->nterms >= SPF_MAX_TERMS)
        return snprintf(r->error, sizeof r->error, "too many terms"), -1;
    memset(&r->term[r->nterms], 0, sizeof r->term[0]);
    r->term[r->nterms].qual = qual;
    if (mechanism(r, &r->term[r->nterms], p, q, end) < 0)
        return -1;
    r->nterms++;
    return 0;
}

/* mxspf_record_parse - TXT (LEN bytes) into R; 0, or -1 with R->error */
int     mxspf_record_parse(const char *txt, size_t len, struct spf_record *r)
{
    const char *p, *end;

    r->nterms = 0;                      /* no memset: terms are written whole */
    r->redirect_off = r->redirect_len = r->exp_off = r->exp_len = 0;
    r->error[0] = 0;
    if (len >= sizeof r->text)
        return snprintf(r->error, sizeof r->error, "record too long"), -1;
    memcpy(r->text, txt, len);
    r->text[len] = 0;
    if (!mxspf_record_is_spf(txt, len) || strlen(r->text) != len)
        return snprintf(r->error, sizeof r->error, "not an SPF record"), -1;
    for (p = r->text + 6, end = r->text + len; p < end;) {
        const char *t;

        if (*p == ' ') {
            p++;
            continue;
        }
        for (t = p; t < end && *t != ' '; t++)
            if ((unsigned char) *t < 0x21 || (unsigned char) *t > 0x7e)
                return snprintf(r->error, sizeof r->error, "invalid character in record"), -1;
        if (term(r, p, t) < 0) {
            if (r->error[0] == 0)
                snprintf(r->error, sizeof r->error, "syntax error in \"%.*s\"",
                         (int) (t - p > 60 ? 60 : t - p), p);
            return -1;
        }
        p = t;
    }
    return 0;
}
