/*
 * t_keyfile.h - for unit tests that verify without DNS: t_keyfile writes
 * the TXT records of example.test's keys (the store of C) to PATH in
 * libopendkim's key-file format ("NAME TXT" lines), which both engines read.
 */
#ifndef MX_T_KEYFILE_H
#define MX_T_KEYFILE_H

#include <stdio.h>

#include "conf.h"
#include "dkim.h"
#include "strbuf.h"

static inline int t_keyfile(const struct mx_conf *c, const char *path)
{
    struct dkim_domain *d;
    char    why[256];
    FILE   *f = fopen(path, "w");

    if (f == 0 || dkim_store_load(c, "example.test", &d, why, sizeof(why)) != 0)
        return -1;
    for (size_t i = 0; i < d->n; i++) {
        struct strbuf sb = STRBUF_INIT;

        dkim_txt_value(&d->sel[i], &sb);
        fprintf(f, "%s._domainkey.example.test %s\n", d->sel[i].name, sb_str(&sb));
        sb_free(&sb);
    }
    dkim_domain_free(d);
    return fclose(f);
}

#endif
