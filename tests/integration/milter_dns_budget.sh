#!/bin/bash
# milter_dns_budget - issue 12 item 8: a resolver that never answers.  Every
# lookup of a message (SPF at MAIL, DKIM keys and DMARC at end of message)
# shares one time budget, milter_dns_budget; when it is spent the lookups
# left are temporary errors and the configured temperror actions answer,
# long before Postfix's milter_content_timeout (300 s) or Stalwart's 60 s
# read timeout.  Without the budget, five signatures cost five dns_timeouts
# one after another.
#
# The resolver is a UDP socket that receives and never answers: a fake,
# because no real DNS server can be made to stay silent on purpose.
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/postfix.sh"
source "$H_TOP/tests/lib/milterdns.sh"
h_init milter-dns-budget

SILENT=$(h_port)
python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', $SILENT)); print('up', flush=True)
while True: s.recv(4096)" >"$H/silent.out" &
h_track $!
h_wait "silent resolver up" 10 grep -q up "$H/silent.out"

C=$H/mxdock.conf
milterdns_conf "$C" mx.budget.test "$SILENT" 4s
echo "spf_skip_addresses = 0.0.0.0/0" >>"$C"

# send [ARGS] - a message with five signatures whose key lookups never end
send() { milterdns_send 5 120 "$@"; }
secs() { sed -n 's/^seconds //p' <<<"$1"; }
within() { awk -v s="$1" -v m="$2" 'BEGIN { exit !(s != "" && s + 0 <= m + 0) }' && echo yes || echo "no ($1 s)"; }

milter_start "$C" || { h_done; exit 1; }
out=$(send)
h_has "five signatures, silent resolver: dkim_dnserror_action = tempfail answers" "$out" "reply 451 4.7.20"
h_eq "answered within the 3 s budget (+1 s)" "$(within "$(secs "$out")" 4)" yes
h_has "the log says the budget ran out" "$(cat "$MILTER_LOG")" \
	"DNS lookups stopped at eoh: milter_dns_budget of 3s spent"

# SPF at MAIL and DKIM/DMARC at end of message share the one budget
kill "$MILTER_PID"
h_wait "milter stopped" 10 bash -c "! kill -0 $MILTER_PID 2>/dev/null"
sed -i '/^spf_skip_addresses/d' "$C"
echo "spf_temperror_action = tag" >>"$C"
milter_start "$C" || { h_done; exit 1; }
out=$(send)
h_has "SPF temperror tagged, DKIM temperror: tempfail" "$out" "reply 451 4.7.20"
h_eq "SPF + five signatures within one 3 s budget (+1 s)" "$(within "$(secs "$out")" 4)" yes
h_has "the budget ran out at MAIL already" "$(cat "$MILTER_LOG")" \
	"DNS lookups stopped at mail: milter_dns_budget of 3s spent"
h_done
