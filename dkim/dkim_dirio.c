/*
 * dkim_dirio.c - files inside one domain directory of the key store, always
 * reached through the directory's open descriptor, never by path.
 *
 *   dkim_dir_read         a file's text (O_NOFOLLOW; regular files only)
 *   dkim_dir_write        replace a file whole: O_EXCL|O_NOFOLLOW temp file,
 *                         fchown, fsync, renameat, fsync of the directory
 *   dkim_dir_unlink       remove a file (a symlink is removed, not followed)
 *   dkim_dir_exists       is there an entry of that name (links count)?
 *   dkim_dir_clean_temps  remove "NAME.tmp.XXX" files a killed writer left
 *
 * Why by descriptor: tick and rotate run as root from cron while the
 * directory belongs to milter_user.  A symbolic link planted in it (or in
 * place of a file) must not make root read, replace, chown or delete a file
 * elsewhere.  The directory itself was opened O_NOFOLLOW by the store.
 *
 * Diagnostics go to WHY, naming DIR/NAME; file contents never do.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dkim_impl.h"

int     dkim_dir_read(int dfd, const char *dir, const char *name, int strict,
                      struct strbuf *out, char *why, size_t whylen)
{
    char    label[DKIM_PATH_MAX];
    int     fd, rc, saved;

    snprintf(label, sizeof(label), "%s/%s", dir, name);
    if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC | O_NONBLOCK)) < 0) {
        saved = errno;
        snprintf(why, whylen, "cannot read %.200s: %s", label,
                 saved == ELOOP ? "it is a symbolic link" : strerror(saved));
        errno = saved;
        return -1;
    }
    rc = dkim_key_read_fd(fd, label, strict, out, why, whylen);
    close(fd);
    if (rc < 0)
        errno = EINVAL;                 /* not ENOENT: it is there */
    return rc;
}

/* write_all - LEN bytes of DATA to FD */
static int write_all(int fd, const char *data, size_t len)
{
    size_t  off = 0;

    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        off += (size_t) n;
    }
    return 0;
}

/* open_temp - a new temp file for NAME, created O_EXCL|O_NOFOLLOW: never
 * an existing file, never through a link.  The name goes into TMP. */
static int open_temp(int dfd, const char *name, mode_t mode, char *tmp, size_t tmplen)
{
    int     fd;

    if (snprintf(tmp, tmplen, "%s.tmp.%ld", name, (long) getpid()) >= (int) tmplen)
        return errno = ENAMETOOLONG, -1;
    fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0 && errno == EEXIST && unlinkat(dfd, tmp, 0) == 0)
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    return fd;
}

int     dkim_dir_write(int dfd, const char *name, const void *data, size_t len, mode_t mode,
                       uid_t uid, gid_t gid)
{
    char    tmp[NAME_MAX + 1];
    int     fd, saved;

    if ((fd = open_temp(dfd, name, mode, tmp, sizeof(tmp))) < 0)
        return -1;
    if (fchmod(fd, mode) < 0
        || (uid != (uid_t) -1 && fchown(fd, uid, gid) < 0)
        || write_all(fd, data, len) < 0 || fsync(fd) < 0)
        goto fail;
    if (close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (renameat(dfd, tmp, dfd, name) < 0)
        goto fail;
    (void) fsync(dfd);
    return 0;

fail:
    saved = errno;
    if (fd >= 0)
        close(fd);
    (void) unlinkat(dfd, tmp, 0);
    errno = saved;
    return -1;
}

void    dkim_dir_unlink(int dfd, const char *name)
{
    if (unlinkat(dfd, name, 0) == 0)
        (void) fsync(dfd);
}

int     dkim_dir_exists(int dfd, const char *name)
{
    struct stat st;

    return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* is_temp - "NAME.tmp.X" with X letters and digits: ours ("PID") or one of
 * mx_write_atomic's ("XXXXXX").  Key files end in ".pem", so never match. */
static int is_temp(const char *name)
{
    const char *t = strstr(name, ".tmp.");

    while (t && strstr(t + 1, ".tmp."))
        t = strstr(t + 1, ".tmp.");
    if (t == 0 || t[5] == 0)
        return 0;
    for (t += 5; *t; t++)
        if (!(*t >= '0' && *t <= '9') && !(*t >= 'a' && *t <= 'z') && !(*t >= 'A' && *t <= 'Z'))
            return 0;
    return 1;
}

void    dkim_dir_clean_temps(int dfd)
{
    int     fd = dup(dfd);
    DIR    *d = fd >= 0 ? fdopendir(fd) : 0;
    struct dirent *e;

    if (d == 0) {
        if (fd >= 0)
            close(fd);
        return;
    }
    rewinddir(d);
    while ((e = readdir(d)) != 0)
        if (e->d_name[0] != '.' && is_temp(e->d_name))
            (void) unlinkat(dfd, e->d_name, 0);
    closedir(d);
}
