#!/bin/bash
# dkim_store_mysql - DKIM keys in the database (dkim_store = mysql, issue
# 19), on a real MariaDB (tests/lib/mariadb.sh):
#  1. keygen, activate, retire, rotate, tick and import give the same
#     `list --json` on the mysql store as on a files store;
#  2. the database holds no private key: mysqldump has no "PRIVATE KEY" and
#     none of the key's DER bytes; a sealed blob opens with Python's
#     cryptography (AES-256-GCM, AAD "mxdock-dkim-seal 1\0DOMAIN\0SELECTOR")
#     to the very PEM the files store holds;
#  3. a sealed key copied to another selector's row does not open (clear
#     error, nothing written); a seal key file with another key, or mode
#     0644, or not 64 hex digits: exit 78 naming the file, nothing changed;
#  4. two hosts (two configurations) running `tick` at the same moment, 20
#     rounds with the domain due for rotation: exactly one new pending key
#     per algorithm each round;
#  5. migrate-store files -> mysql -> files: the same PEM files and state
#     lines; a domain already there with other keys is refused (65);
#  6. a milter (Postfix, PowerDNS) on the mysql store signs (dkimpy
#     verifies); after activate on the other host it signs with the new key
#     within dkim_store_poll (1 s) without a reload; with MariaDB frozen it
#     still signs with the keys it has, and a domain it never loaded gets
#     dkim_on_key_error (tempfail here); one without keys is accepted
#     again once MariaDB answers (not left broken at version 0).
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/mariadb.sh"
source "$H_TOP/tests/lib/dkimstore.sh"
source "$H_TOP/tests/lib/pdns.sh"
source "$H_TOP/tests/lib/postfix.sh"
h_init dkim-store-mysql

D=$BINDIR/mxdock-dkim
T0=1795219200                          # 2026-11-21 00:00 UTC
T1=$((T0 + 10 * 86400))
T2=$((T0 + 20 * 86400))
SEAL=$H/seal.key
PY=/usr/bin/python3

mariadb_start || { h_done; exit 1; }
openssl rand -hex 32 >"$SEAL"
chmod 600 "$SEAL"

# dk CONF [NOW] ARGS... - mxdock-dkim with the fake clock
dk() { local c=$1 now=$2; shift 2; MXDOCK_NOW=$now "$D" -c "$c" "$@"; }
sql() { mariadb_db "$1" "$2" | tail -n +2; }

# --- 1. the same lifecycle on both stores ------------------------------------
dkimstore_db m1
dkimstore_mysql_conf "$H/files.conf" files m1 "$H/files" 3
dkimstore_mysql_conf "$H/a.conf" mysql m1 "$H/unused-a" 3
mkdir -p "$H/od"
opendkim-genkey --directory="$H/od" --domain=imp.test --selector=mail2019 --bits=1024
echo "k1 imp.test:mail2019:$H/od/mail2019.private" >"$H/od/KeyTable"
echo "*@imp.test k1" >"$H/od/SigningTable"
for c in files a; do
	C=$H/$c.conf
	{
		dk "$C" $T0 keygen life.test
		dk "$C" $T0 activate life.test mx20261121r
		dk "$C" $T0 activate life.test mx20261121e
		dk "$C" $T1 rotate life.test
		dk "$C" $T1 retire life.test mx20261121e
		dk "$C" $T1 keygen two.test --algorithm=rsa
		dk "$C" $T2 tick
		dk "$C" $T2 import "$H/od/KeyTable" "$H/od/SigningTable"
	} >"$H/$c.out" 2>&1
	echo "rc=$?" >>"$H/$c.out"
	dk "$C" $T2 list --json >"$H/$c.json" 2>&1
	dk "$C" $T2 dns imp.test --json >"$H/$c.dns" 2>&1
done
h_eq "the lifecycle runs on the mysql store" "$(tail -1 "$H/a.out")" "rc=0"
h_has "mysql: a key retired by tick" "$(cat "$H/a.json")" '"state": "retired"'
h_eq "list --json: mysql store = files store" "$(cat "$H/a.json")" "$(cat "$H/files.json")"
h_eq "lifecycle output: mysql store = files store" "$(cat "$H/a.out")" "$(cat "$H/files.out")"
h_eq "imported key: the same TXT from both stores" "$(cat "$H/a.dns")" "$(cat "$H/files.dns")"
h_has "imported key: the p= of opendkim-genkey" "$(cat "$H/a.dns")" \
	"$(tr -d '\n\t" ' <"$H/od/mail2019.txt" | sed 's/.*p=\([A-Za-z0-9+/=]*\).*/\1/' | cut -c1-60)"

# --- 2. no private key in the database ----------------------------------------
mysqldump --no-defaults -S "$MYSQL_SOCKET" -uroot m1 >"$H/dump.sql" 2>&1
mysqldump --no-defaults -S "$MYSQL_SOCKET" -uroot --hex-blob m1 >"$H/dump-hex.sql" 2>&1
h_has "mysqldump holds the key rows" "$(cat "$H/dump.sql")" "mail2019"
# a dump without the key rows would pass the checks below by itself
grep -q "mail2019" "$H/dump.sql" || : >"$H/dump.sql"
h_lacks "mysqldump: no PRIVATE KEY" "$(cat "$H/dump.sql")" "PRIVATE KEY"
leak=""
while read -r line; do
	grep -qF "$line" "$H/dump.sql" && leak="$leak $line"
done < <(grep -v -- ----- "$H/files/imp.test/mail2019.pem")
[ -s "$H/dump.sql" ] || leak="no key rows dumped"
h_eq "mysqldump: none of the PEM's base64 lines" "$leak" ""
openssl pkey -in "$H/files/imp.test/mail2019.pem" -outform DER >"$H/key.der"
# 16-byte windows of the private half of the DER (the modulus and public
# exponent come first), looked for raw and in hex
leak=$($PY - "$H/key.der" "$H/dump.sql" "$H/dump-hex.sql" <<'PY'
import sys
der, raw, hexd = (open(f, 'rb').read() for f in sys.argv[1:4])
for off in range(200, len(der) - 16, 100):
    w = der[off:off + 16]
    if w in raw or w.hex().upper().encode() in hexd.upper():
        print(off, end=' ')
PY
)
[ -s "$H/dump.sql" ] && [ -s "$H/key.der" ] || leak="no key rows dumped"
h_eq "mysqldump: none of the private key's DER bytes (hex or raw)" "$leak" ""
sql m1 "SELECT HEX(sealed) FROM dkim_key WHERE domain='imp.test' AND selector='mail2019'" >"$H/blob.hex"
out=$($PY - "$SEAL" "$H/blob.hex" <<'PY' 2>&1
import sys
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
key = bytes.fromhex(open(sys.argv[1]).read().strip())
b = bytes.fromhex(open(sys.argv[2]).read().strip())
assert b[0] == 1, "version byte"
aad = b"mxdock-dkim-seal 1\0imp.test\0mail2019"
sys.stdout.write(AESGCM(key).decrypt(b[1:13], b[13:], aad).decode())
PY
)
h_eq "the sealed blob opens with Python's AES-GCM to the files store's PEM" "$out" \
	"$(cat "$H/files/imp.test/mail2019.pem")"

# --- 3. a copied row, a wrong or loose seal key file --------------------------
dk "$H/a.conf" $T0 keygen swap.test >/dev/null 2>&1
mariadb_db m1 "UPDATE dkim_key a JOIN dkim_key b ON b.domain = a.domain AND b.alg = 'ed25519'
	SET a.sealed = b.sealed WHERE a.domain = 'swap.test' AND a.alg = 'rsa'"
dkimstore_mysql_conf "$H/back.conf" files m1 "$H/back" 3
out=$(dk "$H/back.conf" $T0 migrate-store --to=files swap.test 2>&1)
h_eq "copied sealed row: migrate-store exits 73" "$?" 73
h_has "copied sealed row: says it does not open" "$out" \
	"the sealed key of swap.test/mx20261121r does not open"
h_eq "copied sealed row: nothing written (of its 2 rows)" \
	"$(ls "$H/back/swap.test" 2>/dev/null | wc -l) $(sql m1 "SELECT COUNT(*) FROM dkim_key WHERE domain = 'swap.test'")" "0 2"
sum() { sql m1 "CHECKSUM TABLE dkim_key, dkim_domain" | tr '\n' ' '; }
before=$(sum)
openssl rand -hex 32 >"$H/other.key"
chmod 600 "$H/other.key"
sed "s#^dkim_store_seal_key_file = .*#dkim_store_seal_key_file = $H/other.key#" "$H/a.conf" >"$H/wrong.conf"
out=$(dk "$H/wrong.conf" $T1 rotate life.test 2>&1)
h_eq "another seal key: exit 78, naming the file" "$?|$out" \
	"78|mxdock-dkim: dkim_store_seal_key_file $H/other.key holds another key than the one the database's keys are sealed with"
printf 'abcd\n' >"$H/other.key"
out=$(dk "$H/wrong.conf" $T1 keygen new.test 2>&1)
h_eq "seal key not 64 hex digits: exit 78, says so" "$?|${out%% (an AES*}" \
	"78|mxdock-dkim: $H/other.key: want 64 hex digits"
chmod 644 "$SEAL"
out=$(dk "$H/a.conf" $T1 keygen new.test 2>&1)
h_eq "seal key mode 0644: exit 78, refused by name" "$?|${out%%: readable*}" \
	"78|mxdock-dkim: dkim_store_seal_key_file: $SEAL has mode 0644"
chmod 600 "$SEAL"
h_lacks "the tables are there to compare" "$before" "NULL"
h_eq "refused seal keys changed nothing" "$(sum)" "$before"

# --- 4. two hosts tick at the same moment --------------------------------------
dkimstore_db race
dkimstore_mysql_conf "$H/ra.conf" mysql race "$H/unused-ra" 3
dkimstore_mysql_conf "$H/rb.conf" mysql race "$H/unused-rb" 3
dk "$H/ra.conf" $T0 keygen rot.test >/dev/null
dk "$H/ra.conf" $T0 activate rot.test mx20261121e >/dev/null
dk "$H/ra.conf" $T0 activate rot.test mx20261121r >/dev/null
bad=""
made=0
for r in $(seq 1 20); do
	now=$((T0 + r * 100 * 86400))
	dk "$H/ra.conf" $now tick >"$H/ta.out" 2>&1 &
	pa=$!
	dk "$H/rb.conf" $now tick >"$H/tb.out" 2>&1 &
	pb=$!
	wait $pa $pb
	n=$(cat "$H/ta.out" "$H/tb.out" | grep -c "new pending key (rotation)")
	made=$((made + n))
	pend=$(dk "$H/ra.conf" $now list rot.test | awk '$5 == "pending" { print $3 }' | sort | tr '\n' ,)
	[ "$n" = 2 ] && [ "$pend" = "ed25519,rsa," ] || bad="$bad round$r:made=$n,pending=$pend"
	for s in $(dk "$H/ra.conf" $now list rot.test | awk '$5 == "pending" { print $2 }'); do
		dk "$H/ra.conf" $now activate rot.test "$s" >/dev/null
	done
done
h_eq "20 rounds of two ticks at once: one new pending key per algorithm each" "$bad" ""
h_eq "40 rotations made in all" "$made" 40

# --- 5. migrate-store files -> mysql -> files ----------------------------------
dkimstore_db mig
dkimstore_mysql_conf "$H/m.conf" files mig "$H/files" 3
dkimstore_mysql_conf "$H/m2.conf" files mig "$H/files2" 3
find "$H/files" -type f -exec md5sum {} + | sort >"$H/src.sum"
out=$(dk "$H/m.conf" $T2 migrate-store --to=mysql 2>&1)
h_eq "migrate-store --to=mysql exits 0" "$?" 0
h_has "migrate-store names each domain" "$out" "life.test: copied into the mysql store"
out=$(dk "$H/m.conf" $T2 migrate-store --to=mysql 2>&1)
h_has "again: skipped, the same" "$out" "life.test: already in the mysql store, the same; skipped"
out=$(dk "$H/m2.conf" $T2 migrate-store --to=files 2>&1)
h_eq "migrate-store --to=files exits 0" "$?" 0
h_eq "the source store (of $(wc -l <"$H/src.sum") files) is as it was" \
	"$(find "$H/files" -type f -exec md5sum {} + | sort)" "$(cat "$H/src.sum")"
diffs=$(cd "$H/files" && for f in */state */*.pem; do cmp -s "$f" "$H/files2/$f" || echo "$f"; done)
h_eq "round trip: every state file and PEM the same" "$diffs" ""
n1=$(cd "$H/files" && ls */* 2>/dev/null | wc -l)
h_eq "round trip: as many files (more than 8)" "$(cd "$H/files2" && ls */* 2>/dev/null | wc -l) $((n1 > 8))" "$n1 1"
pubs() { for f in "$1"/*/*.pem; do openssl pkey -in "$f" -pubout 2>&1; done | md5sum; }
h_eq "round trip: the same public keys" "$(pubs "$H/files2")" "$(pubs "$H/files")"
out=$(dk "$H/files.conf" $T2 migrate-store --to=mysql life.test 2>&1)
h_eq "a domain there with other keys: exit 65" "$?" 65
h_has "a domain there with other keys: named" "$out" "life.test is already in the mysql store"

# --- 6. the milter on the mysql store --------------------------------------------
dkimstore_db milt
milter_scratch_conf mx.store.test || { h_done; exit 1; }
cat >>"$C" <<CONF
milter_internal_hosts = 127.0.0.1/32
dkim_rsa_bits = 1024
dkim_rotate_after = 0
dkim_store = mysql
dkim_store_seal_key_file = $SEAL
dkim_store_poll = 1s
mysql_timeout = 2
dkim_on_key_error = tempfail
CONF
mariadb_conf "$C"
sed -i "s/^mysql_database = .*/mysql_database = milt/" "$C"
cp "$C" "$H/hostb.conf"
DOM=sign.test
out=$(MXDOCK_NOW=$T0 "$BINDIR/mxdock-dns" -c "$C" create $DOM 2>&1)
h_eq "mxdock-dns create on the mysql store" "$?" 0
act() { "$D" -c "$C" list $DOM | awk -v a="$1" '$3 == a && $5 == "active" { print $2 }'; }
RSA1=$(act rsa)
h_eq "create: RSA key active" "$RSA1" mx20261121r
send() {
	postfix_send --from "alice@$DOM" --to bob@example.org --h-From "Alice <alice@$DOM>" \
		--h-Subject "mail $1" --body "Body of mail $1." >"$H/send-$1.txt"
	postfix_wait_delivered "$1" >/dev/null && postfix_message "$1" >"$H/mail-$1.eml"
}
verify() { $PY "$H_TOP/tests/integration/dkimpy_verify.py" "$H/mail-$1.eml" "127.0.0.1:$PDNS_DNS_PORT" 2>&1 | sort | tr '\n' ' '; }
milter_start "$C" || { h_done; exit 1; }
postfix_start "inet:127.0.0.1:$MILTER_PORT" || { h_done; exit 1; }
send 1
h_eq "mail 1: both signatures verify (dkimpy)" "$(verify 1)" \
	"dkimpy pass $DOM mx20261121e dkimpy pass $DOM mx20261121r "
MXDOCK_NOW=$T1 "$D" -c "$H/hostb.conf" rotate $DOM >/dev/null 2>&1
h_eq "host B: rotate (published by its DNS sync)" "$?" 0
out=$(MXDOCK_NOW=$T1 "$D" -c "$H/hostb.conf" activate $DOM mx20261201r 2>&1)
h_eq "host B: activate the new RSA key" "$?" 0
sleep 2.5
send 2
h_eq "mail 2 (within dkim_store_poll, no reload): the new RSA key, verified" "$(verify 2)" \
	"dkimpy pass $DOM mx20261121e dkimpy pass $DOM mx20261201r "
MXDOCK_NOW=$T1 "$D" -c "$H/hostb.conf" keygen new.test --algorithm=ed25519 >/dev/null 2>&1
MXDOCK_NOW=$T1 "$D" -c "$H/hostb.conf" activate new.test mx20261201e >/dev/null 2>&1
mariadb_freeze
sleep 1.5                               # past dkim_store_poll: the milter asks
send 3
out=$(python3 "$H_TOP/tests/integration/milter_msg.py" "127.0.0.1:$MILTER_PORT" \
	--mailfrom alice@new.test --header "From: Alice <alice@new.test>" --header "Subject: hi" 2>&1)
nokeys() { python3 "$H_TOP/tests/integration/milter_msg.py" "127.0.0.1:$MILTER_PORT" \
	--mailfrom alice@nokeys.test --header "From: Alice <alice@nokeys.test>" --header "Subject: hi" 2>&1; }
out2=$(nokeys)
kill -CONT "$MYSQL_PID"
h_has "MariaDB frozen, a domain never loaded: dkim_on_key_error = tempfail (451)" "$out" \
	"reply 451 4.3.0"
h_has "MariaDB frozen, a domain without keys never loaded: tempfail (451)" "$out2" "reply 451 4.3.0"
sleep 1.5                               # past dkim_store_poll, MariaDB answering
h_lacks "MariaDB back: the domain without keys is no longer refused" "$(nokeys)" "reply 451"
h_eq "mail 3 (MariaDB frozen): still signed, verified" "$(verify 3)" \
	"dkimpy pass $DOM mx20261121e dkimpy pass $DOM mx20261201r "
h_eq "the outage logged once" "$(grep -c 'signing on with the keys loaded' "$MILTER_LOG")" 1
h_done
