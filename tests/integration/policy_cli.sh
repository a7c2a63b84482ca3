#!/bin/bash
# policy_cli.sh - mxdock-policy against a real MariaDB: init-db, quota
# decisions, the auth-attempt policy, SQL injection, exit codes.
source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/mariadb.sh"
h_init policy_cli
mariadb_start || { h_done; exit 1; }

CONF=$H/mxdock.conf
cat >"$CONF" <<CONF
quota_enable = yes
authfail_enable = yes
quota_warn_percent = 90
CONF
mariadb_conf "$CONF"
P() { "$BINDIR/mxdock-policy" -c "$CONF" "$@"; }
db() { mariadb_db mxdock "$1" | tail -n +2; }

# ---- init-db: creates, then changes nothing ----------------------------------
out=$(P init-db 2>&1)
h_eq "init-db exit" "$?" 0
h_has "init-db creates" "$out" "created to version 3"
out=$(P init-db 2>&1)
h_has "init-db twice is a no-op" "$out" "up to date (version 3)"
h_eq "init-db tables" "$(db "SHOW TABLES" | sort | tr '\n' ' ')" \
	"auth_attempt auth_ban dmarc_failure_sent dmarc_message dmarc_policy dmarc_report_sent mailbox_usage mxdock_schema "

# ---- quota --------------------------------------------------------------------
mariadb_db mxdock <"$H_TOP/docs/policy-schema.sql"
db "INSERT INTO accounts (name, type, quota) VALUES ('bob', 'individual', 1000),
	('full', 'individual', 1000), ('big', 'individual', 0), ('catch', 'individual', 100),
	('off', 'individual', 10);
	UPDATE accounts SET active = 0 WHERE name = 'off';
	INSERT INTO emails (name, address, type) VALUES ('bob', 'bob@example.org', 'primary'),
	('bob', 'robert@example.org', 'alias'), ('full', 'full@example.org', 'primary'),
	('big', 'big@example.org', 'primary'), ('catch', '@catch.example', 'primary'),
	('full', 'team@example.org', 'list'), ('off', 'off@example.org', 'primary');
	INSERT INTO mailbox_usage VALUES ('bob', 500, NOW()), ('full', 1000, NOW()),
	('big', 99999999, NOW()), ('catch', 100, NOW()), ('off', 10, NOW());"

check_quota() {   # name address size want
	local got
	got=$(P quota show "$2" --size="$3" 2>&1 | grep '^decision\|^lookup: no row')
	h_has "$1" "$got" "$4"
}
check_quota "under quota" bob@example.org 0 "decision: accept"
check_quota "+detail and case" '<Bob+Lists@EXAMPLE.org>' 0 "decision: accept"
check_quota "alias shares the account" robert@example.org 0 "decision: accept"
check_quota "full mailbox" full@example.org 0 "tempfail 452 4.2.2 <full@example.org>: mailbox full"
check_quota "SIZE= would exceed" bob@example.org 501 "tempfail 452 4.2.2 <bob@example.org>: mailbox full"
check_quota "SIZE= fits exactly" bob@example.org 500 "decision: accept"
check_quota "SIZE= over the whole quota" bob@example.org 1001 "reject 552 5.2.3"
check_quota "0 quota is unlimited" big@example.org 100000 "decision: accept"
check_quota "catch-all row" anyone@catch.example 0 "tempfail 452 4.2.2"
check_quota "no row, no decision" someone@elsewhere.example 0 "lookup: no row"
check_quota "list address has no quota" team@example.org 0 "lookup: no row"
check_quota "inactive account" off@example.org 0 "lookup: no row"
out=$(P quota show bob@example.org --json)
h_eq "quota show --json" "$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["found"], d["quota"], d["used"], d["action"])')" \
	"True 1000 500 accept"

out=$(P quota set-usage Bob@Example.org 950 2>&1)
h_eq "set-usage exit" "$?" 0
h_eq "set-usage wrote" "$(db "SELECT used_bytes FROM mailbox_usage WHERE name='bob'")" 950
check_quota "warning above quota_warn_percent" bob@example.org 0 "accept; warning: <bob@example.org> is at 95% of its mailbox quota"

# the cache: a usage change is seen after quota_cache_ttl, not before
{ cat "$CONF"; echo "quota_cache_ttl = 2s"; } >"$H/cache.conf"
out=$({ echo "rcpt bob@example.org"; sleep 0.3
	db "UPDATE mailbox_usage SET used_bytes = 1000 WHERE name = 'bob'" >/dev/null
	echo "rcpt bob@example.org"; sleep 2.2; echo "rcpt bob@example.org"
	} | "$BINDIR/mxdock-policy" -c "$H/cache.conf" probe | tr '\n' '|')
h_eq "cache: old answer within the ttl, new one after" "$out" \
	"accept warning: <bob@example.org> is at 95% of its mailbox quota|accept warning: <bob@example.org> is at 95% of its mailbox quota|tempfail 452 4.2.2 <bob@example.org>: mailbox full|"
db "UPDATE mailbox_usage SET used_bytes = 950 WHERE name = 'bob'"

# ---- SQL injection is data ---------------------------------------------------
evil="'; DROP TABLE accounts; --@x"
out=$(P quota show "$evil" 2>&1)
h_eq "injection in quota show: exit" "$?" 0
h_has "injection in quota show: answered normally" "$out" "lookup: no row"
P quota set-usage "x' OR '1'='1@example.org" 5 >/dev/null 2>&1
h_eq "injection in set-usage: no account" "$?" 65
P authfail record "1.2.3.4'; DROP TABLE auth_ban; --" >/dev/null 2>&1
h_eq "injection in authfail record: EX_DATAERR" "$?" 65
h_eq "tables intact" "$(db "SELECT COUNT(*) FROM accounts"),$(db "SHOW TABLES LIKE 'auth_ban'")" "5,auth_ban"
h_eq "usage untouched" "$(db "SELECT SUM(used_bytes) FROM mailbox_usage")" 100002059

# ---- auth-attempt policy ------------------------------------------------------
for i in $(seq 9); do P authfail record 192.0.2.7 --principal=bob --protocol=smtp; done
h_eq "9 failures: accepted" "$(P authfail check 192.0.2.7)" "accept 192.0.2.7"
P authfail record 192.0.2.7 --principal=bob
h_eq "10 failures: 421" "$(P authfail check 192.0.2.7)" \
	"tempfail 421 4.7.0 too many failed authentication attempts"
h_eq "another IP accepted" "$(P authfail check 192.0.2.8)" "accept 192.0.2.8"
h_eq "IPv4-mapped form refused too" "$(P authfail check '::ffff:192.0.2.7')" \
	"tempfail 421 4.7.0 too many failed authentication attempts"
out=$(P authfail list --json)
h_eq "list --json" "$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["bans"][0]["ban"], d["bans"][0]["active"], d["bans"][0]["count"], d["failures"][0]["ip"], d["failures"][0]["count"])')" \
	"192.0.2.7 True 1 192.0.2.7 10"
h_has "list text" "$(P authfail list --ip=192.0.2.7)" "ban 192.0.2.7 until"
h_has "unban" "$(P authfail unban 192.0.2.7)" "unbanned 192.0.2.7"
h_eq "after unban: accepted" "$(P authfail check 192.0.2.7)" "accept 192.0.2.7"
h_eq "unban forgot the failures" "$(db "SELECT COUNT(*) FROM auth_attempt WHERE ip='192.0.2.7'")" 0

for i in $(seq 12); do P authfail record 127.0.0.1; done
h_eq "exempt loopback never refused" "$(P authfail check 127.0.0.1)" "accept 127.0.0.1"
h_eq "exempt in IPv4-mapped form too" "$(P authfail check '[::ffff:127.0.0.1]')" "accept 127.0.0.1"

P authfail ban 198.51.100.0/24 --for=1h >/dev/null
h_eq "CIDR ban covers an address" "$(P authfail check 198.51.100.77)" \
	"tempfail 421 4.7.0 too many failed authentication attempts"
h_eq "CIDR ban: outside accepted" "$(P authfail check 198.51.101.1)" "accept 198.51.101.1"
P authfail ban 2001:db8::/32 --for=1d >/dev/null
h_eq "IPv6 CIDR ban" "$(P authfail check 2001:db8::5)" \
	"tempfail 421 4.7.0 too many failed authentication attempts"
P authfail unban 198.51.100.0/24 >/dev/null
h_eq "CIDR unban" "$(P authfail check 198.51.100.77)" "accept 198.51.100.77"

# window bans expire after authfail_ban_time (1h); a repeat lasts factor (2) times longer
T=2000000000
for i in $(seq 10); do MXDOCK_NOW=$T P authfail record 203.0.113.9; done
h_eq "window ban at T" "$(MXDOCK_NOW=$T P authfail check 203.0.113.9 | cut -c1-12)" "tempfail 421"
h_eq "first ban lasts 1h" "$(db "SELECT UNIX_TIMESTAMP(until) - $T FROM auth_ban WHERE ban='203.0.113.9'")" 3600
h_eq "still banned at T+3599" "$(MXDOCK_NOW=$((T + 3599)) P authfail check 203.0.113.9 | cut -c1-12)" "tempfail 421"
h_eq "expired at T+3601, old failures consumed" "$(MXDOCK_NOW=$((T + 3601)) P authfail check 203.0.113.9)" "accept 203.0.113.9"
for i in $(seq 10); do MXDOCK_NOW=$((T + 4000)) P authfail record 203.0.113.9; done
MXDOCK_NOW=$((T + 4000)) P authfail check 203.0.113.9 >/dev/null
h_eq "second ban lasts 2h" "$(db "SELECT UNIX_TIMESTAMP(until) - $T - 4000, count FROM auth_ban WHERE ban='203.0.113.9'" | tr '\t' ' ')" "7200 2"

# prune: attempts older than the window, bans that ended before --keep-bans
before=$(db "SELECT COUNT(*) FROM auth_attempt WHERE ip='203.0.113.9'")
MXDOCK_NOW=$((T + 7000)) P authfail record 203.0.113.10
out=$(MXDOCK_NOW=$((T + 4000 + 3601)) P authfail prune --keep-bans=1h)
h_has "prune says what it did" "$out" "pruned"
h_eq "prune: old attempts gone, recent kept" "$before,$(db "SELECT COUNT(*) FROM auth_attempt WHERE ip='203.0.113.9'"),$(db "SELECT COUNT(*) FROM auth_attempt WHERE ip='203.0.113.10'")" "20,0,1"
h_eq "prune: live ban kept" "$(db "SELECT COUNT(*) FROM auth_ban WHERE ban='203.0.113.9'")" 1

# ---- bad input and exit codes -------------------------------------------------
code() { "$@" >/dev/null 2>&1; echo $?; }
h_eq "unknown verb: EX_USAGE" "$(code P frobnicate)" 64
h_eq "unknown option: EX_USAGE" "$(code P authfail list --bogus)" 64
h_eq "bad IP: EX_DATAERR" "$(code P authfail record 999.1.1.1)" 65
h_eq "bad address: EX_DATAERR" "$(code P quota show no-at-sign)" 65
h_eq "bad duration: EX_DATAERR" "$(code P authfail ban 192.0.2.1 --for=soon)" 65
h_eq "missing config: EX_CONFIG" "$(code "$BINDIR/mxdock-policy" -c "$H/none.conf" init-db)" 78
err=$("$BINDIR/mxdock-policy" -c "$H/none.conf" init-db 2>&1 >/dev/null)
h_eq "one-line message" "$(printf '%s\n' "$err" | wc -l)" 1
sed "s/^mysql_port = .*/mysql_port = $(h_port)/" "$CONF" >"$H/down.conf"
{ cat "$CONF"; echo "quota_query = SELECT quota FROM accounts WHERE name = ?"; } >"$H/badq.conf"
h_eq "quota_query with one column: EX_CONFIG" "$(code "$BINDIR/mxdock-policy" -c "$H/badq.conf" quota show bob@example.org)" 78
h_has "quota_query with one column: says why" "$("$BINDIR/mxdock-policy" -c "$H/badq.conf" quota show bob@example.org 2>&1)" "returns 1 column(s), want 2"
h_eq "database down: EX_UNAVAILABLE" "$(code "$BINDIR/mxdock-policy" -c "$H/down.conf" authfail list)" 69
err=$("$BINDIR/mxdock-policy" -c "$H/down.conf" quota show a@b.example 2>&1)
h_has "database down: says so" "$err" "database unreachable"
h_lacks "password never printed" "$err" "$(cat "$MYSQL_PASSWORD_FILE")"
h_done
