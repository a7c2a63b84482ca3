# postfix.sh - a scratch Postfix whose smtpd hands mail to a milter, and an
# smtp-sink that captures what it delivers (source after harness.sh).
#
#   postfix_start MILTER       MILTER = Postfix milter address, e.g.
#                              inet:127.0.0.1:PORT.  Starts smtp-sink and
#                              Postfix in $H/postfix.  Sets POSTFIX_PORT
#                              (smtpd on 127.0.0.1), POSTFIX_DIR, POSTFIX_LOG,
#                              SINK_DIR (one file per delivered message).
#                              127.0.0.1 is in mynetworks; 127.0.0.2 is not.
#   postfix_sasl USER PASS     add a SASL login (sasldb) and enable AUTH
#                              (call before postfix_start)
#   postfix_send ARGS...       swaks to the smtpd, quiet; prints the
#                              transcript, returns swaks' exit code
#   postfix_wait_delivered N   wait until N messages reached the sink
#   postfix_delivered N        path of the Nth delivered message (1-based)
#   postfix_message N          the Nth message without smtp-sink's lines
#   postfix_message_with TEXT  the delivered message that contains TEXT
#   milter_scratch_conf AUTHSERV   PowerDNS (pdns.sh) and $C pointing at it
#   milter_dmarc_conf          the same for the DMARC tests, zone "test" made
#   milter_mailauth FILE IP HELO MAILFROM
#                              the independent checker (mailauth, npm, pinned
#                              in tests/node) on FILE with the scratch
#                              PowerDNS: "spf R" and "dkim R D S ALGO" lines
#   milter_start CONF          start $BINDIR/mxdock-milter -f -c CONF; sets
#                              MILTER_PORT, MILTER_PID, MILTER_LOG.  Uses the
#                              inet port of CONF's milter_socket if there is
#                              one; if that bind fails (or there is none), a
#                              free port, written into CONF: use $MILTER_PORT
#                              for postfix_start.  As root with no
#                              milter_user in CONF it passes --allow-root;
#                              $MILTER_WRAP (e.g. valgrind) runs before it;
#                              $MILTER_WAIT tenths of a second (100) to listen
#
# Postfix is stopped on exit (postfix -c DIR stop, then the master's pid).

postfix_sasl() {
	POSTFIX_SASL_USER=$1
	POSTFIX_SASL_PASS=$2
}

postfix_write_main() {
	local d=$1 milter=$2
	cat >"$d/conf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $d/queue
data_directory = $d/data
mail_owner = postfix
myhostname = mx.postfix.test
mydomain = postfix.test
myorigin = \$myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
relay_domains =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
relayhost = [127.0.0.1]:$SINK_PORT
smtpd_relay_restrictions = check_recipient_access static:OK, reject_unauth_destination
smtpd_recipient_restrictions =
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtputf8_enable = no
biff = no
maillog_file = $POSTFIX_LOG
maillog_file_prefixes = $d
smtpd_milters = $milter
milter_protocol = 6
milter_default_action = tempfail
milter_command_timeout = 10s
milter_content_timeout = 20s
smtp_connect_timeout = 5s
smtp_connection_cache_on_demand = no
delay_warning_time = 0
maximal_queue_lifetime = 1h
EOF
	if [ -n "$POSTFIX_SASL_USER" ]; then
		cat >>"$d/conf/main.cf" <<EOF
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $d/conf/sasl
smtpd_sasl_security_options = noanonymous
smtpd_tls_security_level = none
EOF
	fi
}

postfix_write_master() {
	local d=$1
	cat >"$d/conf/master.cf" <<EOF
127.0.0.1:$POSTFIX_PORT inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
local     unix  - n n - - local
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
}

postfix_write_sasl() {
	local d=$1
	[ -n "$POSTFIX_SASL_USER" ] || return 0
	# Debian's Postfix reads $config_directory/sasl/smtpd.conf whatever
	# cyrus_sasl_config_path says
	mkdir -p "$d/conf/sasl"
	cat >"$d/conf/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $d/conf/sasl/sasldb2
mech_list: PLAIN LOGIN
EOF
	printf '%s' "$POSTFIX_SASL_PASS" |
		saslpasswd2 -p -c -f "$d/conf/sasl/sasldb2" -u "${POSTFIX_SASL_USER#*@}" \
			"${POSTFIX_SASL_USER%@*}"
	chown postfix "$d/conf/sasl/sasldb2"
	chmod 640 "$d/conf/sasl/sasldb2"
}

# postfix_sink - smtp-sink on a free port; another test may take the port
# between h_port and the bind, so try again on another
postfix_sink() {
	local try pid
	for try in 1 2 3; do
		SINK_PORT=$(h_port)
		smtp-sink -u postfix -d "$SINK_DIR/%M." "127.0.0.1:$SINK_PORT" 50 \
			>>"$POSTFIX_DIR/sink.log" 2>&1 &
		pid=$!
		h_track "$pid"
		for _ in $(seq 1 50); do
			bash -c "exec 3<>/dev/tcp/127.0.0.1/$SINK_PORT" 2>/dev/null && return 0
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	done
	h_fail "smtp-sink listens (log: $POSTFIX_DIR/sink.log)" "$(tail -1 "$POSTFIX_DIR/sink.log")" "listening"
	return 1
}

postfix_start() {
	local d="$H/postfix" try
	POSTFIX_DIR=$d
	POSTFIX_LOG="$d/maillog"
	SINK_DIR="$d/sink"
	mkdir -p "$d/conf" "$d/queue" "$d/data" "$SINK_DIR"
	chown postfix "$d/data" "$SINK_DIR"
	: >"$POSTFIX_LOG"
	postfix_sink || return 1
	h_on_exit "postfix -c '$d/conf' stop; sleep 0.5; kill \$(cat '$d/queue/pid/master.pid' 2>/dev/null) 2>/dev/null"
	for try in 1 2 3; do
		POSTFIX_PORT=$(h_port)
		postfix_write_main "$d" "$1"
		postfix_write_master "$d"
		postfix_write_sasl "$d"
		postfix -c "$d/conf" check >"$d/check.log" 2>&1
		if postfix -c "$d/conf" start >"$d/start.log" 2>&1; then
			for _ in $(seq 1 "${MILTER_WAIT:-100}"); do
				bash -c "exec 3<>/dev/tcp/127.0.0.1/$POSTFIX_PORT" 2>/dev/null && return 0
				sleep 0.1
			done
		fi
		postfix -c "$d/conf" stop >/dev/null 2>&1
		sleep 0.5
	done
	h_fail "postfix smtpd on 127.0.0.1:$POSTFIX_PORT (see $d/start.log, $POSTFIX_LOG)" \
		"$(tail -2 "$d/start.log")" "listening"
	return 1
}

postfix_send() {
	swaks --server "127.0.0.1:$POSTFIX_PORT" --timeout 15 "$@" 2>&1
}

postfix_count() {
	find "$SINK_DIR" -type f | wc -l
}

postfix_have() {
	[ "$(postfix_count)" -ge "$1" ]
}

postfix_wait_delivered() {
	h_wait "$1 messages delivered to the sink (log: $POSTFIX_LOG)" 30 postfix_have "$1"
}

postfix_delivered() {
	find "$SINK_DIR" -type f -printf '%T@ %p\n' | sort -n | sed -n "${1}p" | cut -d' ' -f2-
}

# postfix_message N - the message as Postfix delivered it: without
# smtp-sink's envelope lines (X-Client-Addr:, X-Helo-Args:, ...) and the
# Received: header smtp-sink itself prepends
postfix_message() {
	local f
	f=$(postfix_delivered "$1")
	[ -n "$f" ] || return 1
	sed 's/\r$//' "$f" | awk '
	st == 0 && /^X-(Client-(Addr|Proto)|Helo-Args|Mail-Args|Rcpt-Args|Message-Size):/ { next }
	st == 0 && /^Received: / { st = 1; r = $0; next }
	st == 1 && /^[ \t]/ { r = r "\n" $0; next }
	st == 1 { st = 2; if (r !~ /by smtp-sink/) print r }
	{ st = 2; print }'
}

# postfix_message_with TEXT - the delivered message containing TEXT (e.g. a
# unique Subject), as postfix_message prints it
postfix_message_with() {
	local i n
	n=$(postfix_count)
	for ((i = 1; i <= n; i++)); do
		if grep -qF -- "$1" "$(postfix_delivered "$i")"; then
			postfix_message "$i"
			return 0
		fi
	done
	return 1
}

# milter_scratch_conf AUTHSERV - start a scratch PowerDNS (pdns.sh) and write
# $C = $H/mxdock.conf pointing at it, with milter_authserv_id AUTHSERV; the
# test appends its own keys.
milter_scratch_conf() {
	pdns_start sqlite || return 1
	C="$H/mxdock.conf"
	pdns_conf "$C"
	echo "milter_authserv_id = $1" >>"$C"
}

# milter_dmarc_conf - milter_scratch_conf mx.dmarc.test for the DMARC tests:
# 127.0.0.1 internal and not SPF-checked, dns_timeout 2s, DMARC checked and
# recorded; and the zone "test", so that the RFC 9989 tree walk, which asks
# up to _dmarc.test, gets NXDOMAIN there as the root would answer for a real
# TLD (PowerDNS refuses names outside its zones, and a DNS error in the walk
# is a temperror).  The test appends its own keys.
milter_dmarc_conf() {
	milter_scratch_conf mx.dmarc.test || return 1
	cat >>"$C" <<EOF
milter_internal_hosts = 127.0.0.1/32
spf_skip_addresses = 127.0.0.1/32
dns_timeout = 2s
dmarc_check = yes
dmarc_report_enable = yes
EOF
	pdns_zone test ""
}

milter_mailauth() {
	h_npm_ci || { echo "npm ci failed (log: $H/npm.log)"; return 1; }
	node "$H_TOP/tests/integration/milter_mailauth.js" "$1" "$2" "$3" "$4" \
		"127.0.0.1:$PDNS_DNS_PORT" 2>&1
}

# milter_root_flag CONF - --allow-root when root starts a milter whose CONF
# has no milter_user: the milter refuses that otherwise, as production would
milter_root_flag() {
	[ "$(id -u)" = 0 ] && ! grep -q '^milter_user *= *[^ ]' "$1" && echo --allow-root
}

milter_start() {
	local try
	MILTER_LOG="$H/milter.log"
	# another test may take a port between h_port and our bind: try again
	MILTER_PORT=$(sed -n 's/^milter_socket *= *inet:\([0-9]*\)@.*/\1/p' "$1" | tail -1)
	for try in 1 2 3; do
		if [ "$try" -gt 1 ] || [ -z "$MILTER_PORT" ]; then
			MILTER_PORT=$(h_port)
			sed -i '/^milter_socket *=/d' "$1"
			echo "milter_socket = inet:$MILTER_PORT@127.0.0.1" >>"$1"
		fi
		${MILTER_WRAP:-} "$BINDIR/mxdock-milter" -f $(milter_root_flag "$1") -c "$1" >>"$MILTER_LOG" 2>&1 &
		MILTER_PID=$!
		disown "$MILTER_PID"    # no "Killed" note if it outlives the harness' wait
		h_track "$MILTER_PID"
		for _ in $(seq 1 "${MILTER_WAIT:-100}"); do
			bash -c "exec 3<>/dev/tcp/127.0.0.1/$MILTER_PORT" 2>/dev/null && return 0
			kill -0 "$MILTER_PID" 2>/dev/null || break
			sleep 0.1
		done
	done
	h_fail "mxdock-milter listens (log: $MILTER_LOG)" "$(tail -1 "$MILTER_LOG")" "listening"
	return 1
}
