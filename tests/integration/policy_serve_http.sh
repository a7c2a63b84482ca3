#!/bin/bash
# policy_serve_http.sh - mxdock-policy serve on its own, with a real MariaDB:
#   - Stalwart's telemetry webhook (policy_serve_webhook.py, built from
#     Stalwart's source): 10 signed auth.failed events ban the address; a
#     wrong signature, none, or a saved body replayed with one byte changed
#     records nothing (401); the same body again records nothing (duplicate);
#     other event types are ignored and counted;
#   - hostile HTTP: malformed JSON, a 10 MB body (announced and chunked),
#     500 slow clients, a missing or wrong token, a wrong method, an unknown
#     path, a huge header or URL: each 4xx within its bound, the server alive and answering during
#     the flood, its memory back to its level, a 401 logged once a minute;
#   - the database hung (SIGSTOP) and stopped: allow answers per
#     authfail_db_error_action (accept on one serve, tempfail on another)
#     within mysql_timeout; /health says down; back: decisions resume
#     without restarting serve;
#   - listen on unix:PATH and [::1]:PORT; bad settings stop it (exit 78).
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/mariadb.sh"
source "$H_TOP/tests/lib/dovecot.sh"
h_init policy_serve_http
mariadb_start || { h_done; exit 1; }

TOKEN=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
KEY=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
(umask 077; printf '%s\n' "$TOKEN" >"$H/token"; printf '%s\n' "$KEY" >"$H/webhook.key")
C=$H/mxdock.conf
cat >"$C" <<EOF
authfail_enable = yes
authfail_exempt = 127.0.0.1/32
mysql_timeout = 1s
policy_http_token_file = $H/token
stalwart_webhook_secret_file = $H/webhook.key
policy_http_timeout = 3s
policy_http_max_body = 65536
EOF
mariadb_conf "$C"
P() { "$BINDIR/mxdock-policy" -c "$C" "$@"; }
P init-db >/dev/null
fails() { mariadb_db mxdock "SELECT COUNT(*) FROM auth_attempt WHERE ip='$1'" | tail -1; }
sed 's/^mysql_timeout.*/mysql_timeout = 1s\nauthfail_db_error_action = tempfail/' "$C" >"$H/tempfail.conf"
printf 'policy_http_delay_from = 3\npolicy_http_delay_max = 4s\n' >>"$H/tempfail.conf"
serve_start "$H/tempfail.conf" "$H/serve-tempfail.log" || { h_done; exit 1; }
T_URL=$SERVE_URL
serve_start "$C" "$H/serve.log" || { h_done; exit 1; }
U=$SERVE_URL
AUTH="Authorization: Bearer $TOKEN"
# req METHOD PATH [curl args] - "CODE SECONDS BODY"
req() {
	local m=$1 p=$2
	shift 2
	curl -s -X "$m" -o "$H/body" -w '%{http_code} %{time_total}' "$@" "$U$p"
	printf ' %s' "$(head -c 300 "$H/body")"
}
within() { awk -v t="$2" -v b="$1" 'BEGIN { exit !(t + 0 <= b + 0) }'; }
# expect NAME "CODE SECONDS BODY" CODE BOUND [TEXT]
expect() {
	local code=${2%% *} rest=${2#* } secs
	secs=${rest%% *}
	h_eq "$1: $3" "$code" "$3"
	if within "$4" "$secs"; then h_ok "  ... within ${4}s ($secs s)"; else h_fail "  ... within ${4}s" "$secs" "<= $4"; fi
	[ -z "$5" ] || h_has "  ... says so" "$2" "$5"
}
allow() { req POST "/dovecot/policy?command=allow" -H "$AUTH" -d "{\"remote\":\"$1\",\"login\":\"u\",\"protocol\":\"imap\",\"pwhash\":\"0a1b\"}"; }
hook() { python3 "$H_TOP/tests/integration/policy_serve_webhook.py" "$U/stalwart/events" "$KEY" "$@"; }
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$SERVE_PID/status"; }

# ---- Stalwart's webhook -----------------------------------------------------------
h_has "an unbanned address: status 0" "$(allow 127.0.0.6)" '{"status":0}'
out=$(hook 127.0.0.6 3 --sign=wrong)
h_has "wrong signature: 401" "$out" "HTTP 401"
out=$(hook 127.0.0.6 3 --sign=none)
h_has "no signature: 401" "$out" "HTTP 401"
h_eq "  ... nothing recorded" "$(fails 127.0.0.6)" 0
out=$(hook 127.0.0.6 1 --save="$H/saved")
h_has "one signed auth.failed event: recorded" "$out" 'HTTP 200 {"recorded":1,"ignored":0,"duplicate":0}'
n=$(wc -c <"$H/saved")
for off in 20 $((n / 2)) $((n - 60)); do
	out=$(hook --replay="$H/saved" --flip=$off)
	h_has "saved body replayed with byte $off changed: 401" "$out" "HTTP 401"
done
out=$(hook --replay="$H/saved")
h_has "the same body again: not recorded twice" "$out" '{"recorded":0,"ignored":0,"duplicate":1}'
h_eq "  ... 1 failure recorded in all" "$(fails 127.0.0.6)" 1
out=$(hook 127.0.0.6 9)
h_has "9 more signed auth.failed events in one batch" "$out" '"recorded":9'
h_eq "10 failures recorded (ip, account, listenerId)" \
	"$(mariadb_db mxdock "SELECT COUNT(*), MIN(principal), MIN(protocol) FROM auth_attempt WHERE ip='127.0.0.6'" | tail -1 | tr '\t' ' ')" \
	"10 user@example.org imap"
h_has "the address is banned (the milter's check)" "$(P authfail check 127.0.0.6 2>&1)" "421 4.7.0"
h_has "  ... and Dovecot's allow refuses it" "$(allow 127.0.0.6)" '{"status":-1,"msg":"too many failed authentication attempts"}'
out=$(hook 127.0.0.9 4 --type=smtp.connection-start)
h_has "other event types: ignored" "$out" '{"recorded":0,"ignored":4,"duplicate":0}'
h_eq "  ... nothing recorded" "$(fails 127.0.0.9)" 0
h_has "  ... and counted" "$(curl -s -H "$AUTH" "$U/metrics")" \
	'mxdock_policy_stalwart_events_ignored_total{reason="type"} 4'

# ---- Dovecot's report: what is counted ---------------------------------------------
report() { req POST "/dovecot/policy?command=report" -H "$AUTH" -d "{\"remote\":\"127.0.0.10\",\"login\":\"u\",\"protocol\":\"pop3\",\"pwhash\":\"0a1b\"$1}"; }
report ',"success":true,"policy_reject":false' >/dev/null
report ',"success":false,"policy_reject":true' >/dev/null
report ',"success":false,"policy_reject":false,"tried_password":false' >/dev/null
h_eq "success, policy_reject, tried_password false: not counted" "$(fails 127.0.0.10)" 0
report ',"success":false,"policy_reject":false' >/dev/null
h_eq "success false, no tried_password (Dovecot 2.3.19): counted" "$(fails 127.0.0.10)" 1
out=$(req POST "/dovecot/policy?command=report" -H "$AUTH" -d '{"remote":"127.0.0.10","success":"no"}')
expect "success not a boolean" "$out" 400 1

# ---- slowing an address near its limit (the second serve: delay from 3, max 4 s) -----
delays=""
for i in 1 2 3 4 5 6; do
	req POST "/dovecot/policy?command=report" -H "$AUTH" \
		-d '{"remote":"127.0.0.11","success":false,"policy_reject":false}' >/dev/null
	delays="$delays $(curl -s -H "$AUTH" -d '{"remote":"127.0.0.11"}' "$T_URL/dovecot/policy?command=allow")"
done
h_eq "allow near the limit: 1 s at 3 failures, doubling, at most 4 s" "$delays" \
	' {"status":0} {"status":0} {"status":1} {"status":2} {"status":4} {"status":4}'
h_has "  ... not on the serve without policy_http_delay_from" "$(allow 127.0.0.11)" '{"status":0}'
h_has "  ... counted as delay decisions" "$(curl -s -H "$AUTH" "$T_URL/metrics")" \
	'mxdock_policy_decisions_total{decision="delay"} 4'

# ---- hostile HTTP ------------------------------------------------------------------
slow() {  # slow N - N clients trickling a body, one byte a second
	python3 - "$SERVE_PORT" "$1" "$TOKEN" <<'PY'
import asyncio, sys, time
port, n, token = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
async def one():
    t0 = time.monotonic()
    try:
        r, w = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return "connect-failed", 0
    w.write(("POST /dovecot/policy?command=allow HTTP/1.1\r\nHost: x\r\n"
             "Authorization: Bearer %s\r\nContent-Length: 100\r\n\r\n" % token).encode())
    async def trickle():
        try:
            for _ in range(100):
                w.write(b" "); await w.drain(); await asyncio.sleep(1)
        except Exception:
            pass
    t = asyncio.ensure_future(trickle())
    try:
        line = (await asyncio.wait_for(r.readline(), 30)).decode().strip() or "closed"
    except Exception as e:
        line = type(e).__name__
    t.cancel(); w.close()
    return line, time.monotonic() - t0
async def main():
    res = await asyncio.gather(*[one() for _ in range(n)])
    kinds = sorted(set(r[0] for r in res))
    print("%d|%s|%.1f" % (len(res), ",".join(kinds), max(r[1] for r in res)))
asyncio.run(main())
PY
}
slow 50 >/dev/null                      # warm-up: the threads' arenas and stacks
sleep 6
base=$(rss)
expect "malformed JSON" "$(req POST "/dovecot/policy?command=allow" -H "$AUTH" -d '{"remote":')" 400 1 "malformed request"
expect "JSON that is not an object" "$(req POST "/dovecot/policy?command=allow" -H "$AUTH" -d '[1,2]')" 400 1
expect "no command" "$(req POST "/dovecot/policy" -H "$AUTH" -d '{}')" 400 1
head -c 10000000 /dev/zero | tr '\0' 'a' >"$H/10mb"
expect "10 MB body (Content-Length)" "$(req POST "/dovecot/policy?command=allow" -H "$AUTH" --data-binary @"$H/10mb")" 413 1 "body too large"
expect "10 MB body, chunked" "$(req POST "/dovecot/policy?command=allow" -H "$AUTH" -H "Transfer-Encoding: chunked" --data-binary @"$H/10mb")" 413 4
expect "10 MB webhook body" "$(req POST /stalwart/events -H "X-Signature: x" --data-binary @"$H/10mb")" 413 1
expect "missing token" "$(req POST "/dovecot/policy?command=allow" -d '{"remote":"127.0.0.6"}')" 401 1
expect "wrong token" "$(req POST "/dovecot/policy?command=allow" -H "Authorization: Bearer x$TOKEN" -d '{}')" 401 1
expect "token without Bearer" "$(req POST "/dovecot/policy?command=allow" -H "Authorization: $TOKEN" -d '{}')" 401 1
expect "missing token on /metrics" "$(req GET /metrics)" 401 1
expect "wrong method (GET the policy)" "$(req GET "/dovecot/policy?command=allow" -H "$AUTH")" 405 1
expect "wrong method (POST /health)" "$(req POST /health -d x)" 405 1
expect "unknown path" "$(req GET /admin)" 404 1
big=$(head -c 20000 /dev/zero | tr '\0' 'a')
expect "a 20 kB header (libmicrohttpd's own answer)" "$(req POST "/dovecot/policy?command=allow" -H "$AUTH" -H "X-Big: $big" -d '{}')" 431 1
expect "a 20 kB URL" "$(req POST "/dovecot/policy?command=allow&x=$big" -H "$AUTH" -d '{}')" 414 1
slow 500 >"$H/slow.out" &
slow_pid=$!
sleep 1.5
expect "during 500 slow clients: allow still answered" "$(allow 127.0.0.6)" 200 1 '"status":-1'
wait "$slow_pid"
IFS='|' read -r n kinds max <"$H/slow.out"
h_eq "500 slow clients: every one answered 408" "$n $kinds" "500 HTTP/1.1 408 Request Timeout"
if within 6.5 "$max"; then h_ok "  ... within policy_http_timeout (3 s) + 2 s, + 1.5 s for load ($max s)"
else h_fail "  ... within 6.5 s" "$max" "<= 6.5"; fi
h_eq "server alive" "$(curl -s "$U/health")" '{"database":"up"}'
sleep 6
now=$(rss)
if nm -D "$BINDIR/mxdock-policy" 2>/dev/null | grep -q __asan_init; then
	# ASan keeps freed memory in quarantine: RSS says nothing there
	echo "# skipped under ASan: memory back to its level ($base kB before, $now kB after, not judged)"
elif [ "$now" -le $((base + 2048)) ]; then h_ok "memory back to its level ($base kB before, $now kB after)"
else h_fail "memory back to its level" "$now kB" "<= $base + 2048 kB"; fi
for i in $(seq 20); do
	curl -s --interface 127.0.0.20 -o /dev/null -d '{}' "$U/dovecot/policy?command=allow"
done
h_eq "20 requests without the token: one 401 line" "$(grep -c 'serve: 401 to 127.0.0.20: ' "$H/serve.log")" 1
# /metrics read by an independent parser (Debian python3-prometheus-client)
curl -s -H "$AUTH" "$U/metrics" >"$H/metrics.txt"
out=$(/usr/bin/python3 - "$H/metrics.txt" <<'PY' 2>&1
import sys
from prometheus_client.parser import text_string_to_metric_families
fam = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
def val(name, sample, **labels):
    for s in fam[name].samples:
        if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None
print("types", fam["mxdock_policy_http_requests"].type, fam["mxdock_policy_http_request_duration_seconds"].type)
print("413", int(val("mxdock_policy_http_requests", "mxdock_policy_http_requests_total", endpoint="dovecot_allow", code="413")))
print("inf=count", val("mxdock_policy_http_request_duration_seconds", "mxdock_policy_http_request_duration_seconds_bucket", endpoint="dovecot_allow", le="+Inf")
      == val("mxdock_policy_http_request_duration_seconds", "mxdock_policy_http_request_duration_seconds_count", endpoint="dovecot_allow"))
print("refuse", int(val("mxdock_policy_decisions", "mxdock_policy_decisions_total", decision="refuse")))
print("stalwart", int(val("mxdock_policy_failures_recorded", "mxdock_policy_failures_recorded_total", source="stalwart")))
PY
)
h_has "metrics parse as Prometheus text: counter and histogram" "$out" "types counter histogram"
h_has "  ... 2 allow requests answered 413 (10 MB bodies)" "$out" "413 2"
h_has "  ... histogram +Inf bucket = count" "$out" "inf=count True"
h_has "  ... both refusals counted" "$out" "refuse 2"
h_has "  ... 10 failures recorded from Stalwart" "$out" "stalwart 10"

# ---- the database hung, stopped, back ------------------------------------------------
P authfail ban 127.0.0.7 --for=1h >/dev/null
h_has "banned: refused (accept serve)" "$(allow 127.0.0.7)" '"status":-1'
mariadb_freeze
out=$(allow 127.0.0.7)
expect "database hung, authfail_db_error_action = accept: allowed" "$out" 200 1.5 '{"status":0}'
out=$(curl -s -w ' %{time_total}' -H "$AUTH" -d '{"remote":"127.0.0.7"}' "$T_URL/dovecot/policy?command=allow")
h_has "database hung, tempfail: refused for now" "$out" '{"status":-1,"msg":"temporary policy failure, try again later"}'
if within 1.5 "${out##* }"; then h_ok "  ... within mysql_timeout (1 s) + 0.5 s (${out##* } s)"
else h_fail "  ... within 1.5 s" "${out##* }" "<= 1.5"; fi
expect "database hung: /health" "$(req GET /health)" 503 1.5 '{"database":"down"}'
kill -CONT "$MYSQL_PID"
mariadb_stop
expect "database stopped: allowed (fail open)" "$(allow 127.0.0.7)" 200 1.5 '{"status":0}'
expect "database stopped: a failed login cannot be recorded: 503" \
	"$(req POST "/dovecot/policy?command=report" -H "$AUTH" -d '{"remote":"127.0.0.8","success":false,"policy_reject":false}')" 503 1.5
h_has "  ... counted as a database error" "$(curl -s -H "$AUTH" "$U/metrics")" "mxdock_policy_db_errors_total"
mariadb_restart
sleep 1.2
h_has "database back: the ban refuses again (same serve)" "$(allow 127.0.0.7)" '"status":-1'
h_eq "database back: /health" "$(curl -s "$U/health")" '{"database":"up"}'
h_eq "  ... serve was not restarted" "$(kill -0 "$SERVE_PID" && echo alive)" alive
h_eq "outage logged once" "$(grep -c 'warning: policy database unreachable:' "$H/serve.log")" 1
h_has "  ... and its end" "$(cat "$H/serve.log")" "policy database reachable again after"

# ---- where it listens; bad settings -----------------------------------------------
sed '/^policy_http_listen/d' "$C" >"$H/unix.conf"
echo "policy_http_listen = unix:$H/serve.sock" >>"$H/unix.conf"
"$BINDIR/mxdock-policy" -c "$H/unix.conf" serve -f >>"$H/serve-unix.log" 2>&1 &
upid=$!
h_track "$upid"
h_wait "serve on unix:$H/serve.sock" 10 test -S "$H/serve.sock"
h_eq "unix socket: allow answered" "$(curl -s --unix-socket "$H/serve.sock" -H "$AUTH" \
	-d '{"remote":"127.0.0.7"}' http://x/dovecot/policy?command=allow | head -c 14)" '{"status":-1,"'
h_eq "unix socket: mode 0660" "$(stat -c %a "$H/serve.sock")" 660
kill -TERM "$upid"
h_wait "serve stops on SIGTERM" 10 sh -c "! kill -0 $upid"
h_eq "  ... and removes its socket" "$([ -e "$H/serve.sock" ] && echo left || echo gone)" gone
if ip -6 addr show dev lo 2>/dev/null | grep -q '::1'; then
	p6=$(h_port)
	sed "s/^policy_http_listen.*/policy_http_listen = [::1]:$p6/" "$H/unix.conf" >"$H/v6.conf"
	"$BINDIR/mxdock-policy" -c "$H/v6.conf" serve -f >>"$H/serve-v6.log" 2>&1 &
	h_track $!
	h_wait "serve on [::1]:$p6" 10 curl -s "http://[::1]:$p6/health"
	h_eq "[::1]:PORT: health" "$(curl -s "http://[::1]:$p6/health")" '{"database":"up"}'
fi
bad() {  # bad NAME LINE WANT - serve with LINE added exits 78 and says WANT
	local out rc
	grep -v "^${2%% *} " "$C" >"$H/bad.conf"
	echo "$2" >>"$H/bad.conf"
	out=$("$BINDIR/mxdock-policy" -c "$H/bad.conf" serve -f 2>&1)
	rc=$?
	h_eq "$1: exit code" "$rc" "$3"
	h_has "$1: one line naming it" "$out" "$4"
}
bad "listen address without a port" "policy_http_listen = 127.0.0.1" 78 "not IP:PORT, [IPv6]:PORT or unix:PATH"
bad "listen on a host name" "policy_http_listen = localhost:80" 78 "is not an IPv4 address"
chmod 644 "$H/webhook.key"
bad "a world-readable webhook key" "stalwart_webhook_secret_file = $H/webhook.key" 78 "readable or writable by others"
chmod 600 "$H/webhook.key"
bad "serve without authfail_enable" "authfail_enable = no" 78 "serve needs authfail_enable = yes"
h_lacks "the token and key are never logged" "$(cat "$H"/serve*.log)" "$TOKEN"
h_lacks "  ... the key neither" "$(cat "$H"/serve*.log)" "$KEY"
h_done
