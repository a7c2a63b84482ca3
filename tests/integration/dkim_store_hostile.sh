#!/bin/bash
# dkim_store_hostile - the database key store (dkim_store = mysql) against a
# hostile administrator and a failing MariaDB (tests/lib/mariadb.sh):
#  1. a seal key file missing, empty, a directory, a dangling symlink, 64
#     hex digits plus garbage (same line or next), 0640 with a foreign
#     group; the mysql password file missing: exit 78, one line naming the
#     file, the store (list --json and a table dump) as before;
#  2. MariaDB stopped, frozen, or refusing the login, at keygen, tick,
#     migrate-store, list, dns: one line, 69/75 (down) or 78 (refused),
#     nothing changed; the milter starts with MariaDB down and says so, and
#     refuses to start when the login is refused;
#  3. MariaDB killed during migrate-store of 6 domains: no half domain;
#     rerun after a restart = an uninterrupted run;
#  4. tampered rows (sealed blob truncated / bit-flipped / NULL, pubkey of
#     another key, unknown state, wrong bits, selector with a slash or of
#     200 bytes, domain not normalised): list names each broken domain,
#     lists the good one, exits 65; tick with rotation due rotates the
#     good one, leaves each tampered one as it was, exits 65; the milter signs the good domain,
#     applies dkim_on_key_error (tempfail) to a broken one, never signs with
#     a key whose public half is not the published one;
#  5. no seal key hex, no PEM line in the milter log, mxdock-dkim stderr,
#     ps argv, or MariaDB's general log;
#  5b. key rows left without their dkim_domain row are not brought back
#     by the next keygen;
#  6. migrate-store --to=, --to=foo, no --to, unknown domain, and --to=mysql
#     with dkim_store = mysql (copies dkim_keydir in, as with files).
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/mariadb.sh"
source "$H_TOP/tests/lib/dkimstore.sh"
h_init dkim-store-hostile

D=$BINDIR/mxdock-dkim
T0=1795219200                          # 2026-11-21 00:00 UTC
SEAL=$H/seal.key
PY=/usr/bin/python3
ERR=$H/all-stderr.txt                  # every mxdock-dkim stderr, for 5.

mariadb_start || { h_done; exit 1; }
openssl rand -hex 32 >"$SEAL"
chmod 600 "$SEAL"
mariadb_sql "SET GLOBAL general_log_file = '$H/general.log'; SET GLOBAL general_log = 1;"

# dk CONF ARGS... - mxdock-dkim at T0; stderr also kept in $ERR
dk() {
	local c=$1
	shift
	MXDOCK_NOW=$T0 "$D" -c "$c" "$@" 2> >(tee -a "$ERR" >&2)
}
sql() { mariadb_db "$1" "$2" | tail -n +2; }
# snap DB CONF - list --json and the tables, hex blobs
snap() {
	dk "$2" list --json 2>&1
	mysqldump --no-defaults -S "$MYSQL_SOCKET" -uroot --hex-blob --skip-dump-date \
		--skip-comments --order-by-primary "$1" 2>&1
}
# lines OUT - how many lines OUT has; code_in RC A|B - "yes", or RC
code_in() { case "|$2|" in *"|$1|"*) echo yes ;; *) echo "exit $1" ;; esac; }
lines() { [ -z "$1" ] && echo 0 || printf '%s\n' "$1" | wc -l; }

dkimstore_db h1
dkimstore_mysql_conf "$H/a.conf" mysql h1 "$H/keys-a" 2
for d in one.test two.test; do dk "$H/a.conf" keygen $d >/dev/null; done
for s in mx20261121r mx20261121e; do dk "$H/a.conf" activate one.test $s >/dev/null; done
before=$(snap h1 "$H/a.conf")
h_has "the store to compare holds keys" "$before" '"selector": "mx20261121r"'

# --- 1. the seal key file, the password file -------------------------------
# seal_case NAME EXPECT-IN-MESSAGE: keygen and tick refused, 78, one line
seal_case() {
	local out rc out2 rc2
	out=$(dk "$H/s.conf" keygen new.test 2>&1 >/dev/null)
	rc=$?
	out2=$(dk "$H/s.conf" tick 2>&1 >/dev/null)
	rc2=$?
	h_eq "seal key $1: keygen/tick exit 78, one line each" "$rc $rc2 $(lines "$out") $(lines "$out2")" "78 78 1 1"
	h_has "seal key $1: the message says why" "$out" "$2"
	out=$(dk "$H/s.conf" list 2>&1 >/dev/null)
	rc=$?
	out2=$(dk "$H/s.conf" dns one.test 2>&1 >/dev/null)
	h_eq "seal key $1: list/dns exit 78, one line each" "$rc $? $(lines "$out") $(lines "$out2")" "78 78 1 1"
}
K=$H/sk
sed "s#^dkim_store_seal_key_file = .*#dkim_store_seal_key_file = $K#" "$H/a.conf" >"$H/s.conf"
rm -rf "$K"
seal_case missing "cannot read $K: No such file"
: >"$K"; chmod 600 "$K"
seal_case empty "$K is empty"
rm -f "$K"; mkdir -m 700 "$K"
seal_case "a directory" "$K"
rmdir "$K"; ln -s "$H/nowhere" "$K"
seal_case "a dangling symlink" "cannot read $K: No such file"
rm -f "$K"
{ cat "$SEAL" | tr -d '\n'; echo garbage; } >"$K"; chmod 600 "$K"
seal_case "64 hex + garbage" "$K: want 64 hex digits"
{ cat "$SEAL"; echo garbage; } >"$K"
seal_case "64 hex, a newline, garbage" "$K: want 64 hex digits"
cp "$SEAL" "$K"; chmod 640 "$K"; chgrp nogroup "$K"
seal_case "0640 with a foreign group" "$K has mode 0640"
rm -f "$K"; ln -s "$SEAL" "$K"
out=$(dk "$H/s.conf" list two.test 2>&1)
h_eq "seal key a symlink to a good file: works (secret mounts are links)" "$?" 0
rm -f "$K"
sed "s#^mysql_password_file = .*#mysql_password_file = $H/nopw#" "$H/a.conf" >"$H/pw.conf"
for v in "keygen new.test" tick "list" "dns one.test"; do
	out=$(dk "$H/pw.conf" $v 2>&1 >/dev/null)
	h_eq "mysql password file missing: $v: 78, one line naming it" \
		"$? $(lines "$out") $(grep -c "$H/nopw" <<<"$out")" "78 1 1"
done
h_eq "after the refusals of 1. the store is as it was" "$(snap h1 "$H/a.conf")" "$before"

# --- 2. MariaDB down, frozen, refusing ---------------------------------------
dkimstore_mysql_conf "$H/f.conf" files h1 "$H/keys-f" 2
dk "$H/f.conf" keygen fil.test >/dev/null
# db_case HOW WANT: each verb exits WANT (a|b), one line on stderr
db_case() {
	local v out rc
	for v in "keygen new.test" "tick" "migrate-store --to=files" "list" "list one.test" \
		"dns one.test" "rotate one.test"; do
		out=$(timeout 30 "$D" -c "$H/a.conf" $v 2>&1 >/dev/null)
		rc=$?
		h_eq "MariaDB $1: $v: exit $2, one line" "$(code_in $rc "$2") $(lines "$out")" "yes 1"
	done
	out=$(timeout 30 "$D" -c "$H/f.conf" migrate-store --to=mysql fil.test 2>&1 >/dev/null)
	rc=$?
	h_eq "MariaDB $1: migrate-store --to=mysql: exit $2, one line" "$(code_in $rc "$2") $(lines "$out")" "yes 1"
	echo "$out" >>"$ERR"
}
mariadb_stop
db_case stopped "69|75"
dkimstore_mysql_conf "$H/m.conf" mysql h1 "$H/keys-m" 2
sed -i '/^milter_socket/d' "$H/m.conf"
cat >>"$H/m.conf" <<CONF
milter_socket = inet:$(h_port)@127.0.0.1
milter_internal_hosts = 127.0.0.1/32
dkim_on_key_error = tempfail
dkim_store_poll = 1s
CONF
milter_try() {
	MILTER_LOG=$H/milter.log
	"$BINDIR/mxdock-milter" -f --allow-root -c "$H/m.conf" >>"$MILTER_LOG" 2>&1 &
	MILTER_PID=$!
	disown "$MILTER_PID"
	h_track $MILTER_PID
	MILTER_PORT=$(sed -n 's/^milter_socket *= *inet:\([0-9]*\)@.*/\1/p' "$H/m.conf")
	h_wait "milter listens or exits" 20 sh -c "! kill -0 $MILTER_PID 2>/dev/null ||
		bash -c 'exec 3<>/dev/tcp/127.0.0.1/$MILTER_PORT' 2>/dev/null"
}
milter_stop() {
	kill "$MILTER_PID" 2>/dev/null
	h_wait "the milter stopped" 20 sh -c "! kill -0 $MILTER_PID 2>/dev/null"
}
msg() {
	$PY "$H_TOP/tests/integration/milter_msg.py" "127.0.0.1:$MILTER_PORT" --timeout 20 \
		--mailfrom "alice@$1" --header "From: Alice <alice@$1>" --header "Subject: hi" 2>&1
}
milter_try
out=$(msg one.test)
h_has "MariaDB down at milter start: it runs, one.test gets dkim_on_key_error (451)" "$out" \
	"reply 451 4.3.0"
mariadb_restart
sleep 1.2
out=$(msg one.test)
h_has "MariaDB back: the milter signs one.test" "$out" "header DKIM-Signature"
milter_stop
mariadb_freeze
db_case frozen "69|75"
milter_try
out=$(msg one.test)
h_has "MariaDB frozen at milter start: it runs, one.test gets dkim_on_key_error (451)" "$out" \
	"reply 451 4.3.0"
# four messages of four new domains at once: the pool's failed open is
# remembered for dkim_store_poll, so they do not wait mysql_timeout (2 s)
# one after the other (8 s for the last) but at most about once
pids=""
for d in 1 2 3 4; do
	(t0=$(date +%s%N); o=$(msg "new$d.test"); echo "$(( ($(date +%s%N) - t0) / 1000000 )) $(grep -c 'reply 451 4.3.0' <<<"$o")") >"$H/new$d.out" &
	pids="$pids $!"
done
wait $pids
h_eq "four new domains at once, MariaDB frozen: each 451" "$(awk '{ s += $2 } END { print s }' "$H"/new?.out)" 4
slow=$(awk '{ print $1 }' "$H"/new?.out | sort -n | tail -1)
h_ok_if() { if [ "$1" -le "$2" ]; then h_ok "$3 ($1 ms)"; else h_fail "$3" "$1 ms" "<= $2 ms"; fi; }
h_ok_if "$slow" 5000 "the slowest answered within mysql_timeout + 3 s, not once per domain"
kill -CONT "$MYSQL_PID"
milter_stop
mariadb_sql "REVOKE ALL ON h1.* FROM 'mxdock'@'127.0.0.1'; REVOKE ALL ON h1.* FROM 'mxdock'@'localhost';"
db_case "denying access" "78"
: >"$H/milter.log"
milter_try
h_eq "access denied at milter start: it stops, saying so" \
	"$(kill -0 "$MILTER_PID" 2>/dev/null && echo running || echo stopped) $(grep -q denied "$H/milter.log" && echo said)" "stopped said"
milter_stop
mariadb_sql "GRANT ALL ON h1.* TO 'mxdock'@'127.0.0.1'; GRANT ALL ON h1.* TO 'mxdock'@'localhost';"
h_eq "after the outages of 2. the store is as it was" "$(snap h1 "$H/a.conf")" "$before"

# --- 3. MariaDB killed during migrate-store ----------------------------------
dkimstore_mysql_conf "$H/src.conf" files k1 "$H/keys-src" 2
dkimstore_db k1
dkimstore_db k2
for i in 1 2 3 4 5 6; do dk "$H/src.conf" keygen m$i.test >/dev/null; done
dkimstore_mysql_conf "$H/src2.conf" files k2 "$H/keys-src" 2
dk "$H/src2.conf" migrate-store --to=mysql >/dev/null
dkimstore_mysql_conf "$H/k2.conf" mysql k2 "$H/none" 2
want=$(dk "$H/k2.conf" list --json)
dkimstore_mysql_conf "$H/k1.conf" mysql k1 "$H/none" 2
dk "$H/k1.conf" list >/dev/null 2>&1            # the tables
# another session holds m3.test's row: the run stops there, m1 and m2 done
mariadb_db k1 "START TRANSACTION; INSERT INTO dkim_domain VALUES ('m3.test', 0, 0);
	SELECT SLEEP(30);" >/dev/null 2>&1 &
h_wait "the row of m3.test held" 10 sh -c "[ \"\$(mariadb --no-defaults -S $MYSQL_SOCKET -uroot -N -e \"SELECT COUNT(*) FROM information_schema.innodb_trx\")\" -ge 1 ]"
dk "$H/src.conf" migrate-store --to=mysql >"$H/mig1.out" 2>&1 &
mp=$!
h_wait "m1.test and m2.test copied" 20 sh -c "[ \"\$(mariadb --no-defaults -S $MYSQL_SOCKET -uroot -N k1 -e \"SELECT COUNT(*) FROM dkim_domain WHERE version > 0\")\" -ge 2 ]"
sleep 0.3
mariadb_kill
wait $mp
h_eq "migrate-store with MariaDB killed: exits 69 or 75" "$(code_in $? "69|75")" yes
mariadb_restart
half=$(sql k1 "SELECT d.domain FROM dkim_domain d LEFT JOIN dkim_key k USING (domain)
	WHERE k.domain IS NULL UNION SELECT domain FROM dkim_key WHERE LENGTH(sealed) < 30
	UNION SELECT domain FROM dkim_key GROUP BY domain HAVING COUNT(*) <> 2")
h_eq "after the kill: no half domain, m1 and m2 copied" "$half|$(sql k1 'SELECT COUNT(*) FROM dkim_domain')" "|2"
dk "$H/src.conf" migrate-store --to=mysql >"$H/mig2.out" 2>&1
h_eq "rerun after the restart: exit 0, m1 and m2 skipped as the same" "$?|$(grep -c 'the same; skipped' "$H/mig2.out")" "0|2"
h_eq "rerun: the same list --json as an uninterrupted run" "$(dk "$H/k1.conf" list --json)" "$want"

# --- 4. tampered rows ---------------------------------------------------------
dkimstore_db t
dkimstore_mysql_conf "$H/t.conf" mysql t "$H/none" 2
TAMPER="trunc flip null pub state bits slash long upper"
for d in good $TAMPER; do dk "$H/t.conf" keygen $d.test >/dev/null; done
for d in good $TAMPER; do
	for s in mx20261121r mx20261121e; do dk "$H/t.conf" activate $d.test $s >/dev/null; done
done
R="selector = 'mx20261121r'"
mariadb_db t "ALTER TABLE dkim_key MODIFY sealed BLOB NULL, MODIFY selector VARCHAR(255) NOT NULL;
UPDATE dkim_key SET sealed = LEFT(sealed, 20) WHERE domain = 'trunc.test' AND $R;
UPDATE dkim_key SET sealed = CONCAT(LEFT(sealed, 40), CHAR(ASCII(SUBSTR(sealed, 41, 1)) ^ 1),
	SUBSTR(sealed, 42)) WHERE domain = 'flip.test' AND $R;
UPDATE dkim_key SET sealed = NULL WHERE domain = 'null.test' AND $R;
UPDATE dkim_key a JOIN dkim_key b ON b.domain = 'good.test' AND b.$R
	SET a.pubkey = b.pubkey WHERE a.domain = 'pub.test' AND a.$R;
UPDATE dkim_key SET state = 'frobbed' WHERE domain = 'state.test' AND $R;
UPDATE dkim_key SET bits = 4096 WHERE domain = 'bits.test' AND $R;
UPDATE dkim_key SET selector = 'mx/../r' WHERE domain = 'slash.test' AND $R;
UPDATE dkim_key SET selector = REPEAT('s', 200) WHERE domain = 'long.test' AND $R;
UPDATE dkim_domain SET domain = 'UPPER.Test' WHERE domain = 'upper.test';
UPDATE dkim_key SET domain = 'UPPER.Test' WHERE domain = 'upper.test';"
out=$(dk "$H/t.conf" list --json 2>"$H/list.err")
rc=$?
h_eq "tampered rows: list exits 65" "$rc" 65
h_has "tampered rows: list still lists the good domain" "$out" '"domain": "good.test"'
missed=""
for d in $TAMPER; do
	n=$d.test
	[ $d = upper ] && n=UPPER.Test
	grep -q "^mxdock-dkim: $n: " "$H/list.err" || missed="$missed $n"
done
h_eq "tampered rows: list names each broken domain on stderr" "$missed" ""
h_eq "tampered rows: one stderr line per broken domain" "$(wc -l <"$H/list.err")" 9
h_has "tampered rows: a NULL blob is called NULL (not the last row's bytes)" \
	"$(cat "$H/list.err")" "null.test/mx20261121r has a NULL sealed key"
out=$(dk "$H/t.conf" dns pub.test 2>&1)
h_eq "tampered pubkey: dns refuses to publish it (65)" "$?" 65
sed -e "s/^mysql_database = .*/mysql_database = t/" "$H/m.conf" >"$H/mt.conf"
sed -i "s/^milter_socket = .*/milter_socket = inet:$(h_port)@127.0.0.1/" "$H/mt.conf"
cp "$H/mt.conf" "$H/m.conf"
: >"$H/milter.log"
milter_try
out=$(msg good.test)
h_eq "milter on tampered rows: the good domain is signed twice" \
	"$(grep -c 'header DKIM-Signature' <<<"$out")" 2
bad=""
for d in ${TAMPER% upper}; do
	out=$(msg $d.test)
	case $out in *"reply 451 4.3.0"*) ;; *) bad="$bad $d:$(grep -o 's=[a-z0-9]*' <<<"$out" | tr '\n' ,)" ;; esac
done
h_eq "milter: each tampered domain gets dkim_on_key_error (451), no signature" "$bad" ""
# UPPER.Test's rows answer upper.test (the column compares without case),
# and their keys were sealed for upper.test: they are its keys
h_eq "milter: the domain renamed UPPER.Test still signs upper.test" \
	"$(msg upper.test | grep -c 'header DKIM-Signature')" 2
h_has "milter still running" "$(kill -0 "$MILTER_PID" && echo up)" up
h_has "milter log names the pubkey mismatch" "$(cat "$H/milter.log")" "pub.test/mx20261121r"

rows() { sql t "SELECT domain, selector, state, changed, HEX(sealed), pubkey, bits FROM dkim_key
	WHERE domain <> 'good.test' ORDER BY 1, 2" | md5sum; }
tb=$(rows)
out=$(MXDOCK_NOW=$((T0 + 100 * 86400)) "$D" -c "$H/t.conf" tick 2>"$H/tick.err")
rc=$?
h_eq "tick with rotation due on tampered rows: exit 65, one line per broken domain" \
	"$rc $(wc -l <"$H/tick.err")" "65 9"
h_has "tick: the good domain is rotated" "$out" "good.test: mx20270301r (rsa) new pending key (rotation)"
h_eq "tick: the tampered domains' rows as they were" "$(rows)" "$tb"

# --- 5. secrets -----------------------------------------------------------------
ps -eo args >"$H/ps.txt"
dk "$H/t.conf" migrate-store --to=files good.test >/dev/null 2>&1
hex=$(cat "$SEAL")
leaks=""
looked=0
for f in "$H/milter.log" "$ERR" "$H/ps.txt" "$H/general.log" "$SEAL"; do
	grep -qi "$hex" "$f" && leaks="$leaks $f:seal"
	for pem in "$H"/none/good.test/*.pem "$H"/keys-src/m1.test/*.pem; do
		while read -r l; do
			[ ${#l} -ge 40 ] && looked=$((looked + 1)) && grep -qF "$l" "$f" && leaks="$leaks $f:pem"
		done < <(grep -v -- ----- "$pem")
	done
done
# the seal key file itself is the positive control: it must be found
h_eq "the searches can hit (the seal key file), $looked PEM lines looked for" \
	"${leaks##* } $((looked > 40))" "$SEAL:seal 1"
leaks=${leaks% *}
h_has "the general log holds the sealed rows (it is on)" "$(cat "$H/general.log")" "INSERT INTO dkim_key"
h_eq "no seal key hex, no PEM line in logs, stderr, argv, general log" "$leaks" ""

# --- 5b. key rows whose domain row was deleted: not the domain's keys ------
mariadb_db h1 "DELETE FROM dkim_domain WHERE domain = 'two.test'"
out=$(dk "$H/a.conf" list 2>&1)
h_lacks "domain row deleted: list no longer shows two.test" "$out" "two.test"
dk "$H/a.conf" keygen two.test >/dev/null 2>&1
h_eq "keygen after: two keys, not the stray rows brought back" \
	"$(dk "$H/a.conf" list two.test | tail -n +2 | wc -l) $(sql h1 "SELECT COUNT(*) FROM dkim_key WHERE domain = 'two.test'")" "2 2"

# --- 6. migrate-store options ----------------------------------------------------
for v in --to= --to=foo ""; do
	out=$("$D" -c "$H/a.conf" migrate-store $v 2>&1)
	h_eq "migrate-store ${v:-without --to}: 64, one line" "$? $(lines "$out")" "64 1"
done
out=$(dk "$H/f.conf" migrate-store --to=mysql nosuch.test 2>&1)
h_eq "migrate-store of an unknown domain: 66 naming it" "$?|$out" \
	"66|mxdock-dkim: nosuch.test: nosuch.test has no keys in the files store"
dkimstore_mysql_conf "$H/same.conf" mysql h1 "$H/keys-f" 2
out=$(dk "$H/same.conf" migrate-store --to=mysql 2>&1)
h_eq "--to=mysql with dkim_store = mysql: copies dkim_keydir in" "$?|$out" \
	"0|fil.test: copied into the mysql store"
h_done
