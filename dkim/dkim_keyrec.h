/*
 * dkim_keyrec.h - RFC 6376 3.6.1 checks of a DKIM key record (dkim_keyrec.c).
 */
#ifndef MX_DKIM_KEYREC_H
#define MX_DKIM_KEYREC_H

#include <stddef.h>

/* dkim_keyrec_check - 0 when TXT (the strings joined) is a key record a
 * verifier may use; -1 and a short WHY when RFC 6376 3.6.1 says to ignore
 * it: not a tag-list, a tag twice, v= not first or not DKIM1, no p=, an
 * unknown k=, or a p= that is not a key of the k= type (default rsa).  A
 * revoked key (empty p=) is usable here: the verifier reports it. */
int     dkim_keyrec_check(const char *txt, char *why, size_t whylen);

#endif
