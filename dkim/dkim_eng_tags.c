/*
 * dkim_eng_tags.c - tag values for mxdock's verifier, on the tag lists of
 * dkim_tags.c (RFC 6376 3.2, parsed and checked there).
 *
 *   dkim_eng_tagstr   one tag's value as a C string
 *   dkim_b64_decode   base64 with folding white space into bytes
 *
 * Ownership: the caller's buffers.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "dkim_eng.h"
#include "dkim_tags.h"

static int fws(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

const char *dkim_eng_tagstr(const struct dkim_tags *t, const char *name, char *buf,
                            size_t buflen)
{
    const struct dkim_tag *tg = dkim_tags_get(t, name);

    if (tg == 0 || tg->len >= buflen)
        return 0;
    memcpy(buf, tg->v, tg->len);
    buf[tg->len] = 0;
    return buf;
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
