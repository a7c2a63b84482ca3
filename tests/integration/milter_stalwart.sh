#!/bin/bash
# milter_stalwart.sh - mxdock-milter called the way Stalwart calls it (issue
# 5, docs/MILTER.md "Stalwart"): every stage on a NEW milter connection that
# replays connect, helo, mail and every RCPT so far, no ESMTP arguments (no
# SIZE=).  Simulated by tests/integration/stalwart_client.py (no Stalwart
# package in Debian 12):
#   - data stage (Stalwart's default): internal client 127.0.0.1 gets both
#     DKIM-Signature headers inserted, external 192.0.2.10 gets one
#     Authentication-Results inserted and no signature;
#   - rcpt stage with quota (MariaDB): the full mailbox 452 4.2.2, another
#     recipient continues, also when replayed after an accepted one.
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/pdns.sh"
source "$H_TOP/tests/lib/mariadb.sh"
source "$H_TOP/tests/lib/postfix.sh"
h_init milter_stalwart

D=example.test
AUTHSERV=mx.stalwart.test
milter_scratch_conf "$AUTHSERV" || { h_done; exit 1; }
mariadb_start || { h_done; exit 1; }
cat >>"$C" <<EOF
milter_internal_hosts = 127.0.0.1/32
dkim_fail_action = tag
spf_fail_action = tag
dmarc_quarantine_action = tag
quota_enable = yes
quota_cache_ttl = 0
EOF
mariadb_conf "$C"

out=$("$BINDIR/mxdock-dns" -c "$C" create "$D" 2>&1)
h_eq "mxdock-dns create $D" "$?" 0
"$BINDIR/mxdock-policy" -c "$C" init-db >"$H/init-db.log" 2>&1
h_eq "mxdock-policy init-db" "$?" 0
mariadb_db mxdock <"$H_TOP/docs/policy-schema.sql"   # accounts, emails (the mail server's)
mariadb_db mxdock "INSERT INTO accounts (name, quota) VALUES ('bob', 100000), ('full', 100000);
	INSERT INTO emails (name, address) VALUES ('bob', 'bob@$D'), ('full', 'full@$D');
	INSERT INTO mailbox_usage VALUES ('bob', 1000, NOW()), ('full', 100000, NOW());"

milter_start "$C" || { h_done; exit 1; }
T=127.0.0.1:$MILTER_PORT
stalwart() { /usr/bin/python3 "$H_TOP/tests/integration/stalwart_client.py" "$T" "$@" 2>&1; }

cat >"$H/msg.eml" <<EOF
From: Alice <alice@$D>
To: bob@example.org
Subject: through Stalwart
Date: Sat, 21 Nov 2026 12:00:00 +0000
Message-ID: <stalwart1@$D>

Hello from a data-only milter stage
EOF

# 1. data stage only, fresh connection: internal mail is signed twice
out=$(stalwart data 127.0.0.1 client.test "alice@$D" bob@example.org "$H/msg.eml")
h_eq "internal: two DKIM-Signature insertions" "$(grep -c '^insheader DKIM-Signature:' <<<"$out")" 2
h_has "internal: rsa-sha256" "$out" "a=rsa-sha256"
h_has "internal: ed25519-sha256" "$out" "a=ed25519-sha256"
h_lacks "internal: no Authentication-Results" "$out" "Authentication-Results:"
h_lacks "internal: not refused" "$out" "reply "

# the signed message from an external client (192.0.2.10, not allowed by
# the domain's SPF: spf_fail_action = tag), again on a fresh connection:
# one A-R inserted, both signatures pass, DMARC passes by them, no signing
{ tr -d '\r' <<<"$out" | awk '/^insheader /{ sub(/^insheader /, ""); p = 1; print; next }
	p && /^[ \t]/ { print; next } { p = 0 }'; cat "$H/msg.eml"; } >"$H/signed.eml"
out=$(stalwart data 192.0.2.10 client.example "alice@$D" bob@example.org "$H/signed.eml")
h_eq "external: one Authentication-Results insertion" \
	"$(grep -c '^insheader Authentication-Results:' <<<"$out")" 1
h_has "external: our authserv-id" "$out" "Authentication-Results: $AUTHSERV;"
h_eq "external: dkim=pass twice" "$(grep -o 'dkim=pass' <<<"$out" | wc -l)" 2
h_has "external: spf=fail" "$out" "spf=fail"
h_has "external: dmarc=pass" "$out" "dmarc=pass"
h_lacks "external: no DKIM-Signature added" "$out" "insheader DKIM-Signature:"
h_lacks "external: not refused" "$out" "reply "

# 2. rcpt stage, fresh connection per RCPT, no SIZE=: quota answers at RCPT
out=$(stalwart rcpt 192.0.2.10 client.example "alice@$D" "full@$D")
h_has "rcpt full: 452 4.2.2" "$out" "rcpt full@$D reply 452 4.2.2"
out=$(stalwart rcpt 192.0.2.10 client.example "alice@$D" "bob@$D")
h_eq "rcpt bob: continue" "$out" "rcpt bob@$D continue"
# the next RCPT's connection replays bob (accepted) and full was popped
out=$(stalwart rcpt 192.0.2.10 client.example "alice@$D" "bob@$D,full@$D")
h_eq "replayed bob then full" "$out" "rcpt bob@$D continue
rcpt full@$D reply 452 4.2.2 <full@$D>: mailbox full"
if kill -0 "$MILTER_PID" 2>/dev/null; then h_ok "milter alive after the stages"
else h_fail "milter alive after the stages" "dead (log: $MILTER_LOG)" "running"; fi
h_done
