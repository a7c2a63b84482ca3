#!/usr/bin/python3
"""judge_dkimpy.py - the DKIM signatures of the differential suite judged by
dkimpy (Debian python3-dkim), asking the same PowerDNS.

  judge_dkimpy.py OUTDIR DNSPORT

One JSON line per case: {"name", "dkim": ["pass" | "nopass" | "temperror"
per signature, top to bottom]}.  dkimpy answers True or False (or raises),
so it is compared on pass / not pass / temporary error only.  Its key
lookup is its own get_txt_dnspython (dkim/dnsplug.py: the first TXT RR,
its strings joined), pointed at the scratch server.
"""
import json
import logging
import sys

import dkim
import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver

OUT, PORT = sys.argv[1], int(sys.argv[2])
RES = dns.resolver.Resolver(configure=False)
RES.nameservers = ['127.0.0.1']
RES.port = PORT


def get_txt(name, timeout=5):
    """dkim/dnsplug.py get_txt_dnspython, on our resolver."""
    if isinstance(name, bytes):
        name = name.decode('ascii', 'replace')
    try:
        a = RES.resolve(name, dns.rdatatype.TXT, raise_on_no_answer=False, lifetime=timeout)
        for r in a.response.answer:
            if r.rdtype == dns.rdatatype.TXT:
                return b''.join(list(r.items)[0].strings)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoNameservers, dns.name.LabelTooLong,
            dns.name.EmptyLabel, dns.name.BadEscape):
        pass
    except dns.exception.Timeout as e:
        raise dkim.DnsTimeoutError(str(e))
    return None


def judge(msg):
    d = dkim.DKIM(msg, logger=logging.getLogger('dkimpy'))
    n = len([1 for k, _ in d.headers if k.lower() == b'dkim-signature'])
    out = []
    for i in range(n):
        try:
            out.append('pass' if dkim.DKIM(msg, logger=d.logger).verify(idx=i, dnsfunc=get_txt) else 'nopass')
        except dkim.DnsTimeoutError:
            out.append('temperror')
        except dkim.DKIMException:
            out.append('nopass')
        except Exception:       # a crash on hostile input is not a pass
            out.append('nopass')
    return out


def main():
    logging.basicConfig(level=logging.CRITICAL)
    with open(OUT + '/cases.json') as f:
        cases = json.load(f)
    for c in cases:
        with open('%s/msgs/%s.eml' % (OUT, c['name']), 'rb') as f:
            msg = f.read()
        print(json.dumps({'name': c['name'], 'dkim': judge(msg)}), flush=True)


if __name__ == '__main__':
    main()
