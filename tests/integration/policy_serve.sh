#!/bin/bash
# policy_serve.sh - mxdock-policy serve as Dovecot's auth policy server,
# end to end with real components: MariaDB, two Dovecot 2.3 instances (IMAP,
# passwd-file users) each asking its own `serve`, Postfix whose SMTP AUTH
# goes through Dovecot's auth socket (smtpd_sasl_type = dovecot), and
# mxdock-milter in front of that Postfix.  One database behind all of it.
#   - 10 wrong IMAP logins and one wrong `swaks --auth` from 127.0.0.3 are
#     recorded from Dovecot's reports (authfail_max = 11: the SMTP failure is
#     the one that bans); the next IMAP login from 127.0.0.3 is refused by
#     the policy with the right password, and a wrong one is refused before
#     Dovecot checks it (no "Password mismatch" line);
#   - an SMTP connection from 127.0.0.3 to the MX gets 421 4.7.0 (the milter);
#   - 127.0.0.4 logs in; a second Dovecot and a second serve refuse
#     127.0.0.3 too; allow records nothing, refusals are not counted again;
#   - the second serve (policy_http_delay_from = 5) makes Dovecot wait 2 s
#     before a login from an address with 6 failures;
#   - `authfail unban 127.0.0.3`: both Dovecots let it in again;
#   - a ban made by watch-log (Postfix log lines) refuses Dovecot logins;
#   - Dovecot's pwhash values appear in neither serve's log nor the database.
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/mariadb.sh"
source "$H_TOP/tests/lib/postfix.sh"
source "$H_TOP/tests/lib/dovecot.sh"
h_init policy_serve
mariadb_start || { h_done; exit 1; }

TOKEN=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
(umask 077; printf '%s\n' "$TOKEN" >"$H/token")
C=$H/mxdock.conf
MPORT=$(h_port)
cat >"$C" <<EOF
milter_socket = inet:$MPORT@127.0.0.1
authfail_enable = yes
authfail_max = 11
authfail_exempt = 127.0.0.1/32
mysql_timeout = 1s
policy_http_token_file = $H/token
EOF
mariadb_conf "$C"
P() { "$BINDIR/mxdock-policy" -c "$C" "$@"; }
P init-db >/dev/null
fails() { mariadb_db mxdock "SELECT COUNT(*) FROM auth_attempt WHERE ip='$1' $2" | tail -1; }

cp "$C" "$H/serve2.conf"
printf 'policy_http_delay_from = 5\npolicy_http_delay_max = 2s\n' >>"$H/serve2.conf"
serve_start "$C" "$H/serve1.log" || { h_done; exit 1; }
S1_URL=$SERVE_URL
dovecot_user user@example.org right-password
# auth_debug: Dovecot logs each policy request's JSON, so the pwhash values
# it sent can be looked for afterwards
DOVECOT_EXTRA="auth_debug = yes"
dovecot_start one "$S1_URL/dovecot/policy" "Authorization: Bearer $TOKEN" || { h_done; exit 1; }
DOVECOT_EXTRA=
D1_PORT=$DOVECOT_PORT
D1_LOG=$DOVECOT_LOG
milter_start "$C" || { h_done; exit 1; }
postfix_start "inet:127.0.0.1:$MPORT" || { h_done; exit 1; }
dovecot_postfix_sasl "$DOVECOT_AUTH_SOCKET"
imap() { dovecot_imap_login "$1" "$2" user@example.org "$3"; }

# ---- failures reported by Dovecot: IMAP and SMTP AUTH ---------------------------
for i in $(seq 10); do
	out=$(imap 127.0.0.3 "$D1_PORT" "wrong-$i")
	[ "$i" = 1 ] && h_has "a wrong IMAP password fails" "$out" "NO"
done
h_eq "10 IMAP failures recorded from Dovecot's reports (as watch-log: ip, login, imap)" \
	"$(mariadb_db mxdock "SELECT COUNT(*), MIN(principal), MAX(protocol) FROM auth_attempt WHERE ip='127.0.0.3'" | tail -1 | tr '\t' ' ')" \
	"10 user@example.org imap"
h_eq "10 failures < authfail_max 11: the right password still logs in" \
	"$(imap 127.0.0.3 "$D1_PORT" right-password)" "OK"
out=$(postfix_send --local-interface 127.0.0.3 --quit-after AUTH --auth LOGIN \
	--auth-user user@example.org --auth-password wrong-smtp)
h_has "swaks --auth with a wrong password: 535" "$out" "535 5.7.8"
h_eq "the SMTP AUTH failure recorded through Dovecot (protocol smtp)" "$(fails 127.0.0.3 "AND protocol='smtp'")" 1
h_eq "the successful login recorded nothing" "$(fails 127.0.0.3 "AND success<>0")" 0

# ---- the ban: Dovecot refuses before the password is checked ----------------------
mism=$(grep -c 'Password mismatch' "$D1_LOG")
out=$(imap 127.0.0.3 "$D1_PORT" right-password)
h_has "banned: the right password refused by the policy" "$out" "too many failed authentication attempts"
h_has "  ... as an [ALERT] from Dovecot" "$out" "[ALERT]"
out=$(imap 127.0.0.3 "$D1_PORT" wrong-again)
h_has "banned: a wrong password refused by the policy too" "$out" "too many failed authentication attempts"
h_eq "  ... before Dovecot checked it (no new Password mismatch line)" \
	"$(grep -c 'Password mismatch' "$D1_LOG")" "$mism"
h_has "Dovecot logged the policy server refusal" "$(cat "$D1_LOG")" \
	"Authentication failure due to policy server refusal: too many failed authentication attempts"
h_eq "a refusal by the policy is not counted again" "$(fails 127.0.0.3)" 11

out=$(postfix_send --local-interface 127.0.0.3 --from alice@sender.test --to bob@example.org)
h_has "SMTP from 127.0.0.3 to the MX: 421 4.7.0 at connect (milter)" "$out" "421 4.7.0"
h_lacks "  ... nothing queued" "$out" "Ok: queued"
h_has "  ... the milter refused it on the ban serve made" "$(cat "$MILTER_LOG")" \
	"authfail: refused 127.0.0.3 (ban 127.0.0.3)"
h_eq "127.0.0.4 logs in" "$(imap 127.0.0.4 "$D1_PORT" right-password)" "OK"
out=$(postfix_send --local-interface 127.0.0.4 --quit-after AUTH --auth LOGIN \
	--auth-user user@example.org --auth-password right-password)
h_has "127.0.0.4: SMTP AUTH through Dovecot works" "$out" "235 2.7.0 Authentication successful"

# ---- a second serve and a second Dovecot on the same database ---------------------
serve_start "$H/serve2.conf" "$H/serve2.log" || { h_done; exit 1; }
dovecot_start two "$SERVE_URL/dovecot/policy" "Authorization: Bearer $TOKEN" || { h_done; exit 1; }
D2_PORT=$DOVECOT_PORT
h_has "second Dovecot + second serve: 127.0.0.3 refused" "$(imap 127.0.0.3 "$D2_PORT" right-password)" \
	"too many failed authentication attempts"
h_eq "second Dovecot: 127.0.0.4 logs in" "$(imap 127.0.0.4 "$D2_PORT" right-password)" "OK"
h_has "  ... the second serve answered it" "$(cat "$H/serve2.log")" "refused 127.0.0.3"
h_eq "allow records nothing (still 11 failures, no successes)" \
	"$(mariadb_db mxdock "SELECT COUNT(*) FROM auth_attempt" | tail -1)" 11

# the second serve slows an address near its limit (delay from 5 failures,
# 2 s at 6): Dovecot waits before checking the password
for i in $(seq 6); do imap 127.0.0.12 "$D1_PORT" "wrong-$i" >/dev/null; done
secs() { local t0 t1; t0=$(date +%s%N); "$@" >"$H/timed.out"; t1=$(date +%s%N); echo $(((t1 - t0) / 1000000)); }
ms=$(secs imap 127.0.0.12 "$D2_PORT" right-password)
h_eq "6 failures, second Dovecot: the right password logs in" "$(cat "$H/timed.out")" "OK"
if [ "$ms" -ge 2000 ]; then h_ok "  ... after Dovecot waited the 2 s serve asked for ($ms ms)"
else h_fail "  ... after Dovecot waited 2 s" "$ms ms" ">= 2000 ms"; fi
ms=$(secs imap 127.0.0.12 "$D1_PORT" right-password)
if [ "$ms" -lt 1500 ]; then h_ok "  ... the first Dovecot (its serve does not slow) did not wait ($ms ms)"
else h_fail "  ... the first Dovecot did not wait" "$ms ms" "< 1500 ms"; fi
mariadb_db mxdock "DELETE FROM auth_attempt WHERE ip='127.0.0.12'"

P authfail unban 127.0.0.3 >/dev/null
h_eq "after unban: 127.0.0.3 logs in (first Dovecot)" "$(imap 127.0.0.3 "$D1_PORT" right-password)" "OK"
h_eq "after unban: 127.0.0.3 logs in (second Dovecot)" "$(imap 127.0.0.3 "$D2_PORT" right-password)" "OK"
out=$(postfix_send --local-interface 127.0.0.3 --from alice@sender.test --to bob@example.org)
h_has "after unban: SMTP from 127.0.0.3 accepted" "$out" "250 2.0.0 Ok: queued"

# ---- a ban made by watch-log refuses Dovecot logins -------------------------------
for i in $(seq 11); do
	echo "Dec  6 08:00:0$((i % 10)) mx postfix/smtpd[1$i]: warning: unknown[127.0.0.5]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=user@example.org"
done >"$H/other-mx.log"
P watch-log --state="$H/watch.state" --from-start --once "$H/other-mx.log" 2>>"$H/watch.log"
h_eq "watch-log recorded 11 failures for 127.0.0.5" "$(fails 127.0.0.5)" 11
h_has "the watch-log ban refuses the Dovecot login" "$(imap 127.0.0.5 "$D1_PORT" right-password)" \
	"too many failed authentication attempts"

# ---- secrets ---------------------------------------------------------------------
hashes=$(grep -o '"pwhash":"[0-9a-f]*"' "$D1_LOG" | sed 's/.*:"//; s/"$//' | sort -u)
h_eq "Dovecot sent pwhash values (auth_debug shows them)" "$([ -n "$hashes" ] && echo yes)" yes
dump=$(mariadb-dump --no-defaults -S "$MYSQL_SOCKET" -uroot mxdock 2>/dev/null)
leak=""
for x in $hashes; do
	[ "${#x}" -ge 4 ] || continue
	grep -qF "\"$x\"" "$H/serve1.log" "$H/serve2.log" && leak="$leak log:$x"
	printf '%s' "$dump" | grep -qF "'$x'" && leak="$leak db:$x"
done
h_eq "no pwhash in serve's logs or the database" "$leak" ""
h_lacks "no password in serve's logs" "$(cat "$H/serve1.log" "$H/serve2.log")" "wrong-1"
h_lacks "the token is never logged" "$(cat "$H/serve1.log" "$H/serve2.log" "$MILTER_LOG")" "$TOKEN"
h_eq "serve 1 alive" "$(curl -s "$S1_URL/health")" '{"database":"up"}'
h_done
