/*
 * mxdock-dkim - the DKIM key store from the command line.
 *
 *   mxdock-dkim [-c FILE] VERB [ARGS]     (see usage() for the verbs)
 *
 * A thin layer over dkim.h: arguments are checked here (domain names with
 * mx_domain_normalize, selectors by looking them up), the work is done by
 * the store.  After a change that DNS must follow (rotate, tick, retire to
 * retired), the DNS sync runs as a separate program, mxdock-dns from this
 * program's own directory, unless pdns_api_url is empty (operators without
 * PowerDNS publish the `dns` output themselves).
 *
 * Diagnostics: one line on stderr naming what was wrong; exit codes from
 * <sysexits.h>: EX_USAGE bad arguments, EX_DATAERR bad domain, selector or
 * store contents, EX_CONFIG configuration (a database that refuses our
 * login included), EX_NOINPUT a missing input, EX_CANTCREAT a store that
 * cannot be written, EX_TEMPFAIL a tick that could not write a domain's
 * change (left as it was; the next tick retries), EX_UNAVAILABLE a DNS sync
 * that failed or a key database (dkim_store = mysql) that does not answer.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include <jansson.h>

#include "dkim_help.h"
#include "dkim_impl.h"
#include "domain.h"
#include "fileio.h"

static const char *prog = "mxdock-dkim";
/* the verbs, with how many arguments each takes: checked before the
 * configuration is read, so a usage error is named even without one */
#define MAX_POS 64

static const struct verb {
    const char *name;
    int     min, max;
    const char *want;
} verbs[] = {
    {"keygen", 1, 1, "keygen wants DOMAIN"},
    {"dns", 1, 1, "dns wants DOMAIN"},
    {"list", 0, 1, "list wants at most one DOMAIN"},
    {"activate", 2, 2, "activate wants DOMAIN SELECTOR"},
    {"retire", 2, 2, "retire wants DOMAIN SELECTOR"},
    {"rotate", 1, 1, "rotate wants DOMAIN"},
    {"tick", 0, 0, "tick takes no arguments"},
    {"import", 2, 2, "import wants KEYTABLE SIGNINGTABLE"},
    {"migrate-store", 0, MAX_POS, "migrate-store wants --to=mysql|files [DOMAIN...]"},
    {0, 0, 0, 0},
};

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: %s [-c FILE] VERB [ARGS]\n"
            "  keygen DOMAIN [--algorithm=ed25519|rsa] [--bits=N]\n"
            "                      new keys in state pending (default: one per\n"
            "                      dkim_algorithms; N = RSA bits, 1024..4096);\n"
            "                      the next tick publishes and activates them\n"
            "  dns DOMAIN [--json] the TXT records to publish (pending, active, retiring)\n"
            "  list [DOMAIN] [--json]  selector, algorithm, bits, state, age\n"
            "  activate DOMAIN SELECTOR  sign with SELECTOR now; the active key of\n"
            "                      its algorithm goes retiring\n"
            "  retire DOMAIN SELECTOR    stop signing with SELECTOR (retiring; a\n"
            "                      retiring one goes retired, then the DNS sync)\n"
            "  rotate DOMAIN       new pending keys, then the DNS sync\n"
            "  tick                advance every domain whose time has come, then\n"
            "                      the DNS sync for the domains that need it\n"
            "  import KEYTABLE SIGNINGTABLE  take over OpenDKIM's keys as active\n"
            "  migrate-store --to=mysql|files [DOMAIN...]  copy every domain (or those\n"
            "                      named) from the other store, keys and states\n"
            "                      unchanged; then switch dkim_store\n"
            "options: -c FILE  configuration (default $MXDOCK_CONF, else %s)\n"
            "         -h, --help  this text; VERB --help: the verb's own, with examples\n"
            "exit codes: 0 ok; 64 usage; 65 bad domain, selector or store contents;\n"
            "  66 missing input (table, key store, no published key); 69 DNS sync failed;\n"
            "  73 the store cannot be written; 75 tick: a change not written (retried);\n"
            "  78 configuration\n"
            "examples:\n"
            "  %s keygen example.com\n"
            "  %s list --json | jq -r '.[] | select(.state == \"active\") | .selector'\n"
            "  %s tick\n", prog, MX_CONF_DEFAULT_PATH, prog, prog, prog);
}

static int bad_usage(const char *what)
{
    fprintf(stderr, "%s: %s (try %s --help)\n", prog, what, prog);
    return EX_USAGE;
}

/* args - split ARGV into positional arguments and --name[=value] options */
struct args {
    const char *pos[MAX_POS];
    int     npos;
    const char *algorithm;
    const char *to;
    const char *bits;
    int     json;
};

static int parse_args(int argc, char **argv, struct args *a)
{
    memset(a, 0, sizeof(*a));
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];

        if (strncmp(s, "--algorithm=", 12) == 0)
            a->algorithm = s + 12;
        else if (strncmp(s, "--bits=", 7) == 0)
            a->bits = s + 7;
        else if (strcmp(s, "--json") == 0)
            a->json = 1;
        else if (strncmp(s, "--to=", 5) == 0)
            a->to = s + 5;
        else if (s[0] == '-' && s[1] != 0) {
            char    shown[80];

            fprintf(stderr, "%s: unknown option \"%s\" (try %s --help)\n", prog,
                    mx_shown(s, shown, sizeof(shown)), prog);
            return -1;
        } else if (a->npos < MAX_POS)
            a->pos[a->npos++] = s;
        else
            return bad_usage("too many arguments"), -1;
    }
    return 0;
}

/* want_domain - normalise a DOMAIN argument into OUT */
static int want_domain(const char *in, char *out, size_t outlen)
{
    char    why[200], shown[128];

    if (mx_domain_normalize(in, out, outlen, why, sizeof(why)) < 0) {
        fprintf(stderr, "%s: bad domain \"%s\": %s\n", prog, mx_shown(in, shown, sizeof(shown)),
                why);
        return -1;
    }
    return 0;
}

/* db_code - the exit code of a store read that failed: with dkim_store =
 * mysql a database that refuses us is EX_CONFIG, one that does not answer
 * EX_UNAVAILABLE; else (or when it answers) CODE */
static int db_code(const struct mx_conf *conf, int code)
{
    if (!dkim_db_on(conf))
        return code;
    switch (dkim_db_reach(conf)) {
    case -1:
        return EX_CONFIG;
    case -2:
        return EX_UNAVAILABLE;
    default:
        return code;
    }
}

/* load - the domain's selectors, or a message and NULL */
static struct dkim_domain *load(const struct mx_conf *conf, const char *domain)
{
    struct dkim_domain *dom;
    char    why[600];

    if (dkim_store_load(conf, domain, &dom, why, sizeof(why)) < 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, domain, why);
        return 0;
    }
    return dom;
}

/* dns_sync - mxdock-dns -c CONF sync DOMAIN, from our own directory */
static int dns_sync(const struct mx_conf *conf, const char *domain)
{
    char    self[PATH_MAX], path[PATH_MAX + 16];
    ssize_t n;
    pid_t   pid;
    int     status;

    if (conf->pdns_api_url == 0 || *conf->pdns_api_url == 0)
        return 0;
    if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0)
        return fprintf(stderr, "%s: cannot find my own directory: %s\n", prog,
                       strerror(errno)), -1;
    self[n] = 0;
    snprintf(path, sizeof(path), "%s/mxdock-dns", dirname(self));
    fflush(0);
    if ((pid = fork()) < 0)
        return fprintf(stderr, "%s: fork: %s\n", prog, strerror(errno)), -1;
    if (pid == 0) {
        execl(path, "mxdock-dns", "-c", conf->path, "sync", domain, (char *) 0);
        fprintf(stderr, "%s: cannot run %s: %s\n", prog, path, strerror(errno));
        _exit(EX_UNAVAILABLE);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    fprintf(stderr, "%s: %s: DNS sync failed (mxdock-dns exit %d)\n", prog, domain,
            WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return -1;
}

/* store_failed - a change to DOMAIN failed and was not written: say so with
 * WHAT before the reason; a store that does not load is a data error,
 * anything else CODE (EX_CANTCREAT for a command, EX_TEMPFAIL for tick,
 * which the next tick retries) */
static int store_failed(const struct mx_conf *conf, const char *domain, const char *what,
                        const char *why, int code)
{
    struct dkim_domain *dom;
    char    why2[600];

    fprintf(stderr, "%s: %s: %s%s\n", prog, domain, what, why);
    if (dkim_store_load(conf, domain, &dom, why2, sizeof(why2)) < 0)
        return db_code(conf, EX_DATAERR);
    dkim_domain_free(dom);
    return code;
}

/* write_failed - a command's store change failed */
static int write_failed(const struct mx_conf *conf, const char *domain, const char *why)
{
    return store_failed(conf, domain, "", why, EX_CANTCREAT);
}

static int cmd_keygen(const struct mx_conf *conf, const struct args *a)
{
    char    domain[256], why[600], *end;
    struct dkim_domain *before, *after;
    long    bits = 0;

    if (a->bits)
        bits = strtol(a->bits, &end, 10);       /* checked by usage_check */
    if (want_domain(a->pos[0], domain, sizeof(domain)) < 0)
        return EX_DATAERR;
    if ((before = load(conf, domain)) == 0)
        return db_code(conf, EX_DATAERR);
    if (dkim_store_keygen(conf, domain, a->algorithm, (int) bits, DKIM_PENDING,
                          why, sizeof(why)) < 0) {
        dkim_domain_free(before);
        return write_failed(conf, domain, why);
    }
    if ((after = load(conf, domain)) == 0) {
        dkim_domain_free(before);
        return db_code(conf, EX_DATAERR);
    }
    for (size_t i = 0; i < after->n; i++)
        if (dkim_domain_find(before, after->sel[i].name) == 0)
            printf("%s._domainkey.%s %s %d pending\n", after->sel[i].name, domain,
                   dkim_alg_name(after->sel[i].alg), after->sel[i].bits);
    dkim_domain_free(before);
    dkim_domain_free(after);
    return EX_OK;
}

/* dns_json - one published key as the object of dns --json */
static void dns_json(json_t *arr, const char *domain, const struct dkim_selector *s,
                     const char *value)
{
    char    name[400];

    snprintf(name, sizeof(name), "%s._domainkey.%s.", s->name, domain);
    json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}",
                                         "domain", domain, "selector", s->name,
                                         "algorithm", dkim_alg_name(s->alg),
                                         "state", dkim_state_name(s->state),
                                         "name", name, "value", value));
}

static int cmd_dns(const struct mx_conf *conf, const struct args *a)
{
    char    domain[256];
    struct dkim_domain *dom;
    struct strbuf value = STRBUF_INIT, quoted = STRBUF_INIT;
    int     shown = 0;
    json_t *arr;

    if (a->npos != 1)
        return bad_usage("dns wants DOMAIN");
    if (want_domain(a->pos[0], domain, sizeof(domain)) < 0)
        return EX_DATAERR;
    if ((dom = load(conf, domain)) == 0)
        return db_code(conf, EX_DATAERR);
    arr = a->json ? json_array() : 0;
    for (size_t i = 0; i < dom->n; i++) {
        if (!dkim_is_published_state(dom->sel[i].state))
            continue;
        sb_reset(&value);
        sb_reset(&quoted);
        dkim_txt_value(&dom->sel[i], &value);
        dkim_txt_quoted(sb_str(&value), &quoted);
        if (arr)
            dns_json(arr, domain, &dom->sel[i], sb_str(&value));
        else
            printf("%s._domainkey.%s. IN TXT %s\n", dom->sel[i].name, domain, sb_str(&quoted));
        shown++;
    }
    if (arr && shown) {
        json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
        putchar('\n');
    }
    json_decref(arr);
    sb_free(&value);
    sb_free(&quoted);
    dkim_domain_free(dom);
    if (shown == 0) {
        fprintf(stderr, "%s: %s has no published DKIM keys (mxdock-dkim keygen %s)\n",
                prog, domain, domain);
        return EX_NOINPUT;
    }
    return EX_OK;
}

/* age - a duration as 3d, 5h or 7m */
static const char *age(time_t secs, char *buf, size_t len)
{
    if (secs < 0)
        secs = 0;
    if (secs >= 86400)
        snprintf(buf, len, "%lldd", (long long) secs / 86400);
    else if (secs >= 3600)
        snprintf(buf, len, "%lldh", (long long) secs / 3600);
    else
        snprintf(buf, len, "%lldm", (long long) secs / 60);
    return buf;
}

/* list_domain - one domain's selectors as text lines or JSON objects */
static void list_domain(const struct dkim_domain *dom, time_t now, json_t *arr)
{
    char    a1[32], a2[32];

    for (size_t i = 0; i < dom->n; i++) {
        const struct dkim_selector *s = &dom->sel[i];

        if (arr)
            json_array_append_new(arr, json_pack(
                "{s:s, s:s, s:s, s:i, s:s, s:I, s:I, s:I}", "domain", dom->domain,
                "selector", s->name, "algorithm", dkim_alg_name(s->alg), "bits", s->bits,
                "state", dkim_state_name(s->state), "created", (json_int_t) s->created,
                "changed", (json_int_t) s->changed, "age", (json_int_t) (now - s->created)));
        else
            printf("%-24s %-16s %-8s %5d %-9s %6s %6s\n", dom->domain, s->name,
                   dkim_alg_name(s->alg), s->bits, dkim_state_name(s->state),
                   age(now - s->created, a1, sizeof(a1)), age(now - s->changed, a2, sizeof(a2)));
    }
}

static int cmd_list(const struct mx_conf *conf, const struct args *a)
{
    char    domain[256], why[600], **names = 0;
    size_t  n = 0;
    int     rc = EX_OK;
    json_t *arr = a->json ? json_array() : 0;
    struct dkim_domain *dom;

    if (a->npos > 1)
        return bad_usage("list wants at most one DOMAIN");
    if (a->npos == 1) {
        if (want_domain(a->pos[0], domain, sizeof(domain)) < 0)
            return EX_DATAERR;
        if ((names = malloc(sizeof(*names))) == 0 || (names[0] = strdup(domain)) == 0)
            return fprintf(stderr, "%s: out of memory\n", prog), EX_OSERR;
        n = 1;
    } else if (dkim_store_domains(conf, &names, &n, why, sizeof(why)) < 0) {
        json_decref(arr);
        return fprintf(stderr, "%s: %s\n", prog, why), db_code(conf, EX_NOINPUT);
    }
    if (!a->json)
        printf("%-24s %-16s %-8s %5s %-9s %6s %6s\n", "DOMAIN", "SELECTOR", "ALG", "BITS",
               "STATE", "AGE", "SINCE");
    for (size_t i = 0; i < n; i++) {
        if ((dom = load(conf, names[i])) == 0)
            rc = db_code(conf, EX_DATAERR);
        else
            list_domain(dom, mx_now(), arr);
        dkim_domain_free(dom);
        free(names[i]);
    }
    free(names);
    if (arr) {
        json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
        putchar('\n');
        json_decref(arr);
    }
    return rc;
}

/* cmd_move - activate and retire */
static int cmd_move(const struct mx_conf *conf, const struct args *a, int activate)
{
    char    domain[256], why[600];
    struct dkim_domain *dom;
    struct dkim_selector *sel;
    enum dkim_state to;

    if (a->npos != 2)
        return bad_usage(activate ? "activate wants DOMAIN SELECTOR" : "retire wants DOMAIN SELECTOR");
    if (want_domain(a->pos[0], domain, sizeof(domain)) < 0)
        return EX_DATAERR;
    if ((dom = load(conf, domain)) == 0)
        return db_code(conf, EX_DATAERR);
    if ((sel = dkim_domain_find(dom, a->pos[1])) == 0) {
        fprintf(stderr, "%s: %s has no selector \"%.70s\"\n", prog, domain, a->pos[1]);
        dkim_domain_free(dom);
        return EX_DATAERR;
    }
    if (activate && sel->state == DKIM_RETIRED) {
        fprintf(stderr, "%s: %s: %s is retired and no longer in DNS; make a new key\n",
                prog, domain, sel->name);
        dkim_domain_free(dom);
        return EX_DATAERR;
    }
    to = activate ? DKIM_ACTIVE : sel->state == DKIM_RETIRING || sel->state == DKIM_RETIRED
        ? DKIM_RETIRED : DKIM_RETIRING;
    dkim_domain_free(dom);
    if (dkim_store_set_state(conf, domain, a->pos[1], to, why, sizeof(why)) < 0)
        return write_failed(conf, domain, why);
    printf("%s._domainkey.%s %s\n", a->pos[1], domain, dkim_state_name(to));
    return to == DKIM_RETIRED && dns_sync(conf, domain) < 0 ? EX_UNAVAILABLE : EX_OK;
}

static int cmd_rotate(const struct mx_conf *conf, const struct args *a)
{
    char    domain[256], why[600];
    struct dkim_domain *dom;
    int     made;

    if (a->npos != 1)
        return bad_usage("rotate wants DOMAIN");
    if (want_domain(a->pos[0], domain, sizeof(domain)) < 0)
        return EX_DATAERR;
    if ((dom = load(conf, domain)) == 0)
        return db_code(conf, EX_DATAERR);
    dkim_domain_free(dom);
    if (dkim_store_rotate(conf, domain, &made, why, sizeof(why)) < 0)
        return write_failed(conf, domain, why);
    printf("%s: %d new pending key%s\n", domain, made, made == 1 ? "" : "s");
    return made > 0 && dns_sync(conf, domain) < 0 ? EX_UNAVAILABLE : EX_OK;
}

/* tick_failed - DOMAIN was left as it was; the next tick retries */
static int tick_failed(const struct mx_conf *conf, const char *domain, const char *why)
{
    return store_failed(conf, domain, "skipped, nothing changed: ", why, EX_TEMPFAIL);
}

/* worse - the exit code to keep: a broken store, then a failed write, then
 * a failed DNS sync */
static int worse(int a, int b)
{
    static const int rank[] = {EX_OK, EX_UNAVAILABLE, EX_TEMPFAIL, EX_DATAERR};
    int     ra = 0, rb = 0;

    for (int i = 0; i < 4; i++) {
        ra = rank[i] == a ? i : ra;
        rb = rank[i] == b ? i : rb;
    }
    return rb > ra ? b : a;
}

static int cmd_tick(const struct mx_conf *conf, const struct args *a)
{
    char    why[600], **names;
    size_t  n;
    int     rc = EX_OK, changed, unseen;
    struct strbuf report = STRBUF_INIT;
    time_t  now = mx_now();

    if (a->npos != 0)
        return bad_usage("tick takes no arguments");
    if (dkim_store_domains(conf, &names, &n, why, sizeof(why)) < 0)
        return fprintf(stderr, "%s: %s\n", prog, why), db_code(conf, EX_NOINPUT);
    for (size_t i = 0; i < n; i++) {
        sb_reset(&report);
        if (dkim_store_tick(conf, names[i], now, &report, &changed, &unseen,
                            why, sizeof(why)) < 0)
            rc = worse(rc, tick_failed(conf, names[i], why));
        fputs(sb_str(&report), stdout);
        if ((changed || unseen) && dns_sync(conf, names[i]) < 0)
            rc = worse(rc, EX_UNAVAILABLE);
        free(names[i]);
    }
    free(names);
    sb_free(&report);
    return rc;
}

static int cmd_import(const struct mx_conf *conf, const struct args *a)
{
    char    why[600];
    struct strbuf report = STRBUF_INIT;
    int     failed;

    if (a->npos != 2)
        return bad_usage("import wants KEYTABLE SIGNINGTABLE");
    failed = dkim_store_import(conf, a->pos[0], a->pos[1], &report, why, sizeof(why));
    fputs(sb_str(&report), stdout);
    sb_free(&report);
    if (failed < 0)
        return fprintf(stderr, "%s: %s\n", prog, why), failed == -2 ? EX_DATAERR : EX_NOINPUT;
    if (failed > 0)
        return fprintf(stderr, "%s: %d key%s not imported\n", prog, failed,
                       failed == 1 ? "" : "s"), EX_DATAERR;
    return EX_OK;
}

/* migrate_one - DOMAIN from FROM into TO, said on stdout; an exit code */
static int migrate_one(const struct mx_conf *from, const struct mx_conf *to, const char *domain)
{
    char    why[600];
    int     r = dkim_store_migrate(from, to, domain, why, sizeof(why));

    if (r == 0)
        printf("%s: copied into the %s store\n", domain, to->dkim_store);
    else if (r == 1)
        printf("%s: already in the %s store, the same; skipped\n", domain, to->dkim_store);
    else
        fprintf(stderr, "%s: %s: %s\n", prog, domain, why);
    return r >= 0 ? EX_OK : r == -2 ? EX_DATAERR : r == -3 ? EX_NOINPUT
        : db_code(dkim_db_on(to) ? to : from, EX_CANTCREAT);
}

/* cmd_migrate - every domain of the other store, or those named, into the
 * store --to names; the worst exit code of them */
static int cmd_migrate(const struct mx_conf *conf, const struct args *a)
{
    struct mx_conf from = *conf, to = *conf;
    char    why[600], norm[256], **names = 0;
    size_t  n = 0;
    int     rc = EX_OK, r;

    to.dkim_store = (char *) a->to;
    from.dkim_store = (char *) (strcmp(a->to, "mysql") == 0 ? "files" : "mysql");
    if (a->npos == 0 && dkim_store_domains(&from, &names, &n, why, sizeof(why)) < 0)
        return fprintf(stderr, "%s: %s\n", prog, why), db_code(&from, EX_NOINPUT);
    for (size_t i = 0; i < (a->npos ? (size_t) a->npos : n); i++) {
        if (a->npos && want_domain(a->pos[i], norm, sizeof(norm)) < 0)
            r = EX_DATAERR;
        else
            r = migrate_one(&from, &to, a->npos ? norm : names[i]);
        rc = r != EX_OK && (rc == EX_OK || r == EX_DATAERR) ? r : rc;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

/* seal_ready - every verb reads private keys in the database (a load
 * checks each, dkim_db_keys.c), so the seal key file is checked first: a
 * missing, loose, malformed or wrong one is a configuration error, said
 * once, before anything changes */
static int seal_ready(const struct mx_conf *conf, const struct args *a)
{
    struct mx_conf db = *conf;
    char    why[600];
    int     r;

    if (a->to)
        db.dkim_store = (char *) "mysql";
    if ((r = dkim_store_check(&db, why, sizeof(why))) == 0)
        return 0;
    fprintf(stderr, "%s: %s\n", prog, why);
    return r == -1 ? EX_CONFIG : EX_UNAVAILABLE;
}

/* usage_check - VERB's argument count and options, before any config */
static int usage_check(const char *verb, const struct args *a)
{
    const struct verb *v = verbs;
    long    bits;
    char   *end;

    while (v->name && strcmp(v->name, verb) != 0)
        v++;
    if (v->name == 0) {
        char    shown[64];

        fprintf(stderr, "%s: unknown verb \"%s\" (try %s --help)\n", prog,
                mx_shown(verb, shown, sizeof(shown)), prog);
        return EX_USAGE;
    }
    if (a->npos < v->min || a->npos > v->max)
        return bad_usage(v->want);
    if (a->algorithm && strcmp(a->algorithm, "ed25519") && strcmp(a->algorithm, "rsa"))
        return bad_usage("--algorithm is ed25519 or rsa");
    if (a->bits && ((bits = strtol(a->bits, &end, 10)) < 1024 || bits > 4096 || *end))
        return bad_usage("--bits wants an RSA key size in 1024..4096");
    if (a->json && strcmp(verb, "list") != 0 && strcmp(verb, "dns") != 0)
        return bad_usage("--json is for list and dns");
    if ((strcmp(verb, "migrate-store") == 0) != (a->to != 0)
        || (a->to && strcmp(a->to, "mysql") != 0 && strcmp(a->to, "files") != 0))
        return bad_usage(a->to ? "--to=mysql or --to=files, with migrate-store only"
                         : "migrate-store wants --to=mysql or --to=files");
    return 0;
}

int     main(int argc, char **argv)
{
    const char *conf_opt = 0, *verb;
    struct mx_conf *conf;
    struct args a;
    int     i = 1, rc;

    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return usage(stdout), EX_OK;
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            conf_opt = argv[++i];
        } else if (strcmp(argv[i], "-c") == 0) {
            return bad_usage("-c wants FILE");
        } else {
            char    shown[80];

            fprintf(stderr, "%s: unknown option \"%s\" (try %s --help)\n", prog,
                    mx_shown(argv[i], shown, sizeof(shown)), prog);
            return EX_USAGE;
        }
    }
    if (i >= argc)
        return bad_usage("no verb");
    verb = argv[i++];
    if (strcmp(verb, "help") == 0 && i < argc && dkim_help(argv[i], stdout) == 0)
        return EX_OK;
    if (strcmp(verb, "help") == 0)
        return usage(stdout), EX_OK;
    if (dkim_help_wanted(argc - i, argv + i) && dkim_help(verb, stdout) == 0)
        return EX_OK;
    if (parse_args(argc - i, argv + i, &a) < 0)
        return EX_USAGE;
    if ((rc = usage_check(verb, &a)) != 0)
        return rc;
    conf = conf_load_or_exit(prog, conf_opt);
    umask(077);
    if ((rc = seal_ready(conf, &a)) != 0) {
        conf_free(conf);
        return rc;
    }
    if (strcmp(verb, "keygen") == 0)
        rc = cmd_keygen(conf, &a);
    else if (strcmp(verb, "dns") == 0)
        rc = cmd_dns(conf, &a);
    else if (strcmp(verb, "list") == 0)
        rc = cmd_list(conf, &a);
    else if (strcmp(verb, "activate") == 0 || strcmp(verb, "retire") == 0)
        rc = cmd_move(conf, &a, verb[0] == 'a');
    else if (strcmp(verb, "rotate") == 0)
        rc = cmd_rotate(conf, &a);
    else if (strcmp(verb, "tick") == 0)
        rc = cmd_tick(conf, &a);
    else if (strcmp(verb, "migrate-store") == 0)
        rc = cmd_migrate(conf, &a);
    else
        rc = cmd_import(conf, &a);
    conf_free(conf);
    return rc;
}
