/*
 * logscan.h - failed logins in mail-server log lines (pure parsing), and
 * the follower behind mxdock-policy watch-log.
 */
#ifndef MX_LOGSCAN_H
#define MX_LOGSCAN_H

#include "authfail.h"

struct logscan_hit {
    char    ip[AUTHFAIL_IP_MAX];
    char    principal[256];
    char    protocol[17];
    int     count;              /* failures this line stands for (>= 1) */
};

/* logscan_parse - 1 and *HIT when LINE reports a failed login (Postfix
 * SASL, Dovecot login or auth process, Stalwart auth.failed), else 0 */
int     logscan_parse(const char *line, struct logscan_hit *hit);

struct logwatch_opts {
    const char *state;          /* state file: where each file was left */
    int     from_start;         /* files without state: read from the start */
    int     once;               /* read what is there, then return */
    long    poll_ms;
};

/* logwatch_run - follow FILES, recording each failed login; survives
 * rotation (new inode) and truncation; returns at SIGTERM/SIGINT or, with
 * ONCE, at end of files.  0, or an EX_* code. */
int     logwatch_run(struct pdb *, char **files, int nfiles, const struct logwatch_opts *);

#endif
