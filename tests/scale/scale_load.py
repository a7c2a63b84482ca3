#!/usr/bin/env python3
"""scale_load.py - mail at a steady rate through several SMTP servers.

    scale_load.py SECONDS RATE TAG PORT...

Each PORT (a scratch Postfix on 127.0.0.1) gets RATE messages a second for
SECONDS, from 127.0.0.2, to bob@example.org, each with a unique Subject
"TAG-PORT-N".  A message refused with a 4xx at any step is sent again
after 0.5 s, like an MTA's queue would, for up to 60 s; a 5xx, or no
success within 60 s, loses it.  Every SMTP step is timed: the slowest step
is the longest wait for a decision (the milter decides at connect and at
RCPT).  Prints one line per message that was lost, then:

    sent N accepted N lost N tempfails N max_step_ms N slow_steps N

slow_steps counts the steps that took SLOW_MS (env SCALE_SLOW_MS, default
1800) or more: the waits on a hung database node.
"""
import smtplib
import socket
import sys
import threading
import os
import time

GIVE_UP = 60.0
SLOW = float(os.environ.get("SCALE_SLOW_MS", "1800")) / 1000


class Result:
    def __init__(self):
        self.lock = threading.Lock()
        self.sent = self.accepted = self.lost = self.tempfails = 0
        self.max_step = 0.0
        self.slow = 0
        self.lost_lines = []

    def step(self, secs):
        with self.lock:
            self.max_step = max(self.max_step, secs)
            self.slow += secs >= SLOW


def timed(res, fn, *args):
    t0 = time.monotonic()
    try:
        return fn(*args)
    finally:
        res.step(time.monotonic() - t0)


def one_try(res, port, subject):
    """0 accepted, 4 tempfail, 5 refused"""
    s = smtplib.SMTP(timeout=30, source_address=("127.0.0.2", 0))
    try:
        code, _ = timed(res, s.connect, "127.0.0.1", port)
        if code >= 400:
            return code // 100
        code, _ = timed(res, s.ehlo, "client.test")
        if code >= 400:
            return code // 100
        for step in (lambda: s.mail("alice@sender.test"),
                     lambda: s.rcpt("bob@example.org")):
            code, _ = timed(res, step)
            if code >= 400:
                return code // 100
        body = ("From: alice@sender.test\r\nTo: bob@example.org\r\n"
                "Subject: %s\r\n\r\nload\r\n" % subject)
        code, _ = timed(res, s.data, body)
        return 0 if code < 400 else code // 100
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException,
            socket.error) as e:
        code = getattr(e, "smtp_code", 421)
        return 5 if 500 <= code < 600 else 4
    finally:
        try:
            s.close()
        except Exception:
            pass


def send(res, port, subject):
    start = time.monotonic()
    with res.lock:
        res.sent += 1
    while True:
        r = one_try(res, port, subject)
        with res.lock:
            if r == 0:
                res.accepted += 1
                return
            if r == 4:
                res.tempfails += 1
        if r == 5 or time.monotonic() - start > GIVE_UP:
            with res.lock:
                res.lost += 1
                res.lost_lines.append("lost %s (%dxx)" % (subject, r))
            return
        time.sleep(0.5)


def host(res, port, secs, rate, tag, threads):
    n = int(secs * rate)
    t0 = time.monotonic()
    for i in range(n):
        delay = t0 + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        t = threading.Thread(target=send, args=(res, port, "%s-%d-%d" % (tag, port, i)))
        t.start()
        threads.append(t)


def main():
    secs, rate, tag = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    ports = [int(p) for p in sys.argv[4:]]
    res, threads, hosts = Result(), [], []
    for p in ports:
        h = threading.Thread(target=host, args=(res, p, secs, rate, tag, threads))
        h.start()
        hosts.append(h)
    for h in hosts:
        h.join()
    for t in list(threads):
        t.join()
    for line in res.lost_lines:
        print(line)
    print("sent %d accepted %d lost %d tempfails %d max_step_ms %d slow_steps %d" % (
        res.sent, res.accepted, res.lost, res.tempfails, res.max_step * 1000, res.slow))


if __name__ == "__main__":
    main()
