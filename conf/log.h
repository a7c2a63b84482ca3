/*
 * log.h - mxdock logging: syslog by default, stderr in the foreground.
 *
 * Three levels as in Postfix: mx_warn (bad input, carry on), mx_fatal (bad
 * configuration or resources at start-up: exits), mx_panic (a broken
 * invariant: aborts).  mx_info for decisions.  Never log secrets; bound
 * untrusted text with %.100s.
 */
#ifndef MX_LOG_H
#define MX_LOG_H

#define MX_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* mx_log_init - IDENT for every line; TO_STDERR when running in the
 * foreground; FACILITY a syslog facility name ("mail", "local0", ...). */
void    mx_log_init(const char *ident, int to_stderr, const char *facility);

void    mx_info(const char *fmt, ...) MX_PRINTF(1, 2);
void    mx_warn(const char *fmt, ...) MX_PRINTF(1, 2);
void    mx_fatal(int exitcode, const char *fmt, ...) MX_PRINTF(2, 3) __attribute__((noreturn));
void    mx_panic(const char *fmt, ...) MX_PRINTF(1, 2) __attribute__((noreturn));

#endif
