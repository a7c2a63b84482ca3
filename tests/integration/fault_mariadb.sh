#!/bin/bash
# fault_mariadb.sh - a locked database under the running milter (issue 18;
# killed and restarted is policy_milter_eom.sh and policy_fault.sh):
#   - FLUSH TABLES WITH READ LOCK held by another session (a backup): the
#     quota check only reads, so verdicts are the same as before, in time;
#   - LOCK TABLES mailbox_usage WRITE held by another session: the quota
#     read waits; the milter answers quota_db_error_action (451 4.3.0)
#     within its mysql_timeout bound instead of hanging the MTA;
#   - the lock released: right verdicts again, no restart.
# Messages go over the milter protocol (policy_milter.py), with the RCPT
# and end-of-message quota checks.
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/mariadb.sh"
source "$H_TOP/tests/lib/postfix.sh"
h_init fault_mariadb
mariadb_quota_milter || { h_done; exit 1; }
# M BYTES RCPTS - the verdict line(s); TOOK gets the seconds it took
M() {
	local t0 t1
	t0=$(date +%s.%N)
	python3 "$H_TOP/tests/integration/policy_milter.py" "127.0.0.1:$MILTER_PORT" 192.0.2.20 "$@" 2>&1
	t1=$(date +%s.%N)
	echo "took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
}
within() { awk -v s="$1" -v m="$2" 'BEGIN { exit !(s + 0 <= m + 0) }' && echo yes || echo "no ($1 s)"; }
took() { sed -n 's/^took //p' <<<"$1"; }
verdict() { grep -v '^took ' <<<"$1"; }
# hold SQL - a root session that runs SQL, then sleeps 60 s holding it
hold() {
	mariadb --no-defaults -uroot -S "$MYSQL_SOCKET" mxdock -e "$1; SELECT SLEEP(60);" >/dev/null 2>&1 &
	HOLDER=$!
	h_track $HOLDER
	sleep 1
}
release() {
	mariadb --no-defaults -uroot -S "$MYSQL_SOCKET" -N -e \
		"SELECT id FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP(60)%'" |
		while read -r id; do mariadb --no-defaults -uroot -S "$MYSQL_SOCKET" -e "KILL $id"; done
	wait "$HOLDER" 2>/dev/null
}

out=$(M 100 bob@example.org)
h_eq "control: under quota, accepted" "$(verdict "$out")" "eom continue"
out=$(M 4500 small@example.org)
h_eq "control: over quota at eom, refused" "$(verdict "$out")" "eom reply 452 4.2.2 <small@example.org>: mailbox full"

hold "FLUSH TABLES WITH READ LOCK"
out=$(M 100 bob@example.org)
h_eq "read lock (FTWRL): under quota, accepted" "$(verdict "$out")" "eom continue"
h_eq "read lock (FTWRL): in time (2 s)" "$(within "$(took "$out")" 2)" yes
out=$(M 4500 small@example.org)
h_eq "read lock (FTWRL): over quota, refused" "$(verdict "$out")" \
	"eom reply 452 4.2.2 <small@example.org>: mailbox full"
release

hold "LOCK TABLES mailbox_usage WRITE"
out=$(M 100 bob@example.org)
h_has "table write-locked: quota_db_error_action answers (451 4.3.0)" "$(verdict "$out")" "451 4.3.0"
# the read waits mysql_timeout; the client library tries a read 3 times
# (MYSQL_OPT_READ_TIMEOUT), at RCPT and again at end of message
h_eq "table write-locked: answered within 8 s" "$(within "$(took "$out")" 8)" yes
h_has "table write-locked: logged as a database error" "$(cat "$MILTER_LOG")" "database"
release
sleep 1
out=$(M 100 bob@example.org)
h_eq "lock released: accepted again, no restart" "$(verdict "$out")" "eom continue"
out=$(M 4500 small@example.org)
h_eq "lock released: over quota refused again" "$(verdict "$out")" \
	"eom reply 452 4.2.2 <small@example.org>: mailbox full"
h_eq "milter still the same process" "$(kill -0 "$MILTER_PID" && echo alive)" alive
h_done
