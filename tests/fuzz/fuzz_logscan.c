/*
 * fuzz_logscan.c - the watch-log line parser (Postfix SASL, Dovecot,
 * Stalwart lines): a hit always carries a normalised IP and bounded text.
 */
#include "fuzz.h"
#include "logscan.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *s = fuzz_str(data, size);
    struct logscan_hit hit;

    memset(&hit, 0, sizeof hit);
    if (logscan_parse(s, &hit) == 1
        && (hit.ip[0] == 0 || hit.count < 1
            || memchr(hit.ip, 0, sizeof hit.ip) == NULL
            || memchr(hit.principal, 0, sizeof hit.principal) == NULL))
        abort();
    free(s);
    return 0;
}
