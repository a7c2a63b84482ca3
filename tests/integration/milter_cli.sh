#!/bin/bash
# milter_cli - mxdock-milter's command line and start-up (issue 12):
#  - -h/--help exit 0; a bad option or argument is named on one line with
#    EX_USAGE even when there is no configuration;
#  - a milter_socket that cannot be opened says why (EADDRINUSE) and where;
#  - root without milter_user is refused (EX_CONFIG, one line naming
#    milter_user and --allow-root); --allow-root runs with a warning;
#  - after the switch to milter_user: uid, gid and supplementary groups are
#    the user's; the process is not dumpable (its /proc files stay root's)
#    and its core limit is 0, unless --core-dumps (issue 18);
#  - item 11: in daemon mode (chdir "/") with -c RELATIVE.conf, SIGUSR1 still
#    reloads the same file;
#  - item 12: after switching to milter_user, a reload does not read the
#    PowerDNS key file (a secret the milter never uses, readable by root only).
# A reload is seen in the Authentication-Results authserv-id of a message
# put through the milter protocol (milter_msg.py): daemon mode logs to
# syslog, which these machines do not run.
source "$(dirname "$0")/../lib/harness.sh"
h_init milter-cli

M=$BINDIR/mxdock-milter
run() {
	"$@" >"$H/out" 2>"$H/err"
	echo "$?"
}
check_usage() {
	local name=$1 msg=$2 rc
	shift 2
	rc=$(MXDOCK_CONF=/nonexistent.conf run "$@")
	h_eq "$name: exit 64" "$rc" 64
	h_has "$name: names it" "$(cat "$H/err")" "$msg"
	h_eq "$name: one line" "$(wc -l <"$H/err")" 1
}

h_eq "--help exits 0" "$(run "$M" --help)" 0
h_has "--help prints the usage on stdout" "$(cat "$H/out")" "usage: mxdock-milter"
h_eq "-h exits 0" "$(run "$M" -h)" 0
check_usage "unknown long option" 'unknown option "--bogus"' "$M" --bogus
check_usage "unknown option" 'unknown option "-x"' "$M" -t -x
check_usage "-c without FILE" '"-c"' "$M" -c
check_usage "stray argument" 'unexpected argument "extra"' "$M" -t extra
h_eq "config error still EX_CONFIG" "$(run "$M" -t -c /nonexistent.conf)" 78

# --- the socket cannot be opened --------------------------------------------
port=$(h_port)
python3 -c "
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $port)); s.listen(); print('up', flush=True); time.sleep(60)" >"$H/holder.out" &
h_track $!
h_wait "port holder up" 10 grep -q up "$H/holder.out"
mkdir -p "$H/store"
printf 'milter_socket = inet:%s@127.0.0.1\ndkim_keydir = %s/store\n' "$port" "$H" >"$H/busy.conf"
h_eq "busy socket: EX_UNAVAILABLE" "$(run timeout 20 "$M" -f --allow-root -c "$H/busy.conf")" 69
h_has "busy socket: the reason" "$(cat "$H/err")" "cannot open milter_socket inet:$port@127.0.0.1: Address already in use"
h_eq "busy socket: one line (besides the --allow-root warning)" "$(grep -vc "allow-root" "$H/err")" 1

# --- daemons, reloads ----------------------------------------------------------
# start_daemon DIR CONF - mxdock-milter in daemon mode from DIR; waits for
# its pid file and port
start_daemon() {
	local port
	port=$(sed -n 's/^milter_socket = inet:\([0-9]*\)@.*/\1/p' "$1/$2")
	(cd "$1" && ${WRAP:-} "$M" $ROOTFLAG -c "$2" 2>>"$H/daemon.err") || h_fail "daemon starts" "$(tail -1 "$H/daemon.err")" "exit 0"
	h_wait "daemon pid file" 10 test -s "$H/$3.pid"
	h_track "$(cat "$H/$3.pid")"
	h_wait "daemon listens" 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
}
# authserv PORT - the authserv-id of the A-R the milter adds to a message
authserv() {
	python3 "$H_TOP/tests/integration/milter_msg.py" "127.0.0.1:$1" --ip 192.0.2.1 \
		--header "From: a@b.test" | sed -n 's/^header Authentication-Results: *\([^;]*\);.*/\1/p'
}
# reload CONFFILE PORT PIDNAME ID - new authserv-id ID, SIGUSR1, wait for it
reload_to() {
	sed -i "s/^milter_authserv_id = .*/milter_authserv_id = $4/" "$1"
	kill -USR1 "$(cat "$H/$3.pid")"
	for _ in $(seq 1 50); do
		[ "$(authserv "$2")" = "$4" ] && break
		sleep 0.1
	done
	authserv "$2"
}
common() {
	printf 'milter_socket = inet:%s@127.0.0.1\ndkim_keydir = %s/store\nmilter_pidfile = %s/%s.pid\n' \
		"$(h_port)" "$H" "$H" "$1"
	printf 'dns_resolver = 127.0.0.1:9\nspf_skip_addresses = 0.0.0.0/0\nmilter_authserv_id = one.test\n'
}

[ "$(id -u)" = 0 ] && ROOTFLAG=--allow-root
# item 11: -c relative.conf, daemon mode
mkdir -p "$H/rel"
common rel >"$H/rel/relative.conf"
start_daemon "$H/rel" relative.conf rel
p11=$(sed -n 's/^milter_socket = inet:\([0-9]*\)@.*/\1/p' "$H/rel/relative.conf")
h_eq "relative conf: started with it" "$(authserv "$p11")" "one.test"
h_eq "relative conf: SIGUSR1 after chdir / reloads it" \
	"$(reload_to "$H/rel/relative.conf" "$p11" rel two.test)" "two.test"

# item 12: milter_user, a PowerDNS key file only root may read
if id nobody >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	mkdir -p "$H/user"
	echo "s3cret-pdns-key" >"$H/pdns.key"
	chmod 0600 "$H/pdns.key"
	{ common user; echo "milter_user = nobody"; echo "pdns_api_key_file = $H/pdns.key"; } >"$H/user/mxdock.conf"
	chmod 0644 "$H/user/mxdock.conf"
	# extra groups (disk, adm) and a core limit the switch must not keep
	WRAP="prlimit --core=unlimited setpriv --groups=6,4 --" ROOTFLAG="" start_daemon "$H/user" mxdock.conf user
	upid=$(cat "$H/user.pid")
	h_eq "milter_user: uid real/effective/saved/fs" "$(awk '/^Uid:/ {print $2,$3,$4,$5}' "/proc/$upid/status")" \
		"$(id -u nobody) $(id -u nobody) $(id -u nobody) $(id -u nobody)"
	h_eq "milter_user: gid" "$(awk '/^Gid:/ {print $2,$3,$4,$5}' "/proc/$upid/status")" \
		"$(id -g nobody) $(id -g nobody) $(id -g nobody) $(id -g nobody)"
	h_eq "milter_user: supplementary groups are the user's (disk, adm dropped)" \
		"$(awk '/^Groups:/ {$1=""; print}' "/proc/$upid/status" | tr ' ' '\n' | grep . | sort -n | tr '\n' ' ')" \
		"$(id -G nobody | tr ' ' '\n' | sort -n | tr '\n' ' ')"
	h_eq "milter_user: not dumpable (/proc/PID/environ stays root's)" "$(stat -c %U "/proc/$upid/environ")" root
	h_eq "milter_user: core limit 0" "$(awk '/^Max core file size/ {print $5, $6}' "/proc/$upid/limits")" "0 0"
	p12=$(sed -n 's/^milter_socket = inet:\([0-9]*\)@.*/\1/p' "$H/user/mxdock.conf")
	h_eq "milter_user: runs as nobody" "$(ps -o user= -p "$(cat "$H/user.pid")")" "nobody"
	h_eq "milter_user: reload not stopped by the PowerDNS key file" \
		"$(reload_to "$H/user/mxdock.conf" "$p12" user three.test)" "three.test"
	h_eq "no warning about root with milter_user set" "$(grep -c "running as root" "$H/daemon.err")" 0
else
	echo "# skipped: milter_user checks need root and the user nobody"
fi

# --- root without milter_user: refused; --allow-root: a warning -----------------
if [ "$(id -u)" = 0 ]; then
	common fg >"$H/fg.conf"
	pfg=$(sed -n 's/^milter_socket = inet:\([0-9]*\)@.*/\1/p' "$H/fg.conf")
	h_eq "root without milter_user: EX_CONFIG" "$(run timeout 20 "$M" -f -c "$H/fg.conf")" 78
	h_has "root without milter_user: says what to do" "$(cat "$H/err")" \
		"refusing to run as root: set milter_user to a service user"
	h_has "root without milter_user: names --allow-root" "$(cat "$H/err")" "--allow-root"
	h_eq "root without milter_user: one line" "$(grep -c . "$H/err")" 1
	h_eq "root without milter_user: -t still checks the file" "$(run "$M" -t -c "$H/fg.conf")" 0
	prlimit --core=unlimited "$M" -f --allow-root -c "$H/fg.conf" 2>"$H/fg.err" &
	fpid=$!
	h_track $fpid
	h_wait "foreground milter listens" 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$pfg"
	h_has "--allow-root: warned at start" "$(cat "$H/fg.err")" \
		"warning: running as root (--allow-root): milter_user is empty"
	h_eq "--allow-root: core limit 0" "$(awk '/^Max core file size/ {print $5, $6}' "/proc/$fpid/limits")" "0 0"
	kill $fpid
	common core >"$H/core.conf"
	pc=$(sed -n 's/^milter_socket = inet:\([0-9]*\)@.*/\1/p' "$H/core.conf")
	prlimit --core=unlimited "$M" -f --allow-root --core-dumps -c "$H/core.conf" 2>"$H/core.err" &
	cpid=$!
	h_track $cpid
	h_wait "--core-dumps milter listens" 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$pc"
	# the hard limit: an ASan build lowers the soft one itself (disable_coredump)
	h_eq "--core-dumps: hard core limit left as started" \
		"$(awk '/^Max core file size/ {print $6}' "/proc/$cpid/limits")" "unlimited"
	kill $cpid
fi
h_done
