/*
 * fuzz_domain.c - domain normalisation (IDNA, case, trailing dot): a
 * normalised name never holds white space or control characters, and
 * normalising it again gives the same name.
 */
#include <ctype.h>

#include "domain.h"
#include "fuzz.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *s = fuzz_str(data, size), out[256], again[256], why[256];

    if (mx_domain_normalize(s, out, sizeof out, why, sizeof why) == 0) {
        for (const char *p = out; *p; p++)
            if (isspace((unsigned char) *p) || iscntrl((unsigned char) *p))
                abort();
        if (mx_domain_normalize(out, again, sizeof again, why, sizeof why) != 0
            || strcmp(out, again) != 0)
            abort();
    }
    free(s);
    return 0;
}
