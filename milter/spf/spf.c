/*
 * spf.c - the SPF interface of the milter (spf.h): inputs parsed, one check
 * evaluated, the verdict turned into the reply text and Received-SPF.
 *
 *   mxspf_new        a shared checker from the configuration
 *   mxspf_free       release it
 *   mxspf_check      evaluate one client ip, HELO and MAIL FROM
 *   mxspf_set_engine plain libspf2 (baseline) or mxdock's evaluation
 *   mxspf_result_name  "pass", "fail", ...
 *   mxspf_sanitise   printable ASCII only, no '%': safe for replies, headers
 *
 * Ownership: mxspf_new() returns a checker the caller frees with
 * mxspf_free(); it is read-only afterwards, so any number of threads may
 * call mxspf_check() on it at once.  Nothing returned points into it.
 *
 * Diagnostics: mxspf_new() fails with a reason for a bad dns_resolver;
 * mxspf_check() never fails: bad input is a permerror or a none.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "spf_int.h"

/* mxspf_strlcpy - bounded copy, always terminated; returns strlen(src) */
size_t  mxspf_strlcpy(char *dst, const char *src, size_t len)
{
    size_t  n = strlen(src);

    if (len) {
        size_t  k = n < len - 1 ? n : len - 1;

        memcpy(dst, src, k);
        dst[k] = 0;
    }
    return n;
}

/* mxspf_sanitise - copy SRC as printable ASCII without '%', bounded by LEN */
void    mxspf_sanitise(char *dst, size_t len, const char *src)
{
    size_t  i = 0;

    if (len == 0)
        return;
    for (; *src && i + 1 < len; src++) {
        unsigned char ch = (unsigned char) *src;

        dst[i++] = (ch < 0x20 || ch > 0x7e || ch == '%') ? '?' : (char) ch;
    }
    dst[i] = 0;
}

/* parse_resolver - "IP" or "IP:PORT" or "[IPv6]:PORT" into the checker */
static int parse_resolver(struct mxspf *s, const char *text)
{
    char    host[128], *end;
    const char *port = NULL, *close;
    struct sockaddr_in *v4 = (struct sockaddr_in *) &s->ns;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *) &s->ns;
    long    p = 53;
    size_t  n;

    if (text[0] == '[') {
        if ((close = strchr(text, ']')) == NULL || (n = (size_t) (close - text - 1)) >= sizeof host)
            return -1;
        memcpy(host, text + 1, n);
        host[n] = 0;
        if (close[1] == ':')
            port = close + 2;
        else if (close[1])
            return -1;
    } else {
        if (mxspf_strlcpy(host, text, sizeof host) >= sizeof host)
            return -1;
        if ((end = strchr(host, ':')) != NULL && strchr(end + 1, ':') == NULL) {
            *end = 0;
            port = text + (end - host) + 1;
        }
    }
    if (port) {
        p = strtol(port, &end, 10);
        if (*end || p < 1 || p > 65535)
            return -1;
    }
    memset(&s->ns, 0, sizeof s->ns);
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((unsigned short) p);
        s->ns_len = sizeof *v4;
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((unsigned short) p);
        s->ns_len = sizeof *v6;
    } else
        return -1;
    return 0;
}

struct mxspf *mxspf_new(const struct mx_conf *c, char *why, size_t whylen)
{
    struct mxspf *s = calloc(1, sizeof *s);

    if (s == NULL) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    s->timeout = c && c->dns_timeout > 0 ? c->dns_timeout : 5;
    if (c && c->dns_resolver && *c->dns_resolver
        && parse_resolver(s, c->dns_resolver) < 0) {
        snprintf(why, whylen, "dns_resolver: bad address \"%.100s\"", c->dns_resolver);
        free(s);
        return NULL;
    }
    if (s->ns_len == 0)
        mxspf_dns_default(s);
    if ((s->cache = mxspf_cache_new()) == NULL) {
        snprintf(why, whylen, "out of memory");
        free(s);
        return NULL;
    }
    if (c && c->spf_engine && strcmp(c->spf_engine, "libspf2") == 0)
        (void) mxspf_set_engine(s, 1);  /* fails only without memory: mxdock's SPF then */
    return s;
}

void    mxspf_free(struct mxspf *s)
{
    if (s == NULL)
        return;
    if (s->libspf2)
        mxspf_lib_free(s->libspf2);
    mxspf_cache_free(s->cache);
    free(s);
}

/* mxspf_set_engine - LIBSPF2 non-zero: plain libspf2, 1 with its DNS
 * cache, 2 without (not thread-safe to call while checks run; set it once
 * after mxspf_new). 0 on success. */
int     mxspf_set_engine(struct mxspf *s, int libspf2)
{
    if (libspf2 && s->libspf2 == NULL && (s->libspf2 = mxspf_lib_new(libspf2 == 1)) == NULL)
        return -1;
    s->use_libspf2 = libspf2;
    return 0;
}

const char *mxspf_result_name(enum mxspf_result r)
{
    static const char *const names[] = {
        "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror"
    };

    return (unsigned) r < sizeof names / sizeof names[0] ? names[r] : "permerror";
}

/* parse_ip - client address into REQ; a v4-mapped v6 address becomes v4 */
static int parse_ip(struct spf_req *req, const char *ip)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    char    buf[64];

    if (mxspf_strlcpy(buf, ip ? ip : "", sizeof buf) >= sizeof buf)
        return -1;
    if (strncasecmp(buf, "ipv6:", 5) == 0)
        memmove(buf, buf + 5, strlen(buf + 5) + 1);
    if (inet_pton(AF_INET, buf, req->addr) == 1)
        req->family = AF_INET;
    else if (inet_pton(AF_INET6, buf, req->addr) == 1) {
        req->family = AF_INET6;
        if (memcmp(req->addr, mapped, 12) == 0) {
            memmove(req->addr, req->addr + 12, 4);
            req->family = AF_INET;
        }
    } else
        return -1;
    inet_ntop(req->family, req->addr, req->ip_text, sizeof req->ip_text);
    return 0;
}

/* strip_domain - copy a domain without a trailing dot */
static void strip_domain(char *dst, size_t len, const char *src)
{
    size_t  n;

    mxspf_strlcpy(dst, src, len);
    n = strlen(dst);
    if (n > 0 && dst[n - 1] == '.')
        dst[n - 1] = 0;
}

/* parse_identity - sender, local-part and domain; null sender -> HELO */
static void parse_identity(struct spf_req *req, const char *helo, const char *from)
{
    char    buf[520];
    const char *at;
    size_t  n;

    strip_domain(req->helo, sizeof req->helo, helo ? helo : "");
    mxspf_strlcpy(buf, from ? from : "", sizeof buf);
    n = strlen(buf);
    if (n >= 2 && buf[0] == '<' && buf[n - 1] == '>') {
        buf[n - 1] = 0;
        memmove(buf, buf + 1, n - 1);
    }
    at = strrchr(buf, '@');
    if (buf[0] == 0 || (at && at[1] == 0)) {
        req->is_helo = 1;
        mxspf_strlcpy(req->local, "postmaster", sizeof req->local);
        mxspf_strlcpy(req->domain, req->helo, sizeof req->domain);
    } else if (at == NULL) {
        /* RFC 7208 4.3: no local-part: use "postmaster" */
        mxspf_strlcpy(req->local, "postmaster", sizeof req->local);
        strip_domain(req->domain, sizeof req->domain, buf);
    } else {
        n = (size_t) (at - buf);
        if (n == 0)
            mxspf_strlcpy(req->local, "postmaster", sizeof req->local);
        else if (n < sizeof req->local) {
            memcpy(req->local, buf, n);
            req->local[n] = 0;
        } else
            mxspf_strlcpy(req->local, "postmaster", sizeof req->local);
        strip_domain(req->domain, sizeof req->domain, at + 1);
    }
    snprintf(req->sender, sizeof req->sender, "%s@%s", req->local, req->domain);
}

/* comment - the human part of Received-SPF (RFC 7208 9.1 examples) */
static void comment(char *buf, size_t len, const struct spf_req *req,
                    const struct spf_verdict *v)
{
    const char *who = req->is_helo ? req->domain : req->sender;

    switch (v->result) {
    case MXSPF_PASS:
        snprintf(buf, len, "domain of %s designates %s as permitted sender", who, req->ip_text);
        break;
    case MXSPF_FAIL:
        snprintf(buf, len, "domain of %s does not designate %s as permitted sender", who, req->ip_text);
        break;
    case MXSPF_SOFTFAIL:
        snprintf(buf, len, "domain of transitioning %s does not designate %s as permitted sender",
                 who, req->ip_text);
        break;
    case MXSPF_NEUTRAL:
        snprintf(buf, len, "%s is neither permitted nor denied by domain of %s", req->ip_text, who);
        break;
    case MXSPF_NONE:
        snprintf(buf, len, "domain of %s does not provide an SPF record", who);
        break;
    case MXSPF_TEMPERROR:
        snprintf(buf, len, "temporary error in processing during lookup of %s: %s", who, v->reason);
        break;
    default:
        snprintf(buf, len, "permanent error in processing domain of %s: %s", who, v->reason);
        break;
    }
}

/* kv - append "; KEY=VALUE" (or without "; " first), VALUE a dot-atom or
 * a quoted-string, sanitised */
static void kv(char *buf, size_t len, const char *key, const char *val)
{
    char    clean[520], quoted[1100];
    size_t  used = strlen(buf), i, q = 0;
    int     atom;

    mxspf_sanitise(clean, sizeof clean, val);
    atom = clean[0] != 0 && clean[0] != '.';
    for (i = 0; clean[i]; i++)
        if (!isalnum((unsigned char) clean[i]) && !strchr("!#$&'*+-/=?^_`{|}~.@:", clean[i]))
            atom = 0;
    if (!atom) {
        quoted[q++] = '"';
        for (i = 0; clean[i]; i++) {
            if (clean[i] == '"' || clean[i] == '\\')
                quoted[q++] = '\\';
            quoted[q++] = clean[i];
        }
        quoted[q++] = '"';
        quoted[q] = 0;
    }
    if (used < len)
        snprintf(buf + used, len - used, "%s%s=%s", used ? "; " : "", key, atom ? clean : quoted);
}

/* fill_answer - the spf.h answer from the verdict */
static void fill_answer(struct mxspf_answer *out, const struct spf_req *req,
                        const struct spf_verdict *v)
{
    char    text[700], clean[700], pairs[1024] = "";

    out->result = v->result;
    mxspf_strlcpy(out->identity, req->is_helo ? "helo" : "mailfrom", sizeof out->identity);
    mxspf_sanitise(out->domain, sizeof out->domain, req->domain);
    if (v->result == MXSPF_FAIL && v->exp[0])
        mxspf_sanitise(out->explanation, sizeof out->explanation, v->exp);
    else if (v->result == MXSPF_FAIL || v->result == MXSPF_SOFTFAIL)
        snprintf(out->explanation, sizeof out->explanation,
                 "%.46s is not allowed to send mail from %.170s", req->ip_text, out->domain);
    else
        mxspf_sanitise(out->explanation, sizeof out->explanation, v->reason);
    comment(text, sizeof text, req, v);
    mxspf_sanitise(clean, sizeof clean, text);
    kv(pairs, sizeof pairs, "client-ip", req->ip_text);
    kv(pairs, sizeof pairs, "envelope-from", req->is_helo ? "" : req->sender);
    kv(pairs, sizeof pairs, "helo", req->helo);
    if (v->mech[0])
        kv(pairs, sizeof pairs, "mechanism", v->mech);
    if (v->result == MXSPF_PERMERROR || v->result == MXSPF_TEMPERROR)
        kv(pairs, sizeof pairs, "problem", v->reason);
    kv(pairs, sizeof pairs, "receiver", req->receiver[0] ? req->receiver : "unknown");
    kv(pairs, sizeof pairs, "identity", out->identity);
    snprintf(out->received_spf, sizeof out->received_spf, "%s (%s: %.300s) %s",
             mxspf_result_name(v->result), req->receiver[0] ? req->receiver : "mxdock",
             clean, pairs);
}

void    mxspf_check(struct mxspf *s, const char *client_ip, const char *helo,
                    const char *mail_from, const char *receiver, struct mxspf_answer *out)
{
    struct spf_req req;
    struct spf_verdict v;

    memset(&req, 0, sizeof req);
    memset(&v, 0, sizeof v);
    memset(out, 0, sizeof *out);
    parse_identity(&req, helo, mail_from);
    mxspf_sanitise(req.receiver, sizeof req.receiver, receiver ? receiver : "");
    if (parse_ip(&req, client_ip) < 0) {
        mxspf_strlcpy(req.ip_text, "unknown", sizeof req.ip_text);
        v.result = MXSPF_PERMERROR;
        mxspf_strlcpy(v.reason, "client address is not an IP address", sizeof v.reason);
    } else if (req.domain[0] == 0) {
        v.result = MXSPF_NONE;
        mxspf_strlcpy(v.reason, "no domain to check", sizeof v.reason);
    } else if (s->use_libspf2)
        mxspf_lib_eval(s->libspf2, &req, &v);
    else
        mxspf_eval(s, &req, &v);
    fill_answer(out, &req, &v);
}
