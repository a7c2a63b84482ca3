/*
 * fuzz_conf.c - the configuration loader on arbitrary file contents:
 * conf_load() must accept or refuse with one line, never crash or leak.
 */
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char    path[64], err[512];
    int     fd = memfd_create("fuzz-conf", 0);
    struct mx_conf *c;

    if (fd < 0 || write(fd, data, size) != (ssize_t) size)
        abort();
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    c = conf_load(path, err, sizeof err);
    if (c == NULL && (err[0] == 0 || strchr(err, '\n')))
        abort();                /* a refusal is one non-empty line */
    conf_free(c);
    close(fd);
    return 0;
}
