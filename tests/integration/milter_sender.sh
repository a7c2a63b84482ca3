#!/bin/bash
# milter_sender.sh - SMTP AUTH through a real Postfix (Cyrus sasldb) and
# milter_sender_check: an authenticated user is trusted (signed, A-R with
# auth=pass smtp.auth=USER, no SPF), and sending as another domain gets
# 553 5.7.1.  Also -t (configuration check), the pid file and
# milter_sign_daemons.
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/postfix.sh"
h_init milter_sender

D=example.test
USER=alice@$D
PASS=s3cret-$RANDOM
C="$H/mxdock.conf"
cat >"$C" <<EOF
milter_authserv_id = mx.milter.test
milter_internal_hosts = 127.0.0.1/32
milter_sender_check = yes
spf_skip_addresses = 127.0.0.1/32
dkim_keydir = $H/dkim
dns_resolver = 127.0.0.1:$(h_port)
dns_timeout = 1s
milter_pidfile = $H/milter.pid
EOF
# -t: the configuration check
out=$("$BINDIR/mxdock-milter" -t -c "$C" 2>&1)
h_eq "-t on a good configuration" "$?" 0
printf 'milter_dry_run = perhaps\n' >"$H/bad.conf"
out=$("$BINDIR/mxdock-milter" -t -c "$H/bad.conf" 2>&1)
h_eq "-t on a bad configuration: EX_CONFIG" "$?" 78
h_has "-t names file, line and key" "$out" "$H/bad.conf:1: milter_dry_run"
"$BINDIR/mxdock-dkim" -c "$C" keygen "$D" >/dev/null
for s in $("$BINDIR/mxdock-dkim" -c "$C" list "$D" | awk 'NR > 1 { print $2 }'); do
	"$BINDIR/mxdock-dkim" -c "$C" activate "$D" "$s" >/dev/null
done

milter_start "$C"
h_eq "pid file" "$(cat "$H/milter.pid" 2>/dev/null)" "$MILTER_PID"
postfix_sasl "$USER" "$PASS"
postfix_start "inet:127.0.0.1:$MILTER_PORT" || { h_done; exit 1; }

auth_send() { # FROM-ADDRESS SUBJECT
	postfix_send --local-interface 127.0.0.2 --auth PLAIN --auth-user "$USER" \
		--auth-password "$PASS" --from "$1" --to bob@example.org \
		--h-From "<$1>" --h-Subject "$2" --body "auth test"
}

out=$(auth_send "$USER" "own domain")
h_has "authenticated" "$out" "235 2.7.0 Authentication successful"
h_has "own domain accepted" "$out" "250 2.0.0 Ok: queued"
postfix_wait_delivered 1
m=$(postfix_message_with "own domain")
h_has "auth=pass in A-R" "$m" "auth=pass smtp.auth=$USER"
h_eq "signed with both keys" "$(grep -c '^DKIM-Signature:' <<<"$m")" 2
h_lacks "no SPF for authenticated mail" "$m" "Received-SPF"

out=$(auth_send "mallory@other.test" "other domain")
h_has "other domain refused" "$out" "553 5.7.1"
h_has "refusal logged" "$(cat "$MILTER_LOG")" "user $USER may not send as other.test"

# milter_sign_daemons: mail through a daemon named there is signed, even
# from an external client without AUTH ({daemon_name} = Postfix's
# milter_macro_daemon_name, by default $myhostname)
echo "milter_sign_daemons = mx.postfix.test" >>"$C"
kill -USR1 "$MILTER_PID"
h_wait "reload" 10 grep -q "configuration 2 loaded" "$MILTER_LOG"
out=$(postfix_send --local-interface 127.0.0.2 --from "bob@$D" --to bob@example.org \
	--h-From "<bob@$D>" --h-Subject "sign daemon" --body "daemon test")
h_has "sign daemon: accepted" "$out" "250 2.0.0 Ok: queued"
postfix_wait_delivered 2
h_eq "sign daemon: signed" "$(postfix_message_with "sign daemon" | grep -c '^DKIM-Signature:')" 2
h_done
