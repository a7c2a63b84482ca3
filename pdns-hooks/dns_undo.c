/*
 * dns_undo.c - leave nothing behind for a zone that was never made, and
 * nothing served for a zone that is gone.
 *
 *   dns_keys_snap      remember DOMAIN's key directory before create
 *                      makes keys: whether it existed, its files, its
 *                      state file
 *   dns_keys_undo      after a failed create: remove the files made since,
 *                      put the state file back, remove the directory if
 *                      it was not there before
 *   dns_keys_snap_free
 *   dns_mta_sts_remove the MTA-STS policy file of DOMAIN and its
 *                      directories (after delete), so a web server stops
 *                      serving a policy for mail it no longer takes
 *
 * Errors of the undo are reported on stderr with the path and go no
 * further: the command's own error is the one that counts.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dns_cli.h"
#include "fileio.h"

static int has_name(char *const *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i], name))
            return 1;
    return 0;
}

void    dns_keys_snap(const struct mx_conf *conf, const char *domain, struct dns_keys_snap *s)
{
    DIR    *d;
    struct dirent *e;
    struct stat st;

    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "%s/%s", conf->dkim_keydir, domain);
    if ((d = opendir(s->dir)) == NULL)
        return;
    s->existed = 1;
    while ((e = readdir(d)) != NULL) {
        if (*e->d_name == '.')
            continue;
        if ((s->files = realloc(s->files, (s->n + 1) * sizeof *s->files)) == NULL
            || (s->files[s->n++] = strdup(e->d_name)) == NULL)
            mx_panic("out of memory");
    }
    closedir(d);
    snprintf(s->state_path, sizeof s->state_path, "%s/state", s->dir);
    if (stat(s->state_path, &st) == 0) {
        s->state = mx_read_file(s->state_path, &s->state_len);
        s->state_mode = st.st_mode & 07777;
    }
}

void    dns_keys_undo(const char *prog, const struct dns_keys_snap *s)
{
    DIR    *d = opendir(s->dir);
    struct dirent *e;
    char    path[1400];

    while (d && (e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")
            || has_name(s->files, s->n, e->d_name))
            continue;
        snprintf(path, sizeof path, "%s/%s", s->dir, e->d_name);
        if (unlink(path) < 0)
            fprintf(stderr, "%s: cannot remove %s: %s\n", prog, path, strerror(errno));
    }
    if (d)
        closedir(d);
    if (s->state && mx_write_atomic(s->state_path, s->state, s->state_len, s->state_mode) < 0)
        fprintf(stderr, "%s: cannot restore %s\n", prog, s->state_path);
    if (!s->existed && rmdir(s->dir) < 0 && errno != ENOENT)
        fprintf(stderr, "%s: cannot remove %s: %s\n", prog, s->dir, strerror(errno));
}

void    dns_keys_snap_free(struct dns_keys_snap *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->files[i]);
    free(s->files);
    free(s->state);
    memset(s, 0, sizeof *s);
}

void    dns_mta_sts_remove(const struct cli *c, const char *domain)
{
    char    path[1200];
    int     len;

    len = snprintf(path, sizeof path, "%s/%s/.well-known/mta-sts.txt",
                   c->conf->mta_sts_policy_dir, domain);
    if (len < 0 || (size_t) len >= sizeof path)
        return;
    if (unlink(path) < 0 && errno != ENOENT)
        fprintf(stderr, "%s: %s: cannot remove %s: %s\n", c->prog, domain, path,
                strerror(errno));
    *strrchr(path, '/') = 0;
    rmdir(path);                /* .well-known, when empty */
    *strrchr(path, '/') = 0;
    rmdir(path);                /* the domain's directory, when empty */
}
