#!/bin/bash
# dkim_milter - issue 4's acceptance lines that need the real milter: the
# mxdock-milter built from the tree, a real Postfix and a real PowerDNS.
#
#  a. keys imported from an OpenDKIM KeyTable/SigningTable (made here with
#     opendkim-genkey) and published by `mxdock-dns create` sign mail with
#     the imported selector, and the signature verifies (sent back from
#     127.0.0.2, the milter says dkim=pass);
#  b. the milter picks up key changes without a restart: by noticing the
#     state file changed (no signal), and on SIGUSR1;
#  c. it never signs with a pending (or retiring) key.
#
# Time is the fake clock $MXDOCK_NOW, as in dkim_lifecycle.sh.
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/pdns.sh"
source "$H_TOP/tests/lib/postfix.sh"
h_init dkim-milter

DOM=old.test
T0=1795219200                          # 2026-11-21 00:00 UTC
T1=$((T0 + 10 * 86400))                # 2026-12-01
T2=$((T0 + 20 * 86400))                # 2026-12-11
D=$BINDIR/mxdock-dkim
C=$H/mxdock.conf
STATE=$H/dkim/$DOM/state

pdns_start sqlite || { h_done; exit 1; }
pdns_conf "$C"
MPORT=$(h_port)
cat >>"$C" <<CONF
milter_socket = inet:$MPORT@127.0.0.1
milter_authserv_id = mx.dkim.test
milter_internal_hosts = 127.0.0.1/32
dkim_rsa_bits = 1024
dkim_rotate_after = 0
CONF

# send N - internal mail number N from alice@DOM; prints the delivered copy
send() {
	postfix_send --from "alice@$DOM" --to bob@example.org --h-From "Alice <alice@$DOM>" \
		--h-Subject "mail $1" --body "Body of mail $1." >"$H/send-$1.txt"
	postfix_wait_delivered "$1" >/dev/null && postfix_message "$1" | tee "$H/mail-$1.eml"
}
# back FILE N - FILE sent again from 127.0.0.2 (external: verified)
back() {
	postfix_send --local-interface 127.0.0.2 --from "alice@$DOM" --to bob@example.org \
		--data "@$1" >"$H/send-$2.txt"
	postfix_wait_delivered "$2" >/dev/null && postfix_message "$2"
}
# selectors - the s= of every DKIM-Signature in a message, sorted
selectors() { grep -oE '(^|[[:space:];])s=[a-z0-9]+' <<<"$1" | sed 's/.*s=//' | sort | tr '\n' ' '; }

# --- a. import from OpenDKIM, publish, sign, verify ---------------------------
mkdir -p "$H/opendkim"
opendkim-genkey --directory="$H/opendkim" --domain=$DOM --selector=mail2019 --bits=1024 ||
	h_fail "opendkim-genkey runs" "failed" "keys"
echo "oldkey $DOM:mail2019:$H/opendkim/mail2019.private" >"$H/opendkim/KeyTable"
echo "*@$DOM oldkey" >"$H/opendkim/SigningTable"
out=$(MXDOCK_NOW=$T0 "$D" -c "$C" import "$H/opendkim/KeyTable" "refile:$H/opendkim/SigningTable" 2>&1)
h_eq "import exits 0" "$?" 0
h_has "import: mail2019 active" "$out" "mail2019._domainkey.$DOM imported as active"
out=$(MXDOCK_NOW=$T0 "$BINDIR/mxdock-dns" -c "$C" create "$DOM" 2>&1)
h_eq "mxdock-dns create exits 0" "$?" 0
want=$(tr -d '\n\t' <"$H/opendkim/mail2019.txt" | sed 's/.*p=\([A-Za-z0-9+/=" ]*\).*/\1/' | tr -d '" ')
got=$(pdns_dig "mail2019._domainkey.$DOM" TXT | tr -d '" ' | sed 's/.*p=//')
h_eq "PowerDNS serves the key opendkim-genkey made" "$got" "$want"
h_eq "create made no keys of its own" "$("$D" -c "$C" list "$DOM" | awk 'NR > 1 { print $2, $5 }' | tr '\n' ,)" \
	"mail2019 active,"

milter_start "$C" || { h_done; exit 1; }
postfix_start "inet:127.0.0.1:$MPORT" || { h_done; exit 1; }
m=$(send 1)
h_eq "mail 1 signed with the imported selector" "$(selectors "$m")" "mail2019 "
h_has "mail 1: d= the domain" "$m" "d=$DOM"
m=$(back "$H/mail-1.eml" 2)
h_has "mail 1 verifies (sent back from 127.0.0.2)" "$m" "dkim=pass (1024-bit key) header.d=$DOM header.s=mail2019"

# --- c. rotate: new keys pending (published), mail still signed by the old -----
out=$(MXDOCK_NOW=$T1 "$D" -c "$C" rotate "$DOM" 2>&1)
h_eq "rotate exits 0" "$?" 0
h_has "rotate: pending ed25519 key published" "$(pdns_dig "mx20261201e._domainkey.$DOM" TXT)" "k=ed25519"
m=$(send 3)
h_eq "mail 3: pending keys not used, only the active one" "$(selectors "$m")" "mail2019 "

# --- b. tick activates them: the state file changes, no signal ----------------
sleep 1.1    # the milter compares the state file's mtime in whole seconds
out=$(MXDOCK_NOW=$((T1 + 60)) "$D" -c "$C" tick 2>&1)
h_eq "tick exits 0" "$?" 0
h_has "tick: new rsa key active" "$out" "mx20261201r (rsa) seen in DNS -> active"
m=$(send 4)
h_eq "mail 4 (no signal): signed with the new keys only, not the retiring one" \
	"$(selectors "$m")" "mx20261201e mx20261201r "
m=$(back "$H/mail-4.eml" 5)
h_has "mail 4: ed25519 signature verifies" "$m" "dkim=pass (256-bit key) header.d=$DOM header.s=mx20261201e"
h_has "mail 4: rsa signature verifies" "$m" "dkim=pass (1024-bit key) header.d=$DOM header.s=mx20261201r"
m=$(back "$H/mail-1.eml" 6)
h_has "mail 1 (imported key, now retiring) still verifies" "$m" "dkim=pass (1024-bit key) header.d=$DOM header.s=mail2019"

# --- b. SIGUSR1: a change the state file's mtime does not show ----------------
out=$(MXDOCK_NOW=$T2 "$D" -c "$C" rotate "$DOM" 2>&1)
h_eq "second rotate exits 0" "$?" 0
m=$(send 7)
h_eq "mail 7: the new pending keys not used" "$(selectors "$m")" "mx20261201e mx20261201r "
mtime=$(stat -c %Y "$STATE")
MXDOCK_NOW=$T2 "$D" -c "$C" activate "$DOM" mx20261211e >"$H/activate.out" 2>&1
h_eq "activate exits 0" "$?" 0
touch -m -d "@$mtime" "$STATE"   # as if written within the same second
m=$(send 8)
if [ "$(selectors "$m")" = "mx20261201e mx20261201r " ]; then
	echo "# note: a state change within the same second (same st_mtime) goes unnoticed without SIGUSR1"
fi
kill -USR1 "$MILTER_PID"
h_wait "milter reloaded on SIGUSR1 (log: $MILTER_LOG)" 10 grep -q "configuration 2 loaded" "$MILTER_LOG"
m=$(send 9)
h_eq "mail 9 (after SIGUSR1): the key activated since" "$(selectors "$m")" "mx20261201r mx20261211e "
h_done
