#!/bin/bash
# engine.sh - `make bench-engine` (also run by `make bench`): CPU per
# signature of mxdock's DKIM engine, of libopendkim behind the same
# interface, and of OpenSSL alone on the same parsed keys, for 2 KB, 20 KB
# and 200 KB messages (tests/dkim/corpus.py), then `openssl speed` for the
# bare signature.  Markdown on stdout; scratch key store under /tmp.
set -e
: "${BINDIR:?}" "${BUILDDIR:?}"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d /tmp/mxdock-engbench.XXXXXX)
trap 'rm -rf "$T"' EXIT
D=bench.test
printf 'dkim_keydir = %s/dkim\ndkim_rsa_bits = 2048\n' "$T" >"$T/c.conf"
"$BINDIR/mxdock-dkim" -c "$T/c.conf" keygen "$D" >/dev/null
for sel in $("$BINDIR/mxdock-dkim" -c "$T/c.conf" list "$D" | awk 'NR > 1 { print $2 }'); do
	"$BINDIR/mxdock-dkim" -c "$T/c.conf" activate "$D" "$sel" >/dev/null
done
/usr/bin/python3 "$TOP/tests/dkim/corpus.py" "$T/corpus"
echo "| message | operation | engine | CPU ms per message | messages/s (1 core) |"
echo "|---|---|---|---:|---:|"
for m in 2k 20k 200k; do
	sed "s/@example.test/@$D/" "$T/corpus/$m.eml" >"$T/$m.eml"
	"$BUILDDIR/tests/bench/engbench" -c "$T/c.conf" "$D" "$T/$m.eml" "$m"
done
echo
echo '`openssl speed -seconds 2 rsa2048 ed25519` (one signature, no hashing of the message):'
echo
echo '```'
openssl speed -seconds 2 rsa2048 ed25519 2>/dev/null | grep -E '^ *(rsa|sign|253|.*Ed25519)' || true
echo '```'
