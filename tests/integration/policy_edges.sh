#!/bin/bash
# policy_edges.sh - mxdock-policy on unusual and hostile input against a
# real MariaDB (issue 12, items 13-16): IPv6 ranges that hold every IPv4
# client, ban ends past 2038, the database down or refusing the login,
# numbers out of range.
source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/mariadb.sh"
h_init policy_edges
mariadb_start || { h_done; exit 1; }

CONF=$H/mxdock.conf
cat >"$CONF" <<CONF
quota_enable = yes
authfail_enable = yes
CONF
mariadb_conf "$CONF"
P() { "$BINDIR/mxdock-policy" -c "$CONF" "$@"; }
db() { mariadb_db mxdock "$1" | tail -n +2; }
code() { "$@" >/dev/null 2>&1; echo $?; }
P init-db >/dev/null || h_fail "init-db" "exit $?" "0"

# ---- 13: an IPv6 range holding ::ffff:0:0/96 would ban every IPv4 client --------
for r in ::/0 ::/1 ::/80; do
	h_eq "ban $r refused: EX_DATAERR" "$(code P authfail ban "$r" --for=1h)" 65
done
err=$(P authfail ban ::/0 2>&1 >/dev/null)
h_has "ban ::/0 says why" "$err" "would ban every IPv4 client"
h_eq "ban ::/0: one line" "$(printf '%s\n' "$err" | wc -l)" 1
h_eq "no ::/0 row written" "$(db "SELECT COUNT(*) FROM auth_ban")" 0
h_eq "IPv4 client still accepted" "$(P authfail check 192.0.2.1)" "accept 192.0.2.1"
h_eq "ban ::/81 (leaves IPv4 out) accepted" "$(code P authfail ban ::/81 --for=1h)" 0
h_eq "::/81 bans ::1:2" "$(P authfail check ::1:2 | cut -c1-12)" "tempfail 421"
h_eq "::/81 leaves IPv4 alone" "$(P authfail check 192.0.2.1)" "accept 192.0.2.1"
h_eq "ban 0.0.0.0/0 is the way to ban IPv4" "$(code P authfail ban 0.0.0.0/0 --for=1h)" 0
h_eq "0.0.0.0/0 bans IPv4" "$(P authfail check 192.0.2.1 | cut -c1-12)" "tempfail 421"
P authfail unban 0.0.0.0/0 >/dev/null
P authfail unban ::/81 >/dev/null

# ---- 14: ban ends and attempts past 2038 (FROM_UNIXTIME stops at 2038-01-19) --
T=2100000000                    # 2036-07-18: a 10-year ban ends in 2046
out=$(MXDOCK_NOW=$T P authfail ban 192.0.2.50 --for=3650d 2>&1)
h_eq "10-year ban from 2036: exit" "$?" 0
h_has "10-year ban from 2036: says until" "$out" "until 2046-07-16T"
h_eq "stored until 2046" "$(db "SELECT until FROM auth_ban WHERE ban='192.0.2.50'")" "2046-07-16 13:20:00"
h_eq "banned in 2040" "$(MXDOCK_NOW=2200000000 P authfail check 192.0.2.50 | cut -c1-12)" "tempfail 421"
h_eq "list reads the 2046 end back" "$(MXDOCK_NOW=$T P authfail list --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["bans"][0]["until"], d["bans"][0]["until_utc"], d["bans"][0]["active"])')" \
	"2415360000 2046-07-16T13:20:00Z True"
h_eq "expired in 2047" "$(MXDOCK_NOW=2430000000 P authfail check 192.0.2.50)" "accept 192.0.2.50"
T=2200000000                    # 2039-09-18: a window ban made after 2038
for i in $(seq 10); do MXDOCK_NOW=$T P authfail record 192.0.2.51 2>>"$H/rec.err"; done
h_eq "failures recorded in 2039" "$(db "SELECT COUNT(*), MAX(attempted_at) FROM auth_attempt WHERE ip='192.0.2.51'" | tr '\t' ' ')" \
	"10 2039-09-18 23:06:40"
h_eq "window ban in 2039" "$(MXDOCK_NOW=$T P authfail check 192.0.2.51 | cut -c1-12)" "tempfail 421"
h_eq "window ban lasts 1h" "$(db "SELECT TIMESTAMPDIFF(SECOND, created_at, until) FROM auth_ban WHERE ban='192.0.2.51'")" 3600
h_eq "prune in 2039 keeps the window" "$(MXDOCK_NOW=$T P authfail prune >/dev/null; db "SELECT COUNT(*) FROM auth_attempt WHERE ip='192.0.2.51'")" 10
# a database refusal names what failed, not only the server's text
err=$(MXDOCK_NOW=253402300000 P authfail ban 192.0.2.52 --for=1d 2>&1 >/dev/null)
h_has "refused write says what failed" "$err" "cannot store the ban of 192.0.2.52 until"
h_eq "refused write: one line" "$(printf '%s\n' "$err" | wc -l)" 1
P authfail unban 192.0.2.50 >/dev/null
P authfail unban 192.0.2.51 >/dev/null

# ---- 15: database down or refusing the login: never a silent accept ----------
sed "s/^mysql_port = .*/mysql_port = $(h_port)/" "$CONF" >"$H/down.conf"
echo wrong-password >"$H/bad.password"
chmod 600 "$H/bad.password"
sed "s|^mysql_password_file = .*|mysql_password_file = $H/bad.password|" "$CONF" >"$H/badpw.conf"
sed "s/^mysql_database = .*/mysql_database = nosuchdb/" "$CONF" >"$H/baddb.conf"
Pc() { local conf=$1; shift; "$BINDIR/mxdock-policy" -c "$conf" "$@"; }
out=$(Pc "$H/down.conf" authfail check 192.0.2.1 2>"$H/err")
h_eq "check, database down: EX_UNAVAILABLE" "$?" 69
h_has "check, database down: says so" "$(cat "$H/err")" "cannot check 192.0.2.1: database unreachable"
h_has "check, database down: the line is the db_error_action" "$(cat "$H/err")" "authfail_db_error_action = accept"
h_eq "check, database down: prints the milter's decision" "$out" "accept 192.0.2.1"
h_eq "check, wrong password: EX_CONFIG" "$(code Pc "$H/badpw.conf" authfail check 192.0.2.1)" 78
h_has "check, wrong password: says refused" "$(Pc "$H/badpw.conf" authfail check 192.0.2.1 2>&1 >/dev/null)" \
	"database refused the login"
h_eq "list, wrong password: EX_CONFIG" "$(code Pc "$H/badpw.conf" authfail list)" 78
err=$(Pc "$H/badpw.conf" quota show bob@example.org 2>&1 >/dev/null)
h_has "quota show, wrong password: refused, not unreachable" "$err" "refused the login"
h_lacks "wrong password never printed" "$err" "wrong-password"
h_eq "unknown database: EX_CONFIG" "$(code Pc "$H/baddb.conf" authfail list)" 78
h_eq "list, database down: still EX_UNAVAILABLE" "$(code Pc "$H/down.conf" authfail list)" 69

# ---- 16: numbers out of range are refused, never clamped ---------------------
mariadb_db mxdock <"$H_TOP/docs/policy-schema.sql"
db "INSERT INTO accounts (name, quota) VALUES ('bob', 1000);
	INSERT INTO emails (name, address) VALUES ('bob', 'bob@example.org');
	INSERT INTO mailbox_usage VALUES ('bob', 10, NOW());"
for n in 99999999999999999999999 9223372036854775808 -1 1e3 " 5" ""; do
	h_eq "set-usage \"$n\": EX_DATAERR" "$(code P quota set-usage bob@example.org "$n")" 65
done
h_eq "usage untouched by refused counts" "$(db "SELECT used_bytes FROM mailbox_usage WHERE name='bob'")" 10
err=$(P quota set-usage bob@example.org 99999999999999999999999 2>&1 >/dev/null)
h_has "set-usage overflow: says the range" "$err" "bad byte count \"99999999999999999999999\" (0 to 9223372036854775807)"
h_eq "set-usage overflow: one line" "$(printf '%s\n' "$err" | wc -l)" 1
h_eq "set-usage at INT64_MAX accepted" "$(code P quota set-usage bob@example.org 9223372036854775807)" 0
h_eq "stored exactly" "$(db "SELECT used_bytes FROM mailbox_usage WHERE name='bob'")" 9223372036854775807
P quota set-usage bob@example.org 10 >/dev/null
h_eq "quota show --size overflow: EX_DATAERR" "$(code P quota show bob@example.org --size=99999999999999999999999)" 65
h_eq "quota show --size=-1: EX_DATAERR" "$(code P quota show bob@example.org --size=-1)" 65
h_eq "probe: SIZE overflow is an error, not 552" "$(echo 'rcpt bob@example.org 99999999999999999999999' | P probe | cut -c1-6)" "error:"
h_eq "ban --for=5000000w (past 100 years): EX_DATAERR" "$(code P authfail ban 192.0.2.60 --for=5000000w)" 65
h_eq "no ban written for it" "$(db "SELECT COUNT(*) FROM auth_ban WHERE ban='192.0.2.60'")" 0

h_done
