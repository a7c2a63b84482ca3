#!/bin/bash
# guide_migrate_opendkim.sh - docs/migrate-opendkim.md section 1 followed
# word for word: an OpenDKIM site made the guide's way (opendkim-genkey, its
# KeyTable and SigningTable blocks), the guide's import and publish
# commands, then a message through Postfix and mxdock-milter signed with
# the imported selector and verified by dkimpy against the TXT PowerDNS
# serves.  Only /etc (-> scratch), the configuration ($MXDOCK_CONF) and a
# chown to a missing opendkim user change.
. "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/pdns.sh"
source "$H_TOP/tests/lib/postfix.sh"
source "$H_TOP/tests/lib/docsnip.sh"
h_init guide_migrate_opendkim
GUIDE=$H_TOP/docs/migrate-opendkim.md
R=$H/root
mkdir -p "$R/etc"
milter_scratch_conf mx.migrate.test || { h_done; exit 1; }

# guide_block TAG - the guide's block with the scratch substitutions
guide_block() {
	docsnip "$GUIDE" "$1" |
		sed -e "s#\\(^\\|[ >=:]\\)/etc/#\\1$R/etc/#g" |
		if getent passwd opendkim >/dev/null; then cat; else grep -v '^chown -R opendkim:'; fi
}
run_block() {
	local snip
	snip=$(guide_block "$1") || { h_fail "guide has a $1 block" none one; return 1; }
	PATH="$BINDIR:$PATH" MXDOCK_CONF=$C bash -e -c "$snip" >"$H/$1.out" 2>"$H/$1.err"
}

run_block opendkim-site
h_eq "the OpenDKIM site is made the guide's way" "$?" 0
K=$R/etc/opendkim/keys/example.com
h_has "opendkim-genkey wrote the key" "$(head -1 "$K/mail2024.private")" "PRIVATE KEY-----"
guide_block keytable >"$R/etc/opendkim/KeyTable"
guide_block signingtable >"$R/etc/opendkim/SigningTable"
h_has "KeyTable names the key file" "$(cat "$R/etc/opendkim/KeyTable")" "$K/mail2024.private"

run_block import
h_eq "the guide's import block exits 0" "$?" 0 || tail -3 "$H/import.err"
out=$(cat "$H/import.out")
h_has "import says imported as active" "$out" "mail2024._domainkey.example.com imported as active"
h_eq "list: mail2024 is active" "$(awk '$2 == "mail2024" { print $3, $5 }' <<<"$out")" "rsa active"
h_lacks "no key material printed" "$(cat "$H/import.out" "$H/import.err")" "MII"

run_block publish
h_eq "the guide's publish block exits 0" "$?" 0 || tail -3 "$H/publish.err"
want=$(grep -o '"[^"]*"' "$K/mail2024.txt" | tr -d '"\n ' | sed 's/.*p=//')
got=$(pdns_dig mail2024._domainkey.example.com TXT | grep -o '"[^"]*"' | tr -d '"\n' | sed 's/.*p=//')
h_eq "PowerDNS serves opendkim-genkey's key at mail2024" "$got" "$want"

# a message through Postfix and the milter (127.0.0.1 is an internal host)
milter_start "$C" || { h_done; exit 1; }
postfix_start "inet:127.0.0.1:$MILTER_PORT" || { h_done; exit 1; }
postfix_send --from alice@example.com --to bob@example.org --h-From "Alice <alice@example.com>" \
	--h-Subject "after the move" --body "Signed with the key OpenDKIM had." >"$H/send-1.txt"
postfix_wait_delivered 1
postfix_message 1 >"$H/m1.eml"
h_has "signed with the imported selector" "$(sed ':a;N;$!ba;s/\n[ \t]\+/ /g' "$H/m1.eml")" "d=example.com; s=mail2024;"
v=$(/usr/bin/python3 "$H_TOP/tests/integration/dkimpy_verify.py" "$H/m1.eml" "127.0.0.1:$PDNS_DNS_PORT" 2>&1)
h_has "dkimpy: the mail2024 signature passes" "$v" "dkimpy pass example.com mail2024"
h_lacks "dkimpy: no signature fails" "$v" "dkimpy fail"
# --- section 2's tables: every mxdock key named exists in conf_table.c, and
# every "key = value" given there is accepted by mxdock-milter -t
keys=0
while IFS= read -r item; do
	keys=$((keys + 1))
	case $item in
	*" = "*)
		printf '%s\n' "$item" >"$H/one.conf"
		out=$("$BINDIR/mxdock-milter" -c "$H/one.conf" -t 2>&1)
		h_eq "table: $item is a valid setting" "$out" "mxdock-milter: $H/one.conf: configuration OK" ;;
	*"*")
		h_has "table: keys $item exist" "$(grep -o '{"[a-z_0-9]*"' "$H_TOP/conf/conf_table.c")" "{\"${item%\*}" ;;
	*)
		h_has "table: key $item exists" "$(grep -o '{"[a-z_0-9]*"' "$H_TOP/conf/conf_table.c")" "{\"$item\"" ;;
	esac
done < <(sed -n '/^## 2\./,/^## How/p' "$GUIDE" | grep '^| `' | sed 's/\\|/!/g' |
	awk -F'|' '{ print $3 }' | grep -o '`[^`]*`' | tr -d '`' | sort -u)
[ "$keys" -ge 30 ] && h_ok "table: $keys mxdock settings checked" || h_fail "table settings found" "$keys" ">= 30"
h_done
