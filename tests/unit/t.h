/*
 * t.h - the unit-test checks.  Each check prints one line, "ok - NAME" or
 * "not ok - NAME: got X, want Y", and counts; t_done() prints the closing
 * "N passed, N failed" line tests/run adds up, and returns the exit code;
 * t_done_rm(DIR) also removes a passing run's scratch directory.
 */
#ifndef MX_T_H
#define MX_T_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_pass, t_fail;

#define T_OK(name, cond) \
    ((cond) ? (t_pass++, printf("ok - %s\n", (name))) \
            : (t_fail++, printf("not ok - %s: condition false: %s (%s:%d)\n", \
                                (name), #cond, __FILE__, __LINE__)))

#define T_STR(name, got, want) do { \
    const char *t_g_ = (got), *t_w_ = (want); \
    if (t_g_ && t_w_ && strcmp(t_g_, t_w_) == 0) { t_pass++; printf("ok - %s\n", (name)); } \
    else { t_fail++; printf("not ok - %s: got \"%s\", want \"%s\" (%s:%d)\n", (name), \
                            t_g_ ? t_g_ : "(null)", t_w_ ? t_w_ : "(null)", __FILE__, __LINE__); } \
} while (0)

#define T_INT(name, got, want) do { \
    long long t_g_ = (long long) (got), t_w_ = (long long) (want); \
    if (t_g_ == t_w_) { t_pass++; printf("ok - %s\n", (name)); } \
    else { t_fail++; printf("not ok - %s: got %lld, want %lld (%s:%d)\n", (name), \
                            t_g_, t_w_, __FILE__, __LINE__); } \
} while (0)

/* T_HAS - GOT contains WANT */
#define T_HAS(name, got, want) do { \
    const char *t_g_ = (got), *t_w_ = (want); \
    if (t_g_ && strstr(t_g_, t_w_)) { t_pass++; printf("ok - %s\n", (name)); } \
    else { t_fail++; printf("not ok - %s: got \"%.300s\", want it to contain \"%s\" (%s:%d)\n", \
                            (name), t_g_ ? t_g_ : "(null)", t_w_, __FILE__, __LINE__); } \
} while (0)

static inline int t_done(void)
{
    printf("%d passed, %d failed\n", t_pass, t_fail);
    return t_fail ? 1 : 0;
}

/* t_done_rm - t_done, after removing the scratch directory DIR when every
 * check passed (a failed run keeps it to be read) */
static inline int t_done_rm(const char *dir)
{
    char    cmd[4200];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (t_fail == 0 && system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    return t_done();
}

#endif
