/*
 * domain.c - validate and normalise domain names.
 *
 *   mx_domain_normalize   user input -> lowercase A-label name, or a reason
 *   mx_domain_within      suffix test on label boundaries
 *   mx_shown              untrusted text made printable for a one-line message
 *
 * Non-ASCII names are converted with libidn2 (IDNA2008, transitional off).
 */
#include <ctype.h>
#include <idn2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "domain.h"

static int is_ldh(int c)
{
    return isalnum((unsigned char) c) || c == '-';
}

/* check_labels - LDH rules on an ASCII name; -1 with WHY */
static int check_labels(const char *name, char *why, size_t whylen)
{
    const char *p = name, *label;
    int     labels = 0, all_digits_tld = 1;

    while (*p) {
        label = p;
        all_digits_tld = 1;
        while (*p && *p != '.') {
            if (!is_ldh(*p)) {
                snprintf(why, whylen, "character 0x%02x is not allowed in a host name",
                         (unsigned char) *p);
                return -1;
            }
            if (!isdigit((unsigned char) *p))
                all_digits_tld = 0;
            p++;
        }
        size_t  l = (size_t) (p - label);

        if (l == 0) {
            snprintf(why, whylen, "empty label");
            return -1;
        }
        if (l > 63) {
            snprintf(why, whylen, "label of %zu bytes (at most 63)", l);
            return -1;
        }
        if (label[0] == '-' || label[l - 1] == '-') {
            snprintf(why, whylen, "label \"%.63s\" starts or ends with '-'", label);
            return -1;
        }
        labels++;
        if (*p == '.')
            p++;
    }
    if (labels < 2) {
        snprintf(why, whylen, "not a domain (needs at least two labels)");
        return -1;
    }
    if (all_digits_tld) {
        snprintf(why, whylen, "top-level label is all digits");
        return -1;
    }
    return 0;
}

/* check_alabels - every "xn--" label must be valid punycode of a valid
 * IDNA2008 label: decoded and encoded again, it comes back the same */
static int check_alabels(const char *name, char *why, size_t whylen)
{
    char   *u = 0, *a = 0;
    int     rc, found = 0;

    for (const char *p = name; p; p = (p = strchr(p, '.')) ? p + 1 : 0)
        found |= strncasecmp(p, "xn--", 4) == 0;
    if (!found)
        return 0;
    if ((rc = idn2_to_unicode_8z8z(name, &u, 0)) == IDN2_OK)
        rc = idn2_to_ascii_8z(u, &a, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
    if (rc == IDN2_OK && strcasecmp(a, name) != 0)
        rc = IDN2_PUNYCODE_BAD_INPUT;
    if (rc != IDN2_OK)
        snprintf(why, whylen, "an xn-- label is not a valid internationalised name: %s",
                 idn2_strerror(rc));
    idn2_free(u);
    idn2_free(a);
    return rc == IDN2_OK ? 0 : -1;
}

int     mx_domain_normalize(const char *in, char *out, size_t outlen,
                            char *why, size_t whylen)
{
    char    buf[1024];
    char   *ascii = 0;
    size_t  n;
    int     rc;

    n = strlen(in);
    if (n == 0) {
        snprintf(why, whylen, "empty domain name");
        return -1;
    }
    if (n >= sizeof(buf)) {
        snprintf(why, whylen, "name of %zu bytes (at most 253)", n);
        return -1;
    }
    memcpy(buf, in, n + 1);
    if (n > 1 && buf[n - 1] == '.' && buf[n - 2] != '.')
        buf[--n] = 0;
    for (const char *p = buf; *p; p++)
        if ((unsigned char) *p >= 0x80) {
            rc = idn2_to_ascii_8z(buf, &ascii, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
            if (rc != IDN2_OK) {
                snprintf(why, whylen, "not a valid internationalised name: %s",
                         idn2_strerror(rc));
                return -1;
            }
            break;
        }
    if (ascii) {
        if (strlen(ascii) >= sizeof(buf)) {
            idn2_free(ascii);
            snprintf(why, whylen, "name too long");
            return -1;
        }
        strcpy(buf, ascii);
        idn2_free(ascii);
        n = strlen(buf);
        if (n == 0 || buf[n - 1] == '.') {     /* a last label IDNA maps to nothing */
            snprintf(why, whylen, "not a valid internationalised name: an empty label");
            return -1;
        }
    }
    if (n > 253) {
        snprintf(why, whylen, "name of %zu bytes (at most 253)", n);
        return -1;
    }
    if (check_labels(buf, why, whylen) < 0 || check_alabels(buf, why, whylen) < 0)
        return -1;
    if (n >= outlen) {
        snprintf(why, whylen, "name too long");
        return -1;
    }
    for (size_t i = 0; i <= n; i++)
        out[i] = (char) tolower((unsigned char) buf[i]);
    return 0;
}

int     mx_domain_within(const char *name, const char *zone)
{
    size_t  nl = strlen(name), zl = strlen(zone);

    if (nl < zl || strcasecmp(name + nl - zl, zone) != 0)
        return 0;
    return nl == zl || name[nl - zl - 1] == '.';
}

const char *mx_shown(const char *in, char *out, size_t outlen)
{
    size_t  n = 0;

    for (const unsigned char *p = (const unsigned char *) in; *p; p++) {
        int     ctl = *p < 0x20 || *p == 0x7f;

        if (n + (ctl ? 4 : 1) >= outlen)
            break;
        if (ctl)
            n += (size_t) snprintf(out + n, outlen - n, "\\x%02x", *p);
        else
            out[n++] = (char) *p;
    }
    if (outlen)
        out[n < outlen ? n : outlen - 1] = 0;
    return out;
}
