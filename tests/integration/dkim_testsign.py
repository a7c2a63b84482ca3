"""dkim_testsign.py - a test signer that writes any tag text it is given, and
dkimpy (Debian python3-dkim) as a second verifier, for milter_verdicts.sh.
Libraries refuse to make broken signatures (x= in the past, d= with a space,
s=r(s)a, no v=): this one signs whatever tags it gets, relaxed/relaxed,
rsa-sha256 through openssl(1).  Shares no code with libopendkim or mailauth.

  dkim_testsign.py sign MSGFILE KEY.pem TAGS > signed.eml
      TAGS: the DKIM-Signature value up to "bh=", "{T}" becomes now
  dkim_testsign.py dkimpy MSGFILE DNS_IP:PORT
      one "dkimpy pass|fail N" line per signature
  dkim_testsign.py archeck MSGFILE AUTHSERV
      "ok" or what breaks RFC 8601 2.2 in our Authentication-Results
"""
import base64
import hashlib
import re
import subprocess
import sys
import time

sys.path.insert(0, '/usr/lib/python3/dist-packages')


def split(raw):
    raw = raw.replace(b'\r\n', b'\n')
    head, _, body = raw.partition(b'\n\n')
    fields = []
    for line in head.split(b'\n'):
        if line[:1] in (b' ', b'\t') and fields:
            fields[-1] += b'\r\n' + line
        elif line:
            fields.append(line)
    return fields, body.replace(b'\n', b'\r\n')


def relaxed_body(body):
    lines = [re.sub(rb'[ \t]+', b' ', l).rstrip(b' \t') for l in body.split(b'\r\n')]
    while lines and lines[-1] == b'':
        lines.pop()
    return b''.join(l + b'\r\n' for l in lines)


def relaxed_header(field):
    name, _, value = field.partition(b':')
    value = re.sub(rb'\r\n', b'', value)
    value = re.sub(rb'[ \t]+', b' ', value).strip(b' ')
    return name.strip().lower() + b':' + value


def sign(msgfile, key, tags):
    fields, body = split(open(msgfile, 'rb').read())
    bh = base64.b64encode(hashlib.sha256(relaxed_body(body)).digest())
    tags = tags.replace('{T}', str(int(time.time()))).encode()
    value = b' ' + tags + b' bh=' + bh + b'; b='
    h = re.search(rb'(?:^|;)\s*h=([^;]*)', tags)
    data = b''
    used = set()
    for name in (h.group(1).split(b':') if h else []):
        name = name.strip().lower()
        for i in range(len(fields) - 1, -1, -1):
            if i not in used and fields[i].split(b':')[0].strip().lower() == name:
                used.add(i)
                data += relaxed_header(fields[i]) + b'\r\n'
                break
    data += relaxed_header(b'DKIM-Signature:' + value)
    sig = subprocess.run(['openssl', 'dgst', '-sha256', '-sign', key], input=data,
                         capture_output=True, check=True).stdout
    sys.stdout.buffer.write(b'DKIM-Signature:' + value + base64.b64encode(sig) + b'\n'
                            + open(msgfile, 'rb').read().replace(b'\r\n', b'\n'))


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
    {'sign': lambda: sign(a[1], a[2], a[3]), 'dkimpy': lambda: dkimpy(a[1], a[2]),
     'archeck': lambda: archeck(a[1], a[2])}[a[0]]()
