/*
 * nullmilter - a do-nothing libmilter milter: the floor under every
 * libmilter-based milter (the protocol, libmilter's threads and worker
 * pool, the socket), and the target of tests/integration/bench_smoke.sh.
 *
 *   nullmilter SOCKET [HEADER]
 *
 * SOCKET is a libmilter address (inet:PORT@127.0.0.1, local:PATH).  It
 * answers CONTINUE to every step and, when HEADER is given, adds
 * "X-Null: HEADER" at end of message, as a signer adds its one header.
 * It runs until SIGTERM.  Exit: 0, EX_USAGE, EX_UNAVAILABLE.
 */
#include <stdio.h>
#include <sysexits.h>

#include <libmilter/mfapi.h>

static char *header;

static sfsistat eom(SMFICTX *ctx)
{
    if (header != NULL && smfi_addheader(ctx, "X-Null", header) != MI_SUCCESS)
        return SMFIS_TEMPFAIL;
    return SMFIS_CONTINUE;
}

int     main(int argc, char **argv)
{
    struct smfiDesc desc = {
        .xxfi_name = "nullmilter",
        .xxfi_version = SMFI_VERSION,
        .xxfi_flags = SMFIF_ADDHDRS,
        .xxfi_eom = eom,
    };

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: nullmilter SOCKET [HEADER]\n");
        return EX_USAGE;
    }
    header = argc == 3 ? argv[2] : NULL;
    if (smfi_setconn(argv[1]) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS) {
        fprintf(stderr, "nullmilter: cannot use %s\n", argv[1]);
        return EX_UNAVAILABLE;
    }
    return smfi_main() == MI_SUCCESS ? 0 : EX_UNAVAILABLE;
}
