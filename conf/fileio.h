/*
 * fileio.h - small file helpers shared by every part: secrets, atomic
 * writes, the clock used for key-lifecycle decisions.
 */
#ifndef MX_FILEIO_H
#define MX_FILEIO_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/* mx_read_secret - first line of FILE (no newline) into BUF; refuses a file
 * that others can read or write, or that a group other than the reader's
 * effective group can.  -1 with WHY (file, mode, group, what is accepted). */
int     mx_read_secret(const char *file, char *buf, size_t buflen, char *why, size_t whylen);

/* mx_read_secret_as - the same; group SVC_GID ((gid_t) -1: none) is also
 * accepted: the primary group of the user the program switches to */
int     mx_read_secret_as(const char *file, gid_t svc_gid, char *buf, size_t buflen,
                          char *why, size_t whylen);

/* mx_write_atomic - write LEN bytes to PATH with MODE: a new temp file
 * "PATH.tmp.XXXXXX" (O_EXCL, so never through a planted symlink) in the same
 * directory, fsync, rename, fsync the directory.  -1 with errno set. */
int     mx_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* mx_read_file - whole file into a NUL-terminated malloc'd buffer the caller
 * frees; NULL with errno set.  *LENP gets the length when not NULL. */
char   *mx_read_file(const char *path, size_t *lenp);

/* mx_mkdir_p - create DIR and its parents with MODE; 0 when it exists. */
int     mx_mkdir_p(const char *dir, mode_t mode);

/* mx_now - the time for key-lifecycle decisions: $MXDOCK_NOW (epoch
 * seconds) when set, else time(NULL). */
time_t  mx_now(void);

#endif
