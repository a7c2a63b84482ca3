#!/bin/bash
# run.sh - make bench: mxdock-milter against opendkim, dkimpy-milter,
# pyspf-milter and rspamd, side by side, and against the library limit.  Writes
# docs/PERFORMANCE.md (or $BENCH_OUT).
#
#   tests/bench/run.sh            (BINDIR, BUILDDIR as for tests/run)
#   BENCH_RUNS=5 BENCH_SECONDS=1.5 E2E_MSGS=300 BENCH_OUT=docs/PERFORMANCE.md
#   BENCH_SECTIONS="floor sign verify spf library policy scale tcp e2e profile"
#   BENCH_SPLICE=1 (make bench-dkim): the new sections 0-4 replace those of
#       the existing $BENCH_OUT, the later sections are kept as they are
#
# Everything runs inside a private network and mount namespace (unshare):
# only its own loopback exists, the scratch PowerDNS answers on its port 53
# and /etc/resolv.conf is replaced, for the namespace only, by one naming
# it, so every peer resolves through the same DNS data with no
# configuration of its own.  Each comparison alternates the milters (A B A
# B ...) BENCH_RUNS times; results/<section>.tsv keep every run.
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILDDIR=${BUILDDIR:-$TOP/build}
BINDIR=${BINDIR:-$TOP/bin}
export BINDIR BUILDDIR
if [ -z "${BENCH_IN_NS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (network namespace, port 53)" >&2; exit 77; }
	BENCH_CMD=${BENCH_CMD:-"$0 $*"} BENCH_IN_NS=1 exec unshare --mount --net --fork bash "$0" "$@"
fi
ip link set lo up || exit 71

source "$TOP/tests/lib/harness.sh"
source "$TOP/tests/lib/pdns.sh"
source "$TOP/tests/bench/corpus.sh"
source "$TOP/tests/bench/peers.sh"
source "$TOP/tests/bench/rspamd.sh"
source "$TOP/tests/lib/postfix.sh"
source "$TOP/tests/lib/mariadb.sh"
source "$TOP/tests/bench/sections.sh"
source "$TOP/tests/bench/e2e.sh"
source "$TOP/tests/bench/policy.sh"

BENCH_RUNS=${BENCH_RUNS:-5}
BENCH_COLD_SEL=cold
BENCH_SECONDS=${BENCH_SECONDS:-1.5}
BENCH_OUT=${BENCH_OUT:-$TOP/docs/PERFORMANCE.md}
ML=$BUILDDIR/tests/bench/milterload
LL=$BUILDDIR/tests/bench/libloop
declare -A PEER_ARGS PEER_WHY

log() { echo "bench: $(date -u +%H:%M:%S) $*" >&2; }

# publish NAME VALUE [TTL] - a TXT record in bench.test, split in 255-byte
# strings; TTL 300 unless given.
publish() {
	local quoted="" v=$2
	while [ -n "$v" ]; do
		quoted="$quoted\\\"${v:0:250}\\\" "
		v=${v:250}
	done
	pdns_api PATCH /servers/localhost/zones/bench.test. "{\"rrsets\":[{\"name\":\"$1.\",
		\"type\":\"TXT\",\"ttl\":${3:-300},\"changetype\":\"REPLACE\",
		\"records\":[{\"content\":\"${quoted% }\",\"disabled\":false}]}]}"
}

setup_dns() {
	PDNS_DNS_PORT=53
	pdns_start sqlite || return 1
	echo "nameserver 127.0.0.1" >"$H/resolv.conf"
	mount --bind "$H/resolv.conf" /etc/resolv.conf || return 1
	pdns_api POST /servers/localhost/zones '{"name":"bench.test.","kind":"Native",
		"nameservers":["ns1.bench.test."]}' >/dev/null
	publish "$BENCH_RSA_SEL._domainkey.bench.test" "$(cat "$BK/rsa.txt")"
	publish "$BENCH_ED_SEL._domainkey.bench.test" "$(cat "$BK/ed.txt")"
	# the cold-cache verify row: the RSA key again, under a TTL of 0
	publish "$BENCH_COLD_SEL._domainkey.bench.test" "$(cat "$BK/rsa.txt")" 0
	publish bench.test "v=spf1 ip4:192.0.2.0/24 -all"
	[ -n "$(dig +short rsa._domainkey.bench.test TXT)" ]
}

# setup_corpus - plain messages, and the same signed with each key.
setup_corpus() {
	bench_messages "$H/corpus/plain" &&
		bench_sign_corpus "$H/corpus/plain" "$H/corpus/rsa" "$BENCH_RSA_SEL" "$BK/rsa1.pem" rsa-sha256 &&
		bench_sign_corpus "$H/corpus/plain" "$H/corpus/ed" "$BENCH_ED_SEL" "$BK/ed.seed" ed25519-sha256 &&
		bench_sign_corpus "$H/corpus/plain" "$H/corpus/cold" "$BENCH_COLD_SEL" "$BK/rsa1.pem" rsa-sha256
}

# peer NAME STARTER ARGS - start a peer named NAME and note how to reach it;
# its CPU is that of PIDS_<NAME> (every process, rspamd) or PID_<NAME>.
peer() {
	local name=$1 fn=$2 s p ps x
	shift 2
	if "$fn" "$name" "$@"; then
		s="SOCK_$name" p="PID_$name" ps="PIDS_$name"
		PEER_ARGS[$name]="--socket=${!s}"
		for x in ${!ps:-${!p}}; do
			PEER_ARGS[$name]+=" --pid=$x"
		done
	else
		PEER_WHY[$name]=$(cat "$H/$name/why" 2>/dev/null || echo "did not start")
		log "$name: not measured: ${PEER_WHY[$name]}"
	fi
}

# chain NAME A B - milters A then B, as Postfix's smtpd_milters = A, B.
chain() {
	if [ -n "${PEER_ARGS[$2]:-}" ] && [ -n "${PEER_ARGS[$3]:-}" ]; then
		PEER_ARGS[$1]="${PEER_ARGS[$2]} ${PEER_ARGS[$3]}"
	else
		PEER_WHY[$1]="${PEER_WHY[$2]:-}${PEER_WHY[$3]:-}"
	fi
}

start_peers() {
	peer null peer_null
	peer od_rsa peer_opendkim rsa
	peer od_ed peer_opendkim ed
	peer py_rsa peer_dkimpy rsa
	peer py_ed peer_dkimpy ed
	peer py_dual peer_dkimpy dual
	peer spf peer_pyspf
	chain od_spf od_rsa spf
	peer mx_rsa peer_mxdock rsa
	peer mx_ed peer_mxdock ed
	peer mx_dual peer_mxdock dual
	peer rs_rsa peer_rspamd rsa 1
	peer rs_ed peer_rspamd ed 1
	peer rs_dual peer_rspamd dual 1
	peer rs2_rsa peer_rspamd rsa 2
	peer rs2_ed peer_rspamd ed 2
	peer rs2_dual peer_rspamd dual 2
	peer od_tcp peer_opendkim rsa tcp
	peer py_tcp peer_dkimpy rsa tcp
	peer mx_tcp peer_mxdock rsa tcp
	peer spf_tcp peer_pyspf tcp
	chain od_spf_tcp od_tcp spf_tcp
	local n
	for n in mx_rsa mx_ed mx_dual mx_tcp; do
		[ -f "$H/$n/dkim/rsa.sel" ] && publish "$(cat "$H/$n/dkim/rsa.sel")._domainkey.bench.test" \
			"$(cat "$BK/rsa.txt")"
		[ -f "$H/$n/dkim/ed.sel" ] && publish "$(cat "$H/$n/dkim/ed.sel")._domainkey.bench.test" \
			"$(cat "$BK/ed.txt")"
	done
	return 0
}

main() {
	local t0=$SECONDS s
	h_init bench
	section_vars
	mkdir -p "$H/results"
	BK=$H/keys
	log "scratch $H; keys, corpus, DNS"
	bench_keys "$BK" || { echo "run.sh: keys failed" >&2; exit 1; }
	setup_dns || { echo "run.sh: scratch DNS failed (log: $PDNS_LOG)" >&2; exit 1; }
	setup_corpus || { echo "run.sh: corpus failed" >&2; exit 1; }
	[ -x "$ML" ] && [ -x "$LL" ] || { echo "run.sh: build $ML and $LL first (make bench)" >&2; exit 1; }
	start_peers
	for s in ${BENCH_SECTIONS:-floor sign verify spf library policy scale tcp e2e profile}; do
		"section_$s"
	done
	log "writing $BENCH_OUT"
	describe_machine >"$H/results/machine.txt"
	echo "${BENCH_CMD:-tests/bench/run.sh}" >"$H/results/command.txt"
	echo "$((SECONDS - t0))" >"$H/results/elapsed.txt"
	echo "$BENCH_SECONDS" >"$H/results/seconds.txt"
	python3 "$TOP/tests/bench/report.py" ${BENCH_SPLICE:+--splice="$BENCH_OUT"} "$H/results" \
		"$TOP/tests/bench/notes.md" >"$BENCH_OUT.tmp" && mv "$BENCH_OUT.tmp" "$BENCH_OUT"
	check_logs
	h_done
}

main "$@"
