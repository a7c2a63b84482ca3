#!/usr/bin/python3
"""judge_milter.py - the cases of the differential suite put through
mxdock-milter over the milter protocol (tests/spf/milterclient.py), one SMTP
transaction per case as Postfix makes it: connect from the case's client,
HELO, MAIL, RCPT, DATA, every header field as it is in the message (with
its leading space: the milter negotiates SMFIP_HDR_LEADSPC), end of
headers, the body, end of message.

  judge_milter.py TARGET OUTDIR

One JSON line per case: {"name", "ar": [value of each
Authentication-Results the milter inserted or added], "reply": the reply
or action at the end, or null}.
"""
import json
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'spf'))
from milterclient import Milter, z  # noqa: E402

SMFIP_HDR_LEADSPC = 0x100000


def fields_of(raw):
    head, _, body = raw.partition(b'\r\n\r\n')
    fields = []
    for line in head.split(b'\r\n'):
        if line[:1] in (b' ', b'\t') and fields:
            fields[-1][1] += b'\r\n' + line
        else:
            name, _, value = line.partition(b':')
            fields.append([name, value])
    return fields, body


def answer(r):
    if r is None:
        return None
    if r[0] == 'y':
        return 'reply ' + r[1]
    return {'a': None, 'r': 'reject', 't': 'tempfail', 'd': 'discard'}.get(r[0], r[0])


def transaction(target, c, raw):
    m = Milter(target)
    try:
        m.negotiate()
        m.send('D', b'C' + z('j', 'mx.diff.test', '{daemon_name}', 'smtpd'))
        r = m.step('C', z(c['helo']) + b'4' + struct.pack('!H', 25) + z(c['ip']))
        r = r or m.step('H', z(c['helo']))
        if r is None:
            m.send('D', b'M' + z('{mail_addr}', c['mailfrom']))
            r = m.step('M', z('<%s>' % c['mailfrom']))
        if r is None:
            m.send('D', b'R' + z('{rcpt_addr}', 'bob@rcpt.test'))
            r = m.step('R', z('<bob@rcpt.test>'))
        fields, body = fields_of(raw)
        steps = [('T', b'')]
        for name, value in fields:
            if not m.proto & SMFIP_HDR_LEADSPC:
                value = value.lstrip(b' \t')
            steps.append(('L', name + b'\0' + value + b'\0'))
        steps += [('N', b'')]
        steps += [('B', body[i:i + 65535]) for i in range(0, len(body), 65535)]
        for cmd, data in steps:
            if r is not None:
                break
            r = m.step(cmd, data)
        if r is None:
            r = m.step('E')
        ar = [v for kind, n, v in m.changes if n.lower() == 'authentication-results']
        return {'name': c['name'], 'ar': ar, 'reply': answer(r)}
    finally:
        m.close()


def main():
    target, out = sys.argv[1], sys.argv[2]
    with open(out + '/cases.json') as f:
        cases = json.load(f)
    for c in cases:
        with open('%s/msgs/%s.eml' % (out, c['name']), 'rb') as f:
            raw = f.read()
        try:
            res = transaction(target, c, raw)
        except (IOError, OSError) as e:
            res = {'name': c['name'], 'ar': [], 'reply': 'error: %s' % e}
        print(json.dumps(res), flush=True)


if __name__ == '__main__':
    main()
