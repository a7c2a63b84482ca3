/*
 * strbuf.h - the one growable text buffer (URLs, JSON, headers, reports).
 *
 * The buffer is always NUL-terminated.  On allocation failure it is marked
 * failed, later appends do nothing, and sb_failed() says so: check once at
 * the end instead of after every append.  The owner frees with sb_free().
 */
#ifndef MX_STRBUF_H
#define MX_STRBUF_H

#include <stddef.h>
#include "log.h"

struct strbuf {
    char   *s;
    size_t  len;
    size_t  cap;
    int     failed;
};

#define STRBUF_INIT {0, 0, 0, 0}

void    sb_append(struct strbuf *, const char *s, size_t len);
void    sb_puts(struct strbuf *, const char *s);
void    sb_putc(struct strbuf *, int c);
void    sb_printf(struct strbuf *, const char *fmt, ...) MX_PRINTF(2, 3);
void    sb_reset(struct strbuf *);       /* empty it, keep the memory */
const char *sb_str(const struct strbuf *);    /* "" when empty */
int     sb_failed(const struct strbuf *);
char   *sb_steal(struct strbuf *);       /* caller frees; buffer emptied */
void    sb_free(struct strbuf *);

#endif
