#!/bin/bash
# dkim_store_galera - DKIM keys in the database on a three-node Galera
# cluster (issue 19, dkim_store = mysql): two hosts, each on its own node,
# run `mxdock-dkim tick` at the same moment on a domain due for rotation,
# ROUNDS times.  Galera lets both transactions run (no lock is shared
# across nodes); the first COMMIT wins and the other must be rolled back
# whole (certification conflict, 1213).  Wanted each round: exactly one new
# pending key per algorithm, and a loser that says so and exits 75; after
# the rounds every node holds the same rows.
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/galera.sh"
h_init dkim-store-galera

D=$BINDIR/mxdock-dkim
T0=1795219200
ROUNDS=${ROUNDS:-15}
SEAL=$H/seal.key

galera_start || { h_done; exit 1; }
openssl rand -hex 32 >"$SEAL"
chmod 600 "$SEAL"
# mkconf FILE NODE... - a host preferring the nodes in that order
mkconf() {
	local f=$1
	shift
	cat >"$f" <<CONF
dkim_keydir = $H/unused
pdns_api_url =
dkim_rsa_bits = 1024
dns_check_server = 127.0.0.1:9
dns_timeout = 1
dkim_store = mysql
dkim_store_seal_key_file = $SEAL
mysql_timeout = 5
CONF
	galera_conf "$f" "$@"
}
mkconf "$H/a.conf" 1 2 3
mkconf "$H/b.conf" 2 3 1
dk() { local c=$1 now=$2; shift 2; MXDOCK_NOW=$now "$D" -c "$c" "$@"; }

dk "$H/a.conf" $T0 keygen rot.test >/dev/null
dk "$H/a.conf" $T0 activate rot.test mx20261121e >/dev/null
dk "$H/a.conf" $T0 activate rot.test mx20261121r >/dev/null
bad=""
lost=0
for r in $(seq 1 "$ROUNDS"); do
	now=$((T0 + r * 100 * 86400))
	dk "$H/a.conf" $now tick >"$H/ta.out" 2>"$H/ta.err" &
	pa=$!
	dk "$H/b.conf" $now tick >"$H/tb.out" 2>"$H/tb.err" &
	pb=$!
	wait $pa
	ra=$?
	wait $pb
	rb=$?
	n=$(cat "$H/ta.out" "$H/tb.out" | grep -c "new pending key (rotation)")
	pend=$(dk "$H/a.conf" $now list rot.test | awk '$5 == "pending" { print $3 }' | sort | tr '\n' ,)
	[ "$n" = 2 ] && [ "$pend" = "ed25519,rsa," ] || bad="$bad round$r:made=$n,pending=$pend,rc=$ra/$rb"
	for x in a b; do
		rc=$([ $x = a ] && echo $ra || echo $rb)
		if grep -q "another host changed rot.test" "$H/t$x.err"; then
			lost=$((lost + 1))
			[ "$rc" = 75 ] || bad="$bad round$r:$x-lost-but-rc=$rc"
			grep -q "new pending" "$H/t$x.out" && bad="$bad round$r:$x-lost-but-reported"
		elif [ "$rc" != 0 ]; then
			bad="$bad round$r:$x-rc=$rc($(head -c 200 "$H/t$x.err"))"
		fi
	done
	for s in $(dk "$H/a.conf" $now list rot.test | awk '$5 == "pending" { print $2 }'); do
		dk "$H/a.conf" $now activate rot.test "$s" >/dev/null
	done
done
h_eq "$ROUNDS rounds of two hosts' ticks on two nodes: one pending key per algorithm each" "$bad" ""
echo "# rounds where the second host lost the certification: $lost of $ROUNDS"
sums=""
for n in 1 2 3; do
	sums="$sums $(galera_db "$n" mxdock "CHECKSUM TABLE dkim_key, dkim_domain" | awk 'NR > 1 { print $2 }' | tr '\n' ,)"
done
sums=$(echo $sums)
set -- $sums
h_eq "every node holds the same key rows" "$1 $1 $1" "$sums"
h_done
