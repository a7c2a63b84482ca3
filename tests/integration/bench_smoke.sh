#!/bin/bash
# bench_smoke - milterload (tests/bench) builds with the project's warning
# flags and talks the milter protocol to a do-nothing libmilter milter: it
# counts the messages, reports latencies, and fails a run whose replies are
# not what it was told to expect.  A few seconds; make bench does the rest.
source "$(dirname "$0")/../lib/harness.sh"
h_init bench_smoke

W="-Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow -Wformat=2 -Werror"
B=$H_TOP/tests/bench
if out=$(cc -O2 -D_GNU_SOURCE $W -o "$H/milterload" "$B/milterload.c" "$B/ml_proto.c" \
	"$B/ml_corpus.c" -lpthread 2>&1 &&
	cc -O2 -D_GNU_SOURCE $W -o "$H/nullmilter" "$B/nullmilter.c" -lmilter -lpthread 2>&1); then
	h_ok "milterload and nullmilter build without a warning"
else
	h_fail "milterload and nullmilter build" "$out" "no warning"
	h_done
	exit
fi

printf 'From: A <a@bench.test>\r\nTo: b@rcpt.test\r\nSubject: smoke\r\n\r\nhello\r\n' >"$H/msg.eml"
"$H/nullmilter" "local:$H/null.sock" smoke >"$H/null.log" 2>&1 &
h_track $!
NULL_PID=$!
h_wait "nullmilter listens" 10 test -S "$H/null.sock"

ml() { "$H/milterload" --socket="local:$H/null.sock" --corpus="$H/msg.eml" --warmup=2 "$@"; }

out=$(ml --conns=2 --count=200 --session=5 --pid=$NULL_PID --expect-header=X-Null:1 \
	--expect-value=X-Null:smoke 2>&1)
rc=$?
h_eq "a run whose replies are right exits 0" "$rc" 0
h_has "it counts every measured message" "$out" "msgs=200 "
h_has "it reports no failure" "$out" "fails=0 errors=0"
h_has "it reports the milter's CPU per message" "$out" "cpu_ms="
p50=$(printf '%s' "$out" | sed -n 's/.* p50_ms=\([0-9.]*\) .*/\1/p')
h_ok_if() { if [ "$2" ]; then h_ok "$1"; else h_fail "$1" "$3" "$4"; fi; }
h_ok_if "p50 latency is a positive number of ms" "$(awk -v p="$p50" 'BEGIN { if (p > 0) print 1 }')" \
	"$p50" "> 0"

out=$(ml --count=20 --expect-header=X-Null:2 2>&1)
rc=$?
h_eq "a missing header fails the run" "$rc" 1
h_has "and says what it got and wanted" "$out" "1 added X-Null header(s), want 2"

out=$(ml --count=20 --expect-ar=dkim=pass 2>&1)
h_has "a missing Authentication-Results fails the run" "$out" \
	'no added Authentication-Results header containing "dkim=pass"'

out=$(ml --count=20 --expect-verdict=reject 2>&1)
h_has "a wrong verdict fails the run" "$out" "want reject"

out=$("$H/milterload" --socket="local:$H/none.sock" --corpus="$H/msg.eml" --count=5 2>&1)
rc=$?
h_eq "an unreachable milter fails the run" "$rc" 1
h_has "and names the socket" "$out" "none.sock: connect"
h_done
