/*
 * dkimfeed.h - a message file as the milter hands it to dkim/dkim_msg.h:
 * headers (value after the colon, leading space kept, folds as LF), then
 * the body in chunks.  For tests/dkim/dkimsign.c and tests/bench/engbench.c.
 *
 * Ownership: dkimfeed_read() fills a struct freed with dkimfeed_free().
 */
#ifndef MX_DKIMFEED_H
#define MX_DKIMFEED_H

#include <stddef.h>

#include "dkim_msg.h"

struct dkimfeed {
    char   *text;               /* the whole file */
    size_t  len;
    size_t  body;               /* offset of the body */
    size_t  nhdr;
    char  **name, **value;
};

/* dkimfeed_read - PATH parsed; -1 when it cannot be read */
int     dkimfeed_read(const char *path, struct dkimfeed *);
void    dkimfeed_free(struct dkimfeed *);

/* dkimfeed_run - headers, end of headers, then the body: in chunks of 1, 2,
 * 3, 5, 13, 4096 and 65535 bytes in turn when UNEVEN, else of 65535 bytes
 * (as Postfix sends them) */
void    dkimfeed_run(const struct dkimfeed *, struct dkim_msg *, int uneven);

#endif
