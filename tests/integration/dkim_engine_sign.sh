#!/bin/bash
# dkim_engine_sign - issue 16: every signature mxdock's own DKIM engine makes
# (dkim_engine = mxdock) verifies as pass with three verifiers that share no
# code with it: libopendkim (dkim_engine's other engine, verifying through
# dkim_msg.h), mailauth (npm, tests/node) and dkimpy (Debian python3-dkim),
# and with mxdock's own verifier.
#
# Corpus (tests/dkim/corpus.py): 2 KB, 20 KB, 200 KB, 8-bit bytes, long
# lines, an empty body, a body without a final CRLF, bodies of only CRLFs,
# blank and white-space lines at the end; To repeated, Subject folded with
# white space around the fold.  Each message is signed with an RSA-2048 and
# an Ed25519 key (one dual signature: one canonicalization pass), under all
# four header/body canonicalizations; the body goes in uneven chunks.
#
# Also: the body hash equals the one libopendkim computes for the same
# message (dkim_engine = opendkim), and one changed body byte makes all
# three verifiers say no (so the checks above can fail).
source "$(dirname "$0")/../lib/harness.sh"
h_init dkim-engine-sign

PY=/usr/bin/python3                     # Debian's, where python3-dkim lives
NODE_DIR=$H_TOP/tests/node
export NODE_DIR
h_npm_ci ||
	{ h_fail "npm ci in tests/node (log: $H/npm.log)" "failed" "mailauth installed"; h_done; exit; }
$PY -c 'import dkim, nacl' 2>/dev/null ||
	{ h_fail "python3-dkim and python3-nacl installed" "missing" "make deps"; h_done; exit; }

D=example.test
DRV=$BUILDDIR/tests/dkimsign
cat >"$H/base.conf" <<EOF
dkim_keydir = $H/dkim
dkim_rsa_bits = 2048
EOF
"$BINDIR/mxdock-dkim" -c "$H/base.conf" keygen "$D" >/dev/null
for sel in $("$BINDIR/mxdock-dkim" -c "$H/base.conf" list "$D" | awk 'NR > 1 { print $2 }'); do
	"$BINDIR/mxdock-dkim" -c "$H/base.conf" activate "$D" "$sel" >/dev/null
done
# the keys as "NAME TXT" lines (the TXT strings joined), for every verifier
"$BINDIR/mxdock-dkim" -c "$H/base.conf" dns "$D" |
	sed -E 's/^([^ ]+)\. IN TXT (.*)$/\1 \2/; s/" "//g; s/"//g' >"$H/keys.txt"
h_eq "two keys to verify with" "$(wc -l <"$H/keys.txt")" 2
$PY "$H_TOP/tests/dkim/corpus.py" "$H/corpus"
NMSG=$(ls "$H/corpus"/*.eml | wc -l)

# verify_all CANON - the three verifiers over every signed message; each
# line "FILE RESULT ..." must say pass, two per message
verify_all() {
	local canon=$1 dir=$H/$1 want=$((2 * NMSG)) out
	out=$(for f in "$dir"/*.signed; do "$DRV" -c "$dir/opendkim.conf" verify "$H/keys.txt" "$f" |
		sed "s|^|$f |"; done)
	h_eq "$canon: libopendkim passes all $want" "$(grep -c ' pass ' <<<"$out")" "$want"
	grep -v ' pass ' <<<"$out" | head -3
	out=$(for f in "$dir"/*.signed; do "$DRV" -c "$dir/mxdock.conf" verify "$H/keys.txt" "$f" |
		sed "s|^|$f |"; done)
	h_eq "$canon: mxdock's verifier passes all $want" "$(grep -c ' pass ' <<<"$out")" "$want"
	grep -v ' pass ' <<<"$out" | head -3
	out=$($PY "$H_TOP/tests/dkim/dkimpy_verify.py" "$H/keys.txt" "$dir"/*.signed 2>"$dir/dkimpy.err")
	h_eq "$canon: dkimpy passes all $want" "$(grep -c ' pass ' <<<"$out")" "$want"
	grep -v ' pass ' <<<"$out" | head -3
	out=$(node "$NODE_DIR/dkim_keyfile.mjs" "$H/keys.txt" "$dir"/*.signed 2>"$dir/mailauth.err")
	h_eq "$canon: mailauth passes all $want" "$(grep -c ' pass ' <<<"$out")" "$want"
	grep -v ' pass ' <<<"$out" | head -3
}

# same_bh CANON - mxdock's body hash of every message is libopendkim's
same_bh() {
	local canon=$1 bad=""
	for f in "$H/corpus"/*.eml; do
		a=$("$DRV" -c "$H/$canon/mxdock.conf" sign "$D" "$f" | grep -o 'bh=[^;]*' | sort -u)
		b=$("$DRV" -c "$H/$canon/opendkim.conf" sign "$D" "$f" | grep -o 'bh=[^;]*' | sort -u)
		[ -n "$a" ] && [ "$a" = "$b" ] || bad="$bad $(basename "$f"):$a/$b"
	done
	h_eq "$canon: body hashes equal libopendkim's" "$bad" ""
}

for canon in relaxed/relaxed relaxed/simple simple/relaxed simple/simple; do
	dir=$H/$canon
	mkdir -p "$dir"
	{ cat "$H/base.conf"; echo "dkim_canonicalization = $canon"; } >"$dir/mxdock.conf"
	{ cat "$dir/mxdock.conf"; echo "dkim_engine = opendkim"; } >"$dir/opendkim.conf"
	n=0
	for f in "$H/corpus"/*.eml; do
		out=$dir/$(basename "$f" .eml).signed
		"$DRV" -c "$dir/mxdock.conf" sign "$D" "$f" >"$out" 2>>"$dir/sign.err" &&
			[ "$(grep -c '^DKIM-Signature:' "$out")" = 2 ] && n=$((n + 1))
	done
	h_eq "$canon: every message signed twice (rsa + ed25519)" "$n" "$NMSG"
	h_has "$canon: c= says so" "$(cat "$dir/2k.signed")" "c=$canon;"
	verify_all "$canon"
	same_bh "$canon"
done

# the checks can fail: one body byte changed, nobody passes it
sed 's/^line 3:/line 4:/' "$H/relaxed/relaxed/2k.signed" >"$H/tampered.signed"
{ cat "$H/base.conf"; echo "dkim_engine = opendkim"; } >"$H/opendkim.conf"
out=$("$DRV" -c "$H/opendkim.conf" verify "$H/keys.txt" "$H/tampered.signed";
	"$DRV" -c "$H/base.conf" verify "$H/keys.txt" "$H/tampered.signed";
	$PY "$H_TOP/tests/dkim/dkimpy_verify.py" "$H/keys.txt" "$H/tampered.signed" 2>/dev/null;
	node "$NODE_DIR/dkim_keyfile.mjs" "$H/keys.txt" "$H/tampered.signed")
h_eq "tampered: eight verdicts, none pass" "$(wc -l <<<"$out") $(grep -c ' pass ' <<<"$out")" "8 0"

# an unterminated last line ending in white space (never seen over SMTP):
# RFC 6376 3.4.4 drops the white space and adds CRLF; mailauth agrees,
# libopendkim adds no CRLF and dkimpy keeps one SP (docs/DKIM.md)
printf 'From: a@%s\r\nSubject: x\r\n\r\nfirst line\r\nlast line  ' "$D" >"$H/nfw.eml"
"$DRV" -c "$H/base.conf" sign "$D" "$H/nfw.eml" >"$H/nfw.signed"
want=$(printf 'first line\r\nlast line\r\n' | openssl dgst -sha256 -binary | base64)
h_eq "relaxed body hash of an unterminated last line" \
	"$(grep -o 'bh=[^;]*' "$H/nfw.signed" | sort -u)" "bh=$want"
out=$(node "$NODE_DIR/dkim_keyfile.mjs" "$H/keys.txt" "$H/nfw.signed")
h_eq "mailauth passes it" "$(grep -c ' pass ' <<<"$out")" 2
h_done
