#!/bin/bash
# dns_create.sh - mxdock-dns create / sync / check against a real PowerDNS
# (gsqlite3; dns_create_mysql.sh runs the same with gmysql on MariaDB).
#
# Proves: create publishes every record of the mail set with the exact
# content (dig), check says ok for each, a second create and a sync send no
# PATCH and leave the export (serial included) unchanged, sync restores a
# deleted MX and keeps a hand-made TXT, the seed CLI (records, add,
# delete-record, list) and templates work, create records --template and
# --ip in the zone (metadata) so that a later sync keeps them, check
# reports record types it cannot compare as unchecked, a group switched
# off in dns_publish is removed by sync (hand-made records at its names
# stay), delete --records-only keeps what mxdock does not own.
cd "$(dirname "$0")/../.." || exit 70
source tests/lib/harness.sh
source tests/lib/pdns.sh
source tests/lib/mariadb.sh
BACKEND=${DNS_BACKEND:-sqlite}
h_init "dns-create-$BACKEND"
if [ "$BACKEND" = mysql ]; then mariadb_start || { h_done; exit 1; }; fi
pdns_start "$BACKEND" || { h_done; exit 1; }
C=$H/mxdock.conf
pdns_conf "$C"
echo "dns_server_ipv6 = 2001:db8:0:0::25" >>"$C"
DNS() { "$BINDIR/mxdock-dns" -c "$C" "$@"; }
D=example.test

# --- create: one request, every record ------------------------------------
out=$(MXDOCK_DEBUG_HTTP=1 DNS create $D 2>&1)
h_eq "create exits 0" "$?" 0
h_eq "create of a new zone is one request" "$(grep -c 'mxdock-dns: http ' <<<"$out")" 1
h_has "create says it created the zone" "$out" "$D: zone created"
h_has "create makes the first DKIM keys active" "$out" "active"

dig_is() { # NAME TYPE WANT...: every wanted line in the short answer, and no others
	local name=$1 type=$2 got want
	shift 2
	got=$(pdns_dig "$name" "$type" | sort)
	want=$(printf '%s\n' "$@" | sort)
	h_eq "dig $name $type" "$got" "$want"
}
dig_is $D MX "10 mail.$D."
dig_is $D NS "ns1.$D." "ns2.$D."
dig_is $D TXT '"v=spf1 mx -all"'
dig_is mail.$D TXT '"v=spf1 a -all"'
dig_is mail.$D A 127.0.0.1
dig_is mail.$D AAAA 2001:db8::25
dig_is ns1.$D A 127.0.0.1
dig_is _dmarc.$D TXT '"v=DMARC1; p=quarantine; rua=mailto:postmaster@example.test"'
dig_is _smtp._tls.$D TXT '"v=TLSRPTv1; rua=mailto:postmaster@example.test"'
dig_is mta-sts.$D CNAME "mail.$D."
dig_is autoconfig.$D CNAME "mail.$D."
dig_is autodiscover.$D CNAME "mail.$D."
dig_is _autodiscover._tcp.$D SRV "0 1 443 mail.$D."
dig_is _submissions._tcp.$D SRV "0 1 465 mail.$D."
dig_is _submission._tcp.$D SRV "0 1 587 mail.$D."
dig_is _imaps._tcp.$D SRV "0 1 993 mail.$D."
dig_is _pop3s._tcp.$D SRV "0 1 995 mail.$D."
dig_is _imap._tcp.$D SRV "0 0 0 ."
dig_is _pop3._tcp.$D SRV "0 0 0 ."
soa=$(pdns_dig $D SOA)
h_has "SOA names ns1 and hostmaster" "$soa" "ns1.$D. hostmaster.$D. "

# MTA-STS: the id is the hash of the policy file the web server serves
pol="$H/mta-sts/$D/.well-known/mta-sts.txt"
h_eq "policy file = mta-sts-policy output" "$(cat "$pol" 2>&1)" "$(DNS mta-sts-policy $D)"
h_has "policy names the mail host" "$(cat "$pol")" "mx: mail.$D"
id=$(sha256sum <"$pol" | cut -c1-32)
dig_is _mta-sts.$D TXT "\"v=STSv1; id=$id\""

# DKIM: each selector's TXT is exactly what mxdock-dkim renders for it
n=0
while read -r name _ _ content; do
	[ -n "$name" ] || continue
	n=$((n + 1))
	h_eq "DKIM TXT of ${name%%.*}" "$(pdns_dig "$name" TXT)" "$content"
done < <("$BINDIR/mxdock-dkim" -c "$C" dns $D)
h_eq "two DKIM selectors published" "$n" 2
rsa=$(pdns_dig "$(ls "$H/dkim/$D" | sed -n 's/\.pem$//p' | grep 'r$' | head -1)._domainkey.$D" TXT)
h_has "RSA DKIM TXT is split into strings" "$rsa" '" "'

# --- check: every record ok ----------------------------------------------
out=$(DNS check $D)
h_eq "check exits 0" "$?" 0
h_eq "check: no line is not ok" "$(grep -vc '^ok' <<<"$out")" 0
# an ok line for each record set the zone holds (SOA aside), read from the API
want=$(pdns_api GET "/servers/localhost/zones/$D." |
	jq -r '.rrsets[] | select(.type != "SOA") | "\(.name)\t\(.type)"' | sort)
[ -n "$want" ] || want="(the zone's record sets, unreadable)"
h_eq "check: an ok line for every record set" "$(grep '^ok' <<<"$out" | cut -f2,3 | sort)" "$want"

# --- idempotence: no PATCH, serial and export unchanged --------------------
before=$(pdns_api GET /servers/localhost/zones/$D./export)
out=$(MXDOCK_DEBUG_HTTP=1 DNS create $D 2>&1)
h_eq "second create exits 0" "$?" 0
h_eq "second create sends no PATCH" "$(grep -c 'http PATCH' <<<"$out")" 0
out=$(MXDOCK_DEBUG_HTTP=1 DNS sync $D 2>&1)
h_eq "sync of an unchanged zone: one request" "$(grep -c 'mxdock-dns: http ' <<<"$out")" 1
h_has "sync says up to date" "$out" "up to date"
h_eq "export unchanged (serial too)" "$(pdns_api GET /servers/localhost/zones/$D./export)" "$before"

# --- hand edits: MX deleted, hello=world added ----------------------------
pdns_api PATCH /servers/localhost/zones/$D. \
	'{"rrsets":[{"name":"example.test.","type":"MX","changetype":"DELETE"},
	  {"name":"example.test.","type":"TXT","ttl":3600,"changetype":"REPLACE","records":[
	   {"content":"\"v=spf1 mx -all\"","disabled":false},
	   {"content":"\"hello=world\"","disabled":false},
	   {"content":"\"google-site-verification=abc\"","disabled":false}]}]}'
h_eq "MX gone by hand" "$(pdns_dig $D MX)" ""
out=$(DNS check $D)
h_eq "check with MX gone exits 1" "$?" 1
h_has "check reports the MX missing" "$out" "missing	example.test.	MX"
h_has "check: hand-made TXT beside ours is still ok" "$out" "ok	example.test.	TXT"
out=$(DNS sync $D --dry-run)
h_has "dry-run shows the MX to add" "$out" "+ example.test.	3600	IN	MX	10 mail.example.test."
h_eq "dry-run changed nothing" "$(pdns_dig $D MX)" ""
out=$(MXDOCK_DEBUG_HTTP=1 DNS sync $D 2>&1)
h_eq "sync sends one PATCH" "$(grep -c 'http PATCH' <<<"$out")" 1
dig_is $D MX "10 mail.$D."
dig_is $D TXT '"v=spf1 mx -all"' '"hello=world"' '"google-site-verification=abc"'

# our SPF edited by hand: the administrator's edit wins (drift, reported);
# sync --force puts ours back, the others stay
DNS add $D @ TXT "v=spf1 ip4:192.0.2.1 -all" >/dev/null
DNS delete-record $D --type=TXT --name=@ --value="v=spf1 mx -all" >/dev/null
dig_is $D TXT '"v=spf1 ip4:192.0.2.1 -all"' '"hello=world"' '"google-site-verification=abc"'
DNS sync $D --only=MX >/dev/null
h_has "--only=MX leaves TXT alone" "$(pdns_dig $D TXT)" "ip4:192.0.2.1"
out=$(DNS sync $D)
h_has "sync reports the edited SPF as drift" "$out" "drift	keep	example.test.	3600	TXT	\"v=spf1 ip4:192.0.2.1 -all\""
dig_is $D TXT '"v=spf1 ip4:192.0.2.1 -all"' '"hello=world"' '"google-site-verification=abc"'
DNS sync $D --force >/dev/null
dig_is $D TXT '"v=spf1 mx -all"' '"hello=world"' '"google-site-verification=abc"'

# --- the seed CLI ------------------------------------------------------------
out=$(DNS add $D www A 192.0.2.10 --ttl=300)
h_eq "add exits 0" "$?" 0
DNS add $D www.example.test. A 192.0.2.11 >/dev/null
dig_is www.$D A 192.0.2.10 192.0.2.11
h_has "records --type=A lists www" "$(DNS records $D --type=A)" "www.example.test.	300	IN	A	192.0.2.11"
json=$(DNS records $D --type=MX --json)
h_eq "records --json" "$(jq -c '.[0]' <<<"$json" 2>&1)" \
	'{"content":"10 mail.example.test.","name":"example.test.","ttl":3600,"type":"MX"}'
DNS add $D @ MX mx2.example.net --priority=20 >/dev/null
dig_is $D MX "10 mail.$D." "20 mx2.example.net."
DNS delete-record $D --type=A --name=www --value=192.0.2.10 >/dev/null
dig_is www.$D A 192.0.2.11
DNS delete-record $D --type=A --name=www >/dev/null
dig_is www.$D A
DNS delete-record $D --type=A --name=www >/dev/null 2>&1
h_eq "delete-record of nothing: EX_NOINPUT" "$?" 66
h_eq "list --json names the zone" "$(DNS list --json | jq -r '.[].name')" "$D"
DNS delete-record $D --type=MX --name=@ --value="20 mx2.example.net." >/dev/null

# --- templates ---------------------------------------------------------------
mkdir -p "$H/templates"
printf '# web hosting\nwww A 192.0.2.80 600\n@ MX 5 %%m.\n%%d. TXT "v=spf1 mx a:%%m -all"\n' \
	>"$H/templates/web"
h_eq "template list" "$(DNS template list)" "web"
h_has "template show expands %m" "$(DNS template show web $D)" "example.test.	3600	IN	MX	5 mail.example.test."
DNS create t2.test --template=web >/dev/null
dig_is www.t2.test A 192.0.2.80
dig_is t2.test MX "5 mail.t2.test."
dig_is t2.test TXT '"v=spf1 mx a:mail.t2.test -all"'
out=$(MXDOCK_DEBUG_HTTP=1 DNS sync t2.test 2>&1)
h_eq "sync keeps the zone's template (no PATCH)" "$(grep -c 'http PATCH' <<<"$out")" 0

# a template record of a type check cannot compare: unchecked, not a failure
printf 'www SSHFP 1 2 %s\n' "$(printf 'ab%.0s' $(seq 1 32))" >>"$H/templates/web"
DNS sync t2.test >/dev/null
h_eq "SSHFP from the template published" "$(pdns_dig www.t2.test SSHFP | cut -c1-8)" "1 2 ABAB"
out=$(DNS check t2.test)
h_eq "check with an SSHFP record exits 0" "$?" 0
h_has "check: SSHFP unchecked" "$out" "unchecked	www.t2.test.	SSHFP"

# create --template on an existing zone: the template is stored first, then
# one PATCH (a failure between them leaves sync working towards it)
printf 'www A 192.0.2.81 600\n' >"$H/templates/web2"
out=$(MXDOCK_DEBUG_HTTP=1 DNS create t2.test --template=web2 2>&1)
h_eq "create --template on a zone: exit 0" "$?" 0
order=$(grep -o 'http [A-Z]* [^ ]*' <<<"$out" | awk '{print $2, $3}' | grep -v '^GET' | tr '\n' ' ')
h_eq "template stored before the PATCH" "$order" \
	"POST /zones PUT /zones/t2.test./metadata/X-MXDOCK-TEMPLATE PATCH /zones/t2.test. "
dig_is www.t2.test A 192.0.2.81

# --- create --ip: recorded, so sync (as mxdock-dkim runs it) keeps it -------
out=$(MXDOCK_DEBUG_HTTP=1 DNS create ip.test --ip=192.0.2.10 2>&1)
h_eq "create --ip exits 0" "$?" 0
h_eq "create --ip of a new zone: POST, then the metadata PUT" \
	"$(grep -o 'http [A-Z]*' <<<"$out" | tr '\n' ' ')" "http POST http PUT "
dig_is mail.ip.test A 192.0.2.10
h_eq "recorded in the zone's metadata" \
	"$(pdns_api GET /servers/localhost/zones/ip.test./metadata/X-MXDOCK-IP | jq -c .metadata)" \
	'["192.0.2.10"]'
out=$(MXDOCK_DEBUG_HTTP=1 DNS sync ip.test 2>&1)
h_eq "sync after create --ip: no PATCH" "$(grep -c 'http PATCH' <<<"$out")" 0
dig_is mail.ip.test A 192.0.2.10
"$BINDIR/mxdock-dkim" -c "$C" rotate ip.test >/dev/null 2>&1
h_eq "mxdock-dkim rotate (runs sync): exit 0" "$?" 0
dig_is mail.ip.test A 192.0.2.10
h_eq "check after create --ip: all ok" "$(DNS check ip.test | grep -vc '^ok')" 0
DNS create ip.test >/dev/null
dig_is mail.ip.test A 192.0.2.10
DNS create ip.test --ip=192.0.2.11 --ip=2001:db8::11 >/dev/null
dig_is mail.ip.test A 192.0.2.11
dig_is mail.ip.test AAAA 2001:db8::11
# metadata lost by hand: sync refuses rather than put the configured address back
pdns_api DELETE /servers/localhost/zones/ip.test./metadata/X-MXDOCK-IP >/dev/null
out=$(MXDOCK_DEBUG_HTTP=1 DNS sync ip.test 2>&1)
h_eq "sync with the recorded addresses gone: EX_DATAERR" "$?" 65
h_has "and says so" "$out" "are gone; run create ip.test again"
h_eq "and sends no PATCH" "$(grep -c 'http PATCH' <<<"$out")" 0
dig_is mail.ip.test A 192.0.2.11
DNS create ip.test --ip=192.0.2.11 --ip=2001:db8::11 >/dev/null
h_eq "create again restores them: sync exit 0" "$(DNS sync ip.test >/dev/null; echo $?)" 0

# --- groups switched off in dns_publish: sync removes what mxdock published,
# apex SPF and MX included (issue 13: ours, unchanged, no longer desired) --
O=off.test
DNS create $O >/dev/null
h_eq "off.test created" "$?" 0
DNS add $O _jmap._tcp SRV "0 1 443 jmap.example.net." >/dev/null
C2=$H/mxdock-off.conf
grep -v '^dns_publish' "$C" >"$C2"
echo "dns_publish = soa, ns, a, dkim, dmarc, tlsrpt, autoconfig" >>"$C2"
DNS add $O @ MX "20 backup.other.test." >/dev/null
DNS2() { "$BINDIR/mxdock-dns" -c "$C2" "$@"; }
others() { # every rrset but SOA and the ones the switched-off groups own
	pdns_api GET /servers/localhost/zones/$O. |
		jq -c '[.rrsets[] | select(.type != "SOA" and .type != "SRV" and .type != "MX"
		  and .type != "TXT" and (.name | test("mta-sts") | not))
		  | {name, type, records: (.records | map(.content) | sort)}] | sort_by(.name, .type)'
}
keep=$(others)
out=$(DNS2 sync $O --dry-run)
h_has "dry-run: the mta-sts CNAME to delete" "$out" "- mta-sts.$O.	3600	IN	CNAME	mail.$O."
out=$(MXDOCK_DEBUG_HTTP=1 DNS2 sync $O 2>&1)
h_eq "sync with mta-sts, srv off: exit 0" "$?" 0
h_eq "sync with mta-sts, srv off: one PATCH" "$(grep -c 'http PATCH' <<<"$out")" 1
dig_is mta-sts.$O CNAME
dig_is _mta-sts.$O TXT
for s in submissions submission imaps pop3s imap pop3; do dig_is _$s._tcp.$O SRV; done
dig_is _jmap._tcp.$O SRV "0 1 443 jmap.example.net."
dig_is _autodiscover._tcp.$O SRV "0 1 443 mail.$O."
dig_is $O MX "20 backup.other.test."
dig_is $O TXT
dig_is mail.$O TXT
dig_is _dmarc.$O TXT '"v=DMARC1; p=quarantine; rua=mailto:postmaster@off.test"'
h_eq "every other rrset untouched" "$(others)" "$keep"
out=$(MXDOCK_DEBUG_HTTP=1 DNS2 sync $O 2>&1)
h_eq "second sync with groups off: no PATCH" "$(grep -c 'http PATCH' <<<"$out")" 0
DNS delete $O --purge-keys >/dev/null

# --- delete --records-only keeps what is not ours ---------------------------
DNS delete $D --records-only >/dev/null
h_eq "records-only: exit 0" "$?" 0
dig_is $D MX
dig_is $D TXT '"hello=world"' '"google-site-verification=abc"'
h_eq "records-only: _dmarc gone" "$(pdns_dig _dmarc.$D TXT)" ""
h_eq "t2.test has an MTA-STS policy file" "$(ls "$H/mta-sts/t2.test/.well-known")" "mta-sts.txt"
DNS delete t2.test --purge-keys >/dev/null
h_eq "delete removes the MTA-STS policy directory" "$(ls -d "$H/mta-sts/t2.test" 2>/dev/null)" ""
h_eq "delete removes the zone" "$(pdns_api GET '/servers/localhost/zones?zone=t2.test.')" "[]"
h_has "delete again: nothing to do, exit 0" "$(DNS delete t2.test; echo "rc=$?")" "rc=0"
h_eq "--purge-keys removes the keys" "$(ls "$H/dkim/t2.test" 2>/dev/null | wc -l)" 0
h_done
