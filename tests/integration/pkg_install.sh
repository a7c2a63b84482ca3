#!/bin/bash
# pkg_install.sh - the Debian package on this machine (make package-check):
# dpkg -i of $PKGDIR/mxdock_*.deb; files, modes, conffile, the mxdock system
# user; dpkg-statoverride respected by postinst; the milter run the way its
# unit runs it (ExecStart as User=, with Environment=, no systemd as PID 1)
# on a loopback port, one message through a scratch Postfix comes back
# DKIM-signed; then dpkg --purge leaves only the system user (Debian keeps
# system users: files elsewhere may still belong to them).
# Without PKGDIR (tests/run in make check) it runs nothing and says so.
. "$(dirname "$0")/../lib/harness.sh"
h_init pkg_install
if [ -z "$PKGDIR" ]; then
	echo "# not run: needs PKGDIR with the built .deb (make package-check)"
	h_done
	exit 0
fi
source "$H_TOP/tests/lib/postfix.sh"
DEB=$(ls "$PKGDIR"/mxdock_*_"$(dpkg --print-architecture)".deb 2>/dev/null | tail -1)
UNIT=/lib/systemd/system/mxdock-milter.service
DOM=pkg.test

# dpkg_retry ARGS - dpkg, waiting while another apt/dpkg holds the lock
dpkg_retry() {
	local i out
	for i in $(seq 1 180); do
		out=$(dpkg "$@" 2>&1) && { echo "$out"; return 0; }
		grep -q 'lock' <<<"$out" || { echo "$out"; return 1; }
		sleep 5
	done
	echo "$out"
	return 1
}

# mxdock_leftovers - package paths that exist now (purge must leave none)
mxdock_leftovers() {
	find /etc /usr /lib /var/lib -xdev \( -name '*mxdock*' -o -path '/etc/mxdock' \) \
		-not -path '/var/lib/dpkg/statoverride*' 2>/dev/null | sort
}

[ -f "$DEB" ] || { h_fail "package file" "none in $PKGDIR" "mxdock_*.deb"; h_done; exit 1; }
echo "# installing $DEB"
if dpkg-query -W -f='${Status}' mxdock 2>/dev/null | grep -q installed; then
	dpkg_retry --purge mxdock >/dev/null
fi
# a user left by an earlier run: remove it so postinst is seen making it
getent passwd mxdock >/dev/null && ! dpkg-query -W mxdock >/dev/null 2>&1 &&
	deluser --quiet --system mxdock >/dev/null 2>&1
h_on_exit "dpkg-statoverride --remove /etc/mxdock/mxdock.conf; dpkg --purge mxdock"

out=$(dpkg_retry -i "$DEB")
h_eq "dpkg -i exits 0" "$?" 0 || echo "$out" | tail -5
h_eq "package installed" "$(dpkg-query -W -f='${Status}' mxdock)" "install ok installed"

# --- the user, files and modes
pw=$(getent passwd mxdock)
uid=$(cut -d: -f3 <<<"$pw")
[ -n "$pw" ] && [ "$uid" -lt 1000 ] && h_ok "mxdock is a system user (uid $uid)" ||
	h_fail "system user mxdock" "$pw" "uid < 1000"
h_eq "mxdock has no login shell" "$(cut -d: -f7 <<<"$pw")" "/usr/sbin/nologin"
for p in milter dns dkim policy; do
	h_eq "/usr/sbin/mxdock-$p" "$(stat -c '%a %U' /usr/sbin/mxdock-$p 2>&1)" "755 root"
	# hardening=+all: each of these must say yes (devscripts' hardening-check)
	h_eq "mxdock-$p hardened" "$(hardening-check /usr/sbin/mxdock-$p 2>&1 |
		grep -E '^ (Position Independent|Stack protected|Fortify|Read-only reloc|Immediate)' |
		grep -vc ': yes')" 0
done
h_eq "mxdock.conf owner and mode" "$(stat -c '%a %U:%G' /etc/mxdock/mxdock.conf 2>&1)" \
	"640 root:mxdock"
h_eq "/etc/mxdock owner and mode" "$(stat -c '%a %U:%G' /etc/mxdock 2>&1)" "750 root:mxdock"
h_has "mxdock.conf is a conffile" "$(dpkg-query -W -f='${Conffiles}' mxdock)" \
	"/etc/mxdock/mxdock.conf "
h_eq "/var/lib/mxdock owner and mode" "$(stat -c '%a %U:%G' /var/lib/mxdock 2>&1)" \
	"700 mxdock:mxdock"
h_eq "schema in /usr/share/mxdock" \
	"$(cmp /usr/share/mxdock/policy-schema.sql "$H_TOP/docs/policy-schema.sql" && echo same)" same
for m in man5/mxdock.conf.5 man8/mxdock-milter.8 man8/mxdock-dns.8 man8/mxdock-dkim.8 \
	man8/mxdock-policy.8; do
	w=$(man -l /usr/share/man/$m.gz 2>&1 >/dev/null)
	h_eq "man -l $m renders without warnings" "$w$([ -f /usr/share/man/$m.gz ] || echo missing)" ""
done
for u in mxdock-milter.service mxdock-dkim-tick.service mxdock-dkim-tick.timer \
	mxdock-policy-watch.service mxdock-policy-serve.service; do
	[ -f /lib/systemd/system/$u ] && h_ok "unit $u installed" || h_fail "unit $u" missing installed
done
out=$(cd /lib/systemd/system && systemd-analyze verify mxdock-*.service mxdock-*.timer 2>&1)
h_eq "systemd-analyze verify of the installed units" "$out" ""
h_has "bash completion knows the dkim verbs" \
	"$(bash -c 'source /usr/share/bash-completion/bash_completion 2>/dev/null;
		source /usr/share/bash-completion/completions/mxdock-dkim;
		COMP_WORDS=(mxdock-dkim ro); COMP_CWORD=1; COMP_LINE="mxdock-dkim ro";
		COMP_POINT=${#COMP_LINE}; _mxdock; echo "${COMPREPLY[*]}"')" "rotate"

# --- dpkg-statoverride: an admin's owner/mode survives a reinstall
dpkg-statoverride --update --add root root 0600 /etc/mxdock/mxdock.conf
dpkg_retry -i "$DEB" >/dev/null
h_eq "statoverride kept by postinst" "$(stat -c '%a %U:%G' /etc/mxdock/mxdock.conf)" "600 root:root"
dpkg-statoverride --remove /etc/mxdock/mxdock.conf
chown root:mxdock /etc/mxdock/mxdock.conf && chmod 640 /etc/mxdock/mxdock.conf

# --- the unit's way to run the milter
exec_start=$(sed -n 's/^ExecStart=//p' $UNIT)
user=$(sed -n 's/^User=//p' $UNIT)
mapfile -t unit_env < <(sed -n 's/^Environment=//p' $UNIT)
h_eq "unit runs the packaged milter in the foreground" "$exec_start" "/usr/sbin/mxdock-milter -f"
as_unit() {
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "${unit_env[@]}" \
		setpriv --reuid="$user" --regid="$user" --init-groups -- "$@"
}
out=$(as_unit /usr/sbin/mxdock-milter -t 2>&1)
h_eq "the packaged default configuration passes -t as $user" "$out" \
	"mxdock-milter: /etc/mxdock/mxdock.conf: configuration OK"

# scratch settings in the installed conffile (purge removes it): loopback
# port, the DNS resolver on an unused loopback port, no PowerDNS sync
MPORT=$(h_port)
install -d -o mxdock -g mxdock -m 700 /var/lib/mxdock/dkim
cat >>/etc/mxdock/mxdock.conf <<CONF
milter_socket = inet:$MPORT@127.0.0.1
milter_authserv_id = mx.pkg.test
milter_internal_hosts = 127.0.0.1/32
dns_resolver = 127.0.0.1:$(h_port)
dns_timeout = 1s
pdns_api_url =
dkim_algorithms = ed25519
CONF
sel=$(as_unit /usr/sbin/mxdock-dkim keygen $DOM 2>&1 | awk '{ print $1 }' | cut -d. -f1)
as_unit /usr/sbin/mxdock-dkim activate $DOM "$sel" >"$H/activate.log" 2>&1
h_eq "keygen + activate as $user" "$?" 0
h_eq "key store entry owned by mxdock" "$(stat -c '%U' /var/lib/mxdock/dkim/$DOM 2>&1)" mxdock
h_has "bash completion offers the key store's domains" \
	"$(bash -c 'source /usr/share/bash-completion/bash_completion 2>/dev/null;
		source /usr/share/bash-completion/completions/mxdock-dkim;
		COMP_WORDS=(mxdock-dkim rotate pk); COMP_CWORD=2; COMP_LINE="mxdock-dkim rotate pk";
		COMP_POINT=${#COMP_LINE}; _mxdock; echo "${COMPREPLY[*]}"')" "$DOM"

# the tick unit's ExecStart, as its User= with its Environment=
TICK=/lib/systemd/system/mxdock-dkim-tick.service
mapfile -t tick_env < <(sed -n 's/^Environment=//p' $TICK)
# shellcheck disable=SC2046 # ExecStart is split into words, as systemd does
out=$(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "${tick_env[@]}" \
	setpriv --reuid="$(sed -n 's/^User=//p' $TICK)" --regid="$(sed -n 's/^Group=//p' $TICK)" \
	--init-groups -- $(sed -n 's/^ExecStart=//p' $TICK) 2>&1)
h_eq "the tick unit's command runs as mxdock (exit 0)" "$?" 0 || echo "$out" | tail -3

# start_milter - ExecStart as User= with Environment= (no systemd as PID 1);
# MPID is the milter (env, then setpriv, then the milter: one process)
start_milter() {
	# shellcheck disable=SC2086 # ExecStart is split into words, as systemd does
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "${unit_env[@]}" \
		setpriv --reuid="$user" --regid="$user" --init-groups -- $exec_start \
		>>"$H/milter.log" 2>&1 &
	MPID=$!
	h_track "$MPID"
}
# send N SUBJECT - one message of alice@$DOM; prints it delivered, unfolded
send() {
	postfix_send --from "alice@$DOM" --to bob@example.org --h-From "Alice <alice@$DOM>" \
		--h-Subject "$2" --body "Through the packaged milter." >"$H/send-$1.txt"
	postfix_wait_delivered "$1" && postfix_message_with "$2" | sed ':a;N;$!ba;s/\n[ \t]\+/ /g'
}
start_milter
h_wait "packaged milter listens on 127.0.0.1:$MPORT" 20 \
	bash -c "exec 3<>/dev/tcp/127.0.0.1/$MPORT"
h_eq "milter runs as $user" "$(ps -o user=,comm= -p "$MPID" 2>&1 | tr -s ' ')" "$user mxdock-milter"
postfix_start "inet:127.0.0.1:$MPORT" || { h_done; exit 1; }
msg=$(send 1 "packaged one")
h_has "message signed by the packaged milter" "$msg" "d=$DOM; s=$sel;"
h_has "over-signed with the default headers" "$msg" "Message-Id:from:to:subject:date;"

# ExecReload as the unit has it, $MAINPID = the milter
echo "dkim_oversign_headers = from" >>/etc/mxdock/mxdock.conf
reload=$(sed -n 's/^ExecReload=//p' $UNIT)
${reload//\$MAINPID/$MPID}
h_wait "ExecReload reloads the configuration" 10 grep -q "configuration 2 loaded" "$H/milter.log"
msg=$(send 2 "packaged two")
h_has "the reloaded configuration is used" "$msg" "Message-Id:from;"
kill -TERM "$MPID"
h_wait "milter stops on SIGTERM" 15 bash -c "! kill -0 $MPID"

# the socket inside Postfix's chroot, as docs/PACKAGING.md says: a
# directory mxdock:postfix 0750 in the queue directory, Postfix's smtpd
# chrooted there naming it relative to the queue directory
QD=$POSTFIX_DIR/queue
install -d -o mxdock -g postfix -m 0750 "$QD/mxdock"
cat >>/etc/mxdock/mxdock.conf <<CONF
milter_socket = unix:$QD/mxdock/milter.sock
milter_socket_mode = 0666
CONF
sed -i '/^milter_socket = inet:/d' /etc/mxdock/mxdock.conf
start_milter
h_wait "packaged milter makes its unix socket" 20 test -S "$QD/mxdock/milter.sock"
sed -i "s/^\(127.0.0.1:$POSTFIX_PORT inet n - \)n/\1y/" "$POSTFIX_DIR/conf/master.cf"
postconf -c "$POSTFIX_DIR/conf" -e 'smtpd_milters = unix:mxdock/milter.sock'
postfix -c "$POSTFIX_DIR/conf" reload >/dev/null 2>&1
sleep 1
h_has "scratch smtpd is chrooted" "$(postconf -c "$POSTFIX_DIR/conf" -F "127.0.0.1:$POSTFIX_PORT/inet/chroot" 2>&1)" "= y"
msg=$(send 3 "packaged three")
h_has "signed through the socket in the chroot" "$msg" "d=$DOM; s=$sel;"
kill -TERM "$MPID"
h_wait "milter stops on SIGTERM" 15 bash -c "! kill -0 $MPID"

# the HTTP policy server the way its unit runs it: it answers /health
# (database down: MariaDB is on no port here, 503 {"database":"down"})
SERVE=/lib/systemd/system/mxdock-policy-serve.service
HPORT=$(h_port)
cat >>/etc/mxdock/mxdock.conf <<CONF
authfail_enable = yes
policy_http_listen = 127.0.0.1:$HPORT
mysql_host = 127.0.0.1
mysql_port = $(h_port)
mysql_timeout = 1s
CONF
mapfile -t serve_env < <(sed -n 's/^Environment=//p' $SERVE)
# shellcheck disable=SC2046 # ExecStart is split into words, as systemd does
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "${serve_env[@]}" \
	setpriv --reuid="$(sed -n 's/^User=//p' $SERVE)" --regid="$(sed -n 's/^Group=//p' $SERVE)" \
	--init-groups -- $(sed -n 's/^ExecStart=//p' $SERVE) >"$H/serve.log" 2>&1 &
SPID=$!
h_track "$SPID"
h_wait "policy server listens on 127.0.0.1:$HPORT" 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$HPORT"
h_eq "policy server answers /health as the unit runs it" \
	"$(curl -s -m 10 -w ' %{http_code}' "http://127.0.0.1:$HPORT/health")" '{"database":"down"} 503'
h_eq "policy server runs as mxdock" "$(ps -o user=,comm= -p "$SPID" 2>&1 | tr -s ' ')" \
	"mxdock mxdock-policy"
kill -TERM "$SPID"
h_wait "policy server stops on SIGTERM" 15 bash -c "! kill -0 $SPID"

# --- purge
before=$(mxdock_leftovers | wc -l)
out=$(dpkg_retry --purge mxdock)
h_eq "dpkg --purge exits 0" "$?" 0 || echo "$out" | tail -5
left=$(mxdock_leftovers)
echo "# package paths before purge: $before; after: $(wc -w <<<"$left")"
h_eq "purge leaves no file behind" "$left" ""
h_eq "purge removes the dpkg record" "$(dpkg-query -W -f='${Status}' mxdock 2>/dev/null)" ""
h_eq "the system user stays (Debian policy)" "$(getent passwd mxdock | cut -d: -f1)" mxdock
h_done
