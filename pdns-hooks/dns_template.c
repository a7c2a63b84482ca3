/*
 * dns_template.c - zone templates: files in dns_template_dir, each a small
 * list of extra or overriding records, one per line:
 *
 *      NAME TYPE CONTENT [TTL]        # %d = the domain, %m = the mail host
 *
 * NAME is relative ("www", "@") or absolute (trailing dot).  A trailing
 * number is the TTL.  An rrset a template names replaces the builder's
 * rrset of the same name and type.
 *
 *   dns_template_load  NAME for DOMAIN -> records (caller frees them with
 *                      dns_template_free); 0, or EX_DATAERR for a bad
 *                      name or line, EX_NOINPUT for no such template
 *                      (the same codes for create, sync and template show)
 *   cmd_template       "template list [--json]", "template show NAME [DOMAIN]"
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include <jansson.h>

#include "dns_cli.h"
#include "fileio.h"

static int good_name(const char *name)
{
    if (!*name || strlen(name) > 32)
        return 0;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char) *p) && *p != '-' && *p != '_')
            return 0;
    return 1;
}

/* expand - %d, %m and %% of LINE into OUT. */
static void expand(const char *line, const char *domain, const char *mhost, struct strbuf *out)
{
    for (const char *p = line; *p; p++) {
        if (*p == '%' && p[1] == 'd')
            sb_puts(out, domain), p++;
        else if (*p == '%' && p[1] == 'm')
            sb_puts(out, mhost), p++;
        else if (*p == '%' && p[1] == '%')
            sb_putc(out, '%'), p++;
        else
            sb_putc(out, *p);
    }
}

/* parse_line - "NAME TYPE CONTENT [TTL]" into R; -1 when malformed. */
static int parse_line(char *s, struct pdns_tmpl_rec *r)
{
    char   *name, *type, *content, *end;
    size_t  l;

    name = strtok_r(s, " \t", &end);
    type = strtok_r(NULL, " \t", &end);
    content = end;
    while (content && isspace((unsigned char) *content))
        content++;
    if (!name || !type || !content || !*content)
        return -1;
    l = strlen(content);
    while (l && isspace((unsigned char) content[l - 1]))
        content[--l] = 0;
    r->ttl = 0;
    for (char *sp = strrchr(content, ' '); sp && sp[1] && strspn(sp + 1, "0123456789")
         == strlen(sp + 1);) {
        r->ttl = atol(sp + 1);
        *sp = 0;
        break;
    }
    for (char *p = type; *p; p++)
        *p = (char) toupper((unsigned char) *p);
    r->name = strdup(name);
    r->type = strdup(type);
    if (!strcmp(type, "TXT") && *content != '"') {
        struct strbuf q = STRBUF_INIT;

        pdns_txt_quote(content, &q);
        r->content = sb_steal(&q);
        sb_free(&q);
    } else {
        r->content = strdup(content);
    }
    if (!r->name || !r->type || !r->content)
        mx_panic("out of memory");
    return 0;
}

int     dns_template_load(const struct mx_conf *conf, const char *name, const char *domain,
                          struct pdns_tmpl_rec **recs, size_t *n, char *why, size_t whylen)
{
    char    path[1024], mhost[300];
    char   *text, *line, *save;
    int     lineno = 0;

    *recs = NULL;
    *n = 0;
    if (!good_name(name)) {
        snprintf(why, whylen, "bad template name (letters, digits, - and _ only)");
        return EX_DATAERR;
    }
    snprintf(path, sizeof path, "%s/%s", conf->dns_template_dir, name);
    if ((text = mx_read_file(path, NULL)) == NULL) {
        snprintf(why, whylen, "cannot read %.200s: %s", path, strerror(errno));
        return errno == ENOENT ? EX_NOINPUT : EX_IOERR;
    }
    if (pdns_mail_host(conf, domain, mhost, sizeof mhost) < 0)
        snprintf(mhost, sizeof mhost, "%s", domain);
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        struct strbuf x = STRBUF_INIT;

        lineno++;
        while (isspace((unsigned char) *line))
            line++;
        if (*line == 0 || *line == '#')
            continue;
        expand(line, domain, mhost, &x);
        *recs = realloc(*recs, (*n + 1) * sizeof **recs);
        if (*recs == NULL)
            mx_panic("out of memory");
        if (parse_line(x.s, &(*recs)[*n]) < 0) {
            snprintf(why, whylen, "%.200s: line %d: want NAME TYPE CONTENT [TTL]", path, lineno);
            sb_free(&x);
            free(text);
            dns_template_free(*recs, *n);
            *recs = NULL;
            *n = 0;
            return EX_DATAERR;
        }
        (*n)++;
        sb_free(&x);
    }
    free(text);
    return 0;
}

void    dns_template_free(struct pdns_tmpl_rec *recs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(recs[i].name);
        free(recs[i].type);
        free(recs[i].content);
    }
    free(recs);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *) a), json_string_value(*(json_t *const *) b));
}

/* template_list_json - the names as one sorted JSON array */
static int template_list_json(DIR *d)
{
    json_t *arr = json_array();
    json_t **v;
    struct dirent *e;
    size_t  n;

    while (d && (e = readdir(d)) != NULL)
        if (good_name(e->d_name))
            json_array_append_new(arr, json_string(e->d_name));
    n = json_array_size(arr);
    if ((v = calloc(n + 1, sizeof(*v))) != NULL) {
        for (size_t i = 0; i < n; i++)
            v[i] = json_incref(json_array_get(arr, i));
        qsort(v, n, sizeof(*v), by_name);
        json_array_clear(arr);
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, v[i]);
        free(v);
    }
    json_dumpf(arr, stdout, JSON_INDENT(2));
    putchar('\n');
    json_decref(arr);
    return 0;
}

static int template_list(struct cli *c)
{
    DIR    *d = opendir(c->conf->dns_template_dir);
    struct dirent *e;
    int     rc;

    if (d == NULL && errno != ENOENT) {
        cli_err(c, "cannot read %.200s: %s", c->conf->dns_template_dir, strerror(errno));
        return EX_NOINPUT;
    }
    if (cli_flag(c, "json")) {
        rc = template_list_json(d);
        if (d)
            closedir(d);
        return rc;
    }
    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL)
        if (good_name(e->d_name))
            puts(e->d_name);
    closedir(d);
    return 0;
}

static int template_show(struct cli *c, const char *name, const char *domain_arg)
{
    struct pdns_tmpl_rec *recs;
    size_t  n;
    char    why[400], domain[256];
    int     rc;

    if ((rc = cli_domain(c, domain_arg ? domain_arg : "example.com", domain, sizeof domain)))
        return rc;
    if ((rc = dns_template_load(c->conf, name, domain, &recs, &n, why, sizeof why)) != 0) {
        cli_err(c, "template %.60s: %s", name, why);
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        struct strbuf abs = STRBUF_INIT;

        pdns_name_abs(recs[i].name, domain, &abs);
        printf("%s\t%ld\tIN\t%s\t%s\n", sb_str(&abs), recs[i].ttl ? recs[i].ttl
               : c->conf->dns_ttl, recs[i].type, recs[i].content);
        sb_free(&abs);
    }
    dns_template_free(recs, n);
    return 0;
}

int     cmd_template(struct cli *c)
{
    const char *sub = c->a.pos[0];

    if (sub && !strcmp(sub, "list") && c->a.npos == 1)
        return template_list(c);
    if (sub && !strcmp(sub, "show") && (c->a.npos == 2 || c->a.npos == 3) && !cli_flag(c, "json"))
        return template_show(c, c->a.pos[1], c->a.npos == 3 ? c->a.pos[2] : NULL);
    cli_err(c, "usage: template list | template show NAME [DOMAIN]");
    return EX_USAGE;
}
