# harness.sh - what every integration test sources.
#
#   h_init NAME          scratch directory $H (under /tmp), cleanup on exit
#   h_port               print a free TCP/UDP port on 127.0.0.1
#   h_npm_ci             tests/node's pinned npm packages, installed once
#   h_track PID          stop PID (TERM, then KILL) on exit
#   h_on_exit CMD        run CMD on exit (before the tracked PIDs are stopped)
#   h_wait DESC SECS CMD wait until CMD succeeds, or fail the test
#   h_ok NAME / h_fail NAME GOT WANT / h_eq NAME GOT WANT
#   h_has NAME TEXT WANT / h_lacks NAME TEXT UNWANTED (both fail on empty input)
#   h_done               print "N passed, N failed", exit 0 or 1
#
# Every process a test starts is stopped on exit, pass or fail.  On failure
# the scratch directory is kept and named, so its logs can be read; set
# KEEP_SCRATCH=1 to keep it always.

H_PASS=0
H_FAIL=0
H_PIDS=""
H_EXIT_CMDS=""
H_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BINDIR=${BINDIR:-$H_TOP/bin}
export BINDIR

h_init() {
	H=$(mktemp -d "/tmp/mxdock-$1.XXXXXX")
	chmod 755 "$H"
	trap h_cleanup EXIT
	trap 'exit 130' INT TERM
}

h_cleanup() {
	local rc=$? cmd pid
	while IFS= read -r cmd; do
		[ -n "$cmd" ] && eval "$cmd" >/dev/null 2>&1
	done <<<"$H_EXIT_CMDS"
	for pid in $H_PIDS; do kill -TERM "$pid" 2>/dev/null; done
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		local alive=""
		for pid in $H_PIDS; do kill -0 "$pid" 2>/dev/null && alive=1; done
		[ -z "$alive" ] && break
		sleep 0.3
	done
	for pid in $H_PIDS; do kill -KILL "$pid" 2>/dev/null; done
	if [ "$H_FAIL" -gt 0 ] || [ "$rc" -ne 0 ] || [ -n "$KEEP_SCRATCH" ]; then
		echo "# scratch kept for reading: $H" >&2
	else
		rm -rf "$H"
	fi
}

h_track() { H_PIDS="$H_PIDS $1"; }
h_on_exit() { H_EXIT_CMDS="$1
$H_EXIT_CMDS"; }

# h_port - a port below the kernel's ephemeral range (so no outgoing
# connection holds it), used by no TCP or UDP socket now, and not handed out
# before by this test (several are picked before any is bound).
# MXDOCK_TEST_PORTS=LOW-HIGH narrows it: tests/check runs two passes at
# once, each in its own half, so they never pick the same port between
# h_port and the bind.  The ports handed out are kept in $H/.ports: h_port
# runs in $(...) subshells.
h_port() {
	local p low high
	low=10000
	high=$(($(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768) - 1))
	if [[ $MXDOCK_TEST_PORTS =~ ^([0-9]+)-([0-9]+)$ ]] &&
		[ "${BASH_REMATCH[1]}" -ge 1024 ] && [ "${BASH_REMATCH[1]}" -lt "${BASH_REMATCH[2]}" ]; then
		low=${BASH_REMATCH[1]} high=${BASH_REMATCH[2]}
	fi
	while :; do
		p=$((low + (RANDOM * 32768 + RANDOM) % (high - low + 1)))
		grep -qx "$p" "$H/.ports" 2>/dev/null && continue
		ss -Htuan 2>/dev/null | awk '{ print $5 }' | grep -q ":$p\$" && continue
		echo "$p" >>"$H/.ports"
		echo "$p"
		return
	done
}

# h_npm_ci - install tests/node's pinned npm packages (mailauth) from the
# lock file when they are missing.  Under a lock on tests/node: two passes
# of tests/check run at once, and neither may run npm ci while the other
# does, nor use a half-installed node_modules.  Its log is $H/npm.log.
h_npm_ci() {
	flock "$H_TOP/tests/node" bash -c 'cd "$1" && { [ -d node_modules/mailauth ] ||
		npm ci --silent --no-audit --no-fund; }' - "$H_TOP/tests/node" >"$H/npm.log" 2>&1
}

h_wait() {
	local desc=$1 secs=$2 i
	shift 2
	for ((i = 0; i < secs * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	h_fail "$desc" "not ready after ${secs}s" "ready"
	return 1
}

h_ok() { H_PASS=$((H_PASS + 1)); echo "ok - $1"; }
h_fail() {
	H_FAIL=$((H_FAIL + 1))
	echo "not ok - $1: got \"$2\", want \"$3\""
}
h_eq() { if [ "$2" = "$3" ]; then h_ok "$1"; else h_fail "$@"; fi; }
# h_has / h_lacks refuse empty input: an empty WANT is found in any text,
# and empty TEXT lacks anything, so either would pass on a capture that
# never happened.  A check that wants empty text says so with h_eq.
h_has() {
	if [ -z "$3" ]; then h_fail "$1" "an empty WANT" "a non-empty string to look for"
	elif [ -z "$2" ]; then h_fail "$1" "empty text (nothing captured)" "... $3 ..."
	elif printf '%s' "$2" | grep -qF -- "$3"; then h_ok "$1"
	else h_fail "$1" "$(printf '%s' "$2" | head -c 400)" "... $3 ..."; fi
}
h_lacks() {
	if [ -z "$3" ]; then h_fail "$1" "an empty string to look for" "a non-empty one"
	elif [ -z "$2" ]; then h_fail "$1" "empty text (nothing captured)" "text without $3"
	elif printf '%s' "$2" | grep -qF -- "$3"; then
		h_fail "$1" "$(printf '%s' "$2" | grep -F -- "$3" | head -3)" "no $3"
	else h_ok "$1"; fi
}

h_done() {
	echo "$H_PASS passed, $H_FAIL failed"
	[ "$H_FAIL" -eq 0 ]
}
