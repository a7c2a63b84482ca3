/*
 * conf.c - load and validate /etc/mxdock/mxdock.conf against conf_table[].
 *
 *   conf_load          read a file: defaults, then each "key = value" line
 *   conf_defaults      the defaults alone
 *   conf_free          release a configuration
 *   conf_path          which file to read (-c, $MXDOCK_CONF, default)
 *   conf_load_or_exit  conf_load for command-line tools: exit EX_CONFIG
 *   conf_write_sample  the sample file, made from the table
 *   conf_write_current the effective values, secrets hidden
 *   conf_write_reference  docs/CONFIG.md, made from the table
 *   conf_expand        %d substitution
 *   conf_list_next     walk a comma list
 *
 * Diagnostics: one line "FILE:LINE: key: what is wrong" in the caller's
 * buffer.  Secrets are never copied into a diagnostic.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "conf.h"
#include "cidr.h"
#include "dnsq.h"
#include "fileio.h"

#define FIELD_STR(c, r) ((char **) ((char *) (c) + (r)->offset))
#define FIELD_LONG(c, r) ((long *) ((char *) (c) + (r)->offset))
#define CONF_LINE_MAX 4094

int     conf_skip_secrets;

/* check_server - "", or what dnsq_parse_server takes: "IP", "IPv4:PORT",
 * "IPv6", "[IPv6]" or "[IPv6]:PORT" */
static int check_server(const char *v, char *why, size_t whylen)
{
    struct sockaddr_storage ss;
    socklen_t len;

    if (*v == 0 || dnsq_parse_server(v, &ss, &len) == 0)
        return 0;
    snprintf(why, whylen, "\"%.60s\" is not IP, IPv4:PORT or [IPv6]:PORT", v);
    return -1;
}

/* check_address - "" or one address of FAMILY */
static int check_address(const char *v, int family, char *why, size_t whylen)
{
    unsigned char addr[16];

    if (*v == 0 || inet_pton(family, v, addr) == 1)
        return 0;
    snprintf(why, whylen, "\"%.60s\" is not an %s address", v,
             family == AF_INET ? "IPv4" : "IPv6");
    return -1;
}

static int is_string_type(enum conf_type t)
{
    return t != CONF_INT && t != CONF_BOOL && t != CONF_DURATION;
}

/* parse_long - whole-string integer; -1 on junk or overflow */
static int parse_long(const char *s, long *out)
{
    char   *end;

    errno = 0;
    *out = strtol(s, &end, 10);
    return (errno || end == s || *end) ? -1 : 0;
}

/* parse_duration - "90", "90s", "15m", "1h", "7d", "2w" into seconds */
static int parse_duration(const char *s, long *out)
{
    char    num[32];
    size_t  n = strlen(s);
    long    mult = 1;

    if (n == 0 || n >= sizeof(num))
        return -1;
    memcpy(num, s, n + 1);
    switch (tolower((unsigned char) num[n - 1])) {
    case 's': mult = 1; break;
    case 'm': mult = 60; break;
    case 'h': mult = 3600; break;
    case 'd': mult = 86400; break;
    case 'w': mult = 604800; break;
    default: n++; break;
    }
    num[n - 1] = 0;
    if (parse_long(num, out) < 0 || *out < 0 || *out > LONG_MAX / mult)
        return -1;
    *out *= mult;
    return 0;
}

static int parse_bool(const char *s, long *out)
{
    static const char *yes[] = {"yes", "true", "on", "1", 0};
    static const char *no[] = {"no", "false", "off", "0", 0};

    for (int i = 0; yes[i]; i++)
        if (strcasecmp(s, yes[i]) == 0)
            return (*out = 1), 0;
    for (int i = 0; no[i]; i++)
        if (strcasecmp(s, no[i]) == 0)
            return (*out = 0), 0;
    return -1;
}

/* allowed_has - is WORD one of the '|'-separated ALLOWED values? */
static int allowed_has(const char *allowed, const char *word)
{
    size_t  wl = strlen(word);

    for (const char *p = allowed; *p;) {
        const char *bar = strchr(p, '|');
        size_t  l = bar ? (size_t) (bar - p) : strlen(p);

        if (l == wl && strncasecmp(p, word, l) == 0)
            return 1;
        p += l + (bar != 0);
    }
    return 0;
}

/* check_value - validate and store VALUE for ROW; message in WHY on error */
static int check_value(struct mx_conf *c, const struct conf_row *r,
                       const char *value, char *why, size_t whylen)
{
    long    v;
    char    item[256];
    const char *cur;

    switch (r->type) {
    case CONF_INT:
    case CONF_DURATION:
        if ((r->type == CONF_INT ? parse_long(value, &v) : parse_duration(value, &v)) < 0) {
            snprintf(why, whylen, "not a %s: \"%.60s\"",
                     r->type == CONF_INT ? "number" : "duration", value);
            return -1;
        }
        if (v < r->min || v > r->max) {
            snprintf(why, whylen, "%ld is outside %ld..%ld", v, r->min, r->max);
            return -1;
        }
        *FIELD_LONG(c, r) = v;
        return 0;
    case CONF_BOOL:
        if (parse_bool(value, &v) < 0) {
            snprintf(why, whylen, "not yes or no: \"%.60s\"", value);
            return -1;
        }
        *FIELD_LONG(c, r) = v;
        return 0;
    case CONF_ENUM:
        if (!allowed_has(r->allowed, value)) {
            snprintf(why, whylen, "\"%.60s\" is not one of %s", value, r->allowed);
            return -1;
        }
        break;
    case CONF_LIST:
        for (cur = value; r->allowed && conf_list_next(&cur, item, sizeof(item));)
            if (!allowed_has(r->allowed, item)) {
                snprintf(why, whylen, "\"%.60s\" is not one of %s", item, r->allowed);
                return -1;
            }
        break;
    case CONF_CIDRLIST:
        if (cidr_list_check(value, why, whylen) < 0)
            return -1;
        break;
    case CONF_SERVER:
        if (check_server(value, why, whylen) < 0)
            return -1;
        break;
    case CONF_HOSTLIST:
        if (conf_host_check(value, why, whylen) < 0)
            return -1;
        break;
    case CONF_IPV4:
    case CONF_IPV6:
        if (check_address(value, r->type == CONF_IPV4 ? AF_INET : AF_INET6, why, whylen) < 0)
            return -1;
        break;
    case CONF_MODE:
        if (strlen(value) < 3 || strlen(value) > 4 || strspn(value, "01234567") != strlen(value)) {
            snprintf(why, whylen, "\"%.60s\" is not an octal mode like 0660", value);
            return -1;
        }
        break;
    default:
        break;
    }
    char  **sp = FIELD_STR(c, r);
    char   *dup = strdup(value);

    if (dup == 0) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    free(*sp);
    *sp = dup;
    return 0;
}

struct mx_conf *conf_defaults(void)
{
    struct mx_conf *c = calloc(1, sizeof(*c));
    char    why[256];

    if (c == 0)
        return 0;
    c->path = strdup("");
    for (size_t i = 0; i < conf_table_len; i++)
        if (check_value(c, &conf_table[i], conf_table[i].def, why, sizeof(why)) < 0) {
            fprintf(stderr, "mxdock: panic: default of %s: %s\n", conf_table[i].name, why);
            abort();
        }
    return c;
}

void    conf_free(struct mx_conf *c)
{
    if (c == 0)
        return;
    for (size_t i = 0; i < conf_table_len; i++)
        if (is_string_type(conf_table[i].type)) {
            char  **sp = FIELD_STR(c, &conf_table[i]);

            if (conf_table[i].type == CONF_SECRET && *sp)
                explicit_bzero(*sp, strlen(*sp));
            free(*sp);
        }
    free(c->path);
    free(c);
}

static const struct conf_row *find_row(const char *key)
{
    for (size_t i = 0; i < conf_table_len; i++)
        if (strcmp(conf_table[i].name, key) == 0)
            return &conf_table[i];
    return 0;
}

static char *trim(char *s)
{
    char   *e;

    while (isspace((unsigned char) *s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char) e[-1]))
        *--e = 0;
    return s;
}

/* service_gid - primary group of milter_user, or (gid_t) -1 */
static gid_t service_gid(const struct mx_conf *c)
{
    struct passwd pw, *res = 0;
    char    tmp[1024];

    if (c->milter_user && *c->milter_user
        && getpwnam_r(c->milter_user, &pw, tmp, sizeof(tmp), &res) == 0 && res)
        return res->pw_gid;
    return (gid_t) -1;
}

/* apply_secret_file - replace *SECRET with the first line of FILE, if set;
 * a group-readable FILE passes when its group is ours or SVC_GID */
static int apply_secret_file(const char *file, gid_t svc_gid, char **secret,
                             const char *key, const char *path, char *err, size_t errlen)
{
    char    buf[4096], why[200];

    if (file == 0 || *file == 0)
        return 0;
    if (mx_read_secret_as(file, svc_gid, buf, sizeof(buf), why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s: %s: %s", path, key, why);
        return -1;
    }
    free(*secret);
    *secret = strdup(buf);
    explicit_bzero(buf, sizeof(buf));
    return *secret ? 0 : -1;
}

/* parse_line - one line of the file; 0 = fine, -1 = error in ERR */
static int parse_line(struct mx_conf *c, char *line, const char *path, int lineno,
                      unsigned char *seen, char *err, size_t errlen)
{
    char   *key, *value, *eq, why[300];
    const struct conf_row *r;

    key = trim(line);
    if (*key == 0 || *key == '#')
        return 0;
    if ((eq = strchr(key, '=')) == 0) {
        /* only the first word: the rest may be a secret written without '=' */
        snprintf(err, errlen, "%s:%d: %.*s: expected \"key = value\"", path, lineno,
                 (int) strcspn(key, " \t"), key);
        return -1;
    }
    *eq = 0;
    key = trim(key);
    value = trim(eq + 1);
    if ((r = find_row(key)) == 0) {
        snprintf(err, errlen, "%s:%d: %.60s: unknown key", path, lineno, key);
        return -1;
    }
    if (seen[r - conf_table]++) {
        snprintf(err, errlen, "%s:%d: %s: duplicate key", path, lineno, key);
        return -1;
    }
    if (check_value(c, r, value, why, sizeof(why)) < 0) {
        if (r->type == CONF_SECRET)
            snprintf(why, sizeof(why), "bad value");
        snprintf(err, errlen, "%s:%d: %s: %s", path, lineno, key, why);
        return -1;
    }
    return 0;
}

/* load_secrets - the secret files this program uses (conf_skip_secrets) */
static int load_secrets(struct mx_conf *c, const char *path, char *err, size_t errlen)
{
    int     milter = conf_skip_secrets & CONF_SECRETS_MILTER;
    int     db = !milter || c->quota_enable || c->authfail_enable || c->dmarc_report_enable
        || strcmp(c->dkim_store, "mysql") == 0;

    if (!milter && apply_secret_file(c->pdns_api_key_file, service_gid(c), &c->pdns_api_key,
                                     "pdns_api_key_file", path, err, errlen) < 0)
        return -1;
    if (db && apply_secret_file(c->mysql_password_file, service_gid(c), &c->mysql_password,
                                "mysql_password_file", path, err, errlen) < 0)
        return -1;
    return 0;
}

/* read_lines - every line of FP through parse_line; 0, or -1 with ERR.  A
 * NUL byte is named as such (fgets would take it for the end of the line). */
static int read_lines(struct mx_conf *c, FILE *fp, const char *path, unsigned char *seen,
                      char *err, size_t errlen)
{
    char   *line = 0;
    size_t  cap = 0;
    ssize_t n;
    int     lineno = 0, rc = 0;

    while (rc == 0 && (n = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        if (memchr(line, 0, (size_t) n) != 0)
            rc = -1, snprintf(err, errlen, "%s:%d: NUL byte in the line (a binary file?)",
                              path, lineno);
        else if ((size_t) n - (line[n - 1] == '\n') > CONF_LINE_MAX)
            rc = -1, snprintf(err, errlen, "%s:%d: line longer than %d bytes", path, lineno,
                              CONF_LINE_MAX);
        else
            rc = parse_line(c, line, path, lineno, seen, err, errlen);
    }
    if (rc == 0 && ferror(fp))
        rc = -1, snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
    if (line)
        explicit_bzero(line, cap);
    free(line);
    return rc;
}

struct mx_conf *conf_load(const char *path, char *err, size_t errlen)
{
    FILE   *fp;
    struct mx_conf *c;
    unsigned char *seen;

    if ((fp = fopen(path, "r")) == 0) {
        snprintf(err, errlen, "%s: cannot open configuration: %s", path, strerror(errno));
        return 0;
    }
    c = conf_defaults();
    seen = calloc(conf_table_len, 1);
    if (c == 0 || seen == 0) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    free(c->path);
    c->path = strdup(path);
    if (read_lines(c, fp, path, seen, err, errlen) < 0)
        goto fail;
    if (load_secrets(c, path, err, errlen) < 0)
        goto fail;
    fclose(fp);
    free(seen);
    return c;

fail:
    fclose(fp);
    free(seen);
    conf_free(c);
    return 0;
}

const char *conf_path(const char *opt)
{
    const char *env;

    if (opt && *opt)
        return opt;
    if ((env = getenv("MXDOCK_CONF")) != 0 && *env)
        return env;
    return MX_CONF_DEFAULT_PATH;
}

struct mx_conf *conf_load_or_exit(const char *prog, const char *opt)
{
    char    err[512];
    struct mx_conf *c = conf_load(conf_path(opt), err, sizeof(err));

    if (c == 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        exit(EX_CONFIG);
    }
    return c;
}

static const char *type_name(const struct conf_row *r)
{
    static const char *names[] = {
        "text", "path", "number", "yes|no", "one of", "list", "duration",
        "address list", "secret", "IP or IP:PORT", "IPv4 address", "IPv6 address",
        "octal mode", "host list"
    };

    return names[r->type];
}

void    conf_write_sample(FILE *fp)
{
    fprintf(fp, "# mxdock.conf - the mxdock configuration (see docs/CONFIG.md)\n"
            "# Every key is shown with its default; uncomment to change it.\n");
    for (size_t i = 0; i < conf_table_len; i++) {
        const struct conf_row *r = &conf_table[i];

        fprintf(fp, "\n# %s (%s", r->help, type_name(r));
        if (r->allowed)
            fprintf(fp, " %s", r->allowed);
        if (r->type == CONF_INT || (r->type == CONF_DURATION && r->max))
            fprintf(fp, " %ld..%ld", r->min, r->max);
        fprintf(fp, ")\n#%s = %s\n", r->name, r->def);
    }
}

void    conf_write_reference(FILE *fp)
{
    fprintf(fp, "# mxdock.conf reference\n\n"
            "One file, `/etc/mxdock/mxdock.conf` (or `-c FILE`, or `$MXDOCK_CONF`), "
            "of `key = value` lines and `#` comments.\n"
            "An unknown key, a bad value or a key given twice stops every binary with "
            "one line naming file, line and key (exit 78, EX_CONFIG).\n"
            "Durations take a suffix: `s`, `m`, `h`, `d`, `w`.\n"
            "This page is generated from the table in `conf/conf_table.c` "
            "(`make sample`); a test fails when they differ.\n\n"
            "| key | type | default | allowed | meaning |\n|---|---|---|---|---|\n");
    for (size_t i = 0; i < conf_table_len; i++) {
        const struct conf_row *r = &conf_table[i];
        char    range[64] = "";

        if (r->type == CONF_INT || (r->type == CONF_DURATION && r->max))
            snprintf(range, sizeof(range), "%ld..%ld", r->min, r->max);
        fprintf(fp, "| `%s` | %s | `%s` | %s | %s |\n", r->name, type_name(r), r->def,
                r->allowed ? r->allowed : range, r->help);
    }
}

void    conf_write_current(FILE *fp, const struct mx_conf *c)
{
    for (size_t i = 0; i < conf_table_len; i++) {
        const struct conf_row *r = &conf_table[i];

        if (r->type == CONF_SECRET)
            fprintf(fp, "%s = %s\n", r->name,
                    **FIELD_STR(c, r) ? "(set, not shown)" : "");
        else if (is_string_type(r->type))
            fprintf(fp, "%s = %s\n", r->name, *FIELD_STR(c, r));
        else
            fprintf(fp, "%s = %ld\n", r->name, *FIELD_LONG(c, r));
    }
}

int     conf_expand(const char *tmpl, const char *domain, char *out, size_t outlen)
{
    size_t  n = 0;

    for (const char *p = tmpl; *p; p++) {
        const char *add = p;
        size_t  l = 1;

        if (p[0] == '%' && p[1] == 'd')
            add = domain, l = strlen(domain), p++;
        else if (p[0] == '%' && p[1] == '%')
            p++;
        if (n + l >= outlen)
            return -1;
        memcpy(out + n, add, l);
        n += l;
    }
    if (n >= outlen)
        return -1;
    out[n] = 0;
    return 0;
}

int     conf_list_next(const char **cursor, char *item, size_t itemlen)
{
    const char *p = *cursor;

    for (;;) {
        while (*p == ',' || isspace((unsigned char) *p))
            p++;
        if (*p == 0) {
            *cursor = p;
            return 0;
        }
        const char *s = p;

        while (*p && *p != ',')
            p++;
        const char *e = p;

        while (e > s && isspace((unsigned char) e[-1]))
            e--;
        if ((size_t) (e - s) < itemlen) {
            memcpy(item, s, e - s);
            item[e - s] = 0;
            *cursor = p;
            return 1;
        }
    }
}

int     conf_list_has(const char *list, const char *want)
{
    char    item[256];

    for (const char *cur = list; conf_list_next(&cur, item, sizeof(item));)
        if (strcasecmp(item, want) == 0)
            return 1;
    return 0;
}
