#!/bin/bash
# dns_owner.sh - record-level ownership and the three-way sync (issue 13)
# against a real PowerDNS (gsqlite3; dns_owner_mysql.sh runs the same with
# gmysql on MariaDB).
#
# For each case an administrator's records are added by hand through the
# API (as a panel would), then mxdock-dns runs; the administrator's lines
# of the zone export must still be there byte for byte, and mxdock's own
# records must be right:
#   backup MX; extra NS, apex A, AAAA, CAA, SRV; edited SPF and an edited
#   MX (drift: kept, reported, --force replaces, diff shows it first); a
#   disabled record; a second TLSA (DANE rollover, dnssec disable);
#   delete --records-only;
#   a retired selector whose name a template also fills (one REPLACE, no
#   422); a zone made before ownership memos existed (migration).
cd "$(dirname "$0")/../.." || exit 70
source tests/lib/harness.sh
source tests/lib/pdns.sh
source tests/lib/mariadb.sh
BACKEND=${DNS_BACKEND:-sqlite}
h_init "dns-owner-$BACKEND"
if [ "$BACKEND" = mysql ]; then mariadb_start || { h_done; exit 1; }; fi
pdns_start "$BACKEND" || { h_done; exit 1; }
C=$H/mxdock.conf
pdns_conf "$C"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$H/tls.key" \
	-out "$H/tls.crt" -subj /CN=mail -days 30 >/dev/null 2>&1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$H/tls2.key" \
	-out "$H/tls2.crt" -subj /CN=mail -days 30 >/dev/null 2>&1
cat >>"$C" <<CONF
dns_server_ipv6 = 2001:db8::25
dns_apex_address = yes
dns_caa = 0 issue "letsencrypt.org"
dns_publish = soa, ns, a, mx, spf, dkim, dmarc, tlsrpt, mta-sts, srv, autoconfig, caa, tlsa
dns_tlsa_cert = $H/tls.crt
CONF
DNS() { "$BINDIR/mxdock-dns" -c "$C" "$@"; }
export_of() { pdns_api GET "/servers/localhost/zones/$1./export" | grep -v SOA | sort; }
# rrset ZONE NAME TYPE TTL 'content[,disabled]'...: REPLACE an rrset by hand
# (records only: as a panel does, the comments stay)
rrset() {
	local z=$1 name=$2 type=$3 ttl=$4 recs="" r dis
	shift 4
	for r in "$@"; do
		dis=false
		case $r in *,disabled) r=${r%,disabled} dis=true ;; esac
		recs="$recs${recs:+,}{\"content\":$(jq -Rn --arg c "$r" '$c'),\"disabled\":$dis}"
	done
	pdns_api PATCH "/servers/localhost/zones/$z." "{\"rrsets\":[{\"name\":\"$name\",\"type\":\"$type\",
		\"ttl\":$ttl,\"changetype\":\"REPLACE\",\"records\":[$recs]}]}"
}
# kept WHAT ZONE LINES: every line of LINES (export lines taken before the
# sync) is in the zone's export now, byte for byte
kept() {
	local now missing
	now=$(export_of "$2")
	[ -n "$3" ] || { h_fail "$1: no lines to look for" "" "lines"; return; }
	missing=$(grep -vxFf <(printf '%s\n' "$now") <<<"$3")
	h_eq "$1" "$missing" ""
}
patches() { grep -c 'http PATCH' <<<"$1"; }
H2=$(openssl x509 -in "$H/tls2.crt" -pubkey -noout | openssl pkey -pubin -outform DER |
	sha256sum | cut -c1-64)
H1=$(openssl x509 -in "$H/tls.crt" -pubkey -noout | openssl pkey -pubin -outform DER |
	sha256sum | cut -c1-64)

# --- 1. backup MX ----------------------------------------------------------
Z=mx.test
DNS create $Z >/dev/null
rrset $Z $Z. MX 3600 "10 mail.$Z." "20 backup.other.test."
admin=$(export_of $Z | grep backup.other.test)
out=$(MXDOCK_DEBUG_HTTP=1 DNS sync $Z 2>&1)
h_eq "backup MX: sync exit 0" "$?" 0
kept "backup MX: kept byte for byte" $Z "$admin"
h_eq "backup MX: ours and the backup served" "$(pdns_dig $Z MX | sort)" \
	"$(printf '10 mail.%s.\n20 backup.other.test.' $Z)"
h_eq "backup MX: nothing to change, no PATCH" "$(patches "$out")" 0

# --- 2. extra NS, apex A, AAAA, CAA, SRV; ours changed beside them ---------
Z=extra.test
DNS create $Z >/dev/null
rrset $Z $Z. NS 3600 "ns1.$Z." "ns2.$Z." "ns3.other.test."
rrset $Z $Z. A 3600 "127.0.0.1" "192.0.2.99"
rrset $Z mail.$Z. AAAA 3600 "2001:db8::25" "2001:db8::99"
rrset $Z $Z. CAA 3600 '0 issue "letsencrypt.org"' '0 iodef "mailto:sec@extra.test"'
rrset $Z _submissions._tcp.$Z. SRV 3600 "0 1 465 mail.$Z." "10 1 465 backup.other.test."
admin=$(export_of $Z | grep -E 'ns3.other|192.0.2.99|::99|iodef|backup.other')
h_eq "extra: five hand-made lines" "$(wc -l <<<"$admin")" 5
# mxdock's own records change: another mail address and CAA issuer
C2=$H/mxdock2.conf
sed -e 's/^dns_server_ipv4 = .*/dns_server_ipv4 = 127.0.0.2/' \
	-e 's/^dns_caa = .*/dns_caa = 0 issue "pki.goog"/' "$C" >"$C2"
out=$(MXDOCK_DEBUG_HTTP=1 "$BINDIR/mxdock-dns" -c "$C2" sync $Z 2>&1)
h_eq "extra: sync exit 0" "$?" 0
h_eq "extra: one PATCH" "$(patches "$out")" 1
kept "extra: NS, A, AAAA, CAA, SRV by hand kept byte for byte" $Z "$admin"
h_eq "extra: apex A is ours (new) + the admin's" "$(pdns_dig $Z A | sort)" "$(printf '127.0.0.2\n192.0.2.99')"
h_eq "extra: CAA ours replaced, iodef kept" "$(pdns_dig $Z CAA | sort)" \
	"$(printf '0 iodef "mailto:sec@extra.test"\n0 issue "pki.goog"')"
h_eq "extra: mail A ours replaced" "$(pdns_dig mail.$Z A)" "127.0.0.2"
out=$(MXDOCK_DEBUG_HTTP=1 "$BINDIR/mxdock-dns" -c "$C2" sync $Z 2>&1)
h_eq "extra: second sync sends no PATCH" "$(patches "$out")" 0

# --- 3. edited SPF and edited MX: drift -----------------------------------
Z=drift.test
DNS create $Z >/dev/null
rrset $Z $Z. TXT 3600 '"v=spf1 mx include:_spf.google.com -all"' '"hello=world"'
rrset $Z $Z. MX 3600 "10 mx.elsewhere.test."
admin=$(export_of $Z | grep -E 'google|hello|elsewhere')
before=$(pdns_api GET /servers/localhost/zones/$Z./export)
out=$(MXDOCK_DEBUG_HTTP=1 DNS diff $Z 2>&1)
h_eq "diff with drift: exit 1" "$?" 1
h_eq "diff sends no PATCH" "$(patches "$out")" 0
h_has "diff: SPF drift, with mxdock's record" "$out" \
	"drift	keep	$Z.	3600	TXT	\"v=spf1 mx include:_spf.google.com -all\"	mxdock: \"v=spf1 mx -all\""
h_has "diff: MX drift" "$out" "drift	keep	$Z.	3600	MX	10 mx.elsewhere.test.	mxdock: 10 mail.$Z."
h_has "diff: foreign TXT listed" "$out" "foreign	keep	$Z.	3600	TXT	\"hello=world\""
h_eq "diff changed nothing (export, serial too)" "$(pdns_api GET /servers/localhost/zones/$Z./export)" "$before"
json=$(DNS diff $Z --json)
h_eq "diff --json: the drift records" \
	"$(jq -r '[.records[] | select(.reason == "drift") | .type] | sort | join(",")' <<<"$json")" "MX,TXT"
out=$(MXDOCK_DEBUG_HTTP=1 DNS sync $Z 2>&1)
h_eq "sync with drift: exit 0 (documented)" "$?" 0
h_has "sync lists the SPF drift" "$out" "drift	keep	$Z.	3600	TXT"
h_has "sync says how to replace" "$out" "2 record(s) edited by hand kept (drift)"
kept "drift: the edits kept byte for byte" $Z "$admin"
h_eq "drift: no second SPF added" "$(pdns_dig $Z TXT | grep -c spf1)" 1
json=$(DNS sync $Z --json)
h_eq "sync --json: drift in it" \
	"$(jq -r '[.records[] | select(.reason == "drift" and .action == "keep")] | length' <<<"$json")" 2
h_eq "sync --json is one JSON object" "$(jq -r .domain <<<"$json")" "$Z"
DNS sync $Z --force >/dev/null
h_eq "--force: our SPF back, edit gone, hello kept" "$(pdns_dig $Z TXT | sort)" \
	"$(printf '"hello=world"\n"v=spf1 mx -all"')"
h_eq "--force: our MX back" "$(pdns_dig $Z MX)" "10 mail.$Z."
out=$(MXDOCK_DEBUG_HTTP=1 DNS sync $Z 2>&1)
h_eq "after --force: up to date, no PATCH" "$(patches "$out")" 0
# the published SPF no longer covers the mail host: check says so
rrset $Z $Z. TXT 3600 '"v=spf1 ip4:192.0.2.1 -all"' '"hello=world"'
DNS sync $Z >/dev/null
out=$(DNS check $Z)
h_eq "check with a hand SPF not covering the mail host: exit 1" "$?" 1
h_has "check names it" "$out" "spf-uncovered	$Z.	TXT"

# --- 4. disabled records ------------------------------------------------------
Z=off.test
DNS create $Z >/dev/null
rrset $Z $Z. MX 3600 "10 mail.$Z.,disabled"
rrset $Z $Z. NS 3600 "ns1.$Z." "ns2.$Z." "ns9.other.test.,disabled"
dis() { pdns_api GET /servers/localhost/zones/$Z. |
	jq -c "[.rrsets[] | select(.type == \"$1\") | .records[] | [.content, .disabled]] | sort"; }
DNS sync $Z >/dev/null
h_eq "disabled MX (ours) kept disabled, not re-added" "$(dis MX)" "[[\"10 mail.$Z.\",true]]"
h_eq "disabled NS (foreign) kept" "$(dis NS)" \
	"[[\"ns1.$Z.\",false],[\"ns2.$Z.\",false],[\"ns9.other.test.\",true]]"
h_eq "records shows the disabled MX as disabled" "$(DNS records $Z --type=MX)" \
	"$Z.	3600	IN	MX	10 mail.$Z.	; disabled"
h_eq "records --json too" "$(DNS records $Z --type=MX --json | jq -c '.[0].disabled')" true
h_has "diff shows the disabled MX as drift" "$(DNS diff $Z)" "drift	keep	$Z.	3600	MX	10 mail.$Z.	(disabled)"

# --- 5. second TLSA (DANE rollover) ---------------------------------------------
Z=dane.test
DNS create $Z >/dev/null
DNS dnssec enable $Z >/dev/null
DNS sync $Z >/dev/null
h_eq "TLSA: ours published" "$(pdns_dig _25._tcp.mail.$Z TLSA | tr -d ' ' | tr A-F a-f)" "311$H1"
rrset $Z _25._tcp.mail.$Z. TLSA 3600 "3 1 1 $H1" "3 1 1 $H2" "2 0 1 $(printf 'ab%.0s' $(seq 1 32))"
admin=$(export_of $Z | grep TLSA | grep -v "$H1")
DNS sync $Z >/dev/null
kept "TLSA: the next key and a usage-2 record kept" $Z "$admin"
# the certificate rolls over to the next key: ours (old) goes, next stays
sed -i "s|^dns_tlsa_cert = .*|dns_tlsa_cert = $H/tls2.crt|" "$C"
DNS sync $Z >/dev/null
h_eq "TLSA rollover: old key gone, next and usage 2 kept" \
	"$(pdns_dig _25._tcp.mail.$Z TLSA | tr -d ' ' | tr A-F a-f | cut -c1-7 | sort)" \
	"$(printf '201abab\n311%s' "${H2:0:4}")"
# dnssec disable withdraws mxdock's TLSA only
DNS dnssec disable $Z >/dev/null
h_eq "dnssec disable: ours withdrawn, the usage-2 record stays" \
	"$(pdns_dig _25._tcp.mail.$Z TLSA | tr -d ' ' | tr A-F a-f | cut -c1-7)" "201abab"
sed -i "s|^dns_tlsa_cert = .*|dns_tlsa_cert = $H/tls.crt|" "$C"

# --- 6. delete --records-only -----------------------------------------------------
Z=ro.test
DNS create $Z >/dev/null
rrset $Z $Z. MX 3600 "10 mail.$Z." "20 backup.other.test."
rrset $Z $Z. TXT 3600 '"v=spf1 mx -all"' '"google-site-verification=x"'
rrset $Z $Z. CAA 3600 '0 issue "letsencrypt.org"' '0 iodef "mailto:sec@ro.test"'
rrset $Z _dmarc.$Z. TXT 3600 '"v=DMARC1; p=reject"'
admin=$(export_of $Z | grep -E 'backup.other|google|iodef|p=reject')
out=$(MXDOCK_DEBUG_HTTP=1 DNS delete $Z --records-only 2>&1)
h_eq "records-only: exit 0" "$?" 0
h_eq "records-only: one PATCH" "$(patches "$out")" 1
kept "records-only: hand-made and edited records kept byte for byte" $Z "$admin"
h_eq "records-only: our MX gone, backup stays" "$(pdns_dig $Z MX)" "20 backup.other.test."
h_eq "records-only: our SPF gone" "$(pdns_dig $Z TXT)" '"google-site-verification=x"'
h_eq "records-only: our DKIM gone" "$(export_of $Z | grep -c _domainkey)" 0
h_eq "records-only: NS stays" "$(pdns_dig $Z NS | wc -l)" 2

# --- 7. retired selector whose name a template fills ------------------------------
Z=ret.test
"$BINDIR/mxdock-dkim" -c "$C" keygen $Z >/dev/null
sel=$(ls "$H/dkim/$Z" | sed -n 's/e\.pem$/e/p' | head -1)
mkdir -p "$H/templates"
printf '%s._domainkey TXT "v=DKIM1; k=ed25519; p="\n' "$sel" >"$H/templates/rev"
DNS create $Z --template=rev >/dev/null
"$BINDIR/mxdock-dkim" -c "$C" keygen $Z >/dev/null
new=$(ls "$H/dkim/$Z" | sed -n 's/e\.pem$/e/p' | grep -v "^$sel$" | head -1)
DNS sync $Z >/dev/null
"$BINDIR/mxdock-dkim" -c "$C" activate $Z "$new" >/dev/null 2>&1
"$BINDIR/mxdock-dkim" -c "$C" retire $Z "$sel" >/dev/null 2>&1
"$BINDIR/mxdock-dkim" -c "$C" retire $Z "$sel" >/dev/null 2>&1
h_has "selector retired" "$("$BINDIR/mxdock-dkim" -c "$C" list $Z)" "retired"
h_eq "the template's record stays through the retire's sync" \
	"$(pdns_dig $sel._domainkey.$Z TXT)" '"v=DKIM1; k=ed25519; p="'
# the template's record changes at the retired selector's name: one REPLACE
# (a REPLACE and a DELETE of the same rrset in one PATCH is a 422)
printf '%s._domainkey TXT "v=DKIM1; k=ed25519; p=" 600\n' "$sel" >"$H/templates/rev"
out=$(MXDOCK_DEBUG_HTTP=1 DNS sync $Z 2>&1)
h_eq "retired selector + changed template record: sync exit 0 (no 422)" "$?" 0
h_lacks "no 422" "$out" "HTTP 422"
h_eq "one PATCH" "$(patches "$out")" 1
h_eq "the template's record, new TTL" "$(export_of $Z | grep "^$sel._domainkey" | cut -f2)" 600
out=$(MXDOCK_DEBUG_HTTP=1 DNS sync $Z 2>&1)
h_eq "then no PATCH" "$(patches "$out")" 0

# --- 8. a zone made before memos (old code): migration ------------------------------
Z=old.test
DNS create $Z >/dev/null
# what an older mxdock left: the same records, no comments at all
pdns_api GET /servers/localhost/zones/$Z. | jq -c '{rrsets: [.rrsets[] |
	{name, type, changetype: "REPLACE", comments: []}]}' >"$H/nocomments.json"
pdns_api PATCH /servers/localhost/zones/$Z. "$(cat "$H/nocomments.json")"
h_eq "old zone: no comments left" \
	"$(pdns_api GET /servers/localhost/zones/$Z. | jq '[.rrsets[].comments[]] | length')" 0
rrset $Z $Z. MX 3600 "10 mail.$Z." "20 backup.other.test."
rrset $Z $Z. TXT 3600 '"v=spf1 mx a:web.old.test -all"' '"hello=world"'
rrset $Z _submission._tcp.$Z. SRV 3600 "0 1 587 mail.$Z." "5 0 587 relay.other.test."
admin=$(export_of $Z | grep -E 'backup.other|web.old|hello|relay.other')
out=$(MXDOCK_DEBUG_HTTP=1 DNS sync $Z 2>&1)
h_eq "old zone: first sync exit 0" "$?" 0
kept "old zone: nothing foreign lost" $Z "$admin"
h_eq "old zone: the edited SPF is the only SPF" "$(pdns_dig $Z TXT | grep -c spf1)" 1
h_has "old zone: the edited SPF reported" "$out" "drift	keep	$Z.	3600	TXT	\"v=spf1 mx a:web.old.test -all\""
out=$(MXDOCK_DEBUG_HTTP=1 DNS sync $Z 2>&1)
h_eq "old zone: second sync sends no PATCH" "$(patches "$out")" 0
h_eq "old zone: second sync is one request" "$(grep -c 'mxdock-dns: http ' <<<"$out")" 1
h_done
