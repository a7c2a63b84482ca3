/*
 * dkim_eng_tags.c - RFC 6376 3.2 tag=value lists (DKIM-Signature fields,
 * key records), the parser of mxdock's verifier.
 *
 *   dkim_tags_parse   split a tag list; -1 with WHY on a syntax error
 *   dkim_tags_get     the value of a tag, or NULL
 *   dkim_tags_free    release the copy the values point into
 *   dkim_b64_decode   base64 with folding white space into bytes
 *
 * Syntax (3.2): tag-spec = [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS],
 * tag-name = ALPHA *(ALPHA / DIGIT / "_"), tag-value characters %x21-3A /
 * %x3C-7E with white space only between them; a name given twice makes the
 * whole list invalid; a final ";" is allowed.
 *
 * Ownership: the values point into the list's own copy.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "dkim_eng.h"

static int fws(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int valchar(int c)
{
    return (c >= 0x21 && c <= 0x3a) || (c >= 0x3c && c <= 0x7e);
}

/* one_tag - parse the tag at *P (past leading FWS) into T; -1 with WHY */
static int one_tag(char **pp, struct dkim_tags *t, char *why, size_t whylen)
{
    char   *p = *pp, *name = p, *nend, *val, *vend;
    int     last;

    if (!isalpha((unsigned char) *p))
        return snprintf(why, whylen, "tag name expected at \"%.20s\"", p), -1;
    while (isalnum((unsigned char) *p) || *p == '_')
        p++;
    nend = p;
    while (fws(*p))
        p++;
    if (*p != '=')
        return snprintf(why, whylen, "no \"=\" after tag %.*s", (int) (nend - name), name), -1;
    *nend = 0;
    for (p++; fws(*p); p++)
        ;
    for (val = p; *p && *p != ';'; p++)
        if (!valchar((unsigned char) *p) && !fws(*p))
            return snprintf(why, whylen, "bad character in tag %.20s", name), -1;
    for (vend = p; vend > val && fws(vend[-1]); vend--)
        ;
    last = *p == 0;
    *vend = 0;
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->name[i], name) == 0)
            return snprintf(why, whylen, "tag %.20s given twice", name), -1;
    if (t->n == DKIM_TAGS_MAX)
        return snprintf(why, whylen, "more than %d tags", DKIM_TAGS_MAX), -1;
    t->name[t->n] = name;
    t->value[t->n++] = val;
    *pp = last ? p : p + 1;
    return 0;
}

int     dkim_tags_parse(const char *text, struct dkim_tags *t, char *why, size_t whylen)
{
    char   *p;

    memset(t, 0, sizeof(*t));
    if ((t->buf = strdup(text)) == 0)
        return snprintf(why, whylen, "out of memory"), -1;
    for (p = t->buf;;) {
        while (fws(*p))
            p++;
        if (*p == 0)
            return 0;
        if (one_tag(&p, t, why, whylen) != 0)
            return -1;
    }
}

const char *dkim_tags_get(const struct dkim_tags *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->name[i], name) == 0)
            return t->value[i];
    return 0;
}

void    dkim_tags_free(struct dkim_tags *t)
{
    free(t->buf);
    memset(t, 0, sizeof(*t));
}

/* dkim_b64_decode - TEXT (white space allowed anywhere) into OUT; the
 * number of bytes, or -1 when it is not base64 or does not fit */
long    dkim_b64_decode(const char *text, unsigned char *out, size_t outlen)
{
    size_t  n = 0, pad = 0, len = strlen(text);
    char   *clean = malloc(len + 1);
    int     got;

    if (clean == 0)
        return -1;
    for (const char *p = text; *p; p++) {
        if (fws(*p))
            continue;
        if (!(isalnum((unsigned char) *p) || *p == '+' || *p == '/' || *p == '=')
            || (pad && *p != '=')) {
            free(clean);
            return -1;
        }
        pad += *p == '=';
        clean[n++] = *p;
    }
    clean[n] = 0;
    if (n % 4 != 0 || pad > 2 || n / 4 * 3 > outlen) {
        free(clean);
        return -1;
    }
    got = n ? EVP_DecodeBlock(out, (unsigned char *) clean, (int) n) : 0;
    free(clean);
    return got < 0 ? -1 : (long) got - (long) pad;
}
