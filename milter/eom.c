/*
 * eom.c - the end of a message: sign or verify, change the headers, answer,
 * log one line.
 *
 *   milter_begin_body   at end of header: the signing decision, the sender
 *                       check, a signing or verifying handle fed the headers
 *   milter_eom_run      signatures or results, DMARC (dmarc_glue.c),
 *                       Received-SPF and Authentication-Results,
 *                       policy_eom, the verdict
 *   milter_reply        one place that answers (escaping, dry run, log)
 *   milter_msg_reset    free the per-message state
 *   milter_dns_enter, milter_dns_leave  the message's DNS time budget
 *
 * DNS: the lookups of a message (SPF at MAIL, DKIM keys at end of header,
 * DMARC at end of message)
 * share one time budget, milter_dns_budget (milter_dns_enter/leave); what
 * is asked after it ran out is a temporary error, so the configured
 * temperror actions answer before the MTA's own milter timeout.
 *
 * Failure policy (docs/MILTER.md): a signing failure follows
 * dkim_on_key_error (accept unsigned, or tempfail 451 4.3.0); any other
 * internal error answers tempfail 451 4.3.0, and so does an
 * Authentication-Results the MTA refuses (a judged message never leaves
 * without it); more than MILTER_MAX_HDRS header fields 552 5.3.4;
 * nothing exits the process.
 * DMARC is evaluated only for mail that is not trusted and whose DKIM
 * verification ran; its verdict merges with the others (reject > tempfail
 * > continue), its quarantine and tag are applied here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dmarc_glue.h"
#include "dnsq.h"
#include "log.h"
#include "metrics.h"
#include "session.h"

void    milter_dns_enter(struct milter_conn *c)
{
    dnsq_budget_enter(c->g->conf->milter_dns_budget * 1000 - c->m.dns_ms);
}

void    milter_dns_leave(struct milter_conn *c, const char *step)
{
    int     out = dnsq_budget_ran_out();
    long    spent = c->m.dns_ms;

    c->m.dns_ms += dnsq_budget_leave();
    milter_metrics_dns(step, c->m.dns_ms - spent);
    if (out && spent < c->g->conf->milter_dns_budget * 1000) {
        milter_metrics_error(MME_DNS_BUDGET);
        mx_warn("DNS lookups stopped at %s: milter_dns_budget of %lds spent; "
                "lookups left are temporary errors", step, c->g->conf->milter_dns_budget);
    }
}

void    milter_msg_reset(struct milter_conn *c)
{
    struct milter_msg *m = &c->m;

    for (size_t i = 0; i < m->nrcpt; i++)
        free(m->rcpt[i]);
    free(m->rcpt);
    for (size_t i = 0; i < m->nhdr; i++) {
        free(m->hdr[i].name);
        free(m->hdr[i].value);
    }
    free(m->hdr);
    free(m->ours);
    free(m->rb);
    dkim_msg_free(m->dm);
    if (m->ks)
        dkim_keyset_release(c->g->keys, m->ks);
    memset(m, 0, sizeof(*m));
}

static long elapsed_ms(const struct milter_msg *m)
{
    struct timespec now;

    if (m->t0.tv_sec == 0)
        return 0;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long) ((now.tv_sec - m->t0.tv_sec) * 1000 + (now.tv_nsec - m->t0.tv_nsec) / 1000000);
}

static void log_message(struct milter_conn *c, const char *qid, const char *dkim,
                        const char *dmarc, const char *action)
{
    struct strbuf sb = STRBUF_INIT;
    const char *at = strrchr(c->m.mail_from, '@');
    const char *from = c->m.from_domain[0] ? c->m.from_domain : at ? at + 1 : "";

    milter_log_line(&sb, qid, c->ip, from,
                    c->m.spf_done ? mxspf_result_name(c->m.spf.result) : "-", dkim,
                    action, elapsed_ms(&c->m));
    if (dmarc)
        sb_printf(&sb, " dmarc=%s", dmarc);
    mx_info("%s", sb_str(&sb));
    sb_free(&sb);
}

sfsistat milter_reply(SMFICTX *ctx, struct milter_conn *c, const struct milter_verdict *v,
                      const char *step)
{
    char    text[512];
    int     ok;

    if (v->kind == MV_CONTINUE)
        return SMFIS_CONTINUE;
    (void) milter_reply_escape(v->text, text, sizeof(text));
    if (c->g->conf->milter_dry_run) {
        mx_info("dry run: would %s at %s: %s %s %s", milter_kind_name(v->kind), step,
                v->rcode, v->xcode, text);
        return SMFIS_CONTINUE;
    }
    /* every refusal carries a code and text: without one Stalwart answers
     * 503 5.5.3 (inbound/mod.rs:104) and Sendmail a generic reply.
     * libmilter drops a 4xx with REJECT or a 5xx with TEMPFAIL. */
    ok = v->rcode[0] == (v->kind == MV_REJECT ? '5' : '4');
    if (!ok || smfi_setreply(ctx, (char *) v->rcode, (char *) v->xcode, text) != MI_SUCCESS) {
        milter_metrics_error(MME_REPLY);
        mx_warn("%s: reply %s %s not accepted by libmilter: a generic one sent", step,
                v->rcode, v->xcode);
        if (v->kind == MV_REJECT)
            (void) smfi_setreply(ctx, "550", "5.7.1", "Refused by local policy");
        else
            (void) smfi_setreply(ctx, "451", "4.3.0", "Try again later");
    }
    if (strcmp(step, "mail") == 0)             /* the transaction ends here */
        milter_metrics_message(c->m.trusted, v->kind);
    if (strcmp(step, "eom") != 0)
        log_message(c, "-", "-", 0, milter_kind_name(v->kind));
    return v->kind == MV_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

/* sign_keys - the keyset for the From domain or, per dkim_sign_subdomains,
 * a parent; NULL when none has an active key */
static struct dkim_keyset *sign_keys(struct milter_conn *c)
{
    const char *d = c->m.from_domain;
    struct dkim_keyset *ks = 0;

    while (d && *d && (ks = dkim_keyring_get(c->g->keys, d)) == 0)
        d = c->g->conf->dkim_sign_subdomains ? milter_parent_domain(d) : 0;
    return ks;
}

/* find_from - the one From domain of the kept headers into M->from_domain
 * (M->from_why when there is none); the number of From fields */
static size_t find_from(struct milter_msg *m)
{
    const char *from[8];
    size_t  n = 0;

    for (size_t i = 0; i < m->nhdr; i++)
        if (strcasecmp(m->hdr[i].name, "From") == 0) {
            if (n < sizeof(from) / sizeof(from[0]))
                from[n] = m->hdr[i].value;
            n++;
        }
    (void) milter_from_domain(from, n < 8 ? n : 8, m->from_domain, sizeof(m->from_domain),
                              m->from_why, sizeof(m->from_why));
    return n;
}

/* key_error - the From domain's keys could not all be read: with
 * dkim_on_key_error = tempfail the message fails (451 4.3.0, logged at end
 * of message with the file and reason); with accept it is signed with the
 * keys left, or sent unsigned when none is left.  -1 = do not sign. */
static int key_error(struct milter_conn *c, const char *qid)
{
    struct milter_msg *m = &c->m;
    const struct dkim_keyset *ks = m->ks;

    if (ks->broken[0] == 0)
        return 0;
    if (strcmp(c->g->conf->dkim_on_key_error, "tempfail") == 0) {
        m->failed = 1;
        snprintf(m->failwhy, sizeof(m->failwhy), "dkim keys of %.100s: %.250s (dkim_on_key_error = "
                 "tempfail)", ks->domain, ks->broken);
    } else if (ks->n == 0) {
        mx_warn("message %s: dkim keys of %s: %s: sent unsigned (dkim_on_key_error = accept)",
                qid ? qid : "-", ks->domain, ks->broken);
    }
    if (m->failed || ks->n == 0) {
        dkim_keyset_release(c->g->keys, m->ks);
        m->ks = 0;
        return -1;
    }
    return 0;
}

void    milter_begin_body(struct milter_conn *c, const char *qid)
{
    struct milter_msg *m = &c->m;
    char    why[256] = "";
    size_t  nfrom;

    if (m->failed || m->too_many_hdrs)
        return;
    nfrom = find_from(m);
    if (m->trusted) {
        if (c->g->conf->milter_sender_check && m->auth[0]
            && milter_sender_refused(m->auth, nfrom, m->from_domain)) {
            m->sender_bad = 1;
            return;
        }
        if ((m->ks = sign_keys(c)) == 0 || key_error(c, qid) != 0)
            return;
        m->signing = 1;
        m->dm = dkim_msg_sign_new(c->g->dlib, qid ? qid : "-", m->ks, why, sizeof(why));
    } else {
        m->dm = dkim_msg_verify_new(c->g->dlib, qid ? qid : "-", why, sizeof(why));
    }
    if (m->dm == 0) {
        m->failed = 1;
        snprintf(m->failwhy, sizeof(m->failwhy), "%s", why);
    }
    /* the header fields are fed by milter_feed_begin (rawbody.c) */
}

/* add_header - insert NAME at the top, with the leading space the MTA
 * expects when SMFIP_HDR_LEADSPC was negotiated; -1 when it failed.
 * Stalwart writes a value as it gets it (stalwart milter/message.rs:485-495):
 * its folds need CRLF, or the message carries bare LFs and c=simple
 * signatures break. */
static int add_header(SMFICTX *ctx, const struct milter_conn *c, const char *name,
                      const char *value)
{
    struct strbuf sb = STRBUF_INIT;
    int     rc = 0;

    if (c->leadspc)
        sb_putc(&sb, ' ');
    for (const char *p = value; c->stalwart && *p; p++) {
        if (*p == '\n' && (p == value || p[-1] != '\r'))
            sb_putc(&sb, '\r');
        sb_putc(&sb, *p);
    }
    if (!c->stalwart)
        sb_puts(&sb, value);
    if (sb_failed(&sb) || smfi_insheader(ctx, 0, (char *) name, sb.s) != MI_SUCCESS) {
        mx_warn("cannot add %s header (%zu bytes)", name, strlen(value));
        milter_metrics_error(MME_HEADER);
        rc = -1;
    }
    sb_free(&sb);
    return rc;
}

/* remove_ours - incoming A-R headers with our authserv-id (RFC 8601 5);
 * from the last, so the indexes of the others stay valid */
static void remove_ours(SMFICTX *ctx, const struct milter_msg *m)
{
    for (size_t i = m->nours; i-- > 0;)
        if (smfi_chgheader(ctx, "Authentication-Results", m->ours[i], NULL) != MI_SUCCESS)
            mx_warn("cannot remove forged Authentication-Results #%d", m->ours[i]);
}

static void sign_finish(SMFICTX *ctx, struct milter_conn *c, struct milter_verdict *v,
                        char *log, size_t loglen)
{
    char    why[256] = "";

    if (dkim_msg_eom(c->m.dm, why, sizeof(why)) != 0) {
        mx_warn("signing for %s failed: %s", c->m.ks->domain, why);
        milter_metrics_error(MME_SIGN);
        snprintf(log, loglen, "sign-error");
        if (strcmp(c->g->conf->dkim_on_key_error, "tempfail") == 0)
            milter_verdict_set(v, MV_TEMPFAIL, "451", "4.3.0", "sign-error", "%s",
                               "Signing failed, try again later");
        return;
    }
    for (size_t i = 0; i < dkim_msg_nsighdr(c->m.dm); i++)
        if (add_header(ctx, c, "DKIM-Signature", dkim_msg_sighdr(c->m.dm, i)) == 0)
            milter_metrics_signature(c->m.ks->keys[i < c->m.ks->n ? i : 0].alg);
    snprintf(log, loglen, "signed(d=%.100s,n=%zu)", c->m.ks->domain, dkim_msg_nsighdr(c->m.dm));
}

/* verify_finish - results, verdict, the dkim part of the log; 1 when the
 * results go into Authentication-Results, -1 when verification failed */
static int verify_finish(struct milter_conn *c, struct milter_verdict *v, char *log,
                         size_t loglen)
{
    struct milter_verdict dv;
    char    why[256] = "";
    int     tag = 0;
    size_t  n, o = 0;

    if (dkim_msg_eom(c->m.dm, why, sizeof(why)) != 0) {
        mx_warn("verifying failed: %s: tempfail", why);
        milter_metrics_error(MME_VERIFY);
        milter_verdict_set(v, MV_TEMPFAIL, "451", "4.3.0", "internal", "%s",
                           "Internal error, try again later");
        snprintf(log, loglen, "error");
        return -1;
    }
    n = dkim_msg_nsig(c->m.dm);
    for (size_t i = 0; i < n; i++)
        milter_metrics_dkim(dkim_msg_sig(c->m.dm, i)->res, dkim_msg_sig(c->m.dm, i)->a);
    if (n == 0 && dkim_msg_nextra(c->m.dm) == 0)
        milter_metrics_dkim_unsigned();
    milter_decide_dkim(c->g->conf, dkim_msg_sig(c->m.dm, 0), n, &dv, &tag);
    milter_verdict_merge(v, &dv);
    snprintf(log, loglen, "%s", n ? "" : "none");
    for (size_t i = 0; i < n && o < loglen; i++, o = strlen(log))
        snprintf(log + o, loglen - o, "%s%s", i ? "," : "", dkim_msg_res_name(dkim_msg_sig(c->m.dm, i)->res));
    if (dkim_msg_nextra(c->m.dm) && (o = strlen(log)) < loglen)  /* past dkim_max_signatures */
        snprintf(log + o, loglen - o, ",+%zu", dkim_msg_nextra(c->m.dm));
    return tag;
}

/* add_results - Received-SPF, then Authentication-Results above it, with
 * the dmarc= resinfo DMARC (NULL = not evaluated).  A message we judged
 * never leaves without our verdict: when the A-R cannot be added (it is
 * bounded by MILTER_AR_MAX, so only the MTA or memory can refuse it) the
 * answer is tempfail 451 4.3.0. */
static void add_results(SMFICTX *ctx, struct milter_conn *c, int dkim_tag, const char *dmarc,
                        struct milter_verdict *v)
{
    struct milter_msg *m = &c->m;
    struct strbuf ar = STRBUF_INIT;
    int     spf = m->spf_done && m->spf_tag;
    int     dkim = dkim_tag && m->dm && !m->signing;
    struct milter_ar_in in = {c->g->authserv_id, m->auth, spf ? &m->spf : 0, dkim,
        dkim ? dkim_msg_sig(m->dm, 0) : 0, dkim ? dkim_msg_nsig(m->dm) : 0,
        dkim ? dkim_msg_nextra(m->dm) : 0, dmarc};

    if (!spf && !dkim && !m->auth[0] && !dmarc)
        return;
    if (spf && m->spf.received_spf[0])
        (void) add_header(ctx, c, "Received-SPF", m->spf.received_spf);
    milter_ar_write(&ar, &in);
    if (sb_failed(&ar) || add_header(ctx, c, "Authentication-Results", sb_str(&ar)) != 0) {
        struct milter_verdict tv;

        milter_verdict_set(&tv, MV_TEMPFAIL, "451", "4.3.0", "no-ar", "%s",
                           "Cannot record the authentication results, try again later");
        milter_verdict_merge(v, &tv);
    }
    sb_free(&ar);
}

/* dmarc_eval - DMARC of a verified message, from the From fields kept,
 * the MAIL FROM SPF answer and the DKIM results; 0 when not evaluated */
static int dmarc_eval(struct milter_conn *c, struct milter_dmarc_out *out)
{
    struct milter_msg *m = &c->m;
    struct milter_dmarc_in in;

    if (c->g->dmarc == 0 || m->trusted || m->dm == 0 || m->signing)
        return 0;
    memset(&in, 0, sizeof(in));
    for (size_t i = 0; i < m->nhdr; i++)
        milter_dmarc_input_from(&in, m->hdr[i].name, m->hdr[i].value);
    in.client_ip = c->ip;
    in.mail_from = m->mail_from;
    in.spf = m->spf_done ? &m->spf : 0;
    in.sigs = dkim_msg_sig(m->dm, 0);
    in.nsig = dkim_msg_nsig(m->dm);
    milter_dmarc_run(c->g->dmarc, c->g->dmarc_db, c->g->conf, &in, out);
    milter_metrics_dmarc(out->r.status);
    return 1;
}

/* dmarc_apply - quarantine or tag per OUT, and log a dry run's intent */
static void dmarc_apply(SMFICTX *ctx, struct milter_conn *c, const struct milter_dmarc_out *out)
{
    const struct mxdmarc_action *a = &out->a;

    if (a->intended != a->verdict)
        mx_info("dmarc dry run: would %s: %s", mxdmarc_verdict_name(a->intended),
                a->text[0] ? a->text : a->header_value);
    if (out->tag)
        add_header(ctx, c, a->header_name, a->header_value);
    if (!out->quarantine)
        return;
    if (c->g->conf->milter_dry_run)
        mx_info("dry run: would quarantine at eom: %s", a->text);
    else if (smfi_quarantine(ctx, (char *) a->text) != MI_SUCCESS)
        mx_warn("cannot quarantine (%s): MTA refused or did not offer it", a->text);
}

/* quota_eom_notes - the log lines for recipients not decided at end of
 * message: past MILTER_MAX_RCPT, or the database failing (DBV: the
 * quota_db_error_action verdict, continue for accept) */
static void quota_eom_notes(const struct milter_conn *c, const char *qid, size_t dberr,
                            const struct milter_verdict *dbv)
{
    if (c->g->policy && c->g->conf->quota_enable && c->m.rcpt_unchecked)
        mx_warn("quota: message %s: %zu recipient(s) past the first %d not checked at end "
                "of message (checked at RCPT only)", qid, c->m.rcpt_unchecked, MILTER_MAX_RCPT);
    if (dberr == 0)
        return;
    if (dbv->kind != MV_CONTINUE)
        mx_warn("quota: message %s: policy database error at end of message for %zu "
                "recipient(s): tempfail (quota_db_error_action)", qid, dberr);
    else
        mx_warn("quota: message %s: policy database error at end of message for %zu "
                "recipient(s): not checked, accepted (quota_db_error_action = accept)",
                qid, dberr);
}

/* quota_eom - policy_eom with the real size for every recipient still
 * accepted.  libmilter cannot refuse one recipient at end of message: the
 * message is refused only when every recipient is over quota (and none
 * went unchecked); otherwise it is accepted and each over-quota recipient
 * logged (docs/POLICY.md).  A database error is not "over quota": it gets
 * quota_db_error_action (tempfail: the whole message 451 4.3.0).
 * A warning over quota_warn_percent is a log line, never a header: the
 * one copy every recipient gets must not show another's address. */
static void quota_eom(struct milter_conn *c, const char *qid, struct milter_verdict *v)
{
    struct policy_decision d;
    struct milter_verdict pv, dbv;
    unsigned long seen = c->m.hbytes + c->m.bytes;
    unsigned long bytes = seen ? seen + 2 : c->m.size_hint;     /* + blank line */
    size_t  over = 0, dberr = 0;

    milter_verdict_set(&pv, MV_CONTINUE, "", "", "", "%s", "");
    milter_verdict_set(&dbv, MV_CONTINUE, "", "", "", "%s", "");
    for (size_t i = 0; c->g->policy && i < c->m.nrcpt; i++) {
        long long t0 = milter_metrics_now();

        policy_eom(c->g->policy, c->m.rcpt[i], bytes, &d);
        milter_metrics_db(MMDB_EOM, t0, d.db_error);
        if (d.header[0])
            mx_info("quota warning: message %s: %s", qid, d.header);
        if (d.db_error && dberr++ == 0 && d.action != POLICY_CONTINUE)
            milter_verdict_set(&dbv, MV_TEMPFAIL, d.rcode, d.xcode, "quota", "%s", d.text);
        if (d.db_error || d.action == POLICY_CONTINUE)
            continue;
        over++;
        mx_warn("quota: message %s: %s (%s %s), delivered anyway: other recipients "
                "are under quota and a milter cannot refuse one recipient at end of "
                "message", qid, d.text, d.rcode, d.xcode);
        if (pv.kind == MV_CONTINUE)
            milter_verdict_set(&pv, d.action == POLICY_REJECT ? MV_REJECT : MV_TEMPFAIL,
                               d.rcode, d.xcode, "quota", "%s", d.text);
    }
    quota_eom_notes(c, qid, dberr, &dbv);
    c->m.over_quota = (int) over;
    if (dbv.kind != MV_CONTINUE)
        milter_verdict_merge(v, &dbv);
    else if (over > 0 && over == c->m.nrcpt && c->m.rcpt_unchecked == 0)
        milter_verdict_merge(v, &pv), milter_metrics_quota_refusal(1);     /* whole message */
}

/* sender_refusal - 553 5.7.1 for an authenticated user sending as a
 * domain not theirs, or with no single From address; counted as an
 * auth-policy event (not in dry run: nothing was refused) */
static void sender_refusal(struct milter_conn *c, struct milter_verdict *v)
{
    struct milter_msg *m = &c->m;

    if (m->from_domain[0]) {
        mx_warn("user %.100s may not send as %.100s", m->auth, m->from_domain);
        milter_verdict_set(v, MV_REJECT, "553", "5.7.1", "sender", "Sender domain %.100s "
                           "is not yours", m->from_domain);
    } else {
        mx_warn("user %.100s: no single From address: %.100s", m->auth, m->from_why);
        milter_verdict_set(v, MV_REJECT, "553", "5.7.1", "sender", "Exactly one From address "
                           "with a domain name is required: %.200s", m->from_why);
    }
    if (c->g->policy && !c->g->conf->milter_dry_run)
        policy_record_authfail(c->g->policy, c->ip, m->auth, "smtp");
}

sfsistat milter_eom_run(SMFICTX *ctx, struct milter_conn *c)
{
    struct milter_msg *m = &c->m;
    struct milter_verdict v;
    const char *qid = smfi_getsymval(ctx, "i");
    char    dkimlog[256] = "-";
    int     dkim_tag = 0, dmarc = 0;
    struct milter_dmarc_out dm;
    sfsistat rc;

    milter_verdict_set(&v, MV_CONTINUE, "", "", "", "%s", "");
    milter_feed_end(c);
    remove_ours(ctx, m);
    if (m->too_many_hdrs) {
        mx_warn("message %s: more than %d header fields: refused", qid ? qid : "-",
                MILTER_MAX_HDRS);
        milter_verdict_set(&v, MV_REJECT, "552", "5.3.4", "headers", "Too many header fields "
                           "(more than %d)", MILTER_MAX_HDRS);
    } else if (m->failed) {
        milter_metrics_error(MME_INTERNAL);
        mx_warn("message %s: %s: tempfail", qid ? qid : "-", m->failwhy);
        milter_verdict_set(&v, MV_TEMPFAIL, "451", "4.3.0", "internal", "%s",
                           "Internal error, try again later");
    } else if (m->sender_bad) {
        sender_refusal(c, &v);
    } else if (m->signing) {
        sign_finish(ctx, c, &v, dkimlog, sizeof(dkimlog));
    } else if (m->dm) {
        milter_dns_enter(c);                    /* key and policy lookups */
        if ((dkim_tag = verify_finish(c, &v, dkimlog, sizeof(dkimlog))) >= 0)
            dmarc = dmarc_eval(c, &dm);
        milter_dns_leave(c, "eom");
        dkim_tag = dkim_tag > 0;
    }
    add_results(ctx, c, dkim_tag, dmarc ? dm.r.ar : 0, &v);
    if (dmarc) {
        dmarc_apply(ctx, c, &dm);
        milter_verdict_merge(&v, &dm.v);
    }
    if (m->spf_done)
        milter_verdict_merge(&v, &m->spf_v);    /* non-continue only in dry run */
    quota_eom(c, qid ? qid : "-", &v);
    rc = milter_reply(ctx, c, &v, "eom");
    milter_metrics_message(m->trusted, rc == SMFIS_REJECT ? MV_REJECT
                           : rc == SMFIS_TEMPFAIL ? MV_TEMPFAIL : MV_CONTINUE);
    log_message(c, qid, dkimlog, dmarc ? dm.log : 0,
                c->g->conf->milter_dry_run && v.kind != MV_CONTINUE
                ? "continue(dry-run)" : milter_kind_name(v.kind));
    return rc;
}
