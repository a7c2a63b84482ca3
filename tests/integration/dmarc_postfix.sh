#!/bin/bash
# dmarc_postfix.sh - DMARC through a real Postfix (issue 8 acceptance): a
# scratch PowerDNS publishes a p=reject and a p=none domain, each with SPF
# for 127.0.0.2, and an envelope domain with SPF.  Mail from 127.0.0.2
# (external) whose From is the p=reject domain but whose envelope is not
# aligned is refused 550 5.7.1 rejected by DMARC policy; from the p=none
# domain it is delivered with dmarc=fail; an aligned SPF pass is delivered
# with dmarc=pass; two From fields are refused (dmarc_multifrom_action);
# dmarc_dry_run (SIGUSR1) delivers the p=reject failure with its header.
# p=quarantine mail is put on hold by Postfix (smfi_quarantine).
# dmarc_report_enable with a database that does not answer changes nothing;
# with a real MariaDB each evaluated message is recorded.  A policy found
# only by the RFC 9989 tree walk applies, named in the A-R comment.
# Stopped with SIGTERM at the end: no sanitizer report in its log.
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/pdns.sh"
source "$H_TOP/tests/lib/postfix.sh"
source "$H_TOP/tests/lib/mariadb.sh"
h_init dmarc_postfix

REJ=rejdomain.test
NONE=nonedomain.test
QUAR=quardomain.test
ENV=envelope.test
DEADDB=$(h_port)
milter_dmarc_conf || { h_done; exit 1; }
cat >>"$C" <<EOF
dmarc_dry_run = no
mysql_host = 127.0.0.1
mysql_port = $DEADDB
mysql_timeout = 1s
EOF

spf='\"v=spf1 ip4:127.0.0.2 -all\"'
pdns_zone "$REJ" "$(pdns_rrset "$REJ" TXT "$spf")$(pdns_rrset "$REJ" A 192.0.2.1)$(pdns_rrset "_dmarc.$REJ" TXT '\"v=DMARC1; p=reject\"')"
pdns_zone "$NONE" "$(pdns_rrset "$NONE" TXT "$spf")$(pdns_rrset "$NONE" A 192.0.2.2)$(pdns_rrset "_dmarc.$NONE" TXT '\"v=DMARC1; p=none\"')"
pdns_zone "$QUAR" "$(pdns_rrset "$QUAR" A 192.0.2.4)$(pdns_rrset "_dmarc.$QUAR" TXT '\"v=DMARC1; p=quarantine\"')"
pdns_zone "$ENV" "$(pdns_rrset "$ENV" TXT "$spf")$(pdns_rrset "$ENV" A 192.0.2.3)"
# RFC 9989 tree walk (the default): a policy published only at a parent the
# Public Suffix List would not ask (dept.corp.test; corp.test has none)
pdns_zone corp.test "$(pdns_rrset team.dept.corp.test A 192.0.2.5)$(pdns_rrset _dmarc.dept.corp.test TXT '\"v=DMARC1; p=none\"')"
h_has "p=reject published" "$(pdns_dig "_dmarc.$REJ" TXT)" "p=reject"
h_has "p=none published" "$(pdns_dig "_dmarc.$NONE" TXT)" "p=none"

milter_start "$C"
postfix_start "inet:127.0.0.1:$MILTER_PORT" || { h_done; exit 1; }

send() { # ENVELOPE-FROM HEADER-FROM SUBJECT [SWAKS ARGS...]
	local env=$1 from=$2 subj=$3
	shift 3
	postfix_send --local-interface 127.0.0.2 --ehlo client.example --from "$env" \
		--to bob@example.org --h-From "<$from>" --h-Subject "$subj" --body "dmarc test" "$@"
}

# case table: name, envelope, header From, reply wanted (_ = space), A-R
# text wanted in the delivered message (- = refused)
n=0
while read -r name env from reply ar; do
	out=$(send "$env" "$from" "case $name")
	h_has "$name: reply" "$out" "${reply//_/ }"
	if [ "$ar" != - ]; then
		n=$((n + 1))
		postfix_wait_delivered "$n"
		h_has "$name: Authentication-Results" "$(postfix_message_with "case $name")" "${ar//_/ }"
	fi
done <<EOF
reject user@$ENV user@$REJ 550_5.7.1_rejected_by_DMARC_policy_for_$REJ -
none user@$ENV user@$NONE 250_2.0.0 dmarc=fail_(p=none_sp=none_dis=none)_header.from=$NONE
pass user@$REJ user@$REJ 250_2.0.0 dmarc=pass_(p=reject_sp=reject_dis=none)_header.from=$REJ
walk user@$ENV user@team.dept.corp.test 250_2.0.0 dmarc=fail_(p=none_sp=none_dis=none_org=dept.corp.test/treewalk)_header.from=team.dept.corp.test
EOF

# the SPF part sits in the same, single Authentication-Results header
m=$(postfix_message_with "case none")
h_eq "one Authentication-Results" "$(grep -c '^Authentication-Results:' <<<"$m")" 1
h_has "spf= beside dmarc=" "$m" "spf=pass smtp.mailfrom=$ENV"

# two From fields: dmarc_multifrom_action = reject
out=$(send "user@$REJ" "user@$REJ" "case twofrom" --add-header "From: <other@$NONE>")
h_has "two From: refused" "$out" "550 5.7.1 rejected: 2 From header fields; DMARC needs exactly one From address"

# p=quarantine: the milter quarantine action, Postfix puts it on hold
out=$(send "user@$ENV" "user@$QUAR" "case quarantine")
h_has "quarantine: accepted" "$out" "250 2.0.0"
h_wait "quarantine: held by Postfix" 10 grep -q "milter triggers HOLD action; from=<user@$ENV>" "$POSTFIX_LOG"

# the report database does not answer: the mail above went its way; the
# outage is logged once
h_eq "outage logged once" "$(grep -c "database unreachable" "$MILTER_LOG")" 1

# trusted (internal) mail is not evaluated: delivered without dmarc=
out=$(postfix_send --from "user@$ENV" --to bob@example.org --h-From "<user@$REJ>" \
	--h-Subject "case internal" --body "dmarc test")
h_has "internal: delivered" "$out" "250 2.0.0"
n=$((n + 1))
postfix_wait_delivered "$n"
m=$(postfix_message_with "case internal")
h_lacks "internal: no dmarc=" "$m" "dmarc="

# dmarc_dry_run through SIGUSR1: the checker is rebuilt with the new setting
sed -i 's/^dmarc_dry_run = .*/dmarc_dry_run = yes/' "$C"
kill -USR1 "$MILTER_PID"
h_wait "reload 2" 10 grep -q "configuration 2 loaded" "$MILTER_LOG"
h_has "dry run: delivered" "$(send "user@$ENV" "user@$REJ" "case dryrun")" "250 2.0.0"
n=$((n + 1))
postfix_wait_delivered "$n"
h_has "dry run: header" "$(postfix_message_with "case dryrun")" \
	"dmarc=fail (p=reject sp=reject dis=reject) header.from=$REJ"
h_has "dry run: logged" "$(cat "$MILTER_LOG")" \
	"dmarc dry run: would reject: rejected by DMARC policy for $REJ"

# the report database comes up: each evaluated message is recorded, with
# the disposition applied (reload 3: dry run off, the real database)
mariadb_start || { h_done; exit 1; }
sed -i '/^mysql_/d; s/^dmarc_dry_run = .*/dmarc_dry_run = no/' "$C"
mariadb_conf "$C"
"$BINDIR/mxdock-policy" -c "$C" init-db >/dev/null
kill -USR1 "$MILTER_PID"
h_wait "reload 3" 10 grep -q "configuration 3 loaded" "$MILTER_LOG"
h_has "recorded: reject refused" "$(send "user@$ENV" "user@$REJ" "case rec1")" "550 5.7.1"
h_has "recorded: pass delivered" "$(send "user@$REJ" "user@$REJ" "case rec2")" "250 2.0.0"
h_eq "rows recorded" "$(mariadb_db mxdock "SELECT header_from, disposition, spf_eval, \
	spf_domain, spf_result FROM dmarc_message ORDER BY id" | tail -n +2 | tr '\t\n' ' /')" \
	"$REJ reject fail $ENV pass/$REJ none pass $REJ pass/"

# SIGTERM: the milter stops; in a sanitizer build its leak check runs now
kill -TERM "$MILTER_PID"
h_wait "milter stopped" 15 bash -c "! kill -0 $MILTER_PID 2>/dev/null"
h_lacks "no sanitizer report" "$(cat "$MILTER_LOG")" "Sanitizer"
h_done
