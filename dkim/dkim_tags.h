/*
 * dkim_tags.h - the DKIM-Signature tag-list (RFC 6376 3.2, 3.5) parsed and
 * checked before any verifier sees it.  A pure function: header value in,
 * tags and a verdict out; no I/O, no library.
 *
 * Ownership: everything lives in the caller's struct dkim_tags.
 */
#ifndef MX_DKIM_TAGS_H
#define MX_DKIM_TAGS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define DKIM_TAGS_MAX 32        /* tags in one signature; more is refused */

/* What the tags allow (RFC 8601 2.7.1 result in brackets, docs/MILTER.md). */
enum dkim_tags_st {
    DKIM_TAGS_OK,               /* verify it */
    DKIM_TAGS_SYNTAX,           /* does not parse (neutral) */
    DKIM_TAGS_UNUSABLE,         /* parses, can never verify (permerror) */
    DKIM_TAGS_REFUSED           /* by local rule: rsa-sha1 (policy) */
};

struct dkim_tag {
    char    name[16];
    const char *v;              /* points into the header value */
    size_t  len;                /* with its inner folding white space */
};

struct dkim_tags {
    enum dkim_tags_st st;
    char    why[64];            /* reason when not OK (fixed text only) */
    size_t  n;
    struct dkim_tag tag[DKIM_TAGS_MAX];
    /* the values that passed their syntax; "" when absent or invalid */
    char    d[254];
    char    s[64];
    char    a[24];              /* only a known algorithm */
    char    b8[9];              /* first 8 characters of b= */
    uint64_t bhash;             /* FNV-1a of b= without white space */
};

/* dkim_tags_list - split VALUE into T->tag[]; -1 + T->why on a syntax
 * error (bad tag-spec, duplicate name, more than DKIM_TAGS_MAX tags). */
int     dkim_tags_list(const char *value, struct dkim_tags *t);

/* dkim_tags_get - the tag NAME of T, NULL when absent */
const struct dkim_tag *dkim_tags_get(const struct dkim_tags *t, const char *name);

/* dkim_tags_parse - the DKIM-Signature value VALUE checked at time NOW:
 * the status (also in T->st) and T filled. */
enum dkim_tags_st dkim_tags_parse(const char *value, time_t now, struct dkim_tags *t);

/* dkim_tags_bhash - FNV-1a of the b= text S (LEN bytes) without white
 * space: the key that matches a signature to the verifier's copy of it */
uint64_t dkim_tags_bhash(const char *s, size_t len);

#endif
