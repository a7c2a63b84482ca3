/*
 * pdns_api.c - the PowerDNS Authoritative REST client (libcurl + jansson).
 *
 *   pdns_api_open      one curl handle for the configured server
 *   pdns_api_call      METHOD PATH [JSON] -> parsed reply or sysexits code
 *   pdns_api_requests  requests sent so far (benchmarks, tests)
 *   pdns_api_close
 *
 * The API key goes in an X-API-Key header through CURLOPT_HTTPHEADER; it
 * is never printed, logged or put in a reason.  With MXDOCK_DEBUG_HTTP set,
 * each request's method, path and status go to stderr (never headers).
 *
 * Error mapping (PowerDNS sends 422 as JSON {"error": ...}; 401/404/409 and
 * some 400 as text/plain): unreachable EX_UNAVAILABLE, timeout EX_TEMPFAIL,
 * 401/403 EX_NOPERM, 404 EX_NOINPUT, 409 EX_CANTCREAT, 400/422 EX_DATAERR,
 * anything else EX_PROTOCOL.  A 2xx answer whose body is not JSON, or a
 * GET or POST answered with no body, is EX_PROTOCOL too (a proxy's page
 * is not a success).  Ownership: the caller json_decref()s *REPLY.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "pdns.h"

struct pdns_api {
    CURL   *curl;
    struct curl_slist *hdrs;
    char   *base;               /* URL up to and including /servers/ID */
    int     debug;
    int     requests;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    sb_append(arg, data, size * nmemb);
    return size * nmemb;
}

struct pdns_api *pdns_api_open(const struct mx_conf *conf, char *why, size_t whylen)
{
    struct pdns_api *api = calloc(1, sizeof *api);
    struct strbuf h = STRBUF_INIT;
    size_t  ul = strlen(conf->pdns_api_url);

    if (api == NULL || (api->curl = curl_easy_init()) == NULL) {
        snprintf(why, whylen, "cannot initialise libcurl");
        free(api);
        return NULL;
    }
    if (!*conf->pdns_api_key) {
        snprintf(why, whylen, "no PowerDNS API key: set pdns_api_key_file");
        pdns_api_close(api);
        return NULL;
    }
    while (ul > 0 && conf->pdns_api_url[ul - 1] == '/')
        ul--;
    if (asprintf(&api->base, "%.*s/servers/%s", (int) ul, conf->pdns_api_url,
                 conf->pdns_server_id) < 0)
        mx_panic("out of memory");
    sb_printf(&h, "X-API-Key: %s", conf->pdns_api_key);
    api->hdrs = curl_slist_append(NULL, sb_str(&h));
    memset(h.s, 0, h.len);          /* the key does not linger in freed memory */
    sb_free(&h);
    api->hdrs = curl_slist_append(api->hdrs, "Content-Type: application/json");
    api->hdrs = curl_slist_append(api->hdrs, "Accept: application/json");
    curl_easy_setopt(api->curl, CURLOPT_HTTPHEADER, api->hdrs);
    curl_easy_setopt(api->curl, CURLOPT_TIMEOUT, conf->pdns_timeout);
    curl_easy_setopt(api->curl, CURLOPT_CONNECTTIMEOUT, conf->pdns_timeout);
    curl_easy_setopt(api->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(api->curl, CURLOPT_WRITEFUNCTION, on_body);
    api->debug = getenv("MXDOCK_DEBUG_HTTP") != NULL;
    return api;
}

void    pdns_api_close(struct pdns_api *api)
{
    if (api == NULL)
        return;
    if (api->curl)
        curl_easy_cleanup(api->curl);
    curl_slist_free_all(api->hdrs);
    free(api->base);
    free(api);
}

int     pdns_api_requests(const struct pdns_api *api)
{
    return api->requests;
}

/* curl_fail - a transport failure as code + reason. */
static int curl_fail(CURLcode rc, const char *url, char *why, size_t whylen)
{
    if (rc == CURLE_OPERATION_TIMEDOUT) {
        snprintf(why, whylen, "PowerDNS API at %.200s did not answer in time", url);
        return EX_TEMPFAIL;
    }
    snprintf(why, whylen, "PowerDNS API at %.200s is unreachable: %s", url,
             curl_easy_strerror(rc));
    return EX_UNAVAILABLE;
}

/* http_fail - an HTTP error status as code + reason, with PowerDNS's own
 * text (JSON "error" or the plain body), bounded. */
static int http_fail(long status, const char *method, const char *path, json_t *reply,
                     const char *body, char *why, size_t whylen)
{
    const char *msg = json_string_value(json_object_get(reply, "error"));
    char    text[160];
    int     code;

    snprintf(text, sizeof text, "%s", msg ? msg : body);
    for (char *p = text; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    code = status == 401 || status == 403 ? EX_NOPERM
        : status == 404 ? EX_NOINPUT
        : status == 409 ? EX_CANTCREAT
        : status == 400 || status == 422 ? EX_DATAERR : EX_PROTOCOL;
    if (status == 401 || status == 403)
        snprintf(text, sizeof text, "wrong or missing API key");
    snprintf(why, whylen, "PowerDNS refused %s %.150s: HTTP %ld: %s", method, path,
             status, text);
    return code;
}

/* bad_body - a 2xx answer that is not what PowerDNS sends: a body that is
 * not JSON (a proxy's or captive portal's HTML page), or no body where
 * PowerDNS always sends one (GET, POST).  Never taken as success. */
static int bad_body(long status, const char *method, const char *path, const struct strbuf *resp,
                    char *why, size_t whylen)
{
    snprintf(why, whylen, "PowerDNS API answered %s %.150s with HTTP %ld and %s: not the "
             "PowerDNS API (a proxy?); nothing was taken as done", method, path, status,
             resp->len ? "a body that is not JSON" : "no body");
    return EX_PROTOCOL;
}

int     pdns_api_call(struct pdns_api *api, const char *method, const char *path,
                      json_t *body, json_t **reply, struct strbuf *text,
                      char *why, size_t whylen)
{
    struct strbuf url = STRBUF_INIT, resp = STRBUF_INIT;
    char   *data = body ? json_dumps(body, JSON_COMPACT) : NULL;
    long    status = 0;
    CURLcode rc;
    int     ret = 0;

    *reply = NULL;
    sb_printf(&url, "%s%s", api->base, path);
    curl_easy_setopt(api->curl, CURLOPT_URL, sb_str(&url));
    curl_easy_setopt(api->curl, CURLOPT_CUSTOMREQUEST, method);
    if (!strcmp(method, "GET"))
        curl_easy_setopt(api->curl, CURLOPT_HTTPGET, 1L);
    else
        curl_easy_setopt(api->curl, CURLOPT_POSTFIELDS, data ? data : "");
    curl_easy_setopt(api->curl, CURLOPT_WRITEDATA, &resp);
    /* libcurl sends a request again, unasked, when a kept-alive connection
     * dies before the answer; a POST PowerDNS did carry out would then be
     * done twice (two DNSSEC keys: tests/integration/fault_pdns.sh).  So a
     * POST goes on a connection of its own. */
    curl_easy_setopt(api->curl, CURLOPT_FRESH_CONNECT, (long) !strcmp(method, "POST"));
    api->requests++;
    rc = curl_easy_perform(api->curl);
    curl_easy_getinfo(api->curl, CURLINFO_RESPONSE_CODE, &status);
    if (api->debug)
        fprintf(stderr, "mxdock-dns: http %s %s -> %ld\n", method, path, status);
    if (rc != CURLE_OK) {
        ret = curl_fail(rc, sb_str(&url), why, whylen);
    } else {
        if (resp.len > 0)
            *reply = json_loads(sb_str(&resp), JSON_DECODE_ANY, NULL);
        if (status < 200 || status > 299) {
            ret = http_fail(status, method, path, *reply, sb_str(&resp), why, whylen);
            json_decref(*reply);
            *reply = NULL;
        } else if (!text && (resp.len > 0 ? *reply == NULL
                             : !strcmp(method, "GET") || !strcmp(method, "POST"))) {
            ret = bad_body(status, method, path, &resp, why, whylen);
        }
    }
    if (text && ret == 0)
        sb_puts(text, sb_str(&resp));
    free(data);
    sb_free(&url);
    sb_free(&resp);
    return ret;
}
