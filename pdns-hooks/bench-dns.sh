#!/bin/bash
# bench-dns.sh - how long mxdock-dns takes to create N mail domains with the
# full record set against a local scratch PowerDNS (gsqlite3), to sync N
# unchanged domains, and the naive path of one PATCH per rrset, measured in
# the same run.  Requests per domain come from MXDOCK_DEBUG_HTTP.
#
#   pdns-hooks/bench-dns.sh [N]         (default 1000; BINDIR as for tests)
#
# DKIM key generation is not what is measured: keys are made beforehand
# (Ed25519 and RSA-2048 per domain).  Each create and sync is one
# mxdock-dns process (start, configuration, key store, HTTP), as a hook
# runs it; the naive path runs in one curl process with keep-alive, so it
# pays no process start: the comparison favours it.
cd "$(dirname "$0")/.." || exit 70
source tests/lib/harness.sh
source tests/lib/pdns.sh
N=${1:-1000}
h_init dns-bench
pdns_start sqlite >/dev/null || exit 1
C=$H/mxdock.conf
pdns_conf "$C"
DNS() { "$BINDIR/mxdock-dns" -c "$C" "$@"; }
now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
per() { awk -v a="$1" -v n="$2" 'BEGIN { printf "%.2f", a / n }'; }
rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.1f s, %.2f ms/domain, %.0f domains/s", t, 1000*t/n, n/t }'; }

echo "# keys for $N domains (not timed)" >&2
for i in $(seq 1 "$N"); do "$BINDIR/mxdock-dkim" -c "$C" keygen "d$i.bench" >/dev/null; done

t0=$(now)
for i in $(seq 1 "$N"); do MXDOCK_DEBUG_HTTP=1 DNS create "d$i.bench" 2>>"$H/create.http" >/dev/null; done
t1=$(now)
for i in $(seq 1 "$N"); do MXDOCK_DEBUG_HTTP=1 DNS sync "d$i.bench" 2>>"$H/sync.http" >/dev/null; done
t2=$(now)
creq=$(grep -c 'http ' "$H/create.http")
sreq=$(grep -c 'http GET' "$H/sync.http")
spatch=$(grep -c 'http PATCH' "$H/sync.http")

# the naive path, one curl process with keep-alive: POST a bare zone (SOA,
# NS), then one PATCH per rrset of the same model
rrsets=$(DNS records d1.bench --json | jq -c 'group_by(.name + " " + .type)[] |
	{rrsets: [{name: .[0].name, type: .[0].type, ttl: .[0].ttl, changetype: "REPLACE",
	  records: [.[] | {content, disabled: false}]}]} | select(.rrsets[0].type != "SOA" and .rrsets[0].type != "NS")')
nrr=$(wc -l <<<"$rrsets")
key=$(cat "$PDNS_API_KEY_FILE")
install -m 600 /dev/null "$H/naive.curl"    # it holds the API key
head=$(printf 'header = "X-API-Key: %s"\nheader = "Content-Type: application/json"\nwrite-out = "%%{http_code}\\n"' "$key")
{
	for i in $(seq 1 "$N"); do
		z="n$i.bench."
		[ "$i" -gt 1 ] && echo next
		printf '%s\nurl = "%s/servers/localhost/zones"\nrequest = POST\n' "$head" "$PDNS_API_URL"
		printf 'data = "{\\"name\\":\\"%s\\",\\"kind\\":\\"Native\\",\\"nameservers\\":[\\"ns1.%s\\"]}"\n' "$z" "$z"
		printf 'output = /dev/null\n'
		while IFS= read -r body; do
			body=${body//d1.bench./$z}
			body=${body//\\/\\\\}
			printf 'next\n%s\nurl = "%s/servers/localhost/zones/%s"\nrequest = PATCH\n' \
				"$head" "$PDNS_API_URL" "$z"
			printf 'data = "%s"\noutput = /dev/null\n' "${body//\"/\\\"}"
		done <<<"$rrsets"
	done
} >"$H/naive.curl"
t3=$(now)
curl -s -K "$H/naive.curl" >"$H/naive.codes"
t4=$(now)
bad=$(grep -cv '^20[14]$' "$H/naive.codes")
sent=$(wc -l <"$H/naive.codes")

echo "mxdock-dns benchmark, $N domains, PowerDNS 4.7 gsqlite3 on 127.0.0.1"
echo "create (full record set):   $(rate "$N" "$(sub "$t1" "$t0")"); requests/domain $(per "$creq" "$N")"
echo "sync, unchanged:            $(rate "$N" "$(sub "$t2" "$t1")"); GETs/domain $(per "$sreq" "$N"), PATCHes $spatch"
echo "naive, 1 POST + $nrr PATCHes: $(rate "$N" "$(sub "$t4" "$t3")"); requests/domain $((nrr + 1)) ($sent sent, $bad failed)"
h_done >/dev/null
