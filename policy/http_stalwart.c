/*
 * http_stalwart.c - Stalwart's telemetry webhook (POST /stalwart/events).
 *
 *   http_signature_ok   X-Signature against HMAC-SHA256 of the body
 *   http_seen_new/free  the event ids recorded lately (retries, replays)
 *   http_stalwart       check, parse, record each auth.failed event
 *
 * What Stalwart sends (stalwartlabs/stalwart at d72608f3,
 * crates/common/src/telemetry/webhooks/mod.rs): the body is
 * {"events":[...]} (EventWrapper, line 97), serialized once (line 134);
 * when a key is set, X-Signature is the standard base64 of
 * HMAC-SHA256(key, body) (lines 139-146).  A batch that gets a non-2xx
 * answer is queued again and resent (lines 113-122).  Each event is
 * {"id","createdAt","type","data":{...}} (crates/trc/src/serializers/
 * json.rs, lines 84-122); "auth.failed" (crates/trc/src/event/
 * enums_impl.rs:689) carries "remoteIp", "accountName" and, from the
 * session's span, "listenerId" (enums_impl.rs:7898, 7924, 7938).
 *
 * Each auth.failed event is recorded as one failed login (ip, account,
 * protocol = listenerId), as watch-log records Stalwart's log line.  An
 * event recorded before is skipped, so a resent batch or a replayed body
 * counts once.  Events are known by their content without "id": Stalwart
 * makes the id anew from a counter each time it serializes a batch
 * (json.rs lines 86-95), so a resent batch carries new ids.  Other event
 * types are counted and ignored.  When the database refuses a write the
 * answer is 503: Stalwart resends the batch, and the events already
 * recorded are skipped then.
 */
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"

#define SEEN_MAX 8192            /* events remembered */

int     http_signature_ok(const char *key, const char *body, size_t len, const char *sig)
{
    unsigned char mac[EVP_MAX_MD_SIZE], want[4 * EVP_MAX_MD_SIZE / 3 + 8];
    unsigned int maclen = 0;
    size_t  wantlen, siglen;
    int     ok;

    if (key == 0 || *key == 0 || sig == 0)
        return 0;
    if (HMAC(EVP_sha256(), key, (int) strlen(key), (const unsigned char *) body, len, mac,
             &maclen) == 0)
        return 0;
    wantlen = (size_t) EVP_EncodeBlock(want, mac, (int) maclen);
    siglen = strlen(sig);
    ok = siglen == wantlen && CRYPTO_memcmp(want, sig, wantlen) == 0;
    OPENSSL_cleanse(mac, sizeof(mac));
    return ok;
}

/* ---- event ids seen: a ring of 64-bit hashes ------------------------------ */

struct http_seen {
    pthread_mutex_t lock;
    uint64_t id[SEEN_MAX];
    size_t  next, used;
};

struct http_seen *http_seen_new(void)
{
    struct http_seen *s = calloc(1, sizeof(*s));

    if (s)
        pthread_mutex_init(&s->lock, 0);
    return s;
}

void    http_seen_free(struct http_seen *s)
{
    if (s == 0)
        return;
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* event_hash - FNV-1a of EV's canonical text without its "id"; 0 when
 * out of memory (then not remembered) */
static uint64_t event_hash(json_t *ev)
{
    uint64_t h = 1469598103934665603ULL;
    char   *text, *p;

    json_object_del(ev, "id");
    if ((text = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS)) == 0)
        return 0;
    for (p = text; *p; p++)
        h = (h ^ (unsigned char) *p) * 1099511628211ULL;
    free(text);
    return h ? h : 1;
}

static int seen_has(struct http_seen *s, uint64_t h)
{
    int     found = 0;

    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->used && !found; i++)
        found = s->id[i] == h;
    pthread_mutex_unlock(&s->lock);
    return found;
}

static void seen_add(struct http_seen *s, uint64_t h)
{
    pthread_mutex_lock(&s->lock);
    s->id[s->next] = h;
    s->next = (s->next + 1) % SEEN_MAX;
    if (s->used < SEEN_MAX)
        s->used++;
    pthread_mutex_unlock(&s->lock);
}

/* ---- the events -------------------------------------------------------------- */

static const char *str_of(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    return json_is_string(v) ? json_string_value(v) : 0;
}

struct tally {
    int     recorded, ignored, duplicate, db_errors;
};

/* one_event - record EV when it is an auth.failed not seen before */
static void one_event(struct http_ctx *h, json_t *ev, struct tally *t)
{
    const char *type = str_of(ev, "type"), *ip, *who, *proto;
    json_t *data = json_object_get(ev, "data");
    uint64_t hash;
    int     rc;

    if (type == 0 || strcmp(type, "auth.failed") != 0 || !json_is_object(data)
        || (ip = str_of(data, "remoteIp")) == 0) {
        t->ignored++;
        http_metrics_ignored(h->metrics, 0);
        return;
    }
    if ((hash = event_hash(ev)) != 0 && seen_has(h->seen, hash)) {
        t->duplicate++;
        http_metrics_ignored(h->metrics, 1);
        return;
    }
    who = str_of(data, "accountName");
    proto = str_of(data, "listenerId");
    rc = policy_record_authfail(h->policy, ip, who ? who : "", proto ? proto : "stalwart");
    if (rc == -1) {
        t->db_errors++;
        http_metrics_db_error(h->metrics);
        return;
    }
    if (hash)
        seen_add(h->seen, hash);
    if (rc == 0) {
        t->recorded++;
        http_metrics_failure(h->metrics, HTTP_SRC_STALWART);
        mx_info("serve: stalwart: failed %.16s login from %.64s (%.100s)",
                proto ? proto : "stalwart", ip, who ? who : "");
    }
}

void    http_stalwart(struct http_ctx *h, const char *sig, const char *body, size_t len,
                      struct http_answer *a)
{
    struct tally t = {0, 0, 0, 0};
    json_error_t err;
    json_t *root, *events, *ev;
    size_t  i;

    if (!http_signature_ok(h->secret, body, len, sig)) {
        a->code = 401;
        snprintf(a->body, sizeof(a->body), "{\"error\":\"bad or missing X-Signature\"}");
        snprintf(a->why, sizeof(a->why), "%s X-Signature", sig ? "wrong" : "no");
        return;
    }
    root = json_loadb(body, len, 0, &err);
    if (!json_is_array(events = json_object_get(root, "events"))) {
        a->code = 400;
        snprintf(a->body, sizeof(a->body), "{\"error\":\"malformed request\"}");
        snprintf(a->why, sizeof(a->why), "not {\"events\":[...]}: %.80s",
                 root ? "no events array" : err.text);
        json_decref(root);
        return;
    }
    json_array_foreach(events, i, ev)
        one_event(h, ev, &t);
    json_decref(root);
    a->code = t.db_errors ? 503 : 200;
    snprintf(a->body, sizeof(a->body), "{\"recorded\":%d,\"ignored\":%d,\"duplicate\":%d%s}",
             t.recorded, t.ignored, t.duplicate,
             t.db_errors ? ",\"error\":\"policy database unavailable\"" : "");
    if (t.db_errors)
        snprintf(a->why, sizeof(a->why), "%d auth.failed event(s) not recorded: database down",
                 t.db_errors);
}
