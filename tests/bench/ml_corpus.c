/*
 * ml_corpus - read the benchmark's messages once, split into what an MTA
 * hands a milter: header fields (name, value with its leading space and
 * "\n" between folded lines, as Postfix sends them) and the body with CRLF
 * line ends.
 *
 *   ml_corpus_load   a file, or every regular file of a directory (sorted)
 *   ml_corpus_free   release what ml_corpus_load returned
 *
 * The envelope sender is the address of the From: header.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ml.h"

/* slurp - the whole file, NUL-terminated, in a buffer the caller frees. */
static char *slurp(const char *path, size_t *len)
{
    FILE   *fp = fopen(path, "rb");
    char   *buf = NULL;
    size_t  cap = 0, n = 0, k;

    if (fp == NULL)
        return NULL;
    do {
        if (n + 65536 + 1 > cap && (buf = realloc(buf, cap = 2 * cap + 65536 + 1)) == NULL)
            abort();
        k = fread(buf + n, 1, 65536, fp);
        n += k;
    } while (k > 0);
    fclose(fp);
    buf[n] = 0;
    *len = n;
    return buf;
}

/* unfold - one header field starting at P: name and value (CRLF folds
 * become "\n").  Returns the start of the next line. */
static const char *unfold(const char *p, struct ml_header *h)
{
    const char *colon = strchr(p, ':'), *e = p;
    char   *v;
    size_t  n = 0;

    h->name = strndup(p, (size_t) (colon - p));
    v = malloc(strlen(colon) + 1);
    if (h->name == NULL || v == NULL)
        abort();
    for (e = colon + 1;;) {
        const char *eol = strchr(e, '\n');
        size_t  k = (size_t) (eol - e);

        if (k && e[k - 1] == '\r')
            k--;
        memcpy(v + n, e, k);
        n += k;
        e = eol + 1;
        if (*e != ' ' && *e != '\t')
            break;
        v[n++] = '\n';
    }
    v[n] = 0;
    h->value = v;
    return e;
}

/* sender - the address in the From: value. */
static void sender(const char *value, char *out, size_t outlen)
{
    const char *lt = strchr(value, '<'), *gt;

    if (lt && (gt = strchr(lt, '>')) != NULL)
        snprintf(out, outlen, "%.*s", (int) (gt - lt - 1), lt + 1);
    else {
        while (*value == ' ')
            value++;
        snprintf(out, outlen, "%s", value);
        out[strcspn(out, " \r\n")] = 0;
    }
}

/* parse - split TEXT into M.  -1 when there is no header/body boundary. */
static int parse(const char *text, struct ml_msg *m)
{
    const char *p = text, *b;
    size_t  cap = 0, n;

    while (*p && *p != '\r' && *p != '\n') {
        if (strchr(p, ':') == NULL || strchr(p, '\n') == NULL
            || strchr(p, ':') > strchr(p, '\n'))
            return -1;
        if (m->nhdr == cap && (m->hdr = realloc(m->hdr, (cap = 2 * cap + 16)
                                                * sizeof *m->hdr)) == NULL)
            abort();
        p = unfold(p, &m->hdr[m->nhdr]);
        if (strcasecmp(m->hdr[m->nhdr].name, "From") == 0)
            sender(m->hdr[m->nhdr].value, m->from, sizeof m->from);
        m->nhdr++;
    }
    p += *p == '\r' ? 2 : *p == '\n';
    if ((m->body = malloc(2 * strlen(p) + 1)) == NULL)
        abort();
    for (n = 0; *p; p = b + 1) {
        if ((b = strchr(p, '\n')) == NULL)
            b = p + strlen(p) - 1;
        memcpy(m->body + n, p, (size_t) (b - p + (*b != '\n')));
        n += (size_t) (b - p + (*b != '\n'));
        if (n && m->body[n - 1] == '\r')
            n--;
        if (*b == '\n') {
            m->body[n++] = '\r';
            m->body[n++] = '\n';
        }
    }
    m->bodylen = n;
    return 0;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* names - the regular files to read: PATH itself or its directory entries. */
static char **names(const char *path, size_t *n)
{
    struct stat st;
    struct dirent *d;
    DIR    *dir;
    char  **v = NULL, buf[512];

    *n = 0;
    if (stat(path, &st) < 0)
        return NULL;
    if (!S_ISDIR(st.st_mode)) {
        v = malloc(sizeof *v);
        v[(*n)++] = strdup(path);
        return v;
    }
    if ((dir = opendir(path)) == NULL)
        return NULL;
    while ((d = readdir(dir)) != NULL) {
        snprintf(buf, sizeof buf, "%s/%s", path, d->d_name);
        if (d->d_name[0] == '.' || stat(buf, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        if ((v = realloc(v, (*n + 1) * sizeof *v)) == NULL)
            abort();
        v[(*n)++] = strdup(buf);
    }
    closedir(dir);
    qsort(v, *n, sizeof *v, cmp);
    return v;
}

int     ml_corpus_load(const char *path, struct ml_msg **msgs, size_t *n,
                       char *err, size_t errlen)
{
    char  **v = names(path, n), *text;
    size_t  i, len;
    int     rc = 0;

    if (v == NULL || *n == 0) {
        snprintf(err, errlen, "%s: no messages there", path);
        free(v);
        return -1;
    }
    *msgs = calloc(*n, sizeof **msgs);
    for (i = 0; i < *n; i++) {
        snprintf((*msgs)[i].path, sizeof (*msgs)[i].path, "%s", v[i]);
        text = rc == 0 ? slurp(v[i], &len) : NULL;
        if (rc == 0 && (text == NULL || parse(text, &(*msgs)[i]) < 0)) {
            snprintf(err, errlen, "%s: not a message (header: body)", v[i]);
            rc = -1;
        }
        free(text);
        free(v[i]);
    }
    free(v);
    if (rc < 0)
        ml_corpus_free(*msgs, *n);
    return rc;
}

void    ml_corpus_free(struct ml_msg *m, size_t n)
{
    size_t  i, j;

    for (i = 0; i < n; i++) {
        for (j = 0; j < m[i].nhdr; j++) {
            free(m[i].hdr[j].name);
            free(m[i].hdr[j].value);
        }
        free(m[i].hdr);
        free(m[i].body);
    }
    free(m);
}
