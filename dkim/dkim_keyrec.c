/*
 * dkim_keyrec.c - is a DKIM key record (the TXT at SELECTOR._domainkey.D)
 * one that RFC 6376 section 3.6.1 lets a verifier use?  libopendkim reads
 * key records leniently (a v= that is not first, a duplicate tag, an
 * Ed25519 key under the default k=rsa all work there); these records must
 * be ignored, which the resolver of dkim_msg_dns.c does by answering "no
 * key" for them.
 *
 *   dkim_keyrec_check   0 for a usable record, -1 and WHY for one to ignore
 *
 * Pure function, no allocation kept; WHY is a short phrase for the log.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "dkim_keyrec.h"

#define KEYREC_MAXTAGS 32

struct keyrec_tag {
    char    name[16];
    const char *val;            /* into the caller's copy, trimmed */
};

static int why_(char *why, size_t whylen, const char *text)
{
    snprintf(why, whylen, "%s", text);
    return -1;
}

/* trim - S without leading and trailing white space (in place) */
static char *trim(char *s)
{
    char   *e;

    while (isspace((unsigned char) *s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char) e[-1]))
        *--e = 0;
    return s;
}

/* split - the tag-list of RFC 6376 3.2 in BUF into TAGS; -1 on a syntax
 * error or a tag named twice */
static int split(char *buf, struct keyrec_tag *tags, int *n, char *why, size_t whylen)
{
    char   *save = NULL, *spec;

    *n = 0;
    for (spec = strtok_r(buf, ";", &save); spec; spec = strtok_r(NULL, ";", &save)) {
        char   *eq = strchr(spec, '='), *name;

        if (*trim(spec) == 0)
            continue;           /* an empty spec (a trailing ';') */
        if (eq == NULL || *n == KEYREC_MAXTAGS)
            return why_(why, whylen, "key record: not a tag-list");
        *eq = 0;
        name = trim(spec);
        if (!isalpha((unsigned char) *name) || strlen(name) >= sizeof tags[0].name)
            return why_(why, whylen, "key record: bad tag name");
        for (int i = 0; i < *n; i++)
            if (strcmp(tags[i].name, name) == 0)
                return why_(why, whylen, "key record: a tag given twice");
        snprintf(tags[*n].name, sizeof tags[*n].name, "%s", name);
        tags[(*n)++].val = trim(eq + 1);
    }
    return 0;
}

static const char *tag(const struct keyrec_tag *tags, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(tags[i].name, name) == 0)
            return tags[i].val;
    return NULL;
}

/* key_type - the EVP type of base64 P (white space allowed): RSA keys
 * as SubjectPublicKeyInfo or RSAPublicKey DER, Ed25519 as 32 raw bytes
 * (RFC 8463 4.2); 0 when it is neither */
static int key_type(const char *p)
{
    unsigned char b64[2048], der[1600];
    const unsigned char *d = der;
    size_t  n = 0;
    int     len, type = 0;
    EVP_PKEY *k;

    for (; *p && n < sizeof b64 - 1; p++)
        if (!isspace((unsigned char) *p))
            b64[n++] = (unsigned char) *p;
    if (*p || n % 4 != 0 || (len = EVP_DecodeBlock(der, b64, (int) n)) < 0)
        return 0;
    len -= (n >= 1 && b64[n - 1] == '=') + (n >= 2 && b64[n - 2] == '=');
    if (len == 32)
        return EVP_PKEY_ED25519;
    if ((k = d2i_PUBKEY(NULL, &d, len)) != NULL) {
        type = EVP_PKEY_get_base_id(k);
        EVP_PKEY_free(k);
    } else if ((d = der, k = d2i_PublicKey(EVP_PKEY_RSA, NULL, &d, len)) != NULL) {
        type = EVP_PKEY_RSA;
        EVP_PKEY_free(k);
    }
    return type;
}

int     dkim_keyrec_check(const char *txt, char *why, size_t whylen)
{
    char    buf[4096];
    struct keyrec_tag tags[KEYREC_MAXTAGS];
    const char *v, *k, *p;
    int     n, want;

    if (strlen(txt) >= sizeof buf)
        return why_(why, whylen, "key record: too long");
    strcpy(buf, txt);
    if (split(buf, tags, &n, why, whylen) != 0)
        return -1;
    if ((v = tag(tags, n, "v")) != NULL && (strcmp(tags[0].name, "v") != 0 || strcmp(v, "DKIM1")))
        return why_(why, whylen, "key record: v= not first or not DKIM1");
    if ((p = tag(tags, n, "p")) == NULL)
        return why_(why, whylen, "key record: no p=");
    if (*p == 0)
        return 0;               /* revoked: the library says so itself */
    k = tag(tags, n, "k");
    if (k == NULL || strcmp(k, "rsa") == 0)
        want = EVP_PKEY_RSA;
    else if (strcmp(k, "ed25519") == 0)
        want = EVP_PKEY_ED25519;
    else
        return why_(why, whylen, "key record: unknown k=");
    if (key_type(p) != want)
        return why_(why, whylen, want == EVP_PKEY_RSA ? "key record: p= is not an RSA key (k=rsa)"
                    : "key record: p= is not an Ed25519 key (k=ed25519)");
    return 0;
}
