/*
 * dkim_import.c - bring an OpenDKIM site's keys into the store.
 *
 *   dkim_store_import   KeyTable + SigningTable -> active selectors
 *
 * KeyTable lines are "KEYNAME DOMAIN:SELECTOR:KEY", KEY being a file name
 * or the key itself (base64 DER or PEM), DOMAIN "%" meaning the domain the
 * SigningTable matched.  SigningTable lines are "PATTERN KEYNAME", PATTERN
 * being a domain, "*@domain", "user@domain" or "*.domain" (refile).  Both
 * tables may be named as OpenDKIM's configuration names them: a plain path,
 * "file:PATH" or "refile:PATH".  '#' starts a comment.
 *
 * Every key the signing table uses is stored under its own selector name
 * as active, so DNS needs no change; one active key per algorithm and
 * domain, as everywhere in the store (an earlier one goes retiring).  A key already in the store under
 * that name is left alone.  Keys the SigningTable does not use are skipped.
 * Each key gives one report line; a bad key is reported and the others
 * still go in.  A KeyTable line that does not parse is different: the
 * table is not what the site ran, so nothing is imported and the
 * diagnostic names FILE:LINE (-2).  Key material never reaches a report or
 * a diagnostic (a malformed line is named by its number only).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "dkim_impl.h"
#include "domain.h"
#include "fileio.h"

struct kt_entry {
    char    name[128];
    char    domain[256];
    char    selector[64];
    char   *key;                /* path, or the key itself */
    int     used;
};

/* table_path - strip OpenDKIM's data set prefix; NULL for kinds we lack */
static const char *table_path(const char *spec)
{
    if (strncmp(spec, "file:", 5) == 0)
        return spec + 5;
    if (strncmp(spec, "refile:", 7) == 0)
        return spec + 7;
    if (strchr(spec, ':') && spec[0] != '/' && spec[0] != '.')
        return 0;
    return spec;
}

/* next_line - split TEXT at *POS into the key and the value of one table
 * line (comments and blanks skipped); *LINENO counts the file's lines
 * (NULL: not counted); 0 at the end */
static int next_line(char *text, size_t *pos, char **key, char **value, size_t *lineno)
{
    while (text[*pos]) {
        char   *line = text + *pos, *end = line + strcspn(line, "\n");

        *pos += (size_t) (end - line) + (*end ? 1 : 0);
        if (lineno)
            ++*lineno;
        *end = 0;
        line[strcspn(line, "#\r")] = 0;
        line += strspn(line, " \t");
        if (*line == 0)
            continue;
        *key = line;
        line += strcspn(line, " \t");
        if (*line)
            *line++ = 0;
        line += strspn(line, " \t");
        for (char *t = line + strlen(line); t > line && (t[-1] == ' ' || t[-1] == '\t');)
            *--t = 0;
        *value = line;
        return 1;
    }
    return 0;
}

static char *read_table(const char *spec, char *why, size_t whylen)
{
    const char *path = table_path(spec);
    char   *text;

    if (path == 0)
        return snprintf(why, whylen, "%.200s: only plain, file: and refile: tables can be "
                        "imported", spec), (char *) 0;
    if ((text = mx_read_file(path, 0)) == 0)
        snprintf(why, whylen, "cannot read %.200s: %s", path, strerror(errno));
    return text;
}

/* kt_line_ok - does VALUE read DOMAIN:SELECTOR:KEY, each part fitting?
 * *C1 and *C2 get the two colons */
static int kt_line_ok(const char *key, char *value, char **c1, char **c2)
{
    *c1 = strchr(value, ':');
    *c2 = *c1 ? strchr(*c1 + 1, ':') : 0;
    return *c2 != 0 && strlen(key) < sizeof(((struct kt_entry *) 0)->name)
        && (size_t) (*c1 - value) < sizeof(((struct kt_entry *) 0)->domain)
        && (size_t) (*c2 - *c1 - 1) < sizeof(((struct kt_entry *) 0)->selector)
        && (*c2)[1] != 0;
}

/* parse_keytable - the KeyTable PATH's TEXT into *V (*N entries).  One
 * malformed line makes the whole table refused (-2): nothing is imported,
 * and WHY names the first such line as PATH:LINE and counts the others. */
static int parse_keytable(const char *path, char *text, struct kt_entry **v, size_t *n,
                          char *why, size_t whylen)
{
    size_t  pos = 0, line = 0, bad = 0;
    char   *key, *value, *c1, *c2;
    struct kt_entry *e, *nv;

    while (next_line(text, &pos, &key, &value, &line)) {
        if (!kt_line_ok(key, value, &c1, &c2)) {
            if (bad++ == 0)
                snprintf(why, whylen, "KeyTable %.200s:%zu: not KEYNAME DOMAIN:SELECTOR:KEY",
                         path, line);   /* no text: it may be key material */
            continue;
        }
        if ((nv = realloc(*v, (*n + 1) * sizeof(*nv))) == 0)
            return snprintf(why, whylen, "out of memory"), -1;
        *v = nv;
        e = &nv[(*n)++];
        memset(e, 0, sizeof(*e));
        strcpy(e->name, key);
        memcpy(e->domain, value, (size_t) (c1 - value));
        memcpy(e->selector, c1 + 1, (size_t) (c2 - c1 - 1));
        e->key = c2 + 1;
    }
    if (bad == 0)
        return 0;
    if (bad > 1) {
        size_t  used = strlen(why);

        snprintf(why + used, whylen - used, " (and %zu more malformed line%s)", bad - 1,
                 bad == 2 ? "" : "s");
    }
    if (strlen(why) + 20 < whylen)
        strcat(why, "; nothing imported");
    return -2;
}

/* pattern_domain - the domain a SigningTable pattern is about */
static void pattern_domain(const char *pattern, char *out, size_t outlen)
{
    const char *at = strrchr(pattern, '@');
    const char *d = at ? at + 1 : pattern;

    while (d[0] == '*' && d[1] == '.')
        d += 2;
    snprintf(out, outlen, "%s", d);
}

/* import_one - one KeyTable entry for DOMAIN into the store */
static int import_one(const struct mx_conf *conf, const struct kt_entry *e, const char *domain,
                      struct strbuf *report)
{
    char    norm[256], why[400];
    struct strbuf pem = STRBUF_INIT;
    int     rc = -1;

    if (mx_domain_normalize(domain, norm, sizeof(norm), why, sizeof(why)) < 0) {
        sb_printf(report, "key %s: bad domain \"%.100s\": %s\n", e->name, domain, why);
        return -1;
    }
    if (e->key[0] == '/' || e->key[0] == '.') {
        if (dkim_key_read_file(e->key, 0, &pem, why, sizeof(why)) < 0) {
            sb_printf(report, "key %s: %s\n", e->name, why);
            dkim_sb_wipe(&pem);
            return -1;
        }
    } else
        sb_puts(&pem, e->key);
    rc = dkim_store_add_pem(conf, norm, e->selector, sb_str(&pem), pem.len, DKIM_ACTIVE,
                            why, sizeof(why));
    dkim_sb_wipe(&pem);
    if (rc < 0)
        sb_printf(report, "key %s (%s._domainkey.%s): %s\n", e->name, e->selector, norm, why);
    else
        sb_printf(report, "key %s: %s._domainkey.%s %s%s%s\n", e->name, e->selector, norm,
                  rc == 1 ? "already in the store" : "imported as active",
                  *why ? "; " : "", why);
    return rc < 0 ? -1 : 0;
}

/* first_use - 1 the first time KEYNAME is met for DOMAIN; SEEN holds the
 * pairs met so far as "\nKEYNAME DOMAIN\n" (neither has blanks) */
static int first_use(struct strbuf *seen, const char *keyname, const char *domain)
{
    struct strbuf tag = STRBUF_INIT;
    int     first;

    sb_printf(&tag, "\n%s %s\n", keyname, domain);
    first = strstr(sb_str(seen), sb_str(&tag)) == 0;
    if (first)
        sb_append(seen, tag.s + (seen->len ? 1 : 0), tag.len - (seen->len ? 1 : 0));
    sb_free(&tag);
    return first;
}

/* import_signing - walk the SigningTable, importing each key it uses once
 * per domain; returns the failures, or -1 with WHY when out of memory */
static int import_signing(const struct mx_conf *conf, char *st, struct kt_entry *kt, size_t nkt,
                          struct strbuf *report, char *why, size_t whylen)
{
    size_t  pos = 0, i;
    char   *pattern, *keyname, domain[256];
    struct strbuf seen = STRBUF_INIT;
    int     failed = 0;

    while (next_line(st, &pos, &pattern, &keyname, 0)) {
        for (i = 0; i < nkt && strcmp(kt[i].name, keyname) != 0; i++)
            ;
        if (i == nkt) {
            sb_printf(report, "SigningTable \"%.100s\" names key \"%.100s\", which the KeyTable "
                      "lacks\n", pattern, keyname);
            failed++;
            continue;
        }
        kt[i].used = 1;
        pattern_domain(pattern, domain, sizeof(domain));
        if (strcmp(kt[i].domain, "%") != 0) {
            if (strcasecmp(domain, kt[i].domain) != 0 && strcmp(domain, "*") != 0)
                sb_printf(report, "note: OpenDKIM signed mail matching %.100s with d=%.100s; "
                          "mxdock signs with the From domain's own keys\n", pattern, kt[i].domain);
            snprintf(domain, sizeof(domain), "%s", kt[i].domain);
        }
        if (!first_use(&seen, kt[i].name, domain))
            continue;
        if (sb_failed(&seen)) {
            sb_free(&seen);
            return snprintf(why, whylen, "out of memory"), -1;
        }
        failed += import_one(conf, &kt[i], domain, report) < 0;
    }
    sb_free(&seen);
    for (i = 0; i < nkt; i++)
        if (!kt[i].used)
            sb_printf(report, "key %s: not used in the SigningTable, skipped\n", kt[i].name);
    return failed;
}

int     dkim_store_import(const struct mx_conf *conf, const char *keytable,
                          const char *signingtable, struct strbuf *report,
                          char *why, size_t whylen)
{
    char   *kt_text, *st_text = 0;
    struct kt_entry *kt = 0;
    size_t  nkt = 0, ktlen;
    int     rc = -1;

    if ((kt_text = read_table(keytable, why, whylen)) == 0)
        return -1;
    ktlen = strlen(kt_text);
    if ((st_text = read_table(signingtable, why, whylen)) != 0
        && (rc = parse_keytable(table_path(keytable), kt_text, &kt, &nkt, why, whylen)) == 0)
        rc = import_signing(conf, st_text, kt, nkt, report, why, whylen);
    OPENSSL_cleanse(kt_text, ktlen);
    free(kt_text);
    free(st_text);
    free(kt);
    return rc;
}
