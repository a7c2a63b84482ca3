"""stalwart_client.py - one milter stage the way Stalwart calls it: a fresh
connection that replays connect, helo, mail and every RCPT so far, with no
ESMTP arguments (no SIZE=), then (data stage) headers, body and end of data.
Built on tests/spf/milterclient.py (its Milter class, unchanged).

  stalwart_client.py TARGET STAGE IP HELO MAILFROM RCPT[,RCPT...] [MSGFILE]

STAGE is rcpt or data.  Prints one line per answer:
  rcpt ADDR continue | rcpt ADDR reply CODE TEXT | rcpt ADDR ACTION
  insheader NAME: VALUE | addheader NAME: VALUE   (data, at end of data)
  eom accept|continue|reply TEXT|ACTION
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'spf'))
from milterclient import Milter, z  # noqa: E402


def answer(r):
    if r is None:
        return 'continue'
    if r[0] == 'y':
        return 'reply ' + r[1]
    return {'a': 'accept', 'r': 'reject', 't': 'tempfail', 'd': 'discard'}.get(r[0], r[0])


def message(path):
    with open(path, 'rb') as f:
        raw = f.read().replace(b'\r\n', b'\n')
    head, _, body = raw.partition(b'\n\n')
    fields = []
    for line in head.split(b'\n'):
        if line[:1] in (b' ', b'\t') and fields:
            fields[-1][1] += b'\r\n' + line
        else:
            name, _, value = line.partition(b':')
            fields.append([name, value])
    return fields, body.replace(b'\n', b'\r\n')


def stage(target, kind, ip, helo, frm, rcpts, msgfile):
    m = Milter(target)
    out = []
    try:
        m.negotiate()
        m.send('D', b'C' + z('j', 'stalwart.test.invalid', '{daemon_name}', 'stalwart'))
        for cmd, data in (('C', z(helo) + b'4' + struct.pack('!H', 25) + z(ip)),
                          ('H', z(helo))):
            r = m.step(cmd, data)
            if r is not None:
                return ['%s %s' % (cmd, answer(r))]
        m.send('D', b'M' + z('{mail_addr}', frm))
        r = m.step('M', z('<%s>' % frm))
        if r is not None:
            return ['mail ' + answer(r)]
        for rcpt in rcpts:
            m.send('D', b'R' + z('{rcpt_addr}', rcpt))
            r = m.step('R', z('<%s>' % rcpt))
            out.append('rcpt %s %s' % (rcpt, answer(r)))
            if r is not None:
                return out
        if kind != 'data':
            return out
        fields, body = message(msgfile)
        steps = [('T', b'')] + [('L', n + b'\0' + v + b'\0') for n, v in fields]
        steps += [('N', b''), ('B', body)]
        for cmd, data in steps:
            r = m.step(cmd, data)
            if r is not None:
                out.append('%s %s' % (cmd, answer(r)))
                return out
        r = m.step('E')
        out += ['%s %s:%s' % c for c in m.changes]
        out.append('eom ' + answer(r))
        return out
    finally:
        m.close()


if __name__ == '__main__':
    a = sys.argv[1:]
    for line in stage(a[0], a[1], a[2], a[3], a[4], a[5].split(','),
                      a[6] if len(a) > 6 else None):
        print(line)
