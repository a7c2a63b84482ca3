#!/bin/bash
# milter_dkim.sh - DKIM through a real Postfix: mail from 127.0.0.1 (internal)
# is signed with both keys of the From domain (created by mxdock-dns create); the captured message, sent
# again from 127.0.0.2 (external), verifies dkim=pass for both signatures
# with the keys served by a scratch PowerDNS; one body byte changed gives
# dkim=fail; forged Authentication-Results (40) with our authserv-id are
# removed; the header cap is 2000 exactly (552 5.3.4 beyond); DMARC (the p=quarantine mxdock-dns publishes) passes by the
# aligned signatures and fails on the tampered copy (tagged, by
# dmarc_quarantine_action = tag); mailauth (npm) agrees on pass and not-pass; SIGUSR1 turns dkim_fail_action into reject without a restart.
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/pdns.sh"
source "$H_TOP/tests/lib/postfix.sh"
h_init milter_dkim

D=example.test
AUTHSERV=mx.milter.test
milter_scratch_conf "$AUTHSERV" || { h_done; exit 1; }
cat >>"$C" <<EOF
milter_internal_hosts = 127.0.0.1/32
dkim_fail_action = tag
dmarc_quarantine_action = tag
EOF

# the domain-creation hook (issue 2): keys made, zone created in the
# scratch PowerDNS, keys seen there become the active signing keys
out=$("$BINDIR/mxdock-dns" -c "$C" create "$D" 2>&1)
h_eq "mxdock-dns create $D" "$?" 0
RSA_SEL=$("$BINDIR/mxdock-dkim" -c "$C" list "$D" | awk '$3 == "rsa" && $5 == "active" { print $2 }')
ED_SEL=$("$BINDIR/mxdock-dkim" -c "$C" list "$D" | awk '$3 == "ed25519" && $5 == "active" { print $2 }')
[ -n "$RSA_SEL" ] && [ -n "$ED_SEL" ] && h_ok "both keys active" ||
	h_fail "both keys active" "rsa=$RSA_SEL ed25519=$ED_SEL ($out)" "two active selectors"
h_has "RSA key published" "$(pdns_dig "$RSA_SEL._domainkey.$D" TXT)" "k=rsa"
h_has "Ed25519 key published" "$(pdns_dig "$ED_SEL._domainkey.$D" TXT)" "k=ed25519"

milter_start "$C"
postfix_start "inet:127.0.0.1:$MILTER_PORT" || { h_done; exit 1; }

# 1. internal mail is signed with both keys
out=$(postfix_send --from "alice@$D" --to bob@example.org --h-From "Alice <alice@$D>" \
	--h-Subject "signed 100% here" --body "Hello world")
h_has "internal mail accepted" "$out" "250 2.0.0 Ok: queued"
postfix_wait_delivered 1
m1=$(postfix_message 1)
h_eq "two DKIM-Signature headers" "$(grep -c '^DKIM-Signature:' <<<"$m1")" 2
h_has "rsa-sha256 signature" "$m1" "a=rsa-sha256"
h_has "ed25519-sha256 signature" "$m1" "a=ed25519-sha256"
h_has "oversigned headers" "$m1" "from:to:subject:date"
h_lacks "no Authentication-Results on internal mail" "$m1" "Authentication-Results:"
printf '%s\n' "$m1" >"$H/m1.eml"

# 2. the signed message, sent again from outside: both signatures pass
out=$(postfix_send --local-interface 127.0.0.2 --from "alice@$D" --to bob@example.org \
	--data "@$H/m1.eml")
h_has "external mail accepted" "$out" "250 2.0.0 Ok: queued"
postfix_wait_delivered 2
m2=$(postfix_message 2)
h_has "dkim=pass rsa" "$m2" "dkim=pass (2048-bit key) header.d=$D header.s=$RSA_SEL header.a=rsa-sha256 header.b="
h_has "dkim=pass ed25519" "$m2" "dkim=pass (256-bit key) header.d=$D header.s=$ED_SEL header.a=ed25519-sha256 header.b="
h_eq "A-R is the first header" "$(head -1 <<<"$m2")" "Authentication-Results: $AUTHSERV;"
h_eq "one A-R" "$(grep -c '^Authentication-Results:' <<<"$m2")" 1
h_has "dmarc=pass by the aligned signatures" "$m2" "header.from=$D"
h_has "dmarc=pass" "$m2" "dmarc=pass"
# the independent checker (mailauth) agrees on the same message and keys
ma=$(milter_mailauth "$H/m1.eml" 127.0.0.2 client.example "alice@$D")
h_has "mailauth: rsa pass" "$ma" "dkim pass $D $RSA_SEL rsa-sha256"
h_has "mailauth: ed25519 pass" "$ma" "dkim pass $D $ED_SEL ed25519-sha256"

# 3. one body byte changed: both signatures fail, the mail is tagged
sed 's/^Hello world$/Hello World/' "$H/m1.eml" >"$H/m3.eml"
out=$(postfix_send --local-interface 127.0.0.2 --from "alice@$D" --to bob@example.org \
	--data "@$H/m3.eml")
h_has "tampered mail accepted (dkim_fail_action = tag)" "$out" "250 2.0.0 Ok: queued"
postfix_wait_delivered 3
m3=$(postfix_message 3)
h_eq "dkim=fail twice" "$(grep -c 'dkim=fail' <<<"$m3")" 2
# the published p=quarantine applies; dmarc_quarantine_action = tag
h_has "dmarc=fail" "$m3" "dmarc=fail"
h_has "DMARC tag header" "$m3" "X-Mxdock-DMARC: quarantine header.from=$D"
ma=$(milter_mailauth "$H/m3.eml" 127.0.0.2 client.example "alice@$D")
h_lacks "mailauth: tampered does not pass" "$ma" "dkim pass"
h_eq "mailauth: two results" "$(grep -c '^dkim ' <<<"$ma")" 2

# 4. forged A-Rs with our authserv-id are removed, all 40 of them (a
# fixed array once kept 32); a foreign one stays
for i in $(seq 40); do
	echo "Authentication-Results: $AUTHSERV; dkim=pass header.d=forged$i.test"
done >"$H/m4.eml"
cat >>"$H/m4.eml" <<EOF
Authentication-Results: other.test; spf=pass smtp.mailfrom=other.test
From: Mallory <mallory@evil.test>
To: bob@example.org
Subject: forged
Date: Sat, 21 Nov 2026 12:00:00 +0000
Message-ID: <forged@evil.test>

trust me
EOF
out=$(postfix_send --local-interface 127.0.0.2 --from mallory@evil.test --to bob@example.org \
	--data "@$H/m4.eml")
h_has "forged mail accepted" "$out" "250 2.0.0 Ok: queued"
postfix_wait_delivered 4
m4=$(postfix_message 4)
h_eq "all 40 forged verdicts removed" "$(grep -c 'header.d=forged' <<<"$m4")" 0
h_has "foreign A-R kept" "$m4" "Authentication-Results: other.test;"
h_has "our verdict: no signature" "$m4" "dkim=none"

# 4b. the header count cap is exactly MILTER_MAX_HDRS (2000): 1500 pass
# (capacity doubling once failed at 1025 with 451), 2001 get 552 5.3.4
many_headers() { # N SUBJECT
	{ for ((i = 1; i <= $1; i++)); do echo "X-Filler-$i: $i"; done
	  printf 'From: <mallory@evil.test>\nTo: bob@example.org\nSubject: %s\n\nbody\n' "$2"
	} >"$H/many.eml"
	postfix_send --local-interface 127.0.0.2 --from mallory@evil.test --to bob@example.org \
		--data "@$H/many.eml"
}
h_has "1497 + 3 headers accepted" "$(many_headers 1497 "many headers")" "250 2.0.0 Ok: queued"
out=$(many_headers 1998 "too many headers")
h_has "2001 headers: 552 5.3.4" "$out" "552 5.3.4"
h_has "too many headers logged" "$(cat "$MILTER_LOG")" "more than 2000 header fields: refused"
postfix_wait_delivered 5

# 5. SIGUSR1: dkim_fail_action = reject, no restart
sed -i 's/^dkim_fail_action = .*/dkim_fail_action = reject/' "$C"
kill -USR1 "$MILTER_PID"
h_wait "milter reloaded" 10 grep -q "configuration 2 loaded" "$MILTER_LOG"
out=$(postfix_send --local-interface 127.0.0.2 --from "alice@$D" --to bob@example.org \
	--data "@$H/m3.eml")
h_has "tampered mail rejected after reload" "$out" "550 5.7.20"
# a broken configuration is refused and the old one stays
sed -i 's/^dkim_fail_action = .*/dkim_fail_action = bogus/' "$C"
kill -USR1 "$MILTER_PID"
h_wait "bad reload refused" 10 grep -q "reload refused" "$MILTER_LOG"
out=$(postfix_send --local-interface 127.0.0.2 --from "alice@$D" --to bob@example.org \
	--data "@$H/m3.eml")
h_has "old configuration still rejects" "$out" "550 5.7.20"
if kill -0 "$MILTER_PID"; then h_ok "milter alive after reloads"
else h_fail "milter alive after reloads" "dead" "running"; fi
h_has "one log line per message" "$(cat "$MILTER_LOG")" "spf="
# 6. the other way round: a message signed by mailauth (no libopendkim code)
# with the store's keys, verified by mxdock-milter
export NODE_DIR=$H_TOP/tests/node
h_npm_ci || h_fail "npm ci in tests/node" "$(tail -3 "$H/npm.log")" "mailauth installed"
printf 'From: Carol <carol@%s>\r\nTo: bob@example.org\r\nSubject: signed by mailauth\r\nDate: Sat, 21 Nov 2026 12:00:00 +0000\r\nMessage-ID: <ma1@%s>\r\n\r\nsigned elsewhere\r\n' \
	"$D" "$D" >"$H/ma.txt"
if node "$H_TOP/tests/node/dkim.mjs" sign "$H/ma.txt" "$D" "$RSA_SEL:rsa:$H/dkim/$D/$RSA_SEL.pem" \
	"$ED_SEL:ed25519:$H/dkim/$D/$ED_SEL.pem" >"$H/ma.eml" 2>"$H/ma.err"; then
	before=$(postfix_count)
	out=$(postfix_send --local-interface 127.0.0.2 --from "carol@$D" --to bob@example.org \
		--data "@$H/ma.eml")
	h_has "mailauth-signed mail accepted" "$out" "250 2.0.0 Ok: queued"
	postfix_wait_delivered $((before + 1))
	m6=$(postfix_message_with "signed by mailauth")
	h_has "mxdock verifies mailauth's rsa signature" "$m6" "dkim=pass (2048-bit key) header.d=$D header.s=$RSA_SEL"
	h_has "mxdock verifies mailauth's ed25519 signature" "$m6" "dkim=pass (256-bit key) header.d=$D header.s=$ED_SEL"
else
	h_fail "mailauth signs (log: $H/ma.err)" "$(head -c 200 "$H/ma.err")" "a signed message"
fi
h_done
