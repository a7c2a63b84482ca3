/*
 * dkimfeed.c - a message file fed to dkim_msg.h the way the milter feeds it.
 *
 *   dkimfeed_read   read and split a message file (CRLF or LF)
 *   dkimfeed_run    feed headers, end of headers and the body
 *   dkimfeed_free   release it
 *
 * Ownership: the struct owns the file text and the header copies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkimfeed.h"

static int read_all(const char *path, struct dkimfeed *m)
{
    FILE   *f = fopen(path, "rb");
    long    n = -1;

    if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0
        && (m->text = malloc((size_t) n + 1)) != 0)
        m->len = fread(m->text, 1, (size_t) n, f);
    if (f)
        fclose(f);
    if (m->text == 0 || m->len != (size_t) n)
        return -1;
    m->text[m->len] = 0;
    return 0;
}

/* next_line - offset of the line after the one at I; *EOL its end (CR
 * excluded) */
static size_t next_line(const struct dkimfeed *m, size_t i, size_t *eol)
{
    const char *nl = memchr(m->text + i, '\n', m->len - i);
    size_t  e = nl ? (size_t) (nl - m->text) : m->len;

    *eol = e > i && m->text[e - 1] == '\r' ? e - 1 : e;
    return nl ? e + 1 : m->len;
}

/* add_header - the header line at I..EOL as a new name and value */
static void add_header(struct dkimfeed *m, size_t i, size_t eol)
{
    char   *colon = memchr(m->text + i, ':', eol - i);

    if (colon == 0)
        return;
    m->name = realloc(m->name, (m->nhdr + 1) * sizeof(char *));
    m->value = realloc(m->value, (m->nhdr + 1) * sizeof(char *));
    m->name[m->nhdr] = strndup(m->text + i, (size_t) (colon - m->text) - i);
    m->value[m->nhdr] = strndup(colon + 1, eol - (size_t) (colon + 1 - m->text));
    m->nhdr++;
}

/* fold_into - a continuation line appended to the last value with LF */
static void fold_into(struct dkimfeed *m, size_t i, size_t eol)
{
    char  **v = &m->value[m->nhdr - 1];
    size_t  vl = strlen(*v);

    *v = realloc(*v, vl + (eol - i) + 2);
    (*v)[vl] = '\n';
    memcpy(*v + vl + 1, m->text + i, eol - i);
    (*v)[vl + 1 + (eol - i)] = 0;
}

int     dkimfeed_read(const char *path, struct dkimfeed *m)
{
    size_t  i, eol, nxt;

    memset(m, 0, sizeof(*m));
    if (read_all(path, m) != 0)
        return -1;
    for (i = 0; i < m->len; i = nxt) {
        nxt = next_line(m, i, &eol);
        if (eol == i)
            break;
        if (m->nhdr && (m->text[i] == ' ' || m->text[i] == '\t'))
            fold_into(m, i, eol);
        else
            add_header(m, i, eol);
    }
    m->body = i < m->len ? nxt : m->len;
    return 0;
}

void    dkimfeed_run(const struct dkimfeed *m, struct dkim_msg *dm, int uneven)
{
    static const size_t sizes[] = {1, 2, 3, 5, 13, 4096, 65535};
    size_t  k = 0;

    for (size_t i = 0; i < m->nhdr; i++)
        dkim_msg_header(dm, m->name[i], m->value[i]);
    dkim_msg_eoh(dm);
    for (size_t o = m->body; o < m->len; k++) {
        size_t  want = uneven ? sizes[k % 7] : 65535;
        size_t  n = want < m->len - o ? want : m->len - o;

        dkim_msg_body(dm, (const unsigned char *) m->text + o, n);
        o += n;
    }
}

void    dkimfeed_free(struct dkimfeed *m)
{
    for (size_t i = 0; i < m->nhdr; i++) {
        free(m->name[i]);
        free(m->value[i]);
    }
    free(m->name);
    free(m->value);
    free(m->text);
}
