#!/bin/bash
# tests/fuzz/run.sh - run every libFuzzer target of build/fuzz for
# FUZZ_SECONDS each (default 15: the short pass of make check; make fuzz
# runs them long) on a scratch copy of its committed seed corpus.  Prints
# "ok - fuzz NAME (N runs)" or "not ok" with the crash file, then
# "N passed, N failed".  A crash input is kept in $FUZZ_OUT for a
# regression corpus entry: copy it into tests/fuzz/corpus/NAME/.
cd "$(dirname "$0")/../.." || exit 70
FB=${FUZZ_BUILDDIR:-$PWD/build/fuzz}/tests/fuzz
secs=${FUZZ_SECONDS:-15}
out=${FUZZ_OUT:-$(mktemp -d /tmp/mxdock-fuzz.XXXXXX)}
pass=0
fail=0
for bin in "$FB"/fuzz_*; do
	[ -x "$bin" ] || continue
	case $bin in *.o | *.d) continue ;; esac
	name=${bin##*/fuzz_}
	seeds=tests/fuzz/corpus/$name
	work=$out/$name
	mkdir -p "$work/corpus" "$work/crash"
	if [ ! -d "$seeds" ] || [ -z "$(ls -A "$seeds")" ]; then
		echo "not ok - fuzz $name: no seed corpus in $seeds"
		fail=$((fail + 1))
		continue
	fi
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-artifact_prefix="$work/crash/" -print_final_stats=1 \
		"$work/corpus" "$seeds" >"$work/log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
	if [ "$rc" -eq 0 ] && [ -n "$runs" ] && [ "$runs" -gt 0 ]; then
		echo "ok - fuzz $name ($runs runs in ${secs}s)"
		pass=$((pass + 1))
	else
		echo "not ok - fuzz $name: exit $rc, crash inputs in $work/crash, log $work/log"
		grep -m3 -E 'ERROR|runtime error|SUMMARY' "$work/log" | sed 's/^/#   /'
		fail=$((fail + 1))
	fi
done
if [ $((pass + fail)) -eq 0 ]; then
	echo "not ok - fuzz: no targets built in $FB (make fuzz-build)"
	fail=1
fi
[ "$fail" -eq 0 ] && [ -z "$FUZZ_OUT" ] && rm -rf "$out"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
