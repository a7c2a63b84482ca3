# peers.sh - the milters under test, each with a scratch configuration of
# its own in $H (source after harness.sh, pdns.sh and corpus.sh).
#
#   peer_opendkim NAME ALG [tcp] opendkim -f, Mode sv, one algorithm (rsa|ed)
#   peer_dkimpy NAME ALG [tcp]   dkimpy-milter, Mode sv (rsa|ed|dual)
#   peer_pyspf NAME [tcp]        pyspf-milter (SPF, Authentication-Results)
#   peer_mxdock NAME ALG [tcp]   mxdock-milter with keys ALG (rsa|ed|dual)
#   peer_null NAME [tcp]         nullmilter: libmilter doing nothing (adds X-Null)
#
# Each listens on a UNIX socket ($H/NAME/sock), or on 127.0.0.1 with
# "tcp", and sets SOCK_<NAME> (the milterload --socket value) and
# PID_<NAME> (the process whose CPU is counted); it returns non-zero, with
# the reason in $H/NAME/why, when the peer does not come up.  Keys: $BK
# (bench_keys).  Internal (signing) client: 127.0.0.1; any other client
# is verified.  PEER_WRAP, when set, is put before the command (valgrind).

# peer_socket NAME TRANSPORT - the milter socket spec for NAME.
peer_socket() {
	if [ "$2" = tcp ]; then
		echo "inet:$(h_port)@127.0.0.1"
	else
		echo "local:$H/$1/sock"
	fi
}

# peer_up NAME PID SOCK - wait until SOCK listens, note PID and SOCK.
peer_up() {
	local name=$1 pid=$2 sock=$3 i port path
	h_track "$pid"
	port=${sock#inet:}
	port=${port%@*}
	path=${sock#local:}
	for ((i = 0; i < 150; i++)); do
		if { [ "${sock%%:*}" = inet ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; } ||
			{ [ "${sock%%:*}" = local ] && [ -S "$path" ]; }; then
			printf -v "SOCK_$name" %s "$sock"
			printf -v "PID_$name" %s "$pid"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "did not listen on $sock (log: $H/$name/log)" >"$H/$name/why"
	return 1
}

peer_opendkim() {
	local name=$1 alg=$2 d="$H/$1" sock sel key sigalg
	mkdir -p "$d"
	sock=$(peer_socket "$1" "$3")
	if [ "$alg" = ed ]; then
		sel=$BENCH_ED_SEL key="$BK/ed.pem" sigalg=ed25519-sha256
	else
		sel=$BENCH_RSA_SEL key="$BK/rsa.pem" sigalg=rsa-sha256
	fi
	echo "$sel._domainkey.$BENCH_DOMAIN $BENCH_DOMAIN:$sel:$key" >"$d/keytable"
	echo "*@$BENCH_DOMAIN $sel._domainkey.$BENCH_DOMAIN" >"$d/signingtable"
	# Verifying keys come from a file (TestDNSData), not DNS: opendkim's
	# libunbound, pointed at 127.0.0.1 (ResolverConfiguration with
	# do-not-query-localhost: no), crashed or tempfailed here as soon as
	# two connections ran at once; without it libunbound will not ask
	# 127.0.0.1 at all.  So opendkim is spared DNS; the others are not.
	{
		echo "$BENCH_RSA_SEL._domainkey.$BENCH_DOMAIN $(cat "$BK/rsa.txt")"
		echo "$BENCH_ED_SEL._domainkey.$BENCH_DOMAIN $(cat "$BK/ed.txt")"
	} >"$d/dnsdata"
	cat >"$d/opendkim.conf" <<EOF
Syslog			no
Socket			$sock
PidFile			$d/pid
Mode			sv
Canonicalization	relaxed/relaxed
SignatureAlgorithm	$sigalg
KeyTable		file:$d/keytable
SigningTable		refile:$d/signingtable
InternalHosts		127.0.0.1
TestDNSData		file:$d/dnsdata
AuthservID		mx.bench.test
RequireSafeKeys		false
EOF
	${PEER_WRAP:-} opendkim -f -x "$d/opendkim.conf" >"$d/log" 2>&1 &
	peer_up "$name" $! "$sock"
}

peer_dkimpy() {
	local name=$1 alg=$2 d="$H/$1" sock
	mkdir -p "$d"
	sock=$(peer_socket "$1" "$3")
	{
		echo "Syslog no"
		echo "Socket $sock"
		echo "PidFile $d/pid"
		echo "UserID root"
		echo "Mode sv"
		echo "Canonicalization relaxed/relaxed"
		echo "Domain $BENCH_DOMAIN"
		echo "InternalHosts 127.0.0.1"
		echo "AuthservID mx.bench.test"
		if [ "$alg" != ed ]; then
			echo "Selector $BENCH_RSA_SEL"
			echo "KeyFile $BK/rsa1.pem"
		fi
		if [ "$alg" != rsa ]; then
			echo "SelectorEd25519 $BENCH_ED_SEL"
			echo "KeyFileEd25519 $BK/ed.seed"
		fi
	} >"$d/dkimpy-milter.conf"
	dkimpy-milter "$d/dkimpy-milter.conf" >"$d/log" 2>&1 &
	peer_up "$name" $! "$sock"
}

peer_pyspf() {
	local name=$1 d="$H/$1" sock
	mkdir -p "$d"
	sock=$(peer_socket "$1" "$2")
	cat >"$d/pyspf-milter.conf" <<EOF
debugLevel = 0
TestOnly = 1
HELO_reject = Fail
Mail_From_reject = Fail
PermError_reject = False
TempError_Defer = False
skip_addresses = 127.0.0.0/8,::1
Socket = $sock
PidFile = $d/pid
UserID = root
InternalHosts = 127.0.0.1
Authserv_Id = mx.bench.test
EOF
	pyspf-milter "$d/pyspf-milter.conf" >"$d/log" 2>&1 &
	peer_up "$name" $! "$sock"
}

peer_null() {
	local name=$1 d="$H/$1" sock
	mkdir -p "$d"
	sock=$(peer_socket "$1" "$2")
	"$BUILDDIR/tests/bench/nullmilter" "$sock" floor >"$d/log" 2>&1 &
	peer_up "$name" $! "$sock"
}

# peer_mxdock NAME ALG [tcp] - the store in $H/NAME/dkim holds the bench
# keys with only ALG's selector(s) active.  Needs a built mxdock-milter
# and a working mxdock-dkim; otherwise says why.  MXDOCK_EXTRA_CONF, when
# set, is appended to its configuration.
peer_mxdock() {
	local name=$1 alg=$2 d="$H/$1" sock
	mkdir -p "$d"
	sock=$(peer_socket "$1" "$3")
	if ! mxdock_ready; then
		echo "$MXDOCK_WHY" >"$d/why"
		return 1
	fi
	pdns_conf "$d/mxdock.conf"
	sed -i "s|^dkim_keydir = .*|dkim_keydir = $d/dkim|" "$d/mxdock.conf"
	cat >>"$d/mxdock.conf" <<EOF
milter_socket = $sock
milter_authserv_id = mx.bench.test
milter_internal_hosts = 127.0.0.1/32
${MXDOCK_EXTRA_CONF:-}
EOF
	if ! mxdock_keys "$d/mxdock.conf" "$d/dkim" "$alg" >"$d/keys.log" 2>&1; then
		echo "mxdock-dkim could not store the bench keys (log: $d/keys.log)" >"$d/why"
		return 1
	fi
	${PEER_WRAP:-} "$BINDIR/mxdock-milter" -f $([ "$(id -u)" = 0 ] && echo --allow-root) -c "$d/mxdock.conf" >"$d/log" 2>&1 &
	peer_up "$name" $! "$sock"
}

# mxdock_ready - mxdock-milter and mxdock-dkim are real programs, not the
# placeholders; else MXDOCK_WHY says what is missing.
mxdock_ready() {
	local out
	out=$("$BINDIR/mxdock-milter" -h 2>&1)
	if [ ! -x "$BINDIR/mxdock-milter" ] || printf '%s' "$out" | grep -q 'not built yet'; then
		MXDOCK_WHY="mxdock-milter is not built yet"
		return 1
	fi
	out=$("$BINDIR/mxdock-dkim" -h 2>&1)
	if [ ! -x "$BINDIR/mxdock-dkim" ] || printf '%s' "$out" | grep -q 'not built yet'; then
		MXDOCK_WHY="mxdock-dkim (the key store) is not built yet"
		return 1
	fi
	return 0
}

# mxdock_keys CONF KEYDIR ALG - the bench's own keys in mxdock's store:
# keygen makes the selectors and the state file, then the PEM files are
# replaced by the bench keys (the same key for every milter) and only the
# selectors of ALG are activated.  Their names go to KEYDIR/{rsa,ed}.sel.
mxdock_keys() {
	local conf=$1 kd=$2 alg=$3 f sel
	"$BINDIR/mxdock-dkim" -c "$conf" keygen "$BENCH_DOMAIN" || return 1
	for f in "$kd/$BENCH_DOMAIN"/*.pem; do
		sel=$(basename "$f" .pem)
		if openssl pkey -in "$f" -noout -text 2>/dev/null | head -1 | grep -qi ed25519; then
			cp "$BK/ed.pem" "$f"
			echo "$sel" >"$kd/ed.sel"
			[ "$alg" = rsa ] && continue
		else
			cp "$BK/rsa.pem" "$f"
			echo "$sel" >"$kd/rsa.sel"
			[ "$alg" = ed ] && continue
		fi
		"$BINDIR/mxdock-dkim" -c "$conf" activate "$BENCH_DOMAIN" "$sel" || return 1
	done
}
