#!/bin/bash
# pkg_guide_postfix.sh - docs/postfix.md followed word for word on this
# machine's real Postfix (make package-check only: it changes /etc/postfix).
# The guide's tagged blocks (docsnip) are run with postconf on /etc/postfix,
# its Dovecot block starts a scratch Dovecot whose auth socket is the one the
# guide names; only the milter port and the submission service's address
# are changed.  Postfix is bound to loopback for the test and relays to an
# smtp-sink.  /etc/postfix is copied aside and put back on exit, pass or
# fail; the Postfix started here is stopped.  The milter is the packaged
# one: installed, or unpacked from $PKGDIR's .deb; else $BINDIR's.
# Without PKGDIR (tests/run in make check) it runs nothing and says so.
. "$(dirname "$0")/../lib/harness.sh"
h_init pkg_guide_postfix
if [ -z "$PKGDIR" ]; then
	echo "# not run: changes the system's /etc/postfix (make package-check)"
	h_done
	exit 0
fi
source "$H_TOP/tests/lib/pdns.sh"
source "$H_TOP/tests/lib/postfix.sh"
source "$H_TOP/tests/lib/dovecot.sh"
source "$H_TOP/tests/lib/mariadb.sh"
source "$H_TOP/tests/lib/docsnip.sh"
GUIDE=$H_TOP/docs/postfix.md
# the packaged binaries: installed, else unpacked from $PKGDIR's .deb
# (pkg_install.sh installs and purges it after this test), else $BINDIR's
DEB=$(ls "$PKGDIR"/mxdock_*_"$(dpkg --print-architecture)".deb 2>/dev/null | tail -1)
if dpkg-query -W -f='${Status}' mxdock 2>/dev/null | grep -q 'ok installed'; then
	BINDIR=/usr/sbin
elif [ -f "$DEB" ] && dpkg-deb -x "$DEB" "$H/deb"; then
	BINDIR=$H/deb/usr/sbin
fi
echo "# milter: $BINDIR/mxdock-milter"
DOM=guide.test
AUTHSOCK=/var/spool/postfix/private/auth

# --- a running system Postfix is stopped for the test and started again
# on exit, after /etc/postfix is back (the exit commands run last first)
if postfix status >/dev/null 2>&1; then
	if [ -d /run/systemd/system ] && systemctl is-active --quiet postfix@-; then
		echo "# the system Postfix runs under systemd: stopped for the test, started after"
		systemctl stop postfix@- postfix
		h_on_exit "systemctl start postfix"
	else
		echo "# the system Postfix is running: stopped for the test, started after"
		postfix stop >/dev/null 2>&1
		h_on_exit "postfix start"
	fi
	h_wait "the system Postfix stops before the test" 30 bash -c '! postfix status'
fi

# --- /etc/postfix aside; put back on exit (after the stop below runs)
cp -a /etc/postfix "$H/etc-postfix"
h_on_exit "rm -rf /etc/postfix && cp -a '$H/etc-postfix' /etc/postfix"
h_on_exit "rm -f $AUTHSOCK"
# the queue IDs of this test's messages, deleted from the system queue on
# exit (a message held or deferred by a failure must not stay behind)
h_on_exit "for q in \$(sed -n 's/.*queued as \\([0-9A-F]*\\).*/\\1/p' '$H'/send-*.txt); do postsuper -d \$q; done"
h_on_exit "for q in \$(sed -n 's/.*postfix\/pickup\[[0-9]*\]: \\([0-9A-F]*\\): uid=0 from=<carol@guide.test>.*/\\1/p' '$H/maillog'); do postsuper -d \$q; done"
h_on_exit "postfix stop; sleep 1; kill \$(cat /var/spool/postfix/pid/master.pid 2>/dev/null) 2>/dev/null"

# --- the milter: scratch PowerDNS with the domain's keys; no internal
# hosts, so only {auth_authen} and {daemon_name} can make it sign
milter_scratch_conf mx.guide.test || { h_done; exit 1; }
"$BINDIR/mxdock-dns" -c "$C" create "$DOM" >"$H/create.log" 2>&1
h_eq "mxdock-dns create $DOM" "$?" 0
# the domain publishes p=quarantine: tag the unsigned message instead of
# holding it in the system's queue
printf 'milter_internal_hosts = 192.0.2.255/32\ndmarc_quarantine_action = tag\n' >>"$C"
docsnip "$GUIDE" mxdock-conf >>"$C" || h_fail "guide has the mxdock-conf block" none one
# the auth feed: mxdock-policy serve on a scratch MariaDB; 127.0.0.1 (the
# messages below) is exempt, 127.0.0.5 earns a ban at 3 failures
mariadb_start || { h_done; exit 1; }
mariadb_conf "$C"
TOKEN=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
(umask 077 && printf '%s\n' "$TOKEN" >"$H/token")
printf '%s\n' "authfail_enable = yes" "authfail_max = 3" "authfail_exempt = 127.0.0.1/32" \
	"mysql_timeout = 1s" "policy_http_token_file = $H/token" >>"$C"
"$BINDIR/mxdock-policy" -c "$C" init-db >"$H/init-db.log" 2>&1
h_eq "mxdock-policy init-db" "$?" 0
serve_start "$C" || { h_done; exit 1; }
milter_start "$C" || { h_done; exit 1; }

# --- Dovecot with the guide's two blocks: the auth socket for Postfix and
# the policy server (its port, token and nonce the scratch ones; these
# lines come after dovecot.sh's own and win)
dovecot_user "carol@$DOM" "s3cret-guide"
DOVECOT_EXTRA=$(docsnip "$GUIDE" dovecot) || h_fail "guide has the dovecot block" none one
pol=$(docsnip "$GUIDE" dovecot-policy) || h_fail "guide has the dovecot-policy block" none one
DOVECOT_EXTRA="$DOVECOT_EXTRA
$(sed -e "s#127.0.0.1:8787/#127.0.0.1:$SERVE_PORT/#" -e "s/Bearer TOKEN\$/Bearer $TOKEN/" \
	-e "s/A-RANDOM-STRING\$/$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')/" <<<"$pol")"
dovecot_start guide "" "X-Replaced-By-The-Guide: 1" || { h_done; exit 1; }
h_eq "Dovecot runs the guide's policy URL" \
	"$(doveconf -c "$DOVECOT_DIR/dovecot.conf" -h auth_policy_server_url 2>&1)" \
	"http://127.0.0.1:$SERVE_PORT/dovecot/policy"
h_wait "Dovecot makes the guide's socket $AUTHSOCK" 10 test -S "$AUTHSOCK"

# --- the guide's postconf blocks on the real /etc/postfix
SUBPORT=$(h_port)
for tag in postconf postconf-sasl postconf-submission; do
	snip=$(docsnip "$GUIDE" "$tag") || { h_fail "guide has the $tag block" none one; continue; }
	snip=$(sed -e "s/:8891'/:$MILTER_PORT'/" -e "s#'submission/inet#'127.0.0.1:$SUBPORT/inet#" \
		-e "s#=submission inet#=127.0.0.1:$SUBPORT inet#" <<<"$snip")
	bash -e -c "$snip" >"$H/$tag.log" 2>&1
	h_eq "the guide's $tag block runs on /etc/postfix" "$?" 0
done
h_eq "main.cf has the guide's smtpd_milters" "$(postconf -h smtpd_milters)" "inet:127.0.0.1:$MILTER_PORT"
h_eq "main.cf has the guide's SASL type" "$(postconf -h smtpd_sasl_type)" dovecot
h_eq "submission service carries ORIGINATING" \
	"$(postconf -P "127.0.0.1:$SUBPORT/inet/milter_macro_daemon_name" 2>&1)" \
	"127.0.0.1:$SUBPORT/inet/milter_macro_daemon_name = ORIGINATING"

# --- test scaffolding: loopback only, no port 25, relay to a sink
POSTFIX_DIR=$H/postfix
SINK_DIR=$POSTFIX_DIR/sink
mkdir -p "$SINK_DIR" && chown postfix "$SINK_DIR"
postfix_sink || { h_done; exit 1; }
POSTFIX_PORT=$(h_port)
POSTFIX_LOG=$H/maillog
: >"$POSTFIX_LOG"
postconf -e 'inet_interfaces = loopback-only' 'inet_protocols = ipv4' \
	"relayhost = [127.0.0.1]:$SINK_PORT" "maillog_file = $POSTFIX_LOG" "maillog_file_prefixes = $H" \
	'smtp_dns_support_level = disabled' 'smtpd_peername_lookup = no' \
	'myhostname = mx.guide.test' 'mydestination =' 'delay_warning_time = 0'
# docs/postfix.md says the milter asks for its macros itself: prove it with
# Postfix's own lists empty
postconf -e 'milter_connect_macros =' 'milter_mail_macros =' 'milter_end_of_data_macros ='
postconf -M# smtp/inet
postconf -M "127.0.0.1:$POSTFIX_PORT/inet=127.0.0.1:$POSTFIX_PORT inet n - y - - smtpd"
grep -q '^postlog' /etc/postfix/master.cf ||
	postconf -M 'postlog/unix-dgram=postlog unix-dgram n - n - 1 postlogd'
out=$(postfix check 2>&1)
h_eq "postfix check" "$out" ""
postfix start >"$H/start.log" 2>&1
h_eq "postfix start (the system instance)" "$?" 0
h_wait "system Postfix listens on 127.0.0.1:$POSTFIX_PORT" 20 \
	bash -c "exec 3<>/dev/tcp/127.0.0.1/$POSTFIX_PORT"
h_wait "system Postfix listens on the submission port $SUBPORT" 20 \
	bash -c "exec 3<>/dev/tcp/127.0.0.1/$SUBPORT"
h_lacks "nothing listens on port 25" "$(ss -Htln | awk '{ print $4 " " }')" ":25 "

# send N SUBJECT PORT ARGS... - one message from carol@$DOM; prints it as
# delivered, or nothing when it was not (then a check on it fails)
send() {
	local n=$1 subj=$2 port=$3
	shift 3
	swaks --server "127.0.0.1:$port" --timeout 15 --from "carol@$DOM" --to bob@example.org \
		--h-From "Carol <carol@$DOM>" --h-Subject "$subj" \
		--body "Sent the way docs/postfix.md says." "$@" >"$H/send-$n.txt" 2>&1
	for _ in $(seq 1 300); do
		postfix_message_with "$subj" && return 0
		sleep 0.1
	done
	return 1
}

m1=$(send 1 "guide plain" "$POSTFIX_PORT")
h_has "no AUTH: checked (Authentication-Results)" "$m1" "Authentication-Results: mx.guide.test"
h_lacks "no AUTH: not signed" "$m1" "DKIM-Signature:"

m2=$(send 2 "guide auth" "$POSTFIX_PORT" --auth PLAIN --auth-user "carol@$DOM" \
	--auth-password "s3cret-guide")
h_has "AUTH through Dovecot accepted" "$(cat "$H/send-2.txt")" "235 2.7.0"
h_has "AUTH: signed ({auth_authen})" "$m2" "d=$DOM;"
printf '%s\n' "$m2" >"$H/m2.eml"
ma=$(milter_mailauth "$H/m2.eml" 127.0.0.1 mx.guide.test "carol@$DOM")
h_eq "mailauth: every signature passes" "$(grep -c "^dkim pass $DOM " <<<"$ma")/$(grep -c '^dkim ' <<<"$ma")" 2/2
dp=$(/usr/bin/python3 "$H_TOP/tests/integration/dkimpy_verify.py" "$H/m2.eml" "127.0.0.1:$PDNS_DNS_PORT" 2>&1)
h_eq "dkimpy: every signature passes" "$(grep -c "^dkimpy pass $DOM " <<<"$dp")/$(grep -c '^dkimpy ' <<<"$dp")" 2/2
swaks --server "127.0.0.1:$POSTFIX_PORT" --timeout 15 --quit-after AUTH --auth PLAIN \
	--auth-user "carol@$DOM" --auth-password "wrong-guide" >"$H/send-bad.txt" 2>&1
h_has "a wrong password is refused by Dovecot" "$(cat "$H/send-bad.txt")" "535 5.7.8"
h_has "Dovecot logged the mismatch" "$(cat "$DOVECOT_LOG")" "Password mismatch"

m3=$(send 3 "guide submission" "$SUBPORT")
h_has "submission without AUTH: signed ({daemon_name} ORIGINATING)" "$m3" "d=$DOM;"

# the auth feed: failed SMTP AUTH on the system Postfix -> Dovecot ->
# serve -> the database; the ban then holds in Dovecot and in the milter
for i in 1 2 3; do
	swaks --server "127.0.0.1:$POSTFIX_PORT" --local-interface 127.0.0.5 --timeout 15 \
		--quit-after AUTH --auth LOGIN --auth-user "carol@$DOM" --auth-password "wrong-$i" \
		>"$H/feed-$i.txt" 2>&1
done
h_has "a wrong SMTP AUTH from 127.0.0.5: 535" "$(cat "$H/feed-1.txt")" "535 5.7.8"
h_eq "3 SMTP AUTH failures recorded through Dovecot and serve" \
	"$(mariadb_db mxdock "SELECT COUNT(*) FROM auth_attempt WHERE ip='127.0.0.5' AND protocol='smtp'" | tail -1)" 3
h_has "banned: Dovecot refuses the right password (IMAP)" \
	"$(dovecot_imap_login 127.0.0.5 "$DOVECOT_PORT" "carol@$DOM" s3cret-guide)" \
	"too many failed authentication attempts"
h_has "banned: the milter refuses SMTP from 127.0.0.5" \
	"$(swaks --server "127.0.0.1:$POSTFIX_PORT" --local-interface 127.0.0.5 --timeout 15 \
		--from "carol@$DOM" --to bob@example.org 2>&1)" "421 4.7.0"

# non_smtpd_milters: sendmail(1) -> pickup -> cleanup -> the milter, which
# Postfix shows as a client 127.0.0.1: signed once that is an internal host
# again (the default milter_internal_hosts has it), reloaded with SIGUSR1
sed -i 's#^milter_internal_hosts = .*#milter_internal_hosts = 127.0.0.1/32#' "$C"
kill -USR1 "$MILTER_PID"
h_wait "milter reloads with 127.0.0.1 internal" 10 grep -q "configuration 2 loaded" "$MILTER_LOG"
printf 'From: Carol <carol@%s>\nTo: bob@example.org\nSubject: guide sendmail\n\nLocal submission.\n' "$DOM" |
	/usr/sbin/sendmail -f "carol@$DOM" bob@example.org
h_eq "sendmail(1) accepts the message" "$?" 0
m4=""
for _ in $(seq 1 300); do m4=$(postfix_message_with "guide sendmail") && break; sleep 0.1; done
h_has "sendmail(1): signed (non_smtpd_milters)" "$m4" "d=$DOM;"
h_has "  ... Postfix showed it to the milter as client 127.0.0.1" \
	"$(grep 'client=127.0.0.1 from=guide.test spf=- dkim=signed' "$MILTER_LOG" | tail -1)" "qid="

qid=$(sed -n 's/.*250 2.0.0 Ok: queued as \([0-9A-F]*\).*/\1/p' "$H/send-2.txt")
h_has "milter logs Postfix's queue id (i)" "$(grep "qid=$qid " "$MILTER_LOG")" "dkim=signed(d=$DOM"

# milter_default_action = tempfail: the milter gone, nothing passes
kill -TERM "$MILTER_PID"
h_wait "milter stops" 15 bash -c "! kill -0 $MILTER_PID"
out=$(swaks --server "127.0.0.1:$POSTFIX_PORT" --timeout 15 --from "carol@$DOM" \
	--to bob@example.org --h-Subject "guide no milter" 2>&1)
h_has "milter down: 451 4.7.1 (milter_default_action = tempfail)" "$out" "451 4.7.1"
h_lacks "milter down: nothing queued" "$out" "queued as"

# --- put /etc/postfix back now and compare (the exit hook does it again
# on a failure above)
postfix stop >/dev/null 2>&1
h_wait "system Postfix stops" 20 bash -c '! postfix status'
rm -rf /etc/postfix && cp -a "$H/etc-postfix" /etc/postfix
h_eq "/etc/postfix restored byte for byte" "$(diff -r "$H/etc-postfix" /etc/postfix 2>&1)" ""
h_done
