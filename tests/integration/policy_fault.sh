#!/bin/bash
# policy_fault.sh - the database goes away under a running policy client
# (mxdock-policy probe: the same policy.h calls mxdock-milter makes, from
# one long-lived process): killed, stopped (slow), restarted.  Decisions
# follow quota_db_error_action / authfail_db_error_action, the outage is
# logged once, and decisions resume without restarting the client.
source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/mariadb.sh"
h_init policy_fault
mariadb_start || { h_done; exit 1; }

CONF=$H/mxdock.conf
cat >"$CONF" <<CONF
quota_enable = yes
authfail_enable = yes
quota_cache_ttl = 0
mysql_timeout = 1s
CONF
mariadb_conf "$CONF"
P() { "$BINDIR/mxdock-policy" -c "$CONF" "$@"; }
P init-db >/dev/null
mariadb_db mxdock <"$H_TOP/docs/policy-schema.sql"
mariadb_db mxdock "INSERT INTO accounts (name, quota) VALUES ('bob', 1000), ('full', 1000);
	INSERT INTO emails (name, address) VALUES ('bob', 'bob@example.org'), ('full', 'full@example.org');
	INSERT INTO mailbox_usage VALUES ('bob', 10, NOW()), ('full', 1000, NOW());"
for i in $(seq 10); do P authfail record 192.0.2.7; done

# start_probe NAME CONF - a long-lived client on coprocess fds PR/PW.
# probe answers every request line with exactly one line, in order, so the
# n-th line read is the answer to the n-th request: SENT and GOT count
# them (in this shell: ask is never run in a $(...) subshell, where the
# counts would be lost), and a late answer is skipped by the next ask
# instead of being taken for the next request's answer.
start_probe() {
	coproc PROBE { exec "$BINDIR/mxdock-policy" -c "$2" probe 2>"$H/$1.log"; }
	PR=${PROBE[0]}
	PW=${PROBE[1]}
	PROBE_PID=$PROBE_PID
	SENT=0
	GOT=0
	h_track "$PROBE_PID"
}
# ask REQUEST - the answer to REQUEST in $ANS.  Each answer is bounded by
# mysql_timeout (1 s) and one retry; 60 s leaves room for a loaded host.
ask() {
	local line=""
	ANS=""
	echo "$1" >&"$PW"
	SENT=$((SENT + 1))
	while [ "$GOT" -lt "$SENT" ]; do
		if ! IFS= read -t 60 -r line <&"$PR"; then
			ANS="(no answer within 60 s)"
			return
		fi
		GOT=$((GOT + 1))
	done
	ANS=$line
}
# check NAME REQUEST WANT - ask, then compare
check() {
	ask "$2"
	h_eq "$1" "$ANS" "$3"
}
# until_452 REQUEST - ask until the quota answer is back (after a restart)
until_452() {
	for _ in $(seq 40); do
		ask "$1"
		case $ANS in *452*) return ;; esac
		sleep 0.1
	done
}

start_probe probe1 "$CONF"
pid1=$PROBE_PID
check "up: full mailbox" 'rcpt full@example.org' "tempfail 452 4.2.2 <full@example.org>: mailbox full"
check "up: bob accepted" 'rcpt bob@example.org 100' "accept"
check "up: end of message with the real size" 'eom bob@example.org 991' \
	"tempfail 452 4.2.2 <bob@example.org>: mailbox full"
check "up: banned IP" 'connect 192.0.2.7' "tempfail 421 4.7.0 too many failed authentication attempts"

mariadb_kill
for i in 1 2 3 4 5; do
	check "killed: quota tempfails ($i)" 'rcpt bob@example.org' \
		"tempfail 451 4.3.0 temporary policy failure, try again later"
	check "killed: connect accepted ($i)" 'connect 192.0.2.7' "accept"
done
h_eq "killed: the client lives" "$(kill -0 "$pid1" && echo alive)" alive
h_eq "outage logged once" "$(grep -c 'policy database unreachable' "$H/probe1.log")" 1

mariadb_restart
until_452 'rcpt full@example.org'
h_eq "restarted: decisions resume" "$ANS" "tempfail 452 4.2.2 <full@example.org>: mailbox full"
check "restarted: ban seen again" 'connect 192.0.2.7' "tempfail 421 4.7.0 too many failed authentication attempts"
h_eq "restarted: same client process" "$(kill -0 "$pid1" && echo alive)" alive
h_eq "recovery logged once" "$(grep -c 'policy database reachable again' "$H/probe1.log")" 1

# slow database: a stopped mariadbd answers nothing; read timeout applies
mariadb_freeze
check "stopped: quota tempfails" 'rcpt bob@example.org' \
	"tempfail 451 4.3.0 temporary policy failure, try again later"
kill -CONT "$MYSQL_PID"
until_452 'rcpt full@example.org'
h_eq "continued: decisions resume" "$ANS" "tempfail 452 4.2.2 <full@example.org>: mailbox full"
h_eq "2 outages, 2 log lines" "$(grep -c 'policy database unreachable' "$H/probe1.log")" 2
h_lacks "password never logged" "$(cat "$H/probe1.log")" "$(cat "$MYSQL_PASSWORD_FILE")"
exec {PW}>&-
wait "$pid1" 2>/dev/null

# the other actions: quota accept, authfail tempfail
{ cat "$CONF"; printf 'quota_db_error_action = accept\nauthfail_db_error_action = tempfail\n'; } \
	>"$H/other.conf"
start_probe probe2 "$H/other.conf"
check "other: up" 'rcpt full@example.org' "tempfail 452 4.2.2 <full@example.org>: mailbox full"
mariadb_kill
check "other: quota accepts" 'rcpt full@example.org' "accept"
check "other: connect tempfails" 'connect 192.0.2.8' \
	"tempfail 451 4.3.0 temporary policy failure, try again later"
check "other: exempt needs no database" 'connect 127.0.0.1' "accept"
h_done
