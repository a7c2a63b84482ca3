/*
 * domain.h - domain-name validation and normalisation.
 */
#ifndef MX_DOMAIN_H
#define MX_DOMAIN_H

#include <stddef.h>

/* mx_domain_normalize - check IN as a host/domain name (IDNA2008 via
 * libidn2 for non-ASCII, then LDH labels of 1..63 bytes, 253 bytes in all,
 * at least two labels, no trailing dot required), and write the lowercase
 * A-label form without trailing dot to OUT.  -1 with a reason in WHY. */
int     mx_domain_normalize(const char *in, char *out, size_t outlen,
                            char *why, size_t whylen);

/* mx_domain_within - is NAME equal to or below ZONE (both normalised)? */
int     mx_domain_within(const char *name, const char *zone);

/* mx_shown - IN with control characters (newline, NUL...) written as \xHH,
 * cut to fit OUTLEN, so a message about it stays one line; returns OUT */
const char *mx_shown(const char *in, char *out, size_t outlen);

#endif
