#!/bin/bash
# milter_verdicts.sh - the milter's verdicts on hostile signatures and
# headers through a real Postfix (issue 12 items 1-4, 6, 9), judged beside
# two independent verifiers (mailauth, dkimpy).  Signatures are made by
# tests/diff/dkimsign.py, which signs any tag text (libraries refuse to
# make broken ones) with the store's RSA key of example.test; dkimpy and the
# A-R syntax check are tests/integration/verdict_check.py:
#   - unparseable / unusable tags: neutral or permerror with the real reason
#     (docs/MILTER.md "DKIM results"), never "policy (rsa-sha1 ...)";
#     d=sig. example never passes, s=r(s)a is no temperror (no 451);
#   - 50 and 1,900 junk signatures: 5 results, the rest in one comment,
#     and an Authentication-Results on the message;
#   - every A-R value keeps RFC 8601 2.2 syntax;
#   - forged A-Rs with our id quoted or with a final dot are removed, also
#     after a foreign A-R; an id of which ours is a prefix stays;
#   - From: postmaster@[192.0.2.1] is refused with the reason.
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/pdns.sh"
source "$H_TOP/tests/lib/postfix.sh"
h_init milter_verdicts

D=example.test
AUTHSERV=mx.verdicts.test
PY=/usr/bin/python3
SIGNER=$H_TOP/tests/diff/dkimsign.py
CHECK=$H_TOP/tests/integration/verdict_check.py
milter_scratch_conf "$AUTHSERV" || { h_done; exit 1; }
cat >>"$C" <<EOF
milter_internal_hosts = 127.0.0.1/32
dkim_fail_action = tag
dmarc_quarantine_action = tag
dmarc_reject_action = tag
spf_fail_action = tag
EOF
out=$("$BINDIR/mxdock-dns" -c "$C" create "$D" 2>&1)
h_eq "mxdock-dns create $D" "$?" 0
SEL=$("$BINDIR/mxdock-dkim" -c "$C" list "$D" | awk '$3 == "rsa" && $5 == "active" { print $2 }')
KEY=$H/dkim/$D/$SEL.pem
h_ok_if() { if [ -n "$2" ]; then h_ok "$1"; else h_fail "$1" "nothing" "$3"; fi; }
h_ok_if "RSA key of $D" "$SEL" "an active rsa selector"
milter_start "$C" || { h_done; exit 1; }
postfix_start "inet:127.0.0.1:$MILTER_PORT" || { h_done; exit 1; }

n=0
# deliver NAME FILE - send FILE from outside; the SMTP answer in $out, the
# delivered copy in $m ("" when refused)
deliver() {
	out=$(postfix_send --local-interface 127.0.0.2 --from "alice@$D" --to bob@example.org \
		--data "@$2")
	m=""
	if grep -q "250 2.0.0 Ok: queued" <<<"$out"; then
		n=$((n + 1))
		postfix_wait_delivered "$n"
		m=$(postfix_message_with "case $1")
	fi
}
plain() { # NAME - a message whose Subject is "case NAME"
	printf 'From: Alice <alice@%s>\nTo: bob@example.org\nSubject: case %s\nDate: Sun, 06 Dec 2026 08:00:00 +0000\nMessage-ID: <%s@%s>\n\nHello %s\n' \
		"$D" "$1" "$1" "$D" "$1"
}
ar_of() { awk '/^Authentication-Results: /{p = 1; print; next} p && /^[ \t]/ {print; next} {p = 0}' <<<"$1"; }
H_=" c=relaxed/relaxed; q=dns/txt; t={T}; h=from:to:subject:date;"

# 1. one signature each: TAGS, the dkim= result and comment we want
while IFS='|' read -r name tags want; do
	[ -n "$name" ] || continue
	tags=${tags//@D@/$D}; tags=${tags//@S@/$SEL}
	plain "$name" >"$H/$name.txt"
	if [ "$tags" = "BADB" ]; then      # b= "UK/F/7gh...": header.b must be quoted
		$PY "$SIGNER" sign "$H/$name.txt" "$KEY" "v=1; a=rsa-sha256; d=$D; s=$SEL;$H_" |
			sed '1s|b=[A-Za-z0-9+/=]*$|b=UK/F/7ghAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=|' >"$H/$name.eml"
	elif [ "$tags" = "RANDOM" ]; then
		{ printf 'DKIM-Signature: \x01 x; ;;==; b=%s\n' "$(head -c 30 /dev/urandom | base64 -w0)"; cat "$H/$name.txt"; } >"$H/$name.eml"
	else
		$PY "$SIGNER" sign "$H/$name.txt" "$KEY" "$tags$H_" >"$H/$name.eml"
	fi
	deliver "$name" "$H/$name.eml"
	h_has "$name: accepted (no 451, no refusal)" "$out" "250 2.0.0 Ok: queued"
	h_has "$name: dkim result" "$(ar_of "$m")" "$want"
	h_lacks "$name: never policy (rsa-sha1)" "$(ar_of "$m")" "rsa-sha1 not accepted"
	h_eq "$name: A-R syntax (RFC 8601 2.2)" "$(printf '%s\n' "$m" >"$H/$name.got"; $PY "$CHECK" archeck "$H/$name.got" "$AUTHSERV")" "ok"
	printf '%s\t%s\t%s\t%s\n' "$name" "$(grep -o 'dkim=[a-z]*' <<<"$(ar_of "$m")" | head -1)" \
		"$($PY "$CHECK" dkimpy "$H/$name.eml" "127.0.0.1:$PDNS_DNS_PORT" | awk '{print $2}' | head -1)" \
		"$(milter_mailauth "$H/$name.eml" 127.0.0.2 client.example "alice@$D" | awk '/^dkim /{print $2; exit}')" >>"$H/verdicts.tsv"
done <<EOF
valid|v=1; a=rsa-sha256; d=@D@; s=@S@;|dkim=pass (2048-bit key) header.d=$D header.s=$SEL header.a=rsa-sha256
expired|v=1; a=rsa-sha256; d=@D@; s=@S@; x=1000000000;|dkim=permerror (signature expired: x= is past) header.d=$D header.s=$SEL header.a=rsa-sha256
no-v|a=rsa-sha256; d=@D@; s=@S@;|dkim=permerror (missing required tag v=) header.d=$D
i-outside-d|v=1; a=rsa-sha256; d=@D@; s=@S@; i=a@evil.test;|dkim=permerror (i= is not within d=)
unknown-a|v=1; a=rsa-sha512; d=@D@; s=@S@;|dkim=permerror (unknown algorithm a=) header.d=$D header.s=$SEL header.b=
space-in-d|v=1; a=rsa-sha256; d=example. test; s=@S@;|dkim=neutral (syntax: d= is not a domain name) header.s=$SEL header.a=rsa-sha256
paren-selector|v=1; a=rsa-sha256; d=@D@; s=r(s)a;|dkim=neutral (syntax: s= is not a selector) header.d=$D header.a=rsa-sha256
random|RANDOM|dkim=neutral (syntax: bad tag name)
b-needs-quotes|BADB|dkim=fail (2048-bit key; signature verification failed) header.d=$D header.s=$SEL header.a=rsa-sha256 header.b="UK/F/7gh"
EOF
# the independent verifiers: none of the broken ones passes in dkimpy;
# mailauth is known to pass a signature without v= (RFC 6376 3.5: v= is
# required) and one whose i= is outside d= (3.5 i=, 6.1.1: PERMFAIL domain
# mismatch): the RFC decides
while IFS=$'\t' read -r name ours dkimpy ma; do
	if [ "$name" = valid ]; then
		h_eq "valid: mxdock, dkimpy, mailauth pass" "$ours $dkimpy $ma" "dkim=pass pass pass"
		continue
	fi
	h_eq "$name: dkimpy does not pass it either" "$dkimpy" "fail"
	case $name in no-v | i-outside-d) continue ;; esac
	h_eq "$name: mailauth does not pass it either" \
		"$([ "$ma" = pass ] && echo pass || echo "not pass ($ma)")" "not pass ($ma)"
done <"$H/verdicts.tsv"

# 2. 50 and 1,900 junk signatures: dkim_max_signatures (5) counts them all;
# the A-R is added and bounded
junk() { # N NAME
	plain "$2" >"$H/$2.txt"
	$PY "$SIGNER" sign "$H/$2.txt" "$KEY" "v=1; a=rsa-sha256; d=$D; s=$SEL; x=1000000000;$H_" |
		awk -v n="$1" 'NR == 1 { for (i = 0; i < n; i++) print; next } { print }' >"$H/$2.eml"
}
junk 50 junk50
deliver junk50 "$H/junk50.eml"
h_eq "50 junk signatures: 5 dkim= results" "$(ar_of "$m" | grep -c 'dkim=permerror')" 5
h_has "50 junk signatures: the rest in one comment" "$(ar_of "$m")" "(45 more DKIM signatures not evaluated: over the limit)"
h_has "50 junk signatures: the log line counts them" "$(cat "$MILTER_LOG")" \
	"dkim=permerror,permerror,permerror,permerror,permerror,+45 "
junk 1900 junk1900
deliver junk1900 "$H/junk1900.eml"
h_has "1,900 junk signatures: accepted" "$out" "250 2.0.0 Ok: queued"
h_eq "1,900 junk signatures: one A-R of ours" "$(grep -c "^Authentication-Results: $AUTHSERV;" <<<"$m")" 1
h_has "1,900 junk signatures: the rest in one comment" "$(ar_of "$m")" "(1895 more DKIM signatures"
h_lacks "1,900 junk signatures: no 'cannot add'" "$(cat "$MILTER_LOG")" "cannot add Authentication-Results"
printf '%s\n' "$m" >"$H/junk1900.got"
h_eq "1,900 junk signatures: A-R syntax" "$($PY "$CHECK" archeck "$H/junk1900.got" "$AUTHSERV")" "ok"

# 3. forged A-Rs: after a foreign one, our id quoted and with a final dot
# are removed; an id that ours merely starts with stays
{ echo "Authentication-Results: other.test; spf=pass smtp.mailfrom=other.test"
  echo "Authentication-Results: \"$AUTHSERV\"; dkim=pass header.d=forged-quoted.test"
  echo "Authentication-Results: $AUTHSERV.; dkim=pass header.d=forged-dot.test"
  echo "Authentication-Results: ${AUTHSERV%%.*}; dkim=pass header.d=prefix-kept.test"
  echo "Authentication-Results: other.test; dkim=pass header.d=foreign-after.test"
  plain forged; } >"$H/forged.eml"
deliver forged "$H/forged.eml"
h_lacks "forged A-R, quoted id: removed" "$m" "forged-quoted.test"
h_lacks "forged A-R, final dot: removed" "$m" "forged-dot.test"
h_has "A-R of the prefix id ${AUTHSERV%%.*}: kept" "$m" "Authentication-Results: ${AUTHSERV%%.*}; dkim=pass header.d=prefix-kept.test"
h_has "foreign A-R before the forged ones: kept" "$m" "Authentication-Results: other.test; spf=pass"
h_has "foreign A-R after the forged ones: kept" "$m" "header.d=foreign-after.test"
h_eq "our verdict: one A-R" "$(grep -c "^Authentication-Results: $AUTHSERV;" <<<"$m")" 1

# 4. a From with an address literal: refused, and the reply says why
{ printf 'From: postmaster@[192.0.2.1]\n'; plain literal | sed 1d; } >"$H/literal.eml"
deliver literal "$H/literal.eml"
h_has "From literal: refused with the reason" "$out" \
	"550 5.7.1 rejected: the From domain is an address literal, not a domain name"
h_done
