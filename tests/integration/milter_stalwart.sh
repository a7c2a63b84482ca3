#!/bin/bash
# milter_stalwart.sh - mxdock-milter behind Stalwart, as Stalwart's source
# runs a milter (issue 14; tests/integration/stalwart_client.py cites the
# file and line of each behaviour): a new connection per stage replaying the
# session, version 6 / actions 0xFF / flags 0x42, trimmed header values,
# {daemon_name} "Stalwart v0.16.18", and the WHOLE raw message as the body.
# No Stalwart package in Debian 12, so the client is the simulation.
#   - an authenticated sender ({auth_authen} at MAIL, from a client that is
#     not internal) gets two signatures (relaxed/simple) that mailauth and
#     dkimpy verify as pass on the message Stalwart would queue, also with a
#     77 kB header block and a 100 kB body (several BODY chunks); an
#     internal host is signed without AUTH; milter_sign_daemons naming
#     Stalwart is warned about and ignored;
#   - that message sent in again from outside: dkim=pass twice, spf=fail,
#     dmarc=pass in one A-R; a forged A-R with our authserv-id removed;
#     a c=simple/simple signature made by dkimpy verifies in mxdock;
#   - a second milter signing simple/simple: its RSA signature passes in
#     mailauth and dkimpy (header bytes as written, not the trimmed values);
#   - quota: with rcpt in the stages one RCPT of two is refused 452 4.2.2;
#     with the default data only, the replayed RCPT refuses the message;
#     the size is counted once (a message that fits is not refused);
#   - a banned client is refused 421 4.7.0 at the connect stage;
#   - every refusal carries mxdock's code and text (never 503 5.5.3);
#   - a body that is not the raw message (--body-only) is hashed as sent.
# On main before issue 14 (001537b) 17 of 35 checks fail: every signature
# made or checked behind Stalwart fails (body hash over the whole raw
# message), the size is counted twice, Stalwart's daemon name signs inbound.
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/pdns.sh"
source "$H_TOP/tests/lib/mariadb.sh"
source "$H_TOP/tests/lib/postfix.sh"
source "$H_TOP/tests/lib/e2e.sh"
h_init milter_stalwart

D=example.test
AUTHSERV=mx.stalwart.test
# tight@$D: 95000 of 100000 used (the size counted once, quota below)
e2e_quota_milter "$D" "$AUTHSERV" "INSERT INTO accounts (name, quota) VALUES ('tight', 100000);
	INSERT INTO emails (name, address) VALUES ('tight', 'tight@$D');
	INSERT INTO mailbox_usage VALUES ('tight', 95000, NOW());" <<EOF || { h_done; exit 1; }
dkim_canonicalization = relaxed/simple
# wrong advice once given: Stalwart's {daemon_name} is on every listener,
# port 25 too; mxdock warns and ignores it behind Stalwart
milter_sign_daemons = Stalwart v0.16.18
EOF
T=127.0.0.1:$MILTER_PORT
stalwart() { /usr/bin/python3 "$H_TOP/tests/integration/stalwart_client.py" "$T" "$@" 2>&1; }
dkimpy() { /usr/bin/python3 "$H_TOP/tests/integration/dkimpy_verify.py" "$1" "127.0.0.1:$PDNS_DNS_PORT" 2>&1; }

# header values with inner and trailing white space and a folded one: the
# header callbacks get them trimmed (client.rs:229-230), c=simple needs the
# bytes as written
printf '%s\n' "From: Alice <alice@$D>" "To:   bob@example.org" \
	"Subject:  through   Stalwart  " "Date: Sat, 21 Nov 2026 12:00:00 +0000" \
	"Message-ID: <stalwart1@$D>" "X-Folded: one" "	two" "" \
	"Hello from behind Stalwart." "" "Second  paragraph, two  spaces.  " >"$H/msg.eml"

# 1. an authenticated sender from a client that is not internal, default
#    stage list (data only)
out=$(stalwart --ip 192.0.2.20 --auth alice --from "Alice@$D" --rcpt bob@example.org \
	--msg "$H/msg.eml" --out "$H/signed.eml")
h_has "auth: queued" "$out" "data 250 2.0.0"
h_eq "auth: two DKIM-Signature insertions" "$(grep -c '^mod insheader 0 DKIM-Signature:' <<<"$out")" 2
h_lacks "auth: signed, not checked (no dkim= in A-R)" "$out" "dkim="
ma=$(milter_mailauth "$H/signed.eml" 192.0.2.20 client.example "alice@$D")
h_has "auth: mailauth rsa-sha256 pass" "$ma" "dkim pass $D"
h_eq "auth: mailauth passes both" "$(grep -c "^dkim pass $D .* \(rsa\|ed25519\)-sha256" <<<"$ma")" 2
py=$(dkimpy "$H/signed.eml")
h_eq "auth: dkimpy passes both" "$(grep -c "^dkimpy pass $D" <<<"$py")" 2

# an internal client (milter_internal_hosts) without AUTH is signed too
out=$(stalwart --ip 10.99.0.5 --from "alice@$D" --rcpt bob@example.org --msg "$H/msg.eml")
h_eq "internal host: two DKIM-Signature insertions" \
	"$(grep -c '^mod insheader 0 DKIM-Signature:' <<<"$out")" 2
h_has "start: milter_sign_daemons Stalwart warned" "$(cat "$MILTER_LOG")" \
	"is Stalwart's {daemon_name}, the same on every listener: ignored"

# a header block longer than one 65,535-byte BODY chunk (client.rs:22) and
# a 100 kB body: the block is held across chunks, then cut
{ printf 'X-Pad-%03d: %0100d\n' $(seq 1 700 | sed 's/$/ 0/'); sed '/^$/q' "$H/msg.eml"
  for i in $(seq 1 1000); do printf 'line %04d of a long body, %080d\n' "$i" 0; done; } >"$H/long.eml"
out=$(stalwart --ip 192.0.2.20 --auth alice --from "alice@$D" --rcpt bob@example.org \
	--msg "$H/long.eml" --out "$H/long-signed.eml")
h_eq "long: mailauth passes both" "$(milter_mailauth "$H/long-signed.eml" 192.0.2.20 \
	client.example "alice@$D" | grep -c "^dkim pass $D")" 2

# a body that does not begin with the header block (not what Stalwart
# sends; --body-only): hashed as sent, with the callbacks' fields, and
# warned about; relaxed/simple still verifies
out=$(stalwart --ip 192.0.2.20 --auth alice --from "alice@$D" --rcpt bob@example.org \
	--msg "$H/msg.eml" --out "$H/bodyonly.eml" --body-only)
h_eq "body only: mailauth passes both" "$(milter_mailauth "$H/bodyonly.eml" 192.0.2.20 \
	client.example "alice@$D" | grep -c "^dkim pass $D")" 2
h_has "body only: warned" "$(cat "$MILTER_LOG")" \
	"body does not begin with the header block (fields differ)"

# 2. the queued message sent in from outside (192.0.2.10: not in the SPF
#    record, spf_fail_action = tag) with a forged A-R carrying our id
{ echo "Authentication-Results: $AUTHSERV; dkim=pass header.d=forged.example"
  tr -d '\r' <"$H/signed.eml"; } >"$H/inbound.eml"
out=$(stalwart --ip 192.0.2.10 --from "alice@$D" --rcpt bob@example.org \
	--msg "$H/inbound.eml" --out "$H/verified.eml")
ar=$(tr -d '\r' <"$H/verified.eml" | awk '/^[^ \t]/ { p = tolower($0) ~ /^authentication-results:/ }
	p { printf "%s%s", (/^[ \t]/ ? "" : (n++ ? "\n" : "")), $0 } END { print "" }')
h_eq "inbound: one Authentication-Results left" "$(grep -c . <<<"$ar")" 1
h_has "inbound: our authserv-id" "$ar" "Authentication-Results: $AUTHSERV;"
h_eq "inbound: dkim=pass for both" "$(grep -o 'dkim=pass' <<<"$ar" | wc -l)" 2
h_has "inbound: spf=fail" "$ar" "spf=fail"
h_has "inbound: dmarc=pass" "$ar" "dmarc=pass"
h_lacks "inbound: forged A-R removed" "$ar" "forged.example"
h_lacks "inbound: not signed (milter_sign_daemons Stalwart ignored)" "$out" "DKIM-Signature"

# a signature from outside: dkimpy signs c=simple/simple (the header values
# with their inner and trailing white space), mxdock behind Stalwart checks it
rkey=$(ls "$H"/dkim/$D/*r.pem | head -1); rsel=$(basename "$rkey" .pem)
/usr/bin/python3 "$H_TOP/tests/integration/dkimpy_verify.py" --sign "$H/msg.eml" "$D" "$rsel" \
	"$rkey" >"$H/outside.eml" 2>"$H/outside.err"
h_has "outside signer: dkimpy signed c=simple/simple" "$(cat "$H/outside.eml")" "c=simple/simple"
out=$(stalwart --ip 192.0.2.10 --from "alice@$D" --rcpt bob@example.org \
	--msg "$H/outside.eml" --out "$H/outside-verified.eml")
h_has "outside signer: mxdock says dkim=pass" "$(tr -d '\r\n' <"$H/outside-verified.eml")" \
	"dkim=pass (2048-bit key) header.d=$D header.s=$rsel"

# 3. quota, rcpt in the stage list: one RCPT of two refused, on its own
#    connection replaying the accepted one; the message goes to bob
out=$(stalwart --stages rcpt,data --ip 192.0.2.10 --from "alice@$D" --rcpt "bob@$D" \
	--rcpt "Full@$D" --msg "$H/msg.eml")
h_has "quota rcpt stage: bob accepted" "$out" "rcpt bob@$D 250"
h_has "quota rcpt stage: full refused 452 4.2.2" "$out" "rcpt Full@$D 452 4.2.2"
h_has "quota rcpt stage: message queued for bob" "$out" "data 250 2.0.0"
# default stage list (data only): the replayed RCPT refuses the message
out=$(stalwart --ip 192.0.2.10 --from "alice@$D" --rcpt "bob@$D" --rcpt "full@$D" \
	--msg "$H/msg.eml")
h_has "quota data only: both RCPT accepted by Stalwart" "$out" "rcpt full@$D 250"
h_has "quota data only: message refused 452 4.2.2" "$out" "data 452 4.2.2"

# the real size, counted once: a 4,000-byte header block and a short body
# (about 4,100 bytes) fit the 5,000 bytes left for tight@; counting the
# header block again from the body (about 8,100) would not
{ printf 'X-Pad-%02d: %0100d\n' $(seq 1 38 | sed 's/$/ 0/'); cat "$H/msg.eml"; } >"$H/big.eml"
out=$(stalwart --ip 192.0.2.10 --from "alice@$D" --rcpt "tight@$D" --msg "$H/big.eml")
h_has "quota: real size fits the 5,000 bytes left" "$out" "data 250 2.0.0"

# 4. a banned client at the connect stage (empty HELO, j empty: spawn.rs:101)
"$BINDIR/mxdock-policy" -c "$C" authfail ban 192.0.2.66 --reason=test >/dev/null 2>&1
out=$(stalwart --stages connect,data --ip 192.0.2.66 --from "alice@$D" --rcpt "bob@$D" \
	--msg "$H/msg.eml")
h_eq "ban: 421 4.7.0 at connect, nothing else" "$(head -c 13 <<<"$out")" "connect 421 4"
h_lacks "ban: no 503 5.5.3 (every refusal has code and text)" "$out" "503 5.5.3"

# 5. c=simple header canonicalization needs the header bytes as written
#    (the callbacks got them trimmed): a second milter signing simple/simple.
#    Only the RSA signature is judged: libopendkim's ed25519-sha256 with
#    c=simple headers does not verify in dkimpy even for a plain message
#    through Postfix-style callbacks (not a Stalwart matter; see MILTER.md).
P1_PID=$MILTER_PID P1_LOG=$MILTER_LOG
sed -e '/^milter_socket *=/d' -e 's|^dkim_canonicalization = .*|dkim_canonicalization = simple/simple|' \
	"$C" >"$H/simple.conf"
milter_start "$H/simple.conf" || { h_done; exit 1; }
T=127.0.0.1:$MILTER_PORT
out=$(stalwart --ip 192.0.2.20 --auth alice --from "alice@$D" --rcpt bob@example.org \
	--msg "$H/msg.eml" --out "$H/simple.eml")
h_has "simple: signed c=simple/simple" "$(cat "$H/simple.eml")" "c=simple/simple"
h_eq "simple: mailauth rsa-sha256 pass" "$(milter_mailauth "$H/simple.eml" 192.0.2.20 \
	client.example "alice@$D" | grep -c "^dkim pass $D .* rsa-sha256")" 1
h_eq "simple: dkimpy rsa pass" "$(dkimpy "$H/simple.eml" | grep -c "^dkimpy pass $D mx[0-9]*r$")" 1

# 6. the log: real sizes counted once (header block + body, not twice)
h_eq "one 'does not begin with the header block' warning (body only)" \
	"$(grep -c 'does not begin with the header block' "$MILTER_LOG")" 1
if kill -0 "$P1_PID" 2>/dev/null && kill -0 "$MILTER_PID" 2>/dev/null; then h_ok "milter alive after the stages"
else h_fail "milter alive after the stages" "dead (log: $MILTER_LOG)" "running"; fi
h_done
