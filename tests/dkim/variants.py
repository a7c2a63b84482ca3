#!/usr/bin/python3
"""variants.py DIR RSA_PEM RSA_SEL ED_PEM ED_SEL KEYFILE - the verifying
cases of tests/integration/dkim_engine_verify.sh: messages signed by dkimpy
(Debian python3-dkim, an independent signer), some altered after signing,
and key records added to KEYFILE for the key cases.  Writes DIR/NAME.eml and
DIR/cases.txt, one line per case: NAME WANT RFC-SECTION, WANT being the
RFC 8601 result every signature of the message must get under the table of
docs/MILTER.md ("DKIM results": tags that do not parse are neutral, tags
that can never verify permerror)."""
import base64
import re
import sys

import dkim

D = b"example.test"
MSG = (b"From: Alice <alice@example.test>\r\n"
       b"To: bob@example.org\r\n"
       b"Subject: variants\r\n"
       b"Date: Sat, 21 Nov 2026 12:00:00 +0000\r\n"
       b"Message-ID: <v@example.test>\r\n"
       b"\r\n"
       b"Hello  world\r\nsecond line\r\n")


def sign(msg, sel, pem, alg=b"rsa-sha256", **kw):
    return dkim.sign(msg, sel, D, pem, signature_algorithm=alg,
                     canonicalize=(b"relaxed", b"relaxed"), **kw) + msg


def edit(signed, old, new):
    """the first DKIM-Signature field with OLD replaced by NEW (regex)"""
    head, sep, rest = signed.partition(b"\r\n\r\n")
    m = re.match(rb"(DKIM-Signature:(?:.*\r\n[ \t].*)*.*\r\n)", head)
    field = re.sub(old, new, m.group(1), count=1)
    return field + head[m.end():] + sep + rest


def main():
    out, rsa_pem, rsa_sel, ed_pem, ed_sel, keyfile = sys.argv[1:7]
    rsa = open(rsa_pem, "rb").read()
    # dkimpy takes an Ed25519 key as the base64 of its 32-byte seed: the
    # last 32 bytes of the PKCS#8 DER inside the PEM
    der = base64.b64decode(b"".join(l for l in open(ed_pem, "rb").read().split(b"\n")
                                    if l and not l.startswith(b"-----")))
    ed = base64.b64encode(der[-32:])
    rs, es = rsa_sel.encode(), ed_sel.encode()
    keys = {l.split(" ", 1)[0]: l.split(" ", 1)[1].strip()
            for l in open(keyfile) if " " in l}
    rsa_p = re.search(r"p=(\S+)", keys["%s._domainkey.example.test" % rsa_sel]).group(1)
    ed_p = re.search(r"p=(\S+)", keys["%s._domainkey.example.test" % ed_sel]).group(1)
    extra = {
        "revoked": "v=DKIM1; k=rsa; p=",
        "sha1only": "v=DKIM1; k=rsa; h=sha1; p=" + rsa_p,
        "notemail": "v=DKIM1; k=rsa; s=other; p=" + rsa_p,
        "strict": "v=DKIM1; k=rsa; t=s; p=" + rsa_p,
        "wrongtype": "v=DKIM1; k=ed25519; p=" + ed_p,
        "badversion": "v=DKIM2; k=rsa; p=" + rsa_p,
        "testing": "v=DKIM1; k=rsa; t=y; p=" + rsa_p,
    }
    with open(keyfile, "a") as f:
        for sel, txt in extra.items():
            f.write("%s._domainkey.example.test %s\n" % (sel, txt))
    # name, message, want, RFC 6376 section deciding it
    cases = [
        ("rsa", sign(MSG, rs, rsa), "pass", "RFC 6376 6.1"),
        ("ed25519", sign(MSG, es, ed, b"ed25519-sha256"), "pass", "RFC 8463"),
        ("testing-key", sign(MSG, b"testing", rsa), "pass", "RFC 6376 3.6.1 t=y"),
        ("length", sign(MSG, rs, rsa, length=True) + b"appended\r\n", "pass", "RFC 6376 3.5 l="),
        ("body-changed", sign(MSG, rs, rsa).replace(b"Hello", b"Hallo"), "fail", "RFC 6376 6.1.3"),
        ("header-changed", sign(MSG, rs, rsa).replace(b"Subject: variants",
                                                      b"Subject: variantz"), "fail", "RFC 6376 6.1.3"),
        ("no-key", sign(MSG, b"nosuch", rsa), "permerror", "RFC 6376 6.1.2"),
        ("revoked", sign(MSG, b"revoked", rsa), "permerror", "RFC 6376 3.6.1 p="),
        ("key-sha1-only", sign(MSG, b"sha1only", rsa), "permerror", "RFC 6376 3.6.1 h="),
        ("key-not-email", sign(MSG, b"notemail", rsa), "permerror", "RFC 6376 3.6.1 s="),
        ("key-wrong-type", sign(MSG, b"wrongtype", rsa), "permerror", "RFC 6376 3.6.1 k="),
        ("key-bad-version", sign(MSG, b"badversion", rsa), "permerror", "RFC 6376 3.6.1 v="),
        ("strict-subdomain", sign(MSG, b"strict", rsa, identity=b"alice@sub.example.test"),
         "permerror", "RFC 6376 3.6.1 t=s"),
        ("rsa-sha1", sign(MSG, rs, rsa, b"rsa-sha1"), "policy", "RFC 8301"),
        ("no-from-in-h", edit(edit(sign(MSG, rs, rsa), rb"h=from : ", b"h="),
                              rb" : from;", b";"), "permerror", "RFC 6376 5.4"),
        ("d-with-space", edit(sign(MSG, rs, rsa), rb"d=example\.test", b"d=exa mple.test"),
         "neutral", "RFC 8601 2.7.1 (syntax)"),
        ("duplicate-tag", edit(sign(MSG, rs, rsa), rb"v=1;", b"v=1; v=1;"), "neutral",
         "RFC 6376 3.2, RFC 8601 2.7.1 (syntax)"),
        ("bad-version", edit(sign(MSG, rs, rsa), rb"v=1;", b"v=2;"), "permerror", "RFC 6376 3.5 v="),
        ("bad-canon", edit(sign(MSG, rs, rsa), rb"c=relaxed/relaxed", b"c=fancy/relaxed"),
         "permerror", "RFC 6376 3.5 c="),
        ("bad-b64", edit(sign(MSG, rs, rsa), rb"b=([A-Za-z0-9+/])", rb"b=!\1"), "neutral",
         "RFC 6376 3.5 b=, RFC 8601 2.7.1 (syntax)"),
        ("i-outside-d", edit(sign(MSG, rs, rsa), rb"i=@example\.test", b"i=alice@example.org"),
         "permerror", "RFC 6376 3.5 i="),
    ]
    with open(out + "/cases.txt", "w") as f:
        for name, msg, want, rfc in cases:
            open("%s/%s.eml" % (out, name), "wb").write(msg)
            f.write("%s %s %s\n" % (name, want, rfc.replace(" ", "_")))


main()
