/*
 * dkimsign - drive dkim/dkim_msg.h from the tests (tests/integration/
 * dkim_engine_sign.sh) the way the milter does: headers with their leading
 * space and LF folds, then the body in chunks of uneven sizes.
 *
 *   dkimsign -c CONF sign DOMAIN MESSAGE
 *       sign MESSAGE with the active keys of DOMAIN by the dkim_engine of
 *       CONF; print the DKIM-Signature fields (CRLF folds) and the message
 *   dkimsign -c CONF verify KEYFILE MESSAGE
 *       verify MESSAGE (libopendkim, keys from KEYFILE: lines
 *       "SEL._domainkey.DOMAIN TXT-value"); one line per signature:
 *       "RESULT DOMAIN SELECTOR ALGORITHM"
 *
 * The body goes in chunks of 1, 2, 3, 5, 13, 4096 and 65535 bytes in turn,
 * so a CR, a CRLF or a run of white space is split across calls.
 *
 * Exit: 0, or a <sysexits.h> code with a line on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "conf.h"
#include "dkim_msg.h"
#include "fileio.h"

struct msg {
    char   *text;
    size_t  len;
    size_t  body;               /* offset of the body */
};

static int die(int code, const char *what, const char *why)
{
    fprintf(stderr, "dkimsign: %s: %s\n", what, why);
    return code;
}

static int read_msg(const char *path, struct msg *m)
{
    FILE   *f = fopen(path, "rb");
    long    n;

    if (f == 0 || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
        return -1;
    m->text = malloc((size_t) n + 1);
    m->len = m->text ? fread(m->text, 1, (size_t) n, f) : 0;
    fclose(f);
    if (m->text == 0 || m->len != (size_t) n)
        return -1;
    m->text[m->len] = 0;
    return 0;
}

/* line_end - offset past the line end at or after I; *START of next line */
static size_t next_line(const struct msg *m, size_t i, size_t *eol)
{
    const char *nl = memchr(m->text + i, '\n', m->len - i);
    size_t  e = nl ? (size_t) (nl - m->text) : m->len;

    *eol = e > i && m->text[e - 1] == '\r' ? e - 1 : e;
    return nl ? e + 1 : m->len;
}

/* feed_headers - each header as the milter gets it: value after the colon
 * (leading space kept), folds as LF; sets M->body */
static void feed_headers(struct dkim_msg *dm, struct msg *m)
{
    size_t  i = 0, eol, nxt;
    char   *name = 0, *value = 0;
    size_t  vlen = 0;

    for (; i < m->len; i = nxt) {
        nxt = next_line(m, i, &eol);
        if (value && (m->text[i] == ' ' || m->text[i] == '\t')) {
            value = realloc(value, vlen + (eol - i) + 2);
            value[vlen++] = '\n';
            memcpy(value + vlen, m->text + i, eol - i);
            value[vlen += eol - i] = 0;
            continue;
        }
        if (name)
            dkim_msg_header(dm, name, value);
        free(name), free(value), name = 0, value = 0;
        if (eol == i) {
            i = nxt;
            break;
        }
        char   *colon = memchr(m->text + i, ':', eol - i);

        if (colon == 0)
            continue;
        name = strndup(m->text + i, (size_t) (colon - m->text) - i);
        value = strndup(colon + 1, eol - (size_t) (colon + 1 - m->text));
        vlen = strlen(value);
    }
    if (name)
        dkim_msg_header(dm, name, value);
    free(name), free(value);
    m->body = i;
    dkim_msg_eoh(dm);
}

static void feed_body(struct dkim_msg *dm, const struct msg *m)
{
    static const size_t sizes[] = {1, 2, 3, 5, 13, 4096, 65535};
    size_t  k = 0;

    for (size_t o = m->body; o < m->len; k++) {
        size_t  n = sizes[k % 7] < m->len - o ? sizes[k % 7] : m->len - o;

        dkim_msg_body(dm, (const unsigned char *) m->text + o, n);
        o += n;
    }
}

static int do_sign(struct mx_conf *c, const char *domain, struct msg *m)
{
    char    why[256] = "";
    struct dkim_msg_lib *lib = dkim_msg_lib_new(c, "/dev/null", why, sizeof(why));
    struct dkim_keyring *kr = dkim_keyring_new(c);
    struct dkim_keyset *ks = kr ? dkim_keyring_get(kr, domain) : 0;
    struct dkim_msg *dm = lib && ks ? dkim_msg_sign_new(lib, "t", ks, why, sizeof(why)) : 0;

    if (dm == 0)
        return die(EX_SOFTWARE, domain, why[0] ? why : "no active keys");
    feed_headers(dm, m);
    feed_body(dm, m);
    if (dkim_msg_eom(dm, why, sizeof(why)) != 0)
        return die(EX_SOFTWARE, "sign", why);
    for (size_t i = 0; i < dkim_msg_nsighdr(dm); i++) {
        fputs("DKIM-Signature: ", stdout);
        for (const char *p = dkim_msg_sighdr(dm, i); *p; p++)
            fputs(*p == '\n' ? "\r\n" : (char[2]) {*p, 0}, stdout);
        fputs("\r\n", stdout);
    }
    fwrite(m->text, 1, m->len, stdout);
    dkim_msg_free(dm);
    dkim_keyset_release(kr, ks);
    dkim_keyring_free(kr);
    dkim_msg_lib_free(lib);
    return 0;
}

static int do_verify(struct mx_conf *c, const char *keyfile, struct msg *m)
{
    char    why[256] = "";
    struct dkim_msg_lib *lib = dkim_msg_lib_new(c, keyfile, why, sizeof(why));
    struct dkim_msg *dm = lib ? dkim_msg_verify_new(lib, "t", why, sizeof(why)) : 0;

    if (dm == 0)
        return die(EX_SOFTWARE, "verify", why);
    feed_headers(dm, m);
    feed_body(dm, m);
    if (dkim_msg_eom(dm, why, sizeof(why)) != 0)
        return die(EX_SOFTWARE, "verify", why);
    for (size_t i = 0; i < dkim_msg_nsig(dm); i++) {
        const struct dkim_msg_sig *s = dkim_msg_sig(dm, i);

        printf("%s %s %s %s\n", dkim_msg_res_name(s->res), s->d, s->s, s->a);
    }
    dkim_msg_free(dm);
    dkim_msg_lib_free(lib);
    return 0;
}

int     main(int argc, char **argv)
{
    struct mx_conf *c = 0;
    char    why[512];
    struct msg m = {0, 0, 0};

    if (argc != 6 || strcmp(argv[1], "-c") != 0)
        return die(EX_USAGE, "usage", "dkimsign -c CONF sign DOMAIN MSG | verify KEYFILE MSG");
    if ((c = conf_load(argv[2], why, sizeof(why))) == 0)
        return die(EX_CONFIG, argv[2], why);
    if (read_msg(argv[5], &m) != 0)
        return die(EX_NOINPUT, argv[5], "cannot read");
    if (strcmp(argv[3], "sign") == 0)
        return do_sign(c, argv[4], &m);
    if (strcmp(argv[3], "verify") == 0)
        return do_verify(c, argv[4], &m);
    return die(EX_USAGE, argv[3], "not sign or verify");
}
