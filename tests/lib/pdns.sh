# pdns.sh - a scratch PowerDNS Authoritative server (source after harness.sh).
#
#   pdns_start [sqlite|mysql]
#     sqlite: gsqlite3 backend in $H/pdns; mysql: gmysql on the MariaDB of
#     mariadb.sh (call mariadb_start first).  DNS and the REST API on
#     127.0.0.1, non-default ports (a preset PDNS_DNS_PORT is kept: the
#     benchmark serves DNS on port 53 of a private network namespace).
#     Sets PDNS_DNS_PORT, PDNS_API_PORT, PDNS_API_URL, PDNS_API_KEY_FILE,
#     PDNS_LOG.
#   pdns_conf FILE       write a mxdock.conf pointing at this server
#   pdns_api METHOD PATH [JSON]   raw API call (for checks made by hand)
#   pdns_dig NAME TYPE   short answer from the scratch server
#   pdns_zone ZONE RRSETS         a Native zone with RRSETS (pdns_rrset ...)
#   pdns_rrset NAME TYPE CONTENT  one rrset of one record for pdns_zone

pdns_start() {
	local backend=${1:-sqlite} d="$H/pdns"
	mkdir -p "$d"
	PDNS_DNS_PORT=${PDNS_DNS_PORT:-$(h_port)}
	PDNS_API_PORT=$(h_port)
	PDNS_API_KEY_FILE="$d/api.key"
	PDNS_LOG="$d/pdns.log"
	head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$PDNS_API_KEY_FILE"
	chmod 600 "$PDNS_API_KEY_FILE"
	# curl reads the key from this file (-H @FILE), never from its argv
	PDNS_API_HEADER="$d/api.header"
	(umask 077 && echo "X-API-Key: $(cat "$PDNS_API_KEY_FILE")" >"$PDNS_API_HEADER")
	{
		echo "config-dir=$d"
		echo "socket-dir=$d"
		echo "daemon=no"
		echo "guardian=no"
		echo "setuid="
		echo "setgid="
		echo "local-address=127.0.0.1"
		echo "local-port=$PDNS_DNS_PORT"
		echo "api=yes"
		echo "api-key=$(cat "$PDNS_API_KEY_FILE")"
		echo "webserver=yes"
		echo "webserver-address=127.0.0.1"
		echo "webserver-port=$PDNS_API_PORT"
		echo "webserver-allow-from=127.0.0.0/8"
		echo "security-poll-suffix="
		echo "cache-ttl=0"
		echo "query-cache-ttl=0"
		echo "negquery-cache-ttl=0"
		echo "zone-cache-refresh-interval=0"
		echo "consistent-backends=yes"
		echo "loglevel=4"
		echo "default-soa-edit-signed=INCEPTION-INCREMENT"
	} >"$d/pdns.conf"
	chmod 600 "$d/pdns.conf"
	if [ "$backend" = mysql ]; then
		mariadb_sql "CREATE DATABASE IF NOT EXISTS pdns"
		mariadb_db pdns <"/usr/share/pdns-backend-mysql/schema/schema.mysql.sql"
		{
			echo "launch=gmysql"
			echo "gmysql-socket=$MYSQL_SOCKET"
			echo "gmysql-user=root"
			echo "gmysql-dbname=pdns"
			echo "gmysql-dnssec=yes"
		} >>"$d/pdns.conf"
	else
		sqlite3 "$d/pdns.sqlite3" <"/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql"
		{
			echo "launch=gsqlite3"
			echo "gsqlite3-database=$d/pdns.sqlite3"
			echo "gsqlite3-dnssec=yes"
		} >>"$d/pdns.conf"
	fi
	pdns_server --config-dir="$d" >"$PDNS_LOG" 2>&1 &
	h_track $!
	PDNS_API_URL="http://127.0.0.1:$PDNS_API_PORT/api/v1"
	h_wait "pdns_server answers its API (log: $PDNS_LOG)" 20 \
		curl -sf -H "@$PDNS_API_HEADER" "$PDNS_API_URL/servers/localhost"
}

pdns_conf() {
	cat >"$1" <<CONF
pdns_api_url = $PDNS_API_URL
pdns_api_key_file = $PDNS_API_KEY_FILE
dns_check_server = 127.0.0.1:$PDNS_DNS_PORT
dns_resolver = 127.0.0.1:$PDNS_DNS_PORT
dns_nameservers = ns1.%d, ns2.%d
dns_server_ipv4 = 127.0.0.1
dkim_keydir = $H/dkim
mta_sts_policy_dir = $H/mta-sts
dns_template_dir = $H/templates
CONF
}

pdns_api() {
	curl -s -X "$1" -H "@$PDNS_API_HEADER" \
		${3:+-H 'Content-Type: application/json' --data "$3"} "$PDNS_API_URL$2"
}

pdns_dig() {
	dig +short +norecurse -p "$PDNS_DNS_PORT" @127.0.0.1 "$1" "$2"
}

# pdns_rrset NAME TYPE CONTENT - one REPLACE rrset (TTL 60) of one record, led
# by a comma: pdns_zone takes several written one after another
pdns_rrset() {
	printf ',{"name":"%s.","type":"%s","ttl":60,"changetype":"REPLACE","records":[{"content":"%s","disabled":false}]}' "$1" "$2" "$3"
}

# pdns_zone ZONE RRSETS - create the Native zone ZONE (NS ns1.ZONE) and put
# RRSETS (from pdns_rrset; may be empty) in it
pdns_zone() {
	pdns_api POST /servers/localhost/zones "{\"name\":\"$1.\",\"kind\":\"Native\",\"nameservers\":[\"ns1.$1.\"]}" >/dev/null
	pdns_api PATCH "/servers/localhost/zones/$1." "{\"rrsets\":[${2#,}]}" >/dev/null
}
