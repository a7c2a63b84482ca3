# policy.sh - the RCPT quota decision and the connect-time auth policy
# through the milter protocol (source from run.sh after sections.sh).
#
#   section_policy   a scratch MariaDB with the schema of docs/policy-schema.sql
#                    and two accounts (bob: room left; full: mailbox full);
#                    mxdock-milter verifying inbound mail with quota_enable
#                    and authfail_enable, its quota cache warm (30 s) or cold
#                    (0 = a query for every RCPT), against mxdock without
#                    policy.  Rows: a new SMTP session per message (connect
#                    check + RCPT quota + DKIM verify), and a full mailbox
#                    (452 4.2.2 at RCPT, the message stops there).

# policy_peer NAME TTL - an mxdock with quota and authfail on this database.
policy_peer() {
	local name=$1 ttl=$2
	MXDOCK_EXTRA_CONF="quota_enable = yes
quota_cache_ttl = $ttl
authfail_enable = yes
authfail_exempt = 127.0.0.1/32
$(cat "$H/policy-db.conf")"
	peer "$name" peer_mxdock rsa
	MXDOCK_EXTRA_CONF=
	# the database works for the milter: count its CPU too
	[ -n "${PEER_ARGS[$name]:-}" ] && PEER_ARGS[$name]="${PEER_ARGS[$name]} --pid=$MYSQL_PID"
	[ -f "$H/$name/dkim/rsa.sel" ] && publish "$(cat "$H/$name/dkim/rsa.sel")._domainkey.bench.test" \
		"$(cat "$BK/rsa.txt")"
	return 0
}

# policy_db - the schema and the two accounts.
policy_db() {
	: >"$H/policy-db.conf"
	mariadb_start >"$H/mariadb.out" 2>&1 || return 1
	mariadb_conf "$H/policy-db.conf"
	"$BINDIR/mxdock-policy" -c "$H/policy-db.conf" init-db >/dev/null 2>&1 || return 1
	mariadb_db mxdock <"$TOP/docs/policy-schema.sql" || return 1
	mariadb_db mxdock "INSERT INTO accounts (name, quota) VALUES ('bob', 1000000000),
			('full', 100000);
		INSERT INTO emails (name, address) VALUES ('bob', 'bob@example.org'),
			('full', 'full@example.org');
		INSERT INTO mailbox_usage VALUES ('bob', 1000, NOW()), ('full', 100000, NOW());"
}

section_policy() {
	local sec=policy v="--client-addr=192.0.2.10 --corpus=$H/corpus/rsa/plain-2k.eml"
	if ! mxdock_ready; then
		printf '%s\tall rows\tmx_rsa\t0\tskip\t%s\n' "$sec" "$MXDOCK_WHY" >>"$H/results/$sec.tsv"
		return 0
	fi
	if ! policy_db; then
		printf '%s\tall rows\tmx_qwarm\t0\tskip\t%s\n' "$sec" \
			"the scratch MariaDB or the schema failed (logs in $H/mariadb)" >>"$H/results/$sec.tsv"
		return 0
	fi
	policy_peer mx_qwarm 30s
	policy_peer mx_qcold 0
	row "$sec" "connect check + RCPT quota (room left) + DKIM verify, new session per message" \
		"--conns=2 --session=1 $v --rcpt=bob@example.org --expect-ar=dkim=pass" \
		mx_rsa mx_qwarm mx_qcold
	row "$sec" "RCPT quota, mailbox full: 452 at RCPT, 10 messages per session" \
		"--conns=2 $v --rcpt=full@example.org --expect-verdict=tempfail --expect-reply=452" \
		mx_qwarm mx_qcold
	log "policy done"
}
