# dkimstore.sh - a scratch DKIM key store in $H/store, no PowerDNS, for
# tests of mxdock-dkim and of the milter's signing (source after harness.sh;
# dkimstore_send needs milter_start from postfix.sh).
#
#   dkimstore_cli_conf            D, C: the CLI, offline, 1024-bit RSA
#   dkimstore_milter_conf AUTHSERV   D, C: ed25519, internal 127.0.0.1,
#                                 dkim_on_key_error = tempfail
#   dkimstore_key DOMAIN          one active key; selector in DKIMSTORE_SEL
#   dkimstore_send DOMAIN [ARGS]  internal mail From DOMAIN to the milter
#   dkimstore_offline KEYDIR      the CLI's offline keys (printed)
#   dkimstore_db NAME             a database of the scratch MariaDB for mxdock
#   dkimstore_mysql_conf FILE STORE DB KEYDIR TIMEOUT   offline keys on STORE
#                                 (files|mysql), sealed with $SEAL, in DB

# dkimstore_cli_conf - D = mxdock-dkim, C = $H/mxdock.conf for the CLI: no
# PowerDNS, 1024-bit RSA keys (fast), DNS checks to a port nobody serves
dkimstore_cli_conf() {
	D=$BINDIR/mxdock-dkim
	C=$H/mxdock.conf
	dkimstore_offline "$H/store" >"$C"
}

# dkimstore_offline KEYDIR - no PowerDNS, 1024-bit RSA keys (fast), DNS
# checks to a port nobody serves, keys in KEYDIR
dkimstore_offline() {
	cat <<CONF
dkim_keydir = $1
pdns_api_url =
dkim_rsa_bits = 1024
dns_check_server = 127.0.0.1:9
dns_timeout = 1
CONF
}

# dkimstore_db NAME - database NAME on the scratch MariaDB (mariadb.sh),
# all of it granted to the mxdock user
dkimstore_db() {
	mariadb_sql "CREATE DATABASE $1; GRANT ALL ON $1.* TO 'mxdock'@'127.0.0.1';
		GRANT ALL ON $1.* TO 'mxdock'@'localhost';"
}

# dkimstore_mysql_conf FILE STORE DB KEYDIR TIMEOUT - FILE: the offline keys
# with dkim_store = STORE (files|mysql), the seal key file $SEAL, database DB
# of the scratch MariaDB, mysql_timeout = TIMEOUT
dkimstore_mysql_conf() {
	{
		dkimstore_offline "$4"
		echo "dkim_store = $2"
		echo "dkim_store_seal_key_file = $SEAL"
		echo "mysql_timeout = $5"
	} >"$1"
	mariadb_conf "$1"
	sed -i "s/^mysql_database = .*/mysql_database = $3/" "$1"
}

# dkimstore_milter_conf AUTHSERV - D, C for a milter that signs internal
# mail (127.0.0.1) with ed25519 keys, asks a resolver nobody serves, and
# answers 451 4.3.0 when a domain's keys cannot be used
dkimstore_milter_conf() {
	D=$BINDIR/mxdock-dkim
	C=$H/mxdock.conf
	cat >"$C" <<CONF
dkim_keydir = $H/store
pdns_api_url =
dkim_algorithms = ed25519
milter_internal_hosts = 127.0.0.1/32
milter_authserv_id = $1
dns_resolver = 127.0.0.1:9
dkim_on_key_error = tempfail
CONF
}

# dkimstore_key DOMAIN - keygen and activate one key of DOMAIN (a failure is
# a failed check); its selector in DKIMSTORE_SEL
dkimstore_key() {
	"$D" -c "$C" keygen "$1" >"$H/keygen.out" 2>&1 || h_fail "keygen $1" "$(cat "$H/keygen.out")" "exit 0"
	DKIMSTORE_SEL=$(awk '{ print $1; exit }' "$H/keygen.out" | cut -d. -f1)
	"$D" -c "$C" activate "$1" "$DKIMSTORE_SEL" >/dev/null 2>&1 || h_fail "activate $1" "failed" "exit 0"
}

# dkimstore_send DOMAIN [ARGS] - a message From DOMAIN over the milter
# protocol (milter_msg.py ARGS), as the milter answers it
dkimstore_send() {
	local dom=$1
	shift
	python3 "$H_TOP/tests/integration/milter_msg.py" "127.0.0.1:$MILTER_PORT" "$@" \
		--mailfrom "alice@$dom" --header "From: Alice <alice@$dom>" --header "Subject: hi" \
		--header "Date: Sun, 06 Dec 2026 08:00:00 +0000" 2>&1
}
