# sections.sh - the comparisons of make bench (source from run.sh).
#
#   row SECTION ROW "ARGS" PEER[|ARGS]...   BENCH_RUNS alternating runs of
#       milterload, one per peer in turn; every run is a line of
#       results/SECTION.tsv: section, row, peer, run, status, result.
#   section_vars   the arguments rows share (call after h_init)
#   section_*      one per part of docs/PERFORMANCE.md
#   describe_machine, check_logs
#
# A peer that did not start is recorded once as "skip" with the reason.
# A run whose replies were wrong is recorded as FAIL (left out of the
# medians, counted in the table); for mxdock it also fails make bench.

# peer_failed PEER WHAT GOT - a failed run or log: fatal for mxdock and the
# bench's own nullmilter; for the other peers reported, not fatal.
peer_failed() {
	case $1 in
	mx* | prof_mx* | null) h_fail "$2" "$3" "no failure" ;;
	*) log "peer failure (reported, not fatal): $2: $(printf '%s' "$3" | head -1)" ;;
	esac
}

# section_vars - the milterload arguments the rows share (after h_init).
section_vars() {
	SIGN_2K="--client-addr=127.0.0.1 --corpus=$H/corpus/plain/plain-2k.eml"
	RSA_SIG="--expect-header=DKIM-Signature:1 --expect-value=DKIM-Signature:a=rsa-sha256"
	ED_SIG="--expect-header=DKIM-Signature:1 --expect-value=DKIM-Signature:a=ed25519-sha256"
	DUAL_SIG="--expect-header=DKIM-Signature:2 --expect-value=DKIM-Signature:a=ed25519-sha256"
	VERIFY="--client-addr=192.0.2.10 --expect-ar=dkim=pass"
}

row() {
	local sec=$1 name=$2 common=$3 r spec p extra out rc status
	shift 3
	for ((r = 1; r <= BENCH_RUNS; r++)); do
		for spec in "$@"; do
			p=${spec%%|*}
			extra=${spec#"$p"}
			extra=${extra#|}
			if [ -z "${PEER_ARGS[$p]:-}" ]; then
				[ "$r" = 1 ] && printf '%s\t%s\t%s\t0\tskip\t%s\n' "$sec" "$name" "$p" \
					"${PEER_WHY[$p]:-not started}" >>"$H/results/$sec.tsv"
				continue
			fi
			# shellcheck disable=SC2086
			out=$("$ML" ${PEER_ARGS[$p]} --seconds="$BENCH_SECONDS" --session=10 $common $extra \
				--label="$p" 2>"$H/ml.err")
			rc=$?
			status=ok
			if [ "$rc" -ne 0 ]; then
				status="FAIL: $(grep -m1 -E 'FAIL|milterload:' "$H/ml.err" | tr '\t' ' ')"
				peer_failed "$p" "$sec / $name / $p run $r" "$(head -c 300 "$H/ml.err")"
			fi
			printf '%s\t%s\t%s\t%d\t%s\t%s\n' "$sec" "$name" "$p" "$r" "$status" "$out" \
				>>"$H/results/$sec.tsv"
		done
	done
	log "$sec / $name done"
}

# section_floor - a libmilter milter doing nothing: the client's ceiling.
section_floor() {
	row floor "libmilter, no work, 2 KB, 2 connections" \
		"--conns=2 $SIGN_2K --expect-header=X-Null:1" null
	row floor "libmilter, no work, 2 KB, 64 connections" \
		"--conns=64 --warmup=3 $SIGN_2K --expect-header=X-Null:1" null
}

# The rspamd rows: rs_* one proxy worker, rs2_* two (tests/bench/rspamd.sh).
section_sign() {
	local c="--conns=2 $SIGN_2K"
	row sign "RSA-2048, 2 KB" "$c $RSA_SIG" mx_rsa rs_rsa rs2_rsa od_rsa py_rsa
	row sign "RSA-2048, 20 KB" "--conns=2 --client-addr=127.0.0.1 \
		--corpus=$H/corpus/plain/plain-20k.eml $RSA_SIG" mx_rsa rs_rsa od_rsa
	row sign "RSA-2048, 200 KB" "--conns=2 --client-addr=127.0.0.1 \
		--corpus=$H/corpus/plain/plain-200k.eml $RSA_SIG" mx_rsa rs_rsa od_rsa
	row sign "Ed25519, 2 KB" "$c $ED_SIG" mx_ed rs_ed rs2_ed od_ed py_ed
	row sign "RSA-2048 + Ed25519 (dual), 2 KB; opendkim: RSA only" "$c" \
		"mx_dual|$DUAL_SIG" "rs_dual|$DUAL_SIG" "rs2_dual|$DUAL_SIG" "od_rsa|$RSA_SIG" \
		"py_dual|$DUAL_SIG"
}

section_verify() {
	local d="$H/corpus"
	row verify "RSA-2048 signed, 2 KB" "--conns=2 --corpus=$d/rsa/plain-2k.eml $VERIFY" \
		mx_rsa rs_rsa rs2_rsa od_rsa py_rsa
	row verify "RSA-2048 signed, 2 KB, key not cached (DNS TTL 0; opendkim: not measured, \
its keys come from a file)" "--conns=2 --corpus=$d/cold/plain-2k.eml $VERIFY" mx_rsa rs_rsa
	row verify "RSA-2048 signed, 20 KB" "--conns=2 --corpus=$d/rsa/plain-20k.eml $VERIFY" \
		mx_rsa rs_rsa od_rsa
	row verify "RSA-2048 signed, 200 KB" "--conns=2 --corpus=$d/rsa/plain-200k.eml $VERIFY" \
		mx_rsa rs_rsa od_rsa
	row verify "Ed25519 signed, 2 KB" "--conns=2 --corpus=$d/ed/plain-2k.eml $VERIFY" \
		mx_rsa rs_rsa od_rsa py_rsa
	row verify "RSA-2048 signed, 2 KB, 64 connections" \
		"--conns=64 --warmup=3 --corpus=$d/rsa/plain-2k.eml $VERIFY" mx_rsa rs2_rsa od_rsa
}

section_spf() {
	row spf "SPF + DKIM verify, RSA-2048 signed, 2 KB" \
		"--conns=2 --corpus=$H/corpus/rsa/plain-2k.eml $VERIFY --expect-ar=spf=pass" \
		mx_rsa od_spf
}

# lib NAME ARGS - one libloop run into results/library.tsv.
lib() {
	local name=$1 out rc
	shift
	out=$("$LL" --seconds="$BENCH_SECONDS" --label="$name" "$@" 2>"$H/ll.err")
	rc=$?
	[ "$rc" -ne 0 ] && h_fail "library / $name" "$(head -c 300 "$H/ll.err")" "every result checked"
	printf 'library\t%s\tlibopendkim\t1\t%s\t%s\n' "$name" "$([ $rc = 0 ] && echo ok || echo FAIL)" \
		"$out" >>"$H/results/library.tsv"
}

section_library() {
	local c="$H/corpus" kf="$H/keys/file.txt" size
	{
		echo "$BENCH_RSA_SEL._domainkey.bench.test $(cat "$BK/rsa.txt")"
		echo "$BENCH_ED_SEL._domainkey.bench.test $(cat "$BK/ed.txt")"
	} >"$kf"
	for size in 2k 20k 200k; do
		lib "sign RSA-2048, $size, 1 thread" --mode=sign --key="$BK/rsa.pem" \
			--selector="$BENCH_RSA_SEL" --alg=rsa "$c/plain/plain-$size.eml"
		lib "verify RSA-2048, $size, 1 thread" --mode=verify --keyfile="$kf" "$c/rsa/plain-$size.eml"
	done
	lib "sign Ed25519, 2k, 1 thread" --mode=sign --key="$BK/ed.pem" --selector="$BENCH_ED_SEL" \
		--alg=ed "$c/plain/plain-2k.eml"
	lib "verify Ed25519, 2k, 1 thread" --mode=verify --keyfile="$kf" "$c/ed/plain-2k.eml"
	lib "sign RSA-2048, 2k, 2 threads" --threads=2 --mode=sign --key="$BK/rsa.pem" \
		--selector="$BENCH_RSA_SEL" --alg=rsa "$c/plain/plain-2k.eml"
	lib "verify RSA-2048, 2k, 2 threads" --threads=2 --mode=verify --keyfile="$kf" \
		"$c/rsa/plain-2k.eml"
	# openssl speed takes whole seconds only
	openssl speed -seconds 2 rsa2048 ed25519 >"$H/results/openssl-speed.txt" 2>/dev/null
	# SHA-256 of a 200 KB body: the other half of the 200 KB floor
	openssl speed -seconds 1 -bytes 204800 sha256 >"$H/results/openssl-sha256.txt" 2>/dev/null
	log "library done"
}

section_scale() {
	local n runs=$BENCH_RUNS
	BENCH_RUNS=3
	for n in 1 2 8 64 512; do
		row scale "$n connections" "--conns=$n --warmup=2 $SIGN_2K $RSA_SIG" mx_rsa od_rsa
	done
	BENCH_RUNS=$runs
}

# section_tcp - one MTA connection over TCP: the delayed-ACK stall.
section_tcp() {
	row tcp "Postfix's writes (VSTREAM, hand-over to cleanup)" "--conns=1 $SIGN_2K $RSA_SIG" \
		mx_tcp od_tcp py_tcp
	row tcp "an idealised MTA (--coalesce: one write per step)" \
		"--conns=1 --coalesce $SIGN_2K $RSA_SIG" mx_tcp od_tcp py_tcp
}

# profile NAME STARTER ALG WHAT ARGS - one path of one milter under
# callgrind: 300 messages on one connection, then the top costs by
# instruction count (inclusive, named functions; and self cost).
profile() {
	local name=$1 fn=$2 alg=$3 what=$4 args=$5 pid s
	PEER_WRAP="valgrind --tool=callgrind --callgrind-out-file=$H/$name/callgrind.out"
	mkdir -p "$H/$name"
	echo "$what" >"$H/results/profile-$name.what"
	if ! "$fn" "$name" "$alg"; then
		unset PEER_WRAP
		echo "not profiled: $(cat "$H/$name/why" 2>/dev/null)" >"$H/results/profile-$name.txt"
		return
	fi
	unset PEER_WRAP
	s="SOCK_$name" pid="PID_$name"
	# shellcheck disable=SC2086
	"$ML" --socket="${!s}" --conns=1 --count=300 --warmup=5 --session=10 $args \
		>"$H/$name/ml.out" 2>&1 || peer_failed "$name" "profile $name" "$(tail -1 "$H/$name/ml.out")"
	kill -TERM "${!pid}"
	for _ in $(seq 75); do kill -0 "${!pid}" 2>/dev/null || break; sleep 0.2; done
	callgrind_annotate --inclusive=no "$H/$name/callgrind.out" 2>/dev/null |
		grep -E '^ *[0-9,]+ \(' | head -25 >"$H/results/profile-$name.txt"
	callgrind_annotate --inclusive=yes "$H/$name/callgrind.out" 2>/dev/null |
		grep -E '^ *[0-9,]+ \(' | grep -vE '\?\?\?:0x|start_thread|mi_engine|PROGRAM TOTALS' |
		sed -E 's/ \[[^]]*\]$//; s/\?\?\?://; s#[^ ]*/(milter|dkim|conf|policy)/#\1/#' |
		awk '!seen[$0]++' | head -22 >"$H/results/profile-$name-incl.txt"
}

section_profile() {
	local sign="$SIGN_2K $RSA_SIG" verify="--corpus=$H/corpus/rsa/plain-2k.eml $VERIFY"
	command -v valgrind >/dev/null || { log "no valgrind: no profile"; return; }
	profile prof_od peer_opendkim rsa "opendkim, signing (RSA-2048)" "$sign"
	profile prof_mx peer_mxdock rsa "mxdock-milter, signing (RSA-2048)" "$sign"
	profile prof_odv peer_opendkim rsa "opendkim, verifying (RSA-2048)" "$verify"
	profile prof_mxv peer_mxdock rsa "mxdock-milter, verifying (RSA-2048)" "$verify"
	log "profile done"
}

describe_machine() {
	echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
	echo "cores (nproc): $(nproc)"
	echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
	echo "kernel: $(uname -r); Debian $(cat /etc/debian_version)"
	echo "peers: $(dpkg-query -W -f='${Package} ${Version}, ' opendkim dkimpy-milter pyspf-milter \
		rspamd libmilter1.0.1 libopendkim11 openssl 2>/dev/null | sed 's/, $//')"
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
}

# check_logs - no benchmark run may leave an error in a peer's log.
check_logs() {
	local f bad
	for f in "$H"/*/log; do
		[ -f "$f" ] || continue
		# mxdock's own "running as root" warning is expected: the bench runs every
		# peer as root in its private namespace, on purpose
		bad=$(grep -iE 'error|fatal|panic|segfault|traceback|warning' "$f" |
			grep -v 'running as root: milter_user is empty' | head -3)
		if [ -n "$bad" ]; then
			peer_failed "$(basename "$(dirname "$f")")" "log $(basename "$(dirname "$f")")" "$bad"
			echo "$(basename "$(dirname "$f")"): $bad" >>"$H/results/logs.txt"
		else
			h_ok "log $(basename "$(dirname "$f")") clean"
		fi
	done
}
