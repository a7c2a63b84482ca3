#!/usr/bin/python3
"""compare.py - the verdicts of the differential suite against the RFC's
answer written beside each case (gen.py), and every Authentication-Results
value mxdock wrote against RFC 8601's grammar.

  compare.py OUTDIR INTEROP.md
  compare.py --selftest       the A-R parser on valid and invalid values

Reads OUTDIR/cases.json, OUTDIR/milter.jsonl, OUTDIR/mailauth.jsonl and
OUTDIR/dkimpy.jsonl.  Prints, per case:

  ok / not ok - mxdock NAME        mxdock's dkim= (each signature), dmarc=
                                   and dis= against the RFC's answer
  ok / not ok - A-R syntax NAME    RFC 8601 section 2.2 syntax of its A-R
  ok / not ok - mailauth NAME      the reference against the RFC: a
  ok / not ok - dkimpy NAME        disagreement is ok only when docs/INTEROP.md
                                   lists it (case and reference), and a
                                   listed one that no longer happens is not ok

and a closing "# cases: N, agreements: N, documented disagreements: N".
The references are compared on pass / not pass / temperror for DKIM (dkimpy
says no more than that) and on the dmarc= result word (mailauth).
"""
import json
import re
import sys


# ---- RFC 8601 section 2.2 ----------------------------------------------------

TSPECIALS = set('()<>@,;:\\"/[]?=')
ATEXT = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~")


class ARSyntax(Exception):
    pass


class ARParser:
    """authres-payload of RFC 8601 section 2.2 (with RFC 5322 CFWS, RFC 2045
    token, RFC 5321 Keyword, RFC 6376 domain-name)."""

    def __init__(self, text):
        self.s = text
        self.i = 0
        self.comments = []

    def fail(self, what):
        raise ARSyntax('%s at offset %d: %r' % (what, self.i, self.s[max(0, self.i - 20):self.i + 20]))

    def peek(self):
        return self.s[self.i] if self.i < len(self.s) else ''

    def cfws(self):
        while self.i < len(self.s):
            ch = self.s[self.i]
            if ch in ' \t':
                self.i += 1
            elif ch in '\r\n':
                # folding: CRLF (or LF, as milters hand it over) then WSP
                j = self.i + (2 if self.s.startswith('\r\n', self.i) else 1)
                if j < len(self.s) and self.s[j] in ' \t':
                    self.i = j
                else:
                    self.fail('line break not followed by white space')
            elif ch == '(':
                self.comment()
            else:
                break

    def comment(self):
        depth, start = 0, self.i
        while self.i < len(self.s):
            ch = self.s[self.i]
            if ch == '\\':
                self.i += 2
                continue
            if ch == '(':
                depth += 1
            elif ch == ')':
                depth -= 1
                if depth == 0:
                    self.i += 1
                    self.comments.append(self.s[start + 1:self.i - 1])
                    return
            elif ord(ch) < 32 and ch not in '\t\r\n':
                self.fail('control character in a comment')
            self.i += 1
        self.fail('unterminated comment')

    def quoted(self):
        if self.peek() != '"':
            return None
        j = self.i + 1
        while j < len(self.s):
            ch = self.s[j]
            if ch == '\\':
                j += 2
                continue
            if ch == '"':
                v = self.s[self.i:j + 1]
                self.i = j + 1
                return v
            if ord(ch) < 32 and ch not in '\t':
                self.fail('control character in a quoted-string')
            j += 1
        self.fail('unterminated quoted-string')

    def token(self):
        j = self.i
        while j < len(self.s) and 32 < ord(self.s[j]) < 127 and self.s[j] not in TSPECIALS:
            j += 1
        if j == self.i:
            return None
        v = self.s[self.i:j]
        self.i = j
        return v

    def value(self):
        v = self.quoted()
        return v if v is not None else self.token()

    def keyword(self):
        m = re.compile(r'[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?').match(self.s, self.i)
        if not m:
            return None
        self.i = m.end()
        return m.group(0)

    def domain_name(self):
        m = re.compile(r'[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?'
                       r'(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+').match(self.s, self.i)
        if not m:
            return None
        self.i = m.end()
        return m.group(0)

    def local_part(self):
        q = self.quoted()
        if q is not None:
            return q
        m = re.compile(r"[%s]+(?:\.[%s]+)*" % (re.escape(''.join(ATEXT)), re.escape(''.join(ATEXT)))).match(self.s, self.i)
        if not m:
            return None
        self.i = m.end()
        return m.group(0)

    def ends_here(self):
        return self.peek() in ('', ' ', '\t', '\r', '\n', ';', '(')

    def pvalue(self):
        self.cfws()
        start = self.i
        for alt in ('addr', 'domain', 'value'):
            self.i = start
            if alt == 'addr':
                lp = self.local_part() if self.peek() != '@' else ''
                if lp is None or self.peek() != '@':
                    continue
                self.i += 1
                v = self.domain_name()
            elif alt == 'domain':
                v = self.domain_name()
            else:
                v = self.value()
            if v is not None and self.ends_here():
                return self.s[start:self.i]
        self.i = start
        self.fail('property value that is neither a token, a quoted-string nor [local-part@]domain')

    def resinfo(self):
        """after ';': methodspec [reasonspec] *propspec -> (method, result, props)"""
        self.cfws()
        method = self.keyword()
        if not method:
            self.fail('method')
        self.cfws()
        if self.peek() == '/':
            self.i += 1
            self.cfws()
            if not re.compile(r'\d+').match(self.s, self.i):
                self.fail('method version')
            self.i = re.compile(r'\d+').match(self.s, self.i).end()
            self.cfws()
        if self.peek() != '=':
            self.fail('"=" after the method')
        self.i += 1
        self.cfws()
        result = self.keyword()
        if not result:
            self.fail('result')
        props = {}
        self.cfws()
        if self.s.startswith('reason', self.i):
            self.i += 6
            self.cfws()
            if self.peek() != '=':
                self.fail('"=" after reason')
            self.i += 1
            self.cfws()
            if self.value() is None:
                self.fail('reason value')
            self.cfws()
        while self.peek() not in ('', ';'):
            ptype = self.keyword()
            if not ptype:
                self.fail('ptype')
            self.cfws()
            if self.peek() != '.':
                self.fail('"." after ptype')
            self.i += 1
            self.cfws()
            prop = self.keyword()
            if not prop:
                self.fail('property')
            self.cfws()
            if self.peek() != '=':
                self.fail('"=" after the property')
            self.i += 1
            props['%s.%s' % (ptype, prop)] = self.pvalue()
            self.cfws()
        return method, result, props

    def payload(self):
        self.cfws()
        if self.value() is None:
            self.fail('authserv-id')
        self.cfws()
        if re.compile(r'\d').match(self.s, self.i):
            self.i = re.compile(r'\d+').match(self.s, self.i).end()
            self.cfws()
        out = []
        while self.peek() == ';':
            self.i += 1
            self.cfws()
            if self.s.startswith('none', self.i) and not out:
                self.i += 4
                self.cfws()
                if self.peek() == '':
                    return []
                self.fail('text after "none"')
            out.append(self.resinfo())
        if self.peek() != '' or not out:
            self.fail('resinfo')
        return out


def ar_syntax(value):
    """None when VALUE is a valid authres-payload, else why not."""
    try:
        ARParser(value).payload()
        return None
    except ARSyntax as e:
        return str(e)


# the parser's own cases: it must accept these and refuse those, or its
# verdict on mxdock's A-R means nothing (RFC 8601 sections 2.2 and 6)
AR_GOOD = [
    'example.com; none',
    'mx.example.org 1; spf=pass smtp.mailfrom=user@example.net',
    'mx.example.org; dkim=pass (2048-bit key) header.d=example.com header.s=sel header.a=rsa-sha256 header.b="UK/F/7gh"',
    'mx.example.org;\n\tdkim=neutral (bad format) header.d=example.com;\n\tdmarc=fail (p=reject sp=reject dis=reject) header.from=example.com',
    '"mx example"; auth=pass smtp.auth="user name"',
    'mx.example.org; dkim/1=pass reason="ok" header.i=@example.com',
    'mx.example.org; dkim=policy policy.dkim-rules=weak-key header.d=example.com',
]
AR_BAD = [
    'mx.example.org; dkim=pass header.b=UK/F/7gh',
    'mx.example.org; dkim=pass header.d= header.s=sel',
    'mx.example.org; dkim=pass header.s=r?s?a',
    'mx.example.org; dkim=pass header.s=',
    'mx.example.org; dkim=',
    'mx.example.org; dkim=pass (unterminated comment',
    'mx.example.org; dkim=pass header.b="unterminated',
    'mx.example.org',
    '; dkim=pass',
    'mx.example.org; dkim=pass header.d=a=b',
    'mx.example.org; dkim=pass\nheader.d=example.com',
]


def selftest():
    for v in AR_GOOD:
        e = ar_syntax(v)
        print('ok - A-R parser accepts %r' % v if not e else 'not ok - A-R parser accepts %r: %s' % (v, e))
    for v in AR_BAD:
        print('ok - A-R parser refuses %r' % v if ar_syntax(v) else 'not ok - A-R parser refuses %r: accepted' % v)


# ---- reading the verdicts -----------------------------------------------------

def split_resinfo(value):
    """the ';'-separated parts of an A-R value, comments and quotes respected"""
    parts, cur, depth, quote = [], '', 0, False
    for ch in value:
        if quote:
            quote = ch != '"'
        elif ch == '"':
            quote = True
        elif ch == '(':
            depth += 1
        elif ch == ')' and depth:
            depth -= 1
        elif ch == ';' and depth == 0:
            parts.append(cur)
            cur = ''
            continue
        cur += ch
    return parts[1:] + [cur] if parts else []


def mxdock_verdict(ar):
    """([dkim result...], dmarc result, dis, [header.a of each dkim= or None])"""
    dkim, dmarc, dis, alg = [], 'absent', None, []
    for part in split_resinfo(ar):
        m = re.match(r'\s*(\w+)\s*=\s*([\w-]+)', part)
        if not m:
            continue
        if m.group(1) == 'dkim':
            dkim.append(m.group(2))
            a = re.search(r'\bheader\.a\s*=\s*"?([^\s;"]*)', part)
            alg.append(a.group(1) if a else None)
        elif m.group(1) == 'dmarc':
            dmarc = m.group(2)
            d = re.search(r'\bdis=(\w+)', part)
            dis = d.group(1) if d else None
    return (dkim if dkim != ['none'] else []), dmarc, dis, alg


def coarse_want(accept):
    if accept == ['pass']:
        return 'pass'
    return 'any' if 'pass' in accept else 'nopass'


def coarse(word):
    return word if word in ('pass', 'temperror') else 'nopass'


def listed(path):
    out = {}
    with open(path) as f:
        for line in f:
            m = re.match(r'^\|\s*`([^`]+)`\s*\|\s*(mailauth|dkimpy)\s*\|', line)
            if m:
                out[(m.group(1), m.group(2))] = line.strip()
    return out


def load(path):
    out = {}
    try:
        with open(path) as f:
            for line in f:
                if line.strip():
                    d = json.loads(line)
                    out[d['name']] = d
    except FileNotFoundError:
        pass
    return out


def judge_mxdock(c, got):
    """'' when mxdock gives the RFC's answer, else what differs"""
    if got is None:
        return 'no answer from the milter'
    if len(got['ar']) != 1:
        return '%d Authentication-Results fields (reply %s)' % (len(got['ar']), got.get('reply'))
    dkim, dmarc, dis, alg = mxdock_verdict(got['ar'][0])
    why = []
    for i, (said, sig) in enumerate(zip(alg, c.get('siga', []))):
        # RFC 8601 2.7.1 header.a: the signature's a=, only when it has one
        if said is not None and sig is not None and said != sig:
            why.append('signature %d: header.a=%s, its a= is %s' % (i + 1, said, sig))
    if len(dkim) != len(c['dkim']) or any(g not in w for g, w in zip(dkim, c['dkim'])):
        why.append('dkim=%s, want %s' % (','.join(dkim) or 'none',
                                         ','.join('|'.join(w) for w in c['dkim']) or 'none'))
    if c['dmarc'] is not None and dmarc not in c['dmarc']:
        why.append('dmarc=%s, want %s' % (dmarc, '|'.join(c['dmarc'])))
    elif c['dis'] and dmarc in ('pass', 'fail') and dis not in c['dis']:
        why.append('dis=%s, want %s' % (dis, '|'.join(c['dis'])))
    return '; '.join(why)


def judge_ref(c, got, ref):
    if got is None:
        return 'no answer'
    why = []
    want = [coarse_want(w) for w in c['dkim']]
    have = [coarse(x) for x in got['dkim']]
    if len(have) != len(want) or any(w != 'any' and h != w for h, w in zip(have, want)):
        why.append('dkim %s, RFC: %s' % (','.join(got['dkim']) or 'none', ','.join(want) or 'none'))
    if ref == 'mailauth' and c['dmarc'] is not None and got['dmarc'] not in c['dmarc']:
        why.append('dmarc=%s, RFC: %s' % (got['dmarc'], '|'.join(c['dmarc'])))
    return '; '.join(why)


def main():
    if sys.argv[1:] == ['--selftest']:
        selftest()
        return
    out, interop = sys.argv[1], sys.argv[2]
    with open(out + '/cases.json') as f:
        cases = json.load(f)
    milter = load(out + '/milter.jsonl')
    refs = {'mailauth': load(out + '/mailauth.jsonl'), 'dkimpy': load(out + '/dkimpy.jsonl')}
    known = listed(interop)
    agree = documented = 0
    seen = set()
    for c in cases:
        n = c['name']
        why = judge_mxdock(c, milter.get(n))
        print('ok - mxdock %s' % n if not why else 'not ok - mxdock %s: %s (%s)' % (n, why, c['rfc']))
        all_agree = not why
        bad = [v for v in (milter.get(n) or {}).get('ar', [])]
        errs = [e for e in (ar_syntax(v) for v in bad) if e]
        if not bad:
            print('not ok - A-R syntax %s: no Authentication-Results to check' % n)
        elif errs:
            print('not ok - A-R syntax %s: %s' % (n, errs[0]))
        else:
            print('ok - A-R syntax %s' % n)
        for ref, res in refs.items():
            why = judge_ref(c, res.get(n), ref)
            key = (n, ref)
            seen.add(key)
            if not why:
                if key in known:
                    print('not ok - %s %s: agrees with the RFC now; remove it from docs/INTEROP.md' % (ref, n))
                else:
                    print('ok - %s %s' % (ref, n))
            elif key in known:
                documented += 1
                all_agree = False
                print('ok - %s %s: documented disagreement (%s)' % (ref, n, why))
            else:
                all_agree = False
                print('not ok - %s %s: %s (%s; not in docs/INTEROP.md)' % (ref, n, why, c['rfc']))
        agree += all_agree
    for key in sorted(set(known) - seen):
        print('not ok - docs/INTEROP.md lists %s for %s, which is not a case' % (key[1], key[0]))
    print('# cases: %d, agreements: %d, documented disagreements: %d' % (len(cases), agree, documented))


if __name__ == '__main__':
    main()
