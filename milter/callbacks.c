/*
 * callbacks.c - the libmilter callbacks of mxdock-milter.  Each one is short
 * and hands its work to decide.c, eom.c, dkim_msg, spf or policy.
 *
 *   negotiate  steps, no-reply steps, macros (smfi_setsymlist)
 *   connect    client address, internal or not, policy_connect
 *   helo       HELO name; a refused client gets the refusal's reply here
 *              (421 4.7.0 for a ban, 451 4.3.0 for a database error)
 *   envfrom    sender, {auth_authen}, SIZE=, SPF for untrusted mail
 *   envrcpt    policy_rcpt (quota)
 *   header     kept until end of header (at most MILTER_MAX_HDRS); our
 *              A-R noted
 *   eoh/body   signing or verifying handle fed (eom.c, rawbody.c: Stalwart's
 *              body is the whole raw message)
 *   eom        eom.c; abort/close reset and free
 *
 * Failure policy: no callback exits; without its state (memory) a step
 * answers tempfail 451 4.3.0 and logs why.  Steps that may reject (connect,
 * helo, mail, rcpt, eom) are never negotiated as no-reply.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "metrics.h"
#include "session.h"

#define NR_WANTED (SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY)

static struct milter_conn *conn(SMFICTX *ctx)
{
    return smfi_getpriv(ctx);
}

/* internal_error - the failure policy for a step without its state */
static sfsistat internal_error(SMFICTX *ctx, const char *step)
{
    mx_warn("%s: no connection state (out of memory?): tempfail", step);
    (void) smfi_setreply(ctx, "451", "4.3.0", "Internal error, try again later");
    return SMFIS_TEMPFAIL;
}

/* noreply - what a no-reply step must return */
static sfsistat noreply(const struct milter_conn *c, unsigned long flag)
{
    return c && (c->nr & flag) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
                             unsigned long f2, unsigned long f3, unsigned long *pf0,
                             unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
    struct milter_conn *c = conn(ctx);
    /* DATA is negotiated (not SMFIP_NODATA) only to answer it: Postfix flushes
     * its DATA macros alone at the smtpd-to-cleanup hand-over, and without a
     * reply our kernel delays the ACK Postfix's next small write waits for
     * (~40 ms a message over TCP; docs/PERFORMANCE.md). */
    unsigned long want = SMFIP_HDR_LEADSPC | SMFIP_NOUNKNOWN | NR_WANTED;

    (void) f2;
    (void) f3;
    if (c == 0 && (c = calloc(1, sizeof(*c))) != 0)
        smfi_setpriv(ctx, c);
    *pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST);
    *pf1 = f1 & want;
    *pf2 = *pf3 = 0;
    if (c) {
        c->nr = *pf1 & NR_WANTED;
        c->leadspc = (*pf1 & SMFIP_HDR_LEADSPC) != 0;
    }
    if (f0 & SMFIF_SETSYMLIST) {
        (void) smfi_setsymlist(ctx, SMFIM_CONNECT, "{daemon_name}");
        (void) smfi_setsymlist(ctx, SMFIM_ENVFROM, "{auth_authen} i");
        (void) smfi_setsymlist(ctx, SMFIM_EOM, "i");
    }
    return SMFIS_CONTINUE;
}

/* client_text - HOSTADDR as text; "" when the MTA gave none (local mail) */
static void client_text(const struct sockaddr *sa, char *out, size_t outlen)
{
    out[0] = 0;
    if (sa == 0)
        return;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, out, (socklen_t) outlen);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr, out,
                  (socklen_t) outlen);
}

static sfsistat cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
    struct milter_conn *c = conn(ctx);
    const char *daemon = smfi_getsymval(ctx, "{daemon_name}");

    (void) hostname;
    if (c == 0 && (c = calloc(1, sizeof(*c))) != 0)
        smfi_setpriv(ctx, c);
    if (c == 0)
        return internal_error(ctx, "connect");
    if (c->g) {                 /* a new session on a kept connection */
        milter_msg_reset(c);
        milter_gen_release(c->g);
        c->refused = 0;
    }
    if ((c->g = milter_gen_acquire()) == 0)
        return internal_error(ctx, "connect");
    client_text(hostaddr, c->ip, sizeof(c->ip));
    c->internal = hostaddr == 0 || cidr_list_match_sa(c->g->internal, hostaddr);
    snprintf(c->daemon, sizeof(c->daemon), "%s", daemon ? daemon : "");
    c->stalwart = milter_is_stalwart(c->daemon);
    if (!c->leadspc && !c->stalwart)    /* Stalwart: the raw block (rawbody.c) */
        mx_warn("MTA cannot keep the leading space of headers: signatures may break");
    if (c->g->policy && c->ip[0]) {
        long long t0 = milter_metrics_now();

        policy_connect(c->g->policy, c->ip, &c->refusal);
        milter_metrics_db(MMDB_CONNECT, t0, c->refusal.db_error);
        /* smfi_setreply does not work at connect: answer at HELO or MAIL */
        c->refused = c->refusal.action != POLICY_CONTINUE;
        if (c->refused && !c->refusal.db_error)
            milter_metrics_ban_refusal();
    }
    return SMFIS_CONTINUE;
}

/* refuse - the deferred connect refusal with the decision's own reply:
 * 421 4.7.0 for a ban (closes the session), 451 4.3.0 when the database
 * is down and authfail_db_error_action = tempfail */
static sfsistat refuse(SMFICTX *ctx, struct milter_conn *c, const char *step)
{
    const struct policy_decision *d = &c->refusal;
    struct milter_verdict v;
    int     reject = d->action == POLICY_REJECT;

    if (d->rcode[0] == (reject ? '5' : '4'))
        milter_verdict_set(&v, reject ? MV_REJECT : MV_TEMPFAIL, d->rcode, d->xcode,
                           "authfail", "%s", d->text);
    else
        milter_verdict_set(&v, MV_TEMPFAIL, "421", "4.7.0", "authfail-ban", "%s",
                           d->text[0] ? d->text : "Too many failed logins, try again later");
    return milter_reply(ctx, c, &v, step);
}

static sfsistat cb_helo(SMFICTX *ctx, char *helohost)
{
    struct milter_conn *c = conn(ctx);

    if (c == 0 || c->g == 0)
        return internal_error(ctx, "helo");
    snprintf(c->helo, sizeof(c->helo), "%s", helohost ? helohost : "");
    return c->refused ? refuse(ctx, c, "helo") : SMFIS_CONTINUE;
}

/* size_arg - the ESMTP SIZE= value among ARGV[1..], 0 when absent.  One
 * that is not RFC 1870's 1*20DIGIT, or does not fit, is ignored (no hint):
 * the MTA owns the syntax (Postfix answers 501 5.5.4 itself), and the real
 * size is still checked at end of message (docs/POLICY.md). */
static unsigned long size_arg(char **argv)
{
    unsigned long n;

    for (size_t i = 1; argv && argv[0] && argv[i]; i++)
        if (strncasecmp(argv[i], "SIZE=", 5) == 0) {
            if (policy_parse_size(argv[i] + 5, &n) == 0)
                return n;
            mx_warn("ignoring a malformed ESMTP SIZE=%.30s", argv[i] + 5);
            return 0;
        }
    return 0;
}

/* strip_brackets - "<a@b>" to "a@b" into OUT */
static void strip_brackets(const char *in, char *out, size_t outlen)
{
    size_t  n;

    in = in ? in : "";
    if (*in == '<')
        in++;
    n = strcspn(in, ">");
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, in, n);
    out[n] = 0;
}

/* spf_wanted - should this message be SPF-checked? */
static int spf_wanted(const struct milter_conn *c)
{
    const struct mx_conf *cf = c->g->conf;
    const char *at = strrchr(c->m.mail_from, '@');
    const char *dom = at ? at + 1 : c->helo;

    if (c->g->spf == 0 || c->m.trusted || c->ip[0] == 0)
        return 0;
    if (cidr_list_match_text(c->g->spf_skip, c->ip))
        return 0;
    return !(cf->spf_whitelist_domains && *dom && conf_list_has(cf->spf_whitelist_domains, dom));
}

static sfsistat spf_step(SMFICTX *ctx, struct milter_conn *c)
{
    struct milter_msg *m = &c->m;

    if (!spf_wanted(c))
        return SMFIS_CONTINUE;
    milter_dns_enter(c);
    mxspf_check(c->g->spf, c->ip, c->helo, m->mail_from, c->g->authserv_id, &m->spf);
    milter_metrics_spf(m->spf.result);
    milter_dns_leave(c, "mail");
    m->spf_done = 1;
    milter_decide_spf(c->g->conf, &m->spf, c->ip, &m->spf_v, &m->spf_tag);
    return m->spf_v.kind == MV_CONTINUE ? SMFIS_CONTINUE : milter_reply(ctx, c, &m->spf_v, "mail");
}

static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
    struct milter_conn *c = conn(ctx);
    const char *auth = smfi_getsymval(ctx, "{auth_authen}");

    if (c == 0 || c->g == 0)
        return internal_error(ctx, "mail");
    milter_msg_reset(c);
    c->m.active = 1;
    clock_gettime(CLOCK_MONOTONIC, &c->m.t0);
    strip_brackets(argv ? argv[0] : "", c->m.mail_from, sizeof(c->m.mail_from));
    snprintf(c->m.auth, sizeof(c->m.auth), "%s", auth ? auth : "");
    c->m.size_hint = size_arg(argv);
    if (c->refused)
        return refuse(ctx, c, "mail");
    /* Stalwart's {daemon_name} is the same on every listener (rawbody.c):
     * behind it only {auth_authen} or an internal client means signing */
    c->m.trusted = milter_trusted(c->g->conf, c->m.auth, c->internal,
                                  c->stalwart ? "" : c->daemon);
    return spf_step(ctx, c);
}

static sfsistat cb_envrcpt(SMFICTX *ctx, char **argv)
{
    struct milter_conn *c = conn(ctx);
    struct policy_decision d;
    char    rcpt[512];
    char  **v;

    if (c == 0 || c->g == 0)
        return internal_error(ctx, "rcpt");
    strip_brackets(argv ? argv[0] : "", rcpt, sizeof(rcpt));
    if (c->g->policy) {
        long long t0 = milter_metrics_now();

        policy_rcpt(c->g->policy, rcpt, c->m.size_hint, &d);
        milter_metrics_db(MMDB_RCPT, t0, d.db_error);
        if (d.action != POLICY_CONTINUE) {
            struct milter_verdict pv;

            if (!d.db_error)
                milter_metrics_quota_refusal(0);
            milter_verdict_set(&pv, d.action == POLICY_REJECT ? MV_REJECT : MV_TEMPFAIL,
                               d.rcode, d.xcode, "quota", "%s", d.text);
            sfsistat rc = milter_reply(ctx, c, &pv, "rcpt");

            if (rc != SMFIS_CONTINUE)
                return rc;
        }
    }
    if (c->m.nrcpt >= MILTER_MAX_RCPT
        || (v = realloc(c->m.rcpt, (c->m.nrcpt + 1) * sizeof(*v))) == 0) {
        c->m.rcpt_unchecked++;  /* not checked for quota at EOM; logged there */
        return SMFIS_CONTINUE;
    }
    c->m.rcpt = v;
    if ((v[c->m.nrcpt] = strdup(rcpt)) != 0)
        c->m.nrcpt++;
    else
        c->m.rcpt_unchecked++;
    return SMFIS_CONTINUE;
}

/* keep_header - remember NAME: VALUE until end of header; past
 * MILTER_MAX_HDRS the message is marked for 552 5.3.4 */
static void keep_header(struct milter_msg *m, const char *name, const char *value)
{
    if (m->nhdr >= MILTER_MAX_HDRS) {
        m->too_many_hdrs = 1;
        return;
    }
    if (m->nhdr == m->hcap) {
        size_t  cap = m->hcap ? m->hcap * 2 : 32;
        struct milter_hdr *h;

        if (cap > MILTER_MAX_HDRS)
            cap = MILTER_MAX_HDRS;
        if ((h = realloc(m->hdr, cap * sizeof(*h))) == 0) {
            m->failed = 1;
            snprintf(m->failwhy, sizeof(m->failwhy), "out of memory");
            return;
        }
        m->hdr = h;
        m->hcap = cap;
    }
    m->hdr[m->nhdr].name = strdup(name);
    m->hdr[m->nhdr].value = strdup(value);
    if (m->hdr[m->nhdr].name == 0 || m->hdr[m->nhdr].value == 0) {
        free(m->hdr[m->nhdr].name);
        free(m->hdr[m->nhdr].value);
        m->failed = 1;
        snprintf(m->failwhy, sizeof(m->failwhy), "out of memory");
        return;
    }
    m->nhdr++;
}

/* note_ours - remember A-R number N (it carries our authserv-id) for
 * removal; grows with the headers, so no forged one can be left over */
static void note_ours(struct milter_msg *m, int n)
{
    if (m->nours == m->ocap) {
        size_t  cap = m->ocap ? m->ocap * 2 : 8;
        int    *o;

        if (cap > MILTER_MAX_HDRS + 1)
            cap = MILTER_MAX_HDRS + 1;
        if (m->nours >= cap || (o = realloc(m->ours, cap * sizeof(*o))) == 0) {
            m->failed = 1;      /* cannot remove it: never pass it on */
            snprintf(m->failwhy, sizeof(m->failwhy), "cannot note forged A-R");
            return;
        }
        m->ours = o;
        m->ocap = cap;
    }
    m->ours[m->nours++] = n;
}

static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
    struct milter_conn *c = conn(ctx);
    struct milter_msg *m;

    if (c == 0 || c->g == 0 || name == 0 || value == 0)
        return noreply(c, SMFIP_NR_HDR);
    m = &c->m;
    m->hbytes += strlen(name) + strlen(value) + 3 + !c->leadspc;   /* ": ", CRLF */
    keep_header(m, name, value);
    if (strcasecmp(name, "Authentication-Results") == 0) {
        m->ar_seen++;
        if (milter_is_our_ar(value, c->g->authserv_id))
            note_ours(m, m->ar_seen);
    }
    return noreply(c, SMFIP_NR_HDR);
}

static sfsistat cb_eoh(SMFICTX *ctx)
{
    struct milter_conn *c = conn(ctx);

    if (c && c->g) {
        milter_begin_body(c, smfi_getsymval(ctx, "i"));
        milter_feed_begin(c);
    }
    return noreply(c, SMFIP_NR_EOH);
}

static sfsistat cb_body(SMFICTX *ctx, unsigned char *buf, size_t len)
{
    struct milter_conn *c = conn(ctx);

    if (c && c->g)
        milter_feed_body(c, buf, len);
    return noreply(c, SMFIP_NR_BODY);
}

/* cb_data - answered at once, so the MTA's next write is not held back */
static sfsistat cb_data(SMFICTX *ctx)
{
    (void) ctx;
    return SMFIS_CONTINUE;
}

static sfsistat cb_eom(SMFICTX *ctx)
{
    struct milter_conn *c = conn(ctx);
    sfsistat rc;

    if (c == 0 || c->g == 0)
        return internal_error(ctx, "eom");
    rc = milter_eom_run(ctx, c);
    milter_msg_reset(c);
    return rc;
}

static sfsistat cb_abort(SMFICTX *ctx)
{
    struct milter_conn *c = conn(ctx);

    if (c)
        milter_msg_reset(c);
    return SMFIS_CONTINUE;
}

static sfsistat cb_close(SMFICTX *ctx)
{
    struct milter_conn *c = conn(ctx);

    if (c) {
        milter_msg_reset(c);
        milter_gen_release(c->g);
        free(c);
        smfi_setpriv(ctx, 0);
    }
    return SMFIS_CONTINUE;
}

struct smfiDesc milter_desc = {
    "mxdock-milter",
    SMFI_VERSION,
    SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST,
    cb_connect,
    cb_helo,
    cb_envfrom,
    cb_envrcpt,
    cb_header,
    cb_eoh,
    cb_body,
    cb_eom,
    cb_abort,
    cb_close,
    NULL,                       /* unknown: not used (SMFIP_NOUNKNOWN) */
    cb_data,
    cb_negotiate,
};
