#!/bin/bash
# diff_dkim_dmarc.sh - the differential DKIM/DMARC suite (issue 12): the
# edge-case messages of tests/diff/gen.py, signed by our own test signer
# (tests/diff/dkimsign.py), their keys and DMARC records served by a scratch
# PowerDNS, judged by
#
#   mxdock-milter  over the milter protocol, reading the A-R it writes
#   mailauth       (npm, pinned in tests/node)   tests/diff/judge_mailauth.mjs
#   dkimpy         (Debian python3-dkim)         tests/diff/judge_dkimpy.py
#
# and each verdict compared with the RFC's answer written beside its case
# (tests/diff/compare.py).  mxdock differing from the RFC is a failure; a
# reference differing from the RFC is a failure unless docs/INTEROP.md lists
# it (case, reference, RFC section); every A-R value mxdock writes must
# parse by RFC 8601 section 2.2.  Closing lines: the count of cases,
# agreements (all three give the RFC's answer) and documented disagreements.
# DIFF_DKIM_ENGINE=opendkim runs the milter on libopendkim instead of
# mxdock's engine (diff_dkim_dmarc_opendkim.sh: both engines in make check).
source "$(dirname "$0")/../lib/harness.sh"
source "$(dirname "$0")/../lib/pdns.sh"
h_init diff_dkim_dmarc
TOP=$H_TOP
PY=/usr/bin/python3
OUT=$H/out
export NODE_DIR=$TOP/tests/node

if ! $PY -c 'import dkim, cryptography, dns.resolver' 2>"$H/py.err"; then
	h_fail "python3-dkim and python3-cryptography installed" "$(tail -1 "$H/py.err")" "make deps"
	h_done
	exit
fi
h_npm_ci ||
	{ h_fail "npm ci in tests/node" "$(tail -3 "$H/npm.log")" "mailauth installed"; h_done; exit; }

pdns_start sqlite || { h_done; exit; }
$PY "$TOP/tests/diff/gen.py" "$OUT" >"$H/gen.log" 2>&1 ||
	{ h_fail "gen.py made the cases" "$(tail -3 "$H/gen.log")" "N cases"; h_done; exit; }
ncases=$(jq length "$OUT/cases.json")
[ "$ncases" -ge 120 ] && h_ok "at least 120 cases generated ($ncases)" ||
	h_fail "cases generated" "$ncases" ">= 120"
while IFS= read -r zone; do
	out=$(pdns_api POST /servers/localhost/zones "$zone")
	name=$(jq -r .name <<<"$zone")
	h_has "zone $name loaded in PowerDNS" "$out" "\"name\": \"$name\""
done < <(jq -c '.[]' "$OUT/zones.json")
h_has "PowerDNS serves the split key" "$(pdns_dig split._domainkey.dk.test TXT)" '" "'

# mxdock-milter: verify and DMARC, dry run (headers written, nothing refused)
MPORT=$(h_port)
cat >"$H/mxdock.conf" <<EOF
milter_socket = inet:$MPORT@127.0.0.1
milter_internal_hosts = 127.0.0.1/32
milter_authserv_id = mx.diff.test
milter_dry_run = yes
dns_resolver = 127.0.0.1:$PDNS_DNS_PORT
dns_timeout = 5s
dkim_keydir = $H/dkim
dmarc_check = yes
dkim_engine = ${DIFF_DKIM_ENGINE:-mxdock}
EOF
mkdir -p "$H/dkim"
"$BINDIR/mxdock-milter" -f $([ "$(id -u)" = 0 ] && echo --allow-root) -c "$H/mxdock.conf" >"$H/milter.log" 2>&1 &
MILTER_PID=$!
h_track $MILTER_PID
h_wait "mxdock-milter listens" 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$MPORT" || { h_done; exit; }

# the three judges, side by side (each asks the same PowerDNS)
$PY "$TOP/tests/diff/judge_milter.py" "127.0.0.1:$MPORT" "$OUT" >"$OUT/milter.jsonl" 2>"$H/judge_milter.err" &
j1=$!
node "$TOP/tests/diff/judge_mailauth.mjs" "$OUT" "$PDNS_DNS_PORT" >"$OUT/mailauth.jsonl" 2>"$H/judge_mailauth.err" &
j2=$!
$PY "$TOP/tests/diff/judge_dkimpy.py" "$OUT" "$PDNS_DNS_PORT" >"$OUT/dkimpy.jsonl" 2>"$H/judge_dkimpy.err" &
j3=$!
for j in "milter $j1" "mailauth $j2" "dkimpy $j3"; do
	wait "${j#* }"
	h_eq "judge ${j% *} ran every case" "$?:$(wc -l <"$OUT/${j% *}.jsonl")" "0:$ncases"
done

# hostile signatures never bring the milter down (nor, under make asan,
# make the sanitizer speak)
kill -0 "$MILTER_PID" 2>/dev/null && h_ok "mxdock-milter still running after every case" ||
	h_fail "mxdock-milter still running" "gone (log: $H/milter.log)" "running"
h_lacks "no sanitizer report in the milter log" "$(cat "$H/milter.log")" "Sanitizer"
h_lacks "no UBSan runtime error in the milter log" "$(cat "$H/milter.log")" "runtime error:"

# the RFC 8601 parser first proves it tells valid from invalid values
{ $PY "$TOP/tests/diff/compare.py" --selftest
  $PY "$TOP/tests/diff/compare.py" "$OUT" "$TOP/docs/INTEROP.md"; } >"$H/compare.out" 2>&1
while IFS= read -r line; do
	case $line in
	"ok - "*) h_ok "${line#ok - }" ;;
	"not ok - "*) line=${line#not ok - }; h_fail "${line%%: *}" "${line#*: }" "the RFC's answer" ;;
	"# "*) summary=$line ;;
	*) h_fail "compare.py output" "$line" "ok / not ok lines" ;;
	esac
done <"$H/compare.out"
[ -n "$summary" ] || h_fail "compare.py summary" "$(tail -3 "$H/compare.out")" "# cases: ..."
echo "${summary:-# no summary}"
h_done
