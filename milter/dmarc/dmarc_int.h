/*
 * dmarc_int.h - inside the DMARC module: the checker, shared by its files.
 */
#ifndef MX_DMARC_INT_H
#define MX_DMARC_INT_H

#include <libpsl.h>
#include "dmarc.h"

struct mxdmarc {
    const struct mx_conf *c;
    psl_ctx_t *psl;
    mxdmarc_lookup_fn lookup;
    void   *lookup_ctx;
    char    server[64];         /* dns_resolver */
    int     timeout;            /* dns_timeout */
};

/* mxdmarc_format_ar - fill R->ar from R; returns R->status. */
int     mxdmarc_format_ar(struct mxdmarc_result *r);

#endif
