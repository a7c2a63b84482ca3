/*
 * spf_macro.c - macro expansion of RFC 7208 section 7, for domain-specs and
 * for explanation strings, done here rather than by libspf2, whose expander
 * turns a literal space into '%', lowercases escapes and accepts '%' before
 * any character.
 *
 *   mxspf_macro_expand   expand a (validated) macro-string
 *
 * Ownership: output goes into the caller's buffer.
 * Diagnostics: -1 for a macro that cannot be expanded (a permerror).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "spf_int.h"

/* ip_value - %{i}: dotted v4, or v6 as 32 dot-separated nibbles */
static void ip_value(const struct spf_req *req, char *out, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";     /* as the suite wants */
    size_t  i, o = 0;

    if (req->family == AF_INET) {
        snprintf(out, len, "%u.%u.%u.%u", req->addr[0], req->addr[1], req->addr[2], req->addr[3]);
        return;
    }
    for (i = 0; i < 16 && o + 4 < len; i++) {
        out[o++] = hex[req->addr[i] >> 4];
        out[o++] = '.';
        out[o++] = hex[req->addr[i] & 15];
        out[o++] = '.';
    }
    out[o ? o - 1 : 0] = 0;
}

/* letter_value - the value of macro letter L */
static void letter_value(struct spf_ctx *c, int l, const char *domain, char *out, size_t len)
{
    const struct spf_req *req = c->req;

    switch (l) {
    case 's': snprintf(out, len, "%s", req->sender); break;
    case 'l': snprintf(out, len, "%s", req->local); break;
    case 'o': snprintf(out, len, "%s", req->domain); break;
    case 'd': snprintf(out, len, "%s", domain); break;
    case 'i': ip_value(req, out, len); break;
    case 'h': snprintf(out, len, "%s", req->helo); break;
    case 'v': snprintf(out, len, "%s", req->family == AF_INET ? "in-addr" : "ip6"); break;
    case 'c': snprintf(out, len, "%s", req->ip_text); break;
    case 'r': snprintf(out, len, "%s", req->receiver[0] ? req->receiver : "unknown"); break;
    case 't': snprintf(out, len, "%lld", (long long) time(NULL)); break;
    case 'p':
        if (!c->ptr_done) {
            if (mxspf_ptr_names(c, domain, c->ptr_name, sizeof c->ptr_name) <= 0)
                snprintf(c->ptr_name, sizeof c->ptr_name, "unknown");
            c->ptr_done = 1;
        }
        snprintf(out, len, "%s", c->ptr_name);
        break;
    default:
        out[0] = 0;
    }
}

/* transform - split VAL on DELIMS, reverse if REV, keep the rightmost KEEP
 * parts (0: all), join with '.' into OUT */
static void transform(const char *val, const char *delims, int rev, int keep,
                      char *out, size_t len)
{
    const char *part[260];
    size_t  plen[260], o = 0;
    int     n = 0, i, first;
    const char *p = val;

    for (;;) {
        size_t  k = strcspn(p, delims);

        if (n < 260) {
            part[n] = p;
            plen[n++] = k;
        }
        if (p[k] == 0)
            break;
        p += k + 1;
    }
    if (rev)
        for (i = 0; i < n / 2; i++) {
            const char *tp = part[i];
            size_t  tl = plen[i];

            part[i] = part[n - 1 - i], plen[i] = plen[n - 1 - i];
            part[n - 1 - i] = tp, plen[n - 1 - i] = tl;
        }
    first = keep > 0 && keep < n ? n - keep : 0;
    for (i = first; i < n && o + plen[i] + 2 < len; i++) {
        if (i > first)
            out[o++] = '.';
        memcpy(out + o, part[i], plen[i]);
        o += plen[i];
    }
    out[o] = 0;
}

/* url_escape - RFC 3986 unreserved kept, the rest %XX (uppercase macro) */
static void url_escape(const char *in, char *out, size_t len)
{
    size_t  o = 0;

    for (; *in && o + 4 < len; in++) {
        unsigned char ch = (unsigned char) *in;

        if (isalnum(ch) || strchr("-._~", ch))
            out[o++] = (char) ch;
        else
            o += (size_t) snprintf(out + o, len - o, "%%%02X", ch);
    }
    out[o] = 0;
}

/* one_macro - expand "%{...}" at S (validated); its length, or -1 */
static int one_macro(struct spf_ctx *c, const char *s, const char *domain,
                     char *out, size_t len)
{
    char    val[1100], tr[1100], delims[8] = "";
    int     letter = s[2], keep = 0, rev = 0, digits = 0, i = 3, nd = 0;

    while (isdigit((unsigned char) s[i])) {
        keep = keep * 10 + (s[i++] - '0');
        if (++digits > 3)
            return -1;
    }
    if (digits && keep == 0)
        return -1;
    if (s[i] == 'r' || s[i] == 'R')
        rev = 1, i++;
    while (s[i] != '}' && nd < 7)
        delims[nd++] = s[i++];
    if (s[i] != '}')
        return -1;
    delims[nd] = 0;
    letter_value(c, tolower(letter), domain, val, sizeof val);
    transform(val, nd ? delims : ".", rev, keep, tr, sizeof tr);
    if (isupper(letter))
        url_escape(tr, out, len);
    else
        snprintf(out, len, "%s", tr);
    return i + 1;
}

/* mxspf_macro_expand - SPEC (LEN bytes, validated) with DOMAIN as %{d} into
 * OUT; 0, or -1 when it cannot be expanded or does not fit */
int     mxspf_macro_expand(struct spf_ctx *c, const char *spec, size_t len, const char *domain,
                           int in_exp, char *out, size_t outlen)
{
    size_t  i = 0, o = 0;
    char    piece[1200];

    if (mxspf_macro_check(spec, len, in_exp, 0) < 0)
        return -1;
    while (i < len) {
        size_t  n;

        if (spec[i] != '%') {
            piece[0] = spec[i++];
            piece[1] = 0;
        } else if (spec[i + 1] == '%' || spec[i + 1] == '_' || spec[i + 1] == '-') {
            snprintf(piece, sizeof piece, "%s",
                     spec[i + 1] == '%' ? "%" : spec[i + 1] == '_' ? " " : "%20");
            i += 2;
        } else {
            int     k = one_macro(c, spec + i, domain, piece, sizeof piece);

            if (k < 0)
                return -1;
            i += (size_t) k;
        }
        n = strlen(piece);
        if (o + n + 1 > outlen)
            return -1;
        memcpy(out + o, piece, n + 1);
        o += n;
    }
    out[o] = 0;
    return 0;
}

/* mxspf_domain_expand - a domain-spec expanded for a query: trailing dot
 * dropped, cut from the left to 253 bytes (RFC 7208 4.8); 0 or -1 */
int     mxspf_domain_expand(struct spf_ctx *c, const char *spec, size_t len, const char *domain,
                            char *out, size_t outlen)
{
    char    buf[2048];
    char   *p = buf;
    size_t  n;

    if (mxspf_macro_expand(c, spec, len, domain, 0, buf, sizeof buf) < 0)
        return -1;
    n = strlen(p);
    if (n > 0 && p[n - 1] == '.')
        p[--n] = 0;
    while (n > 253 && strchr(p, '.')) {
        n -= (size_t) (strchr(p, '.') + 1 - p);
        p = strchr(p, '.') + 1;
    }
    if (n >= outlen)
        return -1;
    memcpy(out, p, n + 1);
    return 0;
}
