#!/bin/bash
# secrets_scan.sh - secrets never reach logs, output, argv or environments.
# A whole working set (PowerDNS with its API key, MariaDB with the mxdock
# password, DKIM keys, Postfix, the milter with quota and the auth policy
# on) runs every binary; then every log, every command's output, every
# delivered message, every process's argv (ps) and /proc/PID/environ of the
# mxdock processes are searched for the API key, the database password and
# 40-character pieces of each private key's base64: zero hits.  A positive
# control (the secret files themselves) proves each search can hit.
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/pdns.sh"
source "$H_TOP/tests/lib/mariadb.sh"
source "$H_TOP/tests/lib/postfix.sh"
source "$H_TOP/tests/lib/e2e.sh"
h_init secrets_scan
OUT=$H/out
mkdir -p "$OUT"

mariadb_start || { h_done; exit 1; }
milter_scratch_conf "$E2E_AUTHSERV" || { h_done; exit 1; }
MPORT=$(h_port)
cat >>"$C" <<EOF
milter_socket = inet:$MPORT@127.0.0.1
milter_internal_hosts = 127.0.0.1/32
quota_enable = yes
authfail_enable = yes
authfail_exempt = 127.0.0.1/32
EOF
mariadb_conf "$C"
D="$BINDIR/mxdock-dns"
run() { "$@" >>"$OUT/commands.txt" 2>&1; }   # every command's output and errors kept

run "$D" -c "$C" create secrets.test
run "$D" -c "$C" list --json
run "$D" -c "$C" records secrets.test
run "$D" -c "$C" check secrets.test
run "$D" -c "$C" sync secrets.test
run "$BINDIR/mxdock-dkim" -c "$C" list secrets.test
run "$BINDIR/mxdock-policy" -c "$C" init-db
mariadb_db mxdock <"$H_TOP/docs/policy-schema.sql"
run "$BINDIR/mxdock-policy" -c "$C" authfail ban 192.0.2.9
run "$BINDIR/mxdock-policy" -c "$C" authfail list
run "$BINDIR/mxdock-milter" -c "$C" -t
# failures that print a diagnostic: a wrong password file and a dead API
cp "$C" "$H/bad.conf"
sed -i "s|^pdns_api_url = .*|pdns_api_url = http://127.0.0.1:$(h_port)/|" "$H/bad.conf"
run "$D" -c "$H/bad.conf" create dead.test
mariadb_db mxdock "SELECT 1" >/dev/null 2>&1

milter_start "$C" || { h_done; exit 1; }
postfix_start "inet:127.0.0.1:$MPORT" || { h_done; exit 1; }
postfix_send --from alice@secrets.test --to bob@example.org \
	--h-From "Alice <alice@secrets.test>" --body "signed" >"$OUT/send1.txt"
postfix_wait_delivered 1
h_has "the outbound message was signed" "$(postfix_message 1)" "DKIM-Signature:"
postfix_send --local-interface 127.0.0.2 --from carol@other.test --to bob@example.org \
	--body "verified" >"$OUT/send2.txt"
postfix_wait_delivered 2
ps -eo pid,args >"$OUT/ps.txt"
for pid in $(pgrep -f "$H/"); do
	tr '\0' '\n' <"/proc/$pid/environ" >>"$OUT/environ.txt" 2>/dev/null
	tr '\0' ' ' <"/proc/$pid/cmdline" >>"$OUT/cmdline.txt" 2>/dev/null
done
kill -USR1 "$MILTER_PID"    # a reload logs too
sleep 1

# the places searched: everything under $H but the files that hold secrets
# by design and the binary database files
scan_files() {
	find "$H" -type f ! -path "$H/mariadb/data/*" ! -path "$H/dkim/*" \
		! -name 'api.key' ! -name 'password' ! -name 'pdns.conf' ! -name '*.header' \
		! -name '*.sqlite3' ! -name '.ports' ! -path "$H/postfix/queue/*" -print0
}
hits() {  # hits FIXED-STRING: the files under the scan that contain it
	scan_files | xargs -0 grep -lF -- "$1" 2>/dev/null
}

api_key=$(cat "$PDNS_API_KEY_FILE")
db_pw=$(cat "$MYSQL_PASSWORD_FILE")
h_eq "API key is a real secret (positive control: pdns.conf has it)" \
	"$(grep -cF -- "$api_key" "$(dirname "$PDNS_API_KEY_FILE")/pdns.conf")" 1
h_eq "the scan saw the logs (milter log, maillog, command output)" \
	"$(scan_files | tr '\0' '\n' | grep -cE 'milter.log|maillog|commands.txt|ps.txt|environ.txt')" 5
h_eq "API key in no log, output, argv or environment" "$(hits "$api_key")" ""
h_eq "database password in no log, output, argv or environment" "$(hits "$db_pw")" ""
h_eq "no secret in the password's own argv (ps)" "$(grep -cF -- "$db_pw" "$OUT/ps.txt")" 0

nkeys=0
for key in $(find "$H/dkim" -name '*.pem' -o -name '*.key' -o -name '*.private' | sort); do
	grep -q 'PRIVATE KEY' "$key" || continue
	nkeys=$((nkeys + 1))
	b64=$(grep -v -- '-----' "$key" | tr -d '\n')
	found=""
	for ((i = 0; i + 40 <= ${#b64}; i += 40)); do
		f=$(hits "${b64:i:40}")
		[ -n "$f" ] && found="$found $f"
	done
	h_eq "private key $(basename "$key"): no piece of it outside the key store" "$found" ""
	h_eq "private key $(basename "$key") is found where it is (positive control)" \
		"$(grep -cF -- "${b64:0:40}" "$key")" 1
done
h_eq "private keys found and scanned" "$([ "$nkeys" -ge 2 ] && echo yes)" yes
h_done
