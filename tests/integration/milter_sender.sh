#!/bin/bash
# milter_sender.sh - SMTP AUTH through a real Postfix (Cyrus sasldb) and
# milter_sender_check: an authenticated user is trusted (signed, A-R with
# auth=pass without the login, no SPF), and sending as another domain gets
# 553 5.7.1, and so does a From with two addresses or two From fields;
# an early SIGUSR1 does not kill the daemon.  Also -t (configuration check), the pid file and
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
ar=$(awk '/^Authentication-Results: /{p = 1; print; next} p && /^[ \t]/ {print; next} {p = 0}' <<<"$m")
h_has "auth=pass in A-R" "$ar" "auth=pass"
# issue 12 item 7: the header goes to every recipient, the login must not
h_lacks "A-R does not reveal the SASL login" "$ar" "$USER"
h_eq "signed with both keys" "$(grep -c '^DKIM-Signature:' <<<"$m")" 2
h_lacks "no SPF for authenticated mail" "$m" "Received-SPF"

out=$(auth_send "mallory@other.test" "other domain")
h_has "other domain refused" "$out" "553 5.7.1"
h_has "refusal logged" "$(cat "$MILTER_LOG")" "user $USER may not send as other.test"

# only the one From address counts: a second address in the field, or a
# second From field, was once let through on the first one (and signed)
auth_data() { # SUBJECT FROM-LINES...
	local subj=$1
	shift
	{ printf '%s\n' "$@"; printf 'To: bob@example.org\nSubject: %s\n\nbody\n' "$subj"
	} >"$H/from.eml"
	postfix_send --local-interface 127.0.0.2 --auth PLAIN --auth-user "$USER" \
		--auth-password "$PASS" --from "$USER" --to bob@example.org --data "@$H/from.eml"
}
out=$(auth_data "two addresses" "From: <$USER>, <ceo@victim.test>")
h_has "two From addresses: 553 5.7.1" "$out" "553 5.7.1 Exactly one From address"
out=$(auth_data "two fields" "From: <$USER>" "From: <ceo@victim.test>")
h_has "two From fields: 553 5.7.1" "$out" "553 5.7.1 Exactly one From address"
out=$(auth_data "display name" "From: \"ceo@victim.test\" <$USER>")
h_has "one address with a display name: accepted" "$out" "250 2.0.0 Ok: queued"
postfix_wait_delivered 2
h_has "  ... and signed for $D" "$(postfix_message_with "display name")" "d=$D;"

# milter_sign_daemons: mail through a daemon named there is signed, even
# from an external client without AUTH ({daemon_name} = Postfix's
# milter_macro_daemon_name, by default $myhostname)
echo "milter_sign_daemons = mx.postfix.test" >>"$C"
kill -USR1 "$MILTER_PID"
h_wait "reload" 10 grep -q "configuration 2 loaded" "$MILTER_LOG"
out=$(postfix_send --local-interface 127.0.0.2 --from "bob@$D" --to bob@example.org \
	--h-From "<bob@$D>" --h-Subject "sign daemon" --body "daemon test")
h_has "sign daemon: accepted" "$out" "250 2.0.0 Ok: queued"
postfix_wait_delivered 3
h_eq "sign daemon: signed" "$(postfix_message_with "sign daemon" | grep -c '^DKIM-Signature:')" 2

# SIGUSR1 right after start (before the reload thread exists) once killed
# the daemon: it is blocked from before main now (a constructor)
P2=$(h_port)
sed -e "s/^milter_socket *=.*//" -e "/^milter_pidfile/d" "$C" >"$H/early.conf"
echo "milter_socket = inet:$P2@127.0.0.1" >>"$H/early.conf"
# worked out before the start: the signals below must reach the milter,
# not a shell still running a command substitution
ROOTFLAG=$(milter_root_flag "$H/early.conf")
# The milter reads its configuration from a FIFO: it waits in open(2),
# before it binds, until the writer below comes; that is the right moment
# whatever the build (ASan's runtime alone takes long before main, and a
# signal to bash or the loader before the exec is no program's to handle).
# The old code blocked SIGUSR1 only after binding: the signals sent during
# the wait killed it.
mkfifo "$H/early.fifo"
"$BINDIR/mxdock-milter" -f $ROOTFLAG -c "$H/early.fifo" >"$H/early.log" 2>&1 &
EARLY=$!
h_track "$EARLY"
waiting=""
for i in $(seq 500); do
	# wait_for_partner: the kernel's wait in a FIFO's open (fs/pipe.c)
	[ "$(cat "/proc/$EARLY/wchan" 2>/dev/null)" = wait_for_partner ] &&
		[ "$(readlink "/proc/$EARLY/exe")" = "$(readlink -f "$BINDIR/mxdock-milter")" ] &&
		{ waiting=yes; break; }
	sleep 0.02
done
h_eq "early SIGUSR1: the milter waits for its configuration" "$waiting" yes
for i in $(seq 30); do kill -USR1 "$EARLY" 2>/dev/null; done
sleep 0.2
h_eq "early SIGUSR1: alive before it has read its configuration" \
	"$(kill -0 "$EARLY" 2>/dev/null && echo alive)" alive
cat "$H/early.conf" >"$H/early.fifo" &
h_track $!
h_wait "early SIGUSR1: milter listens" 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$P2"
# the reload the pending SIGUSR1 asked for reads the FIFO again
timeout 10 bash -c 'cat "$1" >"$2"' - "$H/early.conf" "$H/early.fifo"
h_eq "early SIGUSR1: the reload read the configuration" "$?" 0
h_eq "early SIGUSR1: milter alive" "$(kill -0 "$EARLY" 2>/dev/null && echo alive)" alive
kill -TERM "$EARLY"
h_done
