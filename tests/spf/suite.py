#!/usr/bin/python3
"""suite.py - the RFC 7208 test suite (openspf, as shipped by python3-spf)
run against an SPF engine, every case's zone served by spfdns.py.

  suite.py [--yaml FILE] [--port P] ENGINE ...

ENGINE is one of
  spfcheck BIN        mxdock's module through tests/spf/spfcheck
  libspf2 BIN         the same program with -l: libspf2 in-process
  spfquery            libspf2's own spfquery (needs the DNS server on port 53:
                      run inside `unshare -mn`, see spf_suite.sh)
  milter SOCKET       mxdock-milter over the milter protocol (milterclient.py)

Prints one line per case, "ok - ID" or "not ok - ID: got X, want Y", then
"SUMMARY passed N failed M".  The explanation is checked where the suite
gives one; the default one is any text "IP is not allowed to send mail
from DOMAIN" (what mxdock puts in a fail reply).
"""
import argparse
import gzip
import os
import re
import subprocess
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spfdns  # noqa: E402

SUITE = '/usr/share/doc/python3-spf/rfc7208-tests.yml.gz'
DEFAULT_RE = re.compile(r'^\S+ is not allowed to send mail from \S*$')


def load(path):
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        return list(yaml.safe_load_all(f))


def run_spfcheck(args, case, port, lib=False):
    cmd = [args.target, '-r', '127.0.0.1:%d' % port, '-t', '1']
    if lib:
        cmd.append('-l')
    cmd += ['--', str(case['host']), str(case.get('helo', '')), str(case.get('mailfrom', ''))]
    out = subprocess.run(cmd, capture_output=True, timeout=30).stdout.decode('utf-8', 'replace')
    parts = out.rstrip('\n').split('\t')
    return parts[0], parts[1] if len(parts) > 1 else ''


def run_spfquery(args, case, port):
    sender = str(case.get('mailfrom', ''))
    helo = str(case.get('helo', ''))
    cmd = ['spfquery', '-ip', str(case['host']), '-helo', helo,
           '-default-explanation', 'DEFAULT']
    if sender:
        cmd += ['-sender', sender]
    else:
        cmd += ['-sender', 'postmaster@' + helo]
    env = dict(os.environ, RES_OPTIONS='timeout:1 attempts:1')
    out = subprocess.run(cmd, capture_output=True, timeout=60, env=env).stdout
    lines, skip = [], False
    for line in out.decode('utf-8', 'replace').splitlines():
        if line == 'StartError':
            skip = True
        elif line == 'EndError':
            skip = False
        elif not skip:
            lines.append(line)
    result = lines[0].strip() if lines else '(no output)'
    exp = re.sub(r' : Reason: .*$', '', lines[1].strip()) if len(lines) > 1 else ''
    if exp == 'DEFAULT':
        exp = 'is not allowed to send mail from x'
    return result, exp


def run_milter(args, case, port):
    import milterclient
    return milterclient.check(args.target, case)


def judge(case, got, exp):
    want = case['result']
    wants = want if isinstance(want, list) else [want]
    if got not in wants:
        return 'got %s, want %s' % (got, '/'.join(wants))
    wexp = case.get('explanation')
    if wexp is not None and got == 'fail':
        gexp = 'DEFAULT' if DEFAULT_RE.match(exp) or exp.endswith('is not allowed to send mail from x') else exp
        if gexp != wexp:
            return 'explanation "%s", want "%s"' % (gexp, wexp)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--yaml', default=SUITE)
    ap.add_argument('--port', type=int, default=53)
    ap.add_argument('--only', default='')
    ap.add_argument('engine', choices=['spfcheck', 'libspf2', 'spfquery', 'milter'])
    ap.add_argument('target', nargs='?', default='')
    args = ap.parse_args()
    zone = spfdns.Zone()
    spfdns.serve(zone, '127.0.0.1', args.port)
    run = {'spfcheck': run_spfcheck, 'spfquery': run_spfquery, 'milter': run_milter,
           'libspf2': lambda a, c, p: run_spfcheck(a, c, p, lib=True)}[args.engine]
    passed = failed = 0
    for scenario in load(args.yaml):
        zone.set(scenario.get('zonedata'))
        for cid, case in sorted(scenario['tests'].items()):
            if args.only and args.only != cid:
                continue
            try:
                got, exp = run(args, case, args.port)
                why = judge(case, got, exp)
            except Exception as e:  # a crash or hang is a failure of that case
                why = 'error %s' % e
            if why:
                failed += 1
                print('not ok - %s: %s' % (cid, why), flush=True)
            else:
                passed += 1
                print('ok - %s' % cid, flush=True)
    print('SUMMARY passed %d failed %d' % (passed, failed))


if __name__ == '__main__':
    main()
