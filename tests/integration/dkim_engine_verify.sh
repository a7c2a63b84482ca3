#!/bin/bash
# dkim_engine_verify - issue 16: mxdock's DKIM verifier (dkim_engine =
# mxdock) against the RFC and against libopendkim (dkim_engine = opendkim)
# on messages signed by dkimpy, an independent signer, some altered after
# signing, with key records for every key case (tests/dkim/variants.py):
# each case's RFC result is written beside it there.
#
# mxdock must give the result of docs/MILTER.md's table (RFC 6376, RFC
# 8601) on every case.  libopendkim must too, except on the cases listed in
# LAX below, where it is known to differ (docs/DKIM.md says why, with the
# RFC section): a new disagreement, or a listed one that went away, fails.
source "$(dirname "$0")/../lib/harness.sh"
h_init dkim-engine-verify

PY=/usr/bin/python3
$PY -c 'import dkim, nacl' 2>/dev/null ||
	{ h_fail "python3-dkim and python3-nacl installed" "missing" "make deps"; h_done; exit; }
D=example.test
DRV=$BUILDDIR/tests/dkimsign
LAX="strict-subdomain"

printf 'dkim_keydir = %s/dkim\ndkim_rsa_bits = 2048\n' "$H" >"$H/mxdock.conf"
{ cat "$H/mxdock.conf"; echo "dkim_engine = opendkim"; } >"$H/opendkim.conf"
"$BINDIR/mxdock-dkim" -c "$H/mxdock.conf" keygen "$D" >/dev/null
RSA_SEL=$("$BINDIR/mxdock-dkim" -c "$H/mxdock.conf" list "$D" | awk '$3 == "rsa" { print $2 }')
ED_SEL=$("$BINDIR/mxdock-dkim" -c "$H/mxdock.conf" list "$D" | awk '$3 == "ed25519" { print $2 }')
"$BINDIR/mxdock-dkim" -c "$H/mxdock.conf" dns "$D" |
	sed -E 's/^([^ ]+)\. IN TXT (.*)$/\1 \2/; s/" "//g; s/"//g' >"$H/keys.txt"
mkdir -p "$H/v"
$PY "$H_TOP/tests/dkim/variants.py" "$H/v" "$H/dkim/$D/$RSA_SEL.pem" "$RSA_SEL" \
	"$H/dkim/$D/$ED_SEL.pem" "$ED_SEL" "$H/keys.txt" ||
	{ h_fail "variants made" "failed" "tests/dkim/variants.py ran"; h_done; exit; }

# results ENGINE NAME - the results of every signature of case NAME
results() {
	"$DRV" -c "$H/$1.conf" verify "$H/keys.txt" "$H/v/$2.eml" | awk '{ print $1 }' | sort -u |
		tr '\n' ' ' | sed 's/ $//'
}

differ=""
while read -r name want rfc; do
	h_eq "mxdock: $name is $want (${rfc//_/ })" "$(results mxdock "$name")" "$want"
	[ "$(results opendkim "$name")" = "$want" ] || differ="$differ $name"
done <"$H/v/cases.txt"
h_eq "libopendkim differs on the listed cases only" "${differ# }" "$LAX"
h_done
