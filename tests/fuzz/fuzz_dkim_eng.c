/*
 * fuzz_dkim_eng.c - mxdock's DKIM engine (issue 16) on hostile bytes.
 *
 *   LLVMFuzzerInitialize    a configuration whose key file is scratch
 *   LLVMFuzzerTestOneInput  first byte picks the part:
 *     0-3  body canonicalization (bit 0: relaxed, bit 1: an l= from the
 *          next byte): the hash of the whole input fed at once must equal
 *          the hash of it fed in chunks of sizes taken from the input;
 *     4-7  header canonicalization of "name:value" lines and the h= block
 *          of the first line as a list (bit 0: relaxed);
 *     8-   a whole verification: the first line is the key record served
 *          for every selector (parsed by dkim_eng_key.c), the rest a
 *          message (headers, blank line, body) verified through
 *          dkim_msg.h with dkim_engine = mxdock (the default).
 * Checked besides "no crash, no sanitizer report": the chunking invariant,
 * and that every result of a verification is one dkim_msg_res_name knows.
 */
#include <stdio.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "conf.h"
#include "dkim_eng.h"
#include "dkim_msg.h"
#include "fuzz.h"

static struct mx_conf *conf;
static char keyfile[] = "/tmp/fuzz_dkim_eng.XXXXXX";

int     LLVMFuzzerInitialize(int *argc, char ***argv);

int     LLVMFuzzerInitialize(int *argc, char ***argv)
{
    int     fd = mkstemp(keyfile);

    (void) argc, (void) argv;
    if (fd < 0 || (conf = conf_defaults()) == 0)
        abort();
    close(fd);
    return 0;
}

static void body_hash(int relaxed, long long l, const uint8_t *p, size_t n,
                      const uint8_t *steps, size_t nsteps, unsigned char out[32])
{
    struct dkim_canon_body cb;
    size_t  k = 0;

    if (dkim_canon_body_init(&cb, relaxed, l) != 0)
        abort();
    for (size_t o = 0; o < n; k++) {
        size_t  step = nsteps ? (size_t) steps[k % nsteps] + 1 : n;

        step = step < n - o ? step : n - o;
        (void) dkim_canon_body_update(&cb, p + o, step);
        o += step;
    }
    if (dkim_canon_body_final(&cb, out) != 0)
        abort();
    dkim_canon_body_free(&cb);
}

static void fuzz_body(const uint8_t *d, size_t n)
{
    unsigned char a[32], b[32];
    int     relaxed = d[0] & 1;
    long long l = (d[0] & 2) && n > 1 ? d[1] : -1;
    size_t  nsteps = n > 2 ? d[2] % 8 : 0;

    if (n < 3 + nsteps)
        return;
    body_hash(relaxed, l, d + 3 + nsteps, n - 3 - nsteps, 0, 0, a);
    body_hash(relaxed, l, d + 3 + nsteps, n - 3 - nsteps, d + 3, nsteps, b);
    if (memcmp(a, b, 32) != 0)
        abort();                /* chunking changed the canonical body */
}

static void fuzz_headers(const uint8_t *d, size_t n)
{
    char   *s = fuzz_str(d + 1, n - 1), *v[64];
    size_t  nl = fuzz_lines(s, v, 64);
    struct dkim_eng_hdrs h = {0};
    struct strbuf out = STRBUF_INIT;

    for (size_t i = 1; i < nl; i++) {
        char   *colon = strchr(v[i], ':');

        if (colon) {
            *colon = 0;
            (void) dkim_eng_hdrs_add(&h, v[i], colon + 1);
            dkim_canon_header(d[0] & 1, v[i], colon + 1, &out);
        }
    }
    (void) dkim_canon_block(&h, d[0] & 1, nl ? v[0] : "", &out);
    sb_free(&out);
    dkim_eng_hdrs_free(&h);
    free(s);
}

/* fuzz_verify - line 1 the key record of every selector, the rest a message */
static void fuzz_verify(const uint8_t *d, size_t n)
{
    char   *s = fuzz_str(d + 1, n - 1), *nl = strchr(s, '\n'), *body, why[256];
    FILE   *f = fopen(keyfile, "w");
    struct dkim_msg_lib *lib;
    struct dkim_msg *m;

    if (f == 0 || nl == 0)
        goto out;
    *nl = 0;
    /* the same record under a few selector names the message may use */
    fprintf(f, "s._domainkey.d.test %s\nsel._domainkey.example.test %s\n", s, s);
    fclose(f), f = 0;
    if ((lib = dkim_msg_lib_new(conf, keyfile, why, sizeof(why))) == 0)
        goto out;
    if ((m = dkim_msg_verify_new(lib, "fuzz", why, sizeof(why))) != 0) {
        char   *line = nl + 1, *end;

        while ((end = strchr(line, '\n')) != 0 && end != line) {
            char   *colon = memchr(line, ':', (size_t) (end - line));

            *end = 0;
            if (colon) {
                *colon = 0;
                dkim_msg_header(m, line, colon + 1);
            }
            line = end + 1;
        }
        dkim_msg_eoh(m);
        body = end ? end + 1 : line + strlen(line);
        dkim_msg_body(m, (const unsigned char *) body, strlen(body));
        if (dkim_msg_eom(m, why, sizeof(why)) == 0)
            for (size_t i = 0; i < dkim_msg_nsig(m); i++)
                if (strcmp(dkim_msg_res_name(dkim_msg_sig(m, i)->res), "none") == 0)
                    abort();    /* every judged signature has a result */
        dkim_msg_free(m);
    }
    dkim_msg_lib_free(lib);
out:
    if (f)
        fclose(f);
    free(s);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    if (data[0] < 4)
        fuzz_body(data, size);
    else if (data[0] < 8)
        fuzz_headers(data, size);
    else
        fuzz_verify(data, size);
    return 0;
}
