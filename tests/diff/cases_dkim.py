"""cases_dkim.py - the DKIM cases of the differential suite: canonicalization,
l=, x=/t=, tag syntax, key records, several signatures.  Each case names
the RFC section that gives its answer (the result sets: genlib.py).
"""
import base64
import os

import dkimsign
from genlib import (BAD, BODY, FAIL, HN, KEYBAD, KEYS, MAYPASS, NOW, PASS, WEAK,
                    b64der, case, headers, key_txt, one, rec, signed, tags, txt)


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
