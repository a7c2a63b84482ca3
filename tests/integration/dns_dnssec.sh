#!/bin/bash
# dns_dnssec.sh - mxdock-dns dnssec against a real PowerDNS: enable signs the
# zone so that delv, with the zone's own DNSKEY as trust anchor, answers
# "fully validated" for the MX; ds prints digest types 2 and 4 only; the
# serial moves on key changes; rollover and --finish; ed25519; disable;
# TLSA 3 1 1 published only while the zone is signed.
cd "$(dirname "$0")/../.." || exit 70
source tests/lib/harness.sh
source tests/lib/pdns.sh
h_init dns-dnssec
pdns_start sqlite || h_done
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
h_ok "serial before enable: $s0"
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
DNS dnssec rollover $D --finish >/dev/null
h_eq "finish: one key" "$(DNS dnssec status $D --json | jq length)" 1
h_has "validates with the new key" "$(validate $D)" "; fully validated"

# ed25519 on a second zone
DNS create ed.test >/dev/null
DNS dnssec enable ed.test --algorithm=ed25519 >/dev/null
h_eq "ed25519: algorithm 15 in DS" "$(DNS dnssec ds ed.test | awk '{print $5}' | sort -u)" "15"
h_has "ed25519 zone validates" "$(validate ed.test)" "; fully validated"

# disable
DNS dnssec disable $D >/dev/null
h_eq "disable: no keys" "$(DNS dnssec status $D --json | jq length)" 0
h_eq "disable: no DNSKEY served" "$(pdns_dig $D DNSKEY)" ""
h_eq "disable: TLSA withdrawn" "$(pdns_dig _25._tcp.mail.$D TLSA)" ""
out=$(MXDOCK_DEBUG_HTTP=1 DNS sync $D 2>&1)
h_eq "unsigned again: sync sends no PATCH (TLSA stays out)" "$(grep -c 'http PATCH' <<<"$out")" 0
h_eq "ds of an unsigned zone: EX_NOINPUT" "$(DNS dnssec ds $D >/dev/null 2>&1; echo $?)" 66
h_done
