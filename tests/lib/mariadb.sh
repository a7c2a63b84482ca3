# mariadb.sh - a scratch MariaDB server (source after harness.sh).
#
#   mariadb_start        datadir in $H/mariadb, TCP on 127.0.0.1:$MYSQL_PORT,
#                        socket $MYSQL_SOCKET; root without password over the
#                        socket; user mxdock with password in $MYSQL_PASSWORD_FILE
#   mariadb_sql SQL      run SQL as root
#   mariadb_db DB [SQL]  run SQL (or stdin) as root in DB
#   mariadb_stop / mariadb_kill   stop cleanly / kill -9 (fault tests)
#   mariadb_freeze       SIGSTOP, returning once every thread has stopped
#   mariadb_restart      start again on the same port and data
#   mariadb_conf FILE    append the mysql_* keys for this server to FILE
#   mariadb_policy_db CONF [SQL]   init-db, the mail server's tables, SQL
#   mariadb_quota_milter $C with quota checks, two accounts, a milter on it

mariadb_start() {
	local d="$H/mariadb"
	mkdir -p "$d/tmp"
	MYSQL_PORT=${MYSQL_PORT:-$(h_port)}
	MYSQL_SOCKET="$d/mysqld.sock"
	MYSQL_LOG="$d/mysqld.log"
	MYSQL_PASSWORD_FILE="$d/password"
	if [ ! -d "$d/data/mysql" ]; then
		mariadb-install-db --no-defaults --user=root --datadir="$d/data" \
			--auth-root-authentication-method=socket --tmpdir="$d/tmp" >"$d/install.log" 2>&1 || {
			h_fail "mariadb-install-db (log: $d/install.log)" "failed" "ok"
			return 1
		}
	fi
	mariadb_restart
	if [ ! -s "$MYSQL_PASSWORD_FILE" ]; then
		head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$MYSQL_PASSWORD_FILE"
		chmod 600 "$MYSQL_PASSWORD_FILE"
		# the password goes to the server on stdin, never in an argv
		{
			pw=$(cat "$MYSQL_PASSWORD_FILE")
			echo "CREATE DATABASE IF NOT EXISTS mxdock;"
			echo "CREATE USER IF NOT EXISTS 'mxdock'@'127.0.0.1' IDENTIFIED BY '$pw';"
			echo "CREATE USER IF NOT EXISTS 'mxdock'@'localhost' IDENTIFIED BY '$pw';"
			echo "GRANT ALL ON mxdock.* TO 'mxdock'@'127.0.0.1';"
			echo "GRANT ALL ON mxdock.* TO 'mxdock'@'localhost';"
		} | mariadb --no-defaults -S "$MYSQL_SOCKET" -uroot
	fi
}

mariadb_restart() {
	local d="$H/mariadb"
	mariadbd --no-defaults --user=root --datadir="$d/data" --socket="$MYSQL_SOCKET" \
		--port="$MYSQL_PORT" --bind-address=127.0.0.1 --skip-name-resolve \
		--skip-log-bin --pid-file="$d/mysqld.pid" --log-error="$MYSQL_LOG" \
		--innodb-buffer-pool-size=32M --tmpdir="$d/tmp" >/dev/null 2>&1 &
	MYSQL_PID=$!
	h_track $MYSQL_PID
	h_wait "mariadbd ready (log: $MYSQL_LOG)" 30 \
		mariadb --no-defaults -S "$MYSQL_SOCKET" -uroot -e 'SELECT 1'
}

mariadb_sql() {
	mariadb --no-defaults -S "$MYSQL_SOCKET" -uroot -e "$1"
}

mariadb_db() {
	local db=$1
	shift
	if [ $# -ge 1 ]; then
		mariadb --no-defaults -S "$MYSQL_SOCKET" -uroot "$db" -e "$1"
	else
		mariadb --no-defaults -S "$MYSQL_SOCKET" -uroot "$db"
	fi
}

mariadb_stop() {
	[ -n "$MYSQL_PID" ] && kill -TERM "$MYSQL_PID" 2>/dev/null
	h_wait "mariadbd stopped" 30 sh -c "! kill -0 $MYSQL_PID"
}

# mariadb_freeze - SIGSTOP, and wait until every thread has stopped: kill
# returns before each thread stops (when it is next scheduled), and on a
# busy machine one of them was seen answering the next query
mariadb_freeze() {
	kill -STOP "$MYSQL_PID"
	h_wait "every mariadbd thread stopped" 10 mariadb_all_stopped
}

mariadb_all_stopped() {
	local t
	for t in /proc/"$MYSQL_PID"/task/*/stat; do
		[ "$(cut -d' ' -f3 "$t" 2>/dev/null)" = T ] || return 1
	done
}

mariadb_kill() {
	[ -n "$MYSQL_PID" ] && kill -KILL "$MYSQL_PID" 2>/dev/null
	sleep 0.5
}

mariadb_conf() {
	cat >>"$1" <<CONF
mysql_host = 127.0.0.1
mysql_port = $MYSQL_PORT
mysql_user = mxdock
mysql_password_file = $MYSQL_PASSWORD_FILE
mysql_database = mxdock
CONF
}

# mariadb_policy_db CONF [SQL] - mxdock-policy init-db with CONF (output in
# $H/init-db.log), the mail server's tables (docs/policy-schema.sql), then
# SQL in mxdock; returns init-db's exit code
mariadb_policy_db() {
	local rc
	"$BINDIR/mxdock-policy" -c "$1" init-db >"$H/init-db.log" 2>&1
	rc=$?
	mariadb_db mxdock <"$H_TOP/docs/policy-schema.sql"
	[ -z "${2:-}" ] || mariadb_db mxdock "$2"
	return $rc
}

# mariadb_quota_milter - a started MariaDB, $C = $H/mxdock.conf with the
# quota checks on (no cache, mysql_timeout 1s, tempfail on a database
# error), accounts bob@example.org (quota 100000) and small@example.org
# (5000), 1000 bytes used each, and mxdock-milter on it (milter_start, from
# postfix.sh)
mariadb_quota_milter() {
	mariadb_start || return 1
	C=$H/mxdock.conf
	cat >"$C" <<EOF
milter_socket = inet:$(h_port)@127.0.0.1
quota_enable = yes
quota_cache_ttl = 0
mysql_timeout = 1s
quota_db_error_action = tempfail
EOF
	mariadb_conf "$C"
	mariadb_policy_db "$C" "INSERT INTO accounts (name, quota) VALUES ('bob', 100000), ('small', 5000);
	INSERT INTO emails (name, address) VALUES ('bob', 'bob@example.org'),
		('small', 'small@example.org');
	INSERT INTO mailbox_usage VALUES ('bob', 1000, NOW()), ('small', 1000, NOW());"
	milter_start "$C"
}
