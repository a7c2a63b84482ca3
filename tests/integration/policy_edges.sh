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

h_done
