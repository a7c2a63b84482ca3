/*
 * test_conf - the configuration loader, the sample file and reference, and
 * the conf/ helpers (domain names, address lists, durations, lists).
 *
 *   test_conf              run the tests
 *   test_conf --sample     print the sample conf/mxdock.conf
 *   test_conf --reference  print docs/CONFIG.md
 *   test_conf --man        print docs/man/mxdock.conf.5 (man_write below)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "conf.h"
#include "cidr.h"
#include "dnsq.h"
#include "domain.h"
#include "fileio.h"
#include "strbuf.h"
#include "t.h"

static char tmpdir[] = "/tmp/mxdock-test-conf.XXXXXX";

/* write_conf - a scratch file holding TEXT; returns its path (static) */
static const char *write_conf(const char *text, mode_t mode)
{
    static char path[256];
    static int n;

    snprintf(path, sizeof(path), "%s/c%d.conf", tmpdir, n++);
    if (mx_write_atomic(path, text, strlen(text), mode) < 0)
        perror(path), exit(1);
    return path;
}

struct load_case {
    const char *name;
    const char *text;
    const char *want_err;       /* substring of the error, or NULL = loads */
};

static void test_load_errors(void)
{
    static const struct load_case cases[] = {
        {"empty file loads", "", 0},
        {"comment and blank", "# hi\n\n   # indented\n", 0},
        {"good values", "dns_ttl = 300\ndkim_rsa_bits=1024\nmilter_dry_run = yes\n", 0},
        {"unknown key", "dns_ttl = 300\nno_such_key = 1\n", ":2: no_such_key: unknown key"},
        {"duplicate key", "dns_ttl = 300\n\ndns_ttl = 400\n", ":3: dns_ttl: duplicate key"},
        {"int below min", "dns_ttl = 5\n", ":1: dns_ttl: 5 is outside 60..604800"},
        {"int junk", "dkim_rsa_bits = 2k\n", "dkim_rsa_bits: not a number"},
        {"enum bad", "dmarc_policy = always\n", "dmarc_policy: \"always\" is not one of"},
        {"bool bad", "milter_dry_run = maybe\n", "milter_dry_run: not yes or no"},
        {"list item bad", "dkim_algorithms = ed25519, dsa\n", "\"dsa\" is not one of"},
        {"cidr bad", "milter_internal_hosts = 10.0.0.0/33\n", "milter_internal_hosts:"},
        {"no equals", "dns_ttl 300\n", ":1: dns_ttl: expected \"key = value\""},
        {"duration bad", "authfail_window = 1y\n", "authfail_window: not a duration"},
        {"server ip:port", "dns_resolver = 127.0.0.1:5300\ndns_check_server = [::1]:53\n", 0},
        {"server bad port", "dns_resolver = 127.0.0.1:99999x\n", "dns_resolver: \"127.0.0.1:99999x\" is not IP"},
        {"server bad ip", "dns_check_server = 1.2.3\n", "dns_check_server: \"1.2.3\" is not IP"},
        {"server empty port", "dns_check_server = 1.2.3.4:\n", "dns_check_server:"},
        {"server [v6] no port", "dns_resolver = [::1]\ndns_check_server = 2001:db8::53\n", 0},
        {"server [v4] refused", "dns_resolver = [127.0.0.1]:53\n", "dns_resolver: \"[127.0.0.1]:53\" is not IP"},
        {"server [v6] junk after", "dns_resolver = [::1]x\n", "dns_resolver:"},
        {"ipv4 wants v4", "dns_server_ipv4 = ::1\n", "dns_server_ipv4: \"::1\" is not an IPv4"},
        {"ipv6 wants v6", "dns_server_ipv6 = 192.0.2.1\n", "dns_server_ipv6: \"192.0.2.1\" is not an IPv6"},
        {"mode octal", "milter_socket_mode = 0669\n", "milter_socket_mode: \"0669\" is not an octal"},
        {"no equals, secret not echoed", "pdns_api_key s3cr3tKEY\n", ":1: pdns_api_key: expected"},
        {"secret not echoed", "pdns_api_key_file = /nonexistent/key\n",
         "pdns_api_key_file: cannot read /nonexistent/key"},
        {"line of 4094 bytes loads", 0, 0},
        {"line of 4095 bytes is long", 0, ":1: line longer than 4094 bytes"},
    };
    char    err[512], name[200];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *path;
        struct mx_conf *c;
        char    longline[4200];

        if (cases[i].text == 0) {               /* "# xxx...": 4094 or 4095 bytes + newline */
            size_t  n = cases[i].want_err ? 4095 : 4094;

            memset(longline, 'x', n);
            longline[0] = '#';
            memcpy(longline + n, "\n", 2);
        }
        path = write_conf(cases[i].text ? cases[i].text : longline, 0600);

        err[0] = 0;
        c = conf_load(path, err, sizeof(err));
        snprintf(name, sizeof(name), "load: %s", cases[i].name);
        if (strstr(err, "s3cr3t"))
            T_STR(name, "the error shows the secret", "no secret in the error");
        if (cases[i].want_err == 0)
            T_STR(name, c ? "loaded" : err, "loaded");
        else
            T_HAS(name, c ? "loaded" : err, cases[i].want_err);
        conf_free(c);
    }
}

static void test_values(void)
{
    char    err[512], text[512];
    struct mx_conf *c;
    char   *keyfile = strdup(write_conf("s3cret-key\n", 0600));
    char   *loose = strdup(write_conf("s3cret-key\n", 0644));

    c = conf_load(write_conf("authfail_window = 2h\ndkim_retire_after = 3d\n"
                             "pdns_api_key = inline\n", 0600), err, sizeof(err));
    T_INT("duration 2h", c ? c->authfail_window : -1, 7200);
    T_INT("duration 3d", c ? c->dkim_retire_after : -1, 3 * 86400);
    T_INT("default dns_ttl", c ? c->dns_ttl : -1, 3600);
    T_STR("default pdns_server_id", c ? c->pdns_server_id : "", "localhost");
    T_STR("inline api key", c ? c->pdns_api_key : "", "inline");
    conf_free(c);

    snprintf(text, sizeof(text), "pdns_api_key = inline\npdns_api_key_file = %s\n", keyfile);
    c = conf_load(write_conf(text, 0600), err, sizeof(err));
    T_STR("key file wins over inline key", c ? c->pdns_api_key : err, "s3cret-key");
    conf_free(c);

    snprintf(text, sizeof(text), "mysql_password_file = %s\n", loose);
    c = conf_load(write_conf(text, 0600), err, sizeof(err));
    T_HAS("world-readable secret file refused", c ? "loaded" : err, "readable or writable by others");
    T_HAS("refusal says what is accepted", err, "has mode 0644");
    T_HAS("refusal names what is accepted", err, "accepted are 0600, or 0640 with the service user's group");
    T_OK("refusal does not print the secret", strstr(err, "s3cret") == 0);
    conf_free(c);

    free(keyfile);
    free(loose);
    c = conf_load("/nonexistent/mxdock.conf", err, sizeof(err));
    T_HAS("missing file", c ? "loaded" : err, "/nonexistent/mxdock.conf: cannot open");
    conf_free(c);
}

/* load_bytes - conf_load of LEN bytes (may hold NUL); the error or "loaded" */
static const char *load_bytes(const char *bytes, size_t len, char *err, size_t errlen)
{
    char    path[256];
    struct mx_conf *c;
    static int n;

    snprintf(path, sizeof(path), "%s/bytes%d.conf", tmpdir, n++);
    if (mx_write_atomic(path, bytes, len, 0600) < 0)
        perror(path), exit(1);
    err[0] = 0;
    c = conf_load(path, err, errlen);
    conf_free(c);
    return c ? "loaded" : err;
}

/* group_secret - FILE made 0640 with group GID, loaded as mysql_password_file
 * (with milter_user = USER when USER); the loaded password or the error */
static const char *group_secret(gid_t gid, const char *user, char *err, size_t errlen)
{
    static char got[600];
    char    text[600], *file = strdup(write_conf("s3cret-pw\n", 0640));
    struct mx_conf *c;

    if (chown(file, (uid_t) -1, gid) != 0)
        perror(file), exit(1);
    snprintf(text, sizeof(text), "mysql_password_file = %s\n%s%s\n", file,
             user ? "milter_user = " : "", user ? user : "");
    c = conf_load(write_conf(text, 0600), err, errlen);
    snprintf(got, sizeof(got), "%s", c ? c->mysql_password : err);
    conf_free(c);
    free(file);
    return got;
}

/* test_secret_group - issue 18: a secret file readable by a group other
 * than the service user's is refused, naming file, mode, group and what is
 * accepted; the reader's group and milter_user's group pass (root only:
 * it takes chown to any group) */
static void test_secret_group(void)
{
    char    err[600];
    const char *got;

    if (geteuid() != 0) {
        printf("# skipped: secret file groups need root\n");
        return;
    }
    T_STR("0640, our group: loads", group_secret(getegid(), 0, err, sizeof(err)), "s3cret-pw");
    T_STR("0640 root:GROUP read by root, no milter_user: loads (Debian's convention)",
          group_secret(4242, 0, err, sizeof(err)), "s3cret-pw");
    if (getpwnam("nobody") == 0 || getpwnam("nobody")->pw_gid == getegid()) {
        printf("# skipped: no user nobody with a group of its own\n");
        return;
    }
    got = group_secret(4242, "nobody", err, sizeof(err));
    T_HAS("0640, another group than milter_user's: refused", got, "has mode 0640 and group "
          "gid 4242: readable or writable by a group other than the service user's");
    T_HAS("0640, another group: says what is accepted", got,
          "accepted are 0600, or 0640 with group root");
    T_OK("0640, another group: secret not shown", strstr(got, "s3cret") == 0);
    T_STR("0640, milter_user's group: loads",
          group_secret(getpwnam("nobody")->pw_gid, "nobody", err, sizeof(err)), "s3cret-pw");
    T_HAS("0640, not milter_user's group: refused, both groups named",
          group_secret(4242, "nobody", err, sizeof(err)), "0640 with group root or ");
}

static void test_nul_byte(void)
{
    char    err[512];
    static const char text[] = "dns_ttl = 300\ndkim_keydir = /var/lib/x\0y\n";
    const char *got = load_bytes(text, sizeof(text) - 1, err, sizeof(err));

    T_HAS("NUL byte named as such", got, ":2: NUL byte in the line");
    T_OK("NUL byte: one line", strchr(got, '\n') == 0);
    T_OK("NUL byte: not called a long line", strstr(got, "longer") == 0);
}

/* test_ranges - every number and duration of the table at both ends of its
 * range loads; one past either end is refused with the range named.
 * Generated from the table, so a new row is covered without a new case. */
static void test_ranges(void)
{
    char    err[512], text[300], name[300], want[200];
    int     rows = 0;

    for (size_t i = 0; i < conf_table_len; i++) {
        const struct conf_row *r = &conf_table[i];
        long    vals[4] = {r->min, r->max, r->max + 1, r->min - 1};

        if ((r->type != CONF_INT && r->type != CONF_DURATION) || r->max == 0)
            continue;
        rows++;
        for (int k = 0; k < 4; k++) {
            int     bad = k >= 2;

            if (k == 3 && r->type == CONF_DURATION && r->min == 0)
                continue;               /* "-1" is no duration at all: not a range test */
            snprintf(text, sizeof(text), "%s = %ld\n", r->name, vals[k]);
            snprintf(name, sizeof(name), "range: %s = %ld %s", r->name, vals[k],
                     bad ? "refused" : "loads");
            snprintf(want, sizeof(want), "%s: %ld is outside %ld..%ld", r->name, vals[k],
                     r->min, r->max);
            if (bad)
                T_HAS(name, load_bytes(text, strlen(text), err, sizeof(err)), want);
            else
                T_STR(name, load_bytes(text, strlen(text), err, sizeof(err)), "loaded");
        }
    }
    T_OK("range: the table has numeric rows", rows > 10);
}

/* test_skip_secrets - the milter does not read (nor check) the PowerDNS key
 * file, nor the database password file while no database part is on */
static void test_skip_secrets(void)
{
    char    err[512], text[600];
    char   *loose = strdup(write_conf("s3cret-key\n", 0644));
    struct mx_conf *c;

    snprintf(text, sizeof(text), "pdns_api_key_file = /nonexistent/pdns.key\n"
             "mysql_password_file = %s\n", loose);
    conf_skip_secrets = CONF_SECRETS_MILTER;
    c = conf_load(write_conf(text, 0600), err, sizeof(err));
    T_STR("milter: unused secret files not read", c ? "loaded" : err, "loaded");
    T_STR("milter: pdns key left empty", c ? c->pdns_api_key : "", "");
    conf_free(c);
    snprintf(text, sizeof(text), "pdns_api_key_file = /nonexistent/pdns.key\n"
             "quota_enable = yes\nmysql_password_file = %s\n", loose);
    c = conf_load(write_conf(text, 0600), err, sizeof(err));
    T_HAS("milter: database password checked when quota is on", c ? "loaded" : err,
          "mysql_password_file:");
    conf_free(c);
    conf_skip_secrets = 0;
    c = conf_load(write_conf("pdns_api_key_file = /nonexistent/pdns.key\n", 0600), err,
                  sizeof(err));
    T_HAS("others: pdns key file still required", c ? "loaded" : err, "pdns_api_key_file:");
    conf_free(c);
    free(loose);
}

struct server_case {
    const char *in;
    int     family;             /* 0 = refused */
    int     port;
};

/* test_servers - dnsq_parse_server, the one parser of resolver addresses */
static void test_servers(void)
{
    static const struct server_case cases[] = {
        {"127.0.0.1", AF_INET, 53}, {"127.0.0.1:5300", AF_INET, 5300},
        {"::1", AF_INET6, 53}, {"[::1]", AF_INET6, 53}, {"[::1]:5353", AF_INET6, 5353},
        {"2001:db8::1", AF_INET6, 53}, {"[2001:db8::1]:1", AF_INET6, 1},
        {"", 0, 0}, {"[::1", 0, 0}, {"[::1]5353", 0, 0}, {"[::1]:", 0, 0},
        {"127.0.0.1:0", 0, 0}, {"127.0.0.1:65536", 0, 0}, {"[127.0.0.1]:53", 0, 0},
        {"ns1.example:53", 0, 0}, {"127.0.0.1:53x", 0, 0},
    };
    char    name[128];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sockaddr_storage ss;
        socklen_t len;
        int     rc = dnsq_parse_server(cases[i].in, &ss, &len), port = 0;

        if (rc == 0)
            port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *) &ss)->sin_port
                         : ((struct sockaddr_in6 *) &ss)->sin6_port);
        snprintf(name, sizeof(name), "server \"%s\": family", cases[i].in);
        T_INT(name, rc == 0 ? ss.ss_family : 0, cases[i].family);
        snprintf(name, sizeof(name), "server \"%s\": port", cases[i].in);
        T_INT(name, port, cases[i].port);
    }
}

/* same_as_file - does PATH hold exactly what WRITER prints? */
static void same_as_file(const char *name, const char *path, void (*writer)(FILE *))
{
    char   *mem = 0, *file;
    size_t  memlen = 0;
    FILE   *fp = open_memstream(&mem, &memlen);

    writer(fp);
    fclose(fp);
    file = mx_read_file(path, 0);
    if (file && strcmp(file, mem) == 0)
        T_OK(name, 1);
    else
        T_STR(name, file ? "differs from the table (run make sample)" : "missing",
              "same as the table");
    free(file);
    free(mem);
}

/* man_text - TEXT as roff running text: backslash doubled as \e, '-' as
 * \-, a leading '.' or '\'' guarded by \& */
static void man_text(FILE *fp, const char *text)
{
    if (*text == '.' || *text == '\'')
        fputs("\\&", fp);
    for (const char *p = text; *p; p++) {
        if (*p == '\\')
            fputs("\\e", fp);
        else if (*p == '-')
            fputs("\\-", fp);
        else
            fputc(*p, fp);
    }
}

/* man_type - the type words of the reference (conf.c's type_name) */
static const char *man_type(enum conf_type t)
{
    static const char *names[] = {
        "text", "path", "number", "yes|no", "one of", "list", "duration",
        "address list", "secret", "IP or IP:PORT", "IPv4 address", "IPv6 address",
        "octal mode"
    };

    return (size_t) t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

static void man_row(FILE *fp, const struct conf_row *r)
{
    char    range[64] = "";

    if (r->type == CONF_INT || (r->type == CONF_DURATION && r->max))
        snprintf(range, sizeof(range), "%ld..%ld", r->min, r->max);
    fprintf(fp, ".TP\n.B %s\n", r->name);
    man_text(fp, r->help);
    fputs(".\n.br\nType: ", fp);
    man_text(fp, man_type(r->type));
    if (r->allowed || *range) {
        fputs("; allowed: ", fp);
        man_text(fp, r->allowed ? r->allowed : range);
    }
    fputs("; default: ", fp);
    if (*r->def)
        fputs("\\(lq", fp), man_text(fp, r->def), fputs("\\(rq", fp);
    else
        fputs("empty", fp);
    fputs(".\n", fp);
}

/* man_write - mxdock.conf(5) from the table: every key, type, default,
 * range and help, so the page cannot drift from the loader */
static void man_write(FILE *fp)
{
    fputs(".\\\" Generated by tests/unit/test_conf --man (make sample); do not edit.\n"
          ".TH MXDOCK.CONF 5 \"\" \"mxdock\" \"mxdock manual\"\n"
          ".SH NAME\nmxdock.conf \\- configuration of the mxdock mail tools\n"
          ".SH SYNOPSIS\n.B /etc/mxdock/mxdock.conf\n"
          ".SH DESCRIPTION\nOne file configures\n.BR mxdock\\-milter (8),\n"
          ".BR mxdock\\-dns (8),\n.BR mxdock\\-dkim (8)\nand\n.BR mxdock\\-policy (8).\n"
          "Each reads\n.B \\-c\n.IR FILE ,\nelse\n.BR $MXDOCK_CONF ,\n"
          "else\n.IR /etc/mxdock/mxdock.conf .\n"
          ".PP\nThe file holds\n.I key\n=\n.I value\nlines; a line starting with\n.B #\n"
          "is a comment.\nAn unknown key, a bad value or a key given twice stops every program\n"
          "with one line naming file, line and key (exit 78, EX_CONFIG).\n"
          "Durations take a suffix:\n.BR s ,\n.BR m ,\n.BR h ,\n.BR d ,\n.BR w .\n"
          "Lists are separated by commas.\n"
          "A file named by a\n.B *_file\nkey that holds a secret must not be readable\n"
          "or writable by others.\n.SH KEYS\n", fp);
    for (size_t i = 0; i < conf_table_len; i++)
        man_row(fp, &conf_table[i]);
    fputs(".SH FILES\n.TP\n.I /etc/mxdock/mxdock.conf\nthe configuration\n"
          ".TP\n.I /var/lib/mxdock\nkeys and state (mode 0700, the mxdock user)\n"
          ".SH SEE ALSO\n.BR mxdock\\-milter (8),\n.BR mxdock\\-dns (8),\n"
          ".BR mxdock\\-dkim (8),\n.BR mxdock\\-policy (8)\n", fp);
}

/* man_has_keys - every key of the table has its own entry in PATH */
static void man_has_keys(const char *path)
{
    char   *page = mx_read_file(path, 0);
    char    want[128], name[160];

    for (size_t i = 0; i < conf_table_len; i++) {
        snprintf(want, sizeof(want), "\n.B %s\n", conf_table[i].name);
        snprintf(name, sizeof(name), "mxdock.conf(5) has key %s", conf_table[i].name);
        if (page && strstr(page, want))
            T_OK(name, 1);
        else
            T_STR(name, page ? "missing" : "no page", "an entry");
    }
    free(page);
}

struct domain_case {
    const char *in, *want;      /* want NULL = refused */
};

static void test_domains(void)
{
    static const struct domain_case cases[] = {
        {"Example.TEST", "example.test"},
        {"example.test.", "example.test"},
        {"mail.sub.example.test", "mail.sub.example.test"},
        {"bücher.example", "xn--bcher-kva.example"},
        {"", 0}, {"example", 0}, {"a..b.test", 0}, {"-a.test", 0}, {"a-.test", 0},
        {"under_score.test", 0}, {"exa mple.test", 0}, {"example.test/x", 0},
        {"example.123", 0}, {"example.test..", 0},
        {"xn--zz.com", 0}, {"xn--.com", 0}, {"mail.xn--abc-.com", 0}, {"xn--a.com", 0},
        {"XN--BCHER-KVA.example", "xn--bcher-kva.example"}, {"a\nb.test", 0},
        {"z.e.e.\xcd\x8f", 0},    /* fuzz_domain: U+034F maps to nothing, left "z.e.e." */
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test", 0},
    };
    char    out[256], why[256], name[400];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int     rc = mx_domain_normalize(cases[i].in, out, sizeof(out), why, sizeof(why));

        char    shown[80];

        snprintf(name, sizeof(name), "domain \"%s\"", mx_shown(cases[i].in, shown, sizeof(shown)));
        if (cases[i].want)
            T_STR(name, rc == 0 ? out : why, cases[i].want);
        else
            T_STR(name, rc == 0 ? out : "refused", "refused");
    }
    struct strbuf long_name = STRBUF_INIT;

    for (int i = 0; i < 60; i++)
        sb_puts(&long_name, "abcd.");
    sb_puts(&long_name, "test");
    T_INT("domain over 253 bytes refused",
          mx_domain_normalize(sb_str(&long_name), out, sizeof(out), why, sizeof(why)), -1);
    T_HAS("over 253 reason", why, "at most 253");
    sb_free(&long_name);
    T_INT("xn--zz.com refused", mx_domain_normalize("xn--zz.com", out, sizeof(out), why,
                                                   sizeof(why)), -1);
    T_HAS("xn--zz.com reason", why, "punycode");
    T_STR("shown: newline escaped", mx_shown("a\nb.test", out, sizeof(out)), "a\\x0ab.test");
    T_STR("shown: cut to fit", mx_shown("abcdefghij", out, 6), "abcde");
    T_OK("within: sub", mx_domain_within("mail.example.test", "example.test"));
    T_OK("within: equal", mx_domain_within("example.test", "example.test"));
    T_OK("within: not a label suffix", !mx_domain_within("badexample.test", "example.test"));
}

static void test_cidr_and_lists(void)
{
    struct cidr_list *l = cidr_list_parse("127.0.0.0/8, ::1/128, 192.0.2.0/24, 2001:db8::/32");
    char    item[64], out[64];
    const char *cur;
    int     n = 0;

    T_OK("cidr 127.0.0.2 in", cidr_list_match_text(l, "127.0.0.2"));
    T_OK("cidr ::ffff:127.0.0.2 in (mapped)", cidr_list_match_text(l, "::ffff:127.0.0.2"));
    T_OK("cidr 192.0.3.1 out", !cidr_list_match_text(l, "192.0.3.1"));
    T_OK("cidr 2001:db8:1::5 in", cidr_list_match_text(l, "2001:db8:1::5"));
    T_OK("cidr 2001:db9::1 out", !cidr_list_match_text(l, "2001:db9::1"));
    cidr_list_free(l);
    for (cur = " a, b ,,c "; conf_list_next(&cur, item, sizeof(item));)
        n++;
    T_INT("list items", n, 3);
    T_OK("list has B (case)", conf_list_has("a, B, c", "b"));
    T_INT("expand", conf_expand("mail.%d and 100%%", "example.test", out, sizeof(out)), 0);
    T_STR("expand text", out, "mail.example.test and 100%");
    T_INT("expand overflow", conf_expand("%d%d%d", "example.test", out, 20), -1);
}

/* test_hostlist - mysql_host lists: each item's host and port, in order,
 * or the whole list refused (conf_host_check) */
static void test_hostlist(void)
{
    static const struct {
        const char *in, *want;  /* want: "host/port ..." or "refused" */
    } cases[] = {
        {"localhost", "localhost/3306"},
        {"127.0.0.1:3307", "127.0.0.1/3307"},
        {"db1:3307, db2 , db3:3309", "db1/3307 db2/3306 db3/3309"},
        {" 10.0.0.1:1,10.0.0.2:65535 ", "10.0.0.1/1 10.0.0.2/65535"},
        {"[::1]:3307, [2001:db8::5]", "::1/3307 2001:db8::5/3306"},
        {"::1", "::1/3306"},
        {"", ""},
        {"db1:0", "refused"},
        {"db1:65536", "refused"},
        {"db1:33x", "refused"},
        {"db1:", "refused"},
        {"db 1", "refused"},
        {"[::1", "refused"},
        {"[::1]x", "refused"},
        {"db1;drop", "refused"},
        {"db1, db2:port", "refused"},
    };
    char    got[512], host[256], why[200], name[100];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *cur = cases[i].in;
        unsigned port;
        int     r;

        got[0] = 0;
        while ((r = conf_host_next(&cur, host, sizeof(host), &port, 3306)) == 1)
            snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s/%u",
                     got[0] ? " " : "", host, port);
        if (conf_host_check(cases[i].in, why, sizeof(why)) < 0)
            snprintf(got, sizeof(got), "refused");
        snprintf(name, sizeof(name), "mysql_host \"%s\"", cases[i].in);
        T_STR(name, got, cases[i].want);
    }
}

static void test_clock(void)
{
    setenv("MXDOCK_NOW", "1800000000", 1);
    T_INT("MXDOCK_NOW honoured", mx_now(), 1800000000);
    unsetenv("MXDOCK_NOW");
    T_OK("clock without MXDOCK_NOW", mx_now() > 1700000000);
}

int     main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--sample") == 0)
        return conf_write_sample(stdout), 0;
    if (argc > 1 && strcmp(argv[1], "--reference") == 0)
        return conf_write_reference(stdout), 0;
    if (argc > 1 && strcmp(argv[1], "--man") == 0)
        return man_write(stdout), 0;
    if (mkdtemp(tmpdir) == 0)
        return perror("mkdtemp"), EX_OSERR;
    test_load_errors();
    test_values();
    test_secret_group();
    test_nul_byte();
    test_ranges();
    test_skip_secrets();
    test_servers();
    test_domains();
    test_cidr_and_lists();
    test_clock();
    test_hostlist();
    same_as_file("sample conf/mxdock.conf matches the table", "conf/mxdock.conf",
                 conf_write_sample);
    same_as_file("docs/CONFIG.md matches the table", "docs/CONFIG.md", conf_write_reference);
    same_as_file("docs/man/mxdock.conf.5 matches the table", "docs/man/mxdock.conf.5", man_write);
    man_has_keys("docs/man/mxdock.conf.5");
    char    rm[300];

    snprintf(rm, sizeof(rm), "rm -rf %s", tmpdir);
    if (system(rm) != 0)
        t_fail++;
    return t_done();
}
