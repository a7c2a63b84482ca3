"""dkimsign.py - a small DKIM signer for the differential suite, written from
RFC 6376 (sections 3.4, 3.5, 3.7) and RFC 8463, that will make the broken
signatures libraries refuse to make: missing or duplicate tags, upper-case
tag names, From left out of h=, l= longer than the body, expired x=, a
d= with white space, and so on.  Every signature it makes is
cryptographically valid over exactly the header text it writes, so a
verifier that accepts a forbidden form shows it by saying "pass".

  canon_body(body, alg)             canonicalized body (RFC 6376 3.4.3-3.4.4)
  canon_header(line, alg)           one canonicalized header field (3.4.1-3.4.2)
  select_headers(headers, names)    the fields h= names, bottom-up (5.4.2)
  sign(headers, body, key, tags, ...) -> "DKIM-Signature: ..." header line

Messages are (headers, body): headers a list of raw "Name: value" strings
(folded lines joined by CRLF), body bytes with CRLF line ends.  Keys are
`cryptography` private keys (RSA or Ed25519).
"""
import base64
import hashlib
import re

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding


def canon_body(body, alg):
    """RFC 6376 3.4.3 (simple) and 3.4.4 (relaxed)."""
    if alg == 'simple':
        return canon_body_simple(body)
    lines = body.split(b'\r\n')
    lines = [re.sub(rb'[ \t]+', b' ', ln).rstrip(b' \t') for ln in lines]
    body = b'\r\n'.join(lines).rstrip(b'\r\n')
    return body + b'\r\n' if body else b''


def _strip_trailing_empty(body):
    while body.endswith(b'\r\n\r\n'):
        body = body[:-2]
    return body


def canon_body_simple(body):
    if body == b'' or set(body.split(b'\r\n')) <= {b''}:
        return b'\r\n'
    if not body.endswith(b'\r\n'):
        body += b'\r\n'
    return _strip_trailing_empty(body)


def canon_header(line, alg):
    """One header field, with its CRLF."""
    if alg == 'simple':
        return line + '\r\n'
    name, _, value = line.partition(':')
    value = re.sub(r'\r\n(?=[ \t])', '', value)
    value = re.sub(r'[ \t]+', ' ', value).strip(' \t')
    return name.strip(' \t').lower() + ':' + value + '\r\n'


def select_headers(headers, names):
    """For each name in h= the last not yet used instance (RFC 6376 5.4.2);
    a name with no instance left contributes nothing."""
    used = set()
    out = []
    for name in names:
        for i in range(len(headers) - 1, -1, -1):
            if i in used:
                continue
            if headers[i].split(':', 1)[0].strip().lower() == name.strip().lower():
                used.add(i)
                out.append(headers[i])
                break
    return out


def body_hash(body, bcanon, hashname, length=None):
    cb = canon_body(body, bcanon)
    if length is not None:
        cb = cb[:length]
    return base64.b64encode(hashlib.new(hashname, cb).digest()).decode()


def _sign_bytes(key, data, hashname):
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(hashlib.sha256(data).digest())      # RFC 8463 section 3
    h = hashes.SHA1() if hashname == 'sha1' else hashes.SHA256()
    return key.sign(data, padding.PKCS1v15(), h)


def sign(headers, body, key, tags, canon='relaxed/relaxed', hashname='sha256',
         hnames=None, length=None, fold=False, suffix=''):
    """TAGS: list of (name, value) written in that order; the value 'BH' is
    replaced by the body hash and 'B' by the signature (b= should be last).
    CANON, HASHNAME, HNAMES (the fields hashed) and LENGTH (the octets of the
    body hashed) are what the signature is COMPUTED with, whatever the tags
    say: that is how a forged or broken tag still carries a valid signature.
    SUFFIX is written after the last tag (e.g. a trailing ";").
    Returns the header line "DKIM-Signature: ..." (no CRLF)."""
    hc, _, bc = canon.partition('/')
    bc = bc or 'simple'
    bh = body_hash(body, bc, hashname, length)
    parts = []
    for name, value in tags:
        parts.append('%s=%s' % (name, bh if value == 'BH' else ('' if value == 'B' else value)))
    sep = ';\r\n\t' if fold else '; '
    unsigned = 'DKIM-Signature: ' + sep.join(parts) + suffix
    if hnames is None:
        hnames = [t[1] for t in tags if t[0] == 'h'][0].split(':')
    data = ''.join(canon_header(h, hc) for h in select_headers(headers, hnames))
    data += canon_header(unsigned, hc)[:-2]
    sig = base64.b64encode(_sign_bytes(key, data.encode('utf-8', 'surrogateescape'), hashname)).decode()
    if tags and tags[-1][1] == 'B':
        return unsigned[:len(unsigned) - len(suffix)] + sig + suffix
    return unsigned.replace('b=;', 'b=%s;' % sig, 1)
