/*
 * spf_explain.c - the explanation of a fail (RFC 7208 6.2): the exp=
 * domain's one TXT record, macro-expanded.  Anything wrong with it (no
 * record, several, a DNS error, a syntax error, bytes that are not
 * printable ASCII) means the default explanation, never an error.
 *
 *   mxspf_explain   fill V->exp, or leave it empty for the default
 *
 * Ownership: the text goes into the verdict; spf.c sanitises it again
 * before it reaches a reply or a header.
 */
#include <arpa/nameser.h>
#include <stdlib.h>
#include <string.h>

#include "spf_int.h"

void    mxspf_explain(struct spf_ctx *c, const struct spf_record *r, const char *domain,
                      struct spf_verdict *v)
{
    char    name[SPF_MAX_NAME], text[1024];
    struct spf_rrs *rrs;

    v->exp[0] = 0;
    if (r->exp_len == 0
        || mxspf_domain_expand(c, r->text + r->exp_off, r->exp_len, domain, name, sizeof name) < 0)
        return;
    if ((rrs = malloc(sizeof *rrs)) == NULL)
        return;
    if (mxspf_dns_lookup(c, name, ns_t_txt, rrs) == SPF_DNS_OK && rrs->count == 1
        && strlen(rrs->item[0]) == rrs->len[0]
        && mxspf_macro_expand(c, rrs->item[0], rrs->len[0], domain, 1, text, sizeof text) == 0)
        mxspf_strlcpy(v->exp, text, sizeof v->exp);
    free(rrs);
}
