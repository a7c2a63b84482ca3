/*
 * fuzz_spf.c - the SPF record parser and the macro syntax check on
 * arbitrary TXT contents (RFC 7208 sections 4.6 and 7).
 */
#include "fuzz.h"
#include "spf_int.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct spf_record rec;
    const char *s = (const char *) data;

    if (mxspf_record_is_spf(s, size))
        (void) mxspf_record_parse(s, size, &rec);
    (void) mxspf_macro_check(s, size, 0, 1);
    (void) mxspf_macro_check(s, size, 1, 0);
    return 0;
}
