#!/bin/bash
# fault_keyfile.sh - a DKIM key file deleted or replaced under a running
# milter (issue 18), dkim_on_key_error = tempfail:
#   - deleted: the milter keeps signing with the key it read (keys are read
#     once per generation); after SIGUSR1 the domain's mail gets 451 4.3.0
#     and a log line naming the file, never unsigned mail passed as signed;
#   - replaced whole (rename) by a new valid key, then SIGUSR1: signed with
#     the new key (Ed25519 is deterministic: same message, new b=);
#   - overwritten in place with junk, then SIGUSR1: 451 4.3.0;
#   - replaced by a symbolic link to a valid key: refused (451 4.3.0);
#   - 200 messages while another loop replaces the file (valid key, junk,
#     missing) and sends SIGUSR1 every 50 ms: every message is answered
#     (signed and accepted, or 451 4.3.0), the milter stays up.
# Internal mail over the milter protocol (milter_msg.py); no DNS asked.
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/postfix.sh"
source "$H_TOP/tests/lib/dkimstore.sh"
h_init fault-keyfile

dkimstore_milter_conf mx.keyfile.test
dkimstore_key k.test
SEL=$DKIMSTORE_SEL
KEY=$H/store/k.test/$SEL.pem

send() { dkimstore_send k.test --dump "$H/added.json"; }
# verifies KEYFILE - dkimpy checks the last message's signature against the
# public half of KEYFILE: "pass" or "fail"
verifies() {
	local p
	p=$(openssl pkey -in "$1" -pubout -outform DER 2>/dev/null | tail -c 32 | base64 -w0)
	/usr/bin/python3 - "$H/added.json" "$p" <<'PY'
import json, sys, dkim
added = json.load(open(sys.argv[1]))
hdrs = [(n, v) for n, v in added if n == "DKIM-Signature"] + [
    ("From", " Alice <alice@k.test>"), ("Subject", " hi"),
    ("Date", " Sun, 06 Dec 2026 08:00:00 +0000")]
msg = "".join("%s:%s\r\n" % (n, v.replace("\r\n", "\n").replace("\n", "\r\n")) for n, v in hdrs)
msg += "\r\nHello.\r\n"
rec = ("v=DKIM1; k=ed25519; p=" + sys.argv[2]).encode()
ok = dkim.verify(msg.encode(), dnsfunc=lambda name, timeout=5: rec)
print("pass" if ok else "fail")
PY
}
# reload - SIGUSR1, and time for the new generation (it logs nothing)
reload() {
	kill -USR1 "$MILTER_PID"
	sleep 0.5
}
newkey() { openssl genpkey -algorithm ed25519 -out "$1" 2>/dev/null && chmod 0600 "$1"; }

milter_start "$C" || { h_done; exit 1; }
out=$(send)
h_has "control: signed" "$out" "s=$SEL"
h_eq "control: dkimpy verifies it with the key file's public key" "$(verifies "$KEY")" pass

cp -p "$KEY" "$H/orig.pem"
rm "$KEY"
out=$(send)
h_has "deleted, no reload: still signed with the key read at start" "$out" "s=$SEL"
h_eq "deleted, no reload: by the key read at start" "$(verifies "$H/orig.pem")" pass
reload
out=$(send)
h_has "deleted, reloaded: 451 4.3.0" "$out" "reply 451 4.3.0"
h_lacks "deleted, reloaded: not signed" "$out" "DKIM-Signature"
h_has "deleted, reloaded: the log names the file" "$(grep k.test "$MILTER_LOG" | tail -3)" "$KEY"

newkey "$H/new.pem"
mv "$H/new.pem" "$KEY"
reload
out=$(send)
h_has "replaced by a new key, reloaded: signed" "$out" "s=$SEL"
h_eq "replaced by a new key, reloaded: by the new key" "$(verifies "$KEY")" pass
h_eq "replaced by a new key, reloaded: not by the old one" "$(verifies "$H/orig.pem")" fail

printf 'junk, not a key\n' >"$KEY"
reload
out=$(send)
h_has "overwritten with junk, reloaded: 451 4.3.0" "$out" "reply 451 4.3.0"
h_lacks "overwritten with junk, reloaded: not signed" "$out" "DKIM-Signature"

rm "$KEY"
ln -s "$H/orig.pem" "$KEY"
reload
out=$(send)
h_has "a symbolic link, reloaded: refused, 451 4.3.0" "$out" "reply 451 4.3.0"
h_has "a symbolic link: the log says so" "$(grep k.test "$MILTER_LOG" | tail -3)" "symbolic link"
rm "$KEY"
cp -p "$H/orig.pem" "$KEY"
reload
send >/dev/null
h_eq "original back, reloaded: by the original key again" "$(verifies "$H/orig.pem")" pass

# the race: replace and reload every 50 ms while 200 messages go through
newkey "$H/valid.pem"
touch "$H/racing"
(
	i=0
	while [ -e "$H/racing" ]; do
		case $((i % 3)) in
		0) cp -p "$H/valid.pem" "$KEY.new" && mv "$KEY.new" "$KEY" ;;
		1) printf 'junk\n' >"$KEY.new" && chmod 0600 "$KEY.new" && mv "$KEY.new" "$KEY" ;;
		2) rm -f "$KEY" ;;
		esac
		kill -USR1 "$MILTER_PID" 2>/dev/null
		i=$((i + 1))
		sleep 0.05
	done
) &
RACER=$!
h_track $RACER
signed=0 refused=0 other=0
for i in $(seq 1 200); do
	out=$(send)
	if grep -q "action accept" <<<"$out" && grep -q "s=$SEL" <<<"$out"; then
		signed=$((signed + 1))
	elif grep -q "reply 451 4.3.0" <<<"$out"; then
		refused=$((refused + 1))
	else
		other=$((other + 1))
		echo "# unexpected answer: $(tr '\n' ' ' <<<"$out" | head -c 300)"
	fi
done
rm -f "$H/racing"
wait $RACER 2>/dev/null
echo "# race: $signed signed, $refused refused with 451 4.3.0"
h_eq "race: every one of 200 messages signed or 451 4.3.0" "$other" 0
h_eq "race: both outcomes seen (the race happened)" \
	"$([ $signed -gt 0 ] && [ $refused -gt 0 ] && echo both)" both
h_eq "race: the milter is still up" "$(kill -0 "$MILTER_PID" 2>/dev/null && echo up)" up
h_lacks "race: no panic or fatal in the log" "$(cat "$MILTER_LOG")" "panic"
h_done
