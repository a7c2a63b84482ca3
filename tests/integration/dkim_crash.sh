#!/bin/bash
# dkim_crash - kill -9 `mxdock-dkim keygen` and `rotate` at many points and
# check after each kill that the store still loads (`list DOMAIN` exits 0)
# and that no selector it had before is lost or changed state.
#
# Two ways to choose the point: strace's fault injection delivers SIGKILL at
# the Nth write, fsync or rename (exact, covers every step of the atomic
# writes), and `timeout -s KILL` after a random short delay (anywhere,
# including inside key generation).
source "$(dirname "$0")/../lib/harness.sh"
h_init dkim-crash

D=$BINDIR/mxdock-dkim
C=$H/mxdock.conf
cat >"$C" <<CONF
dkim_keydir = $H/store
pdns_api_url =
dkim_rsa_bits = 1024
CONF
export MXDOCK_CONF=$C
DOM=crash.test
T0=1795219200

snapshot() { "$D" list "$DOM" --json 2>/dev/null | jq -r '.[] | "\(.selector)=\(.state)"' | sort; }

# check_after NAME - the store loads and holds every selector of $before
check_after() {
	local rc now lost
	"$D" list "$DOM" >"$H/list.out" 2>"$H/list.err"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		h_fail "$1: store loads" "exit $rc: $(cat "$H/list.err")" "exit 0"
		return
	fi
	now=$(snapshot)
	lost=$(comm -23 <(echo "$before") <(echo "$now"))
	if [ -n "$lost" ]; then
		h_fail "$1: no selector lost" "lost $(echo $lost)" "none lost"
		return
	fi
	h_ok "$1: store loads, nothing lost ($(echo "$now" | wc -l) selectors)"
	before=$now
}

# activate_pending - so that rotate has something to make: activate every
# pending key, oldest first
activate_pending() {
	local sel
	for sel in $("$D" list "$DOM" --json | jq -r '.[] | select(.state == "pending") | .selector' | sort); do
		"$D" activate "$DOM" "$sel" >/dev/null
	done
}

MXDOCK_NOW=$T0 "$D" keygen "$DOM" >/dev/null
"$D" activate "$DOM" mx20261121e >/dev/null
"$D" activate "$DOM" mx20261121r >/dev/null
before=$(snapshot)
h_eq "baseline" "$(echo $before)" "mx20261121e=active mx20261121r=active"

day=1
if command -v strace >/dev/null && strace -o /dev/null true 2>/dev/null; then
	for verb in keygen rotate; do
		for sc in write fsync renameat; do
			for n in 1 2 3 4 5 6; do
				export MXDOCK_NOW=$((T0 + day * 86400))
				day=$((day + 1))
				[ $verb = rotate ] && activate_pending
				before=$(snapshot)
				(strace -f -o /dev/null -e trace=$sc -e inject=$sc:signal=KILL:when=$n \
					"$D" $verb "$DOM" >/dev/null 2>&1; :) 2>/dev/null
				check_after "$verb killed at $sc #$n"
			done
		done
	done
else
	h_fail "strace usable (apt-get install strace)" "no" "yes"
fi

for i in 1 2 3 4 5 6 7 8 9 10; do
	export MXDOCK_NOW=$((T0 + day * 86400))
	day=$((day + 1))
	delay=0.0$((RANDOM % 4))$((RANDOM % 10))
	before=$(snapshot)
	if [ $((i % 2)) = 0 ]; then
		(timeout -s KILL "$delay" "$D" keygen "$DOM" >/dev/null 2>&1; :) 2>/dev/null
		check_after "keygen killed after ${delay}s"
	else
		activate_pending
		before=$(snapshot)
		(timeout -s KILL "$delay" "$D" rotate "$DOM" >/dev/null 2>&1; :) 2>/dev/null
		check_after "rotate killed after ${delay}s"
	fi
done

export MXDOCK_NOW=$((T0 + day * 86400))
h_eq "keygen after all the kills works" "$("$D" keygen "$DOM" >/dev/null 2>&1; echo $?)" 0
check_after "after a clean keygen"
h_eq "no temporary file left after a clean write" "$(ls "$H/store/$DOM" | grep -c '\.tmp\.')" 0
h_eq "the first two keys are still there" "$(snapshot | grep -c '^mx20261121[er]=')" 2
h_done
