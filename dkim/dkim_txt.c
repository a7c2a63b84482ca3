/*
 * dkim_txt.c - names of algorithms and states, and the DNS TXT rendering of
 * a selector's public key.
 *
 *   dkim_alg_name, dkim_state_name   enum -> text (static strings)
 *   dkim_txt_value                   "v=DKIM1; k=...; p=..." into a strbuf
 *   dkim_txt_quoted                  the value as quoted strings <= 255 bytes
 *   dkim_is_published_state          which states DNS carries
 *
 * Ed25519 keys follow RFC 8463: p= is the raw 32-byte public key.  RSA keys
 * carry the SubjectPublicKeyInfo DER, as RFC 6376 says.  No diagnostics.
 */
#include <string.h>

#include "dkim.h"

#define TXT_STRING_MAX 255

const char *dkim_alg_name(enum dkim_alg alg)
{
    return alg == DKIM_ALG_ED25519 ? "ed25519" : "rsa";
}

const char *dkim_state_name(enum dkim_state state)
{
    switch (state) {
    case DKIM_PENDING:
        return "pending";
    case DKIM_ACTIVE:
        return "active";
    case DKIM_RETIRING:
        return "retiring";
    case DKIM_RETIRED:
        return "retired";
    }
    return "unknown";
}

void    dkim_txt_value(const struct dkim_selector *sel, struct strbuf *out)
{
    sb_printf(out, "v=DKIM1; k=%s; p=%s", dkim_alg_name(sel->alg), sel->pubkey_b64);
}

/* dkim_txt_quoted - the value contains no quote or backslash (base64 and
 * tags), so no escaping is needed; split on byte counts. */
void    dkim_txt_quoted(const char *value, struct strbuf *out)
{
    size_t  len = strlen(value), off = 0, n;

    do {
        n = len - off > TXT_STRING_MAX ? TXT_STRING_MAX : len - off;
        if (off > 0)
            sb_putc(out, ' ');
        sb_putc(out, '"');
        sb_append(out, value + off, n);
        sb_putc(out, '"');
        off += n;
    } while (off < len);
}

int     dkim_is_published_state(enum dkim_state state)
{
    return state == DKIM_PENDING || state == DKIM_ACTIVE || state == DKIM_RETIRING;
}
