#!/usr/bin/python3
"""gen.py - the edge-case messages of the differential DKIM/DMARC suite, the
DNS data they need, and the RFC's answer for each (issue 12).

  gen.py OUTDIR     writes OUTDIR/cases.json (one object per case),
                    OUTDIR/msgs/NAME.eml and OUTDIR/zones.json (PowerDNS
                    "POST /zones" bodies), with fresh keys made here

Each case says, beside its message, what RFC 6376 / 8301 / 8463 / 8601 and
RFC 7489 / 9989 want, and the section that says it:

  dkim   one set of acceptable RFC 8601 result words per DKIM-Signature,
         top to bottom (a set where the RFCs leave a choice: a signature
         that does not parse may be reported neutral or permerror, never
         policy and never temperror)
  dmarc  the acceptable dmarc= results; dis: the acceptable dispositions

The messages are signed by dkimsign.py (our signer), so a signature can be
broken in exactly one way and still be cryptographically valid.  Times (t=,
x=) are relative to now: run it just before judging.
"""
import base64
import json
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


# ---- the DKIM cases ------------------------------------------------------

def dkim_cases():
    R = 'RFC 6376 '
    # canonicalization (3.4): a valid signature in each mode passes
    for c in ('relaxed/relaxed', 'simple/simple', 'relaxed/simple', 'simple/relaxed'):
        one('canon-' + c.replace('/', '-'), R + '3.4', PASS, tags(c=c))
    one('canon-default-simple', R + '3.5 c= (default simple/simple)', PASS,
        [t for t in tags() if t[0] != 'c'], canon='simple/simple')
    one('canon-header-only-relaxed', R + '3.5 c= ("relaxed" = relaxed/simple)', PASS,
        tags(c='relaxed'), canon='relaxed/simple')
    one('canon-unknown', R + '3.5 c=, 6.1.1 (unknown canonicalization)', BAD,
        tags(c='nonesuch/relaxed'), canon='relaxed/relaxed')

    def ws_body(h, b):
        return h, b.replace(b'some   white', b'some white').replace(b'blanks.   \r\n', b'blanks.\r\n')

    def ws_header(h, b):
        return [x.replace('Subject: diff test', 'Subject:   diff    test  ') for x in h], b

    def case_header(h, b):
        return [x.replace('Subject:', 'SUBJECT:') for x in h], b

    def more_lines(h, b):
        return h, b + b'\r\n\r\n\r\n'

    one('relaxed-body-ws-changed', R + '3.4.4', PASS, tags(c='relaxed/relaxed'), mutate=ws_body)
    one('simple-body-ws-changed', R + '3.4.3, 6.1.3 (body hash)', FAIL, tags(c='simple/simple'),
        mutate=ws_body)
    one('relaxed-header-ws-changed', R + '3.4.2', PASS, tags(c='relaxed/relaxed'), mutate=ws_header)
    one('simple-header-ws-changed', R + '3.4.1, 6.1.3', FAIL, tags(c='simple/simple'),
        mutate=ws_header)
    one('relaxed-header-case-changed', R + '3.4.2 (names lower-cased)', PASS, tags(c='relaxed/simple'),
        mutate=case_header)
    one('simple-header-case-changed', R + '3.4.1', FAIL, tags(c='simple/simple'), mutate=case_header)
    one('simple-trailing-empty-lines', R + '3.4.3 (empty lines at the end ignored)', PASS,
        tags(c='simple/simple'), mutate=more_lines)
    one('relaxed-trailing-empty-lines', R + '3.4.4', PASS, tags(c='relaxed/relaxed'), mutate=more_lines)
    one('simple-empty-body', R + '3.4.3 (empty body = CRLF)', PASS, tags(c='simple/simple'), body=b'')
    one('relaxed-empty-body', R + '3.4.4 (empty body = empty)', PASS, tags(c='relaxed/relaxed'), body=b'')
    one('body-without-final-crlf', R + '3.4.3 (CRLF added)', PASS, tags(c='simple/simple'),
        body=b'no newline at the end')
    one('folded-signature-simple', R + '3.4.1 (the signature header as it is)', PASS,
        tags(c='simple/simple'), fold=True)
    one('folded-signature-relaxed', R + '3.4.2', PASS, tags(c='relaxed/relaxed'), fold=True)

    def body_changed(h, b):
        return h, b.replace(b'test message', b'best message')

    def subject_changed(h, b):
        return [x.replace('Subject: diff test', 'Subject: diff best') for x in h], b

    one('body-changed', R + '6.1.3 (body hash did not verify)', FAIL, mutate=body_changed)
    one('signed-header-changed', R + '6.1.3 (signature did not verify)', FAIL, mutate=subject_changed)

    def unsigned_header_added(h, b):
        return h + ['X-Added: after signing'], b
    one('unsigned-header-added', R + '5.4 (only h= fields are signed)', PASS,
        mutate=unsigned_header_added)

    def from_added(h, b):
        return h + ['From: mallory@evil.test'], b
    one('second-from-added', R + '5.4.2, 6.1.3 (the last From is hashed)', FAIL,
        mutate=from_added, dmarc=['fail', 'permerror', 'none'], dis=None,
        note='two From fields: DMARC may refuse the message (RFC 7489 6.6.1)')

    def b_changed(h, b):
        s = h[0]
        i = s.index(' b=') + 10
        return [s[:i] + ('A' if s[i] != 'A' else 'B') + s[i + 1:]] + h[1:], b
    one('b-value-changed', R + '6.1.3', FAIL, mutate=b_changed)

    h = headers()
    tl = tags()
    sig = signed(h, BODY, tl=[(n, v if n != 'bh' else dkimsign.body_hash(b'other body\r\n', 'relaxed', 'sha256'))
                              for n, v in tl])
    case('bh-of-another-body', R + '6.1.3 step 3 (body hash)', [sig] + h, BODY, [FAIL], ['fail'], ['reject'])

    # l= (3.5, 3.4.5)
    cb = dkimsign.canon_body(BODY, 'relaxed')
    one('l-exact', R + '3.5 l=', PASS, tags(extra=[('l', str(len(cb)))]), length=len(cb))

    def appended(h, b):
        return h, b + b'Appended after signing.\r\n'
    one('l-shorter-text-appended', R + '3.5 l=, 8.2 (unsigned tail is allowed)', PASS,
        tags(extra=[('l', str(len(cb)))]), length=len(cb), mutate=appended)
    one('l-zero', R + '3.5 l= (0: no body octet signed)', PASS, tags(extra=[('l', '0')]), length=0)
    one('l-longer-than-body', R + '3.5 l= ("MUST NOT be larger than the actual number of octets")',
        BAD + ['fail'], tags(extra=[('l', str(len(cb) + 100))]))
    one('l-not-a-number', R + '3.5 l= (1*76DIGIT)', BAD, tags(extra=[('l', 'ten')]))

    # x= and t= (3.5, 6.1.1)
    one('x-expired', R + '3.5 x=, 6.1.1 (signature expired)', KEYBAD,
        tags(t=False, extra=[('t', str(NOW - 3 * 86400)), ('x', str(NOW - 2 * 86400))]))
    one('x-future', R + '3.5 x=', PASS, tags(t=False, extra=[('t', str(NOW - 60)), ('x', str(NOW + 86400))]))
    one('t-future', R + '3.5 t= (verifiers MAY ignore a future t=)', MAYPASS,
        tags(t=False, extra=[('t', str(NOW + 86400 * 30))]))
    one('x-before-t', R + '3.5 x= ("MUST be greater than the value of the t= tag")', KEYBAD,
        tags(t=False, extra=[('t', str(NOW + 7200)), ('x', str(NOW + 3600))]))
    one('t-not-a-number', R + '3.5 t= (1*12DIGIT)', BAD, tags(t=False, extra=[('t', 'yesterday')]))
    one('x-not-a-number', R + '3.5 x=', BAD, tags(extra=[('x', 'never')]))

    # tag-list syntax (3.2, 3.5, 6.1.1)
    one('no-v', R + '6.1.1 (v= is required)', BAD, [t for t in tags() if t[0] != 'v'])
    one('v-2', R + '6.1.1 (incompatible version)', BAD, [(n, '2' if n == 'v' else v) for n, v in tags()])
    one('upper-case-tag-names', R + '3.2 (tag names are case-sensitive: no v=, a=, ...)', BAD,
        [(n.upper(), v) for n, v in tags()])
    one('upper-case-d', R + '3.2, 6.1.1 (D= is not d=: d= missing)', BAD,
        [(n.upper() if n == 'd' else n, v) for n, v in tags()])
    one('duplicate-tag-same', R + '3.2 (a duplicate tag makes the tag-list invalid)', BAD,
        tags(extra=[('d', 'dk.test')]))
    one('duplicate-tag-different', R + '3.2', BAD, tags(extra=[('s', 'nokey')]))
    one('space-inside-d', R + '3.5 d= (domain-name syntax)', BAD, tags(d='dk. test'))
    one('space-inside-d-2', R + '3.5 d=', BAD, tags(d='d k.test'))
    one('ws-around-tags', R + '3.2 (FWS around "=" and ";")', PASS,
        [(' %s ' % n, ' %s ' % v if v not in ('BH', 'B') else v) for n, v in tags()])
    one('bad-selector-parens', R + '3.5 s= (selector syntax), never temperror', BAD, tags(s='r(s)a'))
    one('bad-selector-space', R + '3.5 s=', BAD, tags(s='r 1'))
    one('bad-selector-empty', R + '3.5 s= (required, non-empty)', BAD, tags(s=''))
    one('empty-d', R + '3.5 d= (required, non-empty)', BAD, tags(d=''))
    one('unknown-algorithm', R + '3.5 a=, 6.1.1 (unsupported algorithm)', BAD, tags(a='rsa-sha512'))
    one('rsa-sha1', 'RFC 8301 3.1 (rsa-sha1 MUST NOT be considered valid)', WEAK,
        tags(a='rsa-sha1'), hashname='sha1')
    one('i-outside-d', R + '3.5 i=, 6.1.1 (domain mismatch)', BAD, tags(extra=[('i', '@other.test')]))
    one('i-parent-of-d', R + '3.5 i= (must be d= or a subdomain)', BAD, tags(extra=[('i', '@test')]))
    one('i-lookalike', R + '3.5 i=', BAD, tags(extra=[('i', '@xdk.test')]))
    one('i-subdomain', R + '3.5 i=', PASS, tags(extra=[('i', 'joe@sub.dk.test')]))
    one('i-same-domain', R + '3.5 i=', PASS, tags(extra=[('i', 'joe@dk.test')]))
    one('unknown-tag', R + '3.2 (unknown tags are ignored)', PASS, tags(extra=[('zz', 'whatever')]))
    one('q-dns-txt', R + '3.5 q=', PASS, tags(extra=[('q', 'dns/txt')]))
    one('q-unknown', R + '3.5 q=, 6.1.2 (no supported query method)', BAD, tags(extra=[('q', 'http/well-known')]))
    one('d-upper-case', R + '3.5 d= (domain names are case-insensitive)', PASS, tags(d='DK.TEST'))
    one('s-upper-case', R + '3.6.2.1, RFC 4343 (DNS names are case-insensitive)', PASS, tags(s='R1'))
    one('z-copied-headers', R + '3.5 z= (diagnostic only)', PASS, tags(extra=[('z', 'From:a@dk.test')]))
    one('trailing-semicolon', R + '3.2 (tag-list may end in ";")', PASS, tags(), suffix=';')
    for miss in ('a', 'b', 'bh', 'd', 'h', 's'):
        tl = [t for t in tags() if t[0] != miss]
        if miss == 'b':
            tl.append(('b', 'B'))
            h = headers()
            sig = signed(h, BODY, tl=tl).rsplit('b=', 1)[0] + 'b='
            case('missing-b', R + '6.1.1 (b= empty)', [sig] + h, BODY, [BAD], ['fail'], ['reject'])
            continue
        if miss == 'h':
            one('missing-h', R + '6.1.1 (h= is required)', BAD, tl)
            continue
        one('missing-' + miss, R + '6.1.1 (required tag)', BAD, tl)
    one('from-not-in-h', R + '5.4, 6.1.1 (From field not signed)', BAD,
        tags(h='to:subject:date:message-id'), hnames=['to', 'subject', 'date', 'message-id'])
    one('h-empty', R + '6.1.1', BAD, tags(h=''), hnames=[])
    one('h-with-fws', R + '3.5 h= (FWS around ":")', PASS, tags(h='from : to :subject: date:message-id'))
    one('h-oversigned', R + '5.4.2 (a name with no field left is hashed as nothing)', PASS,
        tags(h=HN + ':from:subject:reply-to'), hnames=HN.split(':') + ['from', 'subject', 'reply-to'])

    def oversign_attack(h, b):
        return h + ['Subject: added after signing'], b
    one('h-oversigned-then-added', R + '5.4.2, 6.1.3', FAIL, tags(h=HN + ':subject'),
        hnames=HN.split(':') + ['subject'], mutate=oversign_attack)
    one('h-upper-case-names', R + '3.5 h= (names compared case-insensitively)', PASS,
        tags(h=HN.upper()), hnames=HN.split(':'))

    junk = 'Zk9v; ;;= ==\x01 \u00ff\u00fe garbage (not a tag-list) @@@'
    h = headers()
    case('random-bytes', R + '3.2, 6.1.1 (not a tag-list)', ['DKIM-Signature: ' + junk] + h, BODY,
         [BAD], ['fail'], ['reject'])
    h = headers()
    case('random-base64', R + '6.1.1', ['DKIM-Signature: ' + base64.b64encode(os.urandom(120)).decode()] + h,
         BODY, [BAD], ['fail'], ['reject'])
    h = headers()
    case('empty-signature', R + '6.1.1', ['DKIM-Signature: '] + h, BODY, [BAD], ['fail'], ['reject'])
    h = headers()
    sig = signed(h, BODY)
    folded = sig.replace(' b=', ' b=\r\n\t', 1)
    i = folded.index('b=\r\n\t') + 40
    folded = folded[:i] + '\r\n ' + folded[i:]
    case('fws-inside-b', R + '3.5 b= (FWS in the value is ignored)', [folded] + h, BODY, [PASS], ['pass'], ['none'])


def key_cases():
    R = 'RFC 6376 '
    D = 'dk.test'
    one('ed25519', 'RFC 8463 3', PASS, tags(s='e1', a='ed25519-sha256'), key='ed')
    one('rsa-1024', 'RFC 8301 3.2 (1024 bits and more)', PASS, tags(s='r1024'), key='rsa1024')
    one('rsa-512', 'RFC 8301 3.2 (keys under 1024 bits MUST NOT be valid)', WEAK, tags(s='r512'),
        key='rsa512')
    one('ed25519-sig-rsa-key', R + '6.1.2 (inappropriate key algorithm)', KEYBAD,
        tags(s='r1', a='ed25519-sha256'), key='ed')
    one('rsa-sig-ed25519-key', R + '6.1.2', KEYBAD, tags(s='e1'), key='rsa')
    one('ed25519-key-without-k', R + '3.6.1 k= (default rsa)', KEYBAD,
        tags(s='enok', a='ed25519-sha256'), key='ed')
    one('key-testing-t-y', R + '3.6.1 t=y (treat as unsigned; the result may still be reported)',
        ['pass', 'neutral', 'none'], tags(s='ty'), dmarc=['pass', 'fail'])
    one('key-t-s-same-domain', R + '3.6.1 t=s', PASS, tags(s='ts', extra=[('i', 'joe@dk.test')]))
    one('key-t-s-no-i', R + '3.6.1 t=s', PASS, tags(s='ts'))
    one('key-t-s-subdomain-i', R + '3.6.1 t=s ("the i= domain MUST NOT be a subdomain of d=")', KEYBAD,
        tags(s='ts', extra=[('i', 'joe@sub.dk.test')]))
    one('key-h-sha1-only', R + '3.6.1 h=, 6.1.2 (inappropriate hash algorithm)', KEYBAD, tags(s='hsha1'))
    one('key-h-sha256', R + '3.6.1 h=', PASS, tags(s='hsha256'))
    one('key-s-email', R + '3.6.1 s=', PASS, tags(s='semail'))
    one('key-s-star', R + '3.6.1 s=', PASS, tags(s='sstar'))
    one('key-s-other', R + '3.6.1 s= (verifiers MUST ignore a record not for "email")', KEYBAD,
        tags(s='sother'))
    one('key-s-list', R + '3.6.1 s= (colon-separated list)', PASS, tags(s='slist'))
    one('key-k-unknown', R + '3.6.1 k= (unrecognized key types MUST be ignored)', KEYBAD, tags(s='kdsa'))
    one('key-revoked', R + '3.6.1 p= (empty: revoked), 6.1.2', KEYBAD, tags(s='revoked'))
    one('key-split-strings', R + '3.6.2.2 (strings concatenated)', PASS, tags(s='split'))
    one('key-split-odd', R + '3.6.2.2', PASS, tags(s='splitodd'))
    one('key-absent', R + '6.1.2 step 3 (no key for signature)', KEYBAD, tags(s='nokey'))
    one('key-name-without-txt', R + '6.1.2 step 3', KEYBAD, tags(s='onlya'))
    one('key-syntax-error', R + '6.1.2 (key syntax error)', KEYBAD, tags(s='badp'))
    one('key-v-dkim2', R + '3.6.1 v= (other values MUST be discarded)', KEYBAD, tags(s='vdkim2'))
    one('key-v-not-first', R + '3.6.1 v= ("MUST be the first tag")', KEYBAD, tags(s='vlate'))
    one('key-without-v', R + '3.6.1 v= (RECOMMENDED, not required)', PASS, tags(s='nov'))
    one('key-upper-case-tags', R + '3.2 (P= is not p=: no key data)', KEYBAD, tags(s='upper'))
    one('key-white-space', R + '3.2, 3.6.1 (FWS around tags and inside p=)', PASS, tags(s='spaced'))
    one('key-unknown-tag', R + '3.6.1 (unknown tags ignored)', PASS, tags(s='unk'))
    one('key-duplicate-tag', R + '3.2 (duplicate tag: invalid record)', KEYBAD, tags(s='dup'))
    one('key-of-another-signer', R + '6.1.3 (signature did not verify)', FAIL, tags(s='wrong'))
    one('key-through-cname', 'RFC 1034 3.6.2, RFC 6376 3.6.2.1', PASS, tags(s='cn'))

    # keys: selector -> record
    key_txt('r1', D)
    txt('e1._domainkey.' + D, 'v=DKIM1; k=ed25519; p=' + b64der(KEYS['ed'].public_key()))
    txt('enok._domainkey.' + D, 'v=DKIM1; p=' + b64der(KEYS['ed'].public_key()))
    key_txt('r1024', D, 'rsa1024')
    key_txt('r512', D, 'rsa512')
    key_txt('ty', D, pre='v=DKIM1; k=rsa; t=y; ')
    key_txt('ts', D, pre='v=DKIM1; k=rsa; t=s; ')
    key_txt('hsha1', D, pre='v=DKIM1; k=rsa; h=sha1; ')
    key_txt('hsha256', D, pre='v=DKIM1; k=rsa; h=sha256; ')
    key_txt('semail', D, pre='v=DKIM1; k=rsa; s=email; ')
    key_txt('sstar', D, pre='v=DKIM1; k=rsa; s=*; ')
    key_txt('sother', D, pre='v=DKIM1; k=rsa; s=other; ')
    key_txt('slist', D, pre='v=DKIM1; k=rsa; s=other:email; ')
    key_txt('kdsa', D, pre='v=DKIM1; k=dsa; ')
    txt('revoked._domainkey.' + D, 'v=DKIM1; k=rsa; p=')
    p = 'v=DKIM1; k=rsa; p=' + b64der(KEYS['rsa'].public_key())
    txt('split._domainkey.' + D, p, parts=[p[:100], p[100:300], p[300:]])
    txt('splitodd._domainkey.' + D, p, parts=[p[:3], p[3:17], p[17:18], p[18:200], p[200:]])
    rec('onlya._domainkey.' + D, 'A', '192.0.2.99')
    txt('badp._domainkey.' + D, 'v=DKIM1; k=rsa; p=!!not*base64!!')
    key_txt('vdkim2', D, pre='v=DKIM2; k=rsa; ')
    key_txt('vlate', D, pre='k=rsa; v=DKIM1; ')
    key_txt('nov', D, pre='k=rsa; ')
    txt('upper._domainkey.' + D, 'V=DKIM1; K=rsa; P=' + b64der(KEYS['rsa'].public_key()))
    pk = b64der(KEYS['rsa'].public_key())
    txt('spaced._domainkey.' + D, 'v = DKIM1 ;  k = rsa ; p = %s %s %s' % (pk[:50], pk[50:120], pk[120:]))
    key_txt('unk', D, pre='v=DKIM1; k=rsa; zz=top; ')
    key_txt('dup', D, pre='v=DKIM1; k=rsa; p=%s; ' % pk)
    key_txt('wrong', D, 'rsa-other')
    rec('cn._domainkey.' + D, 'CNAME', 'keys.dk.test.')
    txt('keys.dk.test', 'v=DKIM1; k=rsa; p=' + pk)


def multi_cases():
    R = 'RFC 6376 '
    h = headers()
    s1 = signed(h, BODY, tl=tags(s='r1'))
    s2 = signed(h, BODY, key='ed', tl=tags(s='e1', a='ed25519-sha256'))
    case('two-good-rsa-ed25519', 'RFC 6376 4, RFC 8463', [s2, s1] + h, BODY, [PASS, PASS], ['pass'], ['none'])
    bad = signed(h, b'another body\r\n', tl=tags(s='r1'))
    case('good-then-bad', R + '4 (each signature on its own)', [s1, bad] + h, BODY, [PASS, FAIL],
         ['pass'], ['none'])
    case('bad-then-good', R + '4', [bad, s1] + h, BODY, [FAIL, PASS], ['pass'], ['none'])
    foreign = signed(h, BODY, tl=tags(d='other.test', s='r1'))
    case('foreign-good-aligned-bad', 'RFC 7489 3.1.1 (only an aligned pass counts)', [foreign, bad] + h,
         BODY, [PASS, FAIL], ['fail'], ['reject'])
    case('junk-then-good', R + '6.1 (a bad signature does not spoil a good one)',
         ['DKIM-Signature: v=1; a=rsa-sha256; d=dk.test; s=r(s)a; junk'] + [s1] + h, BODY, [BAD, PASS],
         ['pass'], ['none'])
    nov = signed(h, BODY, tl=[t for t in tags() if t[0] != 'v'])
    case('no-v-then-foreign', R + '6.1.1', [nov, foreign] + h, BODY, [BAD, PASS], ['fail'], ['reject'])
    key_txt('r1', 'other.test')


def from_cases():
    R = 'RFC 7489 '
    forms = [
        ('from-angle-only', '<a@dk.test>', ['pass'], R + '3.1 (author domain)'),
        ('from-quoted-display-addr', '"a@evil.test" <a@dk.test>', ['pass'], 'RFC 5322 3.4 (display name is not the address)'),
        ('from-comment', 'a@dk.test (Alice)', ['pass'], 'RFC 5322 3.4, 3.2.2'),
        ('from-comment-with-addr', '(x@evil.test) a@dk.test', ['pass'], 'RFC 5322 3.2.2 (a comment is not an address)'),
        ('from-upper-case-domain', 'Alice <a@DK.TEST>', ['pass'], 'RFC 7489 3.1 (domains compared case-insensitively)'),
        ('from-folded', 'Alice\r\n <a@dk.test>', ['pass'], 'RFC 5322 2.2.3'),
        ('from-display-evil', '"a@dk.test" <x@evil.test>', ['none'], R + '3.1 (the author is evil.test: no policy)'),
        ('from-two-mailboxes-one-domain', 'a@dk.test, b@dk.test', ['pass', 'permerror'], R + '6.6.1, RFC 9989 4.4 (one domain: may be evaluated)'),
        ('from-two-domains', 'a@dk.test, b@evil.test', ['fail', 'permerror'], R + '6.6.1 (several authors: never a pass)'),
        ('from-group', 'Friends: a@dk.test;', ['permerror', 'none'], 'RFC 5322 3.6.2 (From is a mailbox-list, no group)'),
        ('from-literal', 'a@[192.0.2.1]', ['permerror', 'none'], R + '6.6.1 (no usable domain)'),
        ('from-no-domain', 'alice', ['permerror', 'none'], R + '6.6.1'),
        ('from-empty', '', ['permerror', 'none'], R + '6.6.1'),
    ]
    for name, frm, dm, rfc in forms:
        h = headers(frm)
        case(name, rfc, [signed(h, BODY)] + h, BODY, [PASS], dm)
    h = headers(['a@dk.test', 'b@dk.test'])
    case('two-from-fields', R + '6.6.1 (several From fields); RFC 6376 8.15 (verifiers may refuse)',
         [signed(h, BODY)] + h, BODY, [PASS + KEYBAD], ['permerror', 'fail', 'pass'],
         note='RFC 7489 lets the receiver reject or evaluate')
    h = headers(None)
    case('no-from-field', R + '6.6.1, RFC 5322 3.6 (From is required)', [signed(h, BODY)] + h, BODY,
         [BAD + ['pass']], ['permerror', 'none'])


def dmarc_cases():
    R = 'RFC 7489 '
    B = 'RFC 9989 '
    recs = {
        'rej.test': 'v=DMARC1; p=reject',
        'quar.test': 'v=DMARC1; p=quarantine',
        'none.test': 'v=DMARC1; p=none',
        'sp.test': 'v=DMARC1; p=reject; sp=none',
        'np.test': 'v=DMARC1; p=reject; sp=none; np=quarantine',
        'strict.test': 'v=DMARC1; p=reject; adkim=s; aspf=s',
        'relaxed.test': 'v=DMARC1; p=reject; adkim=r; aspf=r',
        'pct0.test': 'v=DMARC1; p=reject; pct=0',
        'tmode.test': 'v=DMARC1; p=reject; t=y',
        'notfirst.test': 'p=reject; v=DMARC1',
        'badp.test': 'v=DMARC1; p=bogus; rua=mailto:dmarc@badp.test',
        'spaces.test': 'v=DMARC1 ; p = reject ;adkim = s',
        'unknowntag.test': 'v=DMARC1; p=reject; zz=1',
        'dk.test': 'v=DMARC1; p=reject',
        'spreject.test': 'v=DMARC1; p=none; sp=reject',
        'nop.test': 'v=DMARC1; rua=mailto:dmarc@nop.test',
        'lowerv.test': 'v=dmarc1; p=reject',
        'xn--bcher-kva.test': 'v=DMARC1; p=reject',
    }
    for dom, r in recs.items():
        txt('_dmarc.' + dom, r)
    for dom in recs:
        if dom != 'dk.test':
            key_txt('r1', dom)
        rec(dom, 'A', '192.0.2.20')
        txt(dom, 'v=spf1 ip4:%s -all' % IP)
    txt('_dmarc.two.test', 'v=DMARC1; p=reject')
    txt('_dmarc.two.test', 'v=DMARC1; p=none')
    key_txt('r1', 'two.test')
    for sub in ('sub.rej.test', 'x.sp.test', 'x.spreject.test', 'real.np.test', 'sub.strict.test', 'sub.relaxed.test'):
        rec(sub, 'A', '192.0.2.21')
        key_txt('r1', sub)
        txt(sub, 'v=spf1 ip4:%s -all' % IP)
    rec('nodmarc.test', 'A', '192.0.2.22')
    key_txt('r1', 'nodmarc.test')
    rec('env.test', 'A', '192.0.2.23')

    def dm(name, rfc, frm_dom, d, want, dis=None, mailfrom=ENV, sigok=True, note=''):
        h = headers('a@' + frm_dom)
        sig = signed(h, BODY if sigok else b'other body\r\n', tl=tags(d=d)) if d else None
        case(name, rfc, ([sig] if sig else []) + h, BODY, [PASS if sigok else FAIL] if d else [],
             want, dis, mailfrom=mailfrom, note=note)

    dm('dmarc-reject-pass', R + '6.6.2, 3.1.1', 'rej.test', 'rej.test', ['pass'], ['none'])
    dm('dmarc-reject-fail', R + '6.6.2, 6.6.4', 'rej.test', 'rej.test', ['fail'], ['reject'], sigok=False)
    dm('dmarc-reject-unaligned', R + '3.1.1', 'rej.test', 'other.test', ['fail'], ['reject'])
    dm('dmarc-quarantine-fail', R + '6.3 p=', 'quar.test', 'other.test', ['fail'], ['quarantine'])
    dm('dmarc-none-fail', R + '6.3 p=', 'none.test', 'other.test', ['fail'], ['none'])
    dm('dmarc-no-record', R + '6.6.3 (no policy: none)', 'nodmarc.test', 'nodmarc.test', ['none'])
    dm('dmarc-unsigned', R + '6.6.2', 'rej.test', None, ['fail'], ['reject'])
    dm('dmarc-org-fallback', R + '6.6.3 (organizational domain record)', 'sub.rej.test', 'other.test',
       ['fail'], ['reject'])
    dm('dmarc-org-relaxed-pass', R + '3.1.1 (relaxed: same organizational domain)', 'sub.rej.test',
       'rej.test', ['pass'], ['none'])
    dm('dmarc-sp-none', R + '6.3 sp=', 'x.sp.test', 'other.test', ['fail'], ['none'])
    dm('dmarc-np-nonexistent', B + '4.7 np= (non-existent subdomain)', 'ghost.np.test', 'other.test',
       ['fail'], ['quarantine'])
    dm('dmarc-np-existing-uses-sp', B + '4.7 np=, sp=', 'real.np.test', 'other.test', ['fail'], ['none'])
    dm('dmarc-adkim-s-subdomain-d', R + '3.1.1 adkim=s (exact match)', 'strict.test', 'sub.strict.test',
       ['fail'], ['reject'])
    dm('dmarc-adkim-s-exact', R + '3.1.1', 'strict.test', 'strict.test', ['pass'], ['none'])
    dm('dmarc-adkim-r-subdomain-d', R + '3.1.1 adkim=r', 'relaxed.test', 'sub.relaxed.test',
       ['pass'], ['none'])
    dm('dmarc-aspf-s-subdomain', R + '3.1.2 aspf=s', 'strict.test', None, ['fail'], ['reject'],
       mailfrom='b@sub.strict.test')
    dm('dmarc-aspf-s-exact', R + '3.1.2', 'strict.test', None, ['pass'], ['none'], mailfrom='b@strict.test')
    dm('dmarc-aspf-r-subdomain', R + '3.1.2 aspf=r', 'relaxed.test', None, ['pass'], ['none'],
       mailfrom='b@sub.relaxed.test')
    dm('dmarc-spf-unaligned', R + '3.1.2', 'rej.test', None, ['fail'], ['reject'], mailfrom='b@relaxed.test')
    dm('dmarc-pct0', R + '6.6.4 pct=0 (next policy down); RFC 9989 drops pct', 'pct0.test', 'other.test',
       ['fail'], ['quarantine', 'reject'])
    dm('dmarc-t-y', B + '4.7 t=y (one policy level down)', 'tmode.test', 'other.test', ['fail'],
       ['quarantine'])
    dm('dmarc-two-records', R + '6.6.3 (more than one record: none)', 'two.test', 'other.test', ['none'])
    dm('dmarc-v-not-first', R + '6.3 (v= must come first: no record)', 'notfirst.test', 'other.test', ['none'])
    dm('dmarc-bad-p-with-rua', R + '6.6.3 (invalid p= with rua: p=none)', 'badp.test', 'other.test',
       ['fail'], ['none'])
    dm('dmarc-spaces-in-record', R + '6.4 (WSP around tags)', 'spaces.test', 'sub.spaces.test',
       ['fail'], ['reject'], note='adkim=s read through the spaces')
    key_txt('r1', 'sub.spaces.test')
    dm('dmarc-sp-reject-p-none', R + '6.3 sp= (applies to subdomains only)', 'x.spreject.test',
       'other.test', ['fail'], ['reject'])
    dm('dmarc-sp-reject-p-none-apex', R + '6.3 p=', 'spreject.test', 'other.test', ['fail'], ['none'])
    dm('dmarc-quarantine-pass', R + '6.6.2', 'quar.test', 'quar.test', ['pass'], ['none'])
    dm('dmarc-no-p-with-rua', R + '6.6.3 (no valid p= but a rua=: as p=none)', 'nop.test', 'other.test',
       ['fail'], ['none'])
    dm('dmarc-v-lower-case', R + '6.4 (v=DMARC1 is %x44.4d.41.52.43.31: case-sensitive)', 'lowerv.test',
       'other.test', ['none'])
    dm('dmarc-a-label-domain', R + '3.1, RFC 5890 (the A-label form)', 'xn--bcher-kva.test',
       'xn--bcher-kva.test', ['pass'], ['none'])
    dm('dmarc-unknown-tag', R + '6.3 (unknown tags ignored)', 'unknowntag.test', 'unknowntag.test',
       ['pass'], ['none'])

    # the organizational domain by the Public Suffix List (RFC 7489 3.2)
    # and by the tree walk (RFC 9989 4.10): both agree on these
    txt('_dmarc.example.co.uk', 'v=DMARC1; p=reject')
    rec('example.co.uk', 'A', '192.0.2.30')
    rec('mail.example.co.uk', 'A', '192.0.2.31')
    key_txt('r1', 'example.co.uk')
    key_txt('r1', 'co.uk')
    rec('co.uk', 'A', '192.0.2.32')
    txt('_dmarc.user.github.io', 'v=DMARC1; p=reject')
    rec('user.github.io', 'A', '192.0.2.33')
    rec('github.io', 'A', '192.0.2.34')
    key_txt('r1', 'github.io')
    key_txt('r1', 'user.github.io')
    dm('psl-subdomain-of-co-uk', R + '3.2 (organizational domain example.co.uk)', 'mail.example.co.uk',
       'example.co.uk', ['pass'], ['none'])
    dm('psl-public-suffix-d', R + '3.2 (co.uk is a public suffix: no alignment)', 'mail.example.co.uk',
       'co.uk', ['fail'], ['reject'])
    dm('psl-private-suffix-d', R + '3.2 (github.io, private section)', 'user.github.io', 'github.io',
       ['fail'], ['reject'])
    dm('psl-private-suffix-exact', R + '3.1.1', 'user.github.io', 'user.github.io', ['pass'], ['none'])


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


def main():
    out = sys.argv[1]
    os.makedirs(os.path.join(out, 'msgs'), exist_ok=True)
    make_keys()
    dkim_cases()
    key_cases()
    multi_cases()
    from_cases()
    dmarc_cases()
    rec('ns.test', 'A', '192.0.2.53')
    names = set()
    meta = []
    for c in CASES:
        assert c['name'] not in names, c['name']
        names.add(c['name'])
        with open(os.path.join(out, 'msgs', c['name'] + '.eml'), 'wb') as f:
            f.write(c['msg'])
        m = dict(c)
        del m['msg']
        meta.append(m)
    with open(os.path.join(out, 'cases.json'), 'w') as f:
        json.dump(meta, f, indent=1)
    with open(os.path.join(out, 'zones.json'), 'w') as f:
        json.dump(zones(), f)
    print('%d cases' % len(CASES))


if __name__ == '__main__':
    main()
