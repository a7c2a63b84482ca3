/*
 * fuzz_dmarc.c - the DMARC record parser on arbitrary TXT contents.
 */
#include "dmarc.h"
#include "fuzz.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *s = fuzz_str(data, size);
    struct mxdmarc_record r;

    if (mxdmarc_is_dmarc(s))
        (void) mxdmarc_record_parse(s, &r);
    free(s);
    return 0;
}
