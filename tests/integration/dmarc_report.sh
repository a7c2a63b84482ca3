#!/bin/bash
# dmarc_report.sh - DMARC aggregate reports: evaluated messages recorded in a
# real MariaDB (as the milter does, through tests/dmarc/dmarccheck -m), one
# day's reports built by dmarc_report_main (the `mxdock-policy dmarc-report`
# verb), validated against the RFC 7489 schema (tests/dmarc/rua.xsd) with
# xmllint, counted, and sent with --send to a capturing sendmail after the
# RFC 7489 7.1 external-destination check against a real PowerDNS.
source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/pdns.sh"
source "$(dirname "$0")/../lib/mariadb.sh"
h_init dmarc_report
TOP=$H_TOP
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

# the sendmail the reports are handed to: arguments and message to files
cat >"$H/sendmail" <<'SH'
#!/bin/sh
n=$(ls "$(dirname "$0")"/mail.* 2>/dev/null | wc -l)
echo "$*" >"$(dirname "$0")/args.$n"
cat >"$(dirname "$0")/mail.$n"
SH
chmod 755 "$H/sendmail"

CONF=$H/mxdock.conf
pdns_conf "$CONF"
mariadb_conf "$CONF"
cat >>"$CONF" <<CONF
dmarc_report_dir = $H/reports
dmarc_report_org_name = mx.receiver.test
dmarc_report_email = dmarc-reports@receiver.test
dmarc_report_sendmail = $H/sendmail
CONF
"$BINDIR/mxdock-policy" -c "$CONF" init-db >/dev/null
h_eq "init-db creates the DMARC report tables" \
	"$(mariadb_db mxdock 'SHOW TABLES' | grep -E '^dmarc_(message|policy)$' | tr '\n' ' ')" \
	"dmarc_message dmarc_policy "

# one day of mail: 3 passing + 2 failing from reject.test, 1 from ext.test,
# 1 sampled out by pct=0; one more pass from an IPv6 client; none the next day
cat >"$H/cases.txt" <<'CASES'
pass1 | a@reject.test | reject.test | mailfrom:pass | reject.test:pass | pass | reject | none |
pass2 | a@reject.test | reject.test | mailfrom:pass | reject.test:pass | pass | reject | none |
pass3 | b@reject.test | reject.test | mailfrom:pass | reject.test:pass | pass | reject | none |
fail1 | a@reject.test | other.test | mailfrom:pass | other.test:pass | fail | reject | reject |
fail2 | a@reject.test | other.test | mailfrom:pass | other.test:pass | fail | reject | reject |
ext   | a@ext.test | other.test | mailfrom:fail | ext.test:pass | pass | none | none |
pct   | a@pct0.test | other.test | mailfrom:softfail | - | fail | reject | quarantine |
none  | a@nodmarc.test | other.test | mailfrom:pass | - | none | - | none |
CASES
head -1 "$H/cases.txt" >"$H/v6.txt"
DAY=2026-11-20
NOW=$(date -u -d "$DAY 12:00:00" +%s)
MXDOCK_NOW=$NOW "$CHECK" -c "$CONF" -m 192.0.2.10 "$H/cases.txt" >"$H/eval.out" 2>&1
h_eq "messages evaluated and recorded" "$?" 0
MXDOCK_NOW=$NOW "$CHECK" -c "$CONF" -m 2001:db8::25 "$H/v6.txt" >>"$H/eval.out" 2>&1
MXDOCK_NOW=$((NOW + 86400)) "$CHECK" -c "$CONF" -m 192.0.2.10 "$H/v6.txt" >>"$H/eval.out" 2>&1
h_eq "rows recorded (no row for dmarc=none)" \
	"$(mariadb_db mxdock 'SELECT COUNT(*) FROM dmarc_message' | tail -1)" 9

"$BINDIR/mxdock-policy" -c "$CONF" dmarc-report --date=$DAY >"$H/report.out" 2>"$H/report.err"
h_eq "dmarc-report exit" "$?" 0
h_has "dmarc-report summary" "$(cat "$H/report.err")" "$DAY: 3 reports, 8 messages"
BEGIN=$(date -u -d "$DAY" +%s)
for d in reject.test ext.test pct0.test; do
	f="$H/reports/mx.receiver.test!$d!$BEGIN!$((BEGIN + 86399)).xml.gz"
	h_eq "report file for $d (RFC 7489 7.2.1.1 name)" \
		"$([ -s "$f" ] && echo present || echo missing)" present
	gzip -dc "$f" >"$H/$d.xml" 2>/dev/null
	h_eq "report for $d validates against rua.xsd" \
		"$(xmllint --noout --schema "$TOP/tests/dmarc/rua.xsd" "$H/$d.xml" 2>&1 | tail -1)" \
		"$H/$d.xml validates"
done
xp() { xmllint --xpath "$2" "$H/$1.xml" 2>/dev/null; }
h_eq "reject.test: messages counted" "$(xp reject.test "sum(//*[local-name()='count'])")" 6
h_eq "reject.test: rows (v4 pass, v4 fail, v6 pass)" "$(xp reject.test "count(//*[local-name()='record'])")" 3
h_eq "reject.test: failing row count" \
	"$(xp reject.test "string(//*[local-name()='row'][*[local-name()='policy_evaluated']/*[local-name()='dkim']='fail']/*[local-name()='count'])")" 2
h_eq "reject.test: failing row disposition" \
	"$(xp reject.test "string(//*[local-name()='policy_evaluated'][*[local-name()='dkim']='fail']/*[local-name()='disposition'])")" reject
h_eq "reject.test: IPv6 source in full form" \
	"$(xp reject.test "count(//*[local-name()='source_ip'][.='2001:db8:0:0:0:0:0:25'])")" 1
h_eq "reject.test: policy published p" "$(xp reject.test "string(//*[local-name()='policy_published']/*[local-name()='p'])")" reject
h_eq "pct0.test: sampled_out reason" "$(xp pct0.test "string(//*[local-name()='reason']/*[local-name()='type'])")" sampled_out
h_eq "pct0.test: disposition quarantine" "$(xp pct0.test "string(//*[local-name()='disposition'])")" quarantine
h_eq "ext.test: SPF result kept" "$(xp ext.test "string(//*[local-name()='spf']/*[local-name()='result'])")" fail

"$BINDIR/mxdock-policy" -c "$CONF" dmarc-report --date=2026-11-19 >/dev/null 2>"$H/empty.err"
h_has "a day without mail: no report" "$(cat "$H/empty.err")" "2026-11-19: 0 reports, 0 messages"
"$BINDIR/mxdock-policy" -c "$CONF" dmarc-report --date=2026-13-01 >/dev/null 2>"$H/bad.err"
h_eq "bad date: EX_USAGE" "$?" 64
h_has "bad date: message" "$(cat "$H/bad.err")" 'bad date "2026-13-01"'

rm -rf "$H/reports"
"$BINDIR/mxdock-policy" -c "$CONF" dmarc-report --date=$DAY --send >"$H/send.out" 2>"$H/send.err"
h_eq "dmarc-report --send exit" "$?" 0
h_eq "mails handed to sendmail" "$(cat "$H"/args.* 2>/dev/null | sort | tr '\n' ' ')" \
	"-oi -f dmarc-reports@receiver.test -- agg@reports.test -oi -f dmarc-reports@receiver.test -- dmarc@reject.test "
h_has "unauthorised external rua skipped" "$(cat "$H/send.err")" \
	"unauth.test did not authorise reports (no ext.test._report._dmarc.unauth.test)"
mail=$(grep -l "^To: dmarc@reject.test" "$H"/mail.* 2>/dev/null | head -1)
h_has "report mail subject" "$(cat "$mail" 2>/dev/null)" \
	"Subject: Report Domain: reject.test Submitter: mx.receiver.test Report-ID: <mxdock.$BEGIN.reject.test>"
awk '/^Content-Transfer-Encoding: base64/ {b = 1; getline; next} /^--mxdock/ {b = 0} b' "$mail" |
	base64 -d 2>/dev/null | gzip -dc >"$H/mailed.xml" 2>/dev/null
h_eq "mailed attachment is the report" "$(cmp -s "$H/mailed.xml" "$H/reject.test.xml" && echo same)" same
h_done
