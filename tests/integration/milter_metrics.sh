#!/bin/bash
# milter_metrics.sh - Prometheus metrics of mxdock-milter (issue 17): mail
# flows through a real Postfix while /metrics is scraped; every counter the
# mail touches moves by exactly the number of messages sent, and the text
# passes `promtool check metrics` (Prometheus' own linter, Debian package
# prometheus).  The expected DKIM, SPF and DMARC results are read from the
# Authentication-Results headers Postfix delivered, not from the milter's
# own log.
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/pdns.sh"
source "$H_TOP/tests/lib/postfix.sh"
source "$H_TOP/tests/lib/e2e.sh"
source "$H_TOP/tests/lib/mariadb.sh"
h_init milter_metrics

command -v promtool >/dev/null || { h_fail "promtool installed" "none" "prometheus package"; h_done; exit 1; }
D=metrics.test
N=3
E2E_DOMAIN=$D
milter_scratch_conf "$E2E_AUTHSERV" || { h_done; exit 1; }
mariadb_start || { h_done; exit 1; }
mariadb_conf "$C"
E2E_CONF=$C
MPORT=$(h_port)
cat >>"$C" <<CONF
milter_internal_hosts = 127.0.0.1/32
milter_metrics_listen = 127.0.0.1:$MPORT
dmarc_quarantine_action = tag
# 127.0.0.2 is not the domain's MX: SPF fails, tagged, and the message goes on
spf_skip_addresses = 127.0.0.1/32
spf_fail_action = tag
# quota and bans on a real MariaDB; only 127.0.0.1 exempt from bans
quota_enable = yes
authfail_enable = yes
authfail_exempt = 127.0.0.1/32
CONF
"$BINDIR/mxdock-policy" -c "$C" init-db >/dev/null || h_fail "init-db" "exit $?" 0
mariadb_db mxdock <"$H_TOP/docs/policy-schema.sql"
mariadb_db mxdock "INSERT INTO accounts (name, type, quota) VALUES ('full', 'individual', 1000);
	INSERT INTO emails (name, address, type) VALUES ('full', 'full@example.org', 'primary');
	INSERT INTO mailbox_usage VALUES ('full', 1000, NOW());" >/dev/null
"$BINDIR/mxdock-policy" -c "$C" authfail ban 127.0.0.3 --for=1h >/dev/null || h_fail "ban" "exit $?" 0

# the address is checked with the rest of the configuration
sed "s/^milter_metrics_listen = .*/milter_metrics_listen = unix:\/tmp\/m.sock/" "$C" >"$H/bad.conf"
"$BINDIR/mxdock-milter" -t -c "$H/bad.conf" >"$H/bad.out" 2>&1
h_eq "unix: metrics address refused by -t" "$?" 78
h_has "the refusal names the key" "$(cat "$H/bad.out")" "milter_metrics_listen"
sed "s/^milter_metrics_listen = .*/milter_metrics_listen = localhost/" "$C" >"$H/bad2.conf"
"$BINDIR/mxdock-milter" -t -c "$H/bad2.conf" >/dev/null 2>&1
h_eq "address without a port refused by -t" "$?" 78

"$BINDIR/mxdock-dns" -c "$C" create "$D" >"$H/create.out" 2>&1 || h_fail "create" "$(cat "$H/create.out")" "exit 0"
milter_start "$C" || { h_done; exit 1; }
postfix_start "inet:127.0.0.1:$MILTER_PORT" || { h_done; exit 1; }

scrape() { curl -s --max-time 5 "http://127.0.0.1:$MPORT/metrics"; }
h_wait "metrics answer" 10 scrape
# postfix_start's readiness probe is an SMTP session too: wait until the
# milter has seen it, so it falls before the first scrape
h_wait "the probe session counted" 10 bash -c "curl -s http://127.0.0.1:$MPORT/metrics |
	grep -q '^mxdock_milter_policy_checks_total{op=\"connect\",outcome=\"ok\"} [1-9]'"
scrape >"$H/m0.txt"
# value FILE SAMPLE - the value of one sample line (0 when absent)
value() { awk -v k="$2" '$1 == k { v = $2 } END { print v + 0 }' "$1"; }
# delta SAMPLE - its change from m0.txt to m1.txt
delta() { echo $(($(value "$H/m1.txt" "$1") - $(value "$H/m0.txt" "$1"))); }
# sum_delta PREFIX - the change of the sum of every sample starting with PREFIX
sum_delta() {
	local a b
	a=$(awk -v p="$1" 'index($1, p) == 1 { s += $2 } END { print s + 0 }' "$H/m0.txt")
	b=$(awk -v p="$1" 'index($1, p) == 1 { s += $2 } END { print s + 0 }' "$H/m1.txt")
	echo $((b - a))
}

promtool check metrics <"$H/m0.txt" >"$H/promtool0.out" 2>&1
h_eq "promtool accepts the idle scrape ($(cat "$H/promtool0.out"))" "$?" 0

# N signed (internal), then each sent again from outside (verified), and
# one tampered copy
# complete K - delivery K is in the sink in full (smtp-sink may still be
# writing it when it is first counted)
complete() { postfix_message "$1" | grep -qi "signed by mxdock-milter"; }
fetch() { h_wait "delivery $1 complete" 10 complete "$1" && postfix_message "$1" >"$2"; }
for i in $(seq 1 $N); do
	e2e_send_internal "$i" >/dev/null
	fetch "$i" "$H/signed-$i.eml"
done
for i in $(seq 1 $N); do
	e2e_send_external "$H/signed-$i.eml" $((N + i)) >/dev/null
	fetch $((N + i)) "$H/verified-$i.eml"
done
sed 's/signed by mxdock-milter/signed by mxdock-Milter/' "$H/signed-1.eml" >"$H/tampered.eml"
e2e_send_external "$H/tampered.eml" $((2 * N + 1)) >/dev/null
fetch $((2 * N + 1)) "$H/tampered-out.eml"
# one recipient over quota (refused at RCPT), one session from a banned client
postfix_send --from "alice@$D" --to full@example.org --h-From "alice@$D" >"$H/quota.txt"
h_has "the full mailbox is refused at RCPT" "$(cat "$H/quota.txt")" "<** 452 4.2.2"
postfix_send --local-interface 127.0.0.3 --from "alice@$D" --to bob@example.org >"$H/ban.txt"
h_has "the banned client is refused" "$(cat "$H/ban.txt")" "421"
scrape >"$H/m1.txt"

ar=$(cat "$H"/verified-*.eml)
h_eq "the delivered copies carry 2N dkim=pass" "$(grep -c 'dkim=pass' <<<"$ar")" $((2 * N))
h_eq "the delivered tampered copy carries 2 dkim=fail" "$(grep -c 'dkim=fail' "$H/tampered-out.eml")" 2

h_eq "outbound continue +N" "$(delta 'mxdock_milter_messages_total{direction="outbound",action="continue"}')" $N
h_eq "inbound continue +N+1" "$(delta 'mxdock_milter_messages_total{direction="inbound",action="continue"}')" $((N + 1))
h_eq "messages +2N+1 in all" "$(sum_delta 'mxdock_milter_messages_total{')" $((2 * N + 1))
h_eq "rsa signatures +N" "$(delta 'mxdock_milter_dkim_signatures_total{algorithm="rsa"}')" $N
h_eq "ed25519 signatures +N" "$(delta 'mxdock_milter_dkim_signatures_total{algorithm="ed25519"}')" $N
h_eq "dkim pass rsa-sha256 +N" "$(delta 'mxdock_milter_dkim_results_total{result="pass",algorithm="rsa-sha256"}')" $N
h_eq "dkim pass ed25519-sha256 +N" "$(delta 'mxdock_milter_dkim_results_total{result="pass",algorithm="ed25519-sha256"}')" $N
h_eq "dkim fail rsa-sha256 +1" "$(delta 'mxdock_milter_dkim_results_total{result="fail",algorithm="rsa-sha256"}')" 1
h_eq "dkim fail ed25519-sha256 +1" "$(delta 'mxdock_milter_dkim_results_total{result="fail",algorithm="ed25519-sha256"}')" 1
h_eq "dkim results +2N+2 in all" "$(sum_delta 'mxdock_milter_dkim_results_total{')" $((2 * N + 2))

# SPF and DMARC: the counter of the result the delivered A-R shows
spf=$(grep -o 'spf=[a-z]*' "$H/verified-1.eml" | head -1 | cut -d= -f2)
dmarc=$(grep -o 'dmarc=[a-z]*' "$H/verified-1.eml" | head -1 | cut -d= -f2)
h_eq "A-R shows spf=fail (127.0.0.2 is not the MX)" "$spf" fail
h_eq "spf results +N+1 in all" "$(sum_delta 'mxdock_milter_spf_results_total{')" $((N + 1))
h_eq "spf result $spf +N+1" "$(delta "mxdock_milter_spf_results_total{result=\"$spf\"}")" $((N + 1))
h_eq "dmarc results +N+1 in all" "$(sum_delta 'mxdock_milter_dmarc_results_total{')" $((N + 1))
h_eq "dmarc $dmarc +N" "$(($(delta "mxdock_milter_dmarc_results_total{result=\"$dmarc\"}") - $(grep -c "dmarc=$dmarc" "$H/tampered-out.eml")))" $N
h_eq "DNS time of SPF observed N+1 times" "$(delta 'mxdock_milter_dns_step_duration_seconds_count{step="mail"}')" $((N + 1))
h_eq "DNS time at eom observed N+1 times" "$(delta 'mxdock_milter_dns_step_duration_seconds_count{step="eom"}')" $((N + 1))
h_eq "no error counted" "$(sum_delta 'mxdock_milter_errors_total{')" 0
h_eq "quota refusals at RCPT +1" "$(delta 'mxdock_milter_quota_refusals_total{stage="rcpt"}')" 1
h_eq "no quota refusal at eom" "$(delta 'mxdock_milter_quota_refusals_total{stage="eom"}')" 0
h_eq "ban refusals +1" "$(delta 'mxdock_milter_ban_refusals_total')" 1
# sessions: N internal, N+1 external, the over-quota one, the banned one
h_eq "policy checks at connect: one per session" \
	"$(delta 'mxdock_milter_policy_checks_total{op="connect",outcome="ok"}')" $((2 * N + 3))
h_eq "policy checks at RCPT: one per recipient" \
	"$(delta 'mxdock_milter_policy_checks_total{op="rcpt",outcome="ok"}')" $((2 * N + 2))
h_eq "policy checks at eom: one per recipient accepted" \
	"$(delta 'mxdock_milter_policy_checks_total{op="eom",outcome="ok"}')" $((2 * N + 1))
h_eq "policy check histogram counts the same (rcpt)" \
	"$(delta 'mxdock_milter_policy_check_duration_seconds_count{op="rcpt"}')" $((2 * N + 2))
h_eq "no messages counted for the two refused sessions" \
	"$(sum_delta 'mxdock_milter_messages_total{')" $((2 * N + 1))
h_eq "two keys active in the store" "$(value "$H/m1.txt" 'mxdock_milter_dkim_keys{state="active"}')" 2

promtool check metrics <"$H/m1.txt" >"$H/promtool1.out" 2>&1
h_eq "promtool accepts the scrape after mail ($(cat "$H/promtool1.out"))" "$?" 0

# a reload is counted; the counters survive it
kill -USR1 "$MILTER_PID"
h_wait "reload counted" 10 bash -c "curl -s http://127.0.0.1:$MPORT/metrics | grep -qx 'mxdock_milter_reloads_total{result=\"ok\"} 1'"
scrape >"$H/m2.txt"
h_eq "counters kept across the reload" \
	"$(value "$H/m2.txt" 'mxdock_milter_dkim_signatures_total{algorithm="rsa"}')" \
	"$(value "$H/m1.txt" 'mxdock_milter_dkim_signatures_total{algorithm="rsa"}')"

# a second milter cannot take the same metrics address: it says so, exit 69
sed "s/^milter_socket = .*/milter_socket = inet:$(h_port)@127.0.0.1/" "$C" >"$H/second.conf"
timeout 10 "$BINDIR/mxdock-milter" -f $(milter_root_flag "$H/second.conf") -c "$H/second.conf" >"$H/second.out" 2>&1
h_eq "metrics address in use: exit 69" "$?" 69
h_has "... naming the key" "$(cat "$H/second.out")" "milter_metrics_listen 127.0.0.1:$MPORT"

# only GET /metrics
h_eq "other paths 404" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/")" 404
h_eq "POST 405" "$(curl -s -o /dev/null -w '%{http_code}' -d x "http://127.0.0.1:$MPORT/metrics")" 405
h_has "content type of the text format" \
	"$(curl -s -D - -o /dev/null "http://127.0.0.1:$MPORT/metrics")" "text/plain; version=0.0.4"
h_done
