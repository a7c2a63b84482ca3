/*
 * http_dovecot.c - Dovecot 2.3's auth policy server protocol.
 *
 *   http_dovecot_parse   the request JSON -> remote, login, protocol, outcome
 *   http_delay           the delay asked of an address near its limit
 *   http_dovecot         answer ?command=allow or ?command=report
 *
 * What Dovecot sends and reads (dovecot/core 2.3.19.1, src/auth/auth-policy.c):
 * the body is built from auth_policy_request_attributes (default: login,
 * pwhash, remote, device_id, protocol, session_id) plus "tls"
 * (auth_policy_create_json, lines 487-550); report adds "success" and
 * "policy_reject" (lines 531-541), and 2.3.19 sends no "tried_password":
 * absent counts as true.  The answer is read for "status" (an integer) and
 * "msg" (lines 292-378): status < 0 refuses, with msg as the reason; 0
 * accepts; N > 0 makes the auth process wait N seconds before going on
 * (auth-request.c lines 1005-1028).  A non-2xx answer
 * means auth_policy_reject_on_fail decides (line 388).
 *
 * allow decides exactly as the milter at connect (policy_connect): a ban,
 * or the window earning one now, refuses.  allow records nothing: Dovecot
 * asks it twice per login.  report with success false records one failed
 * login (as watch-log would), unless the policy itself refused it
 * (policy_reject true: already counted when it was earned).  The pwhash is
 * never read.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "log.h"

#define REFUSE_MSG "too many failed authentication attempts"

/* get_str - OBJ's KEY as a string into OUT ("" when absent); -1 when KEY
 * is there but not a string */
static int get_str(json_t *obj, const char *key, char *out, size_t outlen)
{
    json_t *v = json_object_get(obj, key);

    *out = 0;
    if (v == 0 || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return -1;
    snprintf(out, outlen, "%s", json_string_value(v));
    return 0;
}

/* get_bool - OBJ's KEY as 0/1, DEF when absent; -1 when not a boolean */
static int get_bool(json_t *obj, const char *key, int def)
{
    json_t *v = json_object_get(obj, key);

    if (v == 0)
        return def;
    return json_is_boolean(v) ? json_is_true(v) : -1;
}

int     http_dovecot_parse(const char *body, size_t len, struct http_dovecot_req *req,
                           char *why, size_t whylen)
{
    json_error_t err;
    json_t *obj = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
    int     rc = -1;

    memset(req, 0, sizeof(*req));
    if (obj == 0) {
        snprintf(why, whylen, "malformed JSON: %.80s (line %d)", err.text, err.line);
        return -1;
    }
    if (!json_is_object(obj))
        snprintf(why, whylen, "the body is not a JSON object");
    else if (get_str(obj, "remote", req->remote, sizeof(req->remote)) < 0
             || get_str(obj, "login", req->login, sizeof(req->login)) < 0
             || get_str(obj, "protocol", req->protocol, sizeof(req->protocol)) < 0)
        snprintf(why, whylen, "remote, login and protocol must be strings");
    else if ((req->success = get_bool(obj, "success", 0)) < 0
             || (req->policy_reject = get_bool(obj, "policy_reject", 0)) < 0
             || (req->tried_password = get_bool(obj, "tried_password", 1)) < 0)
        snprintf(why, whylen, "success, policy_reject and tried_password must be booleans");
    else
        rc = 0;
    json_decref(obj);
    return rc;
}

long    http_delay(long failures, long from, long max)
{
    long    d = 1;

    if (from <= 0 || failures < from)
        return 0;
    for (long i = from; i < failures && d < max; i++)
        d *= 2;
    return d > max ? max : d;
}

static void answer(struct http_answer *a, int code, const char *body)
{
    a->code = code;
    snprintf(a->body, sizeof(a->body), "%s", body);
}

/* allow - the decision at connect, in Dovecot's terms */
static void allow(struct http_ctx *h, const struct http_dovecot_req *req, struct http_answer *a)
{
    struct policy_decision d;
    long    delay;

    policy_connect(h->policy, req->remote, &d);
    if (d.db_error)
        http_metrics_db_error(h->metrics);
    if (d.action != POLICY_CONTINUE && strcmp(d.rcode, "421") == 0) {
        http_metrics_decision(h->metrics, HTTP_DEC_REFUSE);
        answer(a, 200, "{\"status\":-1,\"msg\":\"" REFUSE_MSG "\"}");
    } else if (d.action != POLICY_CONTINUE) {           /* authfail_db_error_action = tempfail */
        http_metrics_decision(h->metrics, HTTP_DEC_TEMPFAIL);
        answer(a, 200, "{\"status\":-1,\"msg\":\"temporary policy failure, try again later\"}");
    } else if ((delay = http_delay(d.failures, h->delay_from, h->delay_max)) > 0) {
        http_metrics_decision(h->metrics, HTTP_DEC_DELAY);
        a->code = 200;
        snprintf(a->body, sizeof(a->body), "{\"status\":%ld}", delay);
    } else {
        http_metrics_decision(h->metrics, HTTP_DEC_ACCEPT);
        answer(a, 200, "{\"status\":0}");
    }
}

/* report - count a failed login; anything else is only acknowledged */
static void report(struct http_ctx *h, const struct http_dovecot_req *req, struct http_answer *a)
{
    int     rc;

    answer(a, 200, "{\"status\":0}");
    if (req->success || req->policy_reject || !req->tried_password || !*req->remote)
        return;
    rc = policy_record_authfail(h->policy, req->remote, req->login,
                                *req->protocol ? req->protocol : "dovecot");
    if (rc == 0) {
        http_metrics_failure(h->metrics, HTTP_SRC_DOVECOT);
        mx_info("serve: failed %.16s login from %.64s (%.100s)",
                *req->protocol ? req->protocol : "dovecot", req->remote, req->login);
    } else if (rc == -1) {
        http_metrics_db_error(h->metrics);
        answer(a, 503, "{\"error\":\"policy database unavailable\"}");
        snprintf(a->why, sizeof(a->why), "failed login from %.64s not recorded: database down",
                 req->remote);
    }
}

void    http_dovecot(struct http_ctx *h, enum http_dovecot_cmd cmd, const char *body, size_t len,
                     struct http_answer *a)
{
    struct http_dovecot_req req;

    if (http_dovecot_parse(body, len, &req, a->why, sizeof(a->why)) < 0) {
        answer(a, 400, "{\"error\":\"malformed request\"}");
        return;
    }
    if (cmd == HTTP_DOVECOT_ALLOW)
        allow(h, &req, a);
    else
        report(h, &req, a);
}
