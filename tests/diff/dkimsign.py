"""dkimsign.py - a small DKIM signer for the differential suite, written from
RFC 6376 (sections 3.4, 3.5, 3.7) and RFC 8463, that will make the broken
signatures libraries refuse to make: missing or duplicate tags, upper-case
tag names, From left out of h=, l= longer than the body, expired x=, a
d= with white space, and so on.  Every signature it makes is
cryptographically valid over exactly the header text it writes, so a
verifier that accepts a forbidden form shows it by saying "pass".  Also
the signer of tests/integration/milter_verdicts.sh (the command below).

  canon_body(body, alg)             canonicalized body (RFC 6376 3.4.3-3.4.4)
  canon_header(line, alg)           one canonicalized header field (3.4.1-3.4.2)
  select_headers(headers, names)    the fields h= names, bottom-up (5.4.2)
  sign(headers, body, key, tags, ...) -> "DKIM-Signature: ..." header line
  sign_text(headers, body, key, text, ...)  the same, tags as one raw text
  split_message(raw)                (fields, body) of a message file's bytes

  dkimsign.py sign MSGFILE KEY.pem TAGS > signed.eml
      TAGS: the DKIM-Signature value up to "bh=", written as given ("{T}"
      becomes now), relaxed/relaxed; the message follows with LF line ends

Messages are (headers, body): headers a list of raw "Name: value" strings
(folded lines joined by CRLF), body bytes with CRLF line ends.  Keys are
`cryptography` private keys (RSA or Ed25519).
"""
import base64
import hashlib
import re
import sys
import time

from cryptography.hazmat.primitives import hashes, serialization
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
    sig = _signature(headers, unsigned, key, hc, hashname, hnames)
    if tags and tags[-1][1] == 'B':
        return unsigned[:len(unsigned) - len(suffix)] + sig + suffix
    return unsigned.replace('b=;', 'b=%s;' % sig, 1)


def sign_text(headers, body, key, text, canon='relaxed/relaxed', hashname='sha256'):
    """TEXT: the tag list up to bh=, written as given however broken (no v=,
    d= with a space, s=r(s)a); " bh=...; b=..." is appended.  The fields
    hashed are those its h= names (none without one).  Returns the header
    line "DKIM-Signature: ..." (no CRLF)."""
    hc, _, bc = canon.partition('/')
    unsigned = 'DKIM-Signature: %s bh=%s; b=' % (text, body_hash(body, bc or 'simple', hashname))
    h = re.search(r'(?:^|;)\s*h=([^;]*)', text)
    hnames = h.group(1).split(':') if h else []
    return unsigned + _signature(headers, unsigned, key, hc, hashname, hnames)


def _signature(headers, unsigned, key, hc, hashname, hnames):
    """b= of UNSIGNED (its b= empty) over the fields HNAMES selects."""
    data = ''.join(canon_header(h, hc) for h in select_headers(headers, hnames))
    data += canon_header(unsigned, hc)[:-2]
    return base64.b64encode(_sign_bytes(key, data.encode('utf-8', 'surrogateescape'), hashname)).decode()


def split_message(raw):
    """(fields, body) of a message's bytes (LF or CRLF): fields bytes, folded
    lines joined by CRLF; body with CRLF line ends."""
    raw = raw.replace(b'\r\n', b'\n')
    head, _, body = raw.partition(b'\n\n')
    fields = []
    for line in head.split(b'\n'):
        if line[:1] in (b' ', b'\t') and fields:
            fields[-1] += b'\r\n' + line
        elif line:
            fields.append(line)
    return fields, body.replace(b'\n', b'\r\n')


def main(argv):
    """sign MSGFILE KEY.pem TAGS: the message with the signature on top."""
    if len(argv) != 4 or argv[0] != 'sign':
        print('usage: dkimsign.py sign MSGFILE KEY.pem TAGS', file=sys.stderr)
        sys.exit(64)                                        # EX_USAGE
    raw = open(argv[1], 'rb').read()
    key = serialization.load_pem_private_key(open(argv[2], 'rb').read(), password=None)
    fields, body = split_message(raw)
    headers = [f.decode('utf-8', 'surrogateescape') for f in fields]
    line = sign_text(headers, body, key, argv[3].replace('{T}', str(int(time.time()))))
    sys.stdout.buffer.write(line.encode('utf-8', 'surrogateescape') + b'\n'
                            + raw.replace(b'\r\n', b'\n'))


if __name__ == '__main__':
    main(sys.argv[1:])
