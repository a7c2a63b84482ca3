/*
 * dkim_lifecycle.c - the key lifecycle: pending -> active -> retiring ->
 * retired -> deleted, and automatic rotation.
 *
 *   dkim_store_published  is a selector's TXT served by the authoritative
 *                         servers, at every IPv4 and IPv6 address of each?
 *                         (conf/dnsq, no recursion)
 *   dkim_store_tick       advance one domain at a given time
 *
 * Time comes from the caller (mx_now(), which honours $MXDOCK_NOW), so a
 * test can walk a whole rotation with a fake clock.  A pending key only
 * goes active once every server asked serves its p= value; so the milter
 * never signs with a key a verifier cannot find.  Diagnostics go to WHY;
 * changes are reported one line each on the caller's strbuf, and only when
 * they were committed: a tick that fails takes its lines back.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>

#include "dkim_impl.h"
#include "dnsq.h"

/* p_value - the p= tag of a DKIM key record, whitespace removed, in OUT */
static void p_value(const char *txt, char *out, size_t outlen)
{
    const char *p = txt;
    size_t  n = 0;

    *out = 0;
    while (*p) {
        p += strspn(p, " \t;");
        if (p[0] == 'p' && p[strspn(p + 1, " \t") + 1] == '=') {
            p = strchr(p, '=') + 1;
            for (; *p && *p != ';' && n + 1 < outlen; p++)
                if (*p != ' ' && *p != '\t')
                    out[n++] = *p;
            out[n] = 0;
            return;
        }
        p += strcspn(p, ";");
    }
}

/* served_by - 1 when SERVER answers NAME with a TXT whose p= is WANT */
static int served_by(const struct mx_conf *conf, const char *server, const char *name,
                     const char *want, char *why, size_t whylen)
{
    char  **rrs = 0, got[1024];
    size_t  n = 0;
    int     found = 0;

    if (dnsq_query(server, name, ns_t_txt, (int) conf->dns_timeout, &rrs, &n, why, whylen) < 0)
        return 0;
    for (size_t i = 0; i < n && !found; i++) {
        p_value(rrs[i], got, sizeof(got));
        found = strcmp(got, want) == 0;
    }
    dnsq_free(rrs, n);
    if (!found)
        snprintf(why, whylen, "%s does not serve %s yet", server, name);
    return found;
}

/* served_by_host - every address of name server HOST, IPv4 and IPv6,
 * serves it; an IPv6-only name server is asked as "[IPv6]" */
static int served_by_host(const struct mx_conf *conf, const char *host, const char *name,
                          const char *want, char *why, size_t whylen)
{
    struct addrinfo hints, *res, *ai;
    char    ip[INET6_ADDRSTRLEN], server[INET6_ADDRSTRLEN + 2];
    int     ok = 1, any = 0;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(host, 0, &hints, &res) != 0) {
        snprintf(why, whylen, "cannot resolve name server %.100s", host);
        return 0;
    }
    for (ai = res; ai && ok; ai = ai->ai_next) {
        const void *addr = ai->ai_family == AF_INET6
            ? (const void *) &((struct sockaddr_in6 *) ai->ai_addr)->sin6_addr
            : (const void *) &((struct sockaddr_in *) ai->ai_addr)->sin_addr;

        if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            || inet_ntop(ai->ai_family, addr, ip, sizeof(ip)) == 0)
            continue;
        snprintf(server, sizeof(server), ai->ai_family == AF_INET6 ? "[%s]" : "%s", ip);
        any = 1;
        ok = served_by(conf, server, name, want, why, whylen);
    }
    freeaddrinfo(res);
    if (ok && !any)
        snprintf(why, whylen, "name server %.100s has no IPv4 or IPv6 address", host);
    return ok && any;
}

int     dkim_store_published(const struct mx_conf *conf, const char *domain,
                             const struct dkim_selector *sel, char *why, size_t whylen)
{
    char    name[384], host[256], tmpl[256];
    const char *cur = conf->dns_nameservers;
    int     asked = 0;

    snprintf(name, sizeof(name), "%s._domainkey.%s", sel->name, domain);
    if (conf->dns_check_server && *conf->dns_check_server)
        return served_by(conf, conf->dns_check_server, name, sel->pubkey_b64, why, whylen);
    while (conf_list_next(&cur, tmpl, sizeof(tmpl))) {
        if (conf_expand(tmpl, domain, host, sizeof(host)) < 0)
            continue;
        asked++;
        if (!served_by_host(conf, host, name, sel->pubkey_b64, why, whylen))
            return 0;
    }
    if (asked == 0)
        return snprintf(why, whylen, "no dns_check_server and no dns_nameservers to ask"), 0;
    return 1;
}

/* note - one report line for DOMAIN */
static void note(struct strbuf *report, const char *domain, const struct dkim_selector *sel,
                 const char *what)
{
    sb_printf(report, "%s: %s (%s) %s\n", domain, sel->name, dkim_alg_name(sel->alg), what);
}

/* note_retired - a report line for each selector named in LIST (" a b") */
static void note_retired(struct strbuf *report, struct dkim_domain *dom, const char *list)
{
    char    name[64];
    int     n;

    while (sscanf(list, " %63s%n", name, &n) == 1) {
        list += n;
        for (size_t i = 0; i < dom->n; i++)
            if (strcmp(dom->sel[i].name, name) == 0)
                note(report, dom->domain, &dom->sel[i], "-> retiring");
    }
}

/* activate_seen - per algorithm, the newest pending key seen in DNS goes
 * active; the keys dkim_update_activate retires (the active one, older
 * pending ones) are reported, a newer pending key not seen yet stays
 * pending.  Counts the pending keys not seen. */
static int activate_seen(const struct mx_conf *conf, struct dkim_domain *dom, time_t now,
                         struct strbuf *report, int *unseen)
{
    struct dkim_selector *best[2] = {0, 0};
    struct strbuf retired = STRBUF_INIT;
    char    why[300];
    int     changed = 0;

    for (size_t i = 0; i < dom->n; i++) {
        struct dkim_selector *s = &dom->sel[i];

        if (s->state != DKIM_PENDING)
            continue;
        if (!dkim_store_published(conf, dom->domain, s, why, sizeof(why))) {
            ++*unseen;
            sb_printf(report, "%s: %s (%s) stays pending: %s\n", dom->domain, s->name,
                      dkim_alg_name(s->alg), why);
        } else if (best[s->alg] == 0 || strcmp(s->name, best[s->alg]->name) > 0)
            best[s->alg] = s;
    }
    for (int a = 0; a < 2; a++)
        if (best[a]) {
            sb_reset(&retired);
            dkim_update_activate(dom, best[a], now, &retired);
            note_retired(report, dom, sb_str(&retired));
            note(report, dom->domain, best[a], "seen in DNS -> active");
            changed = 1;
        }
    sb_free(&retired);
    return changed;
}

/* age_out - retiring -> retired after dkim_retire_after; retired keys
 * older than dkim_delete_after leave the state (names in DELETED) */
static int age_out(const struct mx_conf *conf, struct dkim_domain *dom, time_t now,
                   struct strbuf *report, struct strbuf *deleted)
{
    int     changed = 0;

    for (size_t i = 0; i < dom->n; i++) {
        struct dkim_selector *s = &dom->sel[i];

        if (s->state == DKIM_RETIRING && now - s->changed >= conf->dkim_retire_after) {
            s->state = DKIM_RETIRED;
            s->changed = now;
            note(report, dom->domain, s, "-> retired (its TXT record goes)");
            changed = 1;
        } else if (s->state == DKIM_RETIRED && now - s->changed >= conf->dkim_delete_after) {
            note(report, dom->domain, s, "private key deleted");
            sb_printf(deleted, "%s\n", s->name);
            dkim_domain_remove(dom, i--);
            changed = 1;
        }
    }
    return changed;
}

/* due_rotation - algorithms whose newest active key is dkim_rotate_after
 * old and which have no pending key: into TODO */
static int due_rotation(const struct mx_conf *conf, const struct dkim_domain *dom, time_t now,
                        enum dkim_alg *todo)
{
    enum dkim_alg algs[2];
    int     nalg, n = 0;

    if (conf->dkim_rotate_after <= 0 || dkim_update_algs(conf->dkim_algorithms, algs, &nalg) < 0)
        return 0;
    for (int a = 0; a < nalg; a++) {
        const struct dkim_selector *newest = 0;
        int     pending = 0;

        for (size_t i = 0; i < dom->n; i++) {
            const struct dkim_selector *s = &dom->sel[i];

            if (s->alg != algs[a])
                continue;
            pending |= s->state == DKIM_PENDING;
            if (s->state == DKIM_ACTIVE && (newest == 0 || s->created > newest->created))
                newest = s;
        }
        if (newest && !pending && now - newest->created >= conf->dkim_rotate_after)
            todo[n++] = algs[a];
    }
    return n;
}

/* unlink_deleted - remove the key files named one per line in LIST */
static void unlink_deleted(struct dkim_handle *h, char *list)
{
    char   *save = 0;

    for (char *name = strtok_r(list, "\n", &save); name; name = strtok_r(0, "\n", &save))
        dkim_update_discard(h, name);
}

int     dkim_store_tick(const struct mx_conf *conf, const char *domain, time_t now,
                        struct strbuf *report, int *changed, int *unseen,
                        char *why, size_t whylen)
{
    struct dkim_handle h;
    struct strbuf deleted = STRBUF_INIT;
    enum dkim_alg todo[2];
    size_t  first;
    int     ntodo, rc = 0;

    size_t  mark = report->len;

    *changed = *unseen = 0;
    if (dkim_store_begin(conf, domain, 0, &h, why, whylen) < 0)
        return -1;
    if (h.lockfd < 0 && h.tx == 0) {      /* no such domain */
        dkim_store_end(&h);
        return 0;
    }
    *changed |= activate_seen(conf, h.dom, now, report, unseen);
    *changed |= age_out(conf, h.dom, now, report, &deleted);
    first = h.dom->n;
    ntodo = due_rotation(conf, h.dom, now, todo);
    for (int i = 0; i < ntodo && rc == 0; i++) {
        if ((rc = dkim_update_newkey(&h, todo[i], (int) conf->dkim_rsa_bits, DKIM_PENDING, now,
                                     why, whylen)) == 0) {
            note(report, domain, &h.dom->sel[h.dom->n - 1], "new pending key (rotation)");
            *changed = 1;
            ++*unseen;
        }
    }
    if (rc == 0 && *changed && (rc = dkim_store_commit(&h, why, whylen)) == 0 && deleted.s)
        unlink_deleted(&h, deleted.s);
    if (rc < 0) {
        for (size_t i = first; i < h.dom->n; i++)
            dkim_update_discard(&h, h.dom->sel[i].name);
        *changed = 0;
        report->len = mark;             /* nothing it says happened */
        if (report->s)
            report->s[mark] = 0;
    }
    sb_free(&deleted);
    dkim_store_end(&h);
    return rc;
}
