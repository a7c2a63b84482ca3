#!/bin/bash
# dkim_cli - mxdock-dkim from the command line: keygen, dns, list (text and
# JSON), activate, retire, bad input with its sysexits codes, import of an
# OpenDKIM KeyTable/SigningTable made with opendkim-genkey, and that tick
# runs the DNS sync (mxdock-dns beside the binary) for the domains it moved;
# a tick whose state write fails (strace fault injection) reports no change
# and exits 75.
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/dkimstore.sh"
h_init dkim-cli

dkimstore_cli_conf
export MXDOCK_NOW=1795219200        # 2026-11-21 00:00 UTC

# run - "RC|STDOUT|STDERR" of one mxdock-dkim call, stdout/stderr kept in files
run() {
	"$@" >"$H/out" 2>"$H/err"
	echo "$?"
}

# --- help -----------------------------------------------------------------
h_eq "--help exits 0" "$(run "$D" --help)" 0
for verb in keygen dns list activate retire rotate tick import; do
	h_has "--help names $verb" "$(cat "$H/out")" "  $verb"
done

# --- keygen, dns, list ----------------------------------------------------
h_eq "keygen exits 0" "$(run "$D" -c "$C" keygen Example.TEST)" 0
h_eq "keygen prints both new selectors" "$(cut -d' ' -f1,2,4 "$H/out" | tr '\n' ,)" \
	"mx20261121e._domainkey.example.test ed25519 pending,mx20261121r._domainkey.example.test rsa pending,"
h_eq "store dir mode 0700" "$(stat -c %a "$H/store/example.test")" 700
h_eq "key file mode 0600" "$(stat -c %a "$H/store/example.test/mx20261121r.pem")" 600
h_has "key file is PKCS#8 PEM" "$(head -1 "$H/store/example.test/mx20261121r.pem")" \
	"-----BEGIN PRIVATE KEY-----"
h_eq "second keygen the same day" "$(run "$D" -c "$C" keygen example.test --algorithm=rsa --bits=2048)" 0
h_has "second keygen gets a suffix" "$(cat "$H/out")" "mx20261121rb._domainkey.example.test rsa 2048 pending"

MXDOCK_CONF=$C run "$D" dns example.test >/dev/null
h_eq "dns: one line per published selector (MXDOCK_CONF)" "$(wc -l <"$H/out")" 3
h_has "dns: ed25519 record" "$(cat "$H/out")" \
	'mx20261121e._domainkey.example.test. IN TXT "v=DKIM1; k=ed25519; p='
line=$(grep '^mx20261121rb\.' "$H/out")
h_has "dns: 2048-bit RSA split in quoted strings" "$line" '" "'
longest=$(grep -o '"[^"]*"' <<<"$line" | awk '{ if (length($0) - 2 > m) m = length($0) - 2 } END { print m }')
h_eq "dns: no string over 255 bytes" "$([ "$longest" -le 255 ] && echo ok)" ok
pub=$(openssl pkey -in "$H/store/example.test/mx20261121rb.pem" -pubout -outform DER | base64 -w0)
h_eq "dns: p= is the key file's public key" \
	"$(grep -o '"[^"]*"' <<<"$line" | tr -d '"' | tr -d '\n' | sed 's/.*p=//')" "$pub"

h_eq "list exits 0" "$(run "$D" -c "$C" list)" 0
h_has "list shows selector, alg, bits, state, age" "$(cat "$H/out")" \
	"example.test             mx20261121rb     rsa       2048 pending       0m     0m"
h_eq "list --json exits 0" "$(run "$D" -c "$C" list example.test --json)" 0
h_eq "list --json parses, 3 selectors" "$(jq length "$H/out")" 3
h_eq "list --json fields" "$(jq -r '.[2] | "\(.selector) \(.algorithm) \(.bits) \(.state)"' "$H/out")" \
	"mx20261121rb rsa 2048 pending"

# --- writers take turns: four keygens at once, eight distinct selectors -------
for i in 1 2 3 4; do "$D" -c "$C" keygen para.test >/dev/null 2>&1 & done
wait
h_eq "parallel keygens: 8 selectors, all distinct" \
	"$("$D" -c "$C" list para.test --json | jq -r '.[].selector' | sort -u | wc -l)" 8
h_eq "parallel keygens: names" "$("$D" -c "$C" list para.test --json | jq -r '.[].selector' | sort | tr '\n' ' ')" \
	"mx20261121e mx20261121eb mx20261121ec mx20261121ed mx20261121r mx20261121rb mx20261121rc mx20261121rd "

# --- activate, retire -----------------------------------------------------
h_eq "activate" "$(run "$D" -c "$C" activate example.test mx20261121r)" 0
h_eq "activate rb" "$(run "$D" -c "$C" activate example.test mx20261121rb)" 0
states=$("$D" -c "$C" list example.test --json | jq -r '.[] | "\(.selector)=\(.state)"' | tr '\n' ' ')
h_eq "activating rb retires r, leaves e" "$states" \
	"mx20261121e=pending mx20261121r=retiring mx20261121rb=active "
h_eq "retire a retiring key" "$(run "$D" -c "$C" retire example.test mx20261121r)" 0
h_has "it goes retired" "$(cat "$H/out")" "mx20261121r._domainkey.example.test retired"
h_lacks "dns: retired key not published" "$("$D" -c "$C" dns example.test)" "mx20261121r._"

# --- bad input: one line on stderr, sysexits code ---------------------------
check_bad() {           # NAME WANT_RC WANT_STDERR ARGS...
	local name=$1 want=$2 msg=$3 rc
	shift 3
	rc=$(run "$@")
	h_eq "$name: exit code" "$rc" "$want"
	h_has "$name: says why" "$(cat "$H/err")" "$msg"
	h_eq "$name: one line" "$(wc -l <"$H/err")" 1
}
check_bad "no verb" 64 "no verb" "$D" -c "$C"
check_bad "unknown verb" 64 'unknown verb "frob"' "$D" -c "$C" frob
check_bad "unknown option" 64 'unknown option "--bogus"' "$D" -c "$C" list --bogus
check_bad "bad algorithm" 64 "--algorithm is ed25519 or rsa" "$D" -c "$C" keygen a.test --algorithm=dsa
check_bad "RSA too short" 64 "1024..4096" "$D" -c "$C" keygen a.test --bits=512
check_bad "keygen without domain" 64 "keygen wants DOMAIN" "$D" -c "$C" keygen
check_bad "bad domain" 65 'bad domain "bad..name"' "$D" -c "$C" keygen bad..name
check_bad "label too long" 65 "bad domain" "$D" -c "$C" dns "$(printf 'a%.0s' {1..64}).test"
check_bad "unknown selector" 65 'has no selector "nope"' "$D" -c "$C" activate example.test nope
check_bad "activate a retired key" 65 "mx20261121r is retired" "$D" -c "$C" activate example.test mx20261121r
check_bad "missing config" 78 "/nonexistent.conf" "$D" -c /nonexistent.conf list
# usage errors are named before the configuration is read (issue 12)
check_bad "unknown option, no config" 64 'unknown option "--bogus"' "$D" -c /nonexistent.conf list --bogus
check_bad "unknown first option, no config" 64 'unknown option "-q"' "$D" -q -c /nonexistent.conf list
check_bad "too many arguments, no config" 64 "tick takes no arguments" "$D" -c /nonexistent.conf tick extra
check_bad "missing argument, no config" 64 "dns wants DOMAIN" "$D" -c /nonexistent.conf dns
check_bad "bad --bits, no config" 64 "1024..4096" "$D" -c /nonexistent.conf keygen a.test --bits=9
# hostile names stay on one line (issue 12)
check_bad "domain with a newline" 65 'bad domain "a\x0ab.test"' "$D" -c "$C" dns "$(printf 'a\nb.test')"
check_bad "invalid punycode" 65 "punycode" "$D" -c "$C" dns xn--zz.com
printf 'no_such_key = 1\n' >"$H/bad.conf"
check_bad "bad config" 78 "no_such_key: unknown key" "$D" -c "$H/bad.conf" list
check_bad "dns of a domain without keys" 66 "no published DKIM keys" "$D" -c "$C" dns none.test
check_bad "import of missing tables" 66 "cannot read" "$D" -c "$C" import /nonexistent/kt /nonexistent/st

chmod 644 "$H/store/example.test/mx20261121e.pem"
before=$(cat "$H/store/example.test/state")
check_bad "loose key file" 65 "has mode 644; private keys must be 0600" "$D" -c "$C" list example.test
check_bad "loose key file: keygen" 65 "has mode 644" "$D" -c "$C" keygen example.test
h_eq "loose key file: state untouched" "$(cat "$H/store/example.test/state")" "$before"
chmod 600 "$H/store/example.test/mx20261121e.pem"
mkdir -p "$H/elsewhere"
ln -s "$H/elsewhere" "$H/store/evil.test"
check_bad "symlinked domain dir" 65 "is a symbolic link" "$D" -c "$C" keygen evil.test
h_eq "symlinked domain dir: nothing written there" "$(ls -A "$H/elsewhere")" ""
h_eq "list of all skips the bad domain, exit 65" "$(run "$D" -c "$C" list)" 65
h_has "list of all still shows the good one" "$(cat "$H/out")" "example.test"
rm "$H/store/evil.test"

# --- import from OpenDKIM ---------------------------------------------------
mkdir -p "$H/opendkim/keys"
opendkim-genkey --directory="$H/opendkim/keys" --domain=old.test --selector=mail2019 --bits=1024
opendkim-genkey --directory="$H/opendkim/keys" --domain=other.test --selector=default --bits=1024
chmod 640 "$H/opendkim/keys/"*.private
cat >"$H/opendkim/KeyTable" <<KT
# OpenDKIM key table
oldkey   old.test:mail2019:$H/opendkim/keys/mail2019.private
otherkey other.test:default:$H/opendkim/keys/default.private
unused   unused.test:sel:$H/opendkim/keys/default.private
inline   inline.test:sel1:$(grep -v '^-----' "$H/opendkim/keys/default.private" | tr -d '\n')
linked   linked.test:sel2:$H/opendkim/link.private
KT
ln -s "$H/opendkim/keys/mail2019.private" "$H/opendkim/link.private"
cat >"$H/opendkim/SigningTable" <<ST
*@old.test      oldkey
*@other.test    otherkey   # trailing comment
inline.test     inline
*.linked.test   linked
ST
h_eq "import exits 0" "$(run "$D" -c "$C" import "$H/opendkim/KeyTable" "refile:$H/opendkim/SigningTable")" 0
h_has "import reports old.test" "$(cat "$H/out")" "key oldkey: mail2019._domainkey.old.test imported as active"
h_has "import skips unused key" "$(cat "$H/out")" "key unused: not used in the SigningTable, skipped"
h_has "import: key given inline in the KeyTable" "$(cat "$H/out")" "key inline: sel1._domainkey.inline.test imported as active"
h_has "import: key file behind a symlink" "$(cat "$H/out")" "key linked: sel2._domainkey.linked.test imported as active"
h_lacks "import: no key material in the report" "$(cat "$H/out" "$H/err")" "MII"
h_eq "imported selector active" "$("$D" -c "$C" list old.test --json | jq -r '.[0] | "\(.selector) \(.state) \(.bits)"')" \
	"mail2019 active 1024"
h_eq "imported key stored 0600" "$(stat -c %a "$H/store/old.test/mail2019.pem")" 600
want=$(grep -o '"[^"]*"' "$H/opendkim/keys/mail2019.txt" | tr -d '"\n ' | sed 's/.*p=//')
got=$("$D" -c "$C" dns old.test | grep -o '"[^"]*"' | tr -d '"' | tr -d '\n' | sed 's/.*p=//')
h_eq "imported key: same TXT as opendkim-genkey published" "$got" "$want"
h_eq "import again exits 0" "$(run "$D" -c "$C" import "file:$H/opendkim/KeyTable" "$H/opendkim/SigningTable")" 0
h_has "import again: already there" "$(cat "$H/out")" "already in the store"
echo "*@old.test missingkey" >"$H/opendkim/BadSigning"
h_eq "import: key missing from KeyTable exit 65" \
	"$(run "$D" -c "$C" import "$H/opendkim/KeyTable" "$H/opendkim/BadSigning")" 65
h_has "import: names the missing key" "$(cat "$H/out")" 'names key "missingkey", which the KeyTable lacks'

# --- tick runs the DNS sync from its own directory --------------------------
mkdir -p "$H/bin"
cp "$D" "$H/bin/mxdock-dkim"
printf '#!/bin/sh\necho "$*" >>"%s/sync.log"\n' "$H" >"$H/bin/mxdock-dns"
chmod 755 "$H/bin/mxdock-dns"
sed -i 's/^pdns_api_url =$/pdns_api_url = http:\/\/127.0.0.1:9\/api\/v1/' "$C"
h_eq "tick exits 0" "$(run "$H/bin/mxdock-dkim" -c "$C" tick)" 0
h_has "tick: pending key stays pending" "$(cat "$H/out")" "example.test: mx20261121e (ed25519) stays pending"
h_eq "tick: sync run for the domains with unpublished keys only" "$(cat "$H/sync.log" | tr '\n' ,)" \
	"-c $C sync example.test,-c $C sync para.test,"
# --- a tick whose write fails reports nothing as done ------------------------
C2=$H/mxdock2.conf
printf 'dkim_keydir = %s/store2\npdns_api_url =\ndkim_retire_after = 7d\n' "$H" >"$C2"
"$D" -c "$C2" keygen fail.test --algorithm=ed25519 >/dev/null
"$D" -c "$C2" activate fail.test mx20261121e >/dev/null
MXDOCK_NOW=$((MXDOCK_NOW + 3600)) "$D" -c "$C2" keygen fail.test --algorithm=ed25519 >/dev/null
"$D" -c "$C2" activate fail.test mx20261121eb >/dev/null
# (LeakSanitizer cannot run under ptrace: off for the sanitizer build)
if command -v strace >/dev/null && strace -o /dev/null true 2>/dev/null; then
	h_eq "tick with the state write failing (EIO) exits 75" \
		"$(MXDOCK_NOW=$((MXDOCK_NOW + 8 * 86400)) ASAN_OPTIONS=detect_leaks=0 run strace -f -o /dev/null \
			-e trace=renameat -e inject=renameat:error=EIO "$D" -c "$C2" tick)" 75
	h_eq "failed tick: prints no change (stdout empty)" "$(cat "$H/out")" ""
	h_has "failed tick: says why on stderr" "$(cat "$H/err")" \
		"fail.test: skipped, nothing changed: cannot write $H/store2/fail.test/state: Input/output error"
	h_has "failed tick: key still retiring" "$("$D" -c "$C2" list fail.test)" "retiring"
else
	h_fail "strace usable (apt-get install strace)" "no" "yes"
fi
h_eq "tick after the failure exits 0" "$(MXDOCK_NOW=$((MXDOCK_NOW + 8 * 86400)) run "$D" -c "$C2" tick)" 0
h_has "tick after the failure: done and said" "$(cat "$H/out")" \
	"fail.test: mx20261121e (ed25519) -> retired (its TXT record goes)"
h_done
