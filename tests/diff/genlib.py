"""genlib.py - what the case modules of the differential suite share: the
keys, the DNS records and cases collected so far, the message and
signature builders, and the RFC 8601 result sets a case may accept.

  make_keys()                      fresh keys (RSA 2048 x2, 1024, 512; Ed25519)
  txt/rec/key_txt(...)             add a DNS record (TXT strings split at 255)
  headers(), tags(), signed()      a message's fields, a signature's tags, the
                                   signature made by dkimsign.py over them
  case(...), one(...)              add a case (one: one signature, optional
                                   damage in transit after signing)
  zones()                          the records as PowerDNS "POST /zones" bodies
"""
import base64
import os
import subprocess
import sys
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dkimsign  # noqa: E402

NOW = int(time.time())
IP = '192.0.2.10'           # the client of every message (TEST-NET-1)
HELO = 'client.diff.test'
ENV = 'bounce@env.test'     # envelope sender without SPF: spf=none

# acceptable RFC 8601 section 2.7.1 dkim= results
PASS = ['pass']
FAIL = ['fail']               # verification failed (RFC 6376 6.1.3)
BAD = ['neutral', 'permerror']  # does not parse / cannot be processed (6.1.1)
KEYBAD = ['neutral', 'permerror', 'fail']  # PERMFAIL from the key (6.1.2)
WEAK = ['policy', 'fail', 'neutral', 'permerror']  # RFC 8301: never valid
MAYPASS = ['pass', 'neutral', 'permerror', 'policy']  # the RFC leaves it to the verifier

KEYS = {}
RECORDS = []    # (name, type, content) ; TXT content as a list of strings
CASES = []


def b64der(pub):
    if isinstance(pub, ed25519.Ed25519PublicKey):
        return base64.b64encode(pub.public_bytes(serialization.Encoding.Raw,
                                                 serialization.PublicFormat.Raw)).decode()
    return base64.b64encode(pub.public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)).decode()


def make_keys():
    KEYS['rsa'] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    KEYS['rsa-other'] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    KEYS['rsa1024'] = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    # cryptography refuses to make keys under 1024 bits; openssl makes it
    pem = subprocess.run(['openssl', 'genrsa', '512'], check=True, capture_output=True).stdout
    KEYS['rsa512'] = serialization.load_pem_private_key(pem, None)
    KEYS['ed'] = ed25519.Ed25519PrivateKey.generate()


def split255(s):
    return [s[i:i + 255] for i in range(0, len(s), 255)] or ['']


def txt(name, content, parts=None):
    """A TXT record; PARTS: explicit character-strings (split records)."""
    RECORDS.append((name, 'TXT', parts or split255(content)))


def rec(name, rtype, content):
    RECORDS.append((name, rtype, content))


def key_txt(sel, dom, keyname='rsa', pre='v=DKIM1; k=rsa; ', post=''):
    txt('%s._domainkey.%s' % (sel, dom), pre + 'p=' + b64der(KEYS[keyname].public_key()) + post)


# ---- messages -------------------------------------------------------------

BODY = (b'Hello,\r\n\r\nThis is a test message for the differential suite.\r\n'
        b'  It has  some   white space,\t tabs \t and trailing blanks.   \r\n'
        b'\r\n-- \r\nsender\r\n')


def headers(frm='Alice <a@dk.test>', subject='diff test', extra=()):
    h = []
    if frm is not None:
        for f in (frm if isinstance(frm, list) else [frm]):
            h.append('From: ' + f)
    h += ['To: bob@rcpt.test', 'Subject: ' + subject,
          'Date: Sun, 06 Dec 2026 08:00:00 +0000',
          'Message-ID: <%d.diff@dk.test>' % len(CASES)]
    h += list(extra)
    return h


HN = 'from:to:subject:date:message-id'


def tags(d='dk.test', s='r1', a='rsa-sha256', c='relaxed/relaxed', h=HN, extra=(), t=True):
    tl = [('v', '1'), ('a', a), ('c', c), ('d', d), ('s', s)]
    if t:
        tl.append(('t', str(NOW - 60)))
    tl += list(extra)
    tl += [('h', h), ('bh', 'BH'), ('b', 'B')]
    return tl


def signed(hdrs, body, key='rsa', tl=None, canon=None, hashname='sha256', hnames=None,
           length=None, fold=False, suffix=''):
    tl = tl or tags()
    if canon is None:
        cv = [v.strip() for n, v in tl if n.strip().lower() == 'c']
        canon = cv[0] if cv and cv[0] in ('relaxed/relaxed', 'simple/simple', 'relaxed/simple',
                                          'simple/relaxed', 'relaxed', 'simple') else 'simple/simple'
        canon = {'relaxed': 'relaxed/simple'}.get(canon, canon)
    return dkimsign.sign(hdrs, body, KEYS[key], tl, canon=canon, hashname=hashname,
                         hnames=hnames if hnames is not None else HN.split(':'),
                         length=length, fold=fold, suffix=suffix)


def sig_a(hdrs):
    """per DKIM-Signature: its a= value, 'absent' without an a= tag, or
    None when it cannot be told (a= twice): what header.a may say"""
    out = []
    for h in hdrs:
        name, _, value = h.partition(':')
        if name.strip().lower() != 'dkim-signature':
            continue
        tl = [t.partition('=') for t in value.split(';')]
        a = [v.replace('\r\n', '').strip() for n, eq, v in tl if eq and n.strip() == 'a']
        out.append(a[0] if len(a) == 1 else ('absent' if not a else None))
    return out


def case(name, rfc, hdrs, body, dkim, dmarc, dis=None, mailfrom=ENV, note=''):
    CASES.append({'name': name, 'rfc': rfc, 'note': note, 'mailfrom': mailfrom, 'siga': sig_a(hdrs),
                  'ip': IP, 'helo': HELO, 'dkim': dkim, 'dmarc': dmarc, 'dis': dis,
                  'msg': ('\r\n'.join(hdrs) + '\r\n\r\n').encode('utf-8', 'surrogateescape') + body})


def one(name, rfc, want, tl=None, key='rsa', frm='Alice <a@dk.test>', body=BODY, mutate=None,
        dmarc=None, dis=None, note='', **kw):
    """A message with one signature made from TL; MUTATE(headers, body) may
    change the signed message after signing (transit damage)."""
    h = headers(frm)
    sig = signed(h, body, key=key, tl=tl, **kw)
    h = [sig] + h
    if mutate:
        h, body = mutate(h, body)
    if dmarc is None:   # From a@dk.test, p=reject: DMARC passes by this signature alone
        dmarc = ['pass'] if want == PASS else (['fail'] if 'pass' not in want else ['pass', 'fail'])
        dis = dis or (['none'] if dmarc == ['pass'] else (['reject'] if dmarc == ['fail'] else None))
    case(name, rfc, h, body, [want], dmarc, dis, note=note)



def zones():
    """The records as PowerDNS zones: test., uk., io."""
    out = {}
    for zone in ('test', 'uk', 'io'):
        out[zone] = {}
    for name, rtype, content in RECORDS:
        zone = name.rsplit('.', 1)[-1]
        key = (name + '.', rtype)
        if rtype == 'TXT':
            content = ' '.join('"%s"' % s.replace('\\', '\\\\').replace('"', '\\"') for s in content)
        out[zone].setdefault(key, []).append({'content': content, 'disabled': False})
    bodies = []
    for zone, sets in out.items():
        rr = [{'name': zone + '.', 'type': 'SOA', 'ttl': 60, 'changetype': 'REPLACE',
               'records': [{'content': 'ns.test. hostmaster.test. 1 3600 600 86400 60', 'disabled': False}]},
              {'name': zone + '.', 'type': 'NS', 'ttl': 60, 'changetype': 'REPLACE',
               'records': [{'content': 'ns.test.', 'disabled': False}]}]
        for (name, rtype), records in sets.items():
            rr.append({'name': name, 'type': rtype, 'ttl': 60, 'changetype': 'REPLACE', 'records': records})
        bodies.append({'name': zone + '.', 'kind': 'Native', 'nameservers': [], 'rrsets': rr})
    return bodies
