# galera.sh - three MariaDB Galera nodes on loopback (source after harness.sh).
#
#   galera_start            install, bootstrap node 1 (--wsrep-new-cluster),
#                           join nodes 2 and 3, wait until all are Synced;
#                           user mxdock (password in $GALERA_PASSWORD_FILE)
#                           and database mxdock, created through node 1
#   galera_node_start N     start node N again (it rejoins by IST/SST)
#   galera_kill N           SIGKILL node N
#   galera_freeze N / galera_thaw N   SIGSTOP / SIGCONT node N
#   galera_term N           stop node N cleanly (SIGTERM, wait)
#   galera_synced N         is node N Synced (wsrep_local_state_comment)?
#   galera_wait_synced SECS N...   wait until every node N is Synced
#   galera_sql N SQL        run SQL as root on node N (no database)
#   galera_db N DB [SQL]    run SQL (or stdin) as root on node N in DB
#   galera_conf FILE N...   append mysql_* keys to FILE, hosts in order N...
#                           (separated by GALERA_SEP, default ", ")
#
# Every node runs as the mysql user (run as root, the joiner's rsync state
# transfer drops to nobody and cannot write the datadir), so the scratch
# directory $H/galera belongs to mysql.  Every port is explicit: client
# port GALERA_PORT[N], group communication base_port GALERA_BASE[N], IST
# GALERA_IST[N], SST GALERA_SST[N] (the default 4444 would be shared).
# Group communication timeouts are short (GALERA_EVS, overridable) so a dead
# node is evicted in about 1.3 s (the survivors agree on the suspicion after
# evs.suspect_timeout), below the 2 s client timeout; defaults (suspect PT5S)
# stall writes ~6 s.  inactive and install timeouts stay at 5 s: at 2 s a
# thawed node's return on a loaded machine once split the two others.
# Nodes are stopped on exit (h_track).  Follows MariaDB's own
# mysql-test/suite/galera_3nodes/galera_3nodes.cnf (one datadir, port,
# base_port, ist.recv_addr and sst address per node).

GALERA_PROVIDER=${GALERA_PROVIDER:-/usr/lib/galera/libgalera_smm.so}
GALERA_EVS=${GALERA_EVS:-evs.keepalive_period=PT0.3S;evs.inactive_check_period=PT0.3S;evs.suspect_timeout=PT1S;evs.inactive_timeout=PT5S;evs.install_timeout=PT5S}
declare -a GALERA_PORT GALERA_BASE GALERA_IST GALERA_SST GALERA_PID

galera_dir() { echo "$H/galera/n$1"; }
galera_sock() { echo "$H/galera/n$1/mysqld.sock"; }

# galera_ports - pick every port once, before any node starts
galera_ports() {
	local n
	for n in 1 2 3; do
		GALERA_PORT[$n]=$(h_port)
		GALERA_BASE[$n]=$(h_port)
		GALERA_IST[$n]=$(h_port)
		GALERA_SST[$n]=$(h_port)
	done
	GALERA_ADDRESS="gcomm://127.0.0.1:${GALERA_BASE[1]},127.0.0.1:${GALERA_BASE[2]},127.0.0.1:${GALERA_BASE[3]}"
}

# galera_launch N [EXTRA...] - start mariadbd for node N in the background
galera_launch() {
	local n=$1 d
	shift
	d=$(galera_dir "$n")
	mariadbd --no-defaults --user=mysql --datadir="$d/data" --socket="$d/mysqld.sock" \
		--port="${GALERA_PORT[$n]}" --bind-address=127.0.0.1 --skip-name-resolve \
		--pid-file="$d/mysqld.pid" --log-error="$d/mysqld.log" --tmpdir="$d/tmp" \
		--innodb-buffer-pool-size=32M --binlog-format=ROW --innodb-autoinc-lock-mode=2 \
		--wsrep-on=ON --wsrep-provider="$GALERA_PROVIDER" --wsrep-cluster-name=mxdock-test \
		--wsrep-cluster-address="$GALERA_ADDRESS" --wsrep-node-name="node$n" \
		--wsrep-node-address=127.0.0.1 --wsrep-sst-method=rsync \
		--wsrep-sst-receive-address="127.0.0.1:${GALERA_SST[$n]}" \
		--wsrep-provider-options="base_port=${GALERA_BASE[$n]};gmcast.listen_addr=tcp://127.0.0.1:${GALERA_BASE[$n]};ist.recv_addr=127.0.0.1:${GALERA_IST[$n]};gcache.size=32M;$GALERA_EVS" \
		"$@" >>"$d/stdout.log" 2>&1 &
	GALERA_PID[$n]=$!
	disown "${GALERA_PID[$n]}" # no "Killed" line from the shell on a fault test
	h_track "${GALERA_PID[$n]}"
}

galera_sql() {
	mariadb --no-defaults -S "$(galera_sock "$1")" -uroot --connect-timeout=3 -e "$2"
}

galera_db() {
	local n=$1 db=$2
	shift 2
	if [ $# -ge 1 ]; then
		mariadb --no-defaults -S "$(galera_sock "$n")" -uroot "$db" -e "$1"
	else
		mariadb --no-defaults -S "$(galera_sock "$n")" -uroot "$db"
	fi
}

galera_synced() {
	[ "$(mariadb --no-defaults -S "$(galera_sock "$1")" -uroot --connect-timeout=2 -N -B \
		-e "SHOW STATUS LIKE 'wsrep_local_state_comment'" 2>/dev/null | cut -f2)" = Synced ]
}

galera_wait_synced() {
	local secs=$1 n
	shift
	for n in "$@"; do
		h_wait "galera node $n Synced (log: $(galera_dir "$n")/mysqld.log)" "$secs" \
			galera_synced "$n" || return 1
	done
}

galera_start() {
	local n d
	mkdir -p "$H/galera"
	galera_ports
	for n in 1 2 3; do
		d=$(galera_dir "$n")
		mkdir -p "$d/data" "$d/tmp"
	done
	chown -R mysql:mysql "$H/galera"
	d=$(galera_dir 1)
	mariadb-install-db --no-defaults --user=mysql --datadir="$d/data" \
		--auth-root-authentication-method=socket --tmpdir="$d/tmp" >"$d/install.log" 2>&1 || {
		h_fail "mariadb-install-db (log: $d/install.log)" "failed" "ok"
		return 1
	}
	galera_launch 1 --wsrep-new-cluster
	galera_wait_synced 60 1 || return 1
	galera_users || return 1
	galera_launch 2
	galera_wait_synced 90 2 || return 1
	galera_launch 3
	galera_wait_synced 90 3 || return 1
}

# galera_users - database and user, made on node 1 (DDL replicates)
galera_users() {
	GALERA_PASSWORD_FILE="$H/galera-password"
	head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$GALERA_PASSWORD_FILE"
	chmod 600 "$GALERA_PASSWORD_FILE"
	# the password goes to the server on stdin, never in an argv
	{
		pw=$(cat "$GALERA_PASSWORD_FILE")
		echo "CREATE DATABASE IF NOT EXISTS mxdock;"
		echo "CREATE USER IF NOT EXISTS 'mxdock'@'127.0.0.1' IDENTIFIED BY '$pw';"
		echo "GRANT ALL ON mxdock.* TO 'mxdock'@'127.0.0.1';"
	} | mariadb --no-defaults -S "$(galera_sock 1)" -uroot
}

galera_node_start() { galera_launch "$1"; }
galera_kill() { kill -KILL "${GALERA_PID[$1]}" 2>/dev/null; }
galera_freeze() { kill -STOP "${GALERA_PID[$1]}" 2>/dev/null; }
galera_thaw() { kill -CONT "${GALERA_PID[$1]}" 2>/dev/null; }
galera_term() {
	kill -TERM "${GALERA_PID[$1]}" 2>/dev/null
	h_wait "galera node $1 stopped" 60 sh -c "! kill -0 ${GALERA_PID[$1]}"
}

galera_conf() {
	local file=$1 hosts="" n
	shift
	for n in "$@"; do hosts="${hosts:+$hosts${GALERA_SEP:-, }}127.0.0.1:${GALERA_PORT[$n]}"; done
	cat >>"$file" <<CONF
mysql_host = $hosts
mysql_user = mxdock
mysql_password_file = $GALERA_PASSWORD_FILE
mysql_database = mxdock
CONF
}
