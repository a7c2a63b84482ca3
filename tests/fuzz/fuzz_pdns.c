/*
 * fuzz_pdns.c - the PowerDNS JSON reader and the record normaliser: any
 * body the API (or a lying proxy) sends is read into the model or refused.
 */
#include <jansson.h>

#include "fuzz.h"
#include "pdns.h"
#include "strbuf.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t e;
    json_t *j = json_loadb((const char *) data, size, 0, &e);
    struct pdns_rrsets sets = PDNS_RRSETS_INIT;

    if (j == NULL)
        return 0;
    if (pdns_rrsets_from_json(json_is_object(j) ? json_object_get(j, "rrsets") : j,
                              &sets) == 0) {
        pdns_rrsets_sort(&sets);
        for (size_t i = 0; i < sets.n; i++)
            for (size_t k = 0; k < sets.v[i].n; k++) {
                struct strbuf b = STRBUF_INIT;

                pdns_norm(sets.v[i].type, sets.v[i].rec[k], &b);
                sb_free(&b);
            }
    }
    pdns_rrsets_free(&sets);
    json_decref(j);
    return 0;
}
