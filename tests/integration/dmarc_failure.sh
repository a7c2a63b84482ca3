#!/bin/bash
# dmarc_failure.sh - DMARC failure reports (RFC 9991) through a real
# Postfix and the milter, with a scratch PowerDNS and MariaDB.  Failing
# mail of a domain that publishes ruf= with fo=1: with
# dmarc_failure_reports off (the default) no report is spooled and
# `dmarc-report send` mails none; on (SIGUSR1) with a limit of 3 per hour,
# 5 failing messages give exactly 3 reports, each to the authorised ruf=
# only, without the body, addresses redacted; a domain without ruf=, a
# policy inherited from a psd=y record and a passing message give none; a
# second send mails nothing more.  Reports go out through the same Postfix
# (from 127.0.0.1: internal, not judged) to the smtp-sink capture.  The
# same day of mail, recorded by the milter, then makes the next day's
# aggregate report (RFC 9990): it arrives once, valid, rows merged.
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/pdns.sh"
source "$H_TOP/tests/lib/postfix.sh"
source "$H_TOP/tests/lib/mariadb.sh"
h_init dmarc_failure

RUF=ruf.test
ENV=envelope.test
milter_dmarc_conf || { h_done; exit 1; }
mariadb_start || { h_done; exit 1; }
mariadb_conf "$C"
cat >>"$C" <<EOF
dmarc_report_dir = $H/reports
dmarc_report_email = dmarc@mx.dmarc.test
dmarc_failure_report_limit = 3
EOF
"$BINDIR/mxdock-policy" -c "$C" init-db >/dev/null

spf='\"v=spf1 ip4:127.0.0.2 -all\"'
pdns_zone "$RUF" "$(pdns_rrset "$RUF" TXT "$spf")$(pdns_rrset "$RUF" A 192.0.2.1)$(pdns_rrset "_dmarc.$RUF" TXT \
	'\"v=DMARC1; p=none; fo=1; ruf=mailto:fail@ruf.test,mailto:f@unauth.test; rua=mailto:agg@ruf.test\"')"
pdns_zone noruf.test "$(pdns_rrset noruf.test A 192.0.2.2)$(pdns_rrset _dmarc.noruf.test TXT '\"v=DMARC1; p=none\"')"
pdns_zone psdzone.test "$(pdns_rrset shop.psdzone.test A 192.0.2.3)$(pdns_rrset _dmarc.psdzone.test TXT \
	'\"v=DMARC1; p=none; psd=y; ruf=mailto:x@psdzone.test\"')"
pdns_zone "$ENV" "$(pdns_rrset "$ENV" TXT "$spf")$(pdns_rrset "$ENV" A 192.0.2.4)"
pdns_zone unauth.test "$(pdns_rrset unauth.test A 192.0.2.5)"
h_has "ruf= published" "$(pdns_dig "_dmarc.$RUF" TXT)" "ruf=mailto:fail@ruf.test"

milter_start "$C"
postfix_start "inet:127.0.0.1:$MILTER_PORT" || { h_done; exit 1; }
echo "dmarc_report_smtp_url = smtp://127.0.0.1:$POSTFIX_PORT" >>"$C"

send() { # ENVELOPE-FROM HEADER-FROM SUBJECT
	postfix_send --local-interface 127.0.0.2 --ehlo client.example --from "$1" \
		--to bob@example.org --h-From "Alice <$2>" --h-Subject "$3" \
		--body "the secret body text of $3"
}
reports() { grep -l "Feedback-Type: auth-failure" "$SINK_DIR"/* 2>/dev/null | wc -l; }
spooled() { ls "$H/reports/failures" 2>/dev/null | wc -l; }
policy_send() { "$BINDIR/mxdock-policy" -c "$C" dmarc-report send >"$H/send.out" 2>"$H/send.err"; }

# ---- off (the default): nothing is spooled, nothing leaves ----
n=0
for i in 1 2; do
	h_has "off: failing message $i delivered" "$(send "user@$ENV" "alice@$RUF" "off $i")" "250 2.0.0"
	n=$((n + 1))
done
postfix_wait_delivered $n
h_has "off: the message failed DMARC" "$(postfix_message_with "off 1")" "dmarc=fail"
h_eq "off: nothing spooled" "$(spooled)" 0
policy_send
h_eq "off: send exit" "$?" 0
sleep 1
h_eq "off: no failure report left" "$(reports)" 0

# ---- on: limit 3 per domain and hour ----
echo "dmarc_failure_reports = yes" >>"$C"
kill -USR1 "$MILTER_PID"
h_wait "reload 2" 10 grep -q "configuration 2 loaded" "$MILTER_LOG"
for i in 1 2 3 4 5; do
	h_has "on: failing message $i delivered" "$(send "user@$ENV" "alice@$RUF" "on $i")" "250 2.0.0"
done
h_has "on: no ruf=" "$(send "user@$ENV" "alice@noruf.test" "noruf")" "250 2.0.0"
h_has "on: psd=y policy" "$(send "user@$ENV" "alice@shop.psdzone.test" "psd")" "250 2.0.0"
h_has "on: passing message" "$(send "user@$RUF" "alice@$RUF" "pass")" "250 2.0.0"
n=$((n + 8))
postfix_wait_delivered $n
h_has "on: the psd message had the PSD's policy" "$(postfix_message_with "Subject: psd")" "dmarc=fail"
h_has "on: the passing message passed" "$(postfix_message_with "Subject: pass")" "dmarc=pass"
h_eq "on: 3 reports spooled (the hour's limit)" "$(spooled)" 3
h_eq "on: the limit counted every failure" \
	"$(mariadb_db mxdock "SELECT policy_domain, sent FROM dmarc_failure_sent" | tail -n +2 | tr '\t' ' ')" \
	"$RUF 5"
policy_send
h_eq "on: send exit" "$?" 0
h_has "on: summary" "$(cat "$H/send.err")" "3 failure reports sent"
h_has "on: unauthorised ruf refused" "$(cat "$H/send.err")" \
	"unauth.test did not authorise reports (no $RUF._report._dmarc.unauth.test)"
h_wait "3 failure reports delivered" 30 bash -c "[ \$(grep -l 'Feedback-Type: auth-failure' '$SINK_DIR'/* 2>/dev/null | wc -l) -ge 3 ]"
sleep 1
h_eq "on: exactly 3 reports" "$(reports)" 3
all=$(cat $(grep -l "Feedback-Type: auth-failure" "$SINK_DIR"/*))
h_eq "on: all to the ruf= address" "$(grep -h '^X-Rcpt-Args:' $(grep -l 'Feedback-Type: auth-failure' "$SINK_DIR"/*) | sed 's/ ORCPT.*//' | sort -u)" \
	"X-Rcpt-Args: <fail@ruf.test>"
h_has "on: RFC 9991 Auth-Failure" "$all" "Auth-Failure: dmarc"
h_has "on: Identity-Alignment" "$all" "Identity-Alignment: none"
h_has "on: multipart/report" "$all" "report-type=feedback-report"
h_has "on: headers only" "$all" "Content-Type: text/rfc822-headers"
h_lacks "on: no body" "$all" "secret body text"
h_lacks "on: no Subject of the message" "$all" "Subject: on 1"
h_has "on: From redacted" "$all" "From: Alice <redacted@$RUF>"
h_has "on: To redacted" "$all" "To: redacted@example.org"
h_has "on: envelope sender redacted" "$all" "Original-Mail-From: redacted@$ENV"
h_lacks "on: no recipient local part" "$all" "bob@example.org"
h_lacks "on: no author local part" "$all" "alice@$RUF"
h_lacks "on: nothing for noruf.test" "$all" "noruf.test"
h_lacks "on: nothing for the PSD's record" "$all" "psdzone.test"

# ---- a second send: nothing more ----
policy_send
h_has "second send: no report" "$(cat "$H/send.err")" "0 failure reports sent"
sleep 1
h_eq "second send: still 3 reports" "$(reports)" 3

# ---- the next day: the aggregate report of the mail the milter recorded ----
TOMORROW=$(($(date -u +%s) + 86400))
MXDOCK_NOW=$TOMORROW "$BINDIR/mxdock-policy" -c "$C" dmarc-report send >"$H/agg.out" 2>"$H/agg.err"
h_eq "aggregate send exit" "$?" 0
h_has "aggregate: one report sent" "$(cat "$H/agg.err")" "1 sent, 0 failed"
h_wait "aggregate report delivered" 30 bash -c "grep -lq 'Report Domain: $RUF' '$SINK_DIR'/*"
agg=$(grep -l "Report Domain: $RUF" "$SINK_DIR"/*)
h_eq "aggregate: to the rua= address" "$(grep -h '^X-Rcpt-Args:' $agg | sed 's/ ORCPT.*//')" "X-Rcpt-Args: <agg@ruf.test>"
tr -d '\r' <"$agg" | awk '/^Content-Transfer-Encoding: base64/ {b = 1; getline; next} /^--mxdock/ {b = 0} b' |
	base64 -d 2>/dev/null | gzip -dc >"$H/agg.xml" 2>/dev/null
h_eq "aggregate: valid against the RFC 9990 schema" \
	"$(xmllint --noout --schema "$H_TOP/tests/dmarc/rua-9990.xsd" "$H/agg.xml" 2>&1 | tail -1)" "$H/agg.xml validates"
L() { printf "*[local-name()='%s']" "$1"; }
h_eq "aggregate: 8 messages of ruf.test (2 off, 5 on, 1 pass)" \
	"$(xmllint --xpath "sum(//$(L count))" "$H/agg.xml")" 8
h_eq "aggregate: merged into 2 rows (the 7 failures are one)" \
	"$(xmllint --xpath "count(//$(L record))" "$H/agg.xml")" 2
h_eq "aggregate: the failing row" \
	"$(xmllint --xpath "string(//$(L row)[$(L policy_evaluated)/$(L spf)='fail']/$(L count))" "$H/agg.xml")" 7
MXDOCK_NOW=$((TOMORROW + 60)) "$BINDIR/mxdock-policy" -c "$C" dmarc-report send >/dev/null 2>"$H/agg2.err"
h_has "aggregate: a second run sends nothing" "$(cat "$H/agg2.err")" "0 sent, 0 failed"
sleep 1
h_eq "aggregate: one report in the capture" "$(grep -l "Report Domain: $RUF" "$SINK_DIR"/* | wc -l)" 1
h_done
