# scale_bench.sh - the numbers of docs/SCALE.md (sourced by scale_cluster.sh
# with the cluster, hosts A and B and their configurations up).
#
# Decisions per second: `mxdock-policy probe` answers a stream of "connect
# IP" (ban check: two reads) and "rcpt ADDR" (quota: one read) lines, one
# after another, on one connection: one stream per host.  Measured for one
# host and two hosts (A on node 1, B on node 2, at the same time) against
# the cluster, with and without causal reads, and for one host against one
# plain MariaDB.  Ban propagation: the time from starting `authfail ban`
# through host A to host B's first refusal, and how many reads B needed.
# Each run's answers are counted: a run that lost answers fails.

BN=${SCALE_BENCH_N:-10000}
for ((i = 0; i < BN / 2; i++)); do echo "connect 127.0.0.2"; echo "rcpt bob@example.org"; done >"$H/bench.in"

# bench_rate NAME CONF... - one probe stream per CONF at once: decisions/s
bench_rate() {
	local name=$1 t0 t1 c k=0 pids="" total=0
	shift
	t0=$(date +%s%N)
	for c in "$@"; do
		k=$((k + 1))
		P "$c" probe <"$H/bench.in" >"$H/bench-$name-$k.out" 2>"$H/bench-$name-$k.err" &
		pids="$pids $!"
	done
	wait $pids
	t1=$(date +%s%N)
	for ((c = 1; c <= k; c++)); do total=$((total + $(grep -c '^accept$' "$H/bench-$name-$c.out"))); done
	h_eq "bench $name: every decision answered accept" "$total" $((BN * k))
	echo "# bench $name: $((BN * k)) decisions in $(((t1 - t0) / 1000000)) ms: $((BN * k * 1000000000 / (t1 - t0))) decisions/s"
}

{ cat "$CA"; echo "mysql_causal_reads = no"; } >"$H/a-nc.conf"
{ cat "$CB"; echo "mysql_causal_reads = no"; } >"$H/b-nc.conf"
bench_rate "one host, cluster" "$CA"
bench_rate "two hosts, cluster" "$CA" "$CB"
bench_rate "one host, cluster, causal reads off" "$H/a-nc.conf"
bench_rate "two hosts, cluster, causal reads off" "$H/a-nc.conf" "$H/b-nc.conf"

if mariadb_start; then
	CS=$H/single.conf
	grep -v '^mysql_' "$CA" >"$CS"
	mariadb_conf "$CS"
	echo "mysql_timeout = ${TIMEOUT}s" >>"$CS"
	mariadb_db mxdock <docs/policy-schema.sql
	P "$CS" init-db >/dev/null
	mariadb_db mxdock "INSERT INTO accounts (name, quota) VALUES ('bob', 100000);
		INSERT INTO emails (name, address) VALUES ('bob', 'bob@example.org');
		INSERT INTO mailbox_usage VALUES ('bob', 1000, NOW());"
	bench_rate "one host, one plain MariaDB" "$CS"
	bench_rate "two hosts, one plain MariaDB" "$CS" "$CS"
fi

# ban_reach CONF_B NAME - 10 rounds: ban through A, ask B until refused
ban_reach() {
	local cb=$1 name=$2 r t0 t1 reads first=0 max=0 sum=0
	for r in 1 2 3 4 5 6 7 8 9 10; do
		t0=$(date +%s%N)
		P "$CA" authfail ban 127.0.0.9 --for=1h >/dev/null
		reads=0
		until echo "connect 127.0.0.9" | P "$cb" probe 2>/dev/null | grep -q 421; do
			reads=$((reads + 1))
			[ "$reads" -gt 200 ] && break
		done
		t1=$(date +%s%N)
		[ "$reads" -eq 0 ] && first=$((first + 1))
		sum=$((sum + (t1 - t0) / 1000000))
		[ $(((t1 - t0) / 1000000)) -gt "$max" ] && max=$(((t1 - t0) / 1000000))
		P "$cb" authfail unban 127.0.0.9 >/dev/null
	done
	h_eq "ban $name: B refused on its first read after the ban, in every round" "$first" 10
	echo "# bench ban reaches host B ($name): mean $((sum / 10)) ms, max $max ms (ban command + B's read, each a new process); first read refused in $first/10"
}
ban_reach "$CB" "causal reads"
ban_reach "$H/b-nc.conf" "causal reads off"
