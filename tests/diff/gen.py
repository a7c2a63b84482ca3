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

The cases are in cases_dkim.py and cases_dmarc.py, their shared builders
and the result sets in genlib.py.  The messages are signed by dkimsign.py
(our signer), so a signature can be
broken in exactly one way and still be cryptographically valid.  Times (t=,
x=) are relative to now: run it just before judging.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases_dkim  # noqa: E402
import cases_dmarc  # noqa: E402
import genlib  # noqa: E402


def main():
    out = sys.argv[1]
    os.makedirs(os.path.join(out, 'msgs'), exist_ok=True)
    genlib.make_keys()
    cases_dkim.dkim_cases()
    cases_dkim.key_cases()
    cases_dkim.multi_cases()
    cases_dmarc.from_cases()
    cases_dmarc.dmarc_cases()
    genlib.rec('ns.test', 'A', '192.0.2.53')
    names = set()
    meta = []
    for c in genlib.CASES:
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
        json.dump(genlib.zones(), f)
    print('%d cases' % len(genlib.CASES))


if __name__ == '__main__':
    main()

