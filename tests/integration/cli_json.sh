#!/bin/bash
# cli_json.sh - the --json of every listing command (issue 17), against a
# real PowerDNS and a real MariaDB: each output parses (jq), has the shape
# docs/DNS.md, docs/DKIM.md and docs/POLICY.md document (the exact set of
# keys, the type of each value), and the values say what the text output
# says.  A key renamed, added or dropped, or a number printed as a string,
# fails here: panels read these shapes.
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/pdns.sh"
source "$H_TOP/tests/lib/mariadb.sh"
h_init cli_json
pdns_start sqlite || { h_done; exit 1; }
mariadb_start || { h_done; exit 1; }
C=$H/mxdock.conf
pdns_conf "$C"
mariadb_conf "$C"
cat >>"$C" <<CONF
quota_enable = yes
authfail_enable = yes
CONF
DNS() { "$BINDIR/mxdock-dns" -c "$C" "$@"; }
DKIM() { "$BINDIR/mxdock-dkim" -c "$C" "$@"; }
POL() { "$BINDIR/mxdock-policy" -c "$C" "$@"; }
# shape NAME JSON FILTER - FILTER (jq -e) holds on JSON
shape() {
	local out
	out=$(jq -e "$3" <<<"$2" 2>&1)
	h_eq "$1" "$out" true
}
D=json.test

DNS create "$D" >"$H/create.out" 2>&1 || h_fail "create" "$(cat "$H/create.out")" "exit 0"

# ---- mxdock-dns ---------------------------------------------------------------
j=$(DNS list --json)
shape "dns list: [{dnssec,kind,name,serial}]" "$j" \
	'type == "array" and length == 1 and all(.[]; keys == ["dnssec","kind","name","serial"]
	 and (.dnssec | type) == "boolean" and (.kind | type) == "string"
	 and (.name | type) == "string" and (.serial | type) == "number")'
h_eq "dns list: the zone" "$(jq -r '.[0].name' <<<"$j")" "$D"

j=$(DNS records "$D" --json)
shape "dns records: [{content,name,ttl,type}]" "$j" \
	'type == "array" and length > 5 and all(.[]; keys == ["content","name","ttl","type"]
	 and (.ttl | type) == "number" and (.content | type) == "string")'
h_eq "dns records: as many as the text lines" "$(jq length <<<"$j")" "$(DNS records "$D" | wc -l)"
h_eq "dns records --type=MX: the MX" "$(DNS records "$D" --type=MX --json | jq -r '.[0].content')" \
	"10 mail.$D."

# drift: an edited SPF, so diff and sync list a record
pdns_api PATCH "/servers/localhost/zones/$D." \
	'{"rrsets":[{"name":"'"$D"'.","type":"TXT","ttl":3600,"changetype":"REPLACE",
	  "records":[{"content":"\"v=spf1 mx ~all\"","disabled":false}]}]}' >/dev/null
j=$(DNS diff "$D" --json)
h_eq "dns diff --json with drift exits 1" "$?" 1
shape "dns diff: {changes,domain,records}" "$j" \
	'keys == ["changes","domain","records"] and (.changes | type) == "number"
	 and .domain == "'"$D"'" and (.records | type) == "array"'
shape "dns diff: the drift record" "$j" \
	'[.records[] | select(.reason == "drift")] | length == 1 and
	 (.[0] | keys == ["action","content","disabled","mxdock","name","reason","ttl","type"]
	  and .action == "keep" and .content == "\"v=spf1 mx ~all\"" and .disabled == false)'
j=$(DNS sync "$D" --json)
h_eq "dns sync --json exits 0" "$?" 0
shape "dns sync: {changes,domain,records}, nothing changed" "$j" \
	'keys == ["changes","domain","records"] and .changes == 0'

j=$(DNS check "$D" --json)
h_eq "dns check --json with the edited SPF exits 1" "$?" 1
shape "dns check: [{detail,name,server,status,type}]" "$j" \
	'type == "array" and length > 5 and all(.[]; keys == ["detail","name","server","status","type"]
	 and (.status | IN("ok","missing","stale","error","unchecked","spf-uncovered")))'
shape "dns check: the edited SPF is the one not ok" "$j" \
	'[.[] | select(.status != "ok")] | length == 1 and .[0].name == "'"$D"'." and .[0].type == "TXT"
	 and .[0].status == "stale" and (.[0].detail | contains("v=spf1 mx ~all"))'
h_eq "dns check: JSON and text say the same" \
	"$(jq -r '.[] | "\(.status) \(.name) \(.type)"' <<<"$j" | sort)" \
	"$(DNS check "$D" | cut -f1-3 | tr '\t' ' ' | sort)"

DNS dnssec enable "$D" >"$H/dnssec.out" 2>&1 || h_fail "dnssec enable" "$(cat "$H/dnssec.out")" "exit 0"
j=$(DNS dnssec status "$D" --json)
shape "dns dnssec status: [{active,algorithm,id,keytype,published}]" "$j" \
	'type == "array" and length == 1 and all(.[]; keys == ["active","algorithm","id","keytype","published"]
	 and (.id | type) == "number" and (.active | type) == "boolean")'
j=$(DNS dnssec ds "$D" --json)
shape "dns dnssec ds: [{algorithm,digest,digest_type,ds,keytag,name}]" "$j" \
	'type == "array" and length >= 1 and all(.[]; keys == ["algorithm","digest","digest_type","ds","keytag","name"]
	 and (.keytag | type) == "number" and (.digest_type | IN(2, 4)) and .name == "'"$D"'."
	 and .ds == "\(.keytag) \(.algorithm) \(.digest_type) \(.digest)")'
h_eq "dns dnssec ds: JSON and text say the same" \
	"$(jq -r '.[] | "\(.name)\tIN\tDS\t\(.ds)"' <<<"$j")" "$(DNS dnssec ds "$D")"

mkdir -p "$H/templates"
printf 'www A 192.0.2.80\n' >"$H/templates/web"
printf 'www A 192.0.2.81\n' >"$H/templates/b-site"
h_eq "dns template list --json: names, sorted" "$(DNS template list --json | jq -c .)" '["b-site","web"]'
h_eq "dns template list --json: the text lists the same" \
	"$(DNS template list | sort | tr '\n' ' ')" "b-site web "
"$BINDIR/mxdock-dns" -c "$C" template show web --json >/dev/null 2>&1
h_eq "dns template show --json is a usage error" "$?" 64
rm -r "$H/templates"
h_eq "dns template list --json without a directory: []" "$(DNS template list --json | jq -c .)" '[]'

# ---- mxdock-dkim --------------------------------------------------------------
j=$(DKIM list "$D" --json)
shape "dkim list: [{age,algorithm,bits,changed,created,domain,selector,state}]" "$j" \
	'type == "array" and length == 2 and all(.[]; keys ==
	 ["age","algorithm","bits","changed","created","domain","selector","state"]
	 and (.bits | type) == "number" and (.created | type) == "number"
	 and (.age | type) == "number" and .domain == "'"$D"'")'
h_eq "dkim list: one rsa and one ed25519, both active" \
	"$(jq -r '[.[] | "\(.algorithm)=\(.state)"] | sort | join(" ")' <<<"$j")" "ed25519=active rsa=active"
j=$(DKIM dns "$D" --json)
shape "dkim dns: [{algorithm,domain,name,selector,state,value}]" "$j" \
	'type == "array" and length == 2 and all(.[]; keys ==
	 ["algorithm","domain","name","selector","state","value"]
	 and (.value | startswith("v=DKIM1; k=")) and (.name | endswith("._domainkey.'"$D"'.")))'
sel=$(jq -r '.[] | select(.algorithm == "ed25519") | .selector' <<<"$j")
h_eq "dkim dns --json: the value PowerDNS serves" \
	"\"$(jq -r '.[] | select(.algorithm == "ed25519") | .value' <<<"$j")\"" \
	"$(pdns_dig "$sel._domainkey.$D" TXT)"

# ---- mxdock-policy ------------------------------------------------------------
POL init-db >/dev/null
mariadb_db mxdock <"$H_TOP/docs/policy-schema.sql"
mariadb_db mxdock "INSERT INTO accounts (name, type, quota) VALUES ('bob', 'individual', 1000);
	INSERT INTO emails (name, address, type) VALUES ('bob', 'bob@$D', 'primary');
	INSERT INTO mailbox_usage VALUES ('bob', 600, NOW());" >/dev/null
j=$(POL authfail list --json)
shape "authfail list, empty: {bans: [], failures: []}" "$j" '. == {"bans": [], "failures": []}'
POL authfail ban 198.51.100.0/24 --for=1d --reason='a "quoted" reason' >/dev/null
POL authfail record 192.0.2.7 --principal=alice >/dev/null
POL authfail record 192.0.2.7 --principal=alice >/dev/null
j=$(POL authfail list --json)
shape "authfail list: {bans, failures}" "$j" 'keys == ["bans","failures"]'
shape "authfail list: a ban {active,ban,count,reason,until,until_utc}" "$j" \
	'.bans | length == 1 and (.[0] | keys == ["active","ban","count","reason","until","until_utc"]
	 and .active == true and .ban == "198.51.100.0/24" and .reason == "a \"quoted\" reason"
	 and (.until | type) == "number" and (.count | type) == "number"
	 and (.until_utc | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")))'
shape "authfail list: failures {count,ip,last}" "$j" \
	'.failures | length == 1 and (.[0] | keys == ["count","ip","last"] and .count == 2
	 and (.last | type) == "number" and (.ip | contains("192.0.2.7")))'
j=$(POL quota show "bob@$D" --size=500 --json)
shape "quota show: {action,address,catchall,found,quota,reply,used,warning}" "$j" \
	'keys == ["action","address","catchall","found","quota","reply","used","warning"]
	 and .found == true and .catchall == false and .quota == 1000 and .used == 600
	 and (.action | type) == "string" and (.reply | type) == "string"'
h_eq "quota show: 600 + 500 > 1000 is refused" "$(jq -r '.action != "accept" and (.reply | test("^[45][0-9][0-9] "))' <<<"$j")" true
h_eq "quota show: the same decision as the text" \
	"$(POL quota show "bob@$D" --size=500 | grep -c "$(jq -r '.action' <<<"$j")")" 1
h_done
