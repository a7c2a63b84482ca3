#!/bin/bash
# demo.sh - `make demo`: the thin path shown to a person.  Starts a scratch
# PowerDNS and Postfix on loopback, creates a mail domain with mxdock-dns,
# sends a message through mxdock-milter (signed), sends the delivered message
# back in as external mail (verified), prints what happened at each step, and
# stops every service it started.
source "$(dirname "$0")/lib/harness.sh"
source "$H_TOP/tests/lib/pdns.sh"
source "$H_TOP/tests/lib/postfix.sh"
source "$H_TOP/tests/lib/e2e.sh"
h_init demo
D=demo.example

step() { printf '\n==== %s\n' "$*"; }
# show_ar - the Authentication-Results header of a message, with its folds
show_ar() { awk '/^Authentication-Results:/ { p = 1; print; next }
	p && /^[ \t]/ { print; next } { p = 0 }'; }

step "1. scratch PowerDNS, Postfix and mxdock-milter on 127.0.0.1; mxdock-dns create $D"
e2e_start "$D" || { echo "demo: a service did not start; logs in $H" >&2; exit 1; }
echo "$E2E_CREATE_OUT"
echo "(PowerDNS API $PDNS_API_URL, DNS 127.0.0.1:$PDNS_DNS_PORT," \
	"Postfix 127.0.0.1:$POSTFIX_PORT, milter 127.0.0.1:$E2E_MPORT)"

step "2. the zone PowerDNS now serves (GET /zones/$D./export)"
pdns_api GET "/servers/localhost/zones/$D./export"

step "3. the DKIM keys (mxdock-dkim list $D)"
"$BINDIR/mxdock-dkim" -c "$E2E_CONF" list "$D"

step "4. mail from an internal client (127.0.0.1) through Postfix: the headers as delivered"
e2e_send_internal 1 >"$H/signed.eml"
sed '/^$/q' "$H/signed.eml"

step "5. the same message sent in again from outside (127.0.0.2): the verdict"
e2e_send_external "$H/signed.eml" 2 >"$H/verified.eml"
show_ar <"$H/verified.eml"
echo
echo "milter log:"
tail -2 "$MILTER_LOG"

step "6. one body byte changed: the verdict"
sed 's/signed by mxdock-milter/signed by mxdock-Milter/' "$H/signed.eml" >"$H/tampered.eml"
e2e_send_external "$H/tampered.eml" 3 | show_ar

if grep -q 'dkim=pass' "$H/verified.eml"; then
	printf '\ndemo: the signed message verifies with dkim=pass; services stopped.\n'
	H_FAIL=0
	exit 0
fi
echo "demo: no dkim=pass in the verified message; logs kept in $H" >&2
H_FAIL=1
exit 1
