/*
 * log.c - one line per event, to syslog or to stderr.
 *
 *   mx_log_init, mx_info, mx_warn, mx_fatal, mx_panic
 *
 * Lines are built in one buffer and written with one call, so lines from
 * milter threads never interleave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_ident = "mxdock";
static int log_stderr = 1;

static int facility_code(const char *name)
{
    static const struct { const char *n; int f; } map[] = {
        {"mail", LOG_MAIL}, {"daemon", LOG_DAEMON}, {"local0", LOG_LOCAL0},
        {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3},
        {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6},
        {"local7", LOG_LOCAL7},
    };

    for (size_t i = 0; name && i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i].n, name) == 0)
            return map[i].f;
    return LOG_MAIL;
}

void    mx_log_init(const char *ident, int to_stderr, const char *facility)
{
    log_ident = ident;
    log_stderr = to_stderr;
    if (!to_stderr)
        openlog(ident, LOG_PID | LOG_NDELAY, facility_code(facility));
}

static void vlog(int prio, const char *tag, const char *fmt, va_list ap) MX_PRINTF(3, 0);

static void vlog(int prio, const char *tag, const char *fmt, va_list ap)
{
    char    line[2048];
    int     n = 0;

    if (log_stderr) {
        time_t  t = time(0);
        struct tm tm;

        n = (int) strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S ", gmtime_r(&t, &tm));
        n += snprintf(line + n, sizeof(line) - n, "%s[%ld]: ", log_ident, (long) getpid());
    }
    n += snprintf(line + n, sizeof(line) - n, "%s", tag);
    if (n < (int) sizeof(line))
        vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    if (log_stderr) {
        size_t  l = strlen(line);

        if (l + 1 < sizeof(line))
            line[l++] = '\n';
        (void) !write(2, line, l);
    } else {
        syslog(prio, "%s", line);
    }
}

void    mx_info(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(LOG_INFO, "", fmt, ap);
    va_end(ap);
}

void    mx_warn(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(LOG_WARNING, "warning: ", fmt, ap);
    va_end(ap);
}

void    mx_fatal(int exitcode, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(LOG_CRIT, "fatal: ", fmt, ap);
    va_end(ap);
    exit(exitcode);
}

void    mx_panic(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(LOG_CRIT, "panic: ", fmt, ap);
    va_end(ap);
    abort();
}
