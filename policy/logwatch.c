/*
 * logwatch.c - follow mail logs and record failed logins (watch-log).
 *
 *   logwatch_run   the follow loop over several files
 *
 * Each file is read to its end, line by line; a line is consumed only
 * once its failed login is recorded, so a database outage delays lines
 * instead of losing them.  A new inode at the path (rotation) is opened
 * after the old file has been read to its end; a file shorter than what
 * was read (truncation) is read again from the start.  After each batch
 * the state file (one "dev ino offset path" line per file, written
 * atomically) says where each file was left, so a restart resumes there.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "logscan.h"
#include "strbuf.h"

#define LW_LINE 8192

struct watched {
    const char *path;
    int     fd;
    dev_t   dev;
    ino_t   ino;
    off_t   off;                /* end of the last consumed line */
    size_t  len;                /* bytes of a partial line in buf */
    int     rotated;            /* next open starts at 0 */
    char    buf[LW_LINE];
};

static volatile sig_atomic_t lw_stop;

static void on_signal(int sig)
{
    (void) sig;
    lw_stop = 1;
}

/* state_find - offset stored for PATH with DEV/INO; -1 when none */
static off_t state_find(const char *state, const char *path, dev_t dev, ino_t ino, int *known)
{
    char   *text = state ? mx_read_file(state, 0) : 0, *line, *save = 0;
    off_t   found = -1;

    *known = 0;
    for (line = text ? strtok_r(text, "\n", &save) : 0; line; line = strtok_r(0, "\n", &save)) {
        unsigned long long d, i;
        long long o;
        int     n = 0;

        if (sscanf(line, "%llu %llu %lld %n", &d, &i, &o, &n) == 3 && strcmp(line + n, path) == 0) {
            *known = 1;
            if (d == (unsigned long long) dev && i == (unsigned long long) ino)
                found = (off_t) o;
        }
    }
    free(text);
    return found;
}

static void state_save(const char *state, struct watched *w, int n)
{
    struct strbuf sb = STRBUF_INIT;

    if (state == 0)
        return;
    for (int i = 0; i < n; i++)
        if (w[i].fd >= 0)
            sb_printf(&sb, "%llu %llu %lld %s\n", (unsigned long long) w[i].dev,
                      (unsigned long long) w[i].ino, (long long) w[i].off, w[i].path);
    if (!sb_failed(&sb) && mx_write_atomic(state, sb_str(&sb), sb.len, 0600) < 0)
        mx_warn("watch-log: cannot write state file %s: %s", state, strerror(errno));
    sb_free(&sb);
}

/* state_dir - create the state file's directory */
static void state_dir(const char *state)
{
    const char *slash = state ? strrchr(state, '/') : 0;
    char    dir[4096];

    if (slash == 0 || slash == state || (size_t) (slash - state) >= sizeof(dir))
        return;
    snprintf(dir, sizeof(dir), "%.*s", (int) (slash - state), state);
    if (mx_mkdir_p(dir, 0755) < 0)
        mx_warn("watch-log: cannot create %s: %s", dir, strerror(errno));
}

/* open_file - open W at the stored offset, the start, or the end */
static void open_file(struct watched *w, const struct logwatch_opts *o)
{
    struct stat st;
    off_t   at;
    int     known;

    if ((w->fd = open(w->path, O_RDONLY | O_CLOEXEC)) < 0)
        return;
    fstat(w->fd, &st);
    w->dev = st.st_dev;
    w->ino = st.st_ino;
    at = state_find(o->state, w->path, st.st_dev, st.st_ino, &known);
    if (at < 0 || at > st.st_size)
        at = (w->rotated || known || o->from_start || at > st.st_size) ? 0 : st.st_size;
    w->off = lseek(w->fd, at, SEEK_SET);
    w->len = 0;
    w->rotated = 0;
}

/* record_line - 0 when consumed, -1 on a database error (retry later) */
static int record_line(struct pdb *db, const char *path, const char *line)
{
    struct logscan_hit hit;

    if (!logscan_parse(line, &hit))
        return 0;
    for (int i = 0; i < hit.count; i++)
        if (authfail_record(db, hit.ip, hit.principal, hit.protocol, 0, mx_now()) == -1)
            return -1;
    mx_info("watch-log: %s: %d failed %s login(s) from %s (%.100s)", path, hit.count,
            hit.protocol, hit.ip, hit.principal);
    return 0;
}

/* drain - read W to its end; 1 when something was consumed, -1 on db error */
static int drain(struct pdb *db, struct watched *w)
{
    int     moved = 0;
    ssize_t n;

    while ((n = read(w->fd, w->buf + w->len, sizeof(w->buf) - 1 - w->len)) > 0) {
        char   *start = w->buf, *nl;

        w->len += (size_t) n;
        w->buf[w->len] = 0;
        while ((nl = memchr(start, '\n', w->len - (size_t) (start - w->buf))) != 0
               || (start == w->buf && w->len == sizeof(w->buf) - 1 && (nl = start + w->len - 1))) {
            *nl = 0;
            if (record_line(db, w->path, start) < 0) {
                lseek(w->fd, w->off, SEEK_SET);
                w->len = 0;
                return -1;
            }
            w->off += nl + 1 - start;
            start = nl + 1;
            moved = 1;
        }
        w->len -= (size_t) (start - w->buf);
        memmove(w->buf, start, w->len);
    }
    return moved;
}

/* check_path - rotation (new inode) or truncation at W's path */
static int check_path(struct watched *w)
{
    struct stat st;

    if (stat(w->path, &st) < 0 || st.st_dev != w->dev || st.st_ino != w->ino) {
        mx_info("watch-log: %s was rotated; following the new file", w->path);
        close(w->fd);
        w->fd = -1;
        w->rotated = 1;
        return 1;
    }
    if (st.st_size < w->off + (off_t) w->len) {
        mx_info("watch-log: %s was truncated; reading from the start", w->path);
        w->off = lseek(w->fd, 0, SEEK_SET);
        w->len = 0;
        return 1;
    }
    return 0;
}

int     logwatch_run(struct pdb *db, char **files, int nfiles, const struct logwatch_opts *o)
{
    struct watched *w = calloc((size_t) nfiles, sizeof(*w));
    struct sigaction sa;
    struct timespec ts = {o->poll_ms / 1000, (o->poll_ms % 1000) * 1000000};
    int     rc = 0;

    if (w == 0)
        return EX_OSERR;
    state_dir(o->state);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, 0);
    sigaction(SIGINT, &sa, 0);
    for (int i = 0; i < nfiles; i++) {
        w[i].path = files[i];
        open_file(&w[i], o);
        if (w[i].fd < 0)
            mx_warn("watch-log: %s: %s (waiting for it)", files[i], strerror(errno));
    }
    while (!lw_stop) {
        int     dirty = 0, dberr = 0;

        for (int i = 0; i < nfiles; i++) {
            if (w[i].fd < 0 && (open_file(&w[i], o), w[i].fd < 0))
                continue;
            int     d = drain(db, &w[i]);

            dirty |= d > 0;
            dberr |= d < 0;
            if (d >= 0 && check_path(&w[i]) && w[i].fd < 0 && (open_file(&w[i], o), w[i].fd >= 0))
                dirty |= drain(db, &w[i]) > 0;
        }
        if (dirty)
            state_save(o->state, w, nfiles);
        if (o->once && !dberr)
            break;
        if (o->once && dberr) {
            rc = EX_UNAVAILABLE;
            break;
        }
        nanosleep(&ts, 0);
    }
    state_save(o->state, w, nfiles);
    for (int i = 0; i < nfiles; i++)
        if (w[i].fd >= 0)
            close(w[i].fd);
    free(w);
    return rc;
}
