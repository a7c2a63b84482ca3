/*
 * dkim_eng_key.c - public keys for mxdock's verifier: the TXT record of
 * SELECTOR._domainkey.DOMAIN, parsed per RFC 6376 3.6.1 into an EVP_PKEY,
 * kept in a cache shared by every thread.
 *
 *   dkim_eng_keys_new    a cache: resolver (or key file), size bound
 *   dkim_eng_keys_free   release it and every key in it
 *   dkim_eng_key_get     the key of a selector and domain, from the cache
 *                        while its TTL runs, else from DNS
 *   dkim_eng_key_answer  the TXT records of a DNS answer
 *   dkim_eng_key_parse   one key record (3.6.1) into a parsed key or a reason
 *   dkim_keyrec_check    may a verifier use this record? (libopendkim's
 *                        resolver, dkim_msg_dns.c, hides those it may not)
 *
 * Cache: at most DKIM_KEYS_MAX names; an answer is kept for its DNS TTL
 * (at most a day), a missing key (NXDOMAIN or no TXT) for the SOA minimum
 * of the negative answer; a DNS failure is never kept.  When full, expired
 * entries go first, then the one closest to expiry.  One mutex guards it;
 * the query itself runs outside the lock.
 *
 * Key records (3.6.1): v= when present is DKIM1 and the first tag; h= when present lists
 * sha256; k= is rsa (default) or ed25519; s= when present holds * or
 * email; t= flags y (testing) and s (strict i=); p= present, empty when
 * revoked.  Several TXT records at the name are refused, as libopendkim
 * does ("multiple keys found").
 *
 * Ownership: dkim_eng_key_get copies the record into OUT with its own
 * reference to the EVP_PKEY; the caller frees it with EVP_PKEY_free.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <pthread.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "dkim_eng.h"
#include "dkim_tags.h"
#include "dnsq.h"

#define DKIM_KEYS_MAX 4096
#define DKIM_KEYS_MAXTTL 86400

struct key_ent {
    char    name[320];
    time_t  expires;
    struct dkim_eng_pubkey k;
};

struct dkim_eng_keys {
    pthread_mutex_t lock;
    struct sockaddr_storage ss; /* dns_resolver, or the system's first */
    socklen_t sslen;
    int     timeout;
    char   *keyfile;            /* tests: "NAME TXT" lines instead of DNS */
    size_t  n;
    struct key_ent *e;
};

struct dkim_eng_keys *dkim_eng_keys_new(const char *server, long timeout, const char *keyfile,
                                        char *why, size_t whylen)
{
    struct dkim_eng_keys *ks = calloc(1, sizeof(*ks));

    if (ks == 0 || (ks->e = calloc(DKIM_KEYS_MAX, sizeof(*ks->e))) == 0
        || (keyfile && (ks->keyfile = strdup(keyfile)) == 0)) {
        snprintf(why, whylen, "out of memory");
        dkim_eng_keys_free(ks);
        return 0;
    }
    if (server && *server) {
        if (dnsq_parse_server(server, &ks->ss, &ks->sslen) != 0) {
            snprintf(why, whylen, "dns_resolver: not IP, IPv4:PORT or [IPv6]:PORT: %.100s",
                     server);
            dkim_eng_keys_free(ks);
            return 0;
        }
    } else {
        dnsq_system_server(&ks->ss, &ks->sslen);
    }
    ks->timeout = (int) (timeout > 0 ? timeout : 5);
    pthread_mutex_init(&ks->lock, 0);
    return ks;
}

void    dkim_eng_keys_free(struct dkim_eng_keys *ks)
{
    if (ks == 0)
        return;
    for (size_t i = 0; ks->e && i < ks->n; i++)
        EVP_PKEY_free(ks->e[i].k.pkey);
    free(ks->e);
    free(ks->keyfile);
    if (ks->e)
        pthread_mutex_destroy(&ks->lock);
    free(ks);
}

/* ---- the query ---- */

/* soa_minimum - negative TTL of an answer: SOA minimum, capped by its TTL */
static long soa_minimum(ns_msg *msg)
{
    ns_rr   rr;

    for (int i = 0; i < ns_msg_count(*msg, ns_s_ns); i++)
        if (ns_parserr(msg, ns_s_ns, i, &rr) == 0 && ns_rr_type(rr) == ns_t_soa
            && ns_rr_rdlen(rr) >= 20) {
            long    min = (long) ns_get32(ns_rr_rdata(rr) + ns_rr_rdlen(rr) - 4);

            return min < (long) ns_rr_ttl(rr) ? min : (long) ns_rr_ttl(rr);
        }
    return 60;
}

/* txt_join - the character-strings of one TXT RDATA joined into OUT */
static int txt_join(const unsigned char *rd, size_t len, struct strbuf *out)
{
    for (size_t o = 0; o < len;) {
        size_t  l = rd[o++];

        if (o + l > len)
            return -1;
        sb_append(out, (const char *) rd + o, l);
        o += l;
    }
    return 0;
}

/* dkim_eng_key_answer - TXT records of ANS into OUT (several joined by
 * "\n"); the record count, 0 for none (*TTL = negative TTL), -1 when a
 * record is malformed, -2 when the server failed (SERVFAIL, REFUSED, ...)
 * or the reply does not parse: a DNS failure, temporary (RFC 6376 6.1.2) */
int     dkim_eng_key_answer(const unsigned char *ans, int alen, struct strbuf *out, long *ttl)
{
    ns_msg  msg;
    ns_rr   rr;
    int     n = 0;

    if (ns_initparse(ans, alen, &msg) != 0)
        return -2;
    if (ns_msg_getflag(msg, ns_f_rcode) == ns_r_nxdomain) {
        *ttl = soa_minimum(&msg);
        return 0;
    }
    if (ns_msg_getflag(msg, ns_f_rcode) != ns_r_noerror)
        return -2;
    *ttl = DKIM_KEYS_MAXTTL;
    for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
        if (ns_parserr(&msg, ns_s_an, i, &rr) != 0)
            return -2;
        if (ns_rr_type(rr) != ns_t_txt)
            continue;
        if (n++)
            sb_putc(out, '\n');
        if (txt_join(ns_rr_rdata(rr), ns_rr_rdlen(rr), out) != 0)
            return -1;
        if ((long) ns_rr_ttl(rr) < *ttl)
            *ttl = (long) ns_rr_ttl(rr);
    }
    if (n == 0)
        *ttl = soa_minimum(&msg);
    return n;
}

/* query_dns - as dkim_eng_key_answer, for NAME asked of the configured server;
 * -2 when the query itself failed (timeout, no answer) */
static int query_dns(const struct dkim_eng_keys *ks, const char *name, struct strbuf *out,
                     long *ttl)
{
    struct __res_state rs;
    unsigned char pkt[NS_PACKETSZ], ans[8192];
    int     qlen, alen = -1;

    memset(&rs, 0, sizeof(rs));
    if (res_ninit(&rs) != 0)
        return -2;
    qlen = res_nmkquery(&rs, QUERY, name, C_IN, ns_t_txt, 0, 0, 0, pkt, sizeof(pkt));
    if (qlen > 0)               /* dnsq_send: UDP, TCP on truncation, the budget */
        alen = dnsq_send(&ks->ss, ks->sslen, pkt, qlen, ans, sizeof(ans), ks->timeout);
    res_nclose(&rs);
    if (alen <= 0)
        return -2;
    return dkim_eng_key_answer(ans, alen < (int) sizeof(ans) ? alen : (int) sizeof(ans), out, ttl);
}

/* query_file - NAME's line of the key file (tests) */
static int query_file(const struct dkim_eng_keys *ks, const char *name, struct strbuf *out,
                      long *ttl)
{
    FILE   *f = fopen(ks->keyfile, "r");
    char    line[8192];
    size_t  nl = strlen(name);
    int     n = 0;

    if (f == 0)
        return -2;
    *ttl = 60;
    while (n == 0 && fgets(line, sizeof(line), f))
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ' ') {
            line[strcspn(line, "\r\n")] = 0;
            sb_puts(out, line + nl + 1);
            n = 1;
        }
    fclose(f);
    return n;
}

/* ---- the record ---- */

static int list_has(const char *list, const char *want)
{
    const char *p = list;

    while (*p) {
        size_t  len;

        p += strspn(p, " \t\r\n:");
        len = strcspn(p, " \t\r\n:");
        if (len == strlen(want) && strncasecmp(p, want, len) == 0)
            return 1;
        p += len;
    }
    return 0;
}

/* record_pkey - the key of P= for key type K; -1 with WHY */
static int record_pkey(const char *p, const char *k, struct dkim_eng_pubkey *out)
{
    unsigned char der[4096];
    const unsigned char *q = der;
    long    n = dkim_b64_decode(p, der, sizeof(der));

    if (n <= 0)
        return snprintf(out->why, sizeof(out->why), "unable to apply public key"), -1;
    if (strcmp(k, "ed25519") == 0) {
        out->ed25519 = 1;
        out->pkey = n == 32 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, 0, der, 32) : 0;
        out->bits = 256;
    } else {
        out->pkey = d2i_PUBKEY(0, &q, n);
        if (out->pkey && EVP_PKEY_get_base_id(out->pkey) != EVP_PKEY_RSA) {
            EVP_PKEY_free(out->pkey);
            out->pkey = 0;
        }
        out->bits = out->pkey ? EVP_PKEY_get_bits(out->pkey) : 0;
    }
    if (out->pkey == 0)
        return snprintf(out->why, sizeof(out->why), "unable to apply public key"), -1;
    return 0;
}

/* tag - tag NAME of T into BUF, or NULL; a value too long for BUF reads
 * as BUF's worth of "?" so that it matches nothing and is not "absent" */
static const char *tag(const struct dkim_tags *t, const char *name, char *buf, size_t len)
{
    if (dkim_eng_tagstr(t, name, buf, len))
        return buf;
    if (dkim_tags_get(t, name) == 0)
        return 0;
    memset(buf, '?', len - 1);
    buf[len - 1] = 0;
    return buf;
}

/* dkim_eng_key_parse - TXT into OUT (status and, when good, the key) */
void    dkim_eng_key_parse(const char *txt, struct dkim_eng_pubkey *out)
{
    struct dkim_tags t;
    char    vb[64], hb[256], kb[64], sb[256], tb[64], pb[4096];
    const char *v, *h, *k, *s, *p, *fl;

    out->status = DKIM_KEY_BAD;
    memset(&t, 0, sizeof(t));
    if (dkim_tags_list(txt, &t) != 0) {
        snprintf(out->why, sizeof(out->why), "key DNS reply corrupt");
        return;
    }
    v = tag(&t, "v", vb, sizeof(vb)), h = tag(&t, "h", hb, sizeof(hb));
    k = tag(&t, "k", kb, sizeof(kb)), s = tag(&t, "s", sb, sizeof(sb));
    p = tag(&t, "p", pb, sizeof(pb)), fl = tag(&t, "t", tb, sizeof(tb));
    if (v && (strcmp(v, "DKIM1") != 0 || strcmp(t.tag[0].name, "v") != 0))
        snprintf(out->why, sizeof(out->why), "unknown key version");     /* v= first */
    else if (h && !list_has(h, "sha256"))
        snprintf(out->why, sizeof(out->why), "signature-key hash mismatch");
    else if (k && strcmp(k, "rsa") != 0 && strcmp(k, "ed25519") != 0)
        snprintf(out->why, sizeof(out->why), "unknown key type");
    else if (s && !list_has(s, "*") && !list_has(s, "email"))
        snprintf(out->why, sizeof(out->why), "not an e-mail key");
    else if (p == 0)
        snprintf(out->why, sizeof(out->why), "key DNS reply corrupt");
    else if (*p == 0)
        snprintf(out->why, sizeof(out->why), "key revoked");
    else if (record_pkey(p, k ? k : "rsa", out) == 0) {
        out->status = DKIM_KEY_OK;
        out->testing = fl && list_has(fl, "y");
        out->strict = fl && list_has(fl, "s");
    }
}

int     dkim_keyrec_check(const char *txt, char *why, size_t whylen)
{
    struct dkim_eng_pubkey k;
    int     ok;

    memset(&k, 0, sizeof(k));
    dkim_eng_key_parse(txt, &k);
    ok = k.status == DKIM_KEY_OK || strcmp(k.why, "key revoked") == 0;
    EVP_PKEY_free(k.pkey);
    if (!ok)
        snprintf(why, whylen, "%s", k.why);
    return ok ? 0 : -1;
}

/* fetch - NAME from DNS (or the key file) into OUT; the TTL to keep it
 * for, or -1 when it must not be kept */
static long fetch(const struct dkim_eng_keys *ks, const char *name, struct dkim_eng_pubkey *out)
{
    struct strbuf txt = STRBUF_INIT;
    long    ttl = 0;
    int     n = ks->keyfile ? query_file(ks, name, &txt, &ttl) : query_dns(ks, name, &txt, &ttl);

    memset(out, 0, sizeof(*out));
    if (n < 0 || sb_failed(&txt)) {
        out->status = n == -1 ? DKIM_KEY_BAD : DKIM_KEY_TEMP;
        snprintf(out->why, sizeof(out->why), n == -1 ? "key DNS reply corrupt"
                 : "key DNS query failed");
        ttl = -1;
    } else if (n == 0) {
        out->status = DKIM_KEY_NONE;
        snprintf(out->why, sizeof(out->why), "key not found in DNS");
    } else if (n > 1) {
        out->status = DKIM_KEY_BAD;
        snprintf(out->why, sizeof(out->why), "multiple keys found");
    } else
        dkim_eng_key_parse(sb_str(&txt), out);
    sb_free(&txt);
    return ttl > DKIM_KEYS_MAXTTL ? DKIM_KEYS_MAXTTL : ttl;
}

/* ---- the cache ---- */

/* find - the entry of NAME, or NULL; lock held */
static struct key_ent *find(struct dkim_eng_keys *ks, const char *name)
{
    for (size_t i = 0; i < ks->n; i++)
        if (strcmp(ks->e[i].name, name) == 0)
            return &ks->e[i];
    return 0;
}

/* place - where NAME goes: its entry, a free one, or the one closest to
 * expiry (expired ones first); lock held */
static struct key_ent *place(struct dkim_eng_keys *ks, const char *name)
{
    struct key_ent *e = find(ks, name), *victim = 0;

    if (e)
        return e;
    if (ks->n < DKIM_KEYS_MAX)
        return &ks->e[ks->n++];
    for (size_t i = 0; i < ks->n; i++)
        if (victim == 0 || ks->e[i].expires < victim->expires)
            victim = &ks->e[i];
    return victim;
}

static void copy_out(const struct dkim_eng_pubkey *k, struct dkim_eng_pubkey *out)
{
    *out = *k;
    if (out->pkey)
        EVP_PKEY_up_ref(out->pkey);
}

void    dkim_eng_key_get(struct dkim_eng_keys *ks, const char *selector, const char *domain,
                         struct dkim_eng_pubkey *out)
{
    char    name[320];
    time_t  now = time(0);
    struct dkim_eng_pubkey fresh;
    struct key_ent *e;
    long    ttl;

    snprintf(name, sizeof(name), "%s._domainkey.%s", selector, domain);
    pthread_mutex_lock(&ks->lock);
    if ((e = find(ks, name)) != 0 && e->expires > now) {
        copy_out(&e->k, out);
        pthread_mutex_unlock(&ks->lock);
        return;
    }
    pthread_mutex_unlock(&ks->lock);
    ttl = fetch(ks, name, &fresh);      /* outside the lock: DNS may take seconds */
    copy_out(&fresh, out);
    if (ttl <= 0) {
        EVP_PKEY_free(fresh.pkey);
        return;
    }
    pthread_mutex_lock(&ks->lock);
    e = place(ks, name);
    EVP_PKEY_free(e->k.pkey);
    snprintf(e->name, sizeof(e->name), "%s", name);
    e->expires = now + ttl;
    e->k = fresh;
    pthread_mutex_unlock(&ks->lock);
}
