"""stalwart_client.py - one SMTP session through a milter the way Stalwart
(stalwartlabs/stalwart, v0.16.18, crates/smtp/src/inbound/) runs it, rebuilt
from its source behaviour by behaviour; each behaviour names the file and
line it follows (paths below are under crates/smtp/src/inbound/ unless said).

  stalwart_client.py HOST:PORT [--stages connect,ehlo,mail,rcpt,data]
      [--ip IP] [--port P] [--ptr NAME] [--helo NAME] [--auth LOGIN]
      --from ADDR --rcpt ADDR [--rcpt ADDR ...] [--msg FILE] [--out FILE]

Prints one line per SMTP command with the reply Stalwart would give
("connect 220", "rcpt ADDR 452 4.2.2 ...", "data 250 ...") and one line
per modification the milter sent ("mod insheader 0 NAME: VALUE").  --out
gets the message as Stalwart would queue it after the modifications.
Only milter-driven replies are simulated; Stalwart's own checks are not.
"""
import argparse
import socket
import struct
import sys

# common/src/lib.rs:90: DAEMON_NAME = concat!("Stalwart v", CARGO_PKG_VERSION)
DAEMON_NAME = 'Stalwart v0.16.18'
# milter/client.rs:22
CHUNK = 65535
# the protocol flags Stalwart tests with has_option (milter/mod.rs consts)
NOCONNECT, NOHELO, NOMAIL, NORCPT, NOBODY, NOHDRS, NOEOH = 1, 2, 4, 8, 0x10, 0x20, 0x40
NR_HDR, NR_CONN, NR_HELO, NR_MAIL, NR_RCPT, NR_DATA = 0x80, 0x1000, 0x2000, 0x4000, 0x8000, 0x10000
NODATA, NR_EOH, NR_BODY = 0x200, 0x40000, 0x80000
# inbound/mod.rs:102-127: the FilterResponse texts
REJECT = '503 5.5.3 Message rejected.'
TEMPFAIL = '451 4.3.5 Unable to accept message at this time.'
ACCEPT = '250 2.0.0 Message queued for delivery.'


class Rejected(Exception):
    """A stage refused: the SMTP reply Stalwart writes (message.rs:98-150)."""


class Client:
    """milter/client.rs: one TCP connection (client.rs:29), negotiated once."""

    def __init__(self, target, timeout=60):
        host, port = target.rsplit(':', 1)
        # client.rs:26-29: TCP only, timeout_command (30 s) to connect
        self.s = socket.create_connection((host, int(port)), timeout=timeout)
        self.options = 0
        self.mods = []

    def write(self, cmd, data=b''):
        # protocol.rs Command::build: u32 length, command byte, data
        self.s.sendall(struct.pack('!I', len(data) + 1) + cmd + data)

    def read(self):
        hdr = self._exact(4)
        size, = struct.unpack('!I', hdr)
        frame = self._exact(size)
        return frame[:1], frame[1:]

    def _exact(self, n):
        b = b''
        while len(b) < n:
            c = self.s.recv(n - len(b))
            if not c:
                raise Rejected(TEMPFAIL)   # Error::Disconnected (message.rs:137, 148)
            b += c
        return b

    def has(self, opt):
        return self.options & opt == opt     # client.rs:360-362

    def action(self):
        """protocol.rs:344 into_action: an action, else Error::Unexpected."""
        code, body = self.read()
        if code in (b'a', b'c'):
            return None
        if code == b'y':
            # protocol.rs:300-306: 3-byte code, a space, NUL-terminated text
            return ('reply', body[:3].decode(), body[4:].rstrip(b'\0').decode('latin-1'))
        if code in (b'r', b't', b'd'):
            return {b'r': 'reject', b't': 'tempfail', b'd': 'discard'}[code]
        raise Rejected(TEMPFAIL)    # unexpected response: tempFailOnError (message.rs:148)

    def negotiate(self):
        # client.rs:100-117; actions 0xFF (client.rs:41-50), protocol flags
        # 0x42 = NOHELO|NOEOH (client.rs:51), version 6; no SETSYMLIST
        self.write(b'O', struct.pack('!III', 6, 0xFF, 0x42))
        code, body = self.read()
        if code != b'O':
            raise Rejected(TEMPFAIL)
        self.options = struct.unpack('!III', body[:12])[2]    # client.rs:112

    def macros(self, cmd, pairs):
        # protocol.rs:103-117: D, the command code, NAME\0VALUE\0 ...
        self.write(b'D', cmd + b''.join(n.encode() + b'\0' + v.encode() + b'\0'
                                        for n, v in pairs))

    def step(self, no, nr, cmd, data, macros):
        # client.rs:119-218: macros, command, reply unless NR_*
        if self.has(no):
            return None
        self.macros(cmd, macros)
        self.write(cmd, data)
        return None if self.has(nr) else self.action()

    def headers(self, fields):
        # client.rs:220-249: names and values trimmed (client.rs:229-230),
        # EOH sent even when NOEOH was negotiated (client.rs:243)
        if self.has(NOHDRS):
            return None
        for name, value in fields:
            self.write(b'L', name.strip().encode() + b'\0' + value.strip().encode() + b'\0')
            if not self.has(NR_HDR):
                a = self.action()
                if a is not None:
                    return a
        self.write(b'N')
        return None if self.has(NR_EOH) else self.action()

    def body(self, raw):
        # client.rs:261-301: the raw message in 65,535-byte chunks, then
        # end of body; modifications collected until the action
        if self.has(NOBODY):
            return None
        for i in range(0, len(raw), CHUNK):
            self.write(b'B', raw[i:i + CHUNK])
            if not self.has(NR_BODY):
                code, body = self.read()
                if code == b's':
                    break
                if code not in (b'a', b'c', b'p'):
                    return self._decode(code, body)
        self.write(b'E')
        while True:
            code, body = self.read()
            if code in (b'h', b'i', b'm', b'q'):
                self.mods.append(modification(code, body))
            elif code != b'p':
                return self._decode(code, body)

    def _decode(self, code, body):
        if code in (b'a', b'c'):
            return None
        if code == b'y':
            return ('reply', body[:3].decode(), body[4:].rstrip(b'\0').decode('latin-1'))
        if code in (b'r', b't', b'd'):
            return {b'r': 'reject', b't': 'tempfail', b'd': 'discard'}[code]
        raise Rejected(TEMPFAIL)

    def close(self):
        try:
            self.write(b'Q')           # message.rs:279, 285
        finally:
            self.s.close()


def modification(code, body):
    """protocol.rs:285-332: h = AddHeader, i = InsertHeader, m = ChangeHeader,
    q = Quarantine."""
    if code == b'h':
        name, value = body.split(b'\0')[:2]
        return ('addheader', 0, name.decode('latin-1'), value.decode('latin-1'))
    if code in (b'i', b'm'):
        idx, = struct.unpack('!I', body[:4])
        name, value = body[4:].split(b'\0')[:2]
        kind = 'insheader' if code == b'i' else 'chgheader'
        return (kind, idx, name.decode('latin-1'), value.decode('latin-1'))
    return ('quarantine', 0, 'X-Quarantine', body.rstrip(b'\0').decode('latin-1'))


def verdict(a):
    """message.rs:98-118 and inbound/mod.rs:95-127: the SMTP reply for a
    milter's action; None to go on.  Discard = accept (message.rs:99)."""
    if a is None:
        return None
    if a == 'reject':
        return REJECT
    if a == 'tempfail':
        return TEMPFAIL
    if a == 'discard':
        return ACCEPT + ' (discarded)'
    return '%s %s' % (a[1], a[2].rstrip('\r\n'))    # message.rs:102-113


def parse(raw):
    """mail-auth raw_parsed_headers: (name, raw value after the colon with
    its line break); raw_headers ends with the blank line."""
    end = raw.find(b'\r\n\r\n')
    head, body = (raw, b'') if end < 0 else (raw[:end + 2], raw[end + 4:])
    fields = []
    for line in head.split(b'\r\n')[:-1]:
        if line[:1] in (b' ', b'\t') and fields:
            fields[-1][1] += line + b'\r\n'
        else:
            name, _, value = line.partition(b':')
            fields.append([name, value + b'\r\n'])
    return fields, body


def text(v):
    # message.rs:265-270: a value that is not UTF-8 is sent empty
    try:
        return v.decode('utf-8')
    except UnicodeDecodeError:
        return ''


def apply(mods, raw):
    """message.rs:293-520 apply_milter_modifications: AddHeader and
    Quarantine go to the top; an InsertHeader or ChangeHeader rewrites the
    header block, an index counting fields of that name only."""
    fields, body = parse(raw)
    changes, rewrite = [], False
    for kind, idx, name, value in mods:
        if kind == 'addheader' or kind == 'quarantine':        # :383-385, :403-404
            changes.append((0, name, value, False))
        elif kind == 'insheader':                             # :386-389
            changes.append((idx, name, value, False))
            rewrite = True
        elif not value or any(n.decode('latin-1').lower() == name.lower()
                              for n, _ in fields):             # :390-402
            changes.append((idx, name, value, True))
            rewrite = True
        else:
            changes.append((0, name, value, False))
    if not changes:
        return raw
    if not rewrite:                                            # :501-519
        top = b''.join(n.encode() + b': ' + v.encode()
                       + (b'' if v.endswith('\n') else b'\r\n') for _, n, v, _ in changes)
        return top + raw[:len(raw) - len(body)] + body
    hs = [(n, v) for n, v in fields]
    for idx, name, value, change in changes:                   # :435-474
        nb = name.encode()
        if change:
            count = 0
            for pos, (n, _) in enumerate(hs):
                if n.lower() == nb.lower():
                    count += 1
                    if count == idx:
                        if value:
                            hs[pos] = (n, value.encode())
                        else:
                            del hs[pos]
                        break
        else:
            pos = 0
            if idx > 0:
                count = 0
                for p, (n, _) in enumerate(hs):
                    if n.lower() == nb.lower():
                        pos = p
                        count += 1
                        if count == idx:
                            break
            hs.insert(pos, (nb, value.encode()))
    out = b''
    for n, v in hs:                                            # :485-498
        out += n + (b':' if v[:1].isspace() else b': ') + v
        if not v.endswith(b'\n'):
            out += b'\r\n'
    return out + b'\r\n' + body


class Session:
    """The SMTP session's data the milter stages replay (message.rs:185-289)."""

    def __init__(self, a, raw):
        self.a, self.raw = a, raw
        self.helo = ''                  # empty until EHLO (spawn.rs:101)
        self.hostname = ''              # set after the connect stage (spawn.rs:113)
        self.mail = None
        self.rcpts = []

    def run(self, with_message=False):
        """message.rs:185-289: a NEW connection (message.rs:164) replaying
        the session; returns the modifications or raises Rejected."""
        a = self.a
        c = Client(a.milter)
        try:
            c.negotiate()
            fam = b'6' if ':' in a.ip else b'4'
            ptr = a.ptr
            # message.rs:201-214: hostname = PTR or HELO name; macros
            chk(c.step(NOCONNECT, NR_CONN, b'C',
                       (ptr or self.helo).encode() + b'\0' + fam
                       + struct.pack('!H', a.port) + a.ip.encode() + b'\0',
                       [('{daemon_name}', DAEMON_NAME), ('j', self.hostname),
                        ('{client_addr}', a.ip), ('{client_port}', str(a.port)),
                        ('{client_ptr}', ptr or 'unknown')]))
            # message.rs:216-226: {cipher}, {tls_version} empty without TLS
            chk(c.step(NOHELO, NR_HELO, b'H', self.helo.encode() + b'\0',
                       [('{cipher}', ''), ('{tls_version}', '')]))
            if self.mail is not None:
                # message.rs:229-244: <lowercased address>, no ESMTP args;
                # {auth_authen} only when authenticated
                m = [('{mail_addr}', self.mail)]
                if a.auth:
                    m.append(('{auth_authen}', a.auth))
                chk(c.step(NOMAIL, NR_MAIL, b'M', ('<%s>' % self.mail).encode() + b'\0', m))
                for r in self.rcpts:                           # message.rs:247-256
                    chk(c.step(NORCPT, NR_RCPT, b'R', ('<%s>' % r).encode() + b'\0',
                               [('{rcpt_addr}', r)]))
            if not with_message:
                return []
            # client.rs:251-258: DATA (v6) unless NODATA
            if not c.has(NODATA):
                c.write(b'T')
                if not c.has(NR_DATA):
                    chk(c.action())
            fields, body = parse(self.raw)
            chk(c.headers((text(n), text(v)) for n, v in fields))    # message.rs:264-272
            # message.rs:275-276: the whole raw message; --body-only is NOT
            # Stalwart: it checks the milter's fallback for other bodies
            chk(c.body(body if a.body_only else self.raw))
            return c.mods
        finally:
            try:
                c.close()
            except OSError:
                pass


def chk(a):
    v = verdict(a)
    if v is not None:
        raise Rejected(v)


def stage(sess, name, with_message=False):
    if name not in sess.a.stages:
        return []
    return sess.run(with_message)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('milter')
    p.add_argument('--stages', default='data')     # the default: data only
    p.add_argument('--ip', default='192.0.2.10')
    p.add_argument('--port', type=int, default=52000)
    p.add_argument('--ptr', default='')
    p.add_argument('--helo', default='client.example')
    p.add_argument('--auth', default='')
    p.add_argument('--from', dest='frm', required=True)
    p.add_argument('--rcpt', action='append', default=[])
    p.add_argument('--msg')
    p.add_argument('--out')
    p.add_argument('--body-only', action='store_true')
    a = p.parse_args()
    a.stages = a.stages.split(',')
    raw = b''
    if a.msg:
        with open(a.msg, 'rb') as f:
            raw = f.read().replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')
    sess = Session(a, raw)
    try:
        stage(sess, 'connect')                  # spawn.rs:101: close on refusal
    except Rejected as e:
        print('connect %s' % e)
        return
    print('connect 220')
    sess.helo = a.helo
    try:
        stage(sess, 'ehlo')                     # ehlo.rs:118 (the name changed)
        print('ehlo 250')
    except Rejected as e:
        sess.helo = ''
        print('ehlo %s' % e)
        return
    sess.mail = a.frm.lower()                   # address_lcase (message.rs:230)
    try:
        stage(sess, 'mail')                     # mail.rs:191
        print('mail 250')
    except Rejected as e:
        print('mail %s' % e)
        return
    for r in a.rcpt:
        sess.rcpts.append(r.lower())
        try:
            stage(sess, 'rcpt')                 # rcpt.rs:143-146: popped if refused
            print('rcpt %s 250' % r)
        except Rejected as e:
            sess.rcpts.pop()
            print('rcpt %s %s' % (r, e))
    if not sess.rcpts or not a.msg:
        return
    try:
        mods = stage(sess, 'data', True)        # data.rs:601-614
    except Rejected as e:
        print('data %s' % e)
        return
    for kind, idx, name, value in mods:
        print('mod %s %d %s: %s' % (kind, idx, name, value.replace('\r', '').replace('\n', '\\n')))
    if a.out:
        with open(a.out, 'wb') as f:
            f.write(apply(mods, raw))           # data.rs:632-636
    print('data ' + ACCEPT)


if __name__ == '__main__':
    sys.exit(main())
