/*
 * test_spf_engine - spf_engine = mxdock | libspf2 (issue 16): the setting
 * reaches the checker the milter builds (mxspf_new), default mxdock; a bad
 * value stops the configuration with a line naming the key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "spf_int.h"
#include "t.h"

/* engine_of - use_libspf2 of the checker built from config TEXT; -1 when
 * the configuration is refused (ERR says why) */
static int engine_of(const char *text, char *err, size_t errlen)
{
    char    path[] = "/tmp/test_spf_engine.XXXXXX";
    int     fd = mkstemp(path), rc = -1;
    struct mx_conf *c;
    struct mxspf *s;
    char    why[256];

    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t) strlen(text))
        return -2;
    close(fd);
    if ((c = conf_load(path, err, errlen)) != 0 && (s = mxspf_new(c, why, sizeof(why))) != 0) {
        rc = s->use_libspf2;
        mxspf_free(s);
    }
    conf_free(c);
    unlink(path);
    return rc;
}

int     main(void)
{
    char    err[512] = "";

    T_INT("default: mxdock's SPF", engine_of("dns_resolver = 127.0.0.1:9\n", err, sizeof(err)), 0);
    T_INT("spf_engine = mxdock", engine_of("spf_engine = mxdock\n", err, sizeof(err)), 0);
    T_INT("spf_engine = libspf2", engine_of("spf_engine = libspf2\n", err, sizeof(err)), 1);
    T_INT("spf_engine = other refused", engine_of("spf_engine = other\n", err, sizeof(err)), -1);
    T_HAS("the error names the key", err, "spf_engine");
    return t_done();
}
