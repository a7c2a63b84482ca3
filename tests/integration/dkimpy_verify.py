"""dkimpy_verify.py - dkimpy (Debian python3-dkim, no code shared with
libopendkim or mailauth) verifies every DKIM-Signature of one message,
taking keys from the scratch PowerDNS.

  /usr/bin/python3 dkimpy_verify.py MSGFILE DNS_IP:PORT
  /usr/bin/python3 dkimpy_verify.py --sign MSGFILE DOMAIN SELECTOR KEYFILE

Verifying prints one line per signature: "dkimpy pass|fail D S".  --sign
prints MSGFILE with a c=simple/simple rsa-sha256 signature by dkimpy on top
(an outside signer for mxdock to verify).
"""
import re
import subprocess
import sys

import dkim


def dnsfunc(server):
    ip, port = server.rsplit(':', 1)

    def get(name, timeout=5):
        name = name.decode() if isinstance(name, bytes) else name
        out = subprocess.run(['dig', '+short', '+time=2', '+tries=1', '-p', port,
                              '@' + ip, 'TXT', name.rstrip('.')],
                             capture_output=True, text=True).stdout
        line = out.splitlines()[0] if out.strip() else ''
        return ''.join(re.findall(r'"((?:[^"\\]|\\.)*)"', line)).encode()
    return get


def sign(path, domain, selector, keyfile):
    msg = open(path, 'rb').read().replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')
    sig = dkim.sign(msg, selector.encode(), domain.encode(), open(keyfile, 'rb').read(),
                    canonicalize=(b'simple', b'simple'),
                    include_headers=[b'from', b'to', b'subject', b'date', b'message-id', b'x-folded'])
    sys.stdout.buffer.write(sig + msg)


def main():
    if sys.argv[1] == '--sign':
        sign(*sys.argv[2:6])
        return
    msg = open(sys.argv[1], 'rb').read()
    d = dkim.DKIM(msg)
    n = sum(1 for h in d.headers if h[0].lower() == b'dkim-signature')
    for i in range(n):
        ok = d.verify(idx=i, dnsfunc=dnsfunc(sys.argv[2]))
        sig = d.signature_fields
        print('dkimpy %s %s %s' % ('pass' if ok else 'fail',
                                   sig.get(b'd', b'?').decode(), sig.get(b's', b'?').decode()))


if __name__ == '__main__':
    main()
