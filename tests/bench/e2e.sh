# e2e.sh - end to end: smtp-source -> Postfix (smtpd_milters) -> smtp-sink
# (source from run.sh after sections.sh; uses tests/lib/postfix.sh).
#
#   section_e2e    E2E_MSGS messages (default 300) from 2 parallel SMTP
#                  sessions (smtp-source -d: several messages per session),
#                  through one scratch Postfix whose smtpd_milters is set in
#                  turn to mxdock-milter, then to opendkim + pyspf-milter
#                  (both over TCP, as Postfix reaches a milter that is not
#                  in its chroot), and with no milter at all (Postfix's own
#                  ceiling), BENCH_RUNS alternating runs.  A run counts
#                  when every message reached the sink with one
#                  DKIM-Signature; messages/s = messages / time to the last.

E2E_MSGS=${E2E_MSGS:-300}

# e2e_milters PEER - the smtpd_milters value for a peer (inet:HOST:PORT).
e2e_milters() {
	local a=${PEER_ARGS[$1]:-} out="" s
	for s in $a; do
		case $s in
		--socket=inet:*)
			s=${s#--socket=inet:}
			out="$out${out:+, }inet:127.0.0.1:${s%@*}"
			;;
		esac
	done
	echo "$out"
}

# e2e_run PEER RUN - one timed run; appends a result line.
e2e_run() {
	local p=$1 r=$2 t0 secs n signed status=ok d="$POSTFIX_DIR"
	postconf -c "$d/conf" -e "smtpd_milters = $(e2e_milters "$p")"
	postfix -c "$d/conf" reload >/dev/null 2>&1
	sleep 1
	rm -f "$SINK_DIR"/*
	t0=$(date +%s.%N)
	smtp-source -d -s 2 -m "$E2E_MSGS" -F "$H/corpus/e2e.eml" -f "sender@bench.test" \
		-t "user@rcpt.bench.test" "127.0.0.1:$POSTFIX_PORT" >"$H/e2e.out" 2>&1
	for _ in $(seq 600); do
		postfix_have "$E2E_MSGS" && break
		sleep 0.1
	done
	secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
	n=$(postfix_count)
	signed=$(grep -l '^DKIM-Signature:' "$SINK_DIR"/* 2>/dev/null | wc -l)
	[ "$p" = postfix ] && signed=$n
	if [ "$n" -ne "$E2E_MSGS" ] || [ "$signed" -ne "$E2E_MSGS" ]; then
		status="FAIL: $n delivered, $signed signed of $E2E_MSGS"
		peer_failed "$p" "e2e / $p run $r" "$n delivered, $signed signed of $E2E_MSGS"
	fi
	printf 'e2e\tsmtp-source -> Postfix -> smtp-sink, sign RSA-2048, 2 KB, 2 sessions\t%s\t%d\t%s\t' \
		"$p" "$r" "$status" >>"$H/results/e2e.tsv"
	echo "label=$p msgs=$n secs=$secs rate=$(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%.1f", n / s }') p50_ms=0 p95_ms=0 \
p99_ms=0 max_ms=0 cpu_ms=0" >>"$H/results/e2e.tsv"
}

section_e2e() {
	local r p peers=""
	for p in mx_tcp od_spf_tcp; do
		if [ -n "${PEER_ARGS[$p]:-}" ]; then
			peers="$peers $p"
		else
			printf 'e2e\tsmtp-source -> Postfix -> smtp-sink, sign RSA-2048, 2 KB, 2 sessions\t%s\t0\tskip\t%s\n' \
				"$p" "${PEER_WHY[$p]:-not started}" >>"$H/results/e2e.tsv"
		fi
	done
	[ -n "$peers" ] || return 0
	peers="$peers postfix"
	sed 's/\r$//' "$H/corpus/plain/plain-2k.eml" >"$H/corpus/e2e.eml"
	postfix_start "" || return 0
	for ((r = 1; r <= BENCH_RUNS; r++)); do
		for p in $peers; do
			e2e_run "$p" "$r"
		done
	done
	log "e2e done"
}
