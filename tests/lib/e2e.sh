# e2e.sh - the thin path across the whole house, shared by
# tests/integration/e2e_create_sign.sh (which checks it) and tests/demo.sh
# (which shows it).  Source after harness.sh, pdns.sh and postfix.sh.
#
#   e2e_start DOMAIN     scratch PowerDNS + mxdock.conf ($E2E_CONF), then
#                        `mxdock-dns create DOMAIN`, then mxdock-milter and a
#                        Postfix whose smtpd_milters point at it
#   e2e_send_internal N  mail from 127.0.0.1 (internal: signed); prints the
#                        delivered message (delivery number N)
#   e2e_send_external FILE N   FILE sent again from 127.0.0.2 (external:
#                        verified); prints the delivered message
#   e2e_selector ALG     the active selector of ALG (rsa, ed25519)

E2E_AUTHSERV=mx.e2e.test

e2e_start() {
	E2E_DOMAIN=$1
	milter_scratch_conf "$E2E_AUTHSERV" || return 1
	E2E_CONF=$C
	E2E_MPORT=$(h_port)
	cat >>"$E2E_CONF" <<CONF
milter_socket = inet:$E2E_MPORT@127.0.0.1
milter_internal_hosts = 127.0.0.1/32
# the domain publishes p=quarantine: tag (not hold) the tampered message so
# its verdict can be read from what Postfix delivers
dmarc_quarantine_action = tag
CONF
	E2E_CREATE_OUT=$("$BINDIR/mxdock-dns" -c "$E2E_CONF" create "$E2E_DOMAIN" 2>&1)
	E2E_CREATE_RC=$?
	milter_start "$E2E_CONF" || return 1
	postfix_start "inet:127.0.0.1:$E2E_MPORT" || return 1
}

e2e_selector() {
	"$BINDIR/mxdock-dkim" -c "$E2E_CONF" list "$E2E_DOMAIN" |
		awk -v alg="$1" '$3 == alg && $5 == "active" { print $2 }'
}

e2e_send_internal() {
	postfix_send --from "alice@$E2E_DOMAIN" --to bob@example.org \
		--h-From "Alice <alice@$E2E_DOMAIN>" --h-Subject "hello from mxdock" \
		--body "This message was signed by mxdock-milter." >"$H/send-$1.txt"
	postfix_wait_delivered "$1" && postfix_message "$1"
}

e2e_send_external() {
	postfix_send --local-interface 127.0.0.2 --from "alice@$E2E_DOMAIN" \
		--to bob@example.org --data "@$1" >"$H/send-$2.txt"
	postfix_wait_delivered "$2" && postfix_message "$2"
}
