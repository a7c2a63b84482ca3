/*
 * decide.c - verdicts: what SPF and DKIM results mean for the SMTP reply,
 * who is trusted to have mail signed, who may send as which domain.
 * Never calls libmilter (tests/unit/test_milter.c drives it directly).
 *
 *   milter_action, milter_kind_name     names of actions and verdicts
 *   milter_verdict_set/merge            build and combine verdicts
 *   milter_decide_spf, milter_decide_dkim   results -> verdict
 *   milter_reply_escape                 text safe for smfi_setreply
 *   milter_trusted, milter_sender_ok    the signing and sender decisions
 *   milter_from_domain                  the one From domain (dmarc_from.c)
 *   milter_sender_refused               the whole sender check
 *   milter_parent_domain                walk up for dkim_sign_subdomains
 *
 * Reply codes follow RFC 7372 (FIELD-NOTES): SPF fail x.7.23, SPF
 * permerror/temperror x.7.24, no passing DKIM signature x.7.20; the first
 * digit follows the verdict, so an action changed to tempfail gives 451.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "decide.h"
#include "dmarc.h"
#include "domain.h"

enum milter_act milter_action(const char *name)
{
    if (name == 0)
        return MACT_TAG;
    if (strcasecmp(name, "reject") == 0)
        return MACT_REJECT;
    if (strcasecmp(name, "tempfail") == 0)
        return MACT_TEMPFAIL;
    if (strcasecmp(name, "ignore") == 0)
        return MACT_IGNORE;
    return MACT_TAG;
}

const char *milter_kind_name(enum milter_kind k)
{
    return k == MV_REJECT ? "reject" : k == MV_TEMPFAIL ? "tempfail" : "continue";
}

void    milter_verdict_set(struct milter_verdict *v, enum milter_kind kind, const char *rcode,
                           const char *xcode, const char *why, const char *fmt, ...)
{
    va_list ap;

    memset(v, 0, sizeof(*v));
    v->kind = kind;
    snprintf(v->why, sizeof(v->why), "%s", why ? why : "");
    if (kind == MV_CONTINUE)
        return;
    snprintf(v->rcode, sizeof(v->rcode), "%s", rcode);
    snprintf(v->xcode, sizeof(v->xcode), "%s", xcode);
    va_start(ap, fmt);
    vsnprintf(v->text, sizeof(v->text), fmt, ap);
    va_end(ap);
}

void    milter_verdict_merge(struct milter_verdict *into, const struct milter_verdict *v)
{
    if (v->kind > into->kind)
        *into = *v;
}

/* act_verdict - the verdict for action ACT with the RFC 7372 detail DETAIL
 * ("7.23"): 550 5.x for reject, 451 4.x for tempfail */
static void act_verdict(struct milter_verdict *v, enum milter_act act, const char *detail,
                        const char *why, const char *text)
{
    char    x[16];

    if (act == MACT_REJECT) {
        snprintf(x, sizeof(x), "5.%s", detail);
        milter_verdict_set(v, MV_REJECT, "550", x, why, "%s", text);
    } else if (act == MACT_TEMPFAIL) {
        snprintf(x, sizeof(x), "4.%s", detail);
        milter_verdict_set(v, MV_TEMPFAIL, "451", x, why, "%s", text);
    } else {
        milter_verdict_set(v, MV_CONTINUE, "", "", why, "%s", "");
    }
}

void    milter_decide_spf(const struct mx_conf *c, const struct mxspf_answer *a,
                          const char *client_ip, struct milter_verdict *v, int *tag)
{
    char    text[256];
    const char *action = 0, *detail = "7.24", *why = "";
    enum milter_act act;

    switch (a->result) {
    case MXSPF_FAIL:
        action = c->spf_fail_action, detail = "7.23", why = "spf-fail";
        break;
    case MXSPF_SOFTFAIL:
        action = c->spf_softfail_action, detail = "7.23", why = "spf-softfail";
        break;
    case MXSPF_PERMERROR:
        action = c->spf_permerror_action, why = "spf-permerror";
        break;
    case MXSPF_TEMPERROR:
        action = c->spf_temperror_action, why = "spf-temperror";
        break;
    default:
        break;
    }
    act = action ? milter_action(action) : MACT_TAG;
    *tag = act != MACT_IGNORE;
    if (a->result == MXSPF_TEMPERROR)
        snprintf(text, sizeof(text), "SPF check of %.200s failed temporarily, try again later",
                 a->domain);
    else if (a->result == MXSPF_PERMERROR)
        snprintf(text, sizeof(text), "SPF record of %.200s is invalid", a->domain);
    else if (a->explanation[0])
        snprintf(text, sizeof(text), "%s", a->explanation);
    else
        snprintf(text, sizeof(text), "%.60s is not allowed to send mail from %.150s",
                 client_ip, a->domain);
    act_verdict(v, act, detail, why, text);
}

void    milter_decide_dkim(const struct mx_conf *c, const struct dkim_msg_sig *sigs, size_t n,
                           struct milter_verdict *v, int *tag)
{
    size_t  pass = 0, fail = 0, temp = 0;
    enum milter_act act;

    for (size_t i = 0; i < n; i++) {
        pass += sigs[i].res == DKIM_MSG_PASS;
        fail += sigs[i].res == DKIM_MSG_FAIL;
        temp += sigs[i].res == DKIM_MSG_TEMPERROR;
    }
    *tag = 1;
    if (pass > 0 || n == 0) {
        milter_verdict_set(v, MV_CONTINUE, "", "", n ? "dkim-pass" : "dkim-none", "%s", "");
        return;
    }
    if (temp == n) {
        act = milter_action(c->dkim_dnserror_action);
        *tag = act != MACT_IGNORE;
        act_verdict(v, act, "7.20", "dkim-temperror",
                    "DKIM key lookup failed, try again later");
        return;
    }
    act = fail > 0 ? milter_action(c->dkim_fail_action) : MACT_TAG;
    *tag = act != MACT_IGNORE;
    act_verdict(v, act, "7.20", fail ? "dkim-fail" : "dkim-nopass",
                "No passing DKIM signature found");
}

int     milter_reply_escape(const char *in, char *out, size_t outlen)
{
    size_t  o = 0;

    if (outlen == 0)
        return -1;
    for (; *in; in++) {
        unsigned char ch = (unsigned char) *in;
        size_t  need = ch == '%' ? 2 : 1;

        if (o + need >= outlen) {
            out[o] = 0;
            return -1;
        }
        if (ch == '%')
            out[o++] = '%';
        out[o++] = ch < 0x20 || ch == 0x7f ? ' ' : (char) ch;
    }
    out[o] = 0;
    return 0;
}

int     milter_trusted(const struct mx_conf *c, const char *auth_user, int internal_client,
                       const char *daemon_name)
{
    if (auth_user && *auth_user)
        return 1;
    if (internal_client)
        return 1;
    return daemon_name && *daemon_name && c->milter_sign_daemons
        && conf_list_has(c->milter_sign_daemons, daemon_name);
}

int     milter_from_domain(const char *const *from, size_t n, char *out, size_t outlen,
                           char *why, size_t whylen)
{
    if (mxdmarc_from_domain(from, n, out, outlen, why, whylen) == 0)
        return 0;
    if (outlen)
        out[0] = 0;
    return -1;
}

int     milter_sender_refused(const char *auth_user, size_t n, const char *from_domain)
{
    /* several From fields or addresses: never one we could vouch for; no
     * From at all: only a user without a domain cannot be compared */
    if (*from_domain == 0)
        return n > 0 || strchr(auth_user, '@') != 0;
    return !milter_sender_ok(auth_user, from_domain);
}

int     milter_sender_ok(const char *auth_user, const char *from_domain)
{
    const char *at = auth_user ? strrchr(auth_user, '@') : 0;
    char    dom[256], why[128];

    if (at == 0)
        return 1;
    if (from_domain == 0 || *from_domain == 0)
        return 0;
    if (mx_domain_normalize(at + 1, dom, sizeof(dom), why, sizeof(why)) != 0)
        return 0;
    return mx_domain_within(from_domain, dom);
}

const char *milter_parent_domain(const char *domain)
{
    const char *dot = strchr(domain, '.');

    if (dot == 0 || strchr(dot + 1, '.') == 0)
        return 0;
    return dot + 1;
}
