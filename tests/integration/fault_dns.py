"""fault_dns.py - a DNS server on 127.0.0.1 (UDP and TCP, one port) that
answers every question badly on purpose (fault_resolver.sh).

    fault_dns.py MODE PORTFILE

MODE  servfail   RCODE 2 with the question echoed (a well-formed answer)
      garbage    the query's ID and a header claiming 5 answers, then
                 random bytes
      truncated  UDP: TC=1 and no answers (RFC 1035 4.2.1: ask over TCP);
                 TCP: a length prefix of 512, 10 bytes, then silence
      short      a 5-byte packet
      wrongid    a right SERVFAIL with the ID plus one (a resolver must
                 drop it: the same as no answer)
"""
import os
import socket
import struct
import sys
import threading
import time

MODE = sys.argv[1]


def question_end(q):
    i = 12
    while i < len(q) and q[i]:
        i += 1 + q[i]
    return min(i + 5, len(q))


def answer(q):
    if len(q) < 12:
        return b""
    qid = q[:2]
    if MODE == "servfail":
        return qid + b"\x81\x82\x00\x01\x00\x00\x00\x00\x00\x00" + q[12:question_end(q)]
    if MODE == "garbage":
        return qid + b"\x81\x80\x00\x01\x00\x05\x00\x00\x00\x00" + os.urandom(40)
    if MODE == "truncated":
        return qid + b"\x83\x80\x00\x01\x00\x00\x00\x00\x00\x00" + q[12:question_end(q)]
    if MODE == "short":
        return qid + b"\x81\x80\x00"
    if MODE == "wrongid":
        wid = struct.pack(">H", (struct.unpack(">H", qid)[0] + 1) & 0xFFFF)
        return wid + b"\x81\x82\x00\x01\x00\x00\x00\x00\x00\x00" + q[12:question_end(q)]
    raise SystemExit("unknown mode " + MODE)


def serve_udp(s):
    while True:
        q, peer = s.recvfrom(4096)
        s.sendto(answer(q), peer)


def serve_tcp_one(c):
    try:
        c.settimeout(30)
        n = struct.unpack(">H", c.recv(2))[0]
        q = c.recv(n)
        if MODE == "truncated":
            c.sendall(b"\x02\x00" + q[:2] + b"\x81\x80\x00\x01\x00\x01\x00\x00")
            time.sleep(30)
        else:
            a = answer(q)
            c.sendall(struct.pack(">H", len(a)) + a)
    except (OSError, struct.error):
        pass
    finally:
        c.close()


def serve_tcp(s):
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve_tcp_one, args=(c,), daemon=True).start()


def bind_both():
    """A UDP and a TCP socket on one port: the kernel picks a free UDP port,
    which a TCP socket (an outgoing connection of another test) may hold
    already; then try another."""
    for _ in range(100):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        t = socket.socket()
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            t.bind(("127.0.0.1", u.getsockname()[1]))
            return u, t
        except OSError:
            u.close()
            t.close()
    raise SystemExit("fault_dns.py: no port free for both UDP and TCP")


u, t = bind_both()
port = u.getsockname()[1]
t.listen(64)
threading.Thread(target=serve_tcp, args=(t,), daemon=True).start()
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write("%d\n" % port)
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
serve_udp(u)
