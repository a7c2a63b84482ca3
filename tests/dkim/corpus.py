#!/usr/bin/python3
"""corpus.py DIR - the signing corpus of tests/integration/dkim_engine_sign.sh
(issue 16): messages on the wire (CRLF) whose bodies are 2 KB, 20 KB and
200 KB of text with white space runs and trailing white space, 8-bit bytes,
long lines, an empty body, a body without a final CRLF, bodies of only
CRLFs and of blank lines after the text.  The headers repeat To, fold
Subject with white space around the fold and use odd case, so h= ordering
and header canonicalization are exercised too."""
import os
import sys

HEAD = (b"Received: from client.example (client.example [192.0.2.1])\r\n"
        b"\tby mx.example.test; Sat, 21 Nov 2026 12:00:00 +0000\r\n"
        b"From: Alice <alice@example.test>\r\n"
        b"To: bob@example.org\r\n"
        b"SUBJECT:  corpus %s \r\n\t  folded\t line  \r\n"
        b"Date: Sat, 21 Nov 2026 12:00:00 +0000\r\n"
        b"Message-ID: <%s@example.test>\r\n"
        b"to:carol@example.org\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"X-Unsigned: not in h=\r\n"
        b"\r\n")


def text(size):
    """lines of text up to SIZE bytes, with runs and trailing white space"""
    out, i = [], 0
    while sum(len(x) for x in out) < size:
        line = b"line %d: the quick  brown fox\tjumps over  the lazy dog" % i
        if i % 3 == 0:
            line += b"   "
        if i % 5 == 0:
            line += b"\t \t"
        if i % 7 == 0:
            line = b"  " + line
        out.append(line + b"\r\n")
        i += 1
    return b"".join(out)


def bodies():
    yield "2k", text(2048)
    yield "20k", text(20 * 1024)
    yield "200k", text(200 * 1024)
    yield "8bit", ("Grüße, ça va? Ωμέγα 日本語\r\n".encode() +
                   bytes(range(0x80, 0x100)) + b"\r\n" + b"\xff\xfe tail \r\n")
    yield "longlines", (b"x" * 10000 + b"\r\n" + b"a" + b" " * 500 + b"b\r\n" +
                        b" \t \r\n" + b"y" * 3000 + b"   \r\n")
    yield "empty", b""
    yield "nofinalcrlf", b"first line\r\nlast line without its end"
    yield "onlycrlf", b"\r\n\r\n\r\n"
    yield "onecrlf", b"\r\n"
    yield "trailingblank", b"text\r\n \t\r\n\r\n\t\r\n"


def main():
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    for name, body in bodies():
        with open(os.path.join(d, name + ".eml"), "wb") as f:
            f.write(HEAD % (name.encode(), name.encode()) + body)


main()
