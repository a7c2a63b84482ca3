/*
 * authres.c - the Authentication-Results header (RFC 8601) and the one log
 * line per message.  Never calls libmilter.
 *
 *   milter_is_our_ar   does an incoming A-R claim to be ours? (removed)
 *   milter_ar_write    our A-R value: auth, spf, one dkim= per signature,
 *                      the dmarc= resinfo; bounded to MILTER_AR_MAX bytes
 *   milter_ar_build, milter_ar_build_dmarc   the same, shorter to call
 *   milter_log_line    "qid=... client=... from=... spf=... dkim=... ..."
 *
 * RFC 8601 2.2: a property value is a token or else a quoted-string, an
 * empty one is left out with its property.  The SASL login of an
 * authenticated sender is never written (the header travels with the mail
 * to every recipient): "auth=pass" alone.  DKIM results past the size bound
 * (or past dkim_max_signatures) are summarised in one comment.
 * Text from the message or the client (domains, reasons) is bounded and
 * reduced to characters safe in a header value or a log line.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "decide.h"

/* skip_cfws - past white space and (nested) comments */
static const char *skip_cfws(const char *p)
{
    int     depth = 0;

    for (; *p; p++) {
        if (*p == '(')
            depth++;
        else if (*p == ')' && depth > 0)
            depth--;
        else if (depth == 0 && !isspace((unsigned char) *p))
            break;
    }
    return p;
}

/* read_id - the authserv-id at P (token or quoted-string, RFC 8601 2.2)
 * into OUT without quotes and quoted-pairs; 0 when there is none */
static size_t read_id(const char *p, char *out, size_t outlen)
{
    size_t  o = 0;

    if (*p != '"') {
        for (; *p && !strchr(" \t\r\n;(", *p) && o + 1 < outlen; p++)
            out[o++] = *p;
        out[o] = 0;
        return *p && !strchr(" \t\r\n;(", *p) ? 0 : o;
    }
    for (p++; *p && *p != '"' && o + 1 < outlen; p++) {
        if (*p == '\\' && p[1])
            p++;
        out[o++] = *p;
    }
    out[o] = 0;
    return *p == '"' ? o : 0;
}

/* same_id - A and B name the same host: case and one final dot aside */
static int same_id(const char *a, const char *b)
{
    size_t  al = strlen(a), bl = strlen(b);

    al -= al > 1 && a[al - 1] == '.';
    bl -= bl > 1 && b[bl - 1] == '.';
    return al > 0 && al == bl && strncasecmp(a, b, al) == 0;
}

int     milter_is_our_ar(const char *value, const char *authserv_id)
{
    char    id[300];

    return read_id(skip_cfws(value), id, sizeof(id)) > 0 && same_id(id, authserv_id);
}

/* put_safe - append at most MAX bytes of S, keeping only characters that
 * need no quoting in an RFC 8601 value or a log line */
static void put_safe(struct strbuf *out, const char *s, size_t max)
{
    for (size_t i = 0; s && s[i] && i < max; i++) {
        unsigned char ch = (unsigned char) s[i];

        sb_putc(out, isalnum(ch) || (ch && strchr("@.-_+=/", ch)) ? ch : '?');
    }
}

/* put_comment - append " (TEXT)" with parentheses and controls removed */
static void put_comment(struct strbuf *out, const char *text)
{
    sb_puts(out, " (");
    for (size_t i = 0; text[i] && i < 80; i++) {
        unsigned char ch = (unsigned char) text[i];

        sb_putc(out, ch < 0x20 || ch >= 0x7f || ch == '(' || ch == ')' || ch == '\\' ? ' ' : ch);
    }
    sb_putc(out, ')');
}

/* put_value - S (at most MAX bytes) as an RFC 2045 token when it is one,
 * else as a quoted-string; bytes outside printable ASCII become '?' */
static void put_value(struct strbuf *out, const char *s, size_t max)
{
    size_t  n = strnlen(s, max);
    int     token = n > 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char) s[i];

        if (ch <= 0x20 || ch >= 0x7f || strchr("()<>@,;:\\\"/[]?=", ch))
            token = 0;
    }
    if (!token)
        sb_putc(out, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char) s[i];

        if (ch == '"' || ch == '\\')
            sb_putc(out, '\\');
        sb_putc(out, ch < 0x20 || ch >= 0x7f ? '?' : ch);
    }
    if (!token)
        sb_putc(out, '"');
}

/* put_prop - " NAME=VALUE", nothing when VALUE is empty */
static void put_prop(struct strbuf *out, const char *name, const char *value, size_t max)
{
    if (value == 0 || *value == 0)
        return;
    sb_printf(out, " %s=", name);
    put_value(out, value, max);
}

static void put_dkim(struct strbuf *out, const struct dkim_msg_sig *s)
{
    char    comment[128] = "";

    sb_printf(out, "dkim=%s", dkim_msg_res_name(s->res));
    if (s->bits > 0)
        snprintf(comment, sizeof(comment), "%d-bit key", s->bits);
    if (s->res != DKIM_MSG_PASS && s->why[0])
        snprintf(comment + strlen(comment), sizeof(comment) - strlen(comment), "%s%s",
                 comment[0] ? "; " : "", s->why);
    if (comment[0])
        put_comment(out, comment);
    put_prop(out, "header.d", s->d, 253);
    put_prop(out, "header.s", s->s, 63);
    put_prop(out, "header.a", s->a, 24);
    put_prop(out, "header.b", s->b, 8);
}

/* put_dkims - one dkim= per signature while the value stays under
 * MILTER_AR_MAX, the rest (and those past dkim_max_signatures) counted in
 * one comment */
static void put_dkims(struct strbuf *out, const struct milter_ar_in *in)
{
    size_t  i, left;

    for (i = 0; i < in->n && out->len < MILTER_AR_MAX - 1024; i++) {
        sb_puts(out, ";\n\t");
        put_dkim(out, &in->sigs[i]);
    }
    left = in->n - i + in->nextra;
    if (left > 0)
        sb_printf(out, "\n\t(%zu more DKIM signature%s not evaluated: over the limit)",
                  left, left == 1 ? "" : "s");
}

/* put_resinfo - append a resinfo made elsewhere (the DMARC module's),
 * bounded, control characters made spaces */
static void put_resinfo(struct strbuf *out, const char *text)
{
    sb_puts(out, ";\n\t");
    for (size_t i = 0; text[i] && i < 400; i++) {
        unsigned char ch = (unsigned char) text[i];

        sb_putc(out, ch < 0x20 || ch >= 0x7f ? ' ' : ch);
    }
}

void    milter_ar_write(struct strbuf *out, const struct milter_ar_in *in)
{
    const struct mxspf_answer *spf = in->spf;
    int     parts = 0;

    put_value(out, in->authserv_id, 253);
    if (in->auth_user && *in->auth_user) {
        sb_puts(out, ";\n\tauth=pass");        /* never the login: see above */
        parts++;
    }
    if (spf) {
        sb_printf(out, ";\n\tspf=%s", mxspf_result_name(spf->result));
        put_prop(out, strcmp(spf->identity, "helo") == 0 ? "smtp.helo" : "smtp.mailfrom",
                 spf->domain[0] ? spf->domain : "unknown", 253);
        parts++;
    }
    if (in->dkim_checked && in->n == 0 && in->nextra == 0) {
        sb_puts(out, ";\n\tdkim=none");
        parts++;
    }
    if (in->dkim_checked && (in->n || in->nextra)) {
        put_dkims(out, in);
        parts++;
    }
    if (in->dmarc && *in->dmarc) {
        put_resinfo(out, in->dmarc);
        parts++;
    }
    if (parts == 0)
        sb_puts(out, "; none");
}

void    milter_ar_build_dmarc(struct strbuf *out, const char *authserv_id,
                              const char *auth_user, const struct mxspf_answer *spf,
                              int dkim_checked, const struct dkim_msg_sig *sigs, size_t n,
                              const char *dmarc)
{
    struct milter_ar_in in = {authserv_id, auth_user, spf, dkim_checked, sigs, n, 0, dmarc};

    milter_ar_write(out, &in);
}

void    milter_ar_build(struct strbuf *out, const char *authserv_id, const char *auth_user,
                        const struct mxspf_answer *spf, int dkim_checked,
                        const struct dkim_msg_sig *sigs, size_t n)
{
    milter_ar_build_dmarc(out, authserv_id, auth_user, spf, dkim_checked, sigs, n, 0);
}

void    milter_log_line(struct strbuf *out, const char *qid, const char *client,
                        const char *from_domain, const char *spf, const char *dkim,
                        const char *action, long ms)
{
    sb_puts(out, "qid=");
    put_safe(out, qid && *qid ? qid : "-", 32);
    sb_puts(out, " client=");
    const char *cl = client && *client ? client : "-";

    for (size_t i = 0; cl[i] && i < 64; i++)
        sb_putc(out, isxdigit((unsigned char) cl[i]) || strchr(".:-", cl[i]) ? cl[i] : '?');
    sb_puts(out, " from=");
    put_safe(out, from_domain && *from_domain ? from_domain : "-", 253);
    sb_printf(out, " spf=%s dkim=%s action=%s ms=%ld", spf, dkim, action, ms);
}
