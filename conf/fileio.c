/*
 * fileio.c - secrets, atomic writes, whole-file reads, mkdir -p, the clock.
 *
 *   mx_read_secret, mx_read_secret_as, mx_write_atomic, mx_read_file,
 *   mx_mkdir_p, mx_now
 *
 * A secret file may be read and written by its owner; by its group only
 * when that group is the service user's (the reader's effective group, or
 * the primary group of milter_user), or when root reads a root-owned file
 * and no milter_user names the service user; never by others.
 * Nothing here logs; errors come back as -1/NULL with errno or a reason.
 * A secret read is never copied into a reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"

/* group_name - NAME of GID into BUF ("gid N" when it has none) */
static const char *group_name(gid_t gid, char *buf, size_t len)
{
    struct group gr, *res = 0;
    char    tmp[1024];

    if (getgrgid_r(gid, &gr, tmp, sizeof(tmp), &res) == 0 && res)
        snprintf(buf, len, "%s", res->gr_name);
    else
        snprintf(buf, len, "gid %u", (unsigned) gid);
    return buf;
}

/* secret_mode_ok - 0, or -1 with WHY naming FILE, its mode, owner group
 * and what is accepted */
static int secret_mode_ok(const char *file, const struct stat *st, gid_t svc_gid,
                          char *why, size_t whylen)
{
    char    has[64], own[64], name[64], svc[72] = "";
    unsigned mode = (unsigned) (st->st_mode & 07777);

    if (st->st_mode & (S_IROTH | S_IWOTH))
        return snprintf(why, whylen, "%.200s has mode %04o: readable or writable by others; "
                        "accepted are 0600, or 0640 with the service user's group (chmod o-rw)",
                        file, mode), -1;
    if (!(st->st_mode & (S_IRGRP | S_IWGRP)) || st->st_gid == getegid()
        || (svc_gid != (gid_t) -1 && st->st_gid == svc_gid))
        return 0;
    /* root:GROUP 0640 read by root with no milter_user: Debian's way of
     * sharing a secret with a service group (a panel's mxdock-dns reading
     * the API key the mxdock-run tick also reads); the service group is
     * unknown here, so it is not second-guessed */
    if (svc_gid == (gid_t) -1 && geteuid() == 0 && st->st_uid == 0)
        return 0;
    group_name(st->st_gid, has, sizeof(has));
    group_name(getegid(), own, sizeof(own));
    if (svc_gid != (gid_t) -1 && svc_gid != getegid())
        snprintf(svc, sizeof(svc), " or %s", group_name(svc_gid, name, sizeof(name)));
    return snprintf(why, whylen, "%.200s has mode %04o and group %s: readable or writable "
                    "by a group other than the service user's; accepted are 0600, or 0640 "
                    "with group %s%s (chgrp, or chmod g-rw)", file, mode, has, own, svc), -1;
}

int     mx_read_secret(const char *file, char *buf, size_t buflen, char *why, size_t whylen)
{
    return mx_read_secret_as(file, (gid_t) -1, buf, buflen, why, whylen);
}

int     mx_read_secret_as(const char *file, gid_t svc_gid, char *buf, size_t buflen,
                          char *why, size_t whylen)
{
    struct stat st;
    int     fd;
    ssize_t n;

    if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
        snprintf(why, whylen, "cannot read %.200s: %s", file, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (secret_mode_ok(file, &st, svc_gid, why, whylen) < 0) {
        close(fd);
        return -1;
    }
    n = read(fd, buf, buflen - 1);
    close(fd);
    if (n < 0) {
        snprintf(why, whylen, "cannot read %.200s: %s", file, strerror(errno));
        return -1;
    }
    buf[n] = 0;
    buf[strcspn(buf, "\r\n")] = 0;
    /* only the first line is the secret: the rest of what was read goes now */
    explicit_bzero(buf + strlen(buf), buflen - strlen(buf));
    if (*buf == 0) {
        snprintf(why, whylen, "%.200s is empty", file);
        return -1;
    }
    return 0;
}

int     mx_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
    char    tmp[4096], dirbuf[4096];
    int     fd, dfd, saved;
    size_t  off = 0;

    /* mkostemp opens with O_CREAT|O_EXCL under an unguessable name: a
     * symlink planted in the directory is never followed. */
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int) sizeof(tmp)
        || strlen(path) >= sizeof(dirbuf))
        return errno = ENAMETOOLONG, -1;
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
        return -1;
    if (fchmod(fd, mode) < 0)
        goto fail;
    while (off < len) {
        ssize_t n = write(fd, (const char *) data + off, len - off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto fail;
        off += (size_t) n;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) < 0)
        goto fail;
    strcpy(dirbuf, path);
    if ((dfd = open(dirname(dirbuf), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        (void) fsync(dfd);
        close(dfd);
    }
    return 0;

fail:
    saved = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    errno = saved;
    return -1;
}

char   *mx_read_file(const char *path, size_t *lenp)
{
    FILE   *fp = fopen(path, "rb");
    char   *buf = 0;
    size_t  len = 0, cap = 0, n;

    if (fp == 0)
        return 0;
    do {
        if (cap - len < 4096) {
            char   *nb = realloc(buf, cap = cap ? cap * 2 : 8192);

            if (nb == 0) {
                free(buf);
                fclose(fp);
                return errno = ENOMEM, (char *) 0;
            }
            buf = nb;
        }
        n = fread(buf + len, 1, cap - len - 1, fp);
        len += n;
    } while (n > 0);
    if (ferror(fp)) {
        free(buf);
        fclose(fp);
        return errno = EIO, (char *) 0;
    }
    fclose(fp);
    buf[len] = 0;
    if (lenp)
        *lenp = len;
    return buf;
}

int     mx_mkdir_p(const char *dir, mode_t mode)
{
    char    buf[4096];
    size_t  n = strlen(dir);

    if (n == 0 || n >= sizeof(buf))
        return errno = ENAMETOOLONG, -1;
    memcpy(buf, dir, n + 1);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, mode) < 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    if (mkdir(buf, mode) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

time_t  mx_now(void)
{
    const char *env = getenv("MXDOCK_NOW");
    char   *end;
    long long v;

    if (env && *env) {
        v = strtoll(env, &end, 10);
        if (*end == 0 && v > 0)
            return (time_t) v;
    }
    return time(0);
}
