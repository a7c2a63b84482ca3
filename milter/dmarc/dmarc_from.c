/*
 * dmarc_from.c - the author domain from the From header field(s).
 *
 *   mxdmarc_from_domain  the one author domain, or why there is none
 *
 * RFC 5322 address lists: comments (nested, quoted-pairs), quoted strings,
 * domain literals, display names, angle addresses with obsolete routes,
 * groups and empty list elements.  From is a mailbox-list (RFC 5322
 * 3.6.2): a group there is unparseable like any other broken From.  A
 * domain literal ("postmaster@[192.0.2.1]") or a domain that is no valid
 * domain name gives no author domain either, each with its own reason (the
 * reply says what is wrong).  The value is cut into tokens pointing
 * into the input (no copies), then read as a list of mailboxes.  Exactly
 * one From field with exactly one mailbox gives an author domain; anything
 * else is refused (the caller makes it permerror), so several domains can
 * never be confused with one (CVE-2021-34555).  Every index is bounded:
 * any byte string is a valid input.
 *
 * Diagnostics: -1 with a reason in WHY (read after "rejected: "; message
 * text only from the domain check, bounded); nothing is logged here.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "dmarc.h"
#include "domain.h"

#define MAX_TOKENS 512
#define MAX_VALUE 8192

/* read_list and friends: why a From was refused */
enum from_err { FROM_OK, FROM_SYNTAX = -1, FROM_GROUP = -2, FROM_LITERAL = -3 };

struct token {
    char    type;               /* 'a' atom, 'q' quoted, 'l' literal, or the special */
    const char *s;
    size_t  len;
};

struct tokens {
    struct token t[MAX_TOKENS];
    size_t  n;
};

static int is_special(int c)
{
    return c != 0 && strchr("()<>[]:;@\\,.\"", c) != NULL;
}

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* skip_comment - past a (possibly nested) comment starting at S[*I]. */
static int skip_comment(const char *s, size_t len, size_t *i)
{
    int     depth = 0;

    for (; *i < len; (*i)++) {
        if (s[*i] == '\\') {
            (*i)++;
        } else if (s[*i] == '(') {
            depth++;
        } else if (s[*i] == ')' && --depth == 0) {
            (*i)++;
            return 0;
        }
    }
    return -1;
}

/* skip_until - past the closing CLOSE of a quoted string or literal. */
static int skip_until(const char *s, size_t len, size_t *i, char close)
{
    for ((*i)++; *i < len; (*i)++) {
        if (s[*i] == '\\')
            (*i)++;
        else if (s[*i] == close) {
            (*i)++;
            return 0;
        }
    }
    return -1;
}

static int push(struct tokens *tk, char type, const char *s, size_t len)
{
    if (tk->n >= MAX_TOKENS)
        return -1;
    tk->t[tk->n].type = type;
    tk->t[tk->n].s = s;
    tk->t[tk->n].len = len;
    tk->n++;
    return 0;
}

/* lex - S into tokens; -1 on an unterminated construct or too many. */
static int lex(const char *s, size_t len, struct tokens *tk)
{
    size_t  i = 0, start;

    while (i < len) {
        int     c = (unsigned char) s[i];

        start = i;
        if (is_space(c)) {
            i++;
            continue;
        }
        if (c == '(') {
            if (skip_comment(s, len, &i) < 0)
                return -1;
            continue;
        }
        if (c == '"' || c == '[') {
            if (skip_until(s, len, &i, c == '"' ? '"' : ']') < 0)
                return -1;
            if (push(tk, c == '"' ? 'q' : 'l', s + start, i - start) < 0)
                return -1;
            continue;
        }
        if (c == ')' || c == ']' || c == '\\' || c == 0)
            return -1;
        if (is_special(c)) {
            if (push(tk, (char) c, s + i, 1) < 0)
                return -1;
            i++;
            continue;
        }
        while (i < len && !is_space((unsigned char) s[i]) && !is_special((unsigned char) s[i])
               && s[i] != 0)
            i++;
        if (push(tk, 'a', s + start, i - start) < 0)
            return -1;
    }
    return 0;
}

/* addr_range - the addr-spec tokens of mailbox [A,B): inside <> (route
 * removed) when there is an angle address.  -1 when malformed. */
static int addr_range(const struct tokens *tk, size_t a, size_t b, size_t *fa, size_t *fb)
{
    size_t  lt = b, gt = b;

    for (size_t i = a; i < b; i++) {
        if (tk->t[i].type == '<') {
            if (lt != b)
                return -1;
            lt = i;
        } else if (tk->t[i].type == '>') {
            if (lt == b || gt != b)
                return -1;
            gt = i;
        }
    }
    if (lt == b) {
        *fa = a;
        *fb = b;
        return gt == b ? 0 : -1;
    }
    if (gt == b || gt + 1 != b)
        return -1;
    *fa = lt + 1;
    *fb = gt;
    if (*fa < *fb && tk->t[*fa].type == '@') {     /* obs-route "@a,@b:" */
        while (*fa < *fb && tk->t[*fa].type != ':')
            (*fa)++;
        if (*fa == *fb)
            return -1;
        (*fa)++;
    }
    return 0;
}

/* addr_domain - the domain text of addr-spec [A,B) into OUT. */
static int addr_domain(const struct tokens *tk, size_t a, size_t b, char *out, size_t outlen)
{
    size_t  at = b, len = 0;

    for (size_t i = a; i < b; i++)
        if (tk->t[i].type == '@')
            at = i;
    if (at == b || at == a || at + 1 == b)
        return -1;
    for (size_t i = a; i < at; i++)
        if (tk->t[i].type != 'a' && tk->t[i].type != 'q' && tk->t[i].type != '.')
            return -1;
    if (at + 2 == b && tk->t[at + 1].type == 'l')
        return FROM_LITERAL;
    for (size_t i = at + 1; i < b; i++) {
        const struct token *t = tk->t + i;

        if (t->type != 'a' && t->type != '.')
            return -1;          /* a stray special */
        if (len + t->len >= outlen)
            return -1;
        memcpy(out + len, t->s, t->len);
        len += t->len;
    }
    out[len] = 0;
    return 0;
}

/* take_mailbox - count mailbox [A,B) and keep its domain in DOM when it
 * is the first.  Empty elements are skipped (obs-mbox-list). */
static int take_mailbox(const struct tokens *tk, size_t a, size_t b, int *count,
                        char *dom, size_t domlen)
{
    size_t  fa, fb;

    if (a == b)
        return 0;
    if (addr_range(tk, a, b, &fa, &fb) < 0)
        return -1;
    if (++*count > 1)
        return 0;
    return addr_domain(tk, fa, fb, dom, domlen);
}

/* read_list - mailboxes of an address list; counts them into *COUNT.
 * A group is read (to count what is in it) and then refused. */
static int read_list(const struct tokens *tk, int *count, char *dom, size_t domlen)
{
    size_t  start = 0;
    int     in_angle = 0, in_group = 0, groups = 0, rc;

    for (size_t i = 0; i < tk->n; i++) {
        char    ty = tk->t[i].type;

        if (ty == '<')
            in_angle = 1;
        else if (ty == '>')
            in_angle = 0;
        else if (ty == ':' && !in_angle) {
            if (in_group)
                return -1;
            in_group = 1;       /* group display name dropped */
            groups++;
            start = i + 1;
        } else if ((ty == ',' || ty == ';') && !in_angle) {
            if (ty == ';' && !in_group)
                return -1;
            if ((rc = take_mailbox(tk, start, i, count, dom, domlen)) < 0)
                return rc;
            if (ty == ';')
                in_group = 0;
            start = i + 1;
        }
    }
    if (in_angle || in_group)
        return -1;
    rc = take_mailbox(tk, start, tk->n, count, dom, domlen);
    return groups && rc == 0 ? FROM_GROUP : rc;
}

/* list_why - the reason for a read_list error RC */
static void list_why(int rc, char *why, size_t whylen)
{
    snprintf(why, whylen, "%s", rc == FROM_GROUP
             ? "unparseable From header field: a group where a mailbox is required"
             : rc == FROM_LITERAL ? "the From domain is an address literal, not a domain name"
             : "unparseable From header field");
}

int     mxdmarc_from_domain(const char *const *from, size_t nfrom, char *out, size_t outlen,
                            char *why, size_t whylen)
{
    struct tokens tk;
    char    dom[512], err[160];
    int     count = 0, rc = FROM_SYNTAX;
    size_t  len;

    tk.n = 0;
    if (nfrom == 0 || from == NULL || from[0] == NULL) {
        snprintf(why, whylen, "no From header field");
        return -1;
    }
    if (nfrom > 1) {
        snprintf(why, whylen, "%zu From header fields", nfrom);
        return -1;
    }
    len = strnlen(from[0], MAX_VALUE + 1);
    if (len > MAX_VALUE || lex(from[0], len, &tk) < 0
        || (rc = read_list(&tk, &count, dom, sizeof dom)) < 0) {
        list_why(rc, why, whylen);
        return -1;
    }
    if (count != 1) {
        snprintf(why, whylen, count ? "%d addresses in From"
                 : "no address in From", count);
        return -1;
    }
    if (mx_domain_normalize(dom, out, outlen, err, sizeof err) < 0) {
        for (char *p = err; *p; p++)    /* it may quote the name: keep a comment's syntax */
            if (!(isalnum((unsigned char) *p) || strchr(" -.,'\"", *p)))
                *p = '?';
        snprintf(why, whylen, "the From domain is not a valid domain name: %.100s", err);
        return -1;
    }
    return 0;
}
