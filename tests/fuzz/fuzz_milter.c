/*
 * fuzz_milter.c - the whole milter: a byte stream of milter steps fed to
 * mxdock-milter's callback table (milter_desc) the way libmilter would call
 * it, with libmilter itself replaced by the stubs below.
 *
 *   LLVMFuzzerInitialize    a scratch configuration, one generation
 *   LLVMFuzzerTestOneInput  negotiate, connect, then the steps of the input
 *   smfi_*                  the libmilter calls the callbacks make
 *
 * Input: a first byte choosing the client (internal 127.0.0.1 or external
 * 192.0.2.1) and the negotiated flags, then records "C LEN LEN DATA": C
 * one step letter, LEN a big-endian 16-bit length.  Letters: L helo,
 * M mail (argv split at NUL), R rcpt, H header (name NUL value), E end of
 * header, B body, O end of message, A abort, S a macro (name NUL value).
 * Like an MTA, the stub stops a message once a step refused it.
 *
 * What is checked besides "no crash, no sanitizer report": every
 * connection ends with its state freed (LeakSanitizer), every reply set is
 * a 4xx or 5xx code, and an inbound message (from the external client)
 * never ends with CONTINUE or ACCEPT without an Authentication-Results
 * header added (issue 12 item 2: never a message without our verdict).
 * DNS questions go to a responder thread that answers NXDOMAIN at once.
 */
#include <arpa/inet.h>
#include <libmilter/mfapi.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "gen.h"
#include "log.h"
#include "session.h"

struct smfi_str {
    void   *priv;
    char    mname[8][32], mval[8][256];
    int     nmacro;
    int     ar_added;           /* Authentication-Results inserted */
    char    rcode[4];
};

/* ---- libmilter, as far as the callbacks use it ----------------------- */

int     smfi_setpriv(SMFICTX *ctx, void *p)
{
    ctx->priv = p;
    return MI_SUCCESS;
}

void   *smfi_getpriv(SMFICTX *ctx)
{
    return ctx->priv;
}

char   *smfi_getsymval(SMFICTX *ctx, char *name)
{
    for (int i = 0; i < ctx->nmacro; i++)
        if (strcmp(ctx->mname[i], name) == 0)
            return ctx->mval[i];
    return NULL;
}

int     smfi_setreply(SMFICTX *ctx, char *rcode, char *xcode, char *text)
{
    (void) xcode;
    if (rcode == NULL || strlen(rcode) != 3 || (rcode[0] != '4' && rcode[0] != '5'))
        abort();
    if (text && strpbrk(text, "\r\n"))
        return MI_FAILURE;      /* libmilter refuses it too */
    memcpy(ctx->rcode, rcode, 4);
    return MI_SUCCESS;
}

int     smfi_insheader(SMFICTX *ctx, int idx, char *name, char *value)
{
    (void) idx;
    if (name == NULL || value == NULL)
        abort();
    if (strlen(name) + strlen(value) + 2 > 65535)
        return MI_FAILURE;      /* libmilter: over MILTER_MAX_DATA_SIZE */
    if (strcasecmp(name, "Authentication-Results") == 0)
        ctx->ar_added = 1;
    return MI_SUCCESS;
}

int     smfi_addheader(SMFICTX *ctx, char *name, char *value)
{
    return smfi_insheader(ctx, -1, name, value);
}

int     smfi_chgheader(SMFICTX *ctx, char *name, int idx, char *value)
{
    (void) ctx;
    (void) value;
    if (name == NULL || idx < 0)
        abort();
    return MI_SUCCESS;
}

int     smfi_quarantine(SMFICTX *ctx, char *reason)
{
    (void) ctx;
    return reason ? MI_SUCCESS : MI_FAILURE;
}

int     smfi_setsymlist(SMFICTX *ctx, int stage, char *macros)
{
    (void) ctx;
    (void) stage;
    (void) macros;
    return MI_SUCCESS;
}

/* ---- the driver ------------------------------------------------------ */

static char fuzz_conf_file[256];

/* nxdomain - answer every UDP question on FD with NXDOMAIN, at once */
static void *nxdomain(void *arg)
{
    int     fd = *(int *) arg;
    unsigned char q[512];

    for (;;) {
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(fd, q, sizeof q, 0, (struct sockaddr *) &from, &fl);

        if (n < 12)
            continue;
        q[2] = (unsigned char) (q[2] | 0x80);           /* QR */
        q[3] = (unsigned char) ((q[3] & 0xf0) | 3);     /* RCODE NXDOMAIN */
        (void) sendto(fd, q, (size_t) n, 0, (struct sockaddr *) &from, fl);
    }
    return NULL;
}

/* resolver_start - the responder on a free loopback port; its port */
static int resolver_start(void)
{
    static int fd;
    struct sockaddr_in sin;
    socklen_t sl = sizeof sin;
    pthread_t t;

    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0
        || bind(fd, (struct sockaddr *) &sin, sizeof sin) != 0
        || getsockname(fd, (struct sockaddr *) &sin, &sl) != 0
        || pthread_create(&t, NULL, nxdomain, &fd) != 0)
        abort();
    return ntohs(sin.sin_port);
}

int     LLVMFuzzerInitialize(int *argc, char ***argv);

/* LLVMFuzzerInitialize - a configuration whose resolver is the NXDOMAIN
 * responder and one installed generation */
int     LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char    dir[] = "/tmp/mxdock-fuzz-milter.XXXXXX", why[512];
    FILE   *f;
    struct milter_gen *g;

    (void) argc;
    (void) argv;
    mx_log_init("mxdock-fuzz", 0, "mail");     /* syslog: no socket here, so quiet */
    if (mkdtemp(dir) == NULL)
        abort();
    snprintf(fuzz_conf_file, sizeof fuzz_conf_file, "%s/mxdock.conf", dir);
    if ((f = fopen(fuzz_conf_file, "w")) == NULL)
        abort();
    fprintf(f, "dkim_keydir = %s\ndns_resolver = 127.0.0.1:%d\n"
            "milter_authserv_id = mx.example.org\nmilter_internal_hosts = 127.0.0.0/8\n",
            dir, resolver_start());
    fclose(f);
    if ((g = milter_gen_build(fuzz_conf_file, why, sizeof why)) == NULL) {
        fprintf(stderr, "fuzz_milter: %s\n", why);
        abort();
    }
    milter_gen_install(g);
    return 0;
}

struct feed {
    const uint8_t *p;
    size_t  left;
};

/* next - the next record: its letter, DATA (NUL-terminated copy in BUF) */
static int next(struct feed *f, char *buf, size_t buflen, size_t *len)
{
    size_t  n;
    int     letter;

    if (f->left < 3)
        return 0;
    letter = f->p[0];
    n = (size_t) f->p[1] << 8 | f->p[2];
    f->p += 3;
    f->left -= 3;
    if (n > f->left)
        n = f->left;
    if (n >= buflen)
        n = buflen - 1;
    memcpy(buf, f->p, n);
    buf[n] = 0;
    f->p += n;
    f->left -= n;
    *len = n;
    return letter;
}

/* split - BUF (LEN bytes, NUL-separated) as an argv of at most 7 */
static void split(char *buf, size_t len, char **argv)
{
    size_t  n = 0, i = 0;

    while (n < 7 && i <= len) {
        argv[n++] = buf + i;
        i += strlen(buf + i) + 1;
    }
    argv[n] = NULL;
}

static void set_macro(SMFICTX *ctx, const char *buf, size_t len)
{
    size_t  nl = strlen(buf);
    int     i = ctx->nmacro < 8 ? ctx->nmacro++ : 7;

    snprintf(ctx->mname[i], sizeof ctx->mname[i], "%s", buf);
    snprintf(ctx->mval[i], sizeof ctx->mval[i], "%s", nl < len ? buf + nl + 1 : "");
}

/* step - one record through its callback; the sfsistat */
static sfsistat step(SMFICTX *ctx, int letter, char *buf, size_t len)
{
    char   *argv[8];

    switch (letter) {
    case 'L':
        return milter_desc.xxfi_helo(ctx, buf);
    case 'M':
        split(buf, len, argv);
        return milter_desc.xxfi_envfrom(ctx, argv);
    case 'R':
        split(buf, len, argv);
        return milter_desc.xxfi_envrcpt(ctx, argv);
    case 'H':
        split(buf, len, argv);
        return milter_desc.xxfi_header(ctx, argv[0], argv[1] ? argv[1] : "");
    case 'E':
        return milter_desc.xxfi_eoh(ctx);
    case 'B':
        return milter_desc.xxfi_body(ctx, (unsigned char *) buf, len);
    case 'S':
        set_macro(ctx, buf, len);
        return SMFIS_CONTINUE;
    case 'A':
        return milter_desc.xxfi_abort(ctx);
    default:
        return SMFIS_CONTINUE;
    }
}

/* eom - end of message; an inbound message (external client) let
 * through must carry our A-R */
static void eom(SMFICTX *ctx, int external)
{
    sfsistat rc;

    ctx->ar_added = 0;
    rc = milter_desc.xxfi_eom(ctx);
    if (external && (rc == SMFIS_CONTINUE || rc == SMFIS_ACCEPT) && !ctx->ar_added)
        abort();
}

static void connect_client(SMFICTX *ctx, int external)
{
    struct sockaddr_in sin;
    unsigned long f[4];

    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    inet_pton(AF_INET, external ? "192.0.2.1" : "127.0.0.1", &sin.sin_addr);
    milter_desc.xxfi_negotiate(ctx, 0x1ff, external & 2 ? 0 : SMFIP_HDR_LEADSPC, 0, 0,
                               &f[0], &f[1], &f[2], &f[3]);
    (void) milter_desc.xxfi_connect(ctx, "client", (struct sockaddr *) &sin);
}

/* allowed - may LETTER come in PHASE (0 before MAIL, 1 envelope, 2
 * headers, 3 body)?  libmilter drops a step its state table does not allow
 * (sendmail libmilter/engine.c, next_states[] and trans_ok()), so a fuzz
 * input that an MTA cannot make reach the callbacks is skipped the same way;
 * MAIL is always allowed (libmilter restarts the message there). */
static int allowed(int letter, int phase)
{
    switch (letter) {
    case 'L':
        return phase == 0;
    case 'R':
        return phase == 1;
    case 'H':
    case 'E':
        return phase == 1 || phase == 2;
    case 'B':
    case 'O':
        return phase == 3;
    case 'A':
        return phase >= 1;
    default:
        return 1;
    }
}

static int next_phase(int letter, int phase)
{
    switch (letter) {
    case 'M':
        return 1;
    case 'H':
        return 2;
    case 'E':
        return 3;
    case 'A':
    case 'O':
        return 0;
    default:
        return phase;
    }
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char buf[70000];
    struct smfi_str ctx;
    struct feed f = {data + 1, size ? size - 1 : 0};
    int     letter, phase = 0, stopped = 0;
    size_t  len;

    if (size == 0)
        return 0;
    memset(&ctx, 0, sizeof ctx);
    connect_client(&ctx, data[0] & 3);
    while ((letter = next(&f, buf, sizeof buf, &len)) != 0) {
        if (!allowed(letter, phase) || (stopped && letter != 'M' && letter != 'S'))
            continue;
        stopped = 0;
        if (letter == 'O')
            eom(&ctx, data[0] & 3);
        else if (step(&ctx, letter, buf, len) != SMFIS_CONTINUE && letter != 'R')
            stopped = 1;        /* the MTA ends the message (or session) */
        phase = next_phase(letter, phase);
    }
    if (phase >= 1)
        (void) milter_desc.xxfi_abort(&ctx);
    (void) milter_desc.xxfi_close(&ctx);
    if (ctx.priv != NULL)
        abort();                /* close must free the connection state */
    return 0;
}
