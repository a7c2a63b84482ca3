#!/bin/bash
# serve.sh - make bench: Dovecot's allow decisions through mxdock-policy serve
# (HTTP, libmicrohttpd) side by side with the milter's connect-time ban
# check (the same policy_connect, through `mxdock-policy probe`), on a
# scratch MariaDB holding 100,000 failed logins from 10,000 addresses and
# 1,000 bans.  Prints a markdown table on stdout.
#
#   tests/bench/serve.sh [SECONDS]     (BINDIR as for tests/run; default 5)
#
# cold: mariadbd restarted with its buffer pool emptied (ib_buffer_pool
# removed) and serve/probe started anew (no connection, nothing prepared);
# the first SECONDS of requests.  warm: the next SECONDS.  The requests ask
# about addresses drawn at random from the 10,000 (10 % of them banned).
# The client is Python (asyncio, keep-alive); its own CPU is in the numbers,
# so the decisions/s are a floor for serve, not a ceiling.
TOP=$(cd "$(dirname "$0")/../.." && pwd)
source "$TOP/tests/lib/harness.sh"
source "$TOP/tests/lib/mariadb.sh"
source "$TOP/tests/lib/dovecot.sh"
SECS=${1:-5}
h_init bench_serve
mariadb_start >"$H/mariadb.out" 2>&1 || { echo "serve.sh: MariaDB did not start" >&2; exit 1; }
C=$H/mxdock.conf
printf 'authfail_enable = yes\nauthfail_exempt = 127.0.0.1/32\nauthfail_max = 1000\n' >"$C"
mariadb_conf "$C"
"$BINDIR/mxdock-policy" -c "$C" init-db >/dev/null || exit 1
mariadb_db mxdock <<'SQL'
SET SESSION max_recursive_iterations = 200000;
INSERT INTO auth_attempt (ip, principal, protocol, success, attempted_at)
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99999)
SELECT CONCAT('10.', (i % 10000) DIV 250, '.', (i % 10000) MOD 250, '.1'), 'user@example.org',
       'imap', 0, UTC_TIMESTAMP() - INTERVAL (i MOD 3000) SECOND FROM n;
INSERT INTO auth_ban (ban, ip_from, ip_to, reason, created_at, until, `count`)
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999)
SELECT CONCAT('10.', (i * 10) DIV 250, '.', (i * 10) MOD 250, '.1'),
       UNHEX(CONCAT('00000000000000000000FFFF0A', LPAD(HEX((i * 10) DIV 250), 2, '0'),
                    LPAD(HEX((i * 10) MOD 250), 2, '0'), '01')),
       UNHEX(CONCAT('00000000000000000000FFFF0A', LPAD(HEX((i * 10) DIV 250), 2, '0'),
                    LPAD(HEX((i * 10) MOD 250), 2, '0'), '01')),
       'bench', UTC_TIMESTAMP(), UTC_TIMESTAMP() + INTERVAL 1 DAY, 1 FROM n;
SQL
TOKEN=bench-token
(umask 077; echo "$TOKEN" >"$H/token")
echo "policy_http_token_file = $H/token" >>"$C"

# cold - empty the database's buffer pool and our process's state
cold() {
	[ -n "${SERVE_PID:-}" ] && kill "$SERVE_PID" 2>/dev/null
	mariadb_stop >/dev/null 2>&1
	rm -f "$H/mariadb/data/ib_buffer_pool"
	mariadb_restart >/dev/null 2>&1
}

# drive MODE CONNS - "decisions/s p50 p99 refused%" for SECS cold, SECS warm
drive() {
	python3 - "$1" "$2" "$SECS" "${SERVE_PORT:-0}" "$TOKEN" "$BINDIR/mxdock-policy" "$C" <<'PY'
import asyncio, random, subprocess, sys, time
mode, conns, secs, port, token, prog, conf = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6], sys.argv[7]
ips = ["10.%d.%d.1" % (i // 250, i % 250) for i in range(10000)]
def stats(lat, refused, secs):
    lat.sort()
    return "%d %.2f %.2f %d" % (len(lat) / secs, lat[len(lat) // 2] * 1e3, lat[int(len(lat) * 0.99)] * 1e3,
                                100 * refused / max(len(lat), 1))
async def http_phase(until, lat, ref):
    async def worker():
        r, w = await asyncio.open_connection("127.0.0.1", port)
        while time.monotonic() < until:
            body = ('{"remote":"%s","login":"u","protocol":"imap","pwhash":"0a1"}' % random.choice(ips)).encode()
            t0 = time.perf_counter()
            w.write(b"POST /dovecot/policy?command=allow HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer "
                    + token.encode() + b"\r\nContent-Type: application/json\r\nContent-Length: "
                    + str(len(body)).encode() + b"\r\n\r\n" + body)
            head = await r.readuntil(b"\r\n\r\n")
            n = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0].split(b":")[1])
            ans = await r.readexactly(n)
            lat.append(time.perf_counter() - t0)
            ref[0] += b'"status":-1' in ans
        w.close()
    await asyncio.gather(*[worker() for _ in range(conns)])
def probe_phase(p, until, lat, ref):
    while time.monotonic() < until:
        t0 = time.perf_counter()
        p.stdin.write("connect %s\n" % random.choice(ips)); p.stdin.flush()
        ans = p.stdout.readline()
        lat.append(time.perf_counter() - t0)
        ref[0] += ans.startswith("tempfail 421")
out = []
p = None
if mode == "probe":
    p = subprocess.Popen([prog, "-c", conf, "probe"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
for phase in ("cold", "warm"):
    lat, ref = [], [0]
    until = time.monotonic() + secs
    if mode == "http":
        asyncio.run(http_phase(until, lat, ref))
    else:
        probe_phase(p, until, lat, ref)
    out.append(stats(lat, ref[0], secs))
if p:
    p.stdin.close(); p.wait()
print(" | ".join(out))
PY
}

row() {  # row LABEL MODE CONNS
	local r cold_s warm_s
	r=$(drive "$2" "$3")
	cold_s=${r%% | *}
	warm_s=${r##* | }
	set -- "$1" $cold_s $warm_s
	printf '| %s | %s | %s | %s | %s | %s | %s | %s%% |\n' "$1" "$2" "$3" "$4" "$6" "$7" "$8" "$9"
}

echo "Allow decisions (Dovecot's \`?command=allow\`) through \`mxdock-policy serve\` against the"
echo "milter's connect-time check (\`policy_connect\` through \`mxdock-policy probe\`, no HTTP);"
echo "${SECS} s cold then ${SECS} s warm each; latency in ms; $(nproc) cores shared with the client."
echo
echo "| path | cold decisions/s | cold p50 | cold p99 | warm decisions/s | warm p50 | warm p99 | refused |"
echo "|---|---|---|---|---|---|---|---|"
cold
row "policy_connect (probe, 1 client)" probe 1
cold
serve_start "$C" "$H/serve.log" >/dev/null || exit 1
row "serve, 1 keep-alive connection" http 1
cold
serve_start "$C" "$H/serve.log" >/dev/null || exit 1
row "serve, 8 keep-alive connections" http 8
h_done >/dev/null
