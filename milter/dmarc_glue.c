/*
 * dmarc_glue.c - DMARC in the milter, without libmilter: what the milter
 * already knows handed to milter/dmarc, the action made a milter verdict,
 * the message recorded for aggregate reports.
 *
 *   milter_dmarc_input_from  collect the From header values (and Date,
 *                            Message-ID, To, Cc, DKIM-Signature for a
 *                            failure report)
 *   milter_dmarc_run         evaluate, decide, record, spool a failure
 *                            report (RFC 9991) when it is on and asked for
 *   milter_dmarc_record_msg  the dmarc_report_msg row of one message
 *
 * Only the MAIL FROM SPF answer the milter computed is used (a HELO
 * answer is passed as identity "helo", which never aligns: CVE-2019-20790);
 * SPF is not evaluated again.  Trusted mail is never enforced upon (the
 * milter does not even evaluate it).  dmarc_dry_run is decided by
 * mxdmarc_decide; milter_dry_run keeps quarantine from being applied here
 * and reject/tempfail in milter_reply.
 *
 * Ownership: caller's structs.  Diagnostics: a failed report insert is
 * not logged here: pdb logs an outage once when it starts and once when
 * it ends, and the mail decision is never changed by it.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dmarc_glue.h"
#include "fileio.h"
#include "log.h"

static const char *mailfrom_domain(const char *mail_from);

void    milter_dmarc_input_from(struct milter_dmarc_in *in, const char *name,
                                const char *value)
{
    if (strcasecmp(name, "Date") == 0)
        in->date = value;
    else if (strcasecmp(name, "Message-ID") == 0)
        in->message_id = value;
    else if (strcasecmp(name, "To") == 0)
        in->to = value;
    else if (strcasecmp(name, "Cc") == 0)
        in->cc = value;
    else if (strcasecmp(name, "DKIM-Signature") == 0 && in->ndkim_sig < DMARC_FAILURE_MAX_SIGS)
        in->dkim_sig[in->ndkim_sig++] = value;
    if (strcasecmp(name, "From") != 0)
        return;
    if (in->nfrom < MILTER_DMARC_MAX_FROM)
        in->from[in->nfrom++] = value;
}

/* near - is identifier ID aligned-looking with R's author (equal, or
 * under its organizational domain): whose failure Identity-Alignment names */
static int near(const char *id, const struct mxdmarc_result *r)
{
    size_t  n = strlen(id), l = strlen(r->org_domain);

    if (strcasecmp(id, r->author_domain) == 0)
        return 1;
    return l && n >= l && strcasecmp(id + n - l, r->org_domain) == 0
        && (n == l || id[n - l - 1] == '.');
}

/* failure_report - spool an RFC 9991 report of this failed message when
 * failure reports are on, the record asks and the hour's limit allows;
 * a failed spool or database changes nothing for the mail */
static void failure_report(struct pdb *db, const struct mx_conf *c,
                           const struct milter_dmarc_in *in, const struct milter_dmarc_out *out)
{
    const struct mxdmarc_result *r = &out->r;
    const struct dkim_msg_sig *bad = 0;
    const char *mf = mailfrom_domain(in->mail_from);
    struct dmarc_failure f;
    int     spf_bad = *mf && near(mf, r) && in->spf && in->spf->result != MXSPF_PASS;

    for (size_t i = 0; i < in->nsig && !bad; i++)
        if (in->sigs[i].res != DKIM_MSG_PASS && near(in->sigs[i].d, r))
            bad = in->sigs + i;
    if (!c->dmarc_failure_reports || r->status != MXDMARC_FAIL
        || !dmarc_failure_wanted(r->fo, r->ruf, r->record_psd || r->psd_policy, bad != 0, spf_bad)
        || dmarc_failure_admit(db, r->policy_domain, mx_now(), c->dmarc_failure_report_limit) != 1)
        return;
    memset(&f, 0, sizeof(f));
    f.when = mx_now();
    f.policy_domain = r->policy_domain;
    f.ruf = r->ruf;
    f.fo = r->fo;
    f.submitter = c->milter_authserv_id;
    f.report_from = *c->dmarc_report_email ? c->dmarc_report_email : "postmaster@localhost";
    f.source_ip = in->client_ip ? in->client_ip : "";
    f.header_from = r->author_domain;
    f.envelope_from = in->mail_from;
    f.identity_alignment = bad && spf_bad ? "dkim, spf" : bad ? "dkim" : spf_bad ? "spf" : "none";
    f.dkim_domain = bad ? bad->d : "";
    f.dkim_selector = bad ? bad->s : "";
    f.date = in->date;
    f.message_id = in->message_id;
    f.from = in->nfrom ? in->from[0] : 0;
    f.to = in->to;
    f.cc = in->cc;
    memcpy(f.sigs, in->dkim_sig, sizeof(f.sigs));
    f.nsig = in->ndkim_sig;
    if (dmarc_failure_spool(c, &f) < 0)
        mx_warn("dmarc: cannot spool a failure report for %s in %s/failures", r->policy_domain,
                c->dmarc_report_dir);
}

/* mailfrom_domain - the domain of the envelope sender, "" for <> */
static const char *mailfrom_domain(const char *mail_from)
{
    const char *at = mail_from ? strrchr(mail_from, '@') : 0;

    return at ? at + 1 : "";
}

/* to_verdict - the milter verdict of A (reject and tempfail only) */
static void to_verdict(const struct mxdmarc_action *a, struct milter_dmarc_out *out)
{
    milter_verdict_set(&out->v, MV_CONTINUE, "", "", "", "%s", "");
    if (a->verdict == MXDMARC_REJECT)
        milter_verdict_set(&out->v, MV_REJECT, a->rcode, a->xcode, "dmarc", "%s", a->text);
    else if (a->verdict == MXDMARC_TEMPFAIL)
        milter_verdict_set(&out->v, MV_TEMPFAIL, a->rcode, a->xcode, "dmarc", "%s", a->text);
    out->quarantine = a->verdict == MXDMARC_QUARANTINE;
    out->tag = a->verdict == MXDMARC_TAG;
}

void    milter_dmarc_run(const struct mxdmarc *d, struct pdb *db, const struct mx_conf *c,
                         const struct milter_dmarc_in *in, struct milter_dmarc_out *out)
{
    struct mxdmarc_dkim k[16];
    size_t  nk = in->nsig < 16 ? in->nsig : 16;
    struct mxdmarc_input mi;
    struct dmarc_report_msg m;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < nk; i++) {
        k[i].domain = in->sigs[i].d;
        k[i].result = dkim_msg_res_name(in->sigs[i].res);
    }
    memset(&mi, 0, sizeof(mi));
    mi.from = in->from;
    mi.nfrom = in->nfrom;
    mi.mailfrom_domain = mailfrom_domain(in->mail_from);
    mi.spf_identity = in->spf ? in->spf->identity : "mailfrom";
    mi.spf_result = in->spf ? mxspf_result_name(in->spf->result) : "none";
    mi.dkim = k;
    mi.ndkim = nk;
    mi.trusted = in->trusted;
    mxdmarc_evaluate(d, &mi, &out->r);
    mxdmarc_decide(d, &mi, &out->r, &out->a);
    to_verdict(&out->a, out);
    snprintf(out->log, sizeof(out->log), "%s%s%s", mxdmarc_status_name(out->r.status),
             out->a.intended != MXDMARC_ACCEPT ? "/" : "",
             out->a.intended != MXDMARC_ACCEPT ? mxdmarc_verdict_name(out->a.intended) : "");
    if (db == 0 || !c->dmarc_report_enable
        || (out->r.status != MXDMARC_PASS && out->r.status != MXDMARC_FAIL))
        return;
    milter_dmarc_record_msg(in, out, c->milter_dry_run != 0, &m);
    (void) dmarc_report_record(db, &m);
    failure_report(db, c, in, out);
}

/* rank - RFC 9990's preference for a signature in the report: a pass in
 * strict alignment, in relaxed alignment, any pass, the rest */
static int rank(const struct dkim_msg_sig *k, const struct mxdmarc_result *r)
{
    if (k->res != DKIM_MSG_PASS)
        return 3;
    if (strcasecmp(k->d, r->author_domain) == 0)
        return 0;
    return near(k->d, r) ? 1 : 2;
}

/* dkim_all - every signature as "d/s/result" words, best first, as many
 * as fit in OUT */
static void dkim_all(const struct milter_dmarc_in *in, const struct mxdmarc_result *r,
                     char *out, size_t outlen)
{
    size_t  len = 0;

    out[0] = 0;
    for (int want = 0; want < 4; want++)
        for (size_t i = 0; i < in->nsig; i++) {
            const struct dkim_msg_sig *k = in->sigs + i;
            int     n;

            if (rank(k, r) != want || !k->d[0] || strpbrk(k->d, " /") || strpbrk(k->s, " /"))
                continue;
            n = snprintf(out + len, outlen - len, "%s%s/%s/%s", len ? " " : "", k->d,
                         k->s[0] ? k->s : "-", dkim_msg_res_name(k->res));
            if (n < 0 || (size_t) n >= outlen - len) {
                out[len] = 0;   /* this one does not fit: stop before it */
                return;
            }
            len += (size_t) n;
        }
}

/* applied - the disposition really applied to the message */
static const char *applied(const struct milter_dmarc_out *out, int dry_run)
{
    if (dry_run)
        return "none";
    if (out->a.verdict == MXDMARC_REJECT)
        return "reject";
    if (out->a.verdict == MXDMARC_QUARANTINE)
        return "quarantine";
    return "none";
}

void    milter_dmarc_record_msg(const struct milter_dmarc_in *in,
                                const struct milter_dmarc_out *out, int dry_run,
                                struct dmarc_report_msg *m)
{
    const struct mxdmarc_result *r = &out->r;
    const struct dkim_msg_sig *k = in->nsig ? in->sigs : 0;
    enum mxdmarc_policy dis = r->disposition ? r->disposition : MXDMARC_P_NONE;

    memset(m, 0, sizeof(*m));
    for (size_t i = 0; r->dkim_aligned && i < in->nsig; i++)
        if (strcasecmp(in->sigs[i].d, r->dkim_domain) == 0)
            k = in->sigs + i;
    m->when = mx_now();
    m->source_ip = in->client_ip;
    m->header_from = r->author_domain;
    m->envelope_from = mailfrom_domain(in->mail_from);
    m->policy_domain = r->policy_domain;
    m->rua = r->rua;
    m->p = mxdmarc_policy_name(r->p);
    m->sp = mxdmarc_policy_name(r->sp);
    m->pct = r->pct;
    m->adkim = r->adkim;
    m->aspf = r->aspf;
    m->disposition = applied(out, dry_run);
    m->dkim_aligned = r->dkim_aligned;
    m->spf_aligned = r->spf_aligned;
    m->dkim_domain = k ? k->d : "";
    m->dkim_result = k ? dkim_msg_res_name(k->res) : "";
    m->dkim_selector = k ? k->s : "";
    dkim_all(in, r, m->dkim_all, sizeof(m->dkim_all));
    m->np = mxdmarc_policy_name(r->np);
    m->testing = r->testing;
    m->fo = r->fo;
    m->discovery = r->treewalk ? "treewalk" : "psl";
    m->spf_domain = in->spf && in->spf->domain[0] ? in->spf->domain : m->envelope_from;
    m->spf_scope = in->spf && strcmp(in->spf->identity, "helo") == 0 ? "helo" : "mfrom";
    m->spf_result = in->spf ? mxspf_result_name(in->spf->result) : "none";
    if (strcmp(m->disposition, mxdmarc_policy_name(dis)) != 0)
        m->reason = "local_policy";
    else if (r->sampled_out)
        m->reason = "sampled_out";
    else    /* t=y lowered a quarantine or reject (RFC 9990 policy_test_mode) */
        m->reason = r->testing && r->status == MXDMARC_FAIL && r->applied > MXDMARC_P_NONE
            ? "policy_test_mode" : "";
}
