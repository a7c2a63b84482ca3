/*
 * dkimsign - drive dkim/dkim_msg.h from the tests (tests/integration/
 * dkim_engine_sign.sh) the way the milter does: headers with their leading
 * space and LF folds, then the body in chunks of uneven sizes.
 *
 *   dkimsign -c CONF sign DOMAIN MESSAGE
 *       sign MESSAGE with the active keys of DOMAIN by the dkim_engine of
 *       CONF; print the DKIM-Signature fields (CRLF folds) and the message
 *   dkimsign -c CONF verify KEYFILE MESSAGE
 *       verify MESSAGE by the dkim_engine of CONF, keys from KEYFILE (lines
 *       "SEL._domainkey.DOMAIN TXT-value"); one line per signature:
 *       "RESULT DOMAIN SELECTOR ALGORITHM [WHY]".  KEYFILE "-": keys from
 *       dns_resolver, and MESSAGE verified again for each line read on
 *       stdin (one process, so one key cache), "." after each round
 *
 * The body goes in chunks of 1, 2, 3, 5, 13, 4096 and 65535 bytes in turn
 * (tests/dkim/dkimfeed.c), so a CR, a CRLF or a run of white space is
 * split across calls.
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
#include "dkimfeed.h"

/* libopendkim loses its parsed Ed25519 key in every dkim_sign() (issue
 * 16): suppressed by name, with full stacks so mxdock's own leaks show */
const char *__asan_default_options(void);
const char *__lsan_default_suppressions(void);

const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}

const char *__lsan_default_suppressions(void)
{
    return "leak:dkim_privkey_load\nleak:libopendkim.so\n";
}

static int die(int code, const char *what, const char *why)
{
    fprintf(stderr, "dkimsign: %s: %s\n", what, why);
    return code;
}

static int do_sign(struct mx_conf *c, const char *domain, struct dkimfeed *m)
{
    char    why[256] = "";
    struct dkim_msg_lib *lib = dkim_msg_lib_new(c, "/dev/null", why, sizeof(why));
    struct dkim_keyring *kr = dkim_keyring_new(c);
    struct dkim_keyset *ks = kr ? dkim_keyring_get(kr, domain) : 0;
    struct dkim_msg *dm = lib && ks ? dkim_msg_sign_new(lib, "t", ks, why, sizeof(why)) : 0;

    if (dm == 0)
        return die(EX_SOFTWARE, domain, why[0] ? why : "no active keys");
    dkimfeed_run(m, dm, 1);
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

/* verify_once - one verification of M by LIB, its lines on stdout */
static int verify_once(struct dkim_msg_lib *lib, struct dkimfeed *m)
{
    char    why[256] = "";
    struct dkim_msg *dm = dkim_msg_verify_new(lib, "t", why, sizeof(why));

    if (dm == 0)
        return die(EX_SOFTWARE, "verify", why);
    dkimfeed_run(m, dm, 1);
    if (dkim_msg_eom(dm, why, sizeof(why)) != 0) {
        dkim_msg_free(dm);
        return die(EX_SOFTWARE, "verify", why);
    }
    for (size_t i = 0; i < dkim_msg_nsig(dm); i++) {
        const struct dkim_msg_sig *s = dkim_msg_sig(dm, i);

        printf("%s %s %s %s%s%s\n", dkim_msg_res_name(s->res), s->d, s->s, s->a,
               s->why[0] ? " " : "", s->why);
    }
    dkim_msg_free(dm);
    return 0;
}

/* do_verify - KEYFILE "-": keys from dns_resolver, and M verified again
 * for every line on stdin (one process, one key cache), "." after each */
static int do_verify(struct mx_conf *c, const char *keyfile, struct dkimfeed *m)
{
    char    why[256] = "", line[64];
    int     dns = strcmp(keyfile, "-") == 0, rc = 0;
    struct dkim_msg_lib *lib = dkim_msg_lib_new(c, dns ? 0 : keyfile, why, sizeof(why));

    if (lib == 0)
        return die(EX_SOFTWARE, "verify", why);
    if (!dns)
        rc = verify_once(lib, m);
    while (dns && rc == 0 && fgets(line, sizeof(line), stdin)) {
        rc = verify_once(lib, m);
        printf(".\n");
        fflush(stdout);
    }
    dkim_msg_lib_free(lib);
    return rc;
}

int     main(int argc, char **argv)
{
    struct mx_conf *c = 0;
    char    why[512];
    struct dkimfeed m;
    int     rc;

    if (argc != 6 || strcmp(argv[1], "-c") != 0)
        return die(EX_USAGE, "usage", "dkimsign -c CONF sign DOMAIN MSG | verify KEYFILE MSG");
    if ((c = conf_load(argv[2], why, sizeof(why))) == 0)
        return die(EX_CONFIG, argv[2], why);
    if (dkimfeed_read(argv[5], &m) != 0)
        return die(EX_NOINPUT, argv[5], "cannot read");
    if (strcmp(argv[3], "sign") == 0)
        rc = do_sign(c, argv[4], &m);
    else if (strcmp(argv[3], "verify") == 0)
        rc = do_verify(c, argv[4], &m);
    else
        rc = die(EX_USAGE, argv[3], "not sign or verify");
    dkimfeed_free(&m);
    conf_free(c);
    return rc;
}
