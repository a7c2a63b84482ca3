/*
 * dmarc_report_out.c - a built DMARC aggregate report on its way out:
 * gzip, the external-destination check, the mail to each rua= address.
 *
 *   dmarc_report_gzip  gzip a buffer (zlib, in memory)
 *   dmarc_report_send  mail the report to every verified mailto: of rua=
 *
 * RFC 7489 7.1: when a mailto: address lies outside the policy domain's
 * organizational domain (Public Suffix List of dmarc_psl_file), the
 * report goes there only if <policy-domain>._report._dmarc.<rua-domain>
 * has a v=DMARC1 TXT record (asked through dns_resolver with
 * conf/dnsq).  The message (RFC 7489 7.2.1.1 subject, the gzip as a
 * base64 attachment) is handed to dmarc_report_sendmail with
 * fork/exec, never a shell: the address comes from the DNS and is
 * checked against a conservative character set first.
 *
 * Ownership: *OUT of dmarc_report_gzip is malloc'd, the caller frees it.
 * Diagnostics: a skipped or failed address is one line on stderr.
 */
#include <arpa/nameser.h>
#include <ctype.h>
#include <libpsl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "dmarc_report.h"
#include "dnsq.h"
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

/* mailto_addr - the address of one rua= item ("mailto:a@b!10m"); -1 when
 * it is not a mailto: URI or not a plain, safe address. */
static int mailto_addr(const char *item, char *addr, size_t addrlen, const char **domain)
{
    static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
        "0123456789.+-_=@";
    size_t  n;

    if (strncasecmp(item, "mailto:", 7) != 0)
        return -1;
    item += 7;
    n = strcspn(item, "!");
    if (n == 0 || n >= addrlen || item[0] == '-')
        return -1;
    memcpy(addr, item, n);
    addr[n] = 0;
    if (strspn(addr, ok) != n || strchr(addr, '@') != strrchr(addr, '@') || !strchr(addr, '@'))
        return -1;
    *domain = strchr(addr, '@') + 1;
    return **domain ? 0 : -1;
}

/* same_org - do A and B share an organizational domain? */
static int same_org(psl_ctx_t *psl, const char *a, const char *b)
{
    const char *oa = psl ? psl_registrable_domain(psl, a) : NULL;
    const char *ob = psl ? psl_registrable_domain(psl, b) : NULL;

    return strcasecmp(oa ? oa : a, ob ? ob : b) == 0;
}

/* authorised - RFC 7489 7.1 external destination verification. */
static int authorised(const struct mx_conf *c, psl_ctx_t *psl, const char *policy_domain,
                      const char *rua_domain)
{
    char    name[600], why[200];
    char  **rrs = NULL;
    size_t  n = 0;
    int     ok = 0;

    if (same_org(psl, policy_domain, rua_domain))
        return 1;
    snprintf(name, sizeof name, "%s._report._dmarc.%s", policy_domain, rua_domain);
    if (dnsq_query(c->dns_resolver, name, ns_t_txt, (int) c->dns_timeout, &rrs, &n,
                   why, sizeof why) < 0) {
        fprintf(stderr, "mxdock-policy: dmarc-report: %s: %s\n", name, why);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (strncmp(rrs[i], "v=DMARC1", 8) == 0)
            ok = 1;
    dnsq_free(rrs, n);
    return ok;
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
            sb_puts(sb, "\n");
    }
    sb_puts(sb, "\n");
}

/* message - the report mail to ADDR. */
static void message(struct strbuf *sb, const struct dmarc_report_meta *m, const char *domain,
                    const char *addr, const char *file, const unsigned char *gz, size_t len)
{
    char    date[64];
    time_t  now = time(NULL);

    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", gmtime(&now));
    sb_printf(sb, "From: %s\nTo: %s\nDate: %s\n", m->email, addr, date);
    sb_printf(sb, "Subject: Report Domain: %s Submitter: %s Report-ID: <%s>\n",
              domain, m->org_name, m->report_id);
    sb_printf(sb, "Message-ID: <%s.%lld.%d@%s>\n", m->report_id, (long long) now,
              (int) getpid(), m->org_name);
    sb_printf(sb, "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"mxdock-%lld\"\n\n",
              (long long) m->begin);
    sb_printf(sb, "--mxdock-%lld\nContent-Type: text/plain; charset=us-ascii\n\n"
              "DMARC aggregate report for %s from %s.\n\n", (long long) m->begin, domain,
              m->org_name);
    sb_printf(sb, "--mxdock-%lld\nContent-Type: application/gzip; name=\"%s\"\n"
              "Content-Disposition: attachment; filename=\"%s\"\n"
              "Content-Transfer-Encoding: base64\n\n", (long long) m->begin, file, file);
    base64(sb, gz, len);
    sb_printf(sb, "--mxdock-%lld--\n", (long long) m->begin);
}

/* sendmail - hand MSG to dmarc_report_sendmail for ADDR; 0 when it
 * exited 0. */
static int sendmail(const struct mx_conf *c, const char *from, const char *addr,
                    const struct strbuf *msg)
{
    int     fd[2], status;
    pid_t   pid;
    size_t  off = 0;
    void    (*old) (int);

    if (pipe(fd) < 0)
        return -1;
    if ((pid = fork()) < 0) {
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fd[0], 0);
        close(fd[0]);
        close(fd[1]);
        execl(c->dmarc_report_sendmail, c->dmarc_report_sendmail, "-oi", "-f", from, "--",
              addr, (char *) NULL);
        _exit(127);
    }
    close(fd[0]);
    old = signal(SIGPIPE, SIG_IGN);
    while (off < msg->len) {
        ssize_t w = write(fd[1], msg->s + off, msg->len - off);

        if (w <= 0)
            break;
        off += (size_t) w;
    }
    close(fd[1]);
    signal(SIGPIPE, old);
    if (waitpid(pid, &status, 0) < 0)
        return -1;
    return off == msg->len && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int     dmarc_report_send(const struct mx_conf *c, const struct dmarc_report_meta *meta,
                          const char *policy_domain, const char *rua, const char *filename,
                          const unsigned char *gz, size_t gzlen)
{
    psl_ctx_t *psl = psl_load_file(c->dmarc_psl_file);
    const char *cursor = rua, *rua_domain;
    char    item[512], addr[320];
    int     sent = 0, failed = 0;

    while (conf_list_next(&cursor, item, sizeof item)) {
        struct strbuf msg = STRBUF_INIT;

        if (mailto_addr(item, addr, sizeof addr, &rua_domain) < 0) {
            fprintf(stderr, "mxdock-policy: dmarc-report: %s: skipping rua \"%.100s\": "
                    "not a plain mailto: address\n", policy_domain, item);
            continue;
        }
        if (!authorised(c, psl, policy_domain, rua_domain)) {
            fprintf(stderr, "mxdock-policy: dmarc-report: %s: %s did not authorise reports "
                    "(no %s._report._dmarc.%s)\n", policy_domain, rua_domain, policy_domain,
                    rua_domain);
            continue;
        }
        message(&msg, meta, policy_domain, addr, filename, gz, gzlen);
        if (sb_failed(&msg) || sendmail(c, meta->email, addr, &msg) < 0) {
            fprintf(stderr, "mxdock-policy: dmarc-report: %s: %s failed for %s\n",
                    policy_domain, c->dmarc_report_sendmail, addr);
            failed++;
        } else {
            sent++;
        }
        sb_free(&msg);
    }
    psl_free(psl);
    return failed ? -1 : sent;
}
