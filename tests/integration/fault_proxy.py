"""fault_proxy.py - an HTTP proxy in front of a real PowerDNS API that
fails on purpose from the Nth request on (fault_pdns.sh).

    fault_proxy.py UPSTREAM MODE N PORTFILE LOGFILE

UPSTREAM  the real API base, e.g. http://127.0.0.1:8081
MODE      stop    close the connection without an answer (PowerDNS killed)
          silent  accept and never answer (a hung PowerDNS)
          slow    wait 0.5 s, then forward (slower than usual, inside
                  the client's timeout)
          500     HTTP 500 with PowerDNS's JSON error body
          junk    HTTP 200, Content-Type JSON, with binary junk as body
          lost    forward, then close the connection without the answer
                  (PowerDNS did the change and died before answering)
N         the first request (1-based) that fails; the ones before it are
          forwarded to the real server untouched
PORTFILE  the port it listens on is written here
LOGFILE   one line per request: its number, method, path, what was done
"""
import http.client
import http.server
import os
import socket
import sys
import threading
import time
import urllib.parse

UP = urllib.parse.urlsplit(sys.argv[1])
MODE, FIRST = sys.argv[2], int(sys.argv[3])
LOCK = threading.Lock()
COUNT = [0]


def log(line):
    with open(sys.argv[5], "a") as f:
        f.write(line + "\n")


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def forward(self, body):
        c = http.client.HTTPConnection(UP.hostname, UP.port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        c.request(self.command, self.path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def reply(self, status, body, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_one(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        with LOCK:
            COUNT[0] += 1
            k = COUNT[0]
        fault = k >= FIRST
        log("%d %s %s %s" % (k, self.command, self.path, MODE if fault else "forwarded"))
        if not fault:
            return self.forward(body)
        if MODE == "lost":
            c = http.client.HTTPConnection(UP.hostname, UP.port, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            c.request(self.command, self.path, body=body, headers=headers)
            c.getresponse().read()
        if MODE in ("stop", "lost"):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.close_connection = True
            return
        if MODE == "silent":
            time.sleep(3600)
        if MODE == "slow":
            time.sleep(0.5)
            return self.forward(body)
        if MODE == "500":
            return self.reply(500, b'{"error": "Internal Server Error"}')
        if MODE == "junk":
            return self.reply(200, os.urandom(300) + b"\x00{[\"")
        raise SystemExit("unknown mode " + MODE)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_one

    def log_message(self, *a):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


s = Server(("127.0.0.1", 0), Proxy)
with open(sys.argv[4] + ".tmp", "w") as f:
    f.write("%d\n" % s.server_address[1])
os.rename(sys.argv[4] + ".tmp", sys.argv[4])
s.serve_forever()
