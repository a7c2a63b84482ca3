/*
 * fuzz.h - what every libFuzzer target of tests/fuzz/ shares.
 *
 *   fuzz_str     the input as a NUL-terminated string (the caller frees)
 *   fuzz_lines   the input split at '\n' into at most MAX strings
 *
 * Each target is one file tests/fuzz/fuzz_NAME.c with its seed corpus in
 * tests/fuzz/corpus/NAME/; tests/fuzz/run.sh runs them (make fuzz, and the
 * short pass of make check).
 */
#ifndef MX_FUZZ_H
#define MX_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_str - DATA as a string; embedded NULs end it early, as in C callers */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
    char   *s = malloc(size + 1);

    if (s == NULL)
        abort();
    memcpy(s, data, size);
    s[size] = 0;
    return s;
}

/* fuzz_lines - split S in place at '\n' into at most MAX strings in V */
static inline size_t fuzz_lines(char *s, char **v, size_t max)
{
    size_t  n = 0;

    while (n < max) {
        char   *nl = strchr(s, '\n');

        v[n++] = s;
        if (nl == NULL)
            break;
        *nl = 0;
        s = nl + 1;
    }
    return n;
}

#endif
