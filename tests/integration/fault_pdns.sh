#!/bin/bash
# fault_pdns.sh - a real PowerDNS made to fail in the middle of a run
# (issue 18): a proxy (fault_proxy.py) forwards requests 1..N-1 of a
# command to the real API and fails request N and every later one: stop
# (connection closed, no answer), silent (never answers), 500, junk (200
# with binary junk), lost (the change is made, the answer never comes),
# slow (0.5 s late, inside the timeout).  N runs over every request the
# command makes, for:
#   mxdock-dns create NEW        (1 request: POST of the zone)
#   mxdock-dns sync D            (GET, PATCH; an MX deleted by hand first)
#   mxdock-dns dnssec enable D   (8 requests: GET keys, GET/PUT metadata
#                                 mark, POST key, rectify, GET, PATCH SOA,
#                                 DELETE mark)
#   mxdock-dkim tick             (GET, PATCH: publishing a pending key)
# After each failed run: exit code 69/75/76 with one line on stderr (tick:
# mxdock-dns's line, then its own, exit 69); the zone
# export (GET /zones/D./export) exactly as before unless the fault came
# after a write reached PowerDNS (lost; dnssec's later steps, which leave
# the zone's X-MXDOCK-DNSSEC-PENDING mark: a clean re-run finishes with one
# key); the DKIM store byte for byte as before (no key file or state line
# made or lost); no zone left from a failed create without its keys.
# Found: libcurl re-sent a POST whose kept-alive connection died before the
# answer, so "lost" at dnssec's POST made two CSKs (fixed: pdns_api.c sends
# a POST on a fresh connection).
cd "$(dirname "$0")/../.." || exit 70
source tests/lib/harness.sh
source tests/lib/pdns.sh
h_init fault-pdns
pdns_start sqlite || { h_done; exit 1; }
C=$H/mxdock.conf
pdns_conf "$C"
echo "pdns_timeout = 1s" >>"$C"
D=example.test
"$BINDIR/mxdock-dns" -c "$C" create $D >/dev/null
h_eq "setup: create" "$?" 0
UP=${PDNS_API_URL%/api/v1}

export_of() { pdns_api GET "/servers/localhost/zones/$1./export"; }
store_of() { (cd "$H/dkim" && find . -type f | sort | xargs -r sha256sum); }
keys_of() { pdns_api GET "/servers/localhost/zones/$D./cryptokeys" | jq -c '[.[] | {keytype, active}]'; }
pending_of() {
	pdns_api GET "/servers/localhost/zones/$D./metadata" | jq -r '.[].kind' | grep -c X-MXDOCK-DNSSEC-PENDING
}

# proxy MODE N - start the proxy failing from request N; writes $H/f.conf
PROXY=""
proxy() {
	[ -n "$PROXY" ] && kill "$PROXY" 2>/dev/null && wait "$PROXY" 2>/dev/null
	rm -f "$H/p.port"
	: >"$H/p.log"
	python3 tests/integration/fault_proxy.py "$UP" "$1" "$2" "$H/p.port" "$H/p.log" &
	PROXY=$!
	h_track $PROXY
	for _ in $(seq 50); do [ -s "$H/p.port" ] && break; sleep 0.1; done
	sed "s|^pdns_api_url = .*|pdns_api_url = http://127.0.0.1:$(cat "$H/p.port")/api/v1|" "$C" >"$H/f.conf"
}
want_rc() { case $1 in stop | lost) echo 69 ;; silent) echo 75 ;; *) echo 76 ;; esac; }
want_msg() {
	case $1 in
	stop | lost) echo "unreachable" ;; silent) echo "did not answer in time" ;;
	500) echo "HTTP 500" ;; junk) echo "not JSON" ;;
	esac
}
# failed NAME MODE ERRFILE RC - the exit code and the one line
failed() {
	h_eq "$1: exit $(want_rc "$2")" "$4" "$(want_rc "$2")"
	h_has "$1: says why" "$(cat "$3")" "$(want_msg "$2")"
	h_eq "$1: one line on stderr" "$(grep -c . "$3")" 1
}

MODES="stop silent 500 junk lost"

# --- create: no zone, no keys --------------------------------------------------
for mode in $MODES; do
	new=new-$mode.test
	proxy "$mode" 1
	"$BINDIR/mxdock-dns" -c "$H/f.conf" create $new >/dev/null 2>"$H/err"
	failed "create, $mode" "$mode" "$H/err" $?
	h_eq "create, $mode: no keys left" "$(ls -A "$H/dkim/$new" 2>/dev/null)" ""
	zone=$(pdns_api GET "/servers/localhost/zones?zone=$new.")
	if [ "$mode" = lost ]; then
		# the zone was made, the answer lost: a re-run must end with a
		# zone whose DKIM records match key files in the store
		proxy "$mode" 99
		"$BINDIR/mxdock-dns" -c "$H/f.conf" create $new >/dev/null 2>"$H/err"
		h_eq "create, lost, re-run: exit 0 ($(head -c 150 "$H/err"))" "$?" 0
		sels=$(export_of $new | sed -n 's/^\([^.]*\)\._domainkey\..*TXT.*/\1/p' | sort | tr '\n' ' ')
		files=$(cd "$H/dkim/$new" 2>/dev/null && ls ./*.pem | sed 's|./||; s|\.pem$||' | sort | tr '\n' ' ')
		h_eq "create, lost, re-run: every published selector has its key file" "$sels" "$files"
	else
		h_eq "create, $mode: no zone made" "$zone" "[]"
	fi
done
proxy slow 1
h_eq "create, slow: exit 0" "$("$BINDIR/mxdock-dns" -c "$H/f.conf" create new-slow.test >/dev/null 2>&1; echo $?)" 0

# --- sync: an MX deleted by hand, then sync (GET, PATCH) -----------------------
pdns_api PATCH "/servers/localhost/zones/$D." \
	'{"rrsets":[{"name":"example.test.","type":"MX","changetype":"DELETE"}]}'
for mode in $MODES; do
	for n in 1 2; do
		before=$(export_of $D) store=$(store_of)
		proxy "$mode" $n
		"$BINDIR/mxdock-dns" -c "$H/f.conf" sync $D >/dev/null 2>"$H/err"
		failed "sync, $mode at request $n" "$mode" "$H/err" $?
		h_eq "sync, $mode at request $n: DKIM store unchanged" "$(store_of)" "$store"
		if [ "$mode" = lost ] && [ $n = 2 ]; then
			h_has "sync, lost PATCH: the change is in (PowerDNS made it)" "$(pdns_dig $D MX)" "mail"
			pdns_api PATCH "/servers/localhost/zones/$D." \
				'{"rrsets":[{"name":"example.test.","type":"MX","changetype":"DELETE"}]}'
		else
			h_eq "sync, $mode at request $n: export unchanged" "$(export_of $D)" "$before"
		fi
	done
done
proxy slow 1
h_eq "sync, slow: exit 0" "$("$BINDIR/mxdock-dns" -c "$H/f.conf" sync $D >/dev/null 2>&1; echo $?)" 0
h_has "sync, slow: the MX is back" "$(pdns_dig $D MX)" "mail"

# --- dnssec enable: every one of its 8 requests fails once ---------------------
for mode in $MODES; do
	for n in 1 2 3 4 5 6 7 8; do
		before=$(export_of $D)
		proxy "$mode" $n
		"$BINDIR/mxdock-dns" -c "$H/f.conf" dnssec enable $D >/dev/null 2>"$H/err"
		failed "dnssec enable, $mode at request $n" "$mode" "$H/err" $?
		if [ "$mode" = lost ] && [ $n = 8 ]; then
			h_eq "dnssec enable, lost at 8 (the mark's DELETE done): complete" \
				"$(keys_of) $(pending_of)" '[{"keytype":"csk","active":true}] 0'
		elif [ "$(pending_of)" = 0 ]; then
			h_eq "dnssec enable, $mode at $n: no mark, so no key and the export unchanged" \
				"$(keys_of) $(export_of $D | md5sum)" "[] $(md5sum <<<"$before")"
		else
			h_ok "dnssec enable, $mode at $n: the pending mark is set"
		fi
		"$BINDIR/mxdock-dns" -c "$C" dnssec enable $D >/dev/null 2>"$H/err"
		h_eq "dnssec enable, $mode at $n: a clean re-run exits 0 ($(head -c 150 "$H/err"))" "$?" 0
		h_eq "dnssec enable, $mode at $n: then one active CSK, no orphan, no mark" \
			"$(keys_of) $(pending_of)" '[{"keytype":"csk","active":true}] 0'
		"$BINDIR/mxdock-dns" -c "$C" dnssec disable $D >/dev/null 2>&1
		h_eq "dnssec disable (reset) leaves no key" "$(keys_of)" "[]"
	done
done

# --- dkim tick: a pending key to publish (GET, PATCH) --------------------------
"$BINDIR/mxdock-dkim" -c "$C" keygen $D --algorithm=ed25519 >/dev/null
for mode in $MODES; do
	for n in 1 2; do
		before=$(export_of $D) store=$(store_of)
		proxy "$mode" $n
		"$BINDIR/mxdock-dkim" -c "$H/f.conf" tick >"$H/out" 2>"$H/err"
		rc=$?
		# tick runs mxdock-dns sync: its line, then tick's with its code
		h_eq "dkim tick, $mode at request $n: exit 69" "$rc" 69
		h_has "dkim tick, $mode at request $n: says why" "$(cat "$H/err")" "$(want_msg "$mode")"
		h_has "dkim tick, $mode at request $n: and what failed" "$(cat "$H/err")" \
			"DNS sync failed (mxdock-dns exit $(want_rc "$mode"))"
		h_eq "dkim tick, $mode at request $n: DKIM store unchanged (no key made or lost)" \
			"$(store_of)" "$store"
		if [ "$mode" = lost ] && [ $n = 2 ]; then
			h_has "dkim tick, lost PATCH: the key is published" "$(export_of $D)" "_domainkey"
		else
			h_eq "dkim tick, $mode at request $n: export unchanged" "$(export_of $D)" "$before"
		fi
	done
done
h_done
