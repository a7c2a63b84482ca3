/*
 * fuzz_ar.c - the forged-header stripper and the A-R writer.  Line 1 is
 * our authserv-id, line 2 an incoming Authentication-Results value, line 3
 * an authenticated user name: milter_is_our_ar() must not crash, and what
 * milter_ar_build() writes must stay one header field: no CR, and every LF
 * a fold (followed by white space), so hostile text cannot start a field.
 */
#include "decide.h"
#include "fuzz.h"
#include "strbuf.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *s = fuzz_str(data, size), *v[3] = {"mx.example.org", "", ""};
    struct strbuf out = STRBUF_INIT;

    fuzz_lines(s, v, 3);
    (void) milter_is_our_ar(v[1], v[0]);
    milter_ar_build(&out, v[0], v[2], NULL, 1, NULL, 0);
    for (size_t i = 0; i < out.len; i++)
        if (out.s[i] == '\r' || (out.s[i] == '\n'
                                  && (i + 1 == out.len
                                      || (out.s[i + 1] != '\t' && out.s[i + 1] != ' '))))
            abort();
    sb_free(&out);
    free(s);
    return 0;
}
