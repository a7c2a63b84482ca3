/*
 * schema.h - mxdock's own policy tables: create or upgrade them.
 */
#ifndef MX_SCHEMA_H
#define MX_SCHEMA_H

#include "pdb.h"

#define SCHEMA_VERSION 3

/* schema_upgrade - bring the tables to SCHEMA_VERSION; *FROM gets the
 * version found (0 = none).  0, or -1 on a database error. */
int     schema_upgrade(struct pdb *, int *from);

#endif
