#!/bin/bash
# dns_dnssec.sh - mxdock-dns dnssec against a real PowerDNS: enable signs the
# zone so that delv, with the zone's own DNSKEY as trust anchor, answers
# "fully validated" for the MX; ds prints digest types 2 and 4 only; the
# serial moves on key changes; rollover and --finish; ed25519; disable;
# TLSA 3 1 1 published only while the zone is signed; each verb cut short
# (the state its X-MXDOCK-DNSSEC-PENDING mark stands for) completes when run
# again.  gsqlite3; dns_dnssec_mysql.sh runs the same with gmysql.
cd "$(dirname "$0")/../.." || exit 70
source tests/lib/harness.sh
source tests/lib/pdns.sh
source tests/lib/mariadb.sh
BACKEND=${DNS_BACKEND:-sqlite}
h_init "dns-dnssec-$BACKEND"
if [ "$BACKEND" = mysql ]; then mariadb_start || { h_done; exit 1; }; fi
pdns_start "$BACKEND" || { h_done; exit 1; }
C=$H/mxdock.conf
pdns_conf "$C"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$H/tls.key" \
	-out "$H/tls.crt" -subj /CN=mail.example.test -days 30 >/dev/null 2>&1
printf 'dns_publish = soa, ns, a, mx, spf, dkim, dmarc, tlsrpt, mta-sts, srv, autoconfig, tlsa\n' >>"$C"
echo "dns_tlsa_cert = $H/tls.crt" >>"$C"
DNS() { "$BINDIR/mxdock-dns" -c "$C" "$@"; }
D=example.test
DNS create $D >/dev/null
h_eq "no TLSA while unsigned" "$(pdns_dig _25._tcp.mail.$D TLSA)" ""

serial() { pdns_dig "$1" SOA | awk '{print $3}'; }
# bumped NAME ZONE BEFORE: the served serial is above BEFORE
bumped() {
	local now
	now=$(serial "$2")
	if [ -n "$now" ] && [ "$now" -gt "$3" ]; then h_ok "$1"; else h_fail "$1" "$now" "> $3"; fi
}
mark() { pdns_api GET "/servers/localhost/zones/$1./metadata/X-MXDOCK-DNSSEC-PENDING" | jq -c .metadata; }
set_mark() {
	pdns_api PUT "/servers/localhost/zones/$1./metadata/X-MXDOCK-DNSSEC-PENDING" \
		"{\"metadata\":[\"$2\"]}" >/dev/null
}

# validate ZONE NAME: delv with the zone's KSK/CSK as the only anchor
validate() {
	local zone=$1 k
	k=$(pdns_dig "$zone" DNSKEY | awk '$1 == 257 {printf "%s %s %s \"", $1, $2, $3;
		for (i = 4; i <= NF; i++) printf "%s", $i; print "\";"}')
	printf 'trust-anchors {\n' >"$H/anchor"
	while IFS= read -r line; do
		[ -n "$line" ] && printf '  %s. static-key %s\n' "$zone" "$line" >>"$H/anchor"
	done <<<"$k"
	printf '};\n' >>"$H/anchor"
	delv -a "$H/anchor" +root="$zone" @127.0.0.1 -p "$PDNS_DNS_PORT" MX "$zone" 2>&1
}

s0=$(serial $D)
out=$(DNS dnssec enable $D)
h_eq "enable exits 0" "$?" 0
h_has "enable prints the DS" "$out" "IN	DS	"
[[ $s0 =~ ^[1-9][0-9]*$ ]] && h_ok "serial before enable read: $s0" ||
	h_fail "serial before enable read" "$s0" "a serial number"
[ "$(serial $D)" -gt "$s0" ] && h_ok "serial bumped by enable" || h_fail "serial bumped" "$(serial $D)" "> $s0"
h_has "delv: MX fully validated" "$(validate $D)" "; fully validated"
h_has "status says signed" "$(DNS dnssec status $D)" "signed"
h_eq "status --json: one active CSK" \
	"$(DNS dnssec status $D --json | jq -c '[.[] | {keytype, active, algorithm}]')" \
	'[{"keytype":"csk","active":true,"algorithm":"ECDSAP256SHA256"}]'

ds=$(DNS dnssec ds $D)
h_eq "ds: digest types are 2 and 4 only" "$(awk '{print $6}' <<<"$ds" | sort | tr '\n' ' ')" "2 4 "
h_eq "ds: algorithm 13" "$(awk '{print $5}' <<<"$ds" | sort -u)" "13"
h_has "enable again: already signed" "$(DNS dnssec enable $D)" "already signed"

# signed now: the TLSA 3 1 1 of the certificate's SPKI appears on sync
want=$(openssl x509 -in "$H/tls.crt" -pubkey -noout | openssl pkey -pubin -outform DER |
	sha256sum | cut -d' ' -f1)
DNS sync $D >/dev/null
h_eq "TLSA 3 1 1 published once signed" "$(pdns_dig _25._tcp.mail.$D TLSA | tr -d ' ' | tr A-F a-f)" \
	"311$want"
h_has "validation still holds" "$(validate $D)" "; fully validated"
before=$(pdns_api GET /servers/localhost/zones/$D./export)
out=$(MXDOCK_DEBUG_HTTP=1 DNS sync $D 2>&1)
h_eq "signed zone: sync sends no PATCH" "$(grep -c 'http PATCH' <<<"$out")" 0
h_eq "signed zone: export unchanged" "$(pdns_api GET /servers/localhost/zones/$D./export)" "$before"

# rollover: a second CSK, then --finish keeps only the new one
s1=$(serial $D)
out=$(DNS dnssec rollover $D)
h_has "rollover prints the new DS" "$out" "IN	DS	"
h_eq "rollover: two keys" "$(DNS dnssec status $D --json | jq length)" 2
[ "$(serial $D)" -gt "$s1" ] && h_ok "serial bumped by rollover" || h_fail "serial bumped" "$(serial $D)" "> $s1"
h_eq "rollover: mark cleared" "$(mark $D)" "[]"
s1=$(serial $D)
out=$(DNS dnssec rollover $D)
h_eq "rollover run again: exit 0" "$?" 0
h_has "rollover run again: under way, no key added" "$out" "a rollover is under way"
h_eq "rollover run again: still two keys" "$(DNS dnssec status $D --json | jq length)" 2
h_eq "rollover run again: serial unchanged" "$(serial $D)" "$s1"
DNS dnssec rollover $D --finish >/dev/null
h_eq "finish: one key" "$(DNS dnssec status $D --json | jq length)" 1
h_has "validates with the new key" "$(validate $D)" "; fully validated"
# --finish cut short after the keys went: run again, the last step happens
set_mark $D "rollover --finish"
s1=$(serial $D)
h_eq "finish run again: exit 0" "$(DNS dnssec rollover $D --finish >/dev/null; echo $?)" 0
bumped "finish run again: serial bumped" $D "$s1"
h_eq "finish run again: mark cleared" "$(mark $D)" "[]"

# ed25519 on a second zone
DNS create ed.test >/dev/null
DNS dnssec enable ed.test --algorithm=ed25519 >/dev/null
h_eq "ed25519: algorithm 15 in DS" "$(DNS dnssec ds ed.test | awk '{print $5}' | sort -u)" "15"
h_has "ed25519 zone validates" "$(validate ed.test)" "; fully validated"

# enable cut short: the key is in, rectify and serial + 1 are not
DNS create cut.test >/dev/null
s2=$(serial cut.test)
set_mark cut.test enable
pdns_api POST /servers/localhost/zones/cut.test./cryptokeys \
	'{"keytype":"csk","algorithm":"ecdsap256sha256","active":true}' >/dev/null
out=$(DNS dnssec enable cut.test)
h_eq "enable run again: exit 0" "$?" 0
h_has "enable run again: finishes, not already signed" "$out" "signed with one"
h_has "enable run again: prints the DS" "$out" "IN	DS	"
bumped "enable run again: serial bumped" cut.test "$s2"
h_eq "enable run again: mark cleared" "$(mark cut.test)" "[]"
h_eq "enable run again: still one key" "$(DNS dnssec status cut.test --json | jq length)" 1
h_has "enable run again: validates" "$(validate cut.test)" "; fully validated"
s2=$(serial cut.test)
h_has "enable once more: already signed" "$(DNS dnssec enable cut.test)" "already signed"
h_eq "enable once more: serial unchanged" "$(serial cut.test)" "$s2"

# disable cut short: the keys went, the TLSA and the serial + 1 did not
DNS sync cut.test >/dev/null
h_eq "cut.test: TLSA published while signed" "$(pdns_dig _25._tcp.mail.cut.test TLSA | wc -l)" 1
set_mark cut.test disable
id=$(pdns_api GET /servers/localhost/zones/cut.test./cryptokeys | jq '.[0].id')
pdns_api DELETE "/servers/localhost/zones/cut.test./cryptokeys/$id" >/dev/null
s2=$(serial cut.test)
out=$(DNS dnssec disable cut.test)
h_eq "disable run again: exit 0" "$?" 0
h_has "disable run again: finishes" "$out" "unsigned"
h_eq "disable run again: TLSA withdrawn" "$(pdns_dig _25._tcp.mail.cut.test TLSA)" ""
bumped "disable run again: serial bumped" cut.test "$s2"
h_eq "disable run again: mark cleared" "$(mark cut.test)" "[]"
h_has "disable once more: was not signed" "$(DNS dnssec disable cut.test)" "was not signed"

# disable
DNS dnssec disable $D >/dev/null
h_eq "disable: no keys" "$(DNS dnssec status $D --json | jq length)" 0
h_eq "disable: no DNSKEY served" "$(pdns_dig $D DNSKEY)" ""
h_eq "disable: TLSA withdrawn" "$(pdns_dig _25._tcp.mail.$D TLSA)" ""
out=$(MXDOCK_DEBUG_HTTP=1 DNS sync $D 2>&1)
h_eq "unsigned again: sync sends no PATCH (TLSA stays out)" "$(grep -c 'http PATCH' <<<"$out")" 0
h_eq "ds of an unsigned zone: EX_NOINPUT" "$(DNS dnssec ds $D >/dev/null 2>&1; echo $?)" 66
h_done
