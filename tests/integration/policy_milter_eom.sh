#!/bin/bash
# policy_milter_eom.sh - the end-of-message quota check in mxdock-milter,
# spoken to over the milter protocol (tests/integration/policy_milter.py)
# for what a real MTA cannot be made to do on cue (issue 12.18):
#   - 1,001 recipients: the one past the 1,000 the milter keeps is logged as
#     not checked at end of message, and the message is not refused as if
#     every recipient were over quota;
#   - the database killed between RCPT and end of message: logged as a
#     database error and answered by quota_db_error_action, never as
#     "over quota, delivered anyway".
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/mariadb.sh"
source "$H_TOP/tests/lib/postfix.sh"
h_init policy_milter_eom
mariadb_quota_milter || { h_done; exit 1; }
M() { python3 "$H_TOP/tests/integration/policy_milter.py" "127.0.0.1:$MILTER_PORT" 192.0.2.20 "$@" 2>&1; }

# control: one recipient that grows past its quota is refused at end of message
h_eq "one over-quota recipient: refused at eom" "$(M 4500 small@example.org)" \
	"eom reply 452 4.2.2 <small@example.org>: mailbox full"

# 1,000 recipients over at end of message, the 1,001st (bob) under: the
# milter keeps 1,000 for the end-of-message check; bob was only checked at
# RCPT, so the message must not be refused as "every recipient over"
out=$(M 4500 "small+1..1000@example.org,bob@example.org")
h_eq "1,001 recipients: every RCPT continued, message accepted" "$out" "eom continue"
h_has "the unchecked recipient is logged" "$(cat "$MILTER_LOG")" \
	"1 recipient(s) past the first 1000 not checked at end of message (checked at RCPT only)"

# the database dies between RCPT and end of message
cp "$MILTER_LOG" "$H/before"
out=$(M 100 "bob@example.org,small@example.org" "kill -KILL $MYSQL_PID; sleep 0.5")
h_eq "database killed before eom: 451 4.3.0 (quota_db_error_action = tempfail)" "$out" \
	"eom reply 451 4.3.0 temporary policy failure, try again later"
new=$(diff "$H/before" "$MILTER_LOG" | sed -n 's/^> //p')
h_has "  ... logged as a database error" "$new" \
	"policy database error at end of message for 2 recipient(s): tempfail (quota_db_error_action)"
h_lacks "  ... not as over quota" "$new" "delivered anyway"

# quota_db_error_action = accept: accepted, and said so
mariadb_restart
sed -e 's/^quota_db_error_action = .*/quota_db_error_action = accept/' \
	-e '/^milter_socket/d' "$C" >"$H/accept.conf"
milter_start "$H/accept.conf" || { h_done; exit 1; }
cp "$MILTER_LOG" "$H/before"
out=$(M 100 "bob@example.org" "kill -KILL $MYSQL_PID; sleep 0.5")
h_eq "accept: database killed before eom: accepted" "$out" "eom continue"
h_has "  ... logged as not checked" "$(diff "$H/before" "$MILTER_LOG" | sed -n 's/^> //p')" \
	"policy database error at end of message for 1 recipient(s): not checked, accepted"
h_done
