/*
 * dkim_canon.c - RFC 6376 section 3.4 canonicalization, simple and relaxed,
 * of header fields and of the body; the body hashed as it streams in.
 *
 *   dkim_canon_body_init     start a body hash (simple or relaxed, l=)
 *   dkim_canon_body_update   feed body bytes in chunks of any size
 *   dkim_canon_body_final    the SHA-256 of the canonical body
 *   dkim_canon_body_free     release the digest context
 *   dkim_canon_header        one header field, canonicalized, with CRLF
 *   dkim_canon_block         the header fields named by h=, bottom-up
 *   dkim_eng_hdrs_add/free   the headers of a message, kept in order
 *
 * The body is never held: line ends are counted, not stored, until content
 * follows them (trailing empty lines are dropped, 3.4.3 and 3.4.4), and
 * relaxed white space is one pending flag (runs become one SP, trailing
 * runs vanish).  A bare LF counts as CRLF, as libopendkim's FIXCRLF does,
 * since MTAs hand milters LF line ends in places.  An empty body is CRLF
 * under simple and nothing under relaxed (3.4.3, 3.4.4 and erratum 3133).
 * White space ending a last line that has no CRLF is dropped before the
 * CRLF is added (relaxed; mailauth agrees, libopendkim adds no CRLF and
 * dkimpy keeps one SP: see docs/DKIM.md; SMTP bodies always end in CRLF).
 *
 * Ownership: the caller owns the struct; dkim_canon_body_free releases the
 * OpenSSL context inside it.  Diagnostics: -1 when OpenSSL fails.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "dkim_eng.h"

int     dkim_canon_body_init(struct dkim_canon_body *cb, int relaxed, long long limit)
{
    memset(cb, 0, sizeof(*cb));
    cb->relaxed = relaxed;
    cb->limit = limit;
    if ((cb->md = EVP_MD_CTX_new()) == 0)
        return -1;
    return EVP_DigestInit_ex(cb->md, EVP_sha256(), 0) == 1 ? 0 : -1;
}

void    dkim_canon_body_free(struct dkim_canon_body *cb)
{
    EVP_MD_CTX_free(cb->md);
    cb->md = 0;
}

/* flush - hash what the output buffer holds */
static int flush(struct dkim_canon_body *cb)
{
    int     ok = cb->n == 0 || EVP_DigestUpdate(cb->md, cb->out, cb->n) == 1;

    cb->n = 0;
    return ok ? 0 : -1;
}

/* put - one canonical byte, unless l= is reached */
static inline int put(struct dkim_canon_body *cb, unsigned char c)
{
    if (cb->limit >= 0 && cb->wrote >= (unsigned long long) cb->limit)
        return 0;
    cb->wrote++;
    cb->out[cb->n++] = c;
    return cb->n == sizeof(cb->out) ? flush(cb) : 0;
}

/* put_run - N canonical bytes at P, unless l= is reached */
static int put_run(struct dkim_canon_body *cb, const unsigned char *p, size_t n)
{
    int     rc = 0;

    if (cb->limit >= 0 && cb->wrote + n > (unsigned long long) cb->limit)
        n = cb->wrote >= (unsigned long long) cb->limit ? 0
            : (size_t) ((unsigned long long) cb->limit - cb->wrote);
    cb->wrote += n;
    while (n > 0 && rc == 0) {
        size_t  k = sizeof(cb->out) - cb->n < n ? sizeof(cb->out) - cb->n : n;

        memcpy(cb->out + cb->n, p, k);
        cb->n += k, p += k, n -= k;
        if (cb->n == sizeof(cb->out))
            rc = flush(cb);
    }
    return rc;
}

/* pending - the held line ends and white space go out before content */
static inline int pending(struct dkim_canon_body *cb)
{
    int     rc = 0;

    for (; cb->crlfs > 0; cb->crlfs--)
        rc |= put(cb, '\r') | put(cb, '\n');
    if (cb->wsp)
        rc |= put(cb, ' ');
    cb->wsp = 0;
    cb->emitted = 1;
    return rc;
}

/* ordinary - a byte that is content whatever surrounds it */
static inline int ordinary(const struct dkim_canon_body *cb, unsigned char c)
{
    return c != '\r' && c != '\n' && !(cb->relaxed && (c == ' ' || c == '\t'));
}

/* run_end - the first byte at or after I that is not plain text: memchr
 * for CR and LF under simple; under relaxed a lone SP between two plain
 * bytes is plain text too (it is its own canonical form) */
static size_t run_end(int relaxed, const unsigned char *p, size_t i, size_t len)
{
    if (!relaxed) {
        const unsigned char *cr = memchr(p + i, '\r', len - i);
        const unsigned char *lf = memchr(p + i, '\n', (cr ? (size_t) (cr - p) : len) - i);

        return lf ? (size_t) (lf - p) : cr ? (size_t) (cr - p) : len;
    }
    while (i < len) {
        unsigned char c = p[i];

        if (c > ' ')
            i++;
        else if (c == ' ' && i + 1 < len && p[i + 1] > ' ')
            i += 2;
        else if (c < ' ' && c != '\r' && c != '\n' && c != '\t')
            i++;
        else
            break;
    }
    return i;
}

/* content - a byte that is not a line end: the held line ends and white
 * space go out first */
static inline int content(struct dkim_canon_body *cb, unsigned char c)
{
    if (cb->relaxed && (c == ' ' || c == '\t')) {
        cb->wsp = 1;
        return 0;
    }
    return pending(cb) | put(cb, c);
}

/* line_end - CRLF (or a bare LF): held back, trailing white space dropped */
static inline void line_end(struct dkim_canon_body *cb)
{
    cb->wsp = 0;
    cb->crlfs++;
}

int     dkim_canon_body_update(struct dkim_canon_body *cb, const unsigned char *p, size_t len)
{
    int     rc = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];

        if (!cb->cr && ordinary(cb, c)) {       /* a run of plain text at once */
            size_t  j = run_end(cb->relaxed, p, i + 1, len);

            rc |= pending(cb) | put_run(cb, p + i, j - i);
            i = j - 1;
            continue;
        }
        if (c == '\n') {
            cb->cr = 0;
            line_end(cb);
            continue;
        }
        if (cb->cr)
            rc |= content(cb, '\r');
        cb->cr = c == '\r';
        if (!cb->cr)
            rc |= content(cb, c);
    }
    return rc;
}

int     dkim_canon_body_final(struct dkim_canon_body *cb, unsigned char hash[32])
{
    unsigned int n = 0;
    int     rc = 0;

    if (cb->cr)
        rc |= content(cb, '\r');
    cb->cr = 0;
    if (cb->emitted || !cb->relaxed)
        rc |= put(cb, '\r') | put(cb, '\n');
    rc |= flush(cb);
    if (rc != 0 || EVP_DigestFinal_ex(cb->md, hash, &n) != 1 || n != 32)
        return -1;
    return 0;
}

/* header_simple - "Name:value" unchanged but for LF folds made CRLF */
static void header_simple(const char *name, const char *value, struct strbuf *out)
{
    sb_puts(out, name);
    sb_putc(out, ':');
    for (size_t i = 0; value[i]; i++) {
        if (value[i] == '\n' && (i == 0 || value[i - 1] != '\r'))
            sb_putc(out, '\r');
        sb_putc(out, value[i]);
    }
    sb_append(out, "\r\n", 2);
}

/* header_relaxed - lowercase name, unfolded value, white space runs as one
 * SP, none around the colon or at the end (3.4.2) */
static void header_relaxed(const char *name, const char *value, struct strbuf *out)
{
    size_t  nl = strlen(name);
    int     wsp = 0, started = 0;

    while (nl > 0 && (name[nl - 1] == ' ' || name[nl - 1] == '\t'))
        nl--;
    for (size_t i = 0; i < nl; i++)
        sb_putc(out, tolower((unsigned char) name[i]));
    sb_putc(out, ':');
    for (const char *v = value; *v; v++) {
        if (*v == '\r' || *v == '\n')
            continue;
        if (*v == ' ' || *v == '\t') {
            wsp = started;
            continue;
        }
        if (wsp)
            sb_putc(out, ' ');
        wsp = 0;
        started = 1;
        sb_putc(out, *v);
    }
    sb_append(out, "\r\n", 2);
}

void    dkim_canon_header(int relaxed, const char *name, const char *value,
                          struct strbuf *out)
{
    if (relaxed)
        header_relaxed(name, value, out);
    else
        header_simple(name, value, out);
}

int     dkim_eng_hdrs_add(struct dkim_eng_hdrs *h, const char *name, const char *value)
{
    char   *n, *v;

    if (h->n == h->cap) {
        size_t  cap = h->cap ? 2 * h->cap : 32;
        char  **nv = realloc(h->name, cap * sizeof(*nv)), **vv;

        if (nv == 0)
            return -1;
        h->name = nv;
        if ((vv = realloc(h->value, cap * sizeof(*vv))) == 0)
            return -1;
        h->value = vv;
        h->cap = cap;
    }
    n = strdup(name);
    v = strdup(value);
    if (n == 0 || v == 0) {
        free(n);
        free(v);
        return -1;
    }
    h->name[h->n] = n;
    h->value[h->n++] = v;
    return 0;
}

void    dkim_eng_hdrs_free(struct dkim_eng_hdrs *h)
{
    for (size_t i = 0; i < h->n; i++) {
        free(h->name[i]);
        free(h->value[i]);
    }
    free(h->name);
    free(h->value);
    memset(h, 0, sizeof(*h));
}

static int is_fws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int     dkim_canon_block(const struct dkim_eng_hdrs *hs, int relaxed, const char *h,
                         struct strbuf *out)
{
    char   *used = calloc(hs->n ? hs->n : 1, 1);
    const char *cur = h;

    if (used == 0)
        return -1;
    while (*cur) {
        size_t  len;

        while (is_fws(*cur))
            cur++;
        len = strcspn(cur, ":");
        while (len > 0 && is_fws(cur[len - 1]))
            len--;
        for (size_t i = hs->n; len && i-- > 0;)
            if (!used[i] && strlen(hs->name[i]) == len
                && strncasecmp(hs->name[i], cur, len) == 0) {
                used[i] = 1;
                dkim_canon_header(relaxed, hs->name[i], hs->value[i], out);
                break;
            }
        cur += strcspn(cur, ":");
        cur += *cur == ':';
    }
    free(used);
    return 0;
}
