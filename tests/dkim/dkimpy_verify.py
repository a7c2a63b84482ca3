#!/usr/bin/python3
"""dkimpy_verify.py KEYFILE MSG... - every DKIM-Signature of each MSG checked
by dkimpy (Debian python3-dkim; Ed25519 through python3-nacl), which shares
no code with libopendkim or mxdock.  Keys come from KEYFILE (lines
"SEL._domainkey.DOMAIN TXT-value"), not DNS.  One line per signature:
"MSG RESULT DOMAIN SELECTOR" with RESULT pass or fail."""
import sys

import dkim


def keys(path):
    out = {}
    with open(path) as f:
        for line in f:
            name, _, txt = line.strip().partition(" ")
            out[name.lower().rstrip(".")] = txt.encode()
    return out


def main():
    table = keys(sys.argv[1])

    def dnsfunc(name, timeout=5):
        return table.get(name.decode().lower().rstrip("."), b"")

    for path in sys.argv[2:]:
        with open(path, "rb") as f:
            msg = f.read()
        d = dkim.DKIM(msg)
        n = sum(1 for h in d.headers if h[0].lower() == b"dkim-signature")
        for i in range(n):
            try:
                ok = d.verify(idx=i, dnsfunc=dnsfunc)
            except Exception as e:          # a broken signature is a fail
                print("# %s: %s" % (path, e), file=sys.stderr)
                ok = False
            print(path, "pass" if ok else "fail",
                  (d.domain or b"").decode(), (d.selector or b"").decode())


main()
