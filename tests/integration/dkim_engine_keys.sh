#!/bin/bash
# dkim_engine_keys - issue 16: the public-key cache of mxdock's verifier
# honours the DNS TTL, against a real PowerDNS.  One verifying process
# (tests/dkim/dkimsign verify -, one key cache) checks the same message,
# signed with an RSA key published with TTL 300 and an Ed25519 key with TTL
# 1, while the test changes the published records:
#
#  1. both keys as published: pass, pass;
#  2. both records replaced by revoked keys (p= empty): the RSA key is still
#     the cached one (its TTL has not run out): pass;
#  3. two seconds later the Ed25519 key's TTL has run out: fetched again,
#     revoked: permerror "key revoked", while RSA still passes;
#  4. a fresh process (empty cache) sees both revoked.
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/pdns.sh"
h_init dkim-engine-keys

D=keys.test
DRV=$BUILDDIR/tests/dkimsign
pdns_start sqlite || { h_done; exit 1; }
C=$H/mxdock.conf
pdns_conf "$C"
echo "dkim_rsa_bits = 2048" >>"$C"
"$BINDIR/mxdock-dkim" -c "$C" keygen "$D" >/dev/null
for sel in $("$BINDIR/mxdock-dkim" -c "$C" list "$D" | awk 'NR > 1 { print $2 }'); do
	"$BINDIR/mxdock-dkim" -c "$C" activate "$D" "$sel" >/dev/null
done
RSA_SEL=$("$BINDIR/mxdock-dkim" -c "$C" list "$D" | awk '$3 == "rsa" { print $2 }')
ED_SEL=$("$BINDIR/mxdock-dkim" -c "$C" list "$D" | awk '$3 == "ed25519" { print $2 }')
pdns_api POST /servers/localhost/zones \
	"{\"name\":\"$D.\",\"kind\":\"Native\",\"nameservers\":[\"ns1.$D.\"]}" >/dev/null

# publish SEL TTL TXT - SEL._domainkey.D IN TXT, in strings of 250 bytes
publish() {
	local quoted="" v=$3
	while [ -n "$v" ]; do
		quoted="$quoted\\\"${v:0:250}\\\" "
		v=${v:250}
	done
	pdns_api PATCH "/servers/localhost/zones/$D." "{\"rrsets\":[{\"name\":\"$1._domainkey.$D.\",
		\"type\":\"TXT\",\"ttl\":$2,\"changetype\":\"REPLACE\",
		\"records\":[{\"content\":\"${quoted% }\",\"disabled\":false}]}]}"
}
while read -r name _ _ _ txt; do
	sel=${name%%.*}
	txt=$(sed 's/" "//g; s/"//g' <<<"$txt")
	publish "$sel" "$([ "$sel" = "$RSA_SEL" ] && echo 300 || echo 1)" "$txt"
done < <("$BINDIR/mxdock-dkim" -c "$C" dns "$D")
h_has "RSA key served" "$(pdns_dig "$RSA_SEL._domainkey.$D" TXT)" "k=rsa"

printf 'From: a@%s\r\nTo: b@example.org\r\nSubject: ttl\r\n\r\nbody\r\n' "$D" >"$H/m.eml"
"$DRV" -c "$C" sign "$D" "$H/m.eml" >"$H/m.signed"

# one verifier process, asked again for each line written to it
coproc V { "$DRV" -c "$C" verify - "$H/m.signed" 2>&1; }
# round - one verification: its lines, sorted, up to the "." line
round() {
	local out="" line
	echo go >&"${V[1]}"
	while read -r -t 30 line <&"${V[0]}" && [ "$line" != . ]; do out="$out$line"$'\n'; done
	sort <<<"$out" | awk 'NF { print $1, $3, $5, $6 }' | tr '\n' ';'
}
r1=$(round)
h_eq "1. both keys pass" "$(grep -o 'pass' <<<"${r1//;/$'\n'}" | wc -l)" 2

publish "$RSA_SEL" 300 "v=DKIM1; k=rsa; p=" >/dev/null
publish "$ED_SEL" 1 "v=DKIM1; k=ed25519; p=" >/dev/null
h_has "revoked record served" "$(pdns_dig "$RSA_SEL._domainkey.$D" TXT)" "p=\""
r2=$(round)
h_has "2. RSA key still cached (TTL 300)" "$r2" "pass $RSA_SEL"
sleep 2
r3=$(round)
h_has "3. Ed25519 key fetched again after its TTL: revoked" "$r3" "permerror $ED_SEL key revoked"
h_has "3. RSA key still cached" "$r3" "pass $RSA_SEL"
exec {V[1]}>&-
wait "$V_PID" 2>/dev/null
out=$(echo go | "$DRV" -c "$C" verify - "$H/m.signed" | grep -c 'permerror .* key revoked')
h_eq "4. a fresh cache sees both revoked" "$out" 2
h_done
