/*
 * pdns_build.c - the mail record set of one domain, built by a pure
 * function from the domain, the configuration, a template and the DKIM
 * selectors.  No I/O: the caller reads keys, templates and certificates.
 *
 *   pdns_build            every group dns_publish switches on -> rrsets
 *   pdns_mail_host        dns_mail_host for a domain
 *   pdns_mta_sts_policy   the RFC 8461 policy text; pdns_mta_sts_id its id
 *   pdns_spf_lookups      DNS-lookup terms of an SPF record
 *
 * Names are absolute with trailing dots, TXT content quoted and split at
 * 255 bytes.  Diagnostics: -1 with WHY when a configured name does not
 * expand; SPF lookup counts above 10 as a line in WARN.
 */
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pdns.h"
#include "domain.h"

#define NAMELEN 300

/* the context one build carries between its group functions */
struct bctx {
    const struct mx_conf *conf;
    const struct pdns_build_in *in;
    struct pdns_rrsets *out;
    const char *d;              /* the domain */
    char    m[NAMELEN];         /* the mail host */
    int     m_inside;           /* M is D or below it */
    long    ttl;
};

static const struct srv_port {
    const char *svc;
    int     port;
} srv_ports[] = {
    {"submissions", 465}, {"submission", 587}, {"imaps", 993}, {"imap", 143},
    {"pop3s", 995}, {"pop3", 110}, {"jmap", 443},
};

static int group_on(const struct bctx *b, const char *group)
{
    return conf_list_has(b->conf->dns_publish, group);
}

/* add - one record at NAME (relative to D, or "@"), content printf'd. */
static void add(struct bctx *b, const char *name, const char *type, const char *fmt, ...)
    MX_PRINTF(4, 5);

static void add(struct bctx *b, const char *name, const char *type, const char *fmt, ...)
{
    struct strbuf n = STRBUF_INIT, c = STRBUF_INIT;
    va_list ap;
    char   *val;

    pdns_name_abs(name, b->d, &n);
    va_start(ap, fmt);
    if (vasprintf(&val, fmt, ap) < 0)
        mx_panic("out of memory");
    va_end(ap);
    if (!strcasecmp(type, "TXT"))
        pdns_txt_quote(val, &c);
    else
        sb_puts(&c, val);
    pdns_rrset_add(b->out, sb_str(&n), type, b->ttl, sb_str(&c));
    free(val);
    sb_free(&n);
    sb_free(&c);
}

int     pdns_mail_host(const struct mx_conf *conf, const char *domain, char *out, size_t len)
{
    size_t  l;

    if (conf_expand(conf->dns_mail_host, domain, out, len) < 0 || !*out)
        return -1;
    l = strlen(out);
    if (out[l - 1] == '.')
        out[l - 1] = 0;
    return 0;
}

/* addresses - the A/AAAA of a host at NAME: --ip values, else configured. */
static void addresses(struct bctx *b, const char *name)
{
    if (b->in->nips > 0) {
        for (size_t i = 0; i < b->in->nips; i++)
            add(b, name, strchr(b->in->ips[i], ':') ? "AAAA" : "A", "%s", b->in->ips[i]);
        return;
    }
    if (*b->conf->dns_server_ipv4)
        add(b, name, "A", "%s", b->conf->dns_server_ipv4);
    if (*b->conf->dns_server_ipv6)
        add(b, name, "AAAA", "%s", b->conf->dns_server_ipv6);
}

/* soa_ns - SOA (first NS as MNAME), NS, and glue for NS hosts inside D. */
static int soa_ns(struct bctx *b, char *why, size_t whylen)
{
    const char *cur = b->conf->dns_nameservers;
    char    item[NAMELEN], host[NAMELEN], first[NAMELEN] = "", contact[NAMELEN];

    while (conf_list_next(&cur, item, sizeof item)) {
        if (conf_expand(item, b->d, host, sizeof host) < 0) {
            snprintf(why, whylen, "dns_nameservers: \"%.100s\" is too long", item);
            return -1;
        }
        if (!*first)
            snprintf(first, sizeof first, "%s", host);
        if (group_on(b, "ns"))
            add(b, "@", "NS", "%s.", host);
        if (group_on(b, "a") && mx_domain_within(host, b->d) && strcasecmp(host, b->d))
            addresses(b, host);
    }
    if (!*first)
        snprintf(first, sizeof first, "%s", b->m);
    if (conf_expand(b->conf->dns_soa_contact, b->d, contact, sizeof contact) < 0) {
        snprintf(why, whylen, "dns_soa_contact is too long");
        return -1;
    }
    if (group_on(b, "soa"))
        add(b, "@", "SOA", "%s. %s. 1 10800 3600 604800 %ld", first,
            contact, b->ttl);
    return 0;
}

static void mail(struct bctx *b)
{
    if (group_on(b, "a") && b->m_inside)
        addresses(b, b->m);
    if (group_on(b, "a") && b->conf->dns_apex_address)
        addresses(b, "@");
    if (group_on(b, "mx"))
        add(b, "@", "MX", "10 %s.", b->m);
    if (group_on(b, "spf")) {
        add(b, "@", "TXT", "v=spf1 mx -all");
        if (b->m_inside && strcasecmp(b->m, b->d))
            add(b, b->m, "TXT", "v=spf1 a -all");
    }
}

static void dkim(struct bctx *b)
{
    if (!group_on(b, "dkim"))
        return;
    for (size_t i = 0; i < b->in->nsel; i++) {
        const struct dkim_selector *s = &b->in->sel[i];
        struct strbuf v = STRBUF_INIT;
        char    name[NAMELEN];

        if (!dkim_is_published_state(s->state))
            continue;
        dkim_txt_value(s, &v);
        snprintf(name, sizeof name, "%s._domainkey", s->name);
        add(b, name, "TXT", "%s", sb_str(&v));
        sb_free(&v);
    }
}

static void reports(struct bctx *b)
{
    char    rua[NAMELEN];

    if (group_on(b, "dmarc") && conf_expand(b->conf->dmarc_rua, b->d, rua, sizeof rua) == 0)
        add(b, "_dmarc", "TXT", "v=DMARC1; p=%s; rua=mailto:%s", b->conf->dmarc_policy, rua);
    if (group_on(b, "tlsrpt") && conf_expand(b->conf->tlsrpt_rua, b->d, rua, sizeof rua) == 0)
        add(b, "_smtp._tls", "TXT", "v=TLSRPTv1; rua=mailto:%s", rua);
    if (group_on(b, "mta-sts")) {
        struct strbuf pol = STRBUF_INIT;
        char    id[40];

        pdns_mta_sts_policy(b->conf, b->d, &pol);
        pdns_mta_sts_id(sb_str(&pol), id, sizeof id);
        add(b, "mta-sts", "CNAME", "%s.", b->m);
        add(b, "_mta-sts", "TXT", "v=STSv1; id=%s", id);
        sb_free(&pol);
    }
}

static void srv(struct bctx *b)
{
    if (group_on(b, "srv")) {
        for (size_t i = 0; i < sizeof srv_ports / sizeof *srv_ports; i++) {
            char    name[64];

            snprintf(name, sizeof name, "_%s._tcp", srv_ports[i].svc);
            if (conf_list_has(b->conf->dns_srv_services, srv_ports[i].svc))
                add(b, name, "SRV", "0 1 %d %s.", srv_ports[i].port, b->m);
            else if (conf_list_has(b->conf->dns_srv_disabled, srv_ports[i].svc))
                add(b, name, "SRV", "0 0 0 .");
        }
    }
    if (group_on(b, "autoconfig")) {
        add(b, "autoconfig", "CNAME", "%s.", b->m);
        add(b, "autodiscover", "CNAME", "%s.", b->m);
        add(b, "_autodiscover._tcp", "SRV", "0 1 443 %s.", b->m);
    }
}

static void optional(struct bctx *b)
{
    char    name[NAMELEN];

    if (group_on(b, "caa") && *b->conf->dns_caa)
        add(b, "@", "CAA", "%s", b->conf->dns_caa);
    if (group_on(b, "tlsa") && b->in->zone_signed && b->in->tlsa_hex && *b->in->tlsa_hex) {
        snprintf(name, sizeof name, "_25._tcp.%s.", b->m);
        add(b, name, "TLSA", "3 1 1 %s", b->in->tlsa_hex);
    }
}

/* tmpl - template records override the rrset of the same name and type. */
static void tmpl(struct bctx *b, struct pdns_rrsets *seen)
{
    for (size_t i = 0; i < b->in->ntmpl; i++) {
        const struct pdns_tmpl_rec *t = &b->in->tmpl[i];
        struct strbuf n = STRBUF_INIT;
        struct pdns_rrset *rs;

        pdns_name_abs(t->name, b->d, &n);
        if (!pdns_rrset_find(seen, sb_str(&n), t->type)) {
            pdns_rrset_add(seen, sb_str(&n), t->type, 0, NULL);
            if ((rs = pdns_rrset_find(b->out, sb_str(&n), t->type)) != NULL)
                pdns_rrset_clear(rs);
        }
        rs = pdns_rrset_add(b->out, sb_str(&n), t->type, t->ttl ? t->ttl : b->ttl, t->content);
        if (t->ttl)
            rs->ttl = t->ttl;
        sb_free(&n);
    }
}

/* spf_check - warn about SPF records over the 10-lookup limit. */
static void spf_check(const struct pdns_rrsets *out, struct strbuf *warn)
{
    for (size_t i = 0; i < out->n; i++) {
        if (strcmp(out->v[i].type, "TXT"))
            continue;
        for (size_t j = 0; j < out->v[i].n; j++) {
            struct strbuf v = STRBUF_INIT;
            int     n;

            pdns_norm("TXT", out->v[i].rec[j], &v);
            if (!strncasecmp(sb_str(&v), "v=spf1", 6) && (n = pdns_spf_lookups(sb_str(&v))) > 10)
                sb_printf(warn, "SPF record at %s needs %d DNS lookups (limit 10)\n",
                          out->v[i].name, n);
            sb_free(&v);
        }
    }
}

int     pdns_build(const struct mx_conf *conf, const struct pdns_build_in *in,
                   struct pdns_rrsets *out, struct strbuf *warn, char *why, size_t whylen)
{
    struct bctx b = {conf, in, out, in->domain, "", 0, conf->dns_ttl};
    struct pdns_rrsets seen = PDNS_RRSETS_INIT;

    if (pdns_mail_host(conf, in->domain, b.m, sizeof b.m) < 0) {
        snprintf(why, whylen, "dns_mail_host does not expand to a name");
        return -1;
    }
    b.m_inside = mx_domain_within(b.m, b.d);
    if (soa_ns(&b, why, whylen) < 0)
        return -1;
    mail(&b);
    dkim(&b);
    reports(&b);
    srv(&b);
    optional(&b);
    tmpl(&b, &seen);
    pdns_rrsets_free(&seen);
    pdns_rrsets_sort(out);
    spf_check(out, warn);
    return 0;
}

void    pdns_mta_sts_policy(const struct mx_conf *conf, const char *domain, struct strbuf *out)
{
    char    m[NAMELEN];

    if (pdns_mail_host(conf, domain, m, sizeof m) < 0)
        snprintf(m, sizeof m, "%s", domain);
    sb_printf(out, "version: STSv1\r\nmode: %s\r\nmx: %s\r\nmax_age: %ld\r\n",
              conf->mta_sts_mode, m, conf->mta_sts_max_age);
}

void    pdns_mta_sts_id(const char *policy, char *id, size_t idlen)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    size_t  o = 0;

    EVP_Digest(policy, strlen(policy), md, &mdlen, EVP_sha256(), NULL);
    for (unsigned int i = 0; i < 16 && i < mdlen && o + 3 <= idlen; i++, o += 2)
        snprintf(id + o, idlen - o, "%02x", md[i]);
    if (idlen)
        id[o < idlen ? o : idlen - 1] = 0;
}

int     pdns_spf_lookups(const char *spf)
{
    static const char *const terms[] = {"a", "mx", "ptr", "include", "exists", "redirect"};
    int     n = 0;

    for (const char *p = spf; *p;) {
        const char *w;
        size_t  l;

        while (*p == ' ')
            p++;
        for (w = p; *p && *p != ' '; p++)
            ;
        if (w < p && strchr("+-~?", *w))
            w++;
        l = (size_t) (p - w);
        for (size_t t = 0; t < sizeof terms / sizeof *terms; t++) {
            size_t  tl = strlen(terms[t]);

            if (l >= tl && !strncasecmp(w, terms[t], tl)
                && (l == tl || strchr(":/=", w[tl])))
                n++;
        }
    }
    return n;
}
