"""verdict_check.py - the two judges of milter_verdicts.sh beside the milter:
dkimpy (Debian python3-dkim) as a second verifier, and the RFC 8601 2.2
syntax of our Authentication-Results.  The hostile signatures themselves
are made by tests/diff/dkimsign.py (its "sign" command).  Shares no code
with libopendkim or mailauth.

  verdict_check.py dkimpy MSGFILE DNS_IP:PORT
      one "dkimpy pass|fail N" line per signature (an exception is a fail)
  verdict_check.py archeck MSGFILE AUTHSERV
      "ok" or what breaks RFC 8601 2.2 in our Authentication-Results
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, '/usr/lib/python3/dist-packages')
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'diff'))
from dkimsign import split_message as split  # noqa: E402


def dkimpy(msgfile, server):
    import dkim
    host, port = server.rsplit(':', 1)

    def dnsfunc(name, timeout=5):
        out = subprocess.run(['dig', '+short', '+time=2', '+tries=1', '-p', port, '@' + host,
                              name.decode('latin-1').rstrip('.'), 'TXT'],
                             capture_output=True).stdout.decode('latin-1')
        return ''.join(re.findall(r'"((?:[^"\\]|\\.)*)"', out)).encode()

    raw = open(msgfile, 'rb').read().replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')
    d = dkim.DKIM(raw)
    n = sum(1 for f in split(raw)[0] if f.lower().startswith(b'dkim-signature:'))
    for i in range(n):
        try:
            ok = d.verify(idx=i, dnsfunc=dnsfunc)
        except Exception:
            ok = False
        print('dkimpy %s %d' % ('pass' if ok else 'fail', i))


TOKEN = r'[^\x00-\x20\x7f()<>@,;:\\"/\[\]?=]+'
QUOTED = r'"(?:[^"\\\r\n]|\\.)*"'
DOMAIN = r'[A-Za-z0-9_.-]+'
PVALUE = r'(?:%s|%s|(?:%s)?@%s)' % (QUOTED, TOKEN, TOKEN, DOMAIN)


def comment_free(s):
    out, depth, i = '', 0, 0
    while i < len(s):
        c = s[i]
        if c == '\\' and depth:
            i += 2
            continue
        if c == '(':
            depth += 1
        elif c == ')' and depth:
            depth -= 1
        elif depth == 0:
            out += c
        i += 1
    return out if depth == 0 else None


def archeck(msgfile, authserv):
    fields, _ = split(open(msgfile, 'rb').read())
    ours = [f.decode('latin-1').split(':', 1)[1] for f in fields
            if f.lower().startswith(b'authentication-results:')
            and authserv.encode() in f.split(b';')[0]]
    if not ours:
        print('no Authentication-Results of ours')
        return
    for ar in ours:
        text = comment_free(ar.replace('\r\n', ' '))
        if text is None:
            print('unbalanced comment: %s' % ar[:200])
            continue
        parts = [p.strip() for p in text.split(';')]
        for res in parts[1:]:
            words = res.split()
            if not words or not re.fullmatch(r'[a-z0-9-]+=[a-z]+', words[0]):
                print('bad methodspec %r' % res[:80])
            for w in words[1:]:
                if not re.fullmatch(r'[a-z0-9-]+\.[A-Za-z0-9-]+=%s' % PVALUE, w) \
                        and not re.fullmatch(r'reason=%s' % QUOTED, w):
                    print('bad propspec %r' % w[:80])
    print('ok')


if __name__ == '__main__':
    a = sys.argv[1:]
    {'dkimpy': lambda: dkimpy(a[1], a[2]), 'archeck': lambda: archeck(a[1], a[2])}[a[0]]()
