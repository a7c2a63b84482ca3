/*
 * dkim_store.c - the key store on disk: directories, locking, loading.
 *
 *   dkim_store_load     every selector of a domain, keys checked
 *   dkim_store_domains  the domains in the store
 *   dkim_key_path       DIR/DOMAIN/SELECTOR.pem
 *   dkim_store_key_pem  one selector's private key text, checked
 *   dkim_domain_free    free what dkim_store_load returned
 *   dkim_store_begin    open a domain for change: check, lock, load, and
 *                       remove temporary files a killed writer left
 *   dkim_store_commit   write its state file (atomic)
 *   dkim_store_end      unlock and free
 *   dkim_store_write_key a new key file (atomic, 0600)
 *   dkim_store_own      give a file to milter_user when running as root
 *
 * A domain directory that is a symbolic link, that resolves outside the
 * store, a key file that others may read, a key that does not parse or does
 * not match its state line, a state file that does not parse: each makes
 * the whole domain fail with a reason in WHY, and nothing is written.
 * Writers hold flock(2) on the domain directory; readers need no lock,
 * because every file is replaced whole by rename.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dkim_impl.h"
#include "domain.h"
#include "fileio.h"

#define NOT_THERE 1

/* check_name - DOMAIN must be given normalised: no way out of the store */
static int check_name(const char *domain, char *why, size_t whylen)
{
    char    norm[256], reason[200];

    if (mx_domain_normalize(domain, norm, sizeof(norm), reason, sizeof(reason)) < 0) {
        snprintf(why, whylen, "bad domain \"%.100s\": %s", domain, reason);
        return -1;
    }
    if (strcmp(norm, domain) != 0) {
        snprintf(why, whylen, "domain \"%.100s\" is not normalised (%s)", domain, norm);
        return -1;
    }
    return 0;
}

void    dkim_store_own(const struct mx_conf *conf, const char *path)
{
    struct passwd *pw;

    if (conf->milter_user == 0 || *conf->milter_user == 0 || geteuid() != 0)
        return;
    if ((pw = getpwnam(conf->milter_user)) != 0)
        (void) lchown(path, pw->pw_uid, pw->pw_gid);
}

/* domain_dir - DIR/DOMAIN checked; created (0700) when CREATE.  Returns 0,
 * NOT_THERE when absent and not CREATE, -1 with WHY. */
static int domain_dir(const struct mx_conf *conf, const char *domain, int create,
                      char *dir, size_t dirlen, char *why, size_t whylen)
{
    char    top[PATH_MAX], real[PATH_MAX];
    struct stat st;
    int     made_top;

    if (check_name(domain, why, whylen) < 0)
        return -1;
    if (snprintf(dir, dirlen, "%s/%s", conf->dkim_keydir, domain) >= (int) dirlen)
        return snprintf(why, whylen, "key store path too long"), -1;
    made_top = create && lstat(conf->dkim_keydir, &st) < 0 && errno == ENOENT;
    if (create && mx_mkdir_p(conf->dkim_keydir, 0700) < 0)
        return snprintf(why, whylen, "cannot create %.200s: %s", conf->dkim_keydir,
                        strerror(errno)), -1;
    if (made_top)
        dkim_store_own(conf, conf->dkim_keydir);
    if (lstat(dir, &st) < 0) {
        if (errno != ENOENT)
            return snprintf(why, whylen, "%.200s: %s", dir, strerror(errno)), -1;
        if (!create)
            return NOT_THERE;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
            return snprintf(why, whylen, "cannot create %.200s: %s", dir, strerror(errno)), -1;
        dkim_store_own(conf, dir);
        if (lstat(dir, &st) < 0)
            return snprintf(why, whylen, "%.200s: %s", dir, strerror(errno)), -1;
    }
    if (S_ISLNK(st.st_mode))
        return snprintf(why, whylen, "%.200s is a symbolic link; refusing it", dir), -1;
    if (!S_ISDIR(st.st_mode))
        return snprintf(why, whylen, "%.200s is not a directory", dir), -1;
    if (realpath(conf->dkim_keydir, top) == 0 || realpath(dir, real) == 0
        || strncmp(real, top, strlen(top)) != 0 || real[strlen(top)] != '/')
        return snprintf(why, whylen, "%.200s resolves outside the key store", dir), -1;
    return 0;
}

/* load_key - the key file of SEL, checked against its state line; fills
 * the public key */
static int load_key(const char *dir, struct dkim_selector *sel, char *why, size_t whylen)
{
    char    path[DKIM_PATH_MAX], reason[300];
    struct strbuf pem = STRBUF_INIT;
    EVP_PKEY *pk = 0;
    enum dkim_alg alg;
    int     bits, rc = -1;

    snprintf(path, sizeof(path), "%s/%s.pem", dir, sel->name);
    if (dkim_key_read_file(path, 1, &pem, why, whylen) < 0)
        goto out;
    if (dkim_key_from_pem(sb_str(&pem), pem.len, &pk, &alg, &bits, reason, sizeof(reason)) < 0) {
        snprintf(why, whylen, "%.200s: %s", path, reason);
        goto out;
    }
    if (alg != sel->alg || bits != sel->bits) {
        snprintf(why, whylen, "%.200s is a %d-bit %s key; the state file says %d-bit %s", path,
                 bits, dkim_alg_name(alg), sel->bits, dkim_alg_name(sel->alg));
        goto out;
    }
    if (dkim_key_pub_b64(pk, alg, sel->pubkey_b64, sizeof(sel->pubkey_b64)) < 0) {
        snprintf(why, whylen, "%.200s: cannot encode its public key", path);
        goto out;
    }
    rc = 0;
out:
    EVP_PKEY_free(pk);
    dkim_sb_wipe(&pem);
    return rc;
}

/* load_dir - state file and keys of the checked directory DIR */
static int load_dir(const char *dir, struct dkim_domain *dom, char *why, size_t whylen)
{
    char    path[DKIM_PATH_MAX], reason[300];
    char   *text;
    struct stat st;

    snprintf(path, sizeof(path), "%s/" DKIM_STATE_FILE, dir);
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0
            : (snprintf(why, whylen, "%.200s: %s", path, strerror(errno)), -1);
    if (!S_ISREG(st.st_mode))
        return snprintf(why, whylen, "%.200s is not a regular file", path), -1;
    if ((text = mx_read_file(path, 0)) == 0)
        return snprintf(why, whylen, "cannot read %.200s: %s", path, strerror(errno)), -1;
    if (dkim_state_parse(text, dom, reason, sizeof(reason)) < 0) {
        free(text);
        return snprintf(why, whylen, "%.200s: %s", path, reason), -1;
    }
    free(text);
    for (size_t i = 0; i < dom->n; i++)
        if (load_key(dir, &dom->sel[i], why, whylen) < 0)
            return -1;
    return 0;
}

static struct dkim_domain *domain_new(const char *domain)
{
    struct dkim_domain *dom = calloc(1, sizeof(*dom));

    if (dom)
        snprintf(dom->domain, sizeof(dom->domain), "%s", domain);
    return dom;
}

void    dkim_domain_free(struct dkim_domain *dom)
{
    if (dom) {
        free(dom->sel);
        free(dom);
    }
}

int     dkim_store_load(const struct mx_conf *conf, const char *domain,
                        struct dkim_domain **out, char *why, size_t whylen)
{
    char    dir[PATH_MAX];
    int     rc;
    struct dkim_domain *dom;

    *out = 0;
    if ((rc = domain_dir(conf, domain, 0, dir, sizeof(dir), why, whylen)) < 0)
        return -1;
    if ((dom = domain_new(domain)) == 0)
        return snprintf(why, whylen, "out of memory"), -1;
    if (rc == 0 && load_dir(dir, dom, why, whylen) < 0) {
        dkim_domain_free(dom);
        return -1;
    }
    *out = dom;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* dir_or_link - a directory entry that may be a domain (links are listed
 * so that loading them says why they are refused) */
static int dir_or_link(const char *top, const struct dirent *e)
{
    char    path[DKIM_PATH_MAX];
    struct stat st;

    if (e->d_type != DT_UNKNOWN)
        return e->d_type == DT_DIR || e->d_type == DT_LNK;
    snprintf(path, sizeof(path), "%s/%s", top, e->d_name);
    return lstat(path, &st) == 0 && (S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode));
}

int     dkim_store_domains(const struct mx_conf *conf, char ***names, size_t *n,
                           char *why, size_t whylen)
{
    DIR    *d = opendir(conf->dkim_keydir);
    struct dirent *e;
    char    norm[256], reason[200], **v = 0, **nv;
    size_t  count = 0;

    *names = 0;
    *n = 0;
    if (d == 0 && errno == ENOENT)
        return 0;
    if (d == 0)
        return snprintf(why, whylen, "cannot read %.200s: %s", conf->dkim_keydir,
                        strerror(errno)), -1;
    while ((e = readdir(d)) != 0) {
        if (e->d_name[0] == '.' || !dir_or_link(conf->dkim_keydir, e)
            || mx_domain_normalize(e->d_name, norm, sizeof(norm), reason, sizeof(reason)) < 0
            || strcmp(norm, e->d_name) != 0)
            continue;
        if ((nv = realloc(v, (count + 1) * sizeof(*v))) == 0
            || (nv[count] = strdup(e->d_name)) == 0) {
            v = nv ? nv : v;
            while (count > 0)
                free(v[--count]);
            free(v);
            closedir(d);
            return snprintf(why, whylen, "out of memory"), -1;
        }
        v = nv;
        count++;
    }
    closedir(d);
    if (count > 1)
        qsort(v, count, sizeof(*v), cmp_names);
    *names = v;
    *n = count;
    return 0;
}

int     dkim_key_path(const struct mx_conf *conf, const char *domain, const char *selector,
                      char *buf, size_t buflen)
{
    if (snprintf(buf, buflen, "%s/%s/%s.pem", conf->dkim_keydir, domain, selector)
        >= (int) buflen)
        return -1;
    return 0;
}

int     dkim_store_key_pem(const struct mx_conf *conf, const char *domain, const char *selector,
                           struct strbuf *pem, char *why, size_t whylen)
{
    char    dir[PATH_MAX], path[DKIM_PATH_MAX], reason[300];
    EVP_PKEY *pk = 0;
    enum dkim_alg alg;
    int     bits, rc;

    if ((rc = domain_dir(conf, domain, 0, dir, sizeof(dir), why, whylen)) != 0)
        return rc < 0 ? -1 : (snprintf(why, whylen, "no keys for %.100s", domain), -1);
    if (!dkim_selector_valid(selector))
        return snprintf(why, whylen, "bad selector \"%.70s\"", selector), -1;
    snprintf(path, sizeof(path), "%s/%s.pem", dir, selector);
    if (dkim_key_read_file(path, 1, pem, why, whylen) < 0)
        return -1;
    if (dkim_key_from_pem(sb_str(pem), pem->len, &pk, &alg, &bits, reason, sizeof(reason)) < 0) {
        snprintf(why, whylen, "%.200s: %s", path, reason);
        dkim_sb_wipe(pem);
        return -1;
    }
    EVP_PKEY_free(pk);
    return 0;
}

void    dkim_key_pem_free(struct strbuf *pem)
{
    dkim_sb_wipe(pem);
}

/* clean_temps - remove "NAME.tmp.XXXXXX" files (mx_write_atomic) a killed
 * writer left behind;
 * with the lock held no other writer can own one */
static void clean_temps(const char *dir)
{
    DIR    *d = opendir(dir);
    struct dirent *e;
    char    path[DKIM_PATH_MAX];
    const char *t;

    while (d && (e = readdir(d)) != 0)
        if ((t = strstr(e->d_name, ".tmp.")) != 0 && strlen(t + 5) == 6) {
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            (void) unlink(path);
        }
    if (d)
        closedir(d);
}

int     dkim_store_begin(const struct mx_conf *conf, const char *domain, int create,
                         struct dkim_handle *h, char *why, size_t whylen)
{
    int     rc;

    memset(h, 0, sizeof(*h));
    h->conf = conf;
    h->lockfd = -1;
    if ((rc = domain_dir(conf, domain, create, h->dir, sizeof(h->dir), why, whylen)) < 0)
        return -1;
    if ((h->dom = domain_new(domain)) == 0)
        return snprintf(why, whylen, "out of memory"), -1;
    if (rc == NOT_THERE)
        return 0;
    if ((h->lockfd = open(h->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0
        || flock(h->lockfd, LOCK_EX) < 0) {
        snprintf(why, whylen, "cannot lock %.200s: %s", h->dir, strerror(errno));
        dkim_store_end(h);
        return -1;
    }
    if (load_dir(h->dir, h->dom, why, whylen) < 0) {
        dkim_store_end(h);
        return -1;
    }
    clean_temps(h->dir);
    return 0;
}

int     dkim_store_commit(struct dkim_handle *h, char *why, size_t whylen)
{
    char    path[DKIM_PATH_MAX];
    struct strbuf text = STRBUF_INIT;
    int     rc;

    if (h->lockfd < 0)
        return snprintf(why, whylen, "%.200s was not opened for change", h->dir), -1;
    snprintf(path, sizeof(path), "%s/" DKIM_STATE_FILE, h->dir);
    dkim_state_format(h->dom, &text);
    rc = sb_failed(&text) ? (errno = ENOMEM, -1)
        : mx_write_atomic(path, sb_str(&text), text.len, 0600);
    sb_free(&text);
    if (rc < 0)
        return snprintf(why, whylen, "cannot write %.200s: %s", path, strerror(errno)), -1;
    dkim_store_own(h->conf, path);
    return 0;
}

void    dkim_store_end(struct dkim_handle *h)
{
    if (h->lockfd >= 0)
        close(h->lockfd);
    h->lockfd = -1;
    dkim_domain_free(h->dom);
    h->dom = 0;
}

int     dkim_store_write_key(struct dkim_handle *h, const char *selector, EVP_PKEY *pk,
                             char *why, size_t whylen)
{
    char    path[DKIM_PATH_MAX];
    struct strbuf pem = STRBUF_INIT;
    int     rc;

    snprintf(path, sizeof(path), "%s/%s.pem", h->dir, selector);
    rc = dkim_key_to_pem(pk, &pem) < 0 ? (errno = EINVAL, -1)
        : mx_write_atomic(path, sb_str(&pem), pem.len, 0600);
    dkim_sb_wipe(&pem);
    if (rc < 0)
        return snprintf(why, whylen, "cannot write %.200s: %s", path, strerror(errno)), -1;
    dkim_store_own(h->conf, path);
    return 0;
}
