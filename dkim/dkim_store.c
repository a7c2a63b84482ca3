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
 *   dkim_store_owner    milter_user's ids, when files should be given to it
 *
 * A domain directory that is a symbolic link, that resolves outside the
 * store, a key file that others may read, a key that does not parse or does
 * not match its state line, a state file that does not parse: each makes
 * the whole domain fail with a reason in WHY, and nothing is written.
 * Writers hold flock(2) on the domain directory; readers need no lock,
 * because every file is replaced whole by rename.  The domain directory is
 * opened O_NOFOLLOW relative to dkim_keydir, and every file in it is
 * reached through that descriptor (dkim_dirio.c), so a symbolic link
 * planted there by the (unprivileged) milter user cannot redirect a root
 * writer to a file elsewhere.
 *
 * With dkim_store = mysql each public function here hands over to
 * dkim_db.c / dkim_db_tx.c (a handle with a transaction, h->tx), so every
 * caller works on either store unchanged.
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

int     dkim_store_owner(const struct mx_conf *conf, uid_t *uid, gid_t *gid)
{
    struct passwd *pw;

    *uid = (uid_t) -1;
    *gid = (gid_t) -1;
    if (conf->milter_user == 0 || *conf->milter_user == 0 || geteuid() != 0
        || (pw = getpwnam(conf->milter_user)) == 0)
        return 0;
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    return 1;
}

void    dkim_store_own(const struct mx_conf *conf, const char *path)
{
    uid_t   uid;
    gid_t   gid;

    if (dkim_store_owner(conf, &uid, &gid) && lchown(path, uid, gid) != 0)
        mx_warn("cannot give %.200s to milter_user: %s (the milter may not read it)",
                path, strerror(errno));
}

/* open_top - dkim_keydir, made (0700) when CREATE; -1 with errno ENOENT
 * when absent, -1 with WHY otherwise */
static int open_top(const struct mx_conf *conf, int create, char *why, size_t whylen)
{
    struct stat st;
    int     made, fd;

    made = create && lstat(conf->dkim_keydir, &st) < 0 && errno == ENOENT;
    if (create && mx_mkdir_p(conf->dkim_keydir, 0700) < 0)
        return snprintf(why, whylen, "cannot create %.200s: %s", conf->dkim_keydir,
                        strerror(errno)), -1;
    if (made)
        dkim_store_own(conf, conf->dkim_keydir);
    if ((fd = open(conf->dkim_keydir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        int     err = errno;

        snprintf(why, whylen, "cannot open %.200s: %s", conf->dkim_keydir, strerror(err));
        errno = err;
    }
    return fd;
}

/* make_dir - DOMAIN under TOP, 0700; *MADE says whether it is new */
static int make_dir(int top, const char *domain, const char *dir, int *made,
                    char *why, size_t whylen)
{
    *made = mkdirat(top, domain, 0700) == 0;
    if (!*made && errno != EEXIST)
        return snprintf(why, whylen, "cannot create %.200s: %s", dir, strerror(errno)), -1;
    return 0;
}

/* own_dir - a domain directory just made goes to milter_user (through its
 * descriptor: a link swapped in meanwhile is not followed) */
static void own_dir(const struct mx_conf *conf, int fd)
{
    uid_t   uid;
    gid_t   gid;

    if (dkim_store_owner(conf, &uid, &gid) && fchown(fd, uid, gid) != 0)
        mx_warn("cannot give a domain directory to milter_user: %s", strerror(errno));
}

/* domain_dir - DIR/DOMAIN checked and opened (O_NOFOLLOW, relative to the
 * store: it cannot be a link out of it); created (0700) when CREATE.
 * Returns the descriptor, NOT_THERE_FD when absent and not CREATE, -1 with
 * WHY. */
#define NOT_THERE_FD (-2)
static int domain_dir(const struct mx_conf *conf, const char *domain, int create,
                      char *dir, size_t dirlen, char *why, size_t whylen)
{
    struct stat st;
    int     top, fd = -1, made = 0;

    if (check_name(domain, why, whylen) < 0)
        return -1;
    if (snprintf(dir, dirlen, "%s/%s", conf->dkim_keydir, domain) >= (int) dirlen)
        return snprintf(why, whylen, "key store path too long"), -1;
    if ((top = open_top(conf, create, why, whylen)) < 0)
        return errno == ENOENT && !create ? NOT_THERE_FD : -1;
    if (fstatat(top, domain, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT) {
        if (!create) {
            close(top);
            return NOT_THERE_FD;
        }
        if (make_dir(top, domain, dir, &made, why, whylen) < 0) {
            close(top);
            return -1;
        }
    }
    if ((fd = openat(top, domain, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        int     err = errno;

        if (fstatat(top, domain, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
            snprintf(why, whylen, "%.200s is a symbolic link; refusing it", dir);
        else if (err == ENOTDIR)
            snprintf(why, whylen, "%.200s is not a directory", dir);
        else
            snprintf(why, whylen, "%.200s: %s", dir, strerror(err));
    } else if (made)
        own_dir(conf, fd);
    close(top);
    return fd;
}

/* load_key - the key file of SEL, checked against its state line; fills
 * the public key */
static int load_key(int dfd, const char *dir, struct dkim_selector *sel, char *why, size_t whylen)
{
    char    name[NAME_MAX + 1], reason[300];
    struct strbuf pem = STRBUF_INIT;
    EVP_PKEY *pk = 0;
    enum dkim_alg alg;
    int     bits, rc = -1;

    snprintf(name, sizeof(name), "%s.pem", sel->name);
    if (dkim_dir_read(dfd, dir, name, 1, &pem, why, whylen) < 0)
        goto out;
    if (dkim_key_from_pem(sb_str(&pem), pem.len, &pk, &alg, &bits, reason, sizeof(reason)) < 0) {
        snprintf(why, whylen, "%.200s/%s: %s", dir, name, reason);
        goto out;
    }
    if (alg != sel->alg || bits != sel->bits) {
        snprintf(why, whylen, "%.200s/%s is a %d-bit %s key; the state file says %d-bit %s", dir,
                 name, bits, dkim_alg_name(alg), sel->bits, dkim_alg_name(sel->alg));
        goto out;
    }
    if (dkim_key_pub_b64(pk, alg, sel->pubkey_b64, sizeof(sel->pubkey_b64)) < 0) {
        snprintf(why, whylen, "%.200s/%s: cannot encode its public key", dir, name);
        goto out;
    }
    rc = 0;
out:
    EVP_PKEY_free(pk);
    dkim_sb_wipe(&pem);
    return rc;
}

/* load_dir - state file and keys of the checked directory DFD (named DIR) */
static int load_dir(int dfd, const char *dir, struct dkim_domain *dom, char *why, size_t whylen)
{
    char    reason[300];
    struct strbuf text = STRBUF_INIT;
    int     rc;

    if (dkim_dir_read(dfd, dir, DKIM_STATE_FILE, 0, &text, why, whylen) < 0) {
        sb_free(&text);
        return errno == ENOENT ? 0 : -1;
    }
    rc = dkim_state_parse(sb_str(&text), dom, reason, sizeof(reason));
    sb_free(&text);
    if (rc < 0)
        return snprintf(why, whylen, "%.200s/" DKIM_STATE_FILE ": %s", dir, reason), -1;
    for (size_t i = 0; i < dom->n; i++)
        if (load_key(dfd, dir, &dom->sel[i], why, whylen) < 0)
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
    int     fd, rc = 0;
    struct dkim_domain *dom;

    if (dkim_db_on(conf))
        return dkim_db_load(conf, domain, out, why, whylen);
    *out = 0;
    if ((fd = domain_dir(conf, domain, 0, dir, sizeof(dir), why, whylen)) == -1)
        return -1;
    if ((dom = domain_new(domain)) == 0)
        rc = (snprintf(why, whylen, "out of memory"), -1);
    else if (fd >= 0 && load_dir(fd, dir, dom, why, whylen) < 0)
        rc = -1;
    if (fd >= 0)
        close(fd);
    if (rc < 0) {
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
    DIR    *d;
    struct dirent *e;
    char    norm[256], reason[200], **v = 0, **nv;
    size_t  count = 0;

    if (dkim_db_on(conf))
        return dkim_db_domains(conf, names, n, why, whylen);
    d = opendir(conf->dkim_keydir);
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
    char    dir[PATH_MAX], name[NAME_MAX + 1], reason[300];
    EVP_PKEY *pk = 0;
    enum dkim_alg alg;
    int     bits, fd, rc;

    if (dkim_db_on(conf))
        return dkim_db_key_pem(conf, domain, selector, pem, why, whylen);
    if (!dkim_selector_valid(selector))
        return snprintf(why, whylen, "bad selector \"%.70s\"", selector), -1;
    if ((fd = domain_dir(conf, domain, 0, dir, sizeof(dir), why, whylen)) < 0)
        return fd == -1 ? -1 : (snprintf(why, whylen, "no keys for %.100s", domain), -1);
    snprintf(name, sizeof(name), "%s.pem", selector);
    rc = dkim_dir_read(fd, dir, name, 1, pem, why, whylen);
    close(fd);
    if (rc < 0)
        return -1;
    if (dkim_key_from_pem(sb_str(pem), pem->len, &pk, &alg, &bits, reason, sizeof(reason)) < 0) {
        snprintf(why, whylen, "%.200s/%s: %s", dir, name, reason);
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

int     dkim_store_begin(const struct mx_conf *conf, const char *domain, int create,
                         struct dkim_handle *h, char *why, size_t whylen)
{
    if (dkim_db_on(conf))
        return dkim_db_begin(conf, domain, create, h, why, whylen);
    memset(h, 0, sizeof(*h));
    h->conf = conf;
    h->lockfd = domain_dir(conf, domain, create, h->dir, sizeof(h->dir), why, whylen);
    if (h->lockfd == -1)
        return -1;
    if ((h->dom = domain_new(domain)) == 0) {
        dkim_store_end(h);
        return snprintf(why, whylen, "out of memory"), -1;
    }
    if (h->lockfd == NOT_THERE_FD) {
        h->lockfd = -1;
        return 0;
    }
    if (flock(h->lockfd, LOCK_EX) < 0) {
        snprintf(why, whylen, "cannot lock %.200s: %s", h->dir, strerror(errno));
        dkim_store_end(h);
        return -1;
    }
    if (load_dir(h->lockfd, h->dir, h->dom, why, whylen) < 0) {
        dkim_store_end(h);
        return -1;
    }
    dkim_dir_clean_temps(h->lockfd);
    return 0;
}

/* write_file - NAME in the open domain directory, whole, 0600, owned by
 * milter_user when that applies */
static int write_file(struct dkim_handle *h, const char *name, const struct strbuf *text,
                      char *why, size_t whylen)
{
    uid_t   uid;
    gid_t   gid;

    if (h->lockfd < 0)
        return snprintf(why, whylen, "%.200s was not opened for change", h->dir), -1;
    dkim_store_owner(h->conf, &uid, &gid);
    if (sb_failed(text) || text->len == 0)
        errno = sb_failed(text) ? ENOMEM : EINVAL;
    else if (dkim_dir_write(h->lockfd, name, text->s, text->len, 0600, uid, gid) == 0)
        return 0;
    return snprintf(why, whylen, "cannot write %.200s/%s: %s", h->dir, name,
                    strerror(errno)), -1;
}

int     dkim_store_commit(struct dkim_handle *h, char *why, size_t whylen)
{
    struct strbuf text = STRBUF_INIT;
    int     rc;

    if (h->tx)
        return dkim_db_commit(h, why, whylen);
    dkim_state_format(h->dom, &text);
    rc = write_file(h, DKIM_STATE_FILE, &text, why, whylen);
    sb_free(&text);
    return rc;
}

void    dkim_store_end(struct dkim_handle *h)
{
    if (h->tx) {
        dkim_db_end(h);
        return;
    }
    if (h->lockfd >= 0)
        close(h->lockfd);
    h->lockfd = -1;
    dkim_domain_free(h->dom);
    h->dom = 0;
}

int     dkim_store_write_key(struct dkim_handle *h, const char *selector, EVP_PKEY *pk,
                             char *why, size_t whylen)
{
    char    name[NAME_MAX + 1];
    struct strbuf pem = STRBUF_INIT;
    int     rc;

    if (h->tx)
        return dkim_db_write_key(h, selector, pk, why, whylen);
    if (snprintf(name, sizeof(name), "%s.pem", selector) >= (int) sizeof(name))
        return snprintf(why, whylen, "selector too long"), -1;
    if (dkim_key_to_pem(pk, &pem) < 0)
        rc = (snprintf(why, whylen, "cannot encode the key of %s", selector), -1);
    else
        rc = write_file(h, name, &pem, why, whylen);
    dkim_sb_wipe(&pem);
    return rc;
}
