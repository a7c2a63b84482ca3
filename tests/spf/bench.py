#!/usr/bin/python3
"""bench.py - CPU per SPF check: mxdock's module against libspf2 alone.

  tests/spf/bench.sh [N]    (runs this in a network namespace: libspf2's
                            resolver needs the DNS server on port 53)

Serves a typical zone (a record with ip4, include, a and mx; the include has
its own ip4 and a) with TTL 300 (answers cached: the steady state of a busy
milter) or TTL 0 (every check asks DNS), then runs spfcheck -n N with and
without -l and prints the CPU time per check of the checking process.
"""
import os
import resource
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spfdns  # noqa: E402

ZONE = {
    'example.com': [{'TXT': 'v=spf1 ip4:198.51.100.0/24 include:_spf.example.net a mx -all'},
                    {'A': '203.0.113.10'}, {'MX': [10, 'mx.example.com']}],
    'mx.example.com': [{'A': '203.0.113.25'}],
    '_spf.example.net': [{'TXT': 'v=spf1 ip4:192.0.2.0/25 a:out.example.net ~all'}],
    'out.example.net': [{'A': '203.0.113.77'}],
}


def cpu(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, capture_output=True, check=True).stdout.decode()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), out.split('\t')[0]


def main():
    spfcheck, n, ttl = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    zone = spfdns.Zone(ttl)
    zone.set(ZONE)
    spfdns.serve(zone, '127.0.0.1', 53)
    print('TTL %d, %d checks of 203.0.113.25 (matches mx, the last mechanism):' % (ttl, n))
    for name, extra in (('libspf2 cached', ['-l']), ('libspf2 uncached', ['-L']),
                        ('mxdock', [])):
        t, result = cpu([spfcheck, '-r', '127.0.0.1:53', '-n', str(n)] + extra +
                        ['203.0.113.25', 'mx.example.com', 'x@example.com'])
        print('  %-17s %-5s %7.1f us CPU per check' % (name, result, t / n * 1e6))


if __name__ == '__main__':
    main()
