"""fault_memory.py - hostile traffic for fault_memory.sh: COUNT messages
with hostile headers over the milter protocol, THREADS at a time, or
COUNT hostile connections (garbage bytes, half a command, idle).

    fault_memory.py TARGET messages COUNT THREADS
    fault_memory.py TARGET connections COUNT THREADS

Prints one line: "answered N of COUNT" (messages: a final answer came;
connections: the milter closed it or still answered a good NEGOTIATE
afterwards) and the replies seen, counted.

A body chunk of 0 bytes is not sent in messages: libmilter itself closes
the connection on it (no callback runs; Postfix and Sendmail never send
one; the MTA then applies its milter default action).
"""
import collections
import os
import random
import socket
import struct
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'spf'))
from milterclient import Milter, z, final  # noqa: E402

TARGET, WHAT, COUNT, THREADS = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
HOST, PORT = TARGET.rsplit(':', 1)


def hostile_headers(i):
    r = random.Random(i)
    sig = ('v=1; a=rsa-sha256; d=%s; s=s; h=from; bh=%s; b=%s'
           % (r.choice(['x.test', '', 'a' * 300, '..', 'ex\u00e4mple.test']), 'A' * r.randint(0, 90),
              'B' * r.randint(0, 5000)))
    cases = [
        [('From', 'a@x.test, b@y.test'), ('From', 'c@z.test')],
        [('From', 'undisclosed:;'), ('Sender', '<>')],
        [('From', '"=?utf-8?B?' + 'QQ' * 400 + '?=" <a@x.test>')],
        [('From', 'no at sign here')],
        [('From', 'a@[192.0.2.1]'), ('From', '(comment (nested) a@x.test')],
        [('From', 'a@' + 'b.' * 150 + 'test')],
        [('From', '\u00ff\u00fe@\u00e9.test')],
        [('From', 'a@x.test')] + [('DKIM-Signature', sig)] * r.randint(1, 40),
        [('From', 'a@x.test'), ('Authentication-Results', 'mx.hostile.test; dkim=pass; spf=pass')] * 20,
        [('X-Long', 'x' * r.randint(1000, 60000)), ('From', 'a@x.test')],
        [('X-H%d' % k, 'v') for k in range(r.randint(100, 1500))] + [('From', 'a@x.test')],
        [('From', 'a@x.test\r\n\tcontinued'), ('Subject', '\r\n')],
        [],
    ]
    return cases[i % len(cases)]


def one_message(i, seen):
    internal = i % 2 == 0
    m = Milter(TARGET, timeout=60)
    try:
        m.negotiate()
        m.send('D', b'C' + z('j', 'mx.test.invalid', '{daemon_name}', 'smtpd'))
        ip = '127.0.0.1' if internal else '192.0.2.%d' % (i % 250 + 1)
        r = m.step('C', z('client.invalid') + b'4' + struct.pack('!H', 25) + z(ip))
        r = r or m.step('H', z('client.invalid'))
        if r is None:
            m.send('D', b'M' + z('{mail_addr}', 'a@x.test'))
            r = m.step('M', z('<a@x.test>'))
        r = r or m.step('R', z('<bob@example.org>'))
        for name, value in hostile_headers(i):
            if r:
                break
            r = m.step('L', z(name, value))
        r = r or m.step('N', b'')
        r = r or m.step('B', os.urandom(i % 3000 + 1) if i % 7 == 0 else b'body\r\n')
        if r is None:
            m.send('E', b'')
            r = final(m)
        seen[(r[0] + ' ' + r[1][:9]) if r and r[0] == 'y' else (r[0] if r else 'continue')] += 1
        return True
    except (OSError, ValueError, struct.error) as e:
        seen['error %s case %d' % (type(e).__name__, i % 13)] += 1
        return False
    finally:
        try:
            m.close()
        except OSError:
            pass


def one_connection(i, seen):
    kind = ['garbage', 'half', 'idle', 'bigsize', 'badcmd'][i % 5]
    s = socket.create_connection((HOST, int(PORT)), timeout=30)
    try:
        if kind == 'garbage':
            s.sendall(os.urandom(random.Random(i).randint(1, 4000)))
        elif kind == 'half':
            s.sendall(struct.pack('!I', 100) + b'O' + b'\0' * 10)  # 11 of 100 bytes
        elif kind == 'idle':
            threading.Event().wait(random.Random(i).uniform(0.1, 2.0))
        elif kind == 'bigsize':
            s.sendall(struct.pack('!I', 0x7fffffff) + b'L')
        elif kind == 'badcmd':
            s.sendall(struct.pack('!I', 1) + b'\x01')
        seen[kind] += 1
        return True
    except OSError as e:
        seen['error ' + kind + ' ' + type(e).__name__] += 1
        return True  # the milter closing on us is a fine answer
    finally:
        s.close()


def worker(k, seen, ok):
    for i in range(k, COUNT, THREADS):
        if (one_message if WHAT == 'messages' else one_connection)(i, seen):
            ok[0] += 1


seen, ok = collections.Counter(), [0]
ts = [threading.Thread(target=worker, args=(k, seen, ok)) for k in range(THREADS)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print('answered %d of %d %s' % (ok[0], COUNT, dict(seen)))
