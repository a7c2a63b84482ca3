# dovecot.sh - a scratch Dovecot 2.3 (IMAP, passwd-file users) whose auth
# process asks an auth policy server (source after harness.sh).
#
#   dovecot_user USER PASS         add a passwd-file login (before the start)
#   DOVECOT_EXTRA                  more dovecot.conf lines for the next start
#   dovecot_start NAME URL [HEADER]
#                                  Dovecot in $H/dovecot-NAME: IMAP on
#                                  127.0.0.1:$DOVECOT_PORT, auth_policy_server_url
#                                  = URL, auth_policy_server_api_header = HEADER
#                                  (e.g. "Authorization: Bearer TOKEN"); an
#                                  auth socket for Postfix at $DOVECOT_AUTH_SOCKET.
#                                  Sets DOVECOT_DIR, DOVECOT_LOG, DOVECOT_PORT,
#                                  DOVECOT_AUTH_SOCKET (the last instance started)
#   dovecot_imap_login IP PORT USER PASS
#                                  one IMAP LOGIN from local address IP; prints
#                                  "OK" or "NO <server text>"
#   dovecot_postfix_sasl SOCKET    switch the scratch Postfix (postfix.sh) to
#                                  smtpd_sasl_type = dovecot on SOCKET, reload
#   serve_start CONF [LOG]         $BINDIR/mxdock-policy -c CONF serve -f on a
#                                  free port written into CONF as
#                                  policy_http_listen; sets SERVE_PORT,
#                                  SERVE_PID, SERVE_LOG, SERVE_URL
#
# What a scratch Dovecot needs (FIELD-NOTES.md, Dovecot section): its own
# config only (no includes), protocols = imap, plaintext logins allowed on
# loopback, login_trusted_networks empty so the policy sees the client's
# address as "remote", auth_verbose for the "Password mismatch" and "policy
# server refusal" lines, and anvil's auth penalty off so a test's failed
# logins are not slowed (nor by auth_failure_delay).  Runs as root in the
# foreground (dovecot -F); stopped on exit.

DOVECOT_USERS=""

dovecot_user() {
	DOVECOT_USERS="$DOVECOT_USERS$1:{PLAIN}$2::::::
"
}

# dovecot_write_conf DIR URL HEADER PORT - dovecot.conf (mode 0600: it holds
# the policy token)
dovecot_write_conf() {
	local d=$1 url=$2 header=$3 port=$4
	(
		umask 077
		cat >"$d/dovecot.conf" <<EOF
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
info_log_path = $d/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
login_trusted_networks =
auth_mechanisms = plain login
auth_verbose = yes
auth_failure_delay = 0
mail_location = maildir:$d/mail/%n
passdb {
  driver = passwd-file
  args = scheme=PLAIN $d/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$d/mail/%n
}
auth_policy_server_url = $url
auth_policy_server_api_header = $header
auth_policy_hash_nonce = $(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
auth_policy_reject_on_fail = no
auth_policy_server_timeout_msecs = 3000
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    port = 0
  }
}
service auth {
  unix_listener $d/auth-postfix {
    mode = 0660
    user = postfix
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
${DOVECOT_EXTRA:-}
EOF
	)
	[ -n "$header" ] || sed -i '/^auth_policy_server_api_header/d' "$d/dovecot.conf"
}

dovecot_start() {
	local name=$1 url=$2 header=${3:-} d="$H/dovecot-$1" try pid
	mkdir -p "$d/run" "$d/state" "$d/mail"
	chown nobody:nogroup "$d/mail"
	printf '%s' "$DOVECOT_USERS" >"$d/passwd"
	chmod 640 "$d/passwd"
	chgrp dovecot "$d/passwd"
	DOVECOT_DIR=$d
	DOVECOT_LOG="$d/dovecot.log"
	DOVECOT_AUTH_SOCKET="$d/auth-postfix"
	for try in 1 2 3; do
		DOVECOT_PORT=$(h_port)
		dovecot_write_conf "$d" "$url" "$header" "$DOVECOT_PORT"
		dovecot -F -c "$d/dovecot.conf" >>"$d/stdout.log" 2>&1 &
		pid=$!
		disown "$pid"
		h_track "$pid"
		for _ in $(seq 1 100); do
			if bash -c "exec 3<>/dev/tcp/127.0.0.1/$DOVECOT_PORT" 2>/dev/null &&
				[ -S "$DOVECOT_AUTH_SOCKET" ]; then
				return 0
			fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill "$pid" 2>/dev/null
		sleep 0.5
	done
	h_fail "dovecot $name listens (log: $DOVECOT_LOG, $d/stdout.log)" \
		"$(tail -1 "$d/stdout.log" "$DOVECOT_LOG" 2>/dev/null | tail -1)" "listening"
	return 1
}

dovecot_imap_login() {
	python3 - "$@" <<'PY'
import imaplib, socket, sys
ip, port, user, pw = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
class Imap(imaplib.IMAP4):
    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout or 20,
                                        source_address=(ip, 0))
try:
    m = Imap("127.0.0.1", port, timeout=20)
    try:
        m.login(user, pw)
        print("OK")
        m.logout()
    except imaplib.IMAP4.error as e:
        print("NO", str(e))
except Exception as e:
    print("ERROR", type(e).__name__, e)
PY
}

dovecot_postfix_sasl() {
	postconf -c "$POSTFIX_DIR/conf" -e "smtpd_sasl_auth_enable = yes" \
		"smtpd_sasl_type = dovecot" "smtpd_sasl_path = $1" \
		"smtpd_sasl_security_options = noanonymous" "smtpd_tls_security_level = none"
	postfix -c "$POSTFIX_DIR/conf" reload >/dev/null 2>&1
	sleep 1
}

serve_start() {
	local conf=$1 try
	SERVE_LOG=${2:-$H/serve.log}
	for try in 1 2 3; do
		SERVE_PORT=$(h_port)
		sed -i '/^policy_http_listen *=/d' "$conf"
		echo "policy_http_listen = 127.0.0.1:$SERVE_PORT" >>"$conf"
		"$BINDIR/mxdock-policy" -c "$conf" serve -f >>"$SERVE_LOG" 2>&1 &
		SERVE_PID=$!
		disown "$SERVE_PID"
		h_track "$SERVE_PID"
		SERVE_URL="http://127.0.0.1:$SERVE_PORT"
		for _ in $(seq 1 100); do
			bash -c "exec 3<>/dev/tcp/127.0.0.1/$SERVE_PORT" 2>/dev/null && return 0
			kill -0 "$SERVE_PID" 2>/dev/null || break
			sleep 0.1
		done
	done
	h_fail "mxdock-policy serve listens (log: $SERVE_LOG)" "$(tail -1 "$SERVE_LOG")" "listening"
	return 1
}
