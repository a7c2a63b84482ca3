/*
 * dns_add_check.c - what `add` checks itself before PowerDNS sees it, so
 * a bad record is named in one line with EX_DATAERR (65) instead of a 422
 * passed through.
 *
 *   dns_add_name     NAME (relative or absolute) -> absolute, lowercase,
 *                    inside DOMAIN; labels starting with "_" (service
 *                    labels) and a leading "*" are allowed, the rest goes
 *                    through mx_domain_normalize (IDNA, punycode, LDH)
 *   dns_add_type     TYPE is one mxdock-dns knows; uppercased into OUT
 *   dns_add_content  CONTENT fits TYPE: addresses for A/AAAA, host names
 *                    for MX/NS/CNAME/PTR/SRV targets, numbers in range for
 *                    MX, SRV, CAA, TLSA; --priority only for MX and SRV
 *
 * Each writes its error (cli_err) and returns a sysexits code.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "dns_cli.h"
#include "domain.h"

static const char *const known_types[] = {
    "A", "AAAA", "CAA", "CNAME", "DNAME", "DS", "HTTPS", "LOC", "MX", "NAPTR", "NS",
    "OPENPGPKEY", "PTR", "SMIMEA", "SPF", "SRV", "SSHFP", "SVCB", "TLSA", "TXT", "URI",
};

int     dns_add_type(const struct cli *c, const char *in, char *out, size_t len)
{
    size_t  i;

    for (i = 0; in && in[i] && i + 1 < len; i++)
        out[i] = (char) toupper((unsigned char) in[i]);
    out[i] = 0;
    for (size_t k = 0; in && !in[i] && k < sizeof known_types / sizeof *known_types; k++)
        if (!strcmp(out, known_types[k]))
            return 0;
    cli_err(c, "bad record type \"%.20s\": not one mxdock-dns knows", in ? in : "");
    return EX_DATAERR;
}

/* host_ok - NAME (trailing dot optional) a valid host name; "." when DOT_OK */
static int host_ok(const char *name, int dot_ok)
{
    char    out[300], why[200];

    if (dot_ok && !strcmp(name, "."))
        return 1;
    return mx_domain_normalize(name, out, sizeof out, why, sizeof why) == 0;
}

int     dns_add_name(const struct cli *c, const char *name, const char *domain,
                     struct strbuf *out)
{
    struct strbuf abs = STRBUF_INIT, pre = STRBUF_INIT;
    char    norm[300], why[200];
    const char *rest;
    size_t  dl = strlen(domain), nl;
    int     rc = 0;

    pdns_name_abs(name, domain, &abs);
    rest = sb_str(&abs);
    while (*rest == '_' || (*rest == '*' && rest[1] == '.' && pre.len == 0)) {
        const char *dot = strchr(rest, '.');
        size_t  l = dot ? (size_t) (dot - rest) : strlen(rest);

        if (l == 0 || l > 63 || dot == NULL)
            break;
        for (size_t i = 1; i < l; i++)
            if (!isalnum((unsigned char) rest[i]) && rest[i] != '-' && rest[i] != '_')
                l = 0;
        if (l == 0)
            break;
        sb_append(&pre, rest, l + 1);
        rest = dot + 1;
    }
    if (mx_domain_normalize(rest, norm, sizeof norm, why, sizeof why) < 0) {
        cli_err(c, "bad record name \"%.100s\": %s", name, why);
        rc = EX_DATAERR;
    } else if (nl = strlen(norm), !mx_domain_within(norm, domain)
               || (nl > dl && norm[nl - dl - 1] != '.')) {
        cli_err(c, "bad record name \"%.100s\": not inside %s", name, domain);
        rc = EX_DATAERR;
    } else {
        sb_printf(out, "%s%s.", sb_str(&pre), norm);
    }
    sb_free(&abs);
    sb_free(&pre);
    return rc;
}

/* num_ok - S a whole number in 0..MAX */
static int num_ok(const char *s, long max)
{
    char   *end;
    long    n;

    if (!isdigit((unsigned char) *s))
        return 0;
    n = strtol(s, &end, 10);
    return *end == 0 && n <= max;
}

/* fields - split S (copied into BUF) at spaces into at most MAX words */
static int fields(const char *s, char *buf, size_t len, char **w, int max)
{
    int     n = 0;
    char   *save, *t;

    snprintf(buf, len, "%s", s);
    for (t = strtok_r(buf, " \t", &save); t && n < max; t = strtok_r(NULL, " \t", &save))
        w[n++] = t;
    return t ? max + 1 : n;
}

/* content_ok - NULL when CONTENT (as PowerDNS wants it) fits TYPE, else
 * what is wrong */
static const char *content_ok(const char *type, const char *content)
{
    unsigned char bin[16];
    char    buf[1024], *w[5];
    int     n = fields(content, buf, sizeof buf, w, 4);

    if (!strcmp(type, "A"))
        return inet_pton(AF_INET, content, bin) == 1 ? NULL : "not an IPv4 address";
    if (!strcmp(type, "AAAA"))
        return inet_pton(AF_INET6, content, bin) == 1 ? NULL : "not an IPv6 address";
    if (!strcmp(type, "CNAME") || !strcmp(type, "NS") || !strcmp(type, "PTR"))
        return n == 1 && host_ok(w[0], 0) ? NULL : "not a host name";
    if (!strcmp(type, "MX"))
        return n == 2 && num_ok(w[0], 65535) && host_ok(w[1], 1) ? NULL
            : "want PRIORITY HOST (--priority=N, or \"10 mail.example.com\")";
    if (!strcmp(type, "SRV"))
        return n == 4 && num_ok(w[0], 65535) && num_ok(w[1], 65535) && num_ok(w[2], 65535)
            && host_ok(w[3], 1) ? NULL : "want PRIORITY WEIGHT PORT TARGET";
    if (!strcmp(type, "CAA"))
        return n >= 3 && num_ok(w[0], 255) && strspn(w[1], "abcdefghijklmnopqrstuvwxyz"
                                                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
            == strlen(w[1]) && strchr(content, '"') ? NULL : "want FLAGS TAG \"VALUE\"";
    if (!strcmp(type, "TLSA"))
        return n == 4 && num_ok(w[0], 255) && num_ok(w[1], 255) && num_ok(w[2], 255)
            && strspn(w[3], "0123456789abcdefABCDEF") == strlen(w[3]) && strlen(w[3]) % 2 == 0
            ? NULL : "want USAGE SELECTOR MTYPE HEX";
    return NULL;
}

int     dns_add_content(const struct cli *c, const char *type, const char *content, int prio)
{
    const char *bad;

    if (prio && strcmp(type, "MX") && strcmp(type, "SRV")) {
        cli_err(c, "--priority is only for MX and SRV records, not %s", type);
        return EX_USAGE;
    }
    if (!strcmp(type, "CAA") && !strchr(content, '"'))
        bad = "want FLAGS TAG \"VALUE\"";
    else
        bad = content_ok(type, content);
    if (bad) {
        cli_err(c, "bad %s record \"%.100s\": %s", type, content, bad);
        return EX_DATAERR;
    }
    return 0;
}
