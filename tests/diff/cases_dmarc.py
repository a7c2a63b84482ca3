"""cases_dmarc.py - the From and DMARC cases of the differential suite: From
forms, p/sp/np/adkim/aspf/pct/t, record syntax, and organizational domains
by the Public Suffix List (RFC 7489 3.2) where the RFC 9989 tree walk
agrees.
"""
from genlib import (BAD, BODY, ENV, FAIL, IP, KEYBAD, PASS,
                    case, headers, key_txt, rec, signed, tags, txt)


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
