#!/bin/bash
# soak.sh - issue 5's soak acceptance (make soak; not part of make check):
# SOAK_MESSAGES (10,000) messages through a real Postfix into smtp-sink,
# several smtp-source connections at once, half internal (a Postfix smtpd
# whose {daemon_name} is in milter_sign_daemons: signed with RSA and
# Ed25519) and half external (a signed copy sent again: verified against
# the keys in a scratch PowerDNS), while SIGUSR1 reloads the milter
# SOAK_RELOADS (100) times.  At the end the milter gets SIGTERM and must
# stop by itself; its log must hold no sanitizer report (build it with
# SANITIZE=1: make soak does), every message must be in the sink, every
# internal one signed twice and every external one dkim=pass.
#
#   BINDIR=build/asan/bin tests/soak.sh
#   SOAK_MESSAGES=1000 SOAK_RELOADS=20 SOAK_SESSIONS=4 tests/soak.sh
source "$(dirname "$0")/lib/harness.sh"
source "$H_TOP/tests/lib/pdns.sh"
source "$H_TOP/tests/lib/postfix.sh"
h_init soak

N=${SOAK_MESSAGES:-10000}
RELOADS=${SOAK_RELOADS:-100}
SESS=${SOAK_SESSIONS:-4}
D=example.test
AUTHSERV=mx.soak.test
T0=$(date +%s)
if nm -D "$BINDIR/mxdock-milter" 2>/dev/null | grep -q __asan_init; then
	echo "# $BINDIR/mxdock-milter is built with AddressSanitizer"
else
	echo "# warning: $BINDIR/mxdock-milter is not a sanitizer build (make soak builds one)"
fi

milter_scratch_conf "$AUTHSERV" || { h_done; exit 1; }
cat >>"$C" <<EOF
milter_internal_hosts = 192.0.2.1/32
milter_sign_daemons = signer.postfix.test
dkim_fail_action = tag
dmarc_quarantine_action = tag
EOF
out=$("$BINDIR/mxdock-dns" -c "$C" create "$D" 2>&1)
h_eq "mxdock-dns create $D" "$?" 0

milter_start "$C"
postfix_start "inet:127.0.0.1:$MILTER_PORT" || { h_done; exit 1; }
# a second smtpd whose {daemon_name} makes its mail trusted (signed)
SIGN_PORT=$(h_port)
echo "127.0.0.1:$SIGN_PORT inet n - n - - smtpd -o milter_macro_daemon_name=signer.postfix.test" \
	>>"$POSTFIX_DIR/conf/master.cf"
postconf -c "$POSTFIX_DIR/conf" -e in_flow_delay=0 default_destination_concurrency_limit=20
postfix -c "$POSTFIX_DIR/conf" reload >/dev/null 2>&1
h_wait "signing smtpd listens" 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SIGN_PORT"

# the template of the external half: one internal message, signed
swaks --server "127.0.0.1:$SIGN_PORT" --from "alice@$D" --to bob@example.org \
	--h-From "Alice <alice@$D>" --h-Subject "soak external" --body "soak body" >/dev/null 2>&1
postfix_wait_delivered 1
postfix_message 1 >"$H/external.eml"
h_eq "template signed twice" "$(grep -c '^DKIM-Signature:' "$H/external.eml")" 2

half=$((N / 2))
# reloads - SIGUSR1 RELOADS times, each after the previous reload is done
# (signals sent during a reload would merge into one)
loaded() { grep -c 'configuration [0-9]* loaded' "$MILTER_LOG"; }
reloads() {
	local i n t
	for ((i = 0; i < RELOADS; i++)); do
		n=$(loaded)
		kill -USR1 "$MILTER_PID" 2>/dev/null
		for ((t = 0; t < 100; t++)); do
			[ "$(loaded)" -gt "$n" ] && break
			sleep 0.05
		done
		sleep "${SOAK_RELOAD_GAP:-0.2}"
	done
}
T1=$(date +%s.%N)
reloads &
RPID=$!
smtp-source -s "$SESS" -m "$half" -f "alice@$D" -t bob@example.org -S "soak internal" \
	-M client.test "127.0.0.1:$SIGN_PORT" >"$H/source-int.log" 2>&1 &
SPID1=$!
smtp-source -s "$SESS" -m $((N - half)) -f "alice@$D" -t bob@example.org \
	-F "$H/external.eml" -M client.test "127.0.0.1:$POSTFIX_PORT" >"$H/source-ext.log" 2>&1 &
SPID2=$!
wait "$SPID1"
rc1=$?
wait "$SPID2"
rc2=$?
h_eq "smtp-source internal, external" "$rc1,$rc2" "0,0"
h_wait "$N messages delivered" 900 postfix_have $((N + 1))
T2=$(date +%s.%N)
wait "$RPID"
h_eq "$RELOADS reloads done" "$(loaded)" "$RELOADS"

kill -TERM "$MILTER_PID"
h_wait "milter stops on SIGTERM" 60 sh -c "! kill -0 $MILTER_PID 2>/dev/null"
log=$(cat "$MILTER_LOG")
h_has "milter logged its stop" "$log" "stopped"
h_lacks "no sanitizer report" "$log" "Sanitizer"
h_lacks "no UBSan runtime error" "$log" "runtime error:"
h_lacks "no panic" "$log" "panic"

S="$SINK_DIR"
int=$(grep -rl '^Subject: soak internal' "$S" | wc -l)
ext=$(grep -rl '^Subject: soak external' "$S" | wc -l)
h_eq "every message delivered (internal, external + template)" "$int,$ext" \
	"$half,$((N - half + 1))"
signed=$(grep -rl '^Subject: soak internal' "$S" | xargs -r grep -l 'a=rsa-sha256' |
	xargs -r grep -l 'a=ed25519-sha256' | wc -l)
h_eq "every internal message signed with both keys" "$signed" "$half"
verified=$(grep -rl '^Subject: soak external' "$S" | xargs -r grep -l "^Authentication-Results: $AUTHSERV;" |
	xargs -r awk 'FNR == 1 { if (n >= 2) c++; n = 0 } /dkim=pass/ { n++ }
		END { if (n >= 2) c++; print c + 0 }' | awk '{ s += $1 } END { print s + 0 }')
h_eq "every external message verified, dkim=pass twice" "$verified" "$((N - half))"
h_eq "one log line per message" "$(grep -c ' action=' "$MILTER_LOG")" "$((N + 1))"
awk -v n="$N" -v a="$T1" -v b="$T2" -v r="$RELOADS" -v s="$SESS" -v all=$(($(date +%s) - T0)) \
	'BEGIN { printf "# soak: %d messages, %d reloads, %d+%d sessions: %.1f s from first send to all delivered (%.0f msg/s), %d s in all\n", n, r, s, s, b - a, n / (b - a), all }'
h_done
