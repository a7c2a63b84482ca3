#!/bin/bash
# guide_powerdns.sh - docs/powerdns.md followed word for word: its tagged
# blocks (tests/lib/docsnip.sh) make the pdns database and user in a scratch
# MariaDB, the API key file, the pdns.d file (gmysql, api, api-key,
# webserver), mxdock.conf's lines, and run its check block; only paths
# (/etc, /root -> scratch), ports (3306, 8081, 53 -> scratch) and the mariadb
# client's socket change.  PowerDNS runs the guide's file with scratch lines
# only for where it keeps files and listens.
. "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/mariadb.sh"
source "$H_TOP/tests/lib/docsnip.sh"
h_init guide_powerdns
GUIDE=$H_TOP/docs/powerdns.md
R=$H/root                   # stands for / in the guide's paths
mkdir -p "$R/etc/powerdns/pdns.d" "$R/root"
mariadb_start || { h_done; exit 1; }
DNSPORT=$(h_port)
APIPORT=$(h_port)
getent group mxdock >/dev/null && GRP=mxdock || GRP=root

# guide_block TAG - the guide's block TAG with the scratch substitutions
guide_block() {
	docsnip "$GUIDE" "$1" | sed -e "s#\\(^\\|[ >=]\\)/\\(etc\\|root\\)\\([/ ]\\|\$\\)#\\1$R/\\2\\3#g" \
		-e "s/=3306\$/=$MYSQL_PORT/" -e "s/8081/$APIPORT/g" \
		-e "s/^dns_check_server = 127.0.0.1\$/dns_check_server = 127.0.0.1:$DNSPORT/" \
		-e "s/-g mxdock /-g $GRP /; s/^chgrp mxdock /chgrp $GRP /" \
		-e "s/^dig /dig -p $DNSPORT /"
}
# run_block TAG - run it, the way an admin's root shell would, with
# mariadb on the scratch server and mxdock-dns on the scratch mxdock.conf
run_block() {
	local snip
	snip=$(guide_block "$1") || { h_fail "guide has a $1 block" none one; return 1; }
	MYSQL_SOCKET=$MYSQL_SOCKET PATH="$BINDIR:$PATH" MXDOCK_CONF=$R/etc/mxdock/mxdock.conf \
		bash -e -c "mariadb() { command mariadb --no-defaults -S \"\$MYSQL_SOCKET\" -uroot \"\$@\"; }
$snip" >"$H/$1.out" 2>"$H/$1.err"
}

run_block mariadb
h_eq "guide's database block runs" "$?" 0
h_eq "pdns user has the guide's grants" \
	"$(mariadb_sql "SHOW GRANTS FOR 'pdns'@'127.0.0.1'" 2>&1 | grep -c 'SELECT, INSERT, UPDATE, DELETE ON `pdns`')" 1
h_eq "password file 0600" "$(stat -c %a "$R/root/pdns-db.password")" 600
run_block apikey
h_eq "guide's API key block runs" "$?" 0
h_eq "API key file: group only, not others" "$(stat -c '%a %G' "$R/etc/mxdock/pdns-api.key")" "640 $GRP"
run_block pdns-conf
h_eq "guide's pdns.d block runs" "$?" 0
h_eq "pdns.d file root:pdns 0640" "$(stat -c '%a %U:%G' "$R/etc/powerdns/pdns.d/mxdock.conf")" "640 root:pdns"
h_lacks "no password left unexpanded" "$(cat "$R/etc/powerdns/pdns.d/mxdock.conf")" '$(cat'
h_lacks "the API key is stored hashed, not in clear" "$(cat "$R/etc/powerdns/pdns.d/mxdock.conf")" \
	"$(cat "$R/etc/mxdock/pdns-api.key")"
h_has "  ... as scrypt" "$(grep '^api-key=' "$R/etc/powerdns/pdns.d/mxdock.conf")" 'api-key=$scrypt$'

# Debian's pdns.conf (include-dir) plus where this scratch one keeps its
# files and listens
cat >"$R/etc/powerdns/pdns.conf" <<CONF
include-dir=$R/etc/powerdns/pdns.d
config-dir=$R/etc/powerdns
socket-dir=$H
daemon=no
guardian=no
setuid=
setgid=
local-address=127.0.0.1
local-port=$DNSPORT
security-poll-suffix=
CONF
pdns_server --config-dir="$R/etc/powerdns" >"$H/pdns.log" 2>&1 &
h_track $!
h_wait "pdns_server with the guide's file answers its API on $APIPORT (log: $H/pdns.log)" 20 \
	curl -sf -H "@$(umask 077; f=$H/hdr; echo "X-API-Key: $(cat "$R/etc/mxdock/pdns-api.key")" >"$f"; echo "$f")" \
	"http://127.0.0.1:$APIPORT/api/v1/servers/localhost"

# mxdock.conf: the guide's block, plus where the scratch keys go
mkdir -p "$H/dkim" && chmod 700 "$H/dkim"
{
	echo "dkim_keydir = $H/dkim"
	echo "mta_sts_policy_dir = $H/mta-sts"
	echo "dns_template_dir = $H/templates"
	echo "dns_resolver = 127.0.0.1:$DNSPORT"
	guide_block mxdock-conf
} >"$R/etc/mxdock/mxdock.conf"
run_block check
h_eq "guide's check block exits 0" "$?" 0 || tail -3 "$H/check.err"
out=$(cat "$H/check.out")
h_eq "list shows example.com with its serial" \
	"$(grep -cE "^example\.com[[:space:]]+[0-9]{10}[[:space:]]" <<<"$out")" 1
h_eq "dig answers the guide's MX" "$(tail -1 <<<"$out")" "10 mail.example.com."
h_eq "zone is in the pdns database (gmysql)" \
	"$(mariadb_sql "SELECT name FROM pdns.domains" 2>&1 | sed 1d)" "example.com"
h_has "A of the mail host from dns_server_ipv4" \
	"$(dig +short -p "$DNSPORT" @127.0.0.1 mail.example.com A)" "192.0.2.25"
h_has "DKIM key active after create (TXT seen on dns_check_server)" \
	"$(MXDOCK_CONF=$R/etc/mxdock/mxdock.conf "$BINDIR/mxdock-dkim" list example.com)" "active"
# a wrong key: what section 5 says (exit 77)
echo "0123456789abcdef" >"$H/wrong.key" && chmod 600 "$H/wrong.key"
sed "s#^pdns_api_key_file = .*#pdns_api_key_file = $H/wrong.key#" "$R/etc/mxdock/mxdock.conf" >"$H/wrong.conf"
"$BINDIR/mxdock-dns" -c "$H/wrong.conf" list >/dev/null 2>"$H/wrong.err"
h_eq "wrong API key: exit 77" "$?" 77
h_lacks "wrong key not echoed" "$(cat "$H/wrong.err")" "0123456789abcdef"
h_done
