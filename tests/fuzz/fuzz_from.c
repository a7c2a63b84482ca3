/*
 * fuzz_from.c - From header parsing (DMARC's RFC 5322 parser and the
 * milter's sender check): up to four From values, one per input line.
 * Multi-valued From, groups, comments, encoded words, no @, 8-bit, domain
 * literals all come through here.
 */
#include "decide.h"
#include "dmarc.h"
#include "fuzz.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *s = fuzz_str(data, size), *v[4], dom[256], why[256];
    size_t  n = fuzz_lines(s, v, 4);
    int     rc = mxdmarc_from_domain((const char *const *) v, n, dom, sizeof dom,
                                     why, sizeof why);

    if (rc == 0 && strlen(dom) >= sizeof dom)
        abort();
    rc = milter_from_domain((const char *const *) v, n, dom, sizeof dom, why, sizeof why);
    (void) milter_sender_refused(v[0], n, rc == 0 ? dom : "");
    free(s);
    return 0;
}
