/*
 * dmarc_cases.h - read tests/dmarc/cases.txt and zone.txt, for the unit
 * test (in-memory DNS) and for dmarccheck (real PowerDNS).  Header-only:
 * test code, included once per program.
 *
 *   dc_load_cases  cases.txt into struct dc_case[]
 *   dc_input       one case as a struct mxdmarc_input
 *   dc_policy      the evaluated policy as mailauth reports it (after t=y)
 *
 * Ownership: everything read stays allocated until exit (test programs).
 */
#ifndef MX_DMARC_CASES_H
#define MX_DMARC_CASES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc.h"

#define DC_MAX 128
#define DC_FROM_MAX 4
#define DC_DKIM_MAX 4

struct dc_case {
    char   *name;
    const char *from[DC_FROM_MAX];
    size_t  nfrom;
    char   *mailfrom, *identity, *spf;
    struct mxdmarc_dkim dkim[DC_DKIM_MAX];
    size_t  ndkim;
    char   *want_status, *want_policy, *want_dis, *opts;
    char   *psl_status, *psl_policy, *psl_dis;  /* dmarc_org_domain = psl */
};

/* dc_field - the next " | "-separated field of *LINE, trimmed. */
static char *dc_field(char **line)
{
    char   *s = *line, *bar, *end;

    if (s == NULL)
        return "";
    bar = strstr(s, " | ");
    if (bar) {
        *bar = 0;
        *line = bar + 3;
    } else {
        *line = NULL;
    }
    while (*s == ' ' || *s == '\t')
        s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '|'))
        *--end = 0;
    return s;
}

/* dc_split_from - "\n"-separated From field values, "-" = none. */
static void dc_split_from(struct dc_case *c, char *s)
{
    char   *sep;

    if (strcmp(s, "-") == 0)
        return;
    while (c->nfrom < DC_FROM_MAX) {
        c->from[c->nfrom++] = s;
        if ((sep = strstr(s, "\\n")) == NULL)
            break;
        *sep = 0;
        s = sep + 2;
    }
}

static void dc_split_dkim(struct dc_case *c, char *s)
{
    char   *item, *save = NULL;

    if (strcmp(s, "-") == 0)
        return;
    for (item = strtok_r(s, ",", &save); item && c->ndkim < DC_DKIM_MAX;
         item = strtok_r(NULL, ",", &save)) {
        char   *colon = strrchr(item, ':');

        if (colon == NULL)
            continue;
        *colon = 0;
        c->dkim[c->ndkim].domain = item;
        c->dkim[c->ndkim].result = colon + 1;
        c->ndkim++;
    }
}

/* dc_psl_wants - the "psl=RESULT POLICY DIS" field among the rest of
 * *LINE; the tree walk's wants when there is none. */
static void dc_psl_wants(struct dc_case *c, char **line)
{
    c->psl_status = c->want_status;
    c->psl_policy = c->want_policy;
    c->psl_dis = c->want_dis;
    while (*line) {
        char   *f = dc_field(line), *save = NULL;

        if (strncmp(f, "psl=", 4) != 0)
            continue;
        c->psl_status = strtok_r(f + 4, " ", &save);
        c->psl_policy = strtok_r(NULL, " ", &save);
        c->psl_dis = strtok_r(NULL, " ", &save);
        if (!c->psl_status || !c->psl_policy || !c->psl_dis) {
            fprintf(stderr, "cases.txt: %s: bad psl= field\n", c->name);
            exit(65);
        }
    }
}

/* dc_load_cases - the cases of PATH; count or -1. */
static int dc_load_cases(const char *path, struct dc_case *cases)
{
    FILE   *fp = fopen(path, "r");
    char    buf[2048];
    int     n = 0;

    if (fp == NULL)
        return -1;
    while (n < DC_MAX && fgets(buf, sizeof buf, fp)) {
        char   *line, *spf, *colon;
        struct dc_case *c = cases + n;

        if (buf[0] == '#' || buf[0] == '\n')
            continue;
        line = strdup(buf);
        memset(c, 0, sizeof *c);
        c->name = dc_field(&line);
        dc_split_from(c, dc_field(&line));
        c->mailfrom = dc_field(&line);
        if (strcmp(c->mailfrom, "-") == 0)
            c->mailfrom = "";
        spf = dc_field(&line);
        colon = strchr(spf, ':');
        c->identity = spf;
        c->spf = colon ? (*colon = 0, colon + 1) : "none";
        dc_split_dkim(c, dc_field(&line));
        c->want_status = dc_field(&line);
        c->want_policy = dc_field(&line);
        c->want_dis = dc_field(&line);
        c->opts = dc_field(&line);
        dc_psl_wants(c, &line);
        n++;
    }
    fclose(fp);
    return n;
}

static void dc_input(const struct dc_case *c, struct mxdmarc_input *in)
{
    memset(in, 0, sizeof *in);
    in->from = c->from;
    in->nfrom = c->nfrom;
    in->mailfrom_domain = c->mailfrom;
    in->spf_identity = c->identity;
    in->spf_result = c->spf;
    in->dkim = c->dkim;
    in->ndkim = c->ndkim;
}

/* dc_policy - the policy after t=y ("-" when none applies). */
static const char *dc_policy(const struct mxdmarc_result *r)
{
    enum mxdmarc_policy p = r->applied;

    if (p == MXDMARC_P_UNSET || r->status == MXDMARC_TEMPERROR)
        return "-";
    if (r->testing)
        p = p == MXDMARC_P_REJECT ? MXDMARC_P_QUARANTINE : MXDMARC_P_NONE;
    return mxdmarc_policy_name(p);
}

#endif
