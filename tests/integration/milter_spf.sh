#!/bin/bash
# milter_spf.sh - SPF through a real Postfix, records in a scratch PowerDNS,
# mail from 127.0.0.2 (external).  For each case the SMTP reply and the
# headers follow the defaults of issue 5: fail -> 550 5.7.23; softfail,
# neutral, none, permerror -> tagged; temperror (resolver that does not
# answer) -> 451 4.7.24.  SIGUSR1 turns spf_fail_action into tempfail
# (451 4.7.23) without a restart.  mailauth (npm) is the independent
# checker of each SPF result.  Dry run: headers, no rejection.
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/pdns.sh"
source "$H_TOP/tests/lib/postfix.sh"
h_init milter_spf

Z=spf.test
AUTHSERV=mx.milter.test
milter_scratch_conf "$AUTHSERV" || { h_done; exit 1; }
cat >>"$C" <<EOF
milter_internal_hosts = 127.0.0.1/32
spf_skip_addresses = 127.0.0.1/32
spf_fail_action = reject
milter_dry_run = no
dns_timeout = 1s
EOF

txt() { # NAME CONTENT -> one rrset
	printf ',{"name":"%s.%s.","type":"TXT","ttl":60,"changetype":"REPLACE","records":[{"content":"\\"%s\\"","disabled":false}]}' "$1" "$Z" "$2"
}
a() {
	printf ',{"name":"%s.%s.","type":"A","ttl":60,"changetype":"REPLACE","records":[{"content":"%s","disabled":false}]}' "$1" "$Z" "$2"
}
many="v=spf1"
rr=""
for i in 1 2 3 4 5 6 7 8 9 10 11; do
	many="$many a:h$i.$Z"
	rr="$rr$(a "h$i" "192.0.2.$i")"
done
rr="$rr$(txt pass 'v=spf1 ip4:127.0.0.2 -all')$(txt fail 'v=spf1 ip4:192.0.2.1 -all')"
rr="$rr$(txt soft 'v=spf1 ~all')$(txt neutral 'v=spf1 ?all')$(txt perm 'v=spf1 bogus:x -all')"
rr="$rr$(txt many "$many -all")"
pdns_api POST /servers/localhost/zones "{\"name\":\"$Z.\",\"kind\":\"Native\",\"nameservers\":[\"ns1.$Z.\"]}" >/dev/null
pdns_api PATCH "/servers/localhost/zones/$Z." "{\"rrsets\":[${rr#,}]}" >/dev/null
h_has "SPF records published" "$(pdns_dig "fail.$Z" TXT)" "v=spf1 ip4:192.0.2.1 -all"

milter_start "$C"
postfix_start "inet:127.0.0.1:$MILTER_PORT" || { h_done; exit 1; }

send() { # LOCALPART@DOMAIN SUBJECT
	postfix_send --local-interface 127.0.0.2 --ehlo client.example --from "$1" \
		--to bob@example.org --h-From "<$1>" --h-Subject "$2" --body "spf test"
}

# case table: name, sender domain, SMTP reply wanted (_ for space), spf=
# result wanted in the headers (- = not delivered)
n=0
while read -r name dom reply result; do
	out=$(send "user@$dom" "case $name")
	h_has "$name: reply" "$out" "${reply//_/ }"
	printf 'From: <user@%s>\nSubject: x\n\nx\n' "$dom" >"$H/ma.eml"
	want=$result
	[ "$want" = - ] && want=fail
	h_has "$name: mailauth agrees" "$(milter_mailauth "$H/ma.eml" 127.0.0.2 client.example "user@$dom")" "spf $want"
	if [ "$result" != "-" ]; then
		n=$((n + 1))
		postfix_wait_delivered "$n"
		m=$(postfix_message_with "case $name")
		h_has "$name: Authentication-Results" "$m" "spf=$result smtp.mailfrom=$dom"
		h_has "$name: Received-SPF" "$m" "Received-SPF: $result"
	fi
done <<EOF
pass pass.$Z 250_2.0.0 pass
fail fail.$Z 550_5.7.23 -
softfail soft.$Z 250_2.0.0 softfail
neutral neutral.$Z 250_2.0.0 neutral
none none.$Z 250_2.0.0 none
permerror perm.$Z 250_2.0.0 permerror
toomany many.$Z 250_2.0.0 permerror
EOF

# the fail reply carries the explanation
out=$(send "user@fail.$Z" "case fail text")
h_has "fail: explanation" "$out" "127.0.0.2 is not allowed to send mail from fail.$Z"

# SIGUSR1: spf_fail_action = tempfail
sed -i 's/^spf_fail_action = .*/spf_fail_action = tempfail/' "$C"
kill -USR1 "$MILTER_PID"
h_wait "reload 2" 10 grep -q "configuration 2 loaded" "$MILTER_LOG"
h_has "fail after reload: tempfail" "$(send "user@fail.$Z" "case fail 2")" "451 4.7.23"

# a resolver that does not answer: temperror -> 451 4.7.24
DEAD=$(h_port)
sed -i "s/^dns_resolver = .*/dns_resolver = 127.0.0.1:$DEAD/" "$C"
kill -USR1 "$MILTER_PID"
h_wait "reload 3" 10 grep -q "configuration 3 loaded" "$MILTER_LOG"
h_has "temperror: tempfail" "$(send "user@pass.$Z" "case temperror")" "451 4.7.24"

# dry run: the fail is let through, with its headers
sed -i "s/^dns_resolver = .*/dns_resolver = 127.0.0.1:$PDNS_DNS_PORT/; s/^milter_dry_run = .*/milter_dry_run = yes/; s/^spf_fail_action = .*/spf_fail_action = reject/" "$C"
kill -USR1 "$MILTER_PID"
h_wait "reload 4" 10 grep -q "configuration 4 loaded" "$MILTER_LOG"
h_has "dry run: fail accepted" "$(send "user@fail.$Z" "case dryrun")" "250 2.0.0"
postfix_wait_delivered $((n + 1))
h_has "dry run: tagged spf=fail" "$(postfix_message_with "case dryrun")" "spf=fail smtp.mailfrom=fail.$Z"
h_has "dry run: logged" "$(cat "$MILTER_LOG")" "dry run: would reject at mail: 550 5.7.23"
h_done
