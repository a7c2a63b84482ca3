/*
 * gen.h - configuration generations of the milter: one configuration with
 * everything built from it (address lists, DKIM library and keyring, SPF
 * and DMARC checkers, policy handle, DMARC report database pool).  Connections hold a reference to the generation
 * they started with; SIGUSR1 builds a new one and swaps the current pointer
 * under one lock.
 *
 * Ownership: milter_gen_build() returns a generation with one reference;
 * milter_gen_acquire() adds one; milter_gen_release() drops one and frees
 * the generation with the last.
 */
#ifndef MX_MILTER_GEN_H
#define MX_MILTER_GEN_H

#include <stddef.h>

#include "cidr.h"
#include "conf.h"
#include "dkim_msg.h"
#include "dmarc.h"
#include "pdb.h"
#include "policy.h"
#include "spf.h"

struct milter_gen {
    int     refs;               /* guarded by the generation lock */
    unsigned long serial;       /* 1, 2, ... for the log */
    struct mx_conf *conf;
    struct cidr_list *internal;
    struct cidr_list *spf_skip;
    struct dkim_msg_lib *dlib;
    struct dkim_keyring *keys;
    struct mxspf *spf;          /* NULL: SPF not available (logged) */
    struct policy *policy;      /* NULL: quota and authfail are off */
    struct mxdmarc *dmarc;      /* NULL: dmarc_check off or unavailable */
    struct pdb *dmarc_db;       /* NULL: dmarc_report_enable off */
    char    authserv_id[256];
};

/* milter_gen_build - load PATH and build a generation; NULL + WHY (a
 * configuration error names file, line and key) */
struct milter_gen *milter_gen_build(const char *path, char *why, size_t whylen);

/* milter_gen_install - make G the current generation (start-up) */
void    milter_gen_install(struct milter_gen *g);

/* milter_gen_reload - build from PATH and swap; on error the current
 * generation stays and -1 is returned with WHY */
int     milter_gen_reload(const char *path, char *why, size_t whylen);

struct milter_gen *milter_gen_acquire(void);
void    milter_gen_release(struct milter_gen *g);

/* milter_gen_shutdown - drop the current generation (after smfi_main) */
void    milter_gen_shutdown(void);

#endif
