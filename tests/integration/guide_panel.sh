#!/bin/bash
# guide_panel.sh - docs/panel.md's command examples run as written against
# a scratch PowerDNS: each line's exit code must be the "# exit N" the
# guide states, under the condition its "when ..." names (made so for that
# line only), and each ```json TOOL-VERB block must have the keys and value
# types of the last --json output of "mxdock-TOOL VERB".
. "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/pdns.sh"
source "$H_TOP/tests/lib/docsnip.sh"
h_init guide_panel
GUIDE=$H_TOP/docs/panel.md
pdns_start sqlite || { h_done; exit 1; }
C=$H/mxdock.conf
pdns_conf "$C"
echo "pdns_timeout = 2s" >>"$C"
KEY=$(cat "$PDNS_API_KEY_FILE")
PDNS_PID=$(pgrep -f -- "pdns_server --config-dir=$H/pdns" | head -1)

# when_on COND / when_off COND - make the guide's "when ..." so, and undo it
when_on() {
	case $1 in
	"PowerDNS is down") sed -i "s#^pdns_api_url = .*#pdns_api_url = http://127.0.0.1:$(h_port)/api/v1#" "$C" ;;
	"PowerDNS does not answer") kill -STOP "$PDNS_PID" ;;
	"the API key is wrong") echo "not-the-key" >"$PDNS_API_KEY_FILE" ;;
	"the configuration is unreadable") RUNCONF=$H/missing.conf ;;
	*) return 1 ;;
	esac
}
when_off() {
	case $1 in
	"PowerDNS is down") sed -i "s#^pdns_api_url = .*#pdns_api_url = $PDNS_API_URL#" "$C" ;;
	"PowerDNS does not answer") kill -CONT "$PDNS_PID" ;;
	"the API key is wrong") echo "$KEY" >"$PDNS_API_KEY_FILE" ;;
	"the configuration is unreadable") RUNCONF=$C ;;
	esac
}

# run_panel TAG - every line of the guide's block TAG, as written
N=0
run_panel() {
	local line cmd want cond rc
	docsnip "$GUIDE" "$1" >"$H/$1.sh" || { h_fail "guide has the $1 block" none one; return; }
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		cmd=${line%%#*}
		cmd=${cmd%"${cmd##*[! ]}"}
		want=$(sed -n 's/.*# exit \([0-9]*\).*/\1/p' <<<"$line")
		cond=$(sed -n 's/.*# exit [0-9]* when \(.*\)$/\1/p' <<<"$line")
		[ -n "$want" ] || { h_fail "$1: line states its exit code" "$line" "# exit N"; continue; }
		RUNCONF=$C
		if [ -n "$cond" ]; then when_on "$cond" || { h_fail "$1: known condition" "$cond" "one of when_on's"; continue; }; fi
		N=$((N + 1))
		PATH="$BINDIR:$PATH" MXDOCK_CONF=$RUNCONF bash -c "$cmd" >"$H/out.$N" 2>"$H/err.$N" </dev/null
		rc=$?
		[ -n "$cond" ] && when_off "$cond"
		h_eq "$cmd${cond:+ (when $cond)}: exit $want" "$rc" "$want" || sed 's/^/#   /' "$H/err.$N"
		[ "$rc" -gt 1 ] && h_eq "$cmd${cond:+ (when $cond)}: one line on stderr" "$(wc -l <"$H/err.$N")" 1
		echo "$cmd" >"$H/cmd.$N"
	done <"$H/$1.sh"
}

run_panel panel-create
h_eq "created zone serves the MX" "$(pdns_dig shop.example MX)" "10 mail.shop.example."
# the drift the guide describes: someone edits the SPF record in PowerDNS
pdns_api PATCH "/servers/localhost/zones/shop.example." \
	'{"rrsets":[{"name":"shop.example.","type":"TXT","ttl":3600,"changetype":"REPLACE","records":[{"content":"\"v=spf1 a mx include:mail.provider.example -all\"","disabled":false}]}]}' >/dev/null
h_eq "drift made" "$(pdns_dig shop.example TXT | grep -c provider)" 1
run_panel panel-drift
h_eq "after --force: mxdock's SPF is back" "$(pdns_dig shop.example TXT | grep -c 'v=spf1 mx -all')" 1
run_panel panel-errors
h_eq "a failed line left the zone as it was" "$(pdns_dig shop.example TXT | grep -c 'v=spf1 mx -all')" 1
run_panel panel-delete
h_eq "zone gone after delete (API answers 404)" \
	"$(curl -s -o /dev/null -w '%{http_code}' -H "@$PDNS_API_HEADER" "$PDNS_API_URL/servers/localhost/zones/shop.example.")" 404

# the stderr lines the guide quotes are the ones printed
while IFS= read -r line; do
	h_eq "stderr as the guide quotes it: ${line:0:60}" \
		"$(cat "$H"/err.* | grep -cxF -- "$line")" 1
done < <(sed -n 's/^    \(mxdock-dns: .*\)$/\1/p' "$GUIDE")

# shapes: the keys and value types of each json block vs the real output
shape_of() {
	jq -cS 'def sk: if type == "object" then with_entries(.value |= sk)
		elif type == "array" then (if length == 0 then [] else [.[0] | sk] end)
		else type end; sk'
}
for tag in dns-diff dns-sync dkim-list dkim-dns; do
	want=$(docsnip "$GUIDE" "$tag" | shape_of) || { h_fail "guide has the json $tag block" none one; continue; }
	prefix="mxdock-${tag%%-*} ${tag#*-} "
	got=""
	for ((i = N; i >= 1; i--)); do
		grep -q -- "^$prefix.*--json" "$H/cmd.$i" && [ -s "$H/out.$i" ] &&
			[ "$(jq 'if type == "object" then .records else . end | length' "$H/out.$i")" -gt 0 ] &&
			{ got=$(shape_of <"$H/out.$i"); break; }
	done
	h_eq "json $tag: the guide's shape is the real one" "$got" "$want"
done
h_done
