"""milterclient.py - the MTA side of the milter protocol (version 6), just
enough to put one SMTP transaction through a milter and read its verdict.

  check(target, case) -> (spf result, explanation)

TARGET is "HOST:PORT" or a unix socket path.  CASE holds host, helo and
mailfrom (an RFC 7208 suite case).  The SPF result comes from the SMTP reply
(550 5.7.23 fail, 550 5.7.24 permerror, 451 4.7.24 temperror, RFC 7372) or
else from the first word of the Received-SPF header the milter adds; the
explanation is the reply text after the codes.
"""
import socket
import struct

SMFIP_NR = {  # step -> its no-reply flag
    'C': 0x1000, 'H': 0x2000, 'M': 0x4000, 'R': 0x8000, 'T': 0x10000,
    'L': 0x80, 'N': 0x40000, 'B': 0x80000}
SMFIP_NO = {'C': 0x1, 'H': 0x2, 'M': 0x4, 'R': 0x8, 'B': 0x10, 'L': 0x20, 'N': 0x40, 'T': 0x200}
CODES = {'550 5.7.23': 'fail', '550 5.7.24': 'permerror', '451 4.7.24': 'temperror'}


class Milter:
    def __init__(self, target, timeout=20):
        if ':' in target and not target.startswith('/'):
            host, port = target.rsplit(':', 1)
            self.s = socket.create_connection((host, int(port)), timeout=timeout)
        else:
            self.s = socket.socket(socket.AF_UNIX)
            self.s.settimeout(timeout)
            self.s.connect(target)
        self.proto = 0
        self.headers = []       # (name, value) of every header added
        self.changes = []       # ('insheader' | 'addheader', name, value)

    def send(self, cmd, data=b''):
        self.s.sendall(struct.pack('!I', len(data) + 1) + cmd.encode() + data)

    def read(self):
        n = b''
        while len(n) < 4:
            chunk = self.s.recv(4 - len(n))
            if not chunk:
                raise IOError('milter closed the connection')
            n += chunk
        size, = struct.unpack('!I', n)
        data = b''
        while len(data) < size:
            chunk = self.s.recv(size - len(data))
            if not chunk:
                raise IOError('milter closed the connection')
            data += chunk
        return chr(data[0]), data[1:]

    def step(self, cmd, data=b''):
        """Send one step; None to go on, or (action, reply text)."""
        if self.proto & SMFIP_NO.get(cmd, 0):
            return None
        self.send(cmd, data)
        if self.proto & SMFIP_NR.get(cmd, 0):
            return None
        while True:
            code, body = self.read()
            if code in 'hi':
                if code == 'i':
                    body = body[4:]
                name, value = (x.decode('latin-1') for x in body.split(b'\0')[:2])
                self.headers.append((name, value))
                self.changes.append(('insheader' if code == 'i' else 'addheader', name, value))
                continue
            if code in 'mbq+-pe' or code == '2':
                continue
            if code == 'y':
                return 'y', body.rstrip(b'\0').decode('latin-1')
            if code in 'c':
                return None
            return code, ''

    def negotiate(self):
        self.send('O', struct.pack('!III', 6, 0x1ff, 0x1fffff))
        code, body = self.read()
        if code != 'O':
            raise IOError('bad option negotiation reply %r' % code)
        _, _, self.proto = struct.unpack('!III', body[:12])

    def close(self):
        try:
            self.send('Q')
        finally:
            self.s.close()


def z(*parts):
    return b''.join(p.encode('latin-1') + b'\0' for p in parts)


def transaction(m, case):
    ip = str(case['host'])
    fam = b'6' if ':' in ip else b'4'
    frm = str(case.get('mailfrom', ''))
    m.send('D', b'C' + z('j', 'mx.test.invalid', '{daemon_name}', 'smtpd'))
    steps = [
        ('C', z('client.invalid') + fam + struct.pack('!H', 25) + z(ip)),
        ('H', z(str(case.get('helo', '')))),
        ('M', z('<%s>' % frm)),
        ('R', z('<postmaster@mx.test.invalid>')),
        ('T', b''),
        ('L', z('From', ' sender@example.org')),
        ('L', z('Subject', ' test')),
        ('N', b''),
        ('B', b'hello\r\n'),
        ('E', b''),
    ]
    for cmd, data in steps:
        if cmd == 'M':
            m.send('D', b'M' + z('{mail_addr}', frm))
        if cmd == 'E':
            m.send(cmd, data)
            return final(m)
        r = m.step(cmd, data)
        if r is not None:
            return r
    return None


def final(m):
    while True:
        code, body = m.read()
        if code in 'hi':
            if code == 'i':
                body = body[4:]
            name, value = body.split(b'\0')[:2]
            m.headers.append((name.decode('latin-1'), value.decode('latin-1')))
        elif code == 'y':
            return 'y', body.rstrip(b'\0').decode('latin-1')
        elif code in 'mbq+-pe2':
            continue
        else:
            return code, ''


def check(target, case):
    m = Milter(target)
    try:
        m.negotiate()
        r = transaction(m, case)
    finally:
        m.close()
    if r and r[0] == 'y':
        text = r[1]
        for prefix, result in CODES.items():
            if text.startswith(prefix):
                return result, text[len(prefix):].strip()
        return 'reply %s' % text[:40], ''
    for name, value in m.headers:
        if name.lower() == 'received-spf':
            return value.split()[0].lower(), ''
    return 'no verdict (%s)' % (r[0] if r else 'accept'), ''
