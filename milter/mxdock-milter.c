/*
 * mxdock-milter - DKIM signing and verification, SPF, quota and auth-attempt
 * policy for Postfix, Sendmail and Stalwart, as one libmilter daemon.
 *
 *   mxdock-milter [-c FILE] [-f] [-t] [--allow-root] [--core-dumps] [-h|--help]
 *
 * -f stays in the foreground and logs to stderr; -t checks the configuration
 * and exits (0, or EX_CONFIG with the loader's line).  The socket is opened
 * as the starting user, then the daemon switches to milter_user (uid, gid,
 * supplementary groups; a switch back to root must fail).  Started as root
 * without milter_user it refuses (EX_CONFIG) unless --allow-root is given.
 * The process is not dumpable and RLIMIT_CORE is 0 (no core file holding
 * a private key or the database password) unless --core-dumps is given.
 * SIGUSR1 reloads configuration and keys; SIGTERM and SIGHUP stop it
 * (libmilter).
 *
 * The configuration path is made absolute at start (the daemon changes to
 * "/", and SIGUSR1 reads it again).  Only the secrets the milter uses are
 * read (conf_skip_secrets): never pdns_api_key_file.
 *
 * Diagnostics: start-up problems exit with a sysexits code and one line;
 * usage errors come first, before any configuration is read; -h is not an
 * error (exit 0).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "domain.h"
#include "gen.h"
#include "log.h"
#include "metrics.h"
#include "session.h"

/* For sanitizer builds only (unused otherwise): libopendkim 2.11 does not
 * free an Ed25519 signing key it loads (dkim_privkey_load, its EVP_PKEY
 * about 0.4 KB a signed message).  That one frame is suppressed, nothing
 * else: libcrypto has no frame pointers, so the fast unwinder would stop
 * the stack in CRYPTO_zalloc and hide which caller leaked; the slow one
 * reaches dkim_privkey_load, and any other leak through OpenSSL is
 * reported. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:dkim_privkey_load\n";
}

const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}

static const char *conf_file;   /* the -c FILE, or NULL: conf_path() decides */
static int allow_root;          /* --allow-root: root without milter_user */
static int core_dumps;          /* --core-dumps: leave dumpable and RLIMIT_CORE */

static void usage(void)
{
    printf("usage: mxdock-milter [-c FILE] [-f] [-t] [--allow-root] [--core-dumps] [-h|--help]\n"
           "  -c FILE       configuration (default $MXDOCK_CONF or %s)\n"
           "  -f            foreground, log to stderr\n"
           "  -t            check the configuration and exit\n"
           "  --allow-root  keep running as root when milter_user is empty\n"
           "  --core-dumps  allow core dumps (they may hold private keys)\n"
           "  -h            this text\n"
           "SIGUSR1 reloads configuration and keys; SIGTERM stops.\n"
           "exit codes: 0 stopped (or -t: configuration OK); 64 usage; 67 no such\n"
           "  milter_user; 69 milter_socket or milter_metrics_listen in use; 70 libmilter\n"
           "  failed; 71 system error; 73 cannot write the pid file; 77 no permission;\n"
           "  78 configuration, or root without milter_user and --allow-root (the\n"
           "  message names file, line and key)\n"
           "examples:\n"
           "  mxdock-milter -t -c /etc/mxdock/mxdock.conf\n"
           "  mxdock-milter -f -c /etc/mxdock/mxdock.conf\n"
           "  kill -USR1 $(cat /run/mxdock/mxdock-milter.pid)\n", MX_CONF_DEFAULT_PATH);
    exit(0);
}

/* bad_usage - one line naming the argument, EX_USAGE */
static void bad_usage(const char *what, const char *arg)
{
    char    shown[80];

    fprintf(stderr, "mxdock-milter: %s \"%s\" (try mxdock-milter -h)\n", what,
            mx_shown(arg, shown, sizeof(shown)));
    exit(EX_USAGE);
}

/* long_options - --help, --allow-root, --core-dumps taken out of ARGV
 * (getopt sees the rest); returns the new ARGC */
static int long_options(int argc, char **argv)
{
    int     i, n = 1;

    for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
        if (strcmp(argv[i], "--help") == 0)
            usage();
        else if (strcmp(argv[i], "--allow-root") == 0)
            allow_root = 1;
        else if (strcmp(argv[i], "--core-dumps") == 0)
            core_dumps = 1;
        else if (strncmp(argv[i], "--", 2) == 0)
            bad_usage("unknown option", argv[i]);
        else
            argv[n++] = argv[i];
    }
    while (i < argc)
        argv[n++] = argv[i++];
    argv[n] = 0;
    return n;
}

/* parse_args - options into *CONF, *FG, *TEST; exits on -h or bad usage */
static void parse_args(int argc, char **argv, int *fg, int *test)
{
    int     ch;

    opterr = 0;
    argc = long_options(argc, argv);
    while ((ch = getopt(argc, argv, "c:fth")) != -1) {
        switch (ch) {
        case 'c': conf_file = optarg; break;
        case 'f': *fg = 1; break;
        case 't': *test = 1; break;
        case 'h': usage(); break;
        default:
            if (optopt == 'c')
                bad_usage("a FILE must follow", "-c");
            bad_usage("unknown option", (char[]) {'-', (char) optopt, 0});
        }
    }
    if (optind != argc)
        bad_usage("unexpected argument", argv[optind]);
}

/* absolute_conf - the configuration path made absolute, so that reloads
 * after daemonize's chdir("/") read the same file (static buffer: once) */
static void absolute_conf(void)
{
    static char abs[PATH_MAX];
    const char *p = conf_path(conf_file);

    if (p[0] != '/' && realpath(p, abs) != 0)
        conf_file = abs;
}

/* reload_thread - SIGUSR1: a new generation (logged), or a warning and the
 * old one.
 * TERM, HUP and INT are left to libmilter's own signal thread (smfi_main
 * returns within about 5 s: its listener's poll interval). */
static void *reload_thread(void *arg)
{
    sigset_t *set = arg;
    char    why[512];
    int     sig;

    for (;;) {
        if (sigwait(set, &sig) != 0 || sig != SIGUSR1)
            continue;
        if (milter_gen_reload(conf_path(conf_file), why, sizeof(why)) != 0)
            mx_warn("reload refused, old configuration kept: %s", why);
        else
            mx_info("configuration and keys reloaded from %s", conf_path(conf_file));
    }
    return 0;
}

/* check_daemon - settings only the daemon uses; -1 + WHY */
static int check_daemon(const struct mx_conf *c, char *why, size_t whylen)
{
    char   *end;
    long    mode = strtol(c->milter_socket_mode, &end, 8);

    if (strncmp(c->milter_socket, "inet:", 5) != 0 && strncmp(c->milter_socket, "inet6:", 6) != 0
        && strncmp(c->milter_socket, "unix:", 5) != 0 && strncmp(c->milter_socket, "local:", 6) != 0)
        return snprintf(why, whylen, "%s: milter_socket: not inet:, inet6: or unix: %.100s",
                        c->path, c->milter_socket), -1;
    if (*c->milter_socket_mode == 0 || *end || mode < 0 || mode > 07777)
        return snprintf(why, whylen, "%s: milter_socket_mode: not an octal mode: %.20s",
                        c->path, c->milter_socket_mode), -1;
    if (c->milter_user && *c->milter_user && getpwnam(c->milter_user) == 0)
        return snprintf(why, whylen, "%s: milter_user: no such user: %.64s", c->path,
                        c->milter_user), -1;
    return milter_metrics_check(c, why, whylen);
}

/* nodelay_listener - set TCP_NODELAY on libmilter's listening TCP socket:
 * libmilter never sets it, and Linux copies it to every accepted socket */
static void nodelay_listener(void)
{
    int     one = 1, found = 0;

    for (int fd = 3; fd < 1024; fd++) {
        int     acc = 0, dom = 0;
        socklen_t l = sizeof(acc), ld = sizeof(dom);

        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &l) != 0 || !acc
            || getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &ld) != 0
            || (dom != AF_INET && dom != AF_INET6))
            continue;
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0)
            found++;
    }
    if (found)
        mx_info("TCP_NODELAY set on the listening socket");
}

/* socket_perms - mode and owner of a unix socket */
static void socket_perms(const struct mx_conf *c, const struct passwd *pw)
{
    const char *path;
    long    mode;
    char   *end;

    if (strncmp(c->milter_socket, "unix:", 5) == 0)
        path = c->milter_socket + 5;
    else if (strncmp(c->milter_socket, "local:", 6) == 0)
        path = c->milter_socket + 6;
    else
        return;
    mode = strtol(c->milter_socket_mode, &end, 8);      /* checked by check_daemon */
    if (chmod(path, (mode_t) mode) != 0)
        mx_fatal(EX_OSERR, "chmod %s: %s", path, strerror(errno));
    if (pw && chown(path, pw->pw_uid, pw->pw_gid) != 0)
        mx_fatal(EX_OSERR, "chown %s: %s", path, strerror(errno));
}

static void write_pidfile(const char *path)
{
    char    buf[32];
    int     fd, n;

    if (path == 0 || *path == 0)
        return;
    n = snprintf(buf, sizeof(buf), "%ld\n", (long) getpid());
    if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644)) < 0
        || write(fd, buf, (size_t) n) != n || close(fd) != 0)
        mx_fatal(EX_CANTCREAT, "pid file %s: %s", path, strerror(errno));
}

/* no_core - not dumpable (no core, no ptrace by other users, /proc/PID
 * files root's) and RLIMIT_CORE 0, unless --core-dumps.  Called again after
 * setuid: the kernel resets the dumpable flag there. */
static void no_core(void)
{
    struct rlimit rl = {0, 0};

    if (core_dumps)
        return;
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 || setrlimit(RLIMIT_CORE, &rl) != 0)
        mx_fatal(EX_OSERR, "cannot turn core dumps off: %s", strerror(errno));
}

/* refuse_root - root with no milter_user: -1 + WHY unless --allow-root
 * (said on stderr before logging moves to syslog) */
static int refuse_root(const struct mx_conf *c, char *why, size_t whylen)
{
    if ((c->milter_user && *c->milter_user) || geteuid() != 0 || allow_root)
        return 0;
    return snprintf(why, whylen, "%s: refusing to run as root: set milter_user to a "
                    "service user (the socket is opened as root, then the milter "
                    "switches to it), or start with --allow-root", c->path), -1;
}

/* drop_privileges - uid, gid and supplementary groups of PW, for good */
static void drop_privileges(const struct passwd *pw)
{
    if (pw == 0 || (geteuid() == pw->pw_uid && getuid() == pw->pw_uid))
        return;
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0
        || setuid(pw->pw_uid) != 0)
        mx_fatal(EX_NOPERM, "cannot switch to user %s: %s", pw->pw_name, strerror(errno));
    if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
        mx_fatal(EX_SOFTWARE, "switched to user %s, yet root can be regained", pw->pw_name);
    no_core();
}

static void daemonize(void)
{
    pid_t   pid = fork();

    if (pid < 0)
        mx_fatal(EX_OSERR, "fork: %s", strerror(errno));
    if (pid > 0)
        _exit(0);
    (void) setsid();
    if (chdir("/") != 0)
        mx_fatal(EX_OSERR, "chdir /: %s", strerror(errno));
    int     fd = open("/dev/null", O_RDWR);

    if (fd >= 0) {
        (void) dup2(fd, 0), (void) dup2(fd, 1), (void) dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
}

/* start - socket, privileges, signals; then libmilter's main loop */
static int start(struct milter_gen *g, int foreground)
{
    const struct mx_conf *c = g->conf;
    struct passwd *pw = 0;
    static sigset_t set;
    pthread_t tid;

    if (c->milter_user && *c->milter_user && (pw = getpwnam(c->milter_user)) == 0)
        mx_fatal(EX_NOUSER, "milter_user %s: no such user", c->milter_user);
    if (pw == 0 && geteuid() == 0)
        mx_warn("running as root (--allow-root): milter_user is empty");
    if (smfi_register(milter_desc) != MI_SUCCESS)
        mx_fatal(EX_SOFTWARE, "smfi_register failed");
    if (smfi_setconn(c->milter_socket) != MI_SUCCESS)
        mx_fatal(EX_CONFIG, "milter_socket %s: not a socket libmilter understands",
                 c->milter_socket);
    errno = 0;
    if (smfi_opensocket(1) != MI_SUCCESS) {
        int     e = errno;

        mx_fatal(e == EADDRINUSE || e == EADDRNOTAVAIL ? EX_UNAVAILABLE
                 : e == EACCES || e == EPERM ? EX_NOPERM : EX_OSERR,
                 "cannot open milter_socket %s: %s", c->milter_socket,
                 e ? strerror(e) : "libmilter gave no reason");
    }
    nodelay_listener();
    socket_perms(c, pw);
    milter_metrics_open(c);     /* bound as root, served after fork */
    if (!foreground)
        daemonize();
    write_pidfile(c->milter_pidfile);
    drop_privileges(pw);
    milter_metrics_start();
    /* the last use of G and C: once installed and the reload thread runs,
     * a SIGUSR1 may swap in a new generation and free this one */
    mx_info("listening on %s as authserv-id %s", c->milter_socket, g->authserv_id);
    milter_gen_install(g);
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    if (pthread_create(&tid, 0, reload_thread, &set) != 0)
        mx_fatal(EX_OSERR, "cannot start the reload thread");
    return smfi_main();
}

/* block_signals - before any thread starts: every thread keeps SIGUSR1
 * (the reload thread's sigwait) and the signals libmilter's own signal
 * thread waits for (TERM, HUP, INT) blocked, so none of them kills the
 * daemon before its handler is there.  A constructor, not a call in main:
 * it runs before main, as early as the program's own code can run (a
 * sanitizer build spends a long time in its runtime before main); only the
 * dynamic loader's and the sanitizer runtime's own start-up come first. */
__attribute__((constructor(101)))
static void block_signals(void)
{
    sigset_t all;

    sigemptyset(&all);
    sigaddset(&all, SIGUSR1);
    sigaddset(&all, SIGTERM);
    sigaddset(&all, SIGHUP);
    sigaddset(&all, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, &all, 0) != 0)
        mx_fatal(EX_OSERR, "cannot block signals");
    signal(SIGPIPE, SIG_IGN);
}

int     main(int argc, char **argv)
{
    struct milter_gen *g;
    char    why[512];
    char   *pidfile;
    int     foreground = 0, test = 0, rc;

    parse_args(argc, argv, &foreground, &test);
    no_core();
    absolute_conf();
    conf_skip_secrets = CONF_SECRETS_MILTER;
    mx_log_init("mxdock-milter", 1, "mail");
    if ((g = milter_gen_build(conf_path(conf_file), why, sizeof(why))) == 0
        || check_daemon(g->conf, why, sizeof(why)) != 0) {
        fprintf(stderr, "mxdock-milter: %s\n", why);
        milter_gen_release(g);
        return EX_CONFIG;
    }
    if (test) {
        printf("mxdock-milter: %s: configuration OK\n", g->conf->path);
        milter_gen_release(g);
        return 0;
    }
    if (refuse_root(g->conf, why, sizeof(why)) != 0) {
        fprintf(stderr, "mxdock-milter: %s\n", why);
        milter_gen_release(g);
        return EX_CONFIG;
    }
    mx_log_init("mxdock-milter", foreground, g->conf->log_facility);
    pidfile = g->conf->milter_pidfile && *g->conf->milter_pidfile
        ? strdup(g->conf->milter_pidfile) : 0;
    rc = start(g, foreground);
    mx_info("stopped");
    milter_gen_shutdown();
    if (pidfile)
        (void) unlink(pidfile);
    free(pidfile);
    return rc == MI_SUCCESS ? 0 : EX_SOFTWARE;
}
