# e2e.sh - the thin path across the whole house, shared by
# tests/integration/e2e_create_sign.sh (which checks it) and tests/demo.sh
# (which shows it), and the milter with quota behind another MTA
# (milter_sendmail.sh, milter_stalwart.sh).  Source after harness.sh,
# pdns.sh and postfix.sh (e2e_quota_milter: mariadb.sh too).
#
#   e2e_start DOMAIN     scratch PowerDNS + mxdock.conf ($E2E_CONF), then
#                        `mxdock-dns create DOMAIN`, then mxdock-milter and a
#                        Postfix whose smtpd_milters point at it
#   e2e_send_internal N  mail from 127.0.0.1 (internal: signed); prints the
#                        delivered message (delivery number N)
#   e2e_send_external FILE N   FILE sent again from 127.0.0.2 (external:
#                        verified); prints the delivered message
#   e2e_selector ALG     the active selector of ALG (rsa, ed25519)
#   e2e_quota_milter DOMAIN AUTHSERV [SQL] <KEYS   PowerDNS, MariaDB, DOMAIN
#                        created, quota accounts, mxdock-milter (no MTA)

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

# e2e_quota_milter DOMAIN AUTHSERV [SQL] <KEYS - scratch PowerDNS and MariaDB;
# $C with tag actions, quota and authfail on, 10.99.0.0/16 internal, and the
# KEYS read from stdin; `mxdock-dns create DOMAIN` and `mxdock-policy init-db`
# (each a check); bob@DOMAIN (1000 of 100000 used) and full@DOMAIN (full),
# then SQL; then mxdock-milter on $C (MILTER_PORT for the MTA)
e2e_quota_milter() {
	local d=$1
	milter_scratch_conf "$2" || return 1
	mariadb_start || return 1
	cat >>"$C" <<EOF
milter_internal_hosts = 10.99.0.0/16
dkim_fail_action = tag
spf_fail_action = tag
dmarc_quarantine_action = tag
quota_enable = yes
quota_cache_ttl = 0
authfail_enable = yes
EOF
	cat >>"$C"
	mariadb_conf "$C"
	"$BINDIR/mxdock-dns" -c "$C" create "$d" >"$H/create.log" 2>&1
	h_eq "mxdock-dns create $d" "$?" 0
	mariadb_policy_db "$C" "INSERT INTO accounts (name, quota) VALUES ('bob', 100000), ('full', 100000);
	INSERT INTO emails (name, address) VALUES ('bob', 'bob@$d'), ('full', 'full@$d');
	INSERT INTO mailbox_usage VALUES ('bob', 1000, NOW()), ('full', 100000, NOW());"
	h_eq "mxdock-policy init-db" "$?" 0
	[ -z "${3:-}" ] || mariadb_db mxdock "$3"
	milter_start "$C"
}
