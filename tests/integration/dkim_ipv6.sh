#!/bin/bash
# dkim_ipv6 - issue 12 item 19: IPv6 name servers and resolvers, against a
# real PowerDNS answering on [::1]:53 (a second pdns_server on the same
# database as the scratch one), in a network namespace of its own (unshare
# --net) so that port 53 and ::1 are ours alone.
#  - dns_nameservers naming an IPv6-only name server (::1): tick sees a
#    pending key there and activates it (it only looked at IPv4 before);
#  - dns_check_server = [::1]:53 (dnsq speaks IPv6);
#  - mxdock-milter with dns_resolver = [::1]:53 signs, then verifies what it
#    signed: dkim=pass and dmarc=pass through the DKIM and DMARC resolvers.
if [ -z "$MXDOCK_NETNS" ]; then
	if unshare --net true 2>/dev/null; then
		exec unshare --net env MXDOCK_NETNS=1 bash -c 'ip link set lo up && exec bash "$0"' "$0"
	fi
	echo "not ok - unshare --net is not available here: cannot run"
	echo "0 passed, 1 failed"
	exit 1
fi
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/pdns.sh"
source "$H_TOP/tests/lib/postfix.sh"
h_init dkim-ipv6

DOM=six.test
D=$BINDIR/mxdock-dkim
T0=1795219200                          # 2026-11-21 00:00 UTC
pdns_start sqlite || { h_done; exit 1; }
C=$H/mxdock.conf
pdns_conf "$C"
echo "dkim_algorithms = ed25519" >>"$C"

# the same zone data on [::1]:53
mkdir -p "$H/pdns6"
sed -e "s|^config-dir=.*|config-dir=$H/pdns6|" -e "s|^socket-dir=.*|socket-dir=$H/pdns6|" \
	-e 's|^local-address=.*|local-address=::1|' -e 's|^local-port=.*|local-port=53|' \
	-e 's|^api=.*|api=no|' -e 's|^webserver=.*|webserver=no|' "$H/pdns/pdns.conf" >"$H/pdns6/pdns.conf"
pdns_server --config-dir="$H/pdns6" >"$H/pdns6/pdns.log" 2>&1 &
h_track $!
h_wait "pdns_server answers on [::1]:53" 20 bash -c "dig +short @::1 -p 53 version.bind CH TXT | grep -q ."

out=$(MXDOCK_NOW=$T0 "$BINDIR/mxdock-dns" -c "$C" create "$DOM" 2>&1)
h_eq "mxdock-dns create exits 0" "$?" 0

# conf6 NS CHECK - the store's config without PowerDNS (no sync), asking
# name servers NS or the check server CHECK
conf6() {
	grep -vE '^(pdns_api_url|dns_check_server|dns_nameservers) ' "$C"
	echo "pdns_api_url ="
	echo "dns_nameservers = $1"
	echo "dns_check_server = $2"
}
states() { "$D" -c "$C" list "$DOM" --json | jq -r '.[] | "\(.selector)=\(.state)"' | sort | tr '\n' ' '; }

# --- an IPv6-only name server ----------------------------------------------------
conf6 "::1" "" >"$H/ns6.conf"
T1=$((T0 + 86400))
MXDOCK_NOW=$T1 "$D" -c "$C" keygen "$DOM" >/dev/null
MXDOCK_NOW=$T1 "$BINDIR/mxdock-dns" -c "$C" sync "$DOM" >/dev/null 2>&1
h_has "the pending key is served on [::1]:53" "$(dig +short @::1 -p 53 mx20261122e._domainkey.$DOM TXT)" "k=ed25519"
out=$(MXDOCK_NOW=$((T1 + 60)) "$D" -c "$H/ns6.conf" tick 2>&1)
h_has "IPv6-only name server: the key is seen and goes active" "$out" \
	"mx20261122e (ed25519) seen in DNS -> active"
h_has "state: active" "$(states)" "mx20261122e=active"

# --- dns_check_server = [::1]:53 ------------------------------------------------
conf6 "" "[::1]:53" >"$H/check6.conf"
T2=$((T1 + 86400))
MXDOCK_NOW=$T2 "$D" -c "$C" keygen "$DOM" >/dev/null
MXDOCK_NOW=$T2 "$BINDIR/mxdock-dns" -c "$C" sync "$DOM" >/dev/null 2>&1
out=$(MXDOCK_NOW=$((T2 + 60)) "$D" -c "$H/check6.conf" tick 2>&1)
h_has "dns_check_server [::1]:53: the key goes active" "$out" \
	"mx20261123e (ed25519) seen in DNS -> active"

# --- the milter's DKIM and DMARC resolvers on [::1]:53 --------------------------
MPORT=$(h_port)
{
	grep -vE '^dns_resolver ' "$C"
	echo "dns_resolver = [::1]:53"
	echo "milter_socket = inet:$MPORT@127.0.0.1"
	echo "milter_authserv_id = mx.six.test"
	echo "spf_skip_addresses = 0.0.0.0/0"
} >"$H/milter.conf"
milter_start "$H/milter.conf" || { h_done; exit 1; }
msg() {
	python3 "$H_TOP/tests/integration/milter_msg.py" "127.0.0.1:$MILTER_PORT" --mailfrom "a@$DOM" \
		--header "From: A <a@$DOM>" --header "Subject: six" \
		--header "Date: Sun, 06 Dec 2026 08:00:00 +0000" "$@" 2>&1
}
out=$(msg --ip 127.0.0.1 --dump "$H/signed.json")
h_has "signed (internal)" "$out" "d=$DOM"
out=$(msg --ip 192.0.2.7 --headers-from "$H/signed.json")
h_has "verified through [::1]:53: dkim=pass" "$out" "dkim=pass"
h_has "DMARC policy found through [::1]:53: dmarc=pass" "$out" "dmarc=pass"
h_done
