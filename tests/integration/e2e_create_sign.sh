#!/bin/bash
# e2e_create_sign.sh - the foundation's thin path (issue 2): `mxdock-dns
# create` publishes a new domain with its DKIM keys in a real PowerDNS; a
# second run changes nothing; mail from an internal client through a real
# Postfix is signed by mxdock-milter with both keys; the delivered message,
# sent again as external mail, verifies dkim=pass for both signatures against
# the keys PowerDNS serves; one body byte changed gives dkim=fail.
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/pdns.sh"
source "$H_TOP/tests/lib/postfix.sh"
source "$H_TOP/tests/lib/e2e.sh"
h_init e2e

D=example.test
e2e_start "$D" || { h_done; exit 1; }
h_eq "create exits 0" "$E2E_CREATE_RC" 0
RSA=$(e2e_selector rsa)
ED=$(e2e_selector ed25519)
h_has "rsa key active after create" "$RSA" "r"
h_has "ed25519 key active after create" "$ED" "e"

# what PowerDNS serves
h_eq "MX" "$(pdns_dig "$D" MX)" "10 mail.$D."
h_has "SPF" "$(pdns_dig "$D" TXT)" '"v=spf1 mx -all"'
h_has "DMARC" "$(pdns_dig "_dmarc.$D" TXT)" '"v=DMARC1; p=quarantine; rua=mailto:postmaster@'"$D"'"'
h_eq "A of the mail host" "$(pdns_dig "mail.$D" A)" "127.0.0.1"
h_has "NS" "$(pdns_dig "$D" NS)" "ns1.$D."
h_has "DKIM ed25519 TXT" "$(pdns_dig "$ED._domainkey.$D" TXT)" '"v=DKIM1; k=ed25519; p='
rsa_txt=$(pdns_dig "$RSA._domainkey.$D" TXT)
h_has "DKIM rsa TXT" "$rsa_txt" '"v=DKIM1; k=rsa; p='
h_has "RSA TXT split in strings of at most 255" "$rsa_txt" '" "'
want_rsa=$("$BINDIR/mxdock-dkim" -c "$E2E_CONF" dns "$D" | grep "^$RSA\._domainkey" | sed 's/^[^"]*//')
h_eq "served RSA TXT is the rendered one" "$rsa_txt" "$want_rsa"

# a second create changes nothing, not even the serial
serial1=$(pdns_dig "$D" SOA | awk '{ print $3 }')
export1=$(pdns_api GET "/servers/localhost/zones/$D./export")
"$BINDIR/mxdock-dns" -c "$E2E_CONF" create "$D" >"$H/create2.out" 2>&1
h_eq "second create exits 0" "$?" 0
h_eq "SOA serial unchanged" "$(pdns_dig "$D" SOA | awk '{ print $3 }')" "$serial1"
h_eq "zone unchanged" "$(pdns_api GET "/servers/localhost/zones/$D./export")" "$export1"

# signed through Postfix, verified against PowerDNS
m1=$(e2e_send_internal 1)
printf '%s\n' "$m1" >"$H/signed.eml"
h_eq "two DKIM-Signature headers" "$(grep -c '^DKIM-Signature:' <<<"$m1")" 2
h_has "signed with the rsa selector" "$m1" "s=$RSA"
h_has "signed with the ed25519 selector" "$m1" "s=$ED"
m2=$(e2e_send_external "$H/signed.eml" 2)
h_has "rsa signature verifies" "$m2" "dkim=pass (2048-bit key) header.d=$D header.s=$RSA"
h_has "ed25519 signature verifies" "$m2" "dkim=pass (256-bit key) header.d=$D header.s=$ED"
sed 's/signed by mxdock-milter/signed by mxdock-Milter/' "$H/signed.eml" >"$H/tampered.eml"
m3=$(e2e_send_external "$H/tampered.eml" 3)
h_eq "one body byte changed: both fail" "$(grep -c 'dkim=fail' <<<"$m3")" 2
h_lacks "no pass after tampering" "$m3" "dkim=pass"
h_done
