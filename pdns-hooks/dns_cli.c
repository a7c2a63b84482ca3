/*
 * dns_cli.c - what the mxdock-dns commands share.
 *
 *   cli_parse, cli_opt, cli_flag, cli_opt_all   arguments
 *   cli_err                                     "mxdock-dns: ..." on stderr
 *   cli_domain                                  validate the domain argument
 *   cli_api                                     the REST client
 *   cli_check_ips                               every --ip an address
 *   cli_model                                   the desired rrsets of a domain
 *
 * The model is where the builder's inputs are read: DKIM keys from the
 * store, the template file, the TLSA certificate.  Errors are written here
 * and returned as sysexits codes.
 */
#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "dns_cli.h"
#include "domain.h"

/* allowed_opt - NAME (LEN bytes) in ALLOWED; 2 = takes a value. */
static int allowed_opt(const char *allowed, const char *name, size_t len)
{
    for (const char *p = allowed; p && *p;) {
        const char *e = strchr(p, ',');
        size_t  l = e ? (size_t) (e - p) : strlen(p);
        int     val = l > 0 && p[l - 1] == '=';

        if (l - val == len && !strncmp(p, name, len))
            return val ? 2 : 1;
        p = e ? e + 1 : p + l;
    }
    return 0;
}

int     cli_parse(struct cli *c, int argc, char **argv, const char *allowed)
{
    struct cli_args *a = &c->a;

    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i], *eq;
        size_t  len;
        int     kind;

        if (strncmp(s, "--", 2) || s[2] == 0) {
            if (a->npos == CLI_MAXARGS)
                return cli_err(c, "too many arguments"), EX_USAGE;
            a->pos[a->npos++] = s;
            continue;
        }
        s += 2;
        eq = strchr(s, '=');
        len = eq ? (size_t) (eq - s) : strlen(s);
        kind = allowed_opt(allowed, s, len);
        if (kind == 0 || (kind == 2) != (eq != NULL) || a->nopt == CLI_MAXARGS) {
            cli_err(c, "unknown or malformed option --%.60s", s);
            return EX_USAGE;
        }
        a->optname[a->nopt] = s;
        a->optlen[a->nopt] = len;
        a->optval[a->nopt++] = eq ? eq + 1 : NULL;
    }
    return 0;
}

const char *cli_opt(const struct cli *c, const char *name)
{
    const char *v = NULL;

    for (int i = 0; i < c->a.nopt; i++)
        if (c->a.optlen[i] == strlen(name) && !strncmp(c->a.optname[i], name, c->a.optlen[i]))
            v = c->a.optval[i];
    return v;
}

int     cli_flag(const struct cli *c, const char *name)
{
    for (int i = 0; i < c->a.nopt; i++)
        if (c->a.optlen[i] == strlen(name) && !strncmp(c->a.optname[i], name, c->a.optlen[i]))
            return 1;
    return 0;
}

size_t  cli_opt_all(const struct cli *c, const char *name, const char **out, size_t max)
{
    size_t  n = 0;

    for (int i = 0; i < c->a.nopt && n < max; i++)
        if (c->a.optlen[i] == strlen(name) && !strncmp(c->a.optname[i], name, c->a.optlen[i])
            && c->a.optval[i])
            out[n++] = c->a.optval[i];
    return n;
}

void    cli_err(const struct cli *c, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", c->prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int     cli_domain(const struct cli *c, const char *arg, char *out, size_t outlen)
{
    char    why[200];

    if (arg == NULL) {
        cli_err(c, "missing DOMAIN argument");
        return EX_USAGE;
    }
    if (mx_domain_normalize(arg, out, outlen, why, sizeof why) < 0) {
        cli_err(c, "bad domain name \"%.100s\": %s", arg, why);
        return EX_DATAERR;
    }
    return 0;
}

struct pdns_api *cli_api(const struct cli *c)
{
    char    why[300];
    struct pdns_api *api = pdns_api_open(c->conf, why, sizeof why);

    if (api == NULL)
        cli_err(c, "%s", why);
    return api;
}

int     cli_check_ips(const struct cli *c)
{
    const char *ips[DNS_MAXIPS + 1];
    size_t  n = cli_opt_all(c, "ip", ips, DNS_MAXIPS + 1);

    if (n > DNS_MAXIPS) {
        cli_err(c, "too many --ip (at most %d)", DNS_MAXIPS);
        return EX_USAGE;
    }

    for (size_t i = 0; i < n; i++) {
        unsigned char bin[16];

        if (inet_pton(AF_INET, ips[i], bin) != 1 && inet_pton(AF_INET6, ips[i], bin) != 1) {
            cli_err(c, "bad --ip \"%.60s\": not an IPv4 or IPv6 address", ips[i]);
            return EX_USAGE;
        }
    }
    return 0;
}

/* tlsa_hex - sha256 of the certificate's SubjectPublicKeyInfo, hex. */
static int tlsa_hex(const char *file, char *out, size_t outlen)
{
    FILE   *f = fopen(file, "r");
    X509   *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int     len = x ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der) : -1;

    if (f)
        fclose(f);
    if (len > 0 && EVP_Digest(der, (size_t) len, md, &mdlen, EVP_sha256(), NULL) == 1
        && outlen > 2 * mdlen)
        for (unsigned int i = 0; i < mdlen; i++)
            snprintf(out + 2 * i, outlen - 2 * i, "%02x", md[i]);
    else
        len = -1;
    OPENSSL_free(der);
    X509_free(x);
    return len > 0 ? 0 : -1;
}

/* model_inputs - the template and the certificate hash. */
static int model_inputs(const struct cli *c, const char *domain, const char *tmpl,
                        struct pdns_build_in *in, struct pdns_tmpl_rec **recs, char *hex,
                        size_t hexlen)
{
    char    why[300];
    int     rc;

    if (tmpl && (rc = dns_template_load(c->conf, tmpl, domain, recs, &in->ntmpl, why,
                                        sizeof why)) != 0) {
        cli_err(c, "template %.60s: %s", tmpl, why);
        return rc;
    }
    in->tmpl = *recs;
    if (conf_list_has(c->conf->dns_publish, "tlsa") && *c->conf->dns_tlsa_cert) {
        if (tlsa_hex(c->conf->dns_tlsa_cert, hex, hexlen) < 0) {
            cli_err(c, "dns_tlsa_cert: cannot read a certificate from %.200s",
                    c->conf->dns_tlsa_cert);
            return EX_CONFIG;
        }
        in->tlsa_hex = hex;
    }
    return 0;
}

int     cli_model(const struct cli *c, const char *domain, const struct dns_recorded *rec,
                  int zone_signed, struct pdns_rrsets *out, struct dkim_domain **keys)
{
    struct pdns_build_in in = {0};
    struct pdns_tmpl_rec *recs = NULL;
    struct strbuf warn = STRBUF_INIT;
    const char *ips[DNS_MAXIPS], *tmpl = rec && *rec->tmpl ? rec->tmpl : NULL;
    char    why[300], hex[130];
    int     rc;

    *keys = NULL;
    if (dkim_store_load(c->conf, domain, keys, why, sizeof why) < 0) {
        cli_err(c, "DKIM key store: %s", why);
        return EX_CONFIG;
    }
    in.domain = domain;
    in.sel = (*keys)->sel;
    in.nsel = (*keys)->n;
    for (size_t i = 0; rec && i < rec->nips; i++)
        ips[in.nips++] = rec->ips[i];
    in.ips = ips;
    in.zone_signed = zone_signed;
    if ((rc = model_inputs(c, domain, tmpl, &in, &recs, hex, sizeof hex)) != 0)
        return rc;
    if (pdns_build(c->conf, &in, out, &warn, why, sizeof why) < 0) {
        cli_err(c, "%s", why);
        rc = EX_CONFIG;
    }
    if (warn.len)
        fprintf(stderr, "%s: warning: %s", c->prog, sb_str(&warn));
    sb_free(&warn);
    dns_template_free(recs, in.ntmpl);
    return rc;
}
