/*
 * dkim_state.c - the per-domain state file and selector names.
 *
 *   dkim_state_parse      text -> selectors (strict: any bad line fails)
 *   dkim_state_format     selectors -> text
 *   dkim_selector_valid   a name usable as a selector and a file name
 *   dkim_alg_parse, dkim_state_parse_name   text -> enum
 *   dkim_domain_find, dkim_domain_add, dkim_domain_remove   the array
 *   dkim_selector_make    a new unique name from dkim_selector_format
 *
 * The state file: comment lines start with '#'; every other line is
 *   SELECTOR ALGORITHM BITS CREATED STATE CHANGED
 * with CREATED and CHANGED in epoch seconds.  It is only ever replaced
 * whole (mx_write_atomic), so a reader sees the old or the new file.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dkim_impl.h"

#define MAX_SELECTORS 1000

int     dkim_alg_parse(const char *name, enum dkim_alg *alg)
{
    if (strcmp(name, "ed25519") == 0)
        *alg = DKIM_ALG_ED25519;
    else if (strcmp(name, "rsa") == 0)
        *alg = DKIM_ALG_RSA;
    else
        return -1;
    return 0;
}

int     dkim_state_parse_name(const char *name, enum dkim_state *state)
{
    static const enum dkim_state all[] = {DKIM_PENDING, DKIM_ACTIVE, DKIM_RETIRING, DKIM_RETIRED};

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (strcmp(name, dkim_state_name(all[i])) == 0)
            return *state = all[i], 0;
    return -1;
}

/* dkim_selector_valid - DNS labels of letters, digits, '-' and '_', joined
 * by single dots; at most 63 bytes so it fits the struct and a label. */
int     dkim_selector_valid(const char *name)
{
    size_t  len = strlen(name);

    if (len == 0 || len > 63 || name[0] == '.' || name[len - 1] == '.' || strstr(name, ".."))
        return 0;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char) *p) && *p != '-' && *p != '_' && *p != '.')
            return 0;
    return 1;
}

struct dkim_selector *dkim_domain_find(const struct dkim_domain *dom, const char *selector)
{
    for (size_t i = 0; i < dom->n; i++)
        if (strcmp(dom->sel[i].name, selector) == 0)
            return &dom->sel[i];
    return 0;
}

/* dkim_domain_add - a zeroed slot at the end; NULL when out of memory */
struct dkim_selector *dkim_domain_add(struct dkim_domain *dom)
{
    struct dkim_selector *n = realloc(dom->sel, (dom->n + 1) * sizeof(*n));

    if (n == 0)
        return 0;
    dom->sel = n;
    memset(&n[dom->n], 0, sizeof(*n));
    return &n[dom->n++];
}

void    dkim_domain_remove(struct dkim_domain *dom, size_t index)
{
    if (index >= dom->n)
        return;
    memmove(&dom->sel[index], &dom->sel[index + 1], (dom->n - index - 1) * sizeof(dom->sel[0]));
    dom->n--;
}

/* parse_time - epoch seconds, positive, all digits */
static int parse_time(const char *s, time_t *out)
{
    char   *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end || end == s || v < 0)
        return -1;
    *out = (time_t) v;
    return 0;
}

/* parse_line - one state line into SEL; -1 with WHY */
static int parse_line(char *line, struct dkim_selector *sel, char *why, size_t whylen)
{
    char   *f[7], *save = 0, *end;
    int     n = 0;
    long    bits;

    for (char *t = strtok_r(line, " \t", &save); t && n < 7; t = strtok_r(0, " \t", &save))
        f[n++] = t;
    if (n != 6)
        return snprintf(why, whylen, "%d fields, want 6", n), -1;
    if (!dkim_selector_valid(f[0]))
        return snprintf(why, whylen, "bad selector name \"%.70s\"", f[0]), -1;
    strcpy(sel->name, f[0]);
    if (dkim_alg_parse(f[1], &sel->alg) < 0)
        return snprintf(why, whylen, "unknown algorithm \"%.20s\"", f[1]), -1;
    errno = 0;
    bits = strtol(f[2], &end, 10);
    if (errno || *end || (sel->alg == DKIM_ALG_ED25519 && bits != 256)
        || (sel->alg == DKIM_ALG_RSA && (bits < DKIM_MIN_RSA_BITS || bits > DKIM_MAX_RSA_BITS)))
        return snprintf(why, whylen, "bad key size \"%.20s\"", f[2]), -1;
    sel->bits = (int) bits;
    if (parse_time(f[3], &sel->created) < 0)
        return snprintf(why, whylen, "bad creation time \"%.20s\"", f[3]), -1;
    if (dkim_state_parse_name(f[4], &sel->state) < 0)
        return snprintf(why, whylen, "unknown state \"%.20s\"", f[4]), -1;
    if (parse_time(f[5], &sel->changed) < 0)
        return snprintf(why, whylen, "bad change time \"%.20s\"", f[5]), -1;
    return 0;
}

int     dkim_state_parse(const char *text, struct dkim_domain *dom, char *why, size_t whylen)
{
    char    line[512], reason[160];
    const char *p = text, *nl;
    int     lineno = 0;
    size_t  len;
    struct dkim_selector sel, *slot;

    for (; *p; p = *nl ? nl + 1 : nl) {
        nl = p + strcspn(p, "\n");
        lineno++;
        len = (size_t) (nl - p);
        if (len >= sizeof(line))
            return snprintf(why, whylen, "line %d: too long", lineno), -1;
        memcpy(line, p, len);
        line[len] = 0;
        line[strcspn(line, "\r")] = 0;
        if (line[strspn(line, " \t")] == 0 || line[strspn(line, " \t")] == '#')
            continue;
        memset(&sel, 0, sizeof(sel));
        if (parse_line(line, &sel, reason, sizeof(reason)) < 0)
            return snprintf(why, whylen, "line %d: %s", lineno, reason), -1;
        if (dkim_domain_find(dom, sel.name))
            return snprintf(why, whylen, "line %d: selector %s listed twice", lineno, sel.name), -1;
        if (dom->n >= MAX_SELECTORS || (slot = dkim_domain_add(dom)) == 0)
            return snprintf(why, whylen, "line %d: too many selectors", lineno), -1;
        *slot = sel;
    }
    return 0;
}

void    dkim_state_format(const struct dkim_domain *dom, struct strbuf *out)
{
    sb_puts(out, "# mxdock DKIM keys: selector algorithm bits created state changed\n");
    for (size_t i = 0; i < dom->n; i++) {
        const struct dkim_selector *s = &dom->sel[i];

        sb_printf(out, "%s %s %d %lld %s %lld\n", s->name, dkim_alg_name(s->alg), s->bits,
                  (long long) s->created, dkim_state_name(s->state), (long long) s->changed);
    }
}

/* expand_format - FMT with %a replaced by the algorithm letter, then
 * strftime's fields, in UTC.  -1 when the result is empty or too long. */
static int expand_format(const char *fmt, enum dkim_alg alg, time_t when, char *out, size_t outlen)
{
    char    pre[256];
    size_t  n = 0;
    struct tm tm;

    for (const char *p = fmt; *p; p++) {
        if (n + 3 >= sizeof(pre))
            return -1;
        if (p[0] == '%' && p[1] == 'a') {
            pre[n++] = alg == DKIM_ALG_ED25519 ? 'e' : 'r';
            p++;
        } else if (p[0] == '%' && p[1] != 0) {
            pre[n++] = *p++;
            pre[n++] = *p;
        } else {
            pre[n++] = *p;
        }
    }
    pre[n] = 0;
    if (gmtime_r(&when, &tm) == 0)
        return -1;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    n = strftime(out, outlen, pre, &tm);       /* the format is the operator's */
#pragma GCC diagnostic pop
    return n == 0 ? -1 : 0;
}

/* name_taken - in the state, or a key file of that name lies in the
 * directory DIRFD (left by a keygen that died before it wrote the state) */
static int name_taken(const struct dkim_domain *dom, int dirfd, const char *name)
{
    char    file[80];

    if (dkim_domain_find(dom, name))
        return 1;
    snprintf(file, sizeof(file), "%s.pem", name);
    return dirfd >= 0 && dkim_dir_exists(dirfd, file);
}

/* dkim_selector_make - suffixes b..z, then zb..zz, zzb...: a later name of
 * the same day sorts after every earlier one. */
int     dkim_selector_make(const char *fmt, enum dkim_alg alg, time_t when,
                           const struct dkim_domain *dom, int dirfd,
                           char *out, size_t outlen, char *why, size_t whylen)
{
    char    base[64], name[64];
    size_t  blen;

    if (expand_format(fmt, alg, when, base, sizeof(base)) < 0 || !dkim_selector_valid(base)) {
        snprintf(why, whylen, "dkim_selector_format \"%.60s\" does not make a valid selector "
                 "(letters, digits, '-', '_', '.'; at most 63 bytes)", fmt);
        return -1;
    }
    blen = strlen(base);
    for (int k = -1; k < 20 * 25; k++) {
        size_t  zs = k < 0 ? 0 : (size_t) k / 25;

        if (blen + zs + 1 > 63)
            break;
        memcpy(name, base, blen);
        memset(name + blen, 'z', zs);
        name[blen + zs] = k < 0 ? 0 : (char) ('b' + k % 25);
        name[blen + zs + (k < 0 ? 0 : 1)] = 0;
        if (!name_taken(dom, dirfd, name)) {
            if (strlen(name) >= outlen)
                break;
            strcpy(out, name);
            return 0;
        }
    }
    snprintf(why, whylen, "no free selector name after %s", base);
    return -1;
}
