"""spfdns.py - a small authoritative DNS server for the RFC 7208 test suite.

Serves one scenario (TTL 0, so nothing is cached across scenarios)'s zonedata at a time, over UDP and TCP on 127.0.0.1:
TXT (one or several strings, raw bytes kept), type 99 SPF, A, AAAA, MX, PTR,
CNAME (followed, as a recursive server would; a loop is SERVFAIL), and
TIMEOUT (no answer at all).  The rules of the suite's own driver (pyspf's
testspf.py) are kept: an SPF entry is also served as TXT unless the name has
a TXT entry; "TXT: NONE" means none; TIMEOUT times out every type not listed
before it; a name under "error." that is not in the zone times out.
"""
import socket
import socketserver
import struct
import threading

TYPES = {'A': 1, 'NS': 2, 'CNAME': 5, 'PTR': 12, 'MX': 15, 'TXT': 16, 'AAAA': 28, 'SPF': 99}


def rdata_entries(entries):
    """The entries of one name, as testspf.py's getrdata() turns them."""
    out, generated, gen = [], [], True
    for e in entries:
        if not isinstance(e, dict):
            out.append('TIMEOUT')
            continue
        for t, v in e.items():
            if t == 'TXT':
                gen = False
            elif t == 'SPF' and gen:
                generated.append(('TXT', v))
            if v != 'NONE':
                out.append((t, v))
    if gen:
        out.extend(generated)
    return out


def load_zone(zonedata):
    return {name.lower().rstrip('.'): rdata_entries(e) for name, e in (zonedata or {}).items()}


def bytes_of(s):
    if isinstance(s, bytes):
        return s
    try:
        return s.encode('latin-1')
    except UnicodeEncodeError:
        return s.encode('utf-8')


def wire_name(name):
    out = b''
    for label in name.rstrip('.').split('.'):
        if label:
            b = bytes_of(label)[:63]
            out += bytes([len(b)]) + b
    return out + b'\0'


def rdata(t, v):
    if t == 'A':
        return socket.inet_pton(socket.AF_INET, v)
    if t == 'AAAA':
        return socket.inet_pton(socket.AF_INET6, v)
    if t == 'MX':
        return struct.pack('!H', int(v[0])) + wire_name(str(v[1]))
    if t in ('PTR', 'CNAME'):
        return wire_name(v)
    strings = v if isinstance(v, list) else [v]
    out = b''
    for s in strings:
        b = bytes_of(s)
        while True:
            out += bytes([min(len(b), 255)]) + b[:255]
            b = b[255:]
            if not b:
                break
    return out


class Zone:
    def __init__(self, ttl=0):
        self.data = {}
        self.ttl = ttl
        self.lock = threading.Lock()

    def set(self, zonedata):
        with self.lock:
            self.data = load_zone(zonedata)

    def lookup(self, name, qtype, depth=0):
        """(rcode, [(owner, type, rdata)]) or None for a timeout."""
        with self.lock:
            entries = self.data.get(name)
        if entries is None:
            return None if name.startswith('error.') else (3, [])
        answers, seen = [], False
        for e in entries:
            if e == 'TIMEOUT':
                if not seen:
                    return None
                break
            t, v = e
            if v == 'TIMEOUT':
                if TYPES.get(t) == qtype:
                    return None
                continue
            if TYPES.get(t) == qtype:
                seen = True
                answers.append((name, qtype, rdata(t, v)))
            elif t == 'CNAME' and qtype != 5:
                if depth > 8:
                    return (2, [])
                inner = self.lookup(str(v).lower().rstrip('.'), qtype, depth + 1)
                if inner is None:
                    return None
                return (inner[0], [(name, 5, rdata(t, v))] + inner[1])
        return (0, answers)


def parse_question(msg):
    at, labels = 12, []
    while at < len(msg) and msg[at]:
        n = msg[at]
        labels.append(msg[at + 1:at + 1 + n].decode('latin-1'))
        at += 1 + n
    qtype, = struct.unpack('!H', msg[at + 1:at + 3])
    return '.'.join(labels).lower(), qtype, msg[12:at + 5]


def answer(zone, msg, limit):  # noqa: C901
    name, qtype, question = parse_question(msg)
    res = zone.lookup(name, qtype)
    if res is None:
        return None
    rcode, rrs = res
    body = b''
    count = 0
    tc = 0
    for owner, t, data in rrs:
        rr = wire_name(owner) + struct.pack('!HHIH', t, 1, zone.ttl, len(data)) + data
        if limit and 12 + len(question) + len(body) + len(rr) > limit:
            tc = 0x02
            break
        body += rr
        count += 1
    flags = 0x8400 | (msg[2] & 0x01) << 8 | 0x80 | rcode | tc << 8
    return msg[:2] + struct.pack('!HHHHH', flags, 1, count, 0, 0) + question + body


class UDPHandler(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        try:
            reply = answer(self.server.zone, data, 512)
        except Exception:
            return
        if reply is not None:
            sock.sendto(reply, self.client_address)


class TCPHandler(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            n, = struct.unpack('!H', self.request.recv(2))
            data = b''
            while len(data) < n:
                data += self.request.recv(n - len(data))
            reply = answer(self.server.zone, data, 0)
        except Exception:
            return
        if reply is not None:
            self.request.sendall(struct.pack('!H', len(reply)) + reply)


class UDPServer(socketserver.ThreadingUDPServer):
    allow_reuse_address = True
    daemon_threads = True


class TCPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def serve(zone, host, port):
    """Start UDP and TCP servers for ZONE in daemon threads."""
    for cls, handler in ((UDPServer, UDPHandler), (TCPServer, TCPHandler)):
        srv = cls((host, port), handler)
        srv.zone = zone
        threading.Thread(target=srv.serve_forever, daemon=True).start()
