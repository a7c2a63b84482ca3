#!/bin/bash
# policy_postfix.sh - quota and the auth-attempt policy end to end: a real
# Postfix (with Cyrus SASL) in front of mxdock-milter, MariaDB behind it.
#   - over-quota recipient 452 at RCPT, the other recipient gets the message;
#     SIZE= that would exceed refused at RCPT; a message that grows past the
#     quota without SIZE= refused at end of data;
#   - 10 real failed `swaks --auth` logins, read from Postfix's log by
#     watch-log: the next connection from that IP gets 421, another IP is
#     accepted, a second milter instance on the same database refuses it
#     too, and after `authfail unban` it is accepted;
#   - two recipients, one over quota at end of data: accepted (the other
#     gets it), logged; quota_warn_percent: a log line, no header;
#   - an SQL-injection address answered normally, tables intact;
#   - a sender mismatch is recorded, but not in dry run;
#   - mariadbd killed: RCPT answers 451 4.3.0 (quota_db_error_action =
#     tempfail), restarted: quota again; authfail_db_error_action =
#     tempfail: 451 4.3.0 at HELO, not 421.
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/mariadb.sh"
source "$H_TOP/tests/lib/postfix.sh"
h_init policy_postfix
mariadb_start || { h_done; exit 1; }

C=$H/mxdock.conf
MPORT=$(h_port)
cat >"$C" <<EOF
milter_socket = inet:$MPORT@127.0.0.1
quota_enable = yes
quota_cache_ttl = 0
authfail_enable = yes
authfail_exempt = 127.0.0.1/32
mysql_timeout = 1s
quota_db_error_action = tempfail
EOF
mariadb_conf "$C"
P() { "$BINDIR/mxdock-policy" -c "$C" "$@"; }
P init-db >/dev/null
mariadb_db mxdock <"$H_TOP/docs/policy-schema.sql"
mariadb_db mxdock "INSERT INTO accounts (name, quota) VALUES ('bob', 100000), ('full', 100000),
		('small', 5000), ('warn', 100000);
	INSERT INTO emails (name, address) VALUES ('bob', 'bob@example.org'),
		('full', 'full@example.org'), ('small', 'small@example.org'),
		('warn', 'warn@example.org');
	INSERT INTO mailbox_usage VALUES ('bob', 1000, NOW()), ('full', 100000, NOW()),
		('small', 1000, NOW()), ('warn', 95000, NOW());"

milter_start "$C"
postfix_sasl user@example.org right-password
postfix_start "inet:127.0.0.1:$MPORT" || { h_done; exit 1; }
# Debian's smtpd reads $config_directory/sasl/smtpd.conf (seen with strace),
# not cyrus_sasl_config_path: put the SASL config there too
if [ ! -e "$POSTFIX_DIR/conf/sasl/smtpd.conf" ]; then
	mkdir -p "$POSTFIX_DIR/conf/sasl"
	cp "$POSTFIX_DIR/sasl/smtpd.conf" "$POSTFIX_DIR/conf/sasl/"
	postfix -c "$POSTFIX_DIR/conf" reload >/dev/null 2>&1
	sleep 1
fi

# ---- quota at RCPT and at end of data -----------------------------------------
out=$(postfix_send --local-interface 127.0.0.2 --from alice@sender.test \
	--to full@example.org,bob@example.org --body "hello")
h_has "over-quota recipient: 452 at RCPT" "$out" "452 4.2.2 <full@example.org>: mailbox full"
h_has "the other recipient is accepted" "$out" "250 2.0.0 Ok: queued"
h_wait "1 message delivered to the sink" 30 sh -c "[ \$(find '$SINK_DIR' -type f | wc -l) -ge 1 ]"
h_eq "delivered to bob only" "$(grep -c '^X-Rcpt-Args' "$(postfix_delivered 1)"),$(grep -o '<[a-z]*@example.org>' "$(postfix_delivered 1)" | sort -u | tr '\n' ' ')" \
	"1,<bob@example.org> "

smtp_py() {  # smtp_py RCPT[|RCPT] SIZE_OPTION BODY_BYTES [SUBJECT] - one message through smtplib
	python3 - "$POSTFIX_PORT" "$1" "$2" "$3" "${4:-t}" <<'PY'
import smtplib, sys
port, rcpts, size, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
s = smtplib.SMTP(source_address=("127.0.0.2", 0))
s.connect("127.0.0.1", port)
s.ehlo("client.test")
opts = [size] if size else []
code, msg = s.mail("alice@sender.test", opts)
ok = 0
for rcpt in rcpts.split("|"):
    code, msg = s.rcpt(rcpt)
    print("RCPT", code, msg.decode())
    ok += code == 250
if ok:
    code = 250
    body = "Subject: " + sys.argv[5] + "\r\n\r\n" + ("x" * 78 + "\r\n") * (n // 80)
    try:
        code, msg = s.data(body)
    except smtplib.SMTPDataError as e:
        code, msg = e.smtp_code, e.smtp_error
    print("DATA", code, msg.decode())
s.quit()
PY
}
h_has "SIZE= that would exceed: refused at RCPT" "$(smtp_py small@example.org SIZE=4500 100)" \
	"RCPT 452 4.2.2 <small@example.org>: mailbox full"
h_has "SIZE= larger than the quota: 552 5.2.3" "$(smtp_py small@example.org SIZE=6000 100)" \
	"RCPT 552 5.2.3 <small@example.org>: message larger than the mailbox quota"
h_has "SIZE= that fits: accepted" "$(smtp_py small@example.org SIZE=1000 800)" "DATA 250"
# A malformed SIZE= never reaches the milter through Postfix (it answers
# 501 5.5.4 itself), so speak the milter protocol directly (issue 12.16):
# "-1" or an overflowing value is ignored as a hint, not read as ULONG_MAX.
milter_size() {  # milter_size SIZE_ARG RCPT - "continue" or the reply
	PYTHONPATH="$H_TOP/tests/spf" python3 - "127.0.0.1:$MPORT" "$1" "$2" <<'PY'
import struct, sys
from milterclient import Milter, z
m = Milter(sys.argv[1])
m.negotiate()
m.send('D', b'C' + z('j', 'mx.test.invalid', '{daemon_name}', 'smtpd'))
r = m.step('C', z('client.invalid') + b'4' + struct.pack('!H', 25) + z('192.0.2.99'))
r = r or m.step('H', z('client.invalid'))
r = r or m.step('M', z('<alice@sender.test>', 'SIZE=' + sys.argv[2]))
r = r or m.step('R', z('<%s>' % sys.argv[3]))
print('continue' if r is None else ' '.join(r))
m.close()
PY
}
h_eq "milter: SIZE=6000 over the whole quota: 552" "$(milter_size 6000 small@example.org)" \
	"y 552 5.2.3 <small@example.org>: message larger than the mailbox quota"
h_eq "milter: SIZE=-1 ignored, not 552" "$(milter_size -1 small@example.org)" continue
h_eq "milter: SIZE overflow ignored, not 552" "$(milter_size 99999999999999999999999 small@example.org)" continue
# Needs mxdock-milter to pass the real size to policy_eom: Postfix sends no
# {msg_size} macro, so the milter must count header and body bytes itself.
out=$(smtp_py small@example.org "" 4500)
h_has "no SIZE=: accepted at RCPT" "$out" "RCPT 250"
h_has "grew past the quota: refused at end of data" "$out" "DATA 452 4.2.2 <small@example.org>: mailbox full"
# two recipients, one grows past its quota without SIZE=: a milter cannot
# refuse one recipient at end of data, so the other still gets the message
# and the over-quota one is logged (docs/POLICY.md)
n0=$(postfix_count)
out=$(smtp_py "small@example.org|bob@example.org" "" 4500 "two-rcpt-eom")
h_has "two recipients, one over at end of data: accepted" "$out" "DATA 250"
postfix_wait_delivered $((n0 + 1))
h_has "  ... delivered to the other recipient" "$(grep -l 'two-rcpt-eom' "$SINK_DIR"/* | xargs -r cat)" \
	"X-Rcpt-Args: <bob@example.org>"
h_has "  ... the over-quota recipient logged" "$(cat "$MILTER_LOG")" \
	"<small@example.org>: mailbox full (452 4.2.2), delivered anyway"
# quota_warn_percent (90): a log line, never a header that every recipient
# of the one copy would see (it named a possibly Bcc'd address)
n0=$(postfix_count)
out=$(smtp_py "warn@example.org|bob@example.org" "" 200 "warn-eom")
h_has "recipient at 95%: accepted" "$out" "DATA 250"
postfix_wait_delivered $((n0 + 1))
m=$(grep -l 'warn-eom' "$SINK_DIR"/* | xargs -r cat)
h_lacks "  ... no X-Quota-Warning header" "$m" "X-Quota-Warning"
h_has "  ... a log line instead" "$(cat "$MILTER_LOG")" \
	"quota warning: message"
h_has "  ... with the percentage" "$(cat "$MILTER_LOG")" "<warn@example.org> is at 95%"
# SQL injection in an address: answered normally, tables intact
out=$(smtp_py "'; DROP TABLE accounts; --@x" "" 200 "injection")
h_has "injection address: RCPT answered normally" "$out" "RCPT 250"
h_has "injection address: message accepted" "$out" "DATA 250"
h_eq "injection address: tables intact" \
	"$(mariadb_db mxdock "SELECT COUNT(*) FROM accounts; SELECT COUNT(*) FROM emails" | grep -v COUNT | tr '\n' ' ')" "4 4 "

# ---- failed logins from Postfix's own log --------------------------------------
for i in $(seq 10); do
	postfix_send --local-interface 127.0.0.2 --quit-after AUTH --auth LOGIN \
		--auth-user user@example.org --auth-password "wrong-$i" >/dev/null
done
h_wait "10 SASL failures in the Postfix log" 10 \
	sh -c "[ \$(grep -c 'SASL LOGIN authentication failed' '$POSTFIX_LOG') -ge 10 ]"
h_eq "Postfix logged 10 failures" "$(grep -c 'SASL LOGIN authentication failed' "$POSTFIX_LOG")" 10
out=$(postfix_send --local-interface 127.0.0.2 --quit-after AUTH --auth LOGIN \
	--auth-user user@example.org --auth-password right-password)
h_has "the right password works (they were real failures)" "$out" "235 2.7.0 Authentication successful"
P watch-log --state="$H/watch.state" --from-start --once "$POSTFIX_LOG" 2>"$H/watch.log"
h_eq "watch-log recorded 10 failures" "$(mariadb_db mxdock "SELECT COUNT(*), MIN(principal), MIN(protocol) FROM auth_attempt WHERE ip='127.0.0.2'" | tail -1 | tr '\t' ' ')" \
	"10 user@example.org smtp"

out=$(postfix_send --local-interface 127.0.0.2 --from alice@sender.test --to bob@example.org)
h_has "banned IP: 421 at connect" "$out" "421 4.7.0"
h_lacks "banned IP: nothing queued" "$out" "Ok: queued"
out=$(postfix_send --local-interface 127.0.0.3 --from alice@sender.test --to bob@example.org)
h_has "another IP: accepted" "$out" "250 2.0.0 Ok: queued"
h_has "milter logged the refusal" "$(cat "$MILTER_LOG")" "authfail: refused 127.0.0.2"

# a second milter instance on the same database
M1_PID=$MILTER_PID
MPORT2=$(h_port)
sed "s/^milter_socket = .*/milter_socket = inet:$MPORT2@127.0.0.1/" "$C" >"$H/second.conf"
MILTER_LOG_1=$MILTER_LOG
milter_start "$H/second.conf"
postconf -c "$POSTFIX_DIR/conf" -e "smtpd_milters = inet:127.0.0.1:$MPORT2"
postfix -c "$POSTFIX_DIR/conf" reload >/dev/null 2>&1
sleep 1
kill -STOP "$M1_PID"        # the first instance cannot answer any more
out=$(postfix_send --local-interface 127.0.0.2 --from alice@sender.test --to bob@example.org)
h_has "second milter instance: 421 too" "$out" "421 4.7.0"
kill -CONT "$M1_PID"

P authfail unban 127.0.0.2 >/dev/null
out=$(postfix_send --local-interface 127.0.0.2 --from alice@sender.test --to bob@example.org)
h_has "after unban: accepted" "$out" "250 2.0.0 Ok: queued"

# a sender mismatch is an auth-policy event, but not in dry run
# (Postfix now uses the second instance: $H/second.conf)
sender_as_other() {
	postfix_send --local-interface 127.0.0.3 --auth PLAIN --auth-user user@example.org \
		--auth-password right-password --from user@example.org --to bob@example.org \
		--h-From "<ceo@other.test>"
}
attempts3() { mariadb_db mxdock "SELECT COUNT(*) FROM auth_attempt WHERE ip='127.0.0.3'" | tail -1; }
reload_second() {
	local n
	n=$(grep -c 'configuration [0-9]* loaded' "$MILTER_LOG")
	kill -USR1 "$MILTER_PID"
	h_wait "reload ($1)" 10 sh -c "[ \$(grep -c 'configuration [0-9]* loaded' '$MILTER_LOG') -gt $n ]"
}
printf 'milter_sender_check = yes\nmilter_dry_run = yes\n' >>"$H/second.conf"
reload_second "dry run"
h_has "dry run: mismatch accepted" "$(sender_as_other)" "250 2.0.0 Ok: queued"
h_eq "dry run: no auth-policy event recorded" "$(attempts3)" 0
sed -i '/^milter_dry_run/d' "$H/second.conf"
reload_second "no dry run"
h_has "mismatch refused" "$(sender_as_other)" "553 5.7.1"
h_eq "  ... and recorded as an auth-policy event" "$(attempts3)" 1

# ---- database killed under the running milter -----------------------------------
mariadb_kill
out=$(postfix_send --local-interface 127.0.0.2 --from alice@sender.test --to full@example.org)
h_has "database down: RCPT 451 4.3.0" "$out" "451 4.3.0"
h_lacks "database down: connect accepted (no 421)" "$out" "421 4.7.0"
h_eq "milter alive" "$(kill -0 "$MILTER_PID" && echo alive)" alive
mariadb_restart
sleep 1.2
out=$(postfix_send --local-interface 127.0.0.2 --from alice@sender.test --to full@example.org)
h_has "database back: quota decisions resume" "$out" "452 4.2.2 <full@example.org>: mailbox full"
h_eq "outage logged once" "$(grep -c 'policy database unreachable' "$MILTER_LOG")" 1

# authfail_db_error_action = tempfail: the decision's 451 4.3.0 at HELO,
# not the ban's 421 (which would close every session)
printf 'authfail_db_error_action = tempfail\n' >>"$H/second.conf"
reload_second "authfail tempfail"
mariadb_kill
out=$(postfix_send --local-interface 127.0.0.2 --from alice@sender.test --to bob@example.org)
h_has "database down, authfail tempfail: 451 4.3.0" "$out" "451 4.3.0"
h_lacks "  ... not 421" "$out" "421 4.7.0"
h_lacks "  ... nothing queued" "$out" "Ok: queued"
h_lacks "password never logged" "$(cat "$MILTER_LOG" "$MILTER_LOG_1")" "$(cat "$MYSQL_PASSWORD_FILE")"
h_done
