# scale_dkim.sh - DKIM keys on the cluster (issue 19), sourced by
# scale_cluster.sh with the cluster, PowerDNS 1 and 2 and the host
# configurations up.  Two more MX hosts, C (prefers node 1) and D (node 2),
# each an mxdock-milter behind a scratch Postfix, both with
# dkim_store = mysql and the same seal key file.  Proves:
#   - migration: signed.test is created in host C's files store, C signs
#     from it under steady mail; `migrate-store --to=mysql`, C switched to
#     the mysql store by a reload (SIGUSR1) under load; then the database
#     migrated back into an empty files store: the same selectors, states
#     and keys (public keys compared) in all three; every message signed;
#   - rotation: `mxdock-dkim tick` at the same moment on C and D (the
#     domain due for rotation) makes one pending key per algorithm, not two;
#     while the new keys are pending, D keeps signing with the old ones; the
#     next tick on C activates them (PowerDNS 2 serves them) and D signs
#     with them within dkim_store_poll, no message signed with a new key
#     before that tick; mail flows through C and D the whole time, and every
#     delivered message verifies with mailauth against PowerDNS 2.

h_npm_ci || h_fail "npm ci in tests/node" "$(tail -3 "$H/npm.log")" "mailauth installed"
SEAL=$H/dkim-seal.key
openssl rand -hex 32 >"$SEAL"
chmod 600 "$SEAL"
DOM=signed.test
K=$H/dkim-keys
mkdir -p "$K/templates" "$K/mta-sts"

# dkim_host_conf FILE STORE KEYDIR NODES... - a host signing for DOM
dkim_host_conf() {
	local f=$1 store=$2 dir=$3
	shift 3
	host_conf "$f" "$@"
	sed -i '/^dns_resolver *=/d' "$f"
	cat >>"$f" <<EOF
dns_resolver = 127.0.0.1:$P2_DNS
milter_internal_hosts = 127.0.0.1/32
dkim_store = $store
dkim_store_seal_key_file = $SEAL
dkim_store_poll = 1s
dkim_keydir = $dir
dkim_rsa_bits = 1024
pdns_api_url = $P1_URL
pdns_api_key_file = $P1_KEY
dns_check_server = 127.0.0.1:$P2_DNS
dns_nameservers = ns1.%d, ns2.%d
dns_server_ipv4 = 127.0.0.1
dns_template_dir = $K/templates
mta_sts_policy_dir = $K/mta-sts
EOF
}
CC=$H/c.conf CDD=$H/d.conf
dkim_host_conf "$CC" files "$K/files" 1 2 3
dkim_host_conf "$CDD" mysql "$K/unused-d" 2 3 1
DK() { local c=$1; shift; "$BINDIR/mxdock-dkim" -c "$c" "$@"; }

out=$("$BINDIR/mxdock-dns" -c "$CC" create "$DOM" 2>&1)
h_has "create $DOM through PowerDNS 1 (files store on C)" "$out" "zone created"
start_host c "$CC" || { h_done; exit 1; }
PC=$POSTFIX_PORT SC=$SINK_DIR LC=$MILTER_LOG MC=$MILTER_PID
start_host d "$CDD" || { h_done; exit 1; }
PD=$POSTFIX_PORT SD=$SINK_DIR MD=$MILTER_PID

# mail_loop TAG PORT... - one signed message a port every 0.3 s, Subject
# TAG-N, until $H/TAG.stop exists; N of the last message begun in $H/TAG.n,
# of the last one whose SMTP transaction has ended in $H/TAG.done
mail_loop() {
	local tag=$1 n=0 p
	shift
	while [ ! -e "$H/$tag.stop" ]; do
		for p in "$@"; do
			n=$((n + 1))
			echo "$n" >"$H/$tag.n"
			swaks --server "127.0.0.1:$p" --timeout 15 --from "alice@$DOM" \
				--to bob@example.org --h-From "Alice <alice@$DOM>" \
				--h-Subject "$tag-$n" --body "signed on the cluster, $tag $n" \
				>>"$H/$tag.swaks" 2>&1
			echo "$n" >"$H/$tag.done"
			sleep 0.3
		done
	done
}
# stop_loop TAG PID - stop it and wait for it (not in a subshell: only the
# shell that started the loop can wait for it); SENT = how many were sent
stop_loop() { touch "$H/$1.stop"; wait "$2"; SENT=$(cat "$H/$1.n"); }

# msgs_in TAG DIR... - the delivered messages of TAG, one file each
msgs_in() { local t=$1; shift; grep -rla "^Subject: $t-[0-9]*" "$@" 2>/dev/null; }
all_in() { [ "$(msgs_in "$1" "$SC" "$SD" | wc -l)" -ge "$2" ]; }

# verify_all TAG N - every delivered TAG message has two signatures of DOM
# and both pass mailauth against PowerDNS 2; prints "N ok" or what failed
verify_all() {
	local f bad=0 ok=0 res
	for f in $(msgs_in "$1" "$SC" "$SD"); do
		res=$(NODE_DIR=$H_TOP/tests/node node "$H_TOP/tests/node/dkim.mjs" verify "$f" "$P2_DNS" 2>&1)
		if [ "$(grep -c "^$DOM [^ ]* pass$" <<<"$res")" = 2 ]; then
			ok=$((ok + 1))
		else
			bad=$((bad + 1))
			echo "$f: $res" >>"$H/$1.verify-failures"
		fi
	done
	echo "$ok ok $bad bad"
}
# list_of CONF - selector, algorithm, state and p= of every key of DOM
list_of() { DK "$1" list "$DOM" | awk '{ print $2, $3, $5 }'; DK "$1" dns "$DOM" | sort; }

# ---- migration under load ---------------------------------------------------
rm -f "$H/mig.stop"
mail_loop mig "$PC" &
loop=$!
sleep 2
before=$(list_of "$CC")
out=$(DK "$CC" migrate-store --to=mysql 2>&1)
h_eq "migrate-store --to=mysql exits 0" "$?" 0
sed -i 's/^dkim_store = files/dkim_store = mysql/' "$CC"
kill -USR1 "$MC"
h_wait "C reloads onto the mysql store" 10 grep -q "configuration and keys reloaded" "$LC" &&
	h_ok "C reloaded onto the mysql store (log)"
# from here on C can only sign from the database
mv "$K/files" "$K/files.moved"
sleep 2
h_eq "the mysql store holds what the files store held" "$(list_of "$CC")" "$before"
sed "s|^dkim_keydir = .*|dkim_keydir = $K/back|; s/^dkim_store = mysql/dkim_store = files/" "$CC" >"$H/back.conf"
out=$(DK "$H/back.conf" migrate-store --to=files 2>&1)
h_eq "migrate-store --to=files into an empty key store exits 0" "$?" 0
h_eq "and back: the same selectors, states and keys" "$(list_of "$H/back.conf")" "$before"
mv "$K/files.moved" "$K/files"
h_eq "the first files store untouched by the migrations" "$(list_of "$H/back.conf")" "$(sed "s|$K/back|$K/files|" "$H/back.conf" >"$H/first.conf"; list_of "$H/first.conf")"
stop_loop mig "$loop"
sent=$SENT
h_wait "mig: all $sent delivered" 60 all_in mig "$sent" && h_ok "mig: all $sent delivered"
h_eq "mig: every message signed twice, both pass mailauth" "$(verify_all mig)" "$sent ok 0 bad"

# ---- rotation by tick on two hosts ------------------------------------------
old=$(DK "$CDD" list "$DOM" | awk '$5 == "active" { print $2 }' | sort | tr '\n' ' ')
h_eq "D sees C's two active keys" "$(wc -w <<<"$old")" 2
rm -f "$H/rot.stop"
mail_loop rot "$PC" "$PD" &
loop=$!
sleep 2
NOW=$(($(date +%s) + 91 * 86400))       # past dkim_rotate_after (90d)
MXDOCK_NOW=$NOW DK "$CC" tick >"$H/tick-c.out" 2>&1 &
tc=$!
MXDOCK_NOW=$NOW DK "$CDD" tick >"$H/tick-d.out" 2>&1 &
td=$!
wait "$tc" "$td"
pending=$(DK "$CDD" list "$DOM" | awk '$5 == "pending" { print $3 }' | sort | tr '\n' ' ')
h_eq "ticks on C and D at once: one pending key per algorithm" "$pending" "ed25519 rsa "
new=$(DK "$CDD" list "$DOM" | awk '$5 == "pending" { print $2 }' | sort | tr '\n' ' ')
for s in $new; do
	h_has "PowerDNS 2 serves pending $s" "$(dig +short +norecurse -p "$P2_DNS" @127.0.0.1 "$s._domainkey.$DOM" TXT)" "v=DKIM1"
done
sleep 3                                  # three dkim_store_poll periods
cut=$(cat "$H/rot.done")          # ended before the activating tick began
MXDOCK_NOW=$NOW DK "$CC" tick >>"$H/tick-c.out" 2>&1
h_eq "next tick on C: the new keys active" \
	"$(DK "$CDD" list "$DOM" | awk '$5 == "active" { print $2 }' | sort | tr '\n' ' ')" "$new"
# sels_of FILE - the s= of each DKIM-Signature of a message, sorted, on one line
sels_of() {
	tr -d '\r' <"$1" | awk '/^$/ { exit } /^[ \t]/ { cur = cur $0; next }
		{ if (cur ~ /^DKIM-Signature:/) print cur; cur = $0 }
		END { if (cur ~ /^DKIM-Signature:/) print cur }' |
		grep -o 's=[^;[:space:]]*' | sort | tr '\n' ' '
}
# newest_d - the selectors of the last message D delivered
newest_d() { sels_of "$(find "$SD" -type f -printf '%T@ %p\n' | sort -n | tail -1 | cut -d' ' -f2-)"; }
signs_new() { [ "$(newest_d)" = "$(for s in $new; do echo "s=$s"; done | tr '\n' ' ')" ]; }
h_wait "D signs with the new keys within dkim_store_poll" 10 signs_new && h_ok "D signs with the new keys"
sleep 2
stop_loop rot "$loop"
sent=$SENT
h_wait "rot: all $sent delivered" 60 all_in rot "$sent" && h_ok "rot: all $sent delivered"
early=0
for f in $(msgs_in rot "$SC" "$SD"); do
	n=$(grep -ao "^Subject: rot-[0-9]*" "$f" | grep -o "[0-9]*$")
	for s in $new; do
		case " $(sels_of "$f")" in *" s=$s "*) [ "$n" -le "$cut" ] && early=$((early + 1)) ;; esac
	done
done
h_eq "no message sent before the activating tick carries a new key" "$early" 0
h_eq "rot: every message signed twice, both pass mailauth" "$(verify_all rot)" "$sent ok 0 bad"
h_lacks "no private key in the cluster's database" "$(galera_db 2 mxdock 'SELECT * FROM dkim_key' 2>&1)" "PRIVATE KEY"
