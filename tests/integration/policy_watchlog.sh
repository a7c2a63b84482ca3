#!/bin/bash
# policy_watchlog.sh - mxdock-policy watch-log on recorded Postfix, Dovecot
# and Stalwart log lines: what it records, resuming from its state file,
# rotation, truncation, a database outage while following, and the ban
# that the recorded failures earn.
source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/mariadb.sh"
h_init policy_watchlog
mariadb_start || { h_done; exit 1; }

CONF=$H/mxdock.conf
printf 'authfail_enable = yes\nmysql_timeout = 1s\n' >"$CONF"
mariadb_conf "$CONF"
P() { "$BINDIR/mxdock-policy" -c "$CONF" "$@"; }
P init-db >/dev/null
fails() { mariadb_db mxdock "SELECT COUNT(*) FROM auth_attempt WHERE ip = '$1' AND success = 0" | tail -1; }
LOG=$H/mail.log
STATE=$H/watch.state

pf() {  # pf IP [USER] - one Postfix SASL failure line
	echo "Nov 21 13:00:0$((RANDOM % 10)) mx postfix/smtpd[4242]: warning: unknown[$1]: SASL LOGIN authentication failed: UGFzc3dvcmQ6${2:+, sasl_username=$2}"
}
{
	for i in 1 2 3 4 5 6 7 8 9; do pf 192.0.2.20 mallory@example.org; done
	echo "Nov 21 13:00:10 mx postfix/smtpd[4242]: connect from unknown[192.0.2.20]"
	echo "Nov 21 13:00:11 mx dovecot: imap-login: Disconnected (auth failed, 3 attempts in 15 secs): user=<alice@example.org>, method=PLAIN, rip=198.51.100.4, lip=192.0.2.1, TLS"
	echo "Nov 21 13:00:12 mx dovecot: auth-worker(77): sql(dave@example.org,198.51.100.6,<Ab12>): unknown user"
	echo '2026-11-21T13:00:13Z INFO Authentication failed (auth.failed) listenerId = "submission", localPort = 587, remoteIp = 203.0.113.8, remotePort = 40000, accountName = "frank@example.org"'
} >"$LOG"

P watch-log --state="$H/sub/dir/watch.state" --from-start --once "$LOG" 2>"$H/w1.log" && cp "$H/sub/dir/watch.state" "$STATE"
h_eq "watch-log --once exit" "$?" 0
h_eq "postfix failures recorded" "$(fails 192.0.2.20)" 9
h_eq "dovecot login line counts its attempts" "$(fails 198.51.100.4)" 3
h_eq "dovecot auth-worker line" "$(fails 198.51.100.6)" 1
h_eq "stalwart line" "$(fails 203.0.113.8)" 1
h_eq "principal and protocol kept" "$(mariadb_db mxdock "SELECT principal, protocol FROM auth_attempt WHERE ip='203.0.113.8'" | tail -1 | tr '\t' ' ')" \
	"frank@example.org submission"
h_eq "9 failures: still accepted" "$(P authfail check 192.0.2.20)" "accept 192.0.2.20"

P watch-log --state="$STATE" --once "$LOG" 2>/dev/null
h_eq "second run resumes: nothing counted twice" "$(fails 192.0.2.20)" 9
pf 192.0.2.20 mallory@example.org >>"$LOG"
P watch-log --state="$STATE" --once "$LOG" 2>/dev/null
h_eq "appended line counted once" "$(fails 192.0.2.20)" 10
h_eq "10 failures from the log: 421" "$(P authfail check 192.0.2.20)" \
	"tempfail 421 4.7.0 too many failed authentication attempts"
h_eq "another IP accepted" "$(P authfail check 192.0.2.21)" "accept 192.0.2.21"
P authfail unban 192.0.2.20 >/dev/null
h_eq "after unban: accepted" "$(P authfail check 192.0.2.20)" "accept 192.0.2.20"

# following: rotation, truncation, restart, outage
"$BINDIR/mxdock-policy" -c "$CONF" watch-log --state="$STATE" "$LOG" 2>"$H/w2.log" &
WPID=$!
h_track $WPID
wait_fails() { h_wait "$3" 10 sh -c "[ \"\$(mariadb --no-defaults -S '$MYSQL_SOCKET' -uroot -N mxdock -e \"SELECT COUNT(*) FROM auth_attempt WHERE ip='$1'\")\" = $2 ]"; }

pf 192.0.2.30 >>"$LOG"
wait_fails 192.0.2.30 1 "followed line recorded" && h_ok "followed line recorded"
pf 192.0.2.30 >>"$LOG"
mv "$LOG" "$LOG.1"
pf 192.0.2.30 >"$LOG"
pf 192.0.2.30 >>"$LOG"
wait_fails 192.0.2.30 4 "rotation: old tail and new file" && h_ok "rotation: old tail and new file"
h_has "rotation logged" "$(cat "$H/w2.log")" "was rotated"
: >"$LOG"
sleep 0.5
pf 192.0.2.31 >>"$LOG"
wait_fails 192.0.2.31 1 "truncation: read from the start" && h_ok "truncation: read from the start"

mariadb_kill
pf 192.0.2.32 >>"$LOG"
pf 192.0.2.32 >>"$LOG"
sleep 1
mariadb_restart
wait_fails 192.0.2.32 2 "outage: lines recorded after restart" && h_ok "outage: lines recorded after restart"
h_eq "outage: logged once" "$(grep -c 'policy database unreachable' "$H/w2.log")" 1

kill -TERM $WPID
wait $WPID
h_eq "stops on TERM" "$?" 0
pf 192.0.2.33 >>"$LOG"
pf 192.0.2.33 >>"$LOG"
P watch-log --state="$STATE" --once "$LOG" 2>/dev/null
h_eq "restart resumes: only new lines" "$(fails 192.0.2.32),$(fails 192.0.2.33),$(fails 192.0.2.31)" "2,2,1"
h_eq "missing file: EX_USAGE" "$(P watch-log >/dev/null 2>&1; echo $?)" 64
h_done
