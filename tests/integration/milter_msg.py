#!/usr/bin/env python3
"""milter_msg.py - put one message through a milter (the MTA side, from
tests/spf/milterclient.py) and print what it answered, for shell tests.

  milter_msg.py HOST:PORT [--ip IP] [--mailfrom ADDR] [--auth LOGIN]
                [--header 'Name: value']... [--body TEXT] [--timeout S]
                [--dump FILE] [--headers-from FILE]

--dump writes the headers the milter added as JSON ([[name, value], ...]);
--headers-from puts such a file's headers first (a signed message sent on).

Prints one line per header the milter added ("header NAME: VALUE"), then
"reply CODE TEXT" (a 'y' reply), "action X" (another verdict letter) or
"action accept", then "seconds S" (from connect to the verdict).
"""
import argparse
import json
import os
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'spf'))
import milterclient as mc  # noqa: E402


def run(a):
    m = mc.Milter(a.target, timeout=a.timeout)
    t0 = time.monotonic()
    try:
        m.negotiate()
        fam = b'6' if ':' in a.ip else b'4'
        m.send('D', b'C' + mc.z('j', 'mx.test.invalid', '{daemon_name}', 'smtpd'))
        r = m.step('C', mc.z('client.invalid') + fam + struct.pack('!H', 25) + mc.z(a.ip))
        r = r or m.step('H', mc.z('client.invalid'))
        if r is None:
            macros = ['{mail_addr}', a.mailfrom] + (['{auth_authen}', a.auth] if a.auth else [])
            m.send('D', b'M' + mc.z(*macros))
            r = m.step('M', mc.z('<%s>' % a.mailfrom))
        r = r or m.step('R', mc.z('<bob@example.org>'))
        r = r or m.step('T', b'')
        pre = json.load(open(a.headers_from)) if a.headers_from else []
        for name, value in pre + [h.split(':', 1) for h in a.header]:
            if r:
                break
            r = m.step('L', mc.z(name, value))
        r = r or m.step('N', b'')
        r = r or m.step('B', (a.body + '\r\n').encode())
        if r is None:
            m.send('E', b'')
            r = mc.final(m)
    finally:
        m.close()
    secs = time.monotonic() - t0
    if a.dump:
        json.dump(m.headers, open(a.dump, 'w'))
    for name, value in m.headers:
        print('header %s: %s' % (name, value.replace('\n', ' ')))
    if r and r[0] == 'y':
        print('reply %s' % r[1])
    else:
        print('action %s' % ({'a': 'accept', 'c': 'accept', 't': 'tempfail', 'r': 'reject',
                              'd': 'discard'}.get(r[0], r[0]) if r else 'accept'))
    print('seconds %.1f' % secs)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('target')
    p.add_argument('--ip', default='127.0.0.1')
    p.add_argument('--mailfrom', default='alice@example.test')
    p.add_argument('--auth', default='')
    p.add_argument('--header', action='append', default=[])
    p.add_argument('--body', default='Hello.')
    p.add_argument('--timeout', type=float, default=60)
    p.add_argument('--dump')
    p.add_argument('--headers-from')
    run(p.parse_args())


if __name__ == '__main__':
    main()
