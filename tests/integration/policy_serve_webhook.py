#!/usr/bin/env python3
"""policy_serve_webhook.py - Stalwart's telemetry webhook, as Stalwart sends
it, for tests/integration/policy_serve_http.sh.

Built from stalwartlabs/stalwart (commit d72608f3, read with the fetch tool):

- crates/common/src/telemetry/webhooks/mod.rs:97-99   the body is
  {"events": [...]} (struct EventWrapper), each event serialized with
  .with_id().with_spans() (mod.rs:110)
- mod.rs:134   the body is serde_json::to_string: compact, no spaces
- mod.rs:139-146   when the webhook has a key, header X-Signature =
  standard base64 (with padding) of HMAC-SHA256(key, body bytes)
- mod.rs:113-122   a non-2xx answer puts the batch back to be sent again;
  the ids are made anew then (crates/trc/src/serializers/json.rs:86-95:
  timestamp, a process-wide counter, the type's id, concatenated)
- crates/trc/src/serializers/json.rs:84-122   an event is a map in this
  order: "id", "createdAt" (RFC 3339), "type", "data"; data holds the
  event's keys, then its span's keys, each key once (json.rs:126-151)
- crates/trc/src/event/enums_impl.rs:689   type "auth.failed";
  enums_impl.rs:7898, 7924, 7938   keys "accountName", "listenerId",
  "remoteIp"; an IP is serialized as its text
- crates/common/src/auth/authentication.rs:70   a failed login's error gets
  RemoteIp; the session's span carries ListenerId, LocalPort, RemoteIp,
  RemotePort (crates/common/src/network/listen.rs:252-255)

Usage:
  policy_serve_webhook.py URL KEY IP N [--type=auth.failed] [--account=A]
      [--listener=imap] [--sign=good|wrong|none] [--save=FILE]
  policy_serve_webhook.py URL KEY --replay=FILE [--flip=OFFSET]
Prints "HTTP <code> <body>" for the one POST it makes (N events in one
batch).  --save keeps the body and its signature; --replay sends them again,
with the byte at OFFSET changed when --flip is given.
"""
import base64
import datetime
import hashlib
import hmac
import json
import sys
import time
import urllib.error
import urllib.request

# the type part of an id: any number will do here (ids are opaque to receivers)
TYPE_IDS = {"auth.failed": 47, "smtp.connection-start": 301}
counter = [0]


def event(typ, ip, account, listener, span_id):
    ts = int(time.time())
    counter[0] += 1
    data = {}
    if typ == "auth.failed":
        data["accountName"] = account            # the error's own keys
        data["spanId"] = span_id
        data["remoteIp"] = ip
    data.update({"listenerId": listener, "localPort": 143,   # the span's keys
                 "remoteIp": ip, "remotePort": 40000 + span_id % 20000})
    return {
        "id": "%d%d%d" % (ts, counter[0], TYPE_IDS.get(typ, 1)),
        "createdAt": datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
        .strftime("%Y-%m-%dT%H:%M:%SZ"),
        "type": typ,
        "data": data,
    }


def sign(key, body):
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def post(url, body, sig):
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    if sig is not None:
        req.add_header("X-Signature", sig)
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def main(argv):
    opts = dict(a[2:].split("=", 1) if "=" in a else (a[2:], "") for a in argv if a.startswith("--"))
    pos = [a for a in argv if not a.startswith("--")]
    url, key = pos[0], pos[1]
    if "replay" in opts:
        with open(opts["replay"], "rb") as f:
            sig, body = f.read().split(b"\n", 1)
        body = bytearray(body)
        if "flip" in opts:
            body[int(opts["flip"])] ^= 0x01
        code, text = post(url, bytes(body), sig.decode())
    else:
        ip, n = pos[2], int(pos[3])
        base = int(time.time() * 1000) % 1000000
        events = [event(opts.get("type", "auth.failed"), ip, opts.get("account", "user@example.org"),
                        opts.get("listener", "imap"), base + i) for i in range(n)]
        body = json.dumps({"events": events}, separators=(",", ":")).encode()
        mode = opts.get("sign", "good")
        sig = sign(key, body) if mode == "good" else sign(key + "x", body) if mode == "wrong" else None
        if "save" in opts:
            with open(opts["save"], "wb") as f:
                f.write((sig or "").encode() + b"\n" + body)
        code, text = post(url, body, sig)
    print("HTTP", code, text)


if __name__ == "__main__":
    main(sys.argv[1:])
