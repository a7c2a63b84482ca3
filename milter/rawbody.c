/*
 * rawbody.c - the message's header fields and body on their way to the DKIM
 * handle, and the size counted for quota.
 *
 *   milter_is_stalwart   is {daemon_name} Stalwart's?
 *   milter_feed_begin    at end of header: feed the kept header fields now,
 *                        or (Stalwart) wait for the raw header block
 *   milter_feed_body     one BODY chunk
 *   milter_feed_end      at end of message: flush what is still held
 *
 * Stalwart sends the WHOLE raw message (header block, blank line, body) as
 * the BODY chunks (stalwart crates/smtp/src/inbound/milter/message.rs:275,
 * client.body(message.raw_message())), after header callbacks whose names
 * and values it trimmed (milter/client.rs:229-230; no SMFIP_HDR_LEADSPC).
 * When the MTA is Stalwart and the body begins with exactly the header
 * fields just given, that block is cut off: its exact bytes go to the DKIM
 * handle as the header fields (so c=simple header canonicalization works),
 * only the rest is hashed as body, and the size for quota is the block plus
 * the body, counted once.  Any other body (another MTA, or a block that does
 * not match) is fed as it came, with the header fields from the callbacks.
 *
 * Ownership: the held block lives in struct milter_msg (rb) and is freed
 * by milter_msg_reset.  Diagnostics: a Stalwart body that does not begin
 * with its header block is a warning; out of memory marks the message
 * failed (tempfail at end of message).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "session.h"

#define RAW_MAX (1024 * 1024)   /* a header block longer than this is not cut */

/* milter_is_stalwart - Stalwart sends {daemon_name} = "Stalwart v<version>"
 * on every listener (crates/common/src/lib.rs:90 DAEMON_NAME, sent by
 * milter/message.rs:207) */
int     milter_is_stalwart(const char *daemon)
{
    return daemon && strncmp(daemon, "Stalwart v", 10) == 0;
}

/* eoh - end of header for the DKIM handle: libopendkim asks for the keys
 * here, within the message's DNS time budget (milter_dns_enter) */
static void eoh(struct milter_conn *c)
{
    if (c->m.dm == 0)
        return;
    milter_dns_enter(c);
    (void) dkim_msg_eoh(c->m.dm);
    milter_dns_leave(c, "eoh");
}

/* feed_kept - the header fields from the callbacks, then end of header */
static void feed_kept(struct milter_conn *c)
{
    struct milter_msg *m = &c->m;

    if (m->dm == 0)
        return;
    for (size_t i = 0; i < m->nhdr; i++)
        (void) dkim_msg_header(m->dm, m->hdr[i].name, m->hdr[i].value);
    eoh(c);
}

static void feed_plain(struct milter_msg *m, const unsigned char *buf, size_t len)
{
    m->bytes += len;
    if (m->dm && len && dkim_msg_body(m->dm, buf, len) != 0)
        mx_warn("dkim body chunk refused by the library");
}

void    milter_feed_begin(struct milter_conn *c)
{
    struct milter_msg *m = &c->m;

    if (c->stalwart && m->nhdr > 0 && !m->failed && !m->too_many_hdrs) {
        m->raw = MILTER_RAW_HEAD;
        return;
    }
    m->raw = MILTER_RAW_NO;
    feed_kept(c);
}

/* is_ws - what Rust's str::trim removes, in ASCII */
static int is_ws(unsigned char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f';
}

/* trimmed_eq - P[0..N) without surrounding white space equals S? */
static int trimmed_eq(const unsigned char *p, size_t n, const char *s)
{
    while (n && is_ws(p[0]))
        p++, n--;
    while (n && is_ws(p[n - 1]))
        n--;
    return strlen(s) == n && memcmp(p, s, n) == 0;
}

/* field_end - end of the field starting at P[I] (after its line break) */
static size_t field_end(const unsigned char *p, size_t n, size_t i)
{
    for (; i < n; i++)
        if (p[i] == '\n' && (i + 1 >= n || (p[i + 1] != ' ' && p[i + 1] != '\t')))
            return i + 1;
    return n;
}

/* line_len - length of field P[0..N) without its line break */
static size_t line_len(const unsigned char *p, size_t n)
{
    if (n && p[n - 1] == '\n')
        n--;
    if (n && p[n - 1] == '\r')
        n--;
    return n;
}

/* block_matches - is the raw header block P[0..N) the fields kept, in
 * order?  Names and values compare trimmed, as Stalwart sent them; a value
 * that was not UTF-8 arrived empty (message.rs:268) and matches any. */
static int block_matches(const struct milter_msg *m, const unsigned char *p, size_t n)
{
    size_t  k = 0;

    for (size_t i = 0, e; i < n; i = e, k++) {
        const unsigned char *colon;
        size_t  len;

        e = field_end(p, n, i);
        len = line_len(p + i, e - i);
        if (k >= m->nhdr || (colon = memchr(p + i, ':', len)) == 0)
            return 0;
        if (!trimmed_eq(p + i, (size_t) (colon - p - i), m->hdr[k].name))
            return 0;
        if (m->hdr[k].value[0]
            && !trimmed_eq(colon + 1, len - (size_t) (colon + 1 - p - i), m->hdr[k].value))
            return 0;
    }
    return k == m->nhdr;
}

/* feed_raw - each field of the block, exact bytes: NAME as written before
 * the colon, VALUE everything after it up to the field's last line break */
static int feed_raw(struct milter_msg *m, const unsigned char *p, size_t n)
{
    for (size_t i = 0, e; i < n && m->dm; i = e) {
        size_t  len, nl;
        char   *f;

        e = field_end(p, n, i);
        len = line_len(p + i, e - i);
        if ((f = malloc(len + 1)) == 0)
            return -1;
        memcpy(f, p + i, len);
        f[len] = 0;
        nl = strcspn(f, ":");
        f[nl] = 0;
        (void) dkim_msg_header(m->dm, f, f + nl + 1);
        free(f);
    }
    return 0;
}

/* block_end - length of the header block held (up to and including the
 * last field's line break) and of the blank line after it; 0 if not yet */
static size_t block_end(const unsigned char *p, size_t n, size_t from, size_t *blank)
{
    for (size_t i = from; i < n; i++) {
        if (p[i] != '\n')
            continue;
        if (i + 1 < n && p[i + 1] == '\n')
            return *blank = 1, i + 1;
        if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n')
            return *blank = 2, i + 1;
    }
    return 0;
}

/* give_up - not Stalwart's raw message after all: kept fields, then every
 * byte held as body */
static void give_up(struct milter_conn *c, const char *why)
{
    struct milter_msg *m = &c->m;

    mx_warn("%.64s: body does not begin with the header block (%s): hashed as sent",
            c->daemon, why);
    m->raw = MILTER_RAW_NO;
    feed_kept(c);
    feed_plain(m, m->rb, m->rlen);
}

/* hold - append BUF to the held block; -1 when out of memory */
static int hold(struct milter_msg *m, const unsigned char *buf, size_t len)
{
    if (m->rlen + len > m->rcap) {
        size_t  cap = m->rcap ? m->rcap : 4096;
        unsigned char *r;

        while (cap < m->rlen + len)
            cap *= 2;
        if ((r = realloc(m->rb, cap)) == 0)
            return -1;
        m->rb = r;
        m->rcap = cap;
    }
    memcpy(m->rb + m->rlen, buf, len);
    m->rlen += len;
    return 0;
}

/* cut - the block is complete: compare, feed, count */
static void cut(struct milter_conn *c, size_t hlen, size_t blank)
{
    struct milter_msg *m = &c->m;

    if (!block_matches(m, m->rb, hlen)) {
        give_up(c, "fields differ");
        return;
    }
    m->raw = MILTER_RAW_CUT;
    m->hbytes = hlen;           /* the exact header size, not the estimate */
    if (feed_raw(m, m->rb, hlen) != 0) {
        m->failed = 1;
        snprintf(m->failwhy, sizeof(m->failwhy), "out of memory");
    }
    eoh(c);
    feed_plain(m, m->rb + hlen + blank, m->rlen - hlen - blank);
}

void    milter_feed_body(struct milter_conn *c, const unsigned char *buf, size_t len)
{
    struct milter_msg *m = &c->m;
    size_t  from = m->rlen > 2 ? m->rlen - 2 : 0, hlen, blank = 0;

    if (m->raw != MILTER_RAW_HEAD) {
        feed_plain(m, buf, len);
        return;
    }
    if (hold(m, buf, len) != 0) {
        m->failed = 1;
        snprintf(m->failwhy, sizeof(m->failwhy), "out of memory");
        m->raw = MILTER_RAW_NO;
        return;
    }
    if ((hlen = block_end(m->rb, m->rlen, from, &blank)) != 0)
        cut(c, hlen, blank);
    else if (m->rlen > RAW_MAX)
        give_up(c, "no blank line in the first megabyte");
}

void    milter_feed_end(struct milter_conn *c)
{
    if (c->m.raw == MILTER_RAW_HEAD)
        give_up(c, c->m.rlen ? "no blank line" : "empty body");
}
