/*
 * dmarc_report_out.c - a built DMARC report on its way out: gzip, the
 * external destination check, the mail, SMTP with libcurl.
 *
 *   dmarc_report_gzip        gzip a buffer (zlib, in memory)
 *   dmarc_report_mailto      the address of one rua=/ruf= mailto: URI
 *   dmarc_report_authorised  RFC 9990 section 4 external destination check
 *   dmarc_report_message     the report mail (RFC 9990 section 3, "Email")
 *   dmarc_report_smtp        send one mail through dmarc_report_smtp_url
 *
 * External destinations (RFC 9990 section 4, text of
 * draft-ietf-dmarc-aggregate-reporting-32): a destination host whose
 * organizational domain differs from the policy domain's must publish
 * v=DMARC1 at POLICYDOMAIN._report._dmarc.HOST.  The organizational
 * domains are compared by the PSL when dmarc_org_domain = psl; with the
 * tree walk (which lives in milter/dmarc, below which policy/ may not
 * reach) the destination counts as the policy domain's own only when one
 * name is equal to or under the other: any other destination is asked,
 * which can only make the check stricter.  A DNS failure is told apart
 * (-1: the caller tries again later).  A rua= (ruf=) in the authorising
 * record replaces the address when it names the same host; naming another
 * host stops reports to both (step 9).
 *
 * SMTP: libcurl to dmarc_report_smtp_url (smtp:// to a relay, or
 * submission with dmarc_report_smtp_starttls and AUTH by
 * dmarc_report_smtp_user and the password in
 * dmarc_report_smtp_password_file, read with mx_read_secret at each send,
 * wiped after, never logged).
 * Addresses come from the DNS: only [A-Za-z0-9.+-_=] local parts and
 * domain names are used.
 *
 * Ownership: *OUT of dmarc_report_gzip is malloc'd, the caller frees it.
 * Diagnostics: returned in ERR/WHY; nothing printed here.
 */
#include <arpa/nameser.h>
#include <ctype.h>
#include <curl/curl.h>
#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "dmarc_report.h"
#include "dnsq.h"
#include "fileio.h"
#include "strbuf.h"

int     dmarc_report_gzip(const char *data, size_t len, unsigned char **out, size_t *outlen)
{
    z_stream z;
    uLong   cap;

    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    cap = deflateBound(&z, (uLong) len) + 32;
    if ((*out = malloc(cap)) == NULL) {
        deflateEnd(&z);
        return -1;
    }
    z.next_in = (Bytef *) data;
    z.avail_in = (uInt) len;
    z.next_out = *out;
    z.avail_out = (uInt) cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
        deflateEnd(&z);
        free(*out);
        *out = NULL;
        return -1;
    }
    *outlen = z.total_out;
    deflateEnd(&z);
    return 0;
}

int     dmarc_report_mailto(const char *item, char *addr, size_t addrlen, const char **domain)
{
    static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
        "0123456789.+-_=@";
    size_t  n;

    while (*item == ' ' || *item == '\t')
        item++;
    if (strncasecmp(item, "mailto:", 7) != 0)
        return -1;
    item += 7;
    n = strcspn(item, "! \t");  /* "!size" is obsolete: ignored (RFC 9989) */
    if (n == 0 || n >= addrlen || item[0] == '-')
        return -1;
    memcpy(addr, item, n);
    addr[n] = 0;
    if (strspn(addr, ok) != n || strchr(addr, '@') != strrchr(addr, '@') || !strchr(addr, '@'))
        return -1;
    *domain = strchr(addr, '@') + 1;
    return **domain && **domain != '.' && strstr(*domain, "..") == NULL ? 0 : -1;
}

/* under - is NAME equal to or under DOMAIN (case-insensitive)? */
static int under(const char *name, const char *domain)
{
    size_t  n = strlen(name), l = strlen(domain);

    return n >= l && strcasecmp(name + n - l, domain) == 0 && (n == l || name[n - l - 1] == '.');
}

/* same_org - do A and B share an organizational domain (see the top)? */
static int same_org(const struct mx_conf *c, const char *a, const char *b)
{
    psl_ctx_t *psl;
    const char *oa, *ob;
    int     same;

    if (under(a, b) || under(b, a))
        return 1;
    if (strcmp(c->dmarc_org_domain, "psl") != 0 || (psl = psl_load_file(c->dmarc_psl_file)) == NULL)
        return 0;
    oa = psl_registrable_domain(psl, a);
    ob = psl_registrable_domain(psl, b);
    same = strcasecmp(oa ? oa : a, ob ? ob : b) == 0;
    psl_free(psl);
    return same;
}

/* starts_dmarc1 - RFC 9990 section 4 step 6: v=DMARC1 first */
static int starts_dmarc1(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s++ != 'v')
        return 0;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s++ != '=')
        return 0;
    while (*s == ' ' || *s == '\t')
        s++;
    if (strncmp(s, "DMARC1", 6) != 0)
        return 0;
    s += 6;
    while (*s == ' ' || *s == '\t')
        s++;
    return *s == 0 || *s == ';';
}

/* tag_value - the value of tag NAME in the tag list REC into OUT; 0 found */
static int tag_value(const char *rec, const char *name, char *out, size_t outlen)
{
    size_t  nl = strlen(name);

    for (const char *p = rec; p && *p; p = strchr(p, ';') ? strchr(p, ';') + 1 : NULL) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncasecmp(p, name, nl) == 0) {
            const char *v = p + nl;

            while (*v == ' ' || *v == '\t')
                v++;
            if (*v++ != '=')
                continue;
            while (*v == ' ' || *v == '\t')
                v++;
            snprintf(out, outlen, "%.*s", (int) strcspn(v, ";"), v);
            out[strcspn(out, " \t")] = 0;
            return 0;
        }
    }
    return -1;
}

/* override - RFC 9990 section 4 step 9: a TAG (rua/ruf) in the
 * authorising record REC replaces ADDR only with the same destination
 * host; 0 keep or replaced, -1 another host: send to neither */
static int override(const char *rec, const char *tag, const char *dest_domain, char *addr,
                    size_t addrlen, char *why, size_t whylen)
{
    char    list[512], item[512], newaddr[320];
    const char *cursor = list, *dom;

    if (tag_value(rec, tag, list, sizeof list) < 0)
        return 0;
    while (conf_list_next(&cursor, item, sizeof item)) {
        if (dmarc_report_mailto(item, newaddr, sizeof newaddr, &dom) < 0)
            continue;
        if (strcasecmp(dom, dest_domain) != 0) {
            snprintf(why, whylen, "the authorising record of %.150s points %s= to another host,"
                     " %.150s (RFC 9990 section 4)", dest_domain, tag, dom);
            return -1;
        }
        snprintf(addr, addrlen, "%s", newaddr);
        return 0;
    }
    return 0;
}

int     dmarc_report_authorised(const struct mx_conf *c, const char *policy_domain,
                                const char *tag, const char *dest, char *addr,
                                size_t addrlen, char *why, size_t whylen)
{
    char    name[600], err[200], dest_domain[256];
    char  **rrs = NULL;
    size_t  n = 0;
    int     ok = 0;

    snprintf(dest_domain, sizeof dest_domain, "%s", dest);      /* DEST may point into ADDR */
    if (same_org(c, policy_domain, dest_domain))
        return 1;
    if (snprintf(name, sizeof name, "%s._report._dmarc.%s", policy_domain, dest_domain) > 253) {
        snprintf(why, whylen, "%.100s._report._dmarc.%.100s is too long a name", policy_domain,
                 dest_domain);
        return 0;
    }
    if (dnsq_query(c->dns_resolver, name, ns_t_txt, (int) c->dns_timeout, &rrs, &n,
                   err, sizeof err) < 0) {
        snprintf(why, whylen, "%.300s: %.150s", name, err);
        return -1;
    }
    for (size_t i = 0; i < n && !ok; i++)
        if (starts_dmarc1(rrs[i]))
            ok = override(rrs[i], tag, dest_domain, addr, addrlen, why, whylen) == 0 ? 1 : -2;
    dnsq_free(rrs, n);
    if (ok == 0)
        snprintf(why, whylen, "%.150s did not authorise reports (no %.300s)", dest_domain, name);
    return ok == 1;
}

static void base64(struct strbuf *sb, const unsigned char *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned) p[i] << 16 | (i + 1 < n ? p[i + 1] << 8 : 0)
            | (i + 2 < n ? p[i + 2] : 0);

        sb_putc(sb, tab[v >> 18 & 63]);
        sb_putc(sb, tab[v >> 12 & 63]);
        sb_putc(sb, i + 1 < n ? tab[v >> 6 & 63] : '=');
        sb_putc(sb, i + 2 < n ? tab[v & 63] : '=');
        if ((i / 3 + 1) % 19 == 0)
            sb_puts(sb, "\r\n");
    }
    sb_puts(sb, "\r\n");
}

/* submitter - the report generator's domain name for the Subject: the
 * org name when it is one, else the domain of the report email */
static const char *submitter(const struct dmarc_report_meta *m)
{
    const char *at = strrchr(m->email, '@');

    if (strspn(m->org_name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
        == strlen(m->org_name) && strchr(m->org_name, '.'))
        return m->org_name;
    return at ? at + 1 : "localhost";
}

void    dmarc_report_message(struct strbuf *sb, const struct dmarc_report_meta *m,
                             const char *domain, const char *addr, const char *file,
                             const unsigned char *gz, size_t len)
{
    char    date[64];
    time_t  now = time(NULL);

    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", gmtime(&now));
    sb_printf(sb, "From: %s\r\nTo: %s\r\nDate: %s\r\n", m->email, addr, date);
    sb_printf(sb, "Subject: Report Domain: %s Submitter: %s Report-ID: <%s>\r\n",
              domain, submitter(m), m->report_id);
    /* the same Message-ID on a retry: the receiver can drop a duplicate */
    sb_printf(sb, "Message-ID: <%s>\r\n", m->report_id);
    sb_printf(sb, "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
              "boundary=\"mxdock-%lld\"\r\n\r\n", (long long) m->begin);
    sb_printf(sb, "--mxdock-%lld\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
              "DMARC aggregate report for %s from %s.\r\n\r\n", (long long) m->begin, domain,
              submitter(m));
    sb_printf(sb, "--mxdock-%lld\r\nContent-Type: application/gzip; name=\"%s\"\r\n"
              "Content-Disposition: attachment; filename=\"%s\"\r\n"
              "Content-Transfer-Encoding: base64\r\n\r\n", (long long) m->begin, file, file);
    base64(sb, gz, len);
    sb_printf(sb, "--mxdock-%lld--\r\n", (long long) m->begin);
}

struct upload {
    const char *p;
    size_t  left;
};

static size_t read_cb(char *buf, size_t size, size_t nmemb, void *ctx)
{
    struct upload *u = ctx;
    size_t  n = size * nmemb < u->left ? size * nmemb : u->left;

    memcpy(buf, u->p, n);
    u->p += n;
    u->left -= n;
    return n;
}

/* setup - URL, TLS and AUTH options of H; -1 with ERR */
static int setup(const struct mx_conf *c, CURL *h, char *pw, size_t pwlen, char *err,
                 size_t errlen)
{
    char    why[200];

    curl_easy_setopt(h, CURLOPT_URL, c->dmarc_report_smtp_url);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (c->dmarc_report_smtp_starttls)
        curl_easy_setopt(h, CURLOPT_USE_SSL, (long) CURLUSESSL_ALL);
    if (*c->dmarc_report_smtp_cafile)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->dmarc_report_smtp_cafile);
    if (*c->dmarc_report_smtp_user == 0)
        return 0;
    if (*c->dmarc_report_smtp_password_file == 0) {
        snprintf(err, errlen, "dmarc_report_smtp_user set without dmarc_report_smtp_password_file");
        return -1;
    }
    if (mx_read_secret(c->dmarc_report_smtp_password_file, pw, pwlen, why, sizeof why) < 0) {
        snprintf(err, errlen, "dmarc_report_smtp_password_file: %.200s", why);
        return -1;
    }
    curl_easy_setopt(h, CURLOPT_USERNAME, c->dmarc_report_smtp_user);
    curl_easy_setopt(h, CURLOPT_PASSWORD, pw);
    return 0;
}

int     dmarc_report_smtp(const struct mx_conf *c, const char *from, const char *rcpt,
                          const struct strbuf *msg, char *err, size_t errlen)
{
    CURL   *h = curl_easy_init();
    struct curl_slist *to = NULL;
    struct upload u = {msg->s, msg->len};
    char    pw[256] = "", cerr[CURL_ERROR_SIZE] = "";
    CURLcode rc = CURLE_FAILED_INIT;

    if (h == NULL || (to = curl_slist_append(NULL, rcpt)) == NULL) {
        snprintf(err, errlen, "out of memory");
        curl_easy_cleanup(h);
        return -1;
    }
    if (setup(c, h, pw, sizeof pw, err, errlen) == 0) {
        curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
        curl_easy_setopt(h, CURLOPT_MAIL_RCPT, to);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(h, CURLOPT_READDATA, &u);
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
        if ((rc = curl_easy_perform(h)) != CURLE_OK)
            snprintf(err, errlen, "%.200s", cerr[0] ? cerr : curl_easy_strerror(rc));
    }
    explicit_bzero(pw, sizeof pw);
    curl_slist_free_all(to);
    curl_easy_cleanup(h);
    return rc == CURLE_OK ? 0 : -1;
}
