#!/bin/bash
# dmarc_report.sh - DMARC aggregate reports (RFC 9990): evaluated messages
# recorded in a real MariaDB (as the milter records them, through
# tests/dmarc/dmarccheck -m), a day's reports built by `mxdock-policy
# dmarc-report` and validated against the RFC 9990 schema
# (tests/dmarc/rua-9990.xsd) with xmllint, rows merged, then `dmarc-report
# send` through a real Postfix (SASL AUTH after STARTTLS, libcurl) to an
# smtp-sink capture, with the external destination check against a real
# PowerDNS: a dead relay first (failed, recorded, not due again before the
# backoff), then the reports arrive once each, gzipped and valid; a second
# run sends nothing; a report over dmarc_report_max_size is never sent.
source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/pdns.sh"
source "$(dirname "$0")/../lib/mariadb.sh"
source "$(dirname "$0")/../lib/postfix.sh"
h_init dmarc_report
TOP=$H_TOP
XSD=$TOP/tests/dmarc/rua-9990.xsd
CHECK=${BUILDDIR:-$TOP/build}/tests/dmarccheck
[ -x "$CHECK" ] || { h_fail "dmarccheck built" "missing $CHECK" "make unit"; h_done; exit; }

mariadb_start || { h_done; exit; }
pdns_start sqlite || { h_done; exit; }
for zone in test uk; do
	pdns_api POST /servers/localhost/zones "$(node "$TOP/tests/dmarc/zone2json.js" \
		"$TOP/tests/dmarc/zone.txt" "$zone")" >/dev/null
done
h_eq "PowerDNS serves the report authorisation" \
	"$(pdns_dig ext.test._report._dmarc.reports.test TXT)" '"v=DMARC1"'

# the relay: Postfix with SASL, AUTH only after STARTTLS (a self-signed
# certificate for 127.0.0.1), relaying to the smtp-sink capture
postfix_sasl reporter@receiver.test 'rep0rt-s3cret'
postfix_start "" || { h_done; exit; }
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
	-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
	-keyout "$H/relay.key" -out "$H/relay.crt" >/dev/null 2>&1
chmod 644 "$H/relay.key"
postconf -c "$POSTFIX_DIR/conf" -e "smtpd_tls_security_level = may" \
	"smtpd_tls_cert_file = $H/relay.crt" "smtpd_tls_key_file = $H/relay.key" \
	"smtpd_tls_auth_only = yes" "smtpd_tls_loglevel = 1" \
	"smtpd_recipient_restrictions = permit_sasl_authenticated, reject" "notify_classes ="
postconf -c "$POSTFIX_DIR/conf" -M "tlsmgr/unix=tlsmgr unix - - n 1000? 1 tlsmgr"
postfix -c "$POSTFIX_DIR/conf" reload >/dev/null 2>&1
sleep 1
printf '%s\n' 'rep0rt-s3cret' >"$H/smtp.pw"
chmod 600 "$H/smtp.pw"
DEAD=$(h_port)

CONF=$H/mxdock.conf
pdns_conf "$CONF"
mariadb_conf "$CONF"
cat >>"$CONF" <<CONF
dmarc_report_dir = $H/reports
dmarc_report_org_name = mx.receiver.test
dmarc_report_email = dmarc-reports@receiver.test
dmarc_report_smtp_url = smtp://127.0.0.1:$DEAD
dmarc_report_smtp_starttls = yes
dmarc_report_smtp_cafile = $H/relay.crt
dmarc_report_smtp_user = reporter@receiver.test
dmarc_report_smtp_password_file = $H/smtp.pw
dmarc_report_retry_delay = 600
CONF
"$BINDIR/mxdock-policy" -c "$CONF" init-db >/dev/null
h_eq "init-db creates the DMARC report tables" \
	"$(mariadb_db mxdock 'SHOW TABLES' | grep -E '^dmarc_' | sort | tr '\n' ' ')" \
	"dmarc_failure_sent dmarc_message dmarc_policy dmarc_report_sent "

# one day of mail: 3 passing + 2 failing from reject.test (the same source,
# results and identifiers: 2 rows), 1 passing by its second of two
# signatures, 1 from ext.test, 1 under t=y, 1 each from ovr.test and
# ovr2.test (RFC 9990 section 4 step 9 overrides); one more
# pass from an IPv6 client; none the next day
cat >"$H/cases.txt" <<'CASES'
pass1 | a@reject.test | reject.test | mailfrom:pass | reject.test:pass | pass | reject | none |
pass2 | a@reject.test | reject.test | mailfrom:pass | reject.test:pass | pass | reject | none |
pass3 | b@reject.test | reject.test | mailfrom:pass | reject.test:pass | pass | reject | none |
fail1 | a@reject.test | other.test | mailfrom:pass | other.test:pass | fail | reject | reject |
fail2 | a@reject.test | other.test | mailfrom:pass | other.test:pass | fail | reject | reject |
multi | a@reject.test | other.test | mailfrom:fail | other.test:fail,reject.test:pass | pass | reject | none |
ext   | a@ext.test | other.test | mailfrom:fail | ext.test:pass | pass | none | none |
ovr   | a@ovr.test | other.test | mailfrom:pass | - | fail | none | none |
ovr2  | a@ovr2.test | other.test | mailfrom:pass | - | fail | none | none |
test  | a@testing.test | other.test | mailfrom:softfail | - | fail | quarantine | quarantine |
none  | a@nodmarc.test | other.test | mailfrom:pass | - | none | - | none |
CASES
head -1 "$H/cases.txt" >"$H/v6.txt"
DAY=2026-11-20
BEGIN=$(date -u -d "$DAY" +%s)
NOW=$((BEGIN + 43200))
MXDOCK_NOW=$NOW "$CHECK" -c "$CONF" -m 192.0.2.10 "$H/cases.txt" >"$H/eval.out" 2>&1
h_eq "messages evaluated and recorded" "$?" 0
MXDOCK_NOW=$NOW "$CHECK" -c "$CONF" -m 2001:db8::25 "$H/v6.txt" >>"$H/eval.out" 2>&1
MXDOCK_NOW=$((NOW + 86400)) "$CHECK" -c "$CONF" -m 192.0.2.10 "$H/v6.txt" >>"$H/eval.out" 2>&1
h_eq "rows recorded (no row for dmarc=none)" \
	"$(mariadb_db mxdock 'SELECT COUNT(*) FROM dmarc_message' | tail -1)" 12

# ---- build only: the files, valid against the RFC 9990 schema ----
"$BINDIR/mxdock-policy" -c "$CONF" dmarc-report --date=$DAY >"$H/report.out" 2>"$H/report.err"
h_eq "dmarc-report exit" "$?" 0
h_has "dmarc-report summary" "$(cat "$H/report.err")" "$DAY: 5 reports, 11 messages"
for d in reject.test ext.test testing.test; do
	f="$H/reports/mx.receiver.test!$d!$BEGIN!$((BEGIN + 86399)).xml.gz"
	h_eq "report file for $d (RFC 9990 3 file name)" \
		"$([ -s "$f" ] && echo present || echo missing)" present
	gzip -dc "$f" >"$H/$d.xml" 2>/dev/null
	h_eq "report for $d validates against the RFC 9990 schema" \
		"$(xmllint --noout --schema "$XSD" "$H/$d.xml" 2>&1 | tail -1)" "$H/$d.xml validates"
done
xp() { xmllint --xpath "$2" "$H/$1.xml" 2>/dev/null; }
L() { printf "*[local-name()='%s']" "$1"; }
h_eq "reject.test: messages counted" "$(xp reject.test "sum(//$(L count))")" 7
h_eq "reject.test: rows merged (v4 pass x3, v4 fail x2, two signatures, v6 pass)" \
	"$(xp reject.test "count(//$(L record))")" 4
MULTI="//$(L record)[count($(L auth_results)/$(L dkim)) = 2]"
h_eq "reject.test: both signatures reported" "$(xp reject.test "count($MULTI)")" 1
h_eq "reject.test: the aligned pass first (RFC 9990 order)" \
	"$(xp reject.test "string($MULTI/$(L auth_results)/$(L dkim)[1]/$(L domain))")" reject.test
h_eq "reject.test: then the failed one" \
	"$(xp reject.test "string($MULTI/$(L auth_results)/$(L dkim)[2]/$(L result))")" fail
h_eq "reject.test: merged passing row" \
	"$(xp reject.test "string(//$(L row)[$(L source_ip)='192.0.2.10'][$(L policy_evaluated)/$(L dkim)='pass']/$(L count))")" 3
h_eq "reject.test: failing row count" \
	"$(xp reject.test "string(//$(L row)[$(L policy_evaluated)/$(L dkim)='fail']/$(L count))")" 2
h_eq "reject.test: failing row disposition" \
	"$(xp reject.test "string(//$(L policy_evaluated)[$(L dkim)='fail']/$(L disposition))")" reject
h_eq "reject.test: passing row disposition (RFC 9990: pass)" \
	"$(xp reject.test "string(//$(L row)[$(L source_ip)='192.0.2.10'][$(L count)=3]/$(L policy_evaluated)/$(L disposition))")" pass
h_eq "reject.test: IPv6 source in full form" \
	"$(xp reject.test "count(//$(L source_ip)[.='2001:db8:0:0:0:0:0:25'])")" 1
h_eq "reject.test: namespace" "$(xp reject.test "namespace-uri(/*)")" "urn:ietf:params:xml:ns:dmarc-2.0"
h_eq "reject.test: discovery method" "$(xp reject.test "string(//$(L discovery_method))")" treewalk
h_eq "reject.test: no pct (RFC 9990)" "$(xp reject.test "count(//$(L pct))")" 0
h_eq "reject.test: DKIM selector" "$(xp reject.test "string(//$(L auth_results)/$(L dkim)/$(L selector))")" sel1
h_eq "testing.test: t=y published" "$(xp testing.test "string(//$(L testing))")" y
h_eq "testing.test: policy_test_mode reason" \
	"$(xp testing.test "string(//$(L reason)/$(L type))")" policy_test_mode
h_eq "ext.test: SPF result kept" "$(xp ext.test "string(//$(L spf)/$(L result))")" fail

"$BINDIR/mxdock-policy" -c "$CONF" dmarc-report --date=2026-11-19 >/dev/null 2>"$H/empty.err"
h_has "a day without mail: no report" "$(cat "$H/empty.err")" "2026-11-19: 0 reports, 0 messages"
"$BINDIR/mxdock-policy" -c "$CONF" dmarc-report --date=2026-13-01 >/dev/null 2>"$H/bad.err"
h_eq "bad date: EX_USAGE" "$?" 64
h_has "bad date: message" "$(cat "$H/bad.err")" 'bad date "2026-13-01"'

# ---- bad SMTP settings: one line, EX_CONFIG, nothing claimed ----
chmod 644 "$H/smtp.pw"
"$BINDIR/mxdock-policy" -c "$CONF" dmarc-report send >/dev/null 2>"$H/cfg.err"
h_eq "world-readable password file: EX_CONFIG" "$?" 78
h_has "world-readable password file: named" "$(cat "$H/cfg.err")" "dmarc_report_smtp_password_file"
h_lacks "world-readable password file: not printed" "$(cat "$H/cfg.err")" "rep0rt-s3cret"
h_eq "nothing claimed" "$(mariadb_db mxdock 'SELECT COUNT(*) FROM dmarc_report_sent' | tail -1)" 0
chmod 600 "$H/smtp.pw"

# ---- send: a dead relay first ----
SEND1=$((BEGIN + 86400 + 3600))     # the next day, 01:00 UTC: yesterday's reports
send() { MXDOCK_NOW=$1 "$BINDIR/mxdock-policy" -c "$CONF" dmarc-report send >"$H/send.out" 2>"$H/send.err"; }
sent_rows() { mariadb_db mxdock "SELECT policy_domain, uri, status, attempts FROM dmarc_report_sent ORDER BY uri" | tail -n +2 | tr '\t' ' ' | tr '\n' ';'; }
send $SEND1
h_eq "dead relay: EX_TEMPFAIL" "$?" 75
h_has "dead relay: failures counted" "$(cat "$H/send.err")" "0 sent, 3 failed, 2 refused"
h_has "unauthorised external rua refused" "$(cat "$H/send.err")" \
	"unauth.test did not authorise reports (no ext.test._report._dmarc.unauth.test)"
h_eq "dead relay: recorded" "$(sent_rows)" \
	"ext.test mailto:agg@reports.test failed 1;ext.test mailto:agg@unauth.test refused 0;reject.test mailto:dmarc@reject.test failed 1;ovr.test mailto:x@reports.test failed 1;ovr2.test mailto:y@reports.test refused 0;"
h_has "step 9: an override to another host refuses both" "$(cat "$H/send.err")" \
	"the authorising record of reports.test points rua= to another host, evil.test"
sed -i "s|^dmarc_report_smtp_url = .*|dmarc_report_smtp_url = smtp://127.0.0.1:$POSTFIX_PORT|" "$CONF"
send $((SEND1 + 60))
h_eq "relay back, retry not due: exit" "$?" 0
h_has "retry not due: nothing sent" "$(cat "$H/send.err")" "0 sent, 0 failed, 0 refused, 5 done or not due"
send $((SEND1 + 601))
h_eq "retry due: exit" "$?" 0
h_has "retry due: all three sent" "$(cat "$H/send.err")" "3 sent, 0 failed, 0 refused"
postfix_wait_delivered 3
h_eq "recorded as sent, 2 attempts each" "$(sent_rows)" \
	"ext.test mailto:agg@reports.test sent 2;ext.test mailto:agg@unauth.test refused 0;reject.test mailto:dmarc@reject.test sent 2;ovr.test mailto:x@reports.test sent 2;ovr2.test mailto:y@reports.test refused 0;"
send $((SEND1 + 7200))
h_has "second run sends nothing" "$(cat "$H/send.err")" "0 sent, 0 failed, 0 refused, 5 done or not due"
sleep 2
h_eq "the capture holds 3 reports, not more" "$(postfix_count)" 3
h_has "AUTH over STARTTLS at the relay" "$(cat "$POSTFIX_LOG")" "sasl_username=reporter@receiver.test"
h_has "TLS at the relay" "$(cat "$POSTFIX_LOG")" "TLS connection established from"
h_lacks "the SMTP password is in no log" "$(cat "$POSTFIX_LOG" "$H"/send.err "$H"/*.err)" "rep0rt-s3cret"

# ---- the captured reports parsed back ----
mail=$(postfix_message_with "To: dmarc@reject.test")
h_has "report mail subject (RFC 9990 3)" "$mail" \
	"Subject: Report Domain: reject.test Submitter: mx.receiver.test Report-ID: <$BEGIN.reject.test@mx.receiver.test>"
h_has "attachment file name" "$mail" "filename=\"mx.receiver.test!reject.test!$BEGIN!$((BEGIN + 86399)).xml.gz\""
printf '%s\n' "$mail" | tr -d '\r' | awk '/^Content-Transfer-Encoding: base64/ {b = 1; getline; next} /^--mxdock/ {b = 0} b' |
	base64 -d >"$H/mailed.gz" 2>/dev/null
h_eq "mailed attachment is gzip" "$(gzip -t "$H/mailed.gz" 2>&1 && echo gzip)" gzip
gzip -dc "$H/mailed.gz" >"$H/mailed.xml" 2>/dev/null
h_eq "mailed report validates against the RFC 9990 schema" \
	"$(xmllint --noout --schema "$XSD" "$H/mailed.xml" 2>&1 | tail -1)" "$H/mailed.xml validates"
h_eq "mailed report: rows merged" "$(xmllint --xpath "count(//$(L record))" "$H/mailed.xml")" 4
h_eq "mailed report is the day's report" "$(cmp -s "$H/mailed.xml" "$H/reject.test.xml" && echo same)" same
mail=$(postfix_message_with "To: agg@reports.test")
h_has "the authorised external destination got ext.test's report" "$mail" "Report Domain: ext.test"
mail=$(postfix_message_with "Report Domain: ovr.test")
h_has "step 9: the override address on the same host got ovr.test's report" "$mail" "To: other@reports.test"
h_lacks "step 9: not the published one" "$(cat "$SINK_DIR"/*)" "x@reports.test"

# ---- size limit: a report too large is recorded, never sent, never retried ----
MXDOCK_NOW=$((NOW + 86400)) "$CHECK" -c "$CONF" -m 192.0.2.11 "$H/cases.txt" >/dev/null 2>&1
echo "dmarc_report_max_size = 1000" >>"$CONF"
send $((SEND1 + 86400))
h_has "too large: refused with the reason" "$(cat "$H/send.err")" "exceeds dmarc_report_max_size"
send $((SEND1 + 86400 * 2))
h_has "too large: not tried again" "$(cat "$H/send.err")" "0 sent, 0 failed"
sleep 1
h_eq "too large: nothing reached the capture" "$(postfix_count)" 3
h_done
