#!/bin/bash
# dkim_lifecycle - a whole key rotation against a real PowerDNS, with a fake
# clock ($MXDOCK_NOW): create -> first keys active -> rotate -> new keys
# pending and published (dig) -> active, old retiring -> retired, TXT gone
# -> private key deleted; then a keygen'd key that stays pending until tick
# has published it and sees it served.  At each step mail is signed with the keys the
# store says are active, by an independent DKIM implementation (the
# mailauth npm package, tests/node), and verified by it against the TXT
# records PowerDNS serves: mail signed just before a step verifies after it.
#
# The zone and the first keys come from `mxdock-dns create`; the DNS sync
# that rotate and tick run is the real `mxdock-dns sync` beside mxdock-dkim.
source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/pdns.sh"
h_init dkim-life

NODE_DIR=$H_TOP/tests/node
h_npm_ci ||
	{ h_fail "npm ci in tests/node (log: $H/npm.log)" "failed" "mailauth installed"; h_done; exit; }

pdns_start sqlite
C=$H/mxdock.conf
pdns_conf "$C"
cat >>"$C" <<CONF
dkim_rsa_bits = 2048
dkim_retire_after = 7d
dkim_delete_after = 30d
dkim_rotate_after = 0
CONF
T0=1795219200                          # 2026-11-21 00:00 UTC
DOM=life.test
STORE=$H/dkim

D=$BINDIR/mxdock-dkim
# signer/verifier: mailauth, sharing no code with libopendkim
export NODE_DIR

# sign_active N - sign message N with the keys the store has active;
# prints the signed file's name
sign_active() {
	local m=$H/msg$1 keys
	printf 'From: a@%s\r\nTo: b@example.org\r\nSubject: step %d\r\nDate: Sat, 21 Nov 2026 00:00:00 +0000\r\n\r\nbody %d\r\n' \
		"$DOM" "$1" "$1" >"$m.txt"
	keys=$("$D" -c "$C" list "$DOM" --json |
		jq -r --arg s "$STORE/$DOM" '.[] | select(.state == "active") | "\(.selector):\(.algorithm):\($s)/\(.selector).pem"')
	node "$H_TOP/tests/node/dkim.mjs" sign "$m.txt" "$DOM" $keys >"$m.signed" 2>"$m.err"
	echo "$m.signed"
}
verify() { node "$H_TOP/tests/node/dkim.mjs" verify "$1" "$PDNS_DNS_PORT" 2>&1 | sort | tr '\n' ' '; }
states() { "$D" -c "$C" list "$DOM" --json | jq -r '.[] | "\(.selector)=\(.state)"' | tr '\n' ' '; }
txt() { pdns_dig "$1._domainkey.$DOM" TXT | tr -d '" \n'; }
tick() { MXDOCK_NOW=$1 "$D" -c "$C" tick >>"$H/tick.log" 2>&1; echo $?; }

# --- first keys: mxdock-dns create publishes them and activates them ------------
out=$(MXDOCK_NOW=$T0 "$BINDIR/mxdock-dns" -c "$C" create "$DOM" 2>&1)
h_eq "mxdock-dns create exits 0" "$?" 0
h_has "create: first keys active at once" "$out" "DKIM selector mx20261121r (rsa) active"
h_eq "first keys active" "$(states)" "mx20261121e=active mx20261121r=active "
h_has "dig: ed25519 key published" "$(txt mx20261121e)" "v=DKIM1;k=ed25519;p="
h_has "dig: rsa key published" "$(txt mx20261121r)" "v=DKIM1;k=rsa;p=MIIBIjAN"
m1=$(sign_active 1)
h_eq "mail 1 (first keys) verifies" "$(verify "$m1")" \
	"life.test mx20261121e pass life.test mx20261121r pass "
sed 's/^body 1/body X/' "$m1" >"$H/tampered"
h_eq "mail 1 with one body byte changed: body hash mismatch" "$(verify "$H/tampered")" \
	"life.test mx20261121e neutral life.test mx20261121r neutral "

# --- rotation -----------------------------------------------------------------
T1=$((T0 + 10 * 86400))
h_eq "rotate exits 0" "$(MXDOCK_NOW=$T1 "$D" -c "$C" rotate "$DOM" >>"$H/tick.log" 2>&1; echo $?)" 0
h_eq "rotate: new keys pending, old still active" "$(states)" \
	"mx20261121e=active mx20261121r=active mx20261201e=pending mx20261201r=pending "
h_has "rotate: synced, new key in DNS" "$(txt mx20261201e)" "v=DKIM1;k=ed25519;p="
m2=$(sign_active 2)
h_eq "mail 2 signed with the old keys only" "$(grep -o 's=mx[0-9a-z]*' "$m2" | tr '\n' ' ')" \
	"s=mx20261121e s=mx20261121r "
h_eq "tick 3 exits 0" "$(tick $((T1 + 60)))" 0
h_eq "tick 3: new active, old retiring" "$(states)" \
	"mx20261121e=retiring mx20261121r=retiring mx20261201e=active mx20261201r=active "
h_has "dig: retiring key still published" "$(txt mx20261121r)" "k=rsa;p="
h_eq "mail 2 (signed before) still verifies" "$(verify "$m2")" \
	"life.test mx20261121e pass life.test mx20261121r pass "
m3=$(sign_active 3)
h_eq "mail 3 signed with the new keys only" "$(grep -o 's=mx[0-9a-z]*' "$m3" | tr '\n' ' ')" \
	"s=mx20261201e s=mx20261201r "
h_eq "mail 3 verifies" "$(verify "$m3")" "life.test mx20261201e pass life.test mx20261201r pass "

# --- retire, remove from DNS, delete --------------------------------------------
h_eq "tick 6 days on exits 0" "$(tick $((T1 + 6 * 86400)))" 0
h_eq "6 days on: still retiring" "$(states)" \
	"mx20261121e=retiring mx20261121r=retiring mx20261201e=active mx20261201r=active "
T2=$((T1 + 7 * 86400 + 60))
h_eq "tick 7 days on exits 0" "$(tick $T2)" 0
h_eq "7 days on: old retired" "$(states)" \
	"mx20261121e=retired mx20261121r=retired mx20261201e=active mx20261201r=active "
h_eq "dig: retired ed25519 TXT removed" "$(txt mx20261121e)" ""
h_eq "dig: retired rsa TXT removed" "$(txt mx20261121r)" ""
h_eq "mail 3 (signed before) still verifies" "$(verify "$m3")" \
	"life.test mx20261201e pass life.test mx20261201r pass "
# no key in DNS: a PERMFAIL (RFC 6376 section 6.1.2 step 3), which mailauth
# reports as neutral; both signatures must still be seen and judged
h_eq "mail 2 (old keys, now out of DNS) no longer passes" "$(verify "$m2")" \
	"life.test mx20261121e neutral life.test mx20261121r neutral "
h_eq "retired private key kept for now" "$(ls "$STORE/$DOM" | tr '\n' ' ')" \
	"mx20261121e.pem mx20261121r.pem mx20261201e.pem mx20261201r.pem state "
h_eq "tick 30 days on exits 0" "$(tick $((T2 + 30 * 86400)))" 0
h_eq "30 days on: old keys gone from the state" "$(states)" "mx20261201e=active mx20261201r=active "
h_eq "30 days on: private keys deleted" "$(ls "$STORE/$DOM" | tr '\n' ' ')" \
	"mx20261201e.pem mx20261201r.pem state "
h_eq "dns shows the new keys only" "$("$D" -c "$C" dns "$DOM" | cut -d' ' -f1 | tr '\n' ' ')" \
	"mx20261201e._domainkey.life.test. mx20261201r._domainkey.life.test. "

# --- a key not yet in DNS waits: keygen, tick (sync), tick (seen) ---------------
T3=$((T2 + 40 * 86400))
MXDOCK_NOW=$T3 "$D" -c "$C" keygen "$DOM" --algorithm=ed25519 >/dev/null
h_eq "keygen: pending, not in DNS yet" "$(txt mx20270117e)" ""
h_eq "tick exits 0" "$(tick $T3)" 0
h_has "tick: stays pending while DNS lacks it" "$(tail -3 "$H/tick.log")" \
	"mx20270117e (ed25519) stays pending"
h_eq "tick: still pending" "$(states)" "mx20261201e=active mx20261201r=active mx20270117e=pending "
h_has "tick: its sync published it" "$(txt mx20270117e)" "v=DKIM1;k=ed25519;p="
h_eq "next tick exits 0" "$(tick $((T3 + 60)))" 0
h_eq "next tick: seen, active; its predecessor retiring" "$(states)" \
	"mx20261201e=retiring mx20261201r=active mx20270117e=active "

# --- an older pending key seen in DNS while a newer one waits (issue 12) -------
# the older goes active; the newer stays pending, and is not reported as
# retiring; once seen, it goes active and the older retires
T4=$((T3 + 86400)); T5=$((T4 + 86400))
MXDOCK_NOW=$T4 "$D" -c "$C" keygen "$DOM" --algorithm=ed25519 >/dev/null
h_eq "tick (older key published)" "$(tick $T4)" 0
MXDOCK_NOW=$T5 "$D" -c "$C" keygen "$DOM" --algorithm=ed25519 >/dev/null
: >"$H/tick.log"
h_eq "tick: older seen, newer not yet" "$(tick $T5)" 0
h_eq "older pending key active, newer still pending, previous active retiring" \
	"$(states | tr ' ' '\n' | grep 2027 | sort | tr '\n' ' ')" \
	"mx20270117e=retiring mx20270118e=active mx20270119e=pending "
h_has "report: the older goes active" "$(cat "$H/tick.log")" "mx20270118e (ed25519) seen in DNS -> active"
h_has "report: the previous active retires" "$(cat "$H/tick.log")" "mx20270117e (ed25519) -> retiring"
h_has "report: the newer stays pending" "$(cat "$H/tick.log")" "mx20270119e (ed25519) stays pending"
h_lacks "report: the newer is not called retiring" "$(cat "$H/tick.log")" "mx20270119e (ed25519) -> retiring"
h_eq "next tick: the newer seen" "$(tick $((T5 + 60)))" 0
h_eq "the newer active, the older retiring" \
	"$(states | tr ' ' '\n' | grep 2027 | sort | tr '\n' ' ')" \
	"mx20270117e=retiring mx20270118e=retiring mx20270119e=active "

# --- two pending keys both seen: the newest wins, the older retires -------------
T6=$((T5 + 86400)); T7=$((T6 + 86400))
MXDOCK_NOW=$T6 "$D" -c "$C" keygen "$DOM" --algorithm=rsa --bits=1024 >/dev/null
MXDOCK_NOW=$T7 "$D" -c "$C" keygen "$DOM" --algorithm=rsa --bits=1024 >/dev/null
h_eq "tick publishes both" "$(tick $T7)" 0
: >"$H/tick.log"
h_eq "tick: both seen" "$(tick $((T7 + 60)))" 0
h_eq "the newest pending key active, the older one retiring, not active" \
	"$(states | tr ' ' '\n' | grep -E 'mx2027012[01]r' | sort | tr '\n' ' ')" \
	"mx20270120r=retiring mx20270121r=active "
h_has "report: the older pending one retires" "$(cat "$H/tick.log")" "mx20270120r (rsa) -> retiring"
h_done
