/*
 * gen.c - configuration generations, swapped under one lock.
 *
 *   milter_gen_build     configuration + everything built from it
 *   milter_gen_install   the first current generation
 *   milter_gen_reload    build, then swap (a bad configuration is refused)
 *   milter_gen_acquire   a reference to the current generation
 *   milter_gen_release   drop a reference; the last one frees
 *   milter_gen_shutdown  drop the current generation
 *
 * The lock guards the current pointer and every reference count, so a
 * connection acquiring while SIGUSR1 swaps sees either the old generation
 * (kept alive by its reference) or the new one, never a freed one.
 *
 * Diagnostics: build errors come back in WHY; SPF or DMARC unavailable is
 * a warning, so is a milter_sign_daemons name that is Stalwart's (mail is then neither checked nor tagged with spf=/dmarc=).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "gen.h"
#include "log.h"
#include "metrics.h"

#define GEN_DMARC_POOL 4          /* report connections shared by all threads */

static pthread_mutex_t gen_lock = PTHREAD_MUTEX_INITIALIZER;
static struct milter_gen *gen_current;
static unsigned long gen_serial;

static void gen_daemons_warn(const struct mx_conf *c);

static void gen_free(struct milter_gen *g)
{
    if (g == 0)
        return;
    if (g->policy)
        policy_close(g->policy);
    if (g->dmarc_db)
        pdb_close(g->dmarc_db);
    if (g->dmarc)
        mxdmarc_free(g->dmarc);
    if (g->spf)
        mxspf_free(g->spf);
    dkim_keyring_free(g->keys);
    dkim_msg_lib_free(g->dlib);
    cidr_list_free(g->spf_skip);
    cidr_list_free(g->internal);
    if (g->conf)
        conf_free(g->conf);
    free(g);
}

/* gen_dmarc - the DMARC checker and, for aggregate reports, a small pool
 * that connects lazily (a database that is down costs no waiting: pdb) */
static void gen_dmarc(struct milter_gen *g)
{
    const struct mx_conf *c = g->conf;
    char    why[256] = "";

    if (!c->dmarc_check)
        return;
    if ((g->dmarc = mxdmarc_new(c, why, sizeof(why))) == 0) {
        mx_warn("DMARC checks disabled: %s", why[0] ? why : "checker unavailable");
        return;
    }
    if (c->dmarc_report_enable && (g->dmarc_db = pdb_open(c, GEN_DMARC_POOL, 0)) == 0)
        mx_warn("DMARC reports not recorded: cannot set up the database pool");
}

/* gen_parts - the parts that can fail on a loaded configuration */
static int gen_parts(struct milter_gen *g, char *why, size_t whylen)
{
    const struct mx_conf *c = g->conf;
    char    spfwhy[256] = "";

    if ((g->internal = cidr_list_parse(c->milter_internal_hosts)) == 0
        || (g->spf_skip = cidr_list_parse(c->spf_skip_addresses)) == 0) {
        snprintf(why, whylen, "%s: bad address list", c->path);
        return -1;
    }
    if ((g->dlib = dkim_msg_lib_new(c, 0, why, whylen)) == 0)
        return -1;
    if (dkim_store_check(c, why, whylen) == -1)     /* bad seal key file, refused login */
        return -1;
    if ((g->keys = dkim_keyring_new(c)) == 0) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    if ((g->spf = mxspf_new(c, spfwhy, sizeof(spfwhy))) == 0)
        mx_warn("SPF checks disabled: %s", spfwhy[0] ? spfwhy : "checker unavailable");
    g->policy = policy_open(c);
    gen_dmarc(g);
    gen_daemons_warn(c);
    return 0;
}

/* gen_daemons_warn - a milter_sign_daemons name that cannot tell one
 * listener from another: Stalwart sends "Stalwart v<version>" on every
 * listener, port 25 too (rawbody.c), so it is ignored behind Stalwart */
static void gen_daemons_warn(const struct mx_conf *c)
{
    const char *cur = c->milter_sign_daemons;
    char    item[128];

    while (cur && conf_list_next(&cur, item, sizeof(item)))
        if (strncasecmp(item, "Stalwart", 8) == 0)
            mx_warn("milter_sign_daemons: \"%.100s\" is Stalwart's {daemon_name}, the same on "
                    "every listener: ignored; behind Stalwart only {auth_authen} or "
                    "milter_internal_hosts mean signing", item);
}

struct milter_gen *milter_gen_build(const char *path, char *why, size_t whylen)
{
    struct milter_gen *g = calloc(1, sizeof(*g));

    if (g == 0) {
        snprintf(why, whylen, "out of memory");
        return 0;
    }
    g->refs = 1;
    if ((g->conf = conf_load(path, why, whylen)) == 0 || gen_parts(g, why, whylen) != 0) {
        gen_free(g);
        return 0;
    }
    if (g->conf->milter_authserv_id && *g->conf->milter_authserv_id)
        snprintf(g->authserv_id, sizeof(g->authserv_id), "%s", g->conf->milter_authserv_id);
    else if (gethostname(g->authserv_id, sizeof(g->authserv_id) - 1) != 0)
        snprintf(g->authserv_id, sizeof(g->authserv_id), "localhost");
    return g;
}

void    milter_gen_install(struct milter_gen *g)
{
    struct milter_gen *old;

    pthread_mutex_lock(&gen_lock);
    g->serial = ++gen_serial;
    old = gen_current;
    gen_current = g;
    if (old && --old->refs == 0) {
        pthread_mutex_unlock(&gen_lock);
        gen_free(old);
        return;
    }
    pthread_mutex_unlock(&gen_lock);
}

int     milter_gen_reload(const char *path, char *why, size_t whylen)
{
    struct milter_gen *g = milter_gen_build(path, why, whylen);

    milter_metrics_reload(g != 0);
    if (g == 0)
        return -1;
    milter_gen_install(g);
    mx_info("configuration %lu loaded from %s: %zu signing domains", g->serial,
            g->conf->path, dkim_keyring_count(g->keys));
    return 0;
}

struct milter_gen *milter_gen_acquire(void)
{
    struct milter_gen *g;

    pthread_mutex_lock(&gen_lock);
    if ((g = gen_current) != 0)
        g->refs++;
    pthread_mutex_unlock(&gen_lock);
    return g;
}

void    milter_gen_release(struct milter_gen *g)
{
    int     last;

    if (g == 0)
        return;
    pthread_mutex_lock(&gen_lock);
    last = --g->refs == 0;
    pthread_mutex_unlock(&gen_lock);
    if (last)
        gen_free(g);
}

void    milter_gen_shutdown(void)
{
    struct milter_gen *g;

    pthread_mutex_lock(&gen_lock);
    g = gen_current;
    gen_current = 0;
    pthread_mutex_unlock(&gen_lock);
    milter_gen_release(g);
}
