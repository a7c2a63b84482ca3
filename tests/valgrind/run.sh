#!/bin/bash
# run.sh - make valgrind: the milter end to end under valgrind memcheck.
# tests/soak.sh (a real Postfix, signed and verified mail, SIGUSR1 reloads
# while mail flows, SIGTERM at the end) with the milter started through
# MILTER_WRAP=valgrind; then every valgrind log must say 0 errors and
# 0 bytes definitely lost.  Suppressions: tests/valgrind/mxdock.supp (one
# entry: libopendkim's Ed25519 key, with the reason).
#
#   VALGRIND_MESSAGES=1000 VALGRIND_RELOADS=20 tests/valgrind/run.sh
#
# Under valgrind the milter is some 20 to 50 times slower; the issue's
# 10,000 messages and 100 reloads take hours on 2 shared cores, so the
# default is 1,000 and 20 (set the variables for the long run).
cd "$(dirname "$0")/../.." || exit 70
out=$(mktemp -d /tmp/mxdock-valgrind.XXXXXX)
export MILTER_WRAP="valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite
	--errors-for-leak-kinds=definite --suppressions=$PWD/tests/valgrind/mxdock.supp
	--num-callers=40 -s --log-file=$out/memcheck.%p --child-silent-after-fork=yes"
export MILTER_WAIT=600 SOAK_MESSAGES=${VALGRIND_MESSAGES:-1000} SOAK_RELOADS=${VALGRIND_RELOADS:-20}
export SOAK_SESSIONS=${VALGRIND_SESSIONS:-4} SOAK_RELOAD_GAP=1
tests/soak.sh
rc=$?
fail=0
logs=$(ls "$out"/memcheck.* 2>/dev/null)
if [ -z "$logs" ]; then
	echo "not ok - valgrind wrote no log ($out)"
	exit 1
fi
for f in $logs; do
	grep -q "ERROR SUMMARY: 0 errors" "$f" || { echo "not ok - errors in $f:"; grep -A30 -m3 "^==[0-9]*== [A-Z].*\(Invalid\|uninitialised\|definitely\)" "$f" | head -80; fail=1; }
	if grep -q "definitely lost: [1-9]" "$f"; then
		echo "not ok - definite leak in $f"; fail=1
	fi
	grep -E "ERROR SUMMARY|definitely lost|suppressed:|used_suppression" "$f" | sed 's/^==[0-9]*== /# /'
done
[ $fail = 0 ] && echo "ok - valgrind memcheck: 0 errors, 0 bytes definitely lost (logs: $out)"
[ $rc = 0 ] && [ $fail = 0 ]
