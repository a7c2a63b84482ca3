#!/bin/bash
# dmarc_eval.sh - the DMARC cases of tests/dmarc/cases.txt against a real
# PowerDNS publishing tests/dmarc/zone.txt: mxdock's verdicts (through
# tests/dmarc/dmarccheck, linked with milter/dmarc) against the wanted ones,
# with dmarc_org_domain = treewalk (RFC 9989, the wants) and = psl (RFC
# 7489, the psl= answers where they differ), and the tree walk against an
# independent RFC 9989 implementation, the mailauth npm package (pinned in
# tests/node), asking the same server.
source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/pdns.sh"
h_init dmarc_eval
TOP=$H_TOP
CASES=$TOP/tests/dmarc/cases.txt
CHECK=${BUILDDIR:-$TOP/build}/tests/dmarccheck
[ -x "$CHECK" ] || { h_fail "dmarccheck built" "missing $CHECK" "make unit"; h_done; exit; }

# mailauth, pinned: installed from the lock file when missing
h_npm_ci || h_fail "npm ci tests/node" "$(tail -3 "$H/npm.log")" "mailauth installed"

pdns_start sqlite || { h_done; exit; }
for zone in test uk; do
	out=$(pdns_api POST /servers/localhost/zones "$(node "$TOP/tests/dmarc/zone2json.js" \
		"$TOP/tests/dmarc/zone.txt" "$zone")")
	h_has "zone $zone. created in PowerDNS" "$out" "\"name\": \"$zone.\""
done
h_eq "PowerDNS serves the p=reject record" "$(pdns_dig _dmarc.reject.test TXT)" \
	'"v=DMARC1; p=reject; rua=mailto:dmarc@reject.test"'

DEAD=127.0.0.1:$(h_port)
RESOLVER=127.0.0.1:$PDNS_DNS_PORT
"$CHECK" -r "$RESOLVER" -d "$DEAD" "$CASES" >"$H/mxdock.out" 2>"$H/mxdock.err"
h_eq "dmarccheck exit" "$?" 0
"$CHECK" -o psl -r "$RESOLVER" -d "$DEAD" "$CASES" >"$H/psl.out" 2>"$H/psl.err"
h_eq "dmarccheck -o psl exit" "$?" 0
node "$TOP/tests/dmarc/mailauth_check.js" "$CASES" "$RESOLVER" "$DEAD" >"$H/mailauth.out" 2>"$H/mailauth.err"
h_eq "mailauth_check exit" "$?" 0

n=0 pslcases=0 differs_psl=0
while IFS= read -r line; do
	case $line in '#'* | '') continue ;; esac
	name=$(printf '%s' "$line" | awk -F' [|] ' '{gsub(/ +$/, "", $1); print $1}')
	want=$(printf '%s' "$line" | awk -F' [|] ' '{for (i = 6; i <= 8; i++) {gsub(/^ +| +$|[ |]+$/, "", $i)}; print $6 "\t" $7 "\t" $8}')
	got=$(awk -F'\t' -v n="$name" '$1 == n {print $2 "\t" $3 "\t" $4}' "$H/mxdock.out")
	h_eq "mxdock $name (result policy disposition)" "$got" "$want"
	# with the PSL: the psl= answer of the case, or the same wants
	pslwant=$(printf '%s' "$line" | awk -F' [|] ' '{for (i = 10; i <= NF; i++) if ($i ~ /^psl=/) {sub(/^psl=/, "", $i); gsub(/ +$/, "", $i); gsub(/ /, "\t", $i); print $i}}')
	[ -n "$pslwant" ] && { pslcases=$((pslcases + 1)); [ "$pslwant" != "$want" ] && differs_psl=$((differs_psl + 1)); }
	got=$(awk -F'\t' -v n="$name" '$1 == n {print $2 "\t" $3 "\t" $4}' "$H/psl.out")
	h_eq "mxdock psl $name (result policy disposition)" "$got" "${pslwant:-$want}"
	ours=$(awk -F'\t' -v n="$name" '$1 == n {print $2 "\t" $3}' "$H/mxdock.out")
	theirs=$(awk -F'\t' -v n="$name" '$1 == n {print $2 "\t" $3}' "$H/mailauth.out")
	# a documented disagreement (10th field "mailauth=RESULT POLICY"): the RFC decides
	differs=$(printf '%s' "$line" | awk -F' [|] ' '{for (i = 10; i <= NF; i++) if ($i ~ /^mailauth=/) {sub(/^mailauth=/, "", $i); sub(/ /, "\t", $i); print $i}}')
	if [ -n "$differs" ]; then
		h_eq "mailauth differs as documented on $name (result policy)" "$theirs" "$differs"
	else
		h_eq "mailauth agrees on $name (result policy)" "$theirs" "$ours"
	fi
	n=$((n + 1))
done <"$CASES"
h_eq "cases compared" "$([ "$n" -ge 65 ] && echo ">= 65" || echo "$n")" ">= 65"
h_eq "cases where the tree walk and the PSL differ" \
	"$([ "$differs_psl" -ge 15 ] && echo ">= 15" || echo "$differs_psl")" ">= 15"
h_done
