/*
 * strbuf.c - growable NUL-terminated text buffer.
 *
 *   sb_append, sb_puts, sb_putc, sb_printf, sb_reset, sb_str, sb_failed,
 *   sb_steal, sb_free
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

/* grow - room for NEED more bytes plus the NUL; 0 or -1 (marks failed) */
static int grow(struct strbuf *b, size_t need)
{
    size_t  cap;
    char   *ns;

    if (b->failed)
        return -1;
    if (b->len + need + 1 <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 64;
    while (cap < b->len + need + 1) {
        if (cap > ((size_t) -1) / 2)
            return b->failed = 1, -1;
        cap *= 2;
    }
    if ((ns = realloc(b->s, cap)) == 0)
        return b->failed = 1, -1;
    b->s = ns;
    b->cap = cap;
    return 0;
}

void    sb_append(struct strbuf *b, const char *s, size_t len)
{
    if (grow(b, len) < 0)
        return;
    memcpy(b->s + b->len, s, len);
    b->len += len;
    b->s[b->len] = 0;
}

void    sb_puts(struct strbuf *b, const char *s)
{
    sb_append(b, s, strlen(s));
}

void    sb_putc(struct strbuf *b, int c)
{
    char    ch = (char) c;

    sb_append(b, &ch, 1);
}

void    sb_printf(struct strbuf *b, const char *fmt, ...)
{
    va_list ap;
    int     n;

    va_start(ap, fmt);
    n = vsnprintf(0, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || grow(b, (size_t) n) < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t) n;
}

void    sb_reset(struct strbuf *b)
{
    b->len = 0;
    if (b->s)
        b->s[0] = 0;
}

const char *sb_str(const struct strbuf *b)
{
    return b->s ? b->s : "";
}

int     sb_failed(const struct strbuf *b)
{
    return b->failed;
}

char   *sb_steal(struct strbuf *b)
{
    char   *s = b->s ? b->s : strdup("");

    b->s = 0;
    b->len = b->cap = 0;
    return s;
}

void    sb_free(struct strbuf *b)
{
    free(b->s);
    b->s = 0;
    b->len = b->cap = 0;
    b->failed = 0;
}
