# sendmail.sh - a real Sendmail 8.17 (Debian 12's sendmail-bin) in front of
# the milter, and an smtp-sink that captures what it delivers (source after
# harness.sh and postfix.sh, whose sink helpers it reuses).
#
#   sendmail_start MILTER_PORT  fetch sendmail-bin and sendmail-cf once
#                               (cached in $BUILDDIR/sendmail-debs), unpack
#                               them into the scratch directory (never
#                               installed: sendmail-bin conflicts with
#                               Postfix), build a .cf with m4 and start
#                               Sendmail as root in the foreground.  Sets
#                               SENDMAIL_PORT (127.0.0.1), SENDMAIL_DIR,
#                               SENDMAIL_PID, SENDMAIL_TRAFFIC (-X record),
#                               SINK_DIR; POSTFIX_DIR = SENDMAIL_DIR so that
#                               postfix_wait_delivered / postfix_message work
#   sendmail_sasl USER PASS     (before sendmail_start) AUTH PLAIN/LOGIN for
#                               USER from a Cyrus sasldb; Sendmail then sends
#                               {auth_authen} = USER at MAIL
#   sendmail_send ARGS...       swaks to it; prints the transcript
#
# The milter lines of the .mc are read from docs/MILTER.md's Sendmail
# section (between its "sendmail-milter" markers), word for word, with the
# milter port put in place of 8891: the documented configuration is the
# tested one.  Before it reads its .cf Sendmail resolves its own host name
# and waits when it is not fully qualified: it runs under `unshare --mount
# --uts` with the host name mx.sendmail.test and its own /etc/hosts,
# resolv.conf (127.0.0.1) and nsswitch.conf bind-mounted, visible to it
# alone, so no query leaves the machine.  /usr/sbin/sendmail (Postfix's) is
# never run.  Sendmail is stopped on exit (its pid).

sendmail_sasl() {
	SENDMAIL_SASL_USER=$1
	SENDMAIL_SASL_PASS=$2
}

# sendmail_write_sasl - Sendmail.conf and the sasldb, in a directory that
# its namespace sees as /usr/lib/sasl2 (Cyrus SASL's config path)
sendmail_write_sasl() {
	local d=$1
	mkdir -p "$d/sasl2"
	cp -p /usr/lib/sasl2/* "$d/sasl2/" 2>/dev/null
	[ -n "$SENDMAIL_SASL_USER" ] || return 0
	printf '%s\n' "pwcheck_method: auxprop" "auxprop_plugin: sasldb" \
		"sasldb_path: $d/sasl2/sasldb2" "mech_list: PLAIN LOGIN" >"$d/sasl2/Sendmail.conf"
	printf '%s' "$SENDMAIL_SASL_PASS" |
		saslpasswd2 -p -c -f "$d/sasl2/sasldb2" -u mx.sendmail.test "$SENDMAIL_SASL_USER"
	chmod 600 "$d/sasl2/sasldb2"
}

# sendmail_root - the .debs cached in $BUILDDIR/sendmail-debs (only .deb
# files there: the Makefile reads every *.d under build/ as dependencies,
# and the package holds etc/init.d), unpacked into the scratch directory
sendmail_root() {
	local cache="${BUILDDIR:-$H_TOP/build}/sendmail-debs" deb
	SENDMAIL_ROOT="$SENDMAIL_DIR/root"
	mkdir -p "$cache" || return 1
	if ! ls "$cache"/sendmail-bin_*.deb "$cache"/sendmail-cf_*.deb >/dev/null 2>&1; then
		(cd "$cache" && apt-get download sendmail-bin sendmail-cf) >"$SENDMAIL_DIR/download.log" 2>&1 ||
			{ h_fail "apt-get download sendmail-bin sendmail-cf" \
				"$(tail -1 "$SENDMAIL_DIR/download.log")" "downloaded"; return 1; }
	fi
	for deb in "$cache"/sendmail-bin_*.deb "$cache"/sendmail-cf_*.deb; do
		dpkg -x "$deb" "$SENDMAIL_ROOT" || return 1
	done
}

# sendmail_milter_lines - the milter part of the .mc, from docs/MILTER.md
sendmail_milter_lines() {
	awk '/<!-- sendmail-milter-begin -->/ { p = 1; next }
		/<!-- sendmail-milter-end -->/ { p = 0 }
		p && !/^```/' "$H_TOP/docs/MILTER.md" | sed "s/8891@127.0.0.1/$1@127.0.0.1/"
}

sendmail_write_mc() {
	local d=$1 milter=$2
	cat >"$d/sendmail.mc" <<EOF
divert(0)dnl
include(\`$SENDMAIL_ROOT/usr/share/sendmail/cf/m4/cf.m4')dnl
VERSIONID(\`mxdock test instance')dnl
OSTYPE(\`linux')dnl
define(\`MAIL_SETTINGS_DIR', \`$d/')dnl
define(\`QUEUE_DIR', \`$d/queue')dnl
define(\`confPID_FILE', \`$d/sendmail.pid')dnl
define(\`confDOMAIN_NAME', \`mx.sendmail.test')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confDONT_BLAME_SENDMAIL', \`GroupWritableDirPathSafe')dnl
define(\`confHOSTS_FILE', \`$d/hosts')dnl
define(\`confTO_IDENT', \`0s')dnl
define(\`SMART_HOST', \`esmtp:[127.0.0.1]')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h $SINK_PORT')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`promiscuous_relay')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`accept_unresolvable_domains')dnl
DAEMON_OPTIONS(\`Port=$SENDMAIL_PORT, Addr=127.0.0.1, Name=MTA')dnl
$(sendmail_milter_lines "$milter")
$(sendmail_auth_lines)
MAILER(\`local')dnl
MAILER(\`smtp')dnl
EOF
}

sendmail_auth_lines() {
	[ -n "$SENDMAIL_SASL_USER" ] || return 0
	echo "define(\`confAUTH_MECHANISMS', \`PLAIN LOGIN')dnl"
	echo "TRUST_AUTH_MECH(\`PLAIN LOGIN')dnl"
}

# sendmail_write_ns - the files its namespace sees instead of the host's
sendmail_write_ns() {
	local d=$1
	echo "127.0.0.1 mx.sendmail.test localhost" >"$d/hosts"
	echo "hosts: files" >"$d/nsswitch.conf"
	printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$d/resolv.conf"
	printf 'hosts files\naliases files\n' >"$d/service.switch"
	: >"$d/aliases"
	: >"$d/local-host-names"
	cat >"$d/run.sh" <<EOF
mount --bind "$d/hosts" /etc/hosts &&
mount --bind "$d/resolv.conf" /etc/resolv.conf &&
mount --bind "$d/nsswitch.conf" /etc/nsswitch.conf &&
mount --bind "$d/sasl2" /usr/lib/sasl2 &&
hostname mx.sendmail.test || exit 71
exec "$SENDMAIL_ROOT/usr/libexec/sendmail/sendmail" -C "$d/sendmail.cf" -bD -q30s \\
	-X "$SENDMAIL_TRAFFIC"
EOF
}

sendmail_listening() {
	bash -c "exec 3<>/dev/tcp/127.0.0.1/$SENDMAIL_PORT" 2>/dev/null
}

sendmail_start() {
	local d="$H/sendmail" try
	SENDMAIL_DIR=$d
	POSTFIX_DIR=$d
	SINK_DIR="$d/sink"
	SENDMAIL_TRAFFIC="$d/traffic.log"
	mkdir -p "$d/queue" "$SINK_DIR" && sendmail_root || return 1
	chmod 700 "$d/queue" && chown postfix "$SINK_DIR" || return 1
	postfix_sink || return 1
	sendmail_write_ns "$d"
	sendmail_write_sasl "$d"
	h_on_exit "kill \$(head -1 '$d/sendmail.pid' 2>/dev/null) 2>/dev/null"
	for try in 1 2 3; do
		SENDMAIL_PORT=$(h_port)
		sendmail_write_mc "$d" "$1"
		m4 "$d/sendmail.mc" >"$d/sendmail.cf" 2>"$d/m4.log" ||
			{ h_fail "m4 sendmail.mc" "$(tail -1 "$d/m4.log")" "a .cf"; return 1; }
		unshare --mount --uts sh "$d/run.sh" >>"$d/sendmail.log" 2>&1 &
		SENDMAIL_PID=$!
		h_track "$SENDMAIL_PID"
		for _ in $(seq 1 100); do
			sendmail_listening && return 0
			kill -0 "$SENDMAIL_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill "$SENDMAIL_PID" 2>/dev/null
	done
	h_fail "sendmail on 127.0.0.1:$SENDMAIL_PORT (log: $d/sendmail.log)" \
		"$(tail -2 "$d/sendmail.log")" "listening"
	return 1
}

sendmail_send() {
	swaks --server "127.0.0.1:$SENDMAIL_PORT" --timeout 15 "$@" 2>&1
}
