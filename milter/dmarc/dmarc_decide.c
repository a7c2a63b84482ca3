/*
 * dmarc_decide.c - what a DMARC result means: the Authentication-Results
 * text and the action the milter takes under the dmarc_* settings.
 *
 *   mxdmarc_format_ar     "dmarc=fail (p=reject sp=none dis=reject) header.from=..."
 *                         ("org=ORG/treewalk" or "/psl" in the comment when the
 *                         policy or an alignment came from the organizational
 *                         domain: where the two methods could differ)
 *   mxdmarc_decide        accept, tag, quarantine, reject or tempfail
 *   mxdmarc_status_name   "pass", "fail", ...
 *   mxdmarc_policy_name   "none", "quarantine", "reject" ("" when unset)
 *   mxdmarc_verdict_name  "accept", "tag", ...
 *
 * Trusted (authenticated or internal) mail is never enforced upon.  With
 * dmarc_dry_run the intended verdict is kept in INTENDED and the verdict
 * is accept.  Replies follow FIELD-NOTES: 550 5.7.1 for a DMARC reject.
 * Texts hold only normalised domain names: no '%', CR or LF.
 *
 * Ownership: caller's structs only.  Diagnostics: none (the milter logs).
 */
#include <stdio.h>
#include <string.h>

#include "dmarc.h"
#include "dmarc_int.h"

#define TAG_HEADER "X-Mxdock-DMARC"

const char *mxdmarc_status_name(enum mxdmarc_status s)
{
    static const char *names[] = {"none", "pass", "fail", "temperror", "permerror"};

    return (unsigned) s < sizeof names / sizeof names[0] ? names[s] : "permerror";
}

const char *mxdmarc_policy_name(enum mxdmarc_policy p)
{
    static const char *names[] = {"", "none", "quarantine", "reject"};

    return (unsigned) p < sizeof names / sizeof names[0] ? names[p] : "";
}

const char *mxdmarc_verdict_name(enum mxdmarc_verdict v)
{
    static const char *names[] = {"accept", "tag", "quarantine", "reject", "tempfail"};

    return (unsigned) v < sizeof names / sizeof names[0] ? names[v] : "accept";
}

int     mxdmarc_format_ar(struct mxdmarc_result *r)
{
    const char *st = mxdmarc_status_name(r->status);
    enum mxdmarc_policy sp = r->sp != MXDMARC_P_UNSET ? r->sp : r->p;
    char    np[32] = "", org[MXDMARC_DOMAIN_MAX + 40] = "";

    if (r->status == MXDMARC_PERMERROR || r->author_domain[0] == 0) {
        snprintf(r->ar, sizeof r->ar, "dmarc=%s (%s)", st, r->reason);
    } else if (r->p == MXDMARC_P_UNSET) {
        snprintf(r->ar, sizeof r->ar, "dmarc=%s header.from=%s", st, r->author_domain);
    } else {
        if (r->np != MXDMARC_P_UNSET)
            snprintf(np, sizeof np, " np=%s", mxdmarc_policy_name(r->np));
        if (r->org_mattered)
            snprintf(org, sizeof org, " org=%s/%s%s", r->org_domain[0] ? r->org_domain : "?",
                     r->treewalk ? "treewalk" : "psl", r->psd_policy ? " psd=y" : "");
        snprintf(r->ar, sizeof r->ar, "dmarc=%s (p=%s sp=%s%s dis=%s%s) header.from=%s", st,
                 mxdmarc_policy_name(r->p), mxdmarc_policy_name(sp), np,
                 mxdmarc_policy_name(r->disposition == MXDMARC_P_UNSET ? MXDMARC_P_NONE
                                     : r->disposition), org, r->author_domain);
    }
    return (int) r->status;
}

static void set_reply(struct mxdmarc_action *a, enum mxdmarc_verdict v, const char *rcode,
                      const char *xcode, const char *text)
{
    a->verdict = v;
    snprintf(a->rcode, sizeof a->rcode, "%s", rcode);
    snprintf(a->xcode, sizeof a->xcode, "%s", xcode);
    snprintf(a->text, sizeof a->text, "%s", text);
}

/* by_setting - apply SETTING (reject|tempfail|quarantine|tag|ignore). */
static void by_setting(struct mxdmarc_action *a, const char *setting, const char *what,
                       const char *text)
{
    if (strcmp(setting, "reject") == 0) {
        set_reply(a, MXDMARC_REJECT, "550", "5.7.1", text);
    } else if (strcmp(setting, "tempfail") == 0) {
        set_reply(a, MXDMARC_TEMPFAIL, "451", "4.7.1", text);
    } else if (strcmp(setting, "quarantine") == 0) {
        set_reply(a, MXDMARC_QUARANTINE, "", "", text);
    } else if (strcmp(setting, "tag") == 0) {
        a->verdict = MXDMARC_TAG;
        snprintf(a->header_name, sizeof a->header_name, "%s", TAG_HEADER);
        snprintf(a->header_value, sizeof a->header_value, "%s", what);
    }
}

void    mxdmarc_decide(const struct mxdmarc *d, const struct mxdmarc_input *in,
                       const struct mxdmarc_result *r, struct mxdmarc_action *a)
{
    const struct mx_conf *c = d->c;
    char    text[320], what[320];

    memset(a, 0, sizeof *a);
    a->verdict = MXDMARC_ACCEPT;
    if (in->trusted)
        return;
    if (r->status == MXDMARC_PERMERROR) {
        snprintf(text, sizeof text, "rejected: %.200s; DMARC needs exactly one From address "
                 "with a domain name", r->reason);      /* what is wrong, then the rule */
        snprintf(what, sizeof what, "permerror (%.200s)", r->reason);
        by_setting(a, c->dmarc_multifrom_action, what, text);
    } else if (r->status == MXDMARC_TEMPERROR) {
        snprintf(text, sizeof text, "DMARC policy of %s not available, try again later",
                 r->author_domain);
        snprintf(what, sizeof what, "temperror header.from=%s", r->author_domain);
        by_setting(a, c->dmarc_temperror_action, what, text);
    } else if (r->status == MXDMARC_FAIL && r->disposition == MXDMARC_P_REJECT) {
        snprintf(text, sizeof text, "rejected by DMARC policy for %s", r->author_domain);
        snprintf(what, sizeof what, "reject header.from=%s", r->author_domain);
        by_setting(a, c->dmarc_reject_action, what, text);
    } else if (r->status == MXDMARC_FAIL && r->disposition == MXDMARC_P_QUARANTINE) {
        snprintf(text, sizeof text, "quarantined by DMARC policy for %s", r->author_domain);
        snprintf(what, sizeof what, "quarantine header.from=%s", r->author_domain);
        by_setting(a, c->dmarc_quarantine_action, what, text);
    }
    a->intended = a->verdict;
    if (c->dmarc_dry_run)
        a->verdict = MXDMARC_ACCEPT;
}
