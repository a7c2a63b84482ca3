#!/bin/bash
# fault_resolver.sh - the milter's resolver answering badly (issue 18):
# SERVFAIL, garbage after a right ID, truncated (TC=1 over UDP, then a TCP
# answer cut short that never ends), a 5-byte packet, answers with a wrong
# ID (dropped: the same as silence).  For each, 20 messages at once from an
# outside client, each with SPF and six DKIM signatures to look up: every
# message is answered with the configured action (spf_temperror_action =
# tag, dkim_dnserror_action = tempfail: 451 4.7.20) within the per-message
# budget (milter_dns_budget = 3 s: the milter's own ms= under 4.5 s, the
# client's clock under 8 s; without the budget, SPF, six key lookups and
# DMARC at dns_timeout = 2 s take 16 s, and truncated's TCP answer hangs
# 30 s); no thread stays behind (the
# milter's thread count returns to its idle level) and the milter still
# answers.  Found: libopendkim read a SERVFAIL as "no key" (permerror,
# message accepted); dkim_msg_dns.c now hands it over as a failed query
# (temperror, dkim_dnserror_action).  The resolver is a fake (tests/integration/fault_dns.py): no
# real DNS server answers garbage on purpose.
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/postfix.sh"
source "$H_TOP/tests/lib/milterdns.sh"
h_init fault-resolver

# fake MODE - the fake resolver in MODE on UDP and TCP; sets DNSPORT
fake() {
	[ -n "${FAKE:-}" ] && kill "$FAKE" 2>/dev/null && wait "$FAKE" 2>/dev/null
	rm -f "$H/dns.port"
	python3 "$H_TOP/tests/integration/fault_dns.py" "$1" "$H/dns.port" &
	FAKE=$!
	h_track $FAKE
	h_wait "fake resolver ($1)" 10 test -s "$H/dns.port" || { h_done; exit 1; }
	DNSPORT=$(cat "$H/dns.port")
}
# send - a message with six signatures whose key lookups go to the fake (a
# budget not kept would cost 6 x dns_timeout, past the client's bound)
send() { milterdns_send 6 60; }
threads() { awk '/^Threads:/ {print $2}' "/proc/$MILTER_PID/status"; }

for mode in servfail garbage truncated short wrongid; do
	fake $mode
	milterdns_conf "$H/$mode.conf" mx.fault.test "$DNSPORT" 2s
	cat >>"$H/$mode.conf" <<CONF
spf_temperror_action = tag
dmarc_check = yes
CONF
	milter_start "$H/$mode.conf" || { h_done; exit 1; }
	idle=$(threads)
	for i in $(seq 1 20); do send >"$H/$mode.$i" & done
	wait_pids=$(jobs -p | grep -vx "$FAKE")
	# shellcheck disable=SC2086
	wait $wait_pids 2>/dev/null
	answered=0 slow=0
	for i in $(seq 1 20); do
		grep -q "reply 451 4.7.20" "$H/$mode.$i" && answered=$((answered + 1))
		awk '/^seconds / {exit !($2 > 8.0)}' "$H/$mode.$i" && slow=$((slow + 1))
	done
	h_eq "$mode: 20 messages at once, each answered 451 4.7.20 (dkim_dnserror_action)" \
		"$answered" 20
	# The client's clock also counts time outside the milter's callbacks,
	# which its ms= cannot see: libmilter's worker pool (Debian builds it
	# with _FFR_WORKERS_POOL; libmilter/worker.c) hands a session that is
	# ready to an idle worker by a condition signal, and when several are
	# ready at once one can wait until a busy worker's callback returns (up
	# to one DNS wait here); and the CPU wait on a loaded host.  Seen: up to
	# 5.0 s in quiet runs, 6.1 s (ASan build) under make check's two passes
	# while no ms= was over 4.5 s.  So 3 s budget + 5 s; a budget not kept
	# costs 16 s or more (checked with milter_dns_budget = 240s: 14-26 s).
	h_eq "$mode: none over the 3 s budget + 5 s, seen by the client (20 at once, loaded host)" "$slow" 0
	echo "# $mode: slowest seen by the client: $(sed -n 's/^seconds //p' "$H/$mode".[0-9]* | sort -n | tail -1) s"
	h_eq "$mode: none over 4.5 s, seen by the milter (ms= of its log lines)" \
		"$(grep -o ' ms=[0-9]*' "$MILTER_LOG" | awk -F= '$2 > 4500' | wc -l)" 0
	cp "$MILTER_LOG" "$H/$mode.milter.log"    # kept for reading
	: >"$MILTER_LOG"
	h_eq "$mode: SPF temperror tagged in the A-R" "$(grep -l "spf=temperror" "$H/$mode".[0-9]* | wc -l)" 20
	for _ in $(seq 50); do [ "$(threads)" -le "$idle" ] && break; sleep 0.1; done
	h_eq "$mode: no thread left behind (threads back to $idle)" "$(threads)" "$idle"
	h_has "$mode: the milter still answers" "$(send)" "reply 451 4.7.20"
	kill "$MILTER_PID"
	h_wait "milter stopped" 10 bash -c "! kill -0 $MILTER_PID 2>/dev/null"
done
h_done
