"""policy_milter.py - one SMTP transaction through mxdock-milter over the
milter protocol (no MTA), for what an MTA cannot be made to send or do:
more recipients than the milter keeps, or the database going away between
RCPT and end of message.  Built on tests/spf/milterclient.py (unchanged).

  policy_milter.py TARGET IP BODY_BYTES RCPT[,RCPT...] [SHELL_BEFORE_EOM]

RCPT "small+1..1000@example.org" expands to small+1@... up to small+1000@....
Prints "rcpt N continue|REPLY" for each recipient that is not continued, then
"eom continue|accept|reply CODE TEXT|ACTION".
"""
import os
import re
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'spf'))
from milterclient import Milter, z  # noqa: E402


def answer(r):
    if r is None:
        return 'continue'
    if r[0] == 'y':
        return 'reply ' + r[1]
    return {'a': 'accept', 'r': 'reject', 't': 'tempfail', 'd': 'discard'}.get(r[0], r[0])


def expand(spec):
    out = []
    for r in spec.split(','):
        m = re.match(r'^(.*\+)(\d+)\.\.(\d+)(@.*)$', r)
        if m:
            out += ['%s%d%s' % (m[1], i, m[4]) for i in range(int(m[2]), int(m[3]) + 1)]
        else:
            out.append(r)
    return out


def main():
    target, ip, nbytes, rcpts = sys.argv[1], sys.argv[2], int(sys.argv[3]), expand(sys.argv[4])
    m = Milter(target, timeout=60)
    m.negotiate()
    m.send('D', b'C' + z('j', 'mx.test.invalid', '{daemon_name}', 'smtpd'))
    for cmd, data in (('C', z('client.invalid') + b'4' + struct.pack('!H', 25) + z(ip)),
                      ('H', z('client.invalid')), ('M', z('<alice@sender.test>'))):
        r = m.step(cmd, data)
        if r is not None:
            print('%s %s' % (cmd, answer(r)))
            return
    for i, rcpt in enumerate(rcpts):
        r = m.step('R', z('<%s>' % rcpt))
        if r is not None:
            print('rcpt %d %s' % (i + 1, answer(r)))
    for cmd, data in (('T', b''), ('L', z('From', ' alice@sender.test')),
                      ('L', z('Subject', ' policy_milter')), ('N', b''),
                      ('B', (b'x' * 78 + b'\r\n') * (nbytes // 80))):
        m.step(cmd, data)
    if len(sys.argv) > 5:
        subprocess.run(sys.argv[5], shell=True, check=False)
    m.send('E')
    print('eom ' + answer(final(m)))
    m.close()


def final(m):
    while True:
        code, body = m.read()
        if code in 'hi+-mbqpe2':
            continue
        if code == 'c':
            return None
        if code == 'y':
            return 'y', body.rstrip(b'\0').decode('latin-1')
        return code, ''


main()
