#!/bin/bash
# dkim_keyerror - issue 12 item 5: dkim_on_key_error when a domain's keys
# cannot be used.  A key file readable by others, or a corrupt state file,
# must not make the domain look like one without keys: with tempfail its
# mail gets 451 4.3.0 and one log line naming the file and the reason; with
# accept it leaves unsigned, and the log says why.  A healthy domain beside
# it is still signed.  Mail goes to the real mxdock-milter over the milter
# protocol (tests/integration/milter_msg.py); no DNS is asked (internal mail).
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/postfix.sh"
source "$H_TOP/tests/lib/dkimstore.sh"
h_init dkim-keyerror

dkimstore_milter_conf mx.keyerror.test
# send DOMAIN - a message From DOMAIN, as the milter answers it
send() { dkimstore_send "$1"; }

dkimstore_key good.test
dkimstore_key loose.test
loose=$DKIMSTORE_SEL
dkimstore_key broken.test
chmod 0644 "$H/store/loose.test/$loose.pem"
echo "this is no state file" >"$H/store/broken.test/state"

milter_start "$C" || { h_done; exit 1; }
out=$(send good.test)
h_has "healthy domain signed" "$out" "a=ed25519-sha256; c=relaxed/relaxed; d=good.test"
h_has "healthy domain accepted" "$out" "action accept"

out=$(send loose.test)
h_has "key file readable by others: 451 4.3.0 (dkim_on_key_error = tempfail)" "$out" "reply 451 4.3.0"
h_lacks "key file readable by others: not signed" "$out" "DKIM-Signature"
line=$(grep "dkim_on_key_error = tempfail" "$MILTER_LOG" | grep "loose.test")
h_eq "one log line for the message" "$(grep -c . <<<"$line")" 1
h_has "the log line names the key file" "$line" "$H/store/loose.test/$loose.pem"
h_has "the log line says why" "$line" "has mode 644; private keys must be 0600"

out=$(send sub.broken.test)
h_has "corrupt state file (parent domain of the From): 451 4.3.0" "$out" "reply 451 4.3.0"
line=$(grep "dkim_on_key_error = tempfail" "$MILTER_LOG" | grep "broken.test")
h_has "the log line names the state file" "$line" "$H/store/broken.test/state"

# the same store with dkim_on_key_error = accept: unsigned, with a log line
kill "$MILTER_PID"
h_wait "milter stopped" 10 bash -c "! kill -0 $MILTER_PID 2>/dev/null"
sed -i 's/^dkim_on_key_error = tempfail/dkim_on_key_error = accept/' "$C"
milter_start "$C" || { h_done; exit 1; }
out=$(send loose.test)
h_has "accept: the message goes on" "$out" "action accept"
h_lacks "accept: unsigned" "$out" "DKIM-Signature"
h_has "accept: the log says it left unsigned and why" \
	"$(grep "sent unsigned (dkim_on_key_error = accept)" "$MILTER_LOG")" "$loose.pem"
h_done
