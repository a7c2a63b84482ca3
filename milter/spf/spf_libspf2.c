/*
 * spf_libspf2.c - plain libspf2, as the baseline mxdock's evaluation is
 * measured against (tests/spf, the benchmark) and nothing else.
 *
 *   mxspf_lib_new   one SPF_server_t with libspf2's resolver (and cache)
 *   mxspf_lib_free  release it
 *   mxspf_lib_eval  one check: libspf2's result, errors mapped
 *
 * libspf2 keeps per-thread resolver state and locks its DNS cache, but its
 * request and response objects are not documented as safe on a shared
 * server, so the checks are serialised here: this path is for comparisons.
 * libspf2's resolver is the system's (/etc/resolv.conf): dns_resolver is
 * not honoured on this path.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <spf2/spf.h>

#include "spf_int.h"

struct lib {
    SPF_server_t *server;
    pthread_mutex_t lock;
};

void   *mxspf_lib_new(int cache)
{
    struct lib *l = calloc(1, sizeof *l);

    if (l == NULL)
        return NULL;
    if ((l->server = SPF_server_new(cache ? SPF_DNS_CACHE : SPF_DNS_RESOLV, 0)) == NULL) {
        free(l);
        return NULL;
    }
    pthread_mutex_init(&l->lock, NULL);
    return l;
}

void    mxspf_lib_free(void *p)
{
    struct lib *l = p;

    SPF_server_free(l->server);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

/* map - libspf2's result into ours; "invalid" means an error occurred */
static enum mxspf_result map(SPF_result_t r, SPF_errcode_t err)
{
    switch (r) {
    case SPF_RESULT_PASS: return MXSPF_PASS;
    case SPF_RESULT_FAIL: return MXSPF_FAIL;
    case SPF_RESULT_SOFTFAIL: return MXSPF_SOFTFAIL;
    case SPF_RESULT_NEUTRAL: return MXSPF_NEUTRAL;
    case SPF_RESULT_NONE: return MXSPF_NONE;
    case SPF_RESULT_TEMPERROR: return MXSPF_TEMPERROR;
    case SPF_RESULT_PERMERROR: return MXSPF_PERMERROR;
    default:
        return err == SPF_E_DNS_ERROR ? MXSPF_TEMPERROR : MXSPF_PERMERROR;
    }
}

void    mxspf_lib_eval(void *p, const struct spf_req *req, struct spf_verdict *v)
{
    struct lib *l = p;
    SPF_request_t *rq;
    SPF_response_t *rs = NULL;
    SPF_errcode_t err;
    const char *exp;

    pthread_mutex_lock(&l->lock);
    rq = SPF_request_new(l->server);
    if (req->family == AF_INET)
        SPF_request_set_ipv4(rq, *(const struct in_addr *) req->addr);
    else
        SPF_request_set_ipv6(rq, *(const struct in6_addr *) req->addr);
    SPF_request_set_helo_dom(rq, req->helo);
    if (!req->is_helo)
        SPF_request_set_env_from(rq, req->sender);
    err = SPF_request_query_mailfrom(rq, &rs);
    v->result = map(rs ? SPF_response_result(rs) : SPF_RESULT_INVALID, err);
    if (err != SPF_E_SUCCESS)
        mxspf_strlcpy(v->reason, SPF_strerror(err), sizeof v->reason);
    if (rs && v->result == MXSPF_FAIL && (exp = SPF_response_get_explanation(rs)) != NULL)
        mxspf_strlcpy(v->exp, exp, sizeof v->exp);
    if (rs)
        SPF_response_free(rs);
    SPF_request_free(rq);
    pthread_mutex_unlock(&l->lock);
}
