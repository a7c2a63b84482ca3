/*
 * test_dmarc_report.c - the pure parts of the DMARC report code
 * (policy/dmarc_report_out.c, dmarc_report_fail.c): rua=/ruf= mailto:
 * items, which fo= asks for a failure report (RFC 9989 4.7, RFC 9991 3),
 * the redaction of addresses in failure reports, and the gzip round trip.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "dmarc_report.h"
#include "strbuf.h"
#include "t.h"

static void test_mailto(void)
{
    static const struct {
        const char *item, *addr;
    } cases[] = {
        {"mailto:dmarc@example.com", "dmarc@example.com"},
        {" mailto:a+b@example.com!10m", "a+b@example.com"},    /* !size: obsolete, ignored */
        {"MAILTO:x@y.example", "x@y.example"},
        {"https://example.com/report", "ERR"},
        {"mailto:", "ERR"},
        {"mailto:-oQ/tmp/x@example.com", "ERR"},        /* option-like, and '/' */
        {"mailto:a@b@c.example", "ERR"},
        {"mailto:a@", "ERR"},
        {"mailto:a@.example", "ERR"},
        {"mailto:a@x..example", "ERR"},
        {"mailto:a b@example.com", "ERR"},
        {"mailto:a@example.com%0D%0ABcc:x@evil.example", "ERR"},
    };
    char    addr[240], name[200];
    const char *dom;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int     rc = dmarc_report_mailto(cases[i].item, addr, sizeof addr, &dom);

        snprintf(name, sizeof name, "mailto %s", cases[i].item);
        T_STR(name, rc == 0 ? addr : "ERR", cases[i].addr);
    }
    dmarc_report_mailto("mailto:r@reports.example", addr, sizeof addr, &dom);
    T_STR("mailto domain", dom, "reports.example");
}

static void test_wanted(void)
{
    T_INT("fo default (0): a DMARC failure", dmarc_failure_wanted("0", "mailto:a@b.c", 0, 0, 0), 1);
    T_INT("fo empty is 0", dmarc_failure_wanted("", "mailto:a@b.c", 0, 0, 0), 1);
    T_INT("fo=1", dmarc_failure_wanted("1", "mailto:a@b.c", 0, 0, 0), 1);
    T_INT("fo=d without a DKIM failure", dmarc_failure_wanted("d", "mailto:a@b.c", 0, 0, 1), 0);
    T_INT("fo=d with a DKIM failure", dmarc_failure_wanted("d", "mailto:a@b.c", 0, 1, 0), 1);
    T_INT("fo=s with an SPF failure", dmarc_failure_wanted("s", "mailto:a@b.c", 0, 0, 1), 1);
    T_INT("fo=d:s with an SPF failure", dmarc_failure_wanted("d:s", "mailto:a@b.c", 0, 0, 1), 1);
    T_INT("fo=x only", dmarc_failure_wanted("x", "mailto:a@b.c", 0, 1, 1), 0);
    T_INT("no ruf=", dmarc_failure_wanted("1", "", 0, 1, 1), 0);
    T_INT("a PSD's record (psd=y)", dmarc_failure_wanted("1", "mailto:a@b.c", 1, 1, 1), 0);
}

static void test_redact(void)
{
    static const char *cases[][2] = {
        {"Alice <alice@example.com>", "Alice <redacted@example.com>"},
        {" a@x.example, \"Bob B\" <bob.b+tag@y.example>",
         " redacted@x.example, \"Bob B\" <redacted@y.example>"},
        {"\"quoted local\"@example.com", "redacted@example.com"},
        {"undisclosed-recipients:;", "undisclosed-recipients:;"},
        {"(alice@example.com) x@y.example", "(redacted@example.com) redacted@y.example"},
    };
    char    name[200];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct strbuf sb = STRBUF_INIT;

        dmarc_failure_redact(&sb, cases[i][0]);
        snprintf(name, sizeof name, "redact %s", cases[i][0]);
        T_STR(name, sb_str(&sb), cases[i][1]);
        sb_free(&sb);
    }
}

static void test_gzip(void)
{
    const char *xml = "<feedback>report</feedback>\n";
    unsigned char *gz = NULL, out[128];
    size_t  len = 0;
    z_stream z;

    T_INT("gzip", dmarc_report_gzip(xml, strlen(xml), &gz, &len), 0);
    T_OK("gzip magic", len > 10 && gz[0] == 0x1f && gz[1] == 0x8b);
    memset(&z, 0, sizeof z);
    inflateInit2(&z, 15 + 16);
    z.next_in = gz;
    z.avail_in = (uInt) len;
    z.next_out = out;
    z.avail_out = sizeof out - 1;
    T_INT("gunzip", inflate(&z, Z_FINISH), Z_STREAM_END);
    out[z.total_out] = 0;
    T_STR("gzip round trip", (char *) out, xml);
    inflateEnd(&z);
    free(gz);
}

int     main(void)
{
    test_mailto();
    test_wanted();
    test_redact();
    test_gzip();
    return t_done();
}
