#!/bin/bash
# dns_errors.sh - bad input to mxdock-dns: each case gets one clear line on
# stderr and its own sysexits code, and the zone export after each case is
# byte for byte the export before it.  The API key never shows in any
# output.  gsqlite3; dns_errors_mysql.sh runs the same with gmysql.
cd "$(dirname "$0")/../.." || exit 70
source tests/lib/harness.sh
source tests/lib/pdns.sh
source tests/lib/mariadb.sh
BACKEND=${DNS_BACKEND:-sqlite}
h_init "dns-errors-$BACKEND"
if [ "$BACKEND" = mysql ]; then mariadb_start || { h_done; exit 1; }; fi
pdns_start "$BACKEND" || { h_done; exit 1; }
C=$H/mxdock.conf
pdns_conf "$C"
DNS() { "$BINDIR/mxdock-dns" "$@"; }
D=example.test
DNS -c "$C" create $D >/dev/null
h_eq "setup: create" "$?" 0
export_of() { pdns_api GET /servers/localhost/zones/$D./export; }
KEY=$(cat "$PDNS_API_KEY_FILE")
ALL=""

# expect NAME WANT_RC WANT_TEXT CMD...: exit code, one stderr line with
# TEXT, and the zone's export the same after the command as before it
expect() {
	local name=$1 rc=$2 text=$3 err got before
	shift 3
	before=$(export_of)
	err=$("$@" 2>&1 >/dev/null)
	got=$?
	ALL="$ALL$err"
	h_eq "$name: exit code" "$got" "$rc"
	h_has "$name: message" "$err" "$text"
	h_eq "$name: one line on stderr" "$(printf '%s\n' "$err" | wc -l)" 1
	h_eq "$name: export unchanged" "$(export_of)" "$before"
}
h_has "setup: the export is a zone file" "$(export_of)" "SOA"

long=$(printf 'a%.0s' $(seq 1 64)).test
huge=$(for i in $(seq 1 26); do printf 'abcdefghi.'; done)test
expect "empty name" 65 "bad domain name" DNS -c "$C" create ""
expect "name over 253 bytes" 65 "bad domain name" DNS -c "$C" create "$huge"
expect "label over 63 bytes" 65 "bad domain name" DNS -c "$C" create "$long"
expect "empty label" 65 "bad domain name" DNS -c "$C" create "a..test"
expect "non-LDH character" 65 "bad domain name" DNS -c "$C" create "ex_ample.test"
expect "non-LDH after IDNA" 65 "bad domain name" DNS -c "$C" create "bad☃.test"
expect "trailing garbage" 65 "bad domain name" DNS -c "$C" create "example.test/x"
expect "missing config" 78 "/nonexistent/mxdock.conf" DNS -c /nonexistent/mxdock.conf create $D
expect "unknown verb" 64 "unknown verb" DNS -c "$C" frobnicate $D

# unreachable PowerDNS
sed "s|^pdns_api_url = .*|pdns_api_url = http://127.0.0.1:$(h_port)/api/v1|" "$C" >"$H/down.conf"
expect "unreachable PowerDNS" 69 "unreachable" DNS -c "$H/down.conf" sync $D

# a server that accepts and never answers: timeout
python3 -c 'import socket,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(5); print(s.getsockname()[1], flush=True); time.sleep(30)' \
	>"$H/silent.port" &
h_track $!
h_wait "silent listener" 5 test -s "$H/silent.port"
sed "s|^pdns_api_url = .*|pdns_api_url = http://127.0.0.1:$(cat "$H/silent.port")/api/v1|" "$C" >"$H/slow.conf"
echo "pdns_timeout = 1s" >>"$H/slow.conf"
expect "PowerDNS timeout" 75 "did not answer in time" DNS -c "$H/slow.conf" sync $D

# a fake server (a fault a real PowerDNS cannot be made to show): HTTP 200
# with a proxy's HTML page, or HTTP 500, to every request
fake() { # MODE: start it, print its port
	python3 -c 'import sys, http.server
mode = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n: self.rfile.read(n)
        body = b"<html><body>Please log in</body></html>"
        self.send_response(200 if mode == "html" else 500)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = answer
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()' "$1" >"$H/fake-$1.port" &
	h_track $!
	h_wait "fake $1 server" 5 test -s "$H/fake-$1.port"
	sed "s|^pdns_api_url = .*|pdns_api_url = http://127.0.0.1:$(cat "$H/fake-$1.port")/api/v1|" \
		"$C" >"$H/fake-$1.conf"
}
fake html
fake 500
F=$H/fake-html.conf
out=$(DNS -c "$F" create new.test 2>/dev/null)
expect "HTML 200 page: create" 76 "not JSON" DNS -c "$F" create new.test
h_eq "HTML 200 page: create says nothing on stdout (no \"created\")" "$out" ""
h_eq "HTML 200 page: create leaves no keys" "$(ls -d "$H/dkim/new.test" 2>/dev/null)" ""
expect "HTML 200 page: sync" 76 "not JSON" DNS -c "$F" sync $D
out=$(DNS -c "$F" delete $D 2>/dev/null)
expect "HTML 200 page: delete" 76 "not JSON" DNS -c "$F" delete $D
h_eq "HTML 200 page: delete says nothing on stdout (no \"deleted\")" "$out" ""
out=$(DNS -c "$F" list --json 2>/dev/null)
expect "HTML 200 page: list --json" 76 "not JSON" DNS -c "$F" list --json
h_eq "HTML 200 page: list --json prints no list" "$out" ""
expect "HTML 200 page: records" 76 "not JSON" DNS -c "$F" records $D
expect "HTTP 500: create" 76 "HTTP 500" DNS -c "$H/fake-500.conf" create new.test
h_eq "HTTP 500: create leaves no keys" "$(ls -d "$H/dkim/new.test" 2>/dev/null)" ""
expect "PowerDNS down: create" 69 "unreachable" DNS -c "$H/down.conf" create new.test
h_eq "PowerDNS down: create leaves no keys" "$(ls -d "$H/dkim/new.test" 2>/dev/null)" ""
expect "PowerDNS timeout: create" 75 "did not answer in time" DNS -c "$H/slow.conf" create new.test
h_eq "PowerDNS timeout: create leaves no keys" "$(ls -d "$H/dkim/new.test" 2>/dev/null)" ""
h_eq "and no zone was made" "$(pdns_api GET '/servers/localhost/zones?zone=new.test.')" "[]"

# wrong API key: 401
echo "wrong-key-123" >"$H/wrong.key"
chmod 600 "$H/wrong.key"
sed "s|^pdns_api_key_file = .*|pdns_api_key_file = $H/wrong.key|" "$C" >"$H/wrong.conf"
expect "wrong API key" 77 "wrong or missing API key" DNS -c "$H/wrong.conf" sync $D

# no such zone: 404
expect "no such zone" 66 "no such zone" DNS -c "$C" records nosuch.test
expect "sync of no zone" 66 "no such zone" DNS -c "$C" sync nosuch.test

# 422 from PowerDNS: a PATCH with a bad CAA is refused whole (one
# transaction), so the MX deleted by hand stays deleted
pdns_api PATCH /servers/localhost/zones/$D. \
	'{"rrsets":[{"name":"example.test.","type":"MX","changetype":"DELETE"}]}'
cp "$C" "$H/caa.conf"
printf 'dns_publish = soa, ns, a, mx, spf, dkim, dmarc, caa\ndns_caa = not a caa record\n' \
	>>"$H/caa.conf"
expect "PowerDNS 422" 65 "HTTP 422" DNS -c "$H/caa.conf" sync $D
h_eq "422: nothing half-applied (MX still absent)" "$(pdns_dig $D MX)" ""

# usage errors
expect "add without content" 64 "usage: add" DNS -c "$C" add $D www A
expect "unknown option" 64 "unknown or malformed option" DNS -c "$C" sync $D --bogus
expect "bad --ip" 64 "bad --ip" DNS -c "$C" create other.test --ip=not-an-ip
expect "bad --ip on an existing zone" 64 "bad --ip" DNS -c "$C" create $D --ip=300.1.1.1
for ttl in abc 12x -5 "" 2147483648 99999999999999999999; do
	expect "add --ttl=$ttl" 64 "bad --ttl \"$ttl\": want a whole number from 0 to 2147483647" \
		DNS -c "$C" add $D www A 192.0.2.1 "--ttl=$ttl"
done
for prio in x 65536 -1 ""; do
	expect "add --priority=$prio" 64 "bad --priority \"$prio\": want a whole number from 0 to 65535" \
		DNS -c "$C" add $D @ MX mx2.example.net "--priority=$prio"
done
# clear errors (issue 12): options named, usage before configuration,
# add checks its record itself (65) instead of passing PowerDNS's 422 on
expect "unknown global option named" 64 'unknown option "--bogus"' DNS --bogus
expect "unknown global option, no config needed" 64 'unknown option "-x"' \
	DNS -c /nonexistent/mxdock.conf -x sync $D
expect "missing DOMAIN: usage before config" 64 "usage: sync DOMAIN" \
	DNS -c /nonexistent/mxdock.conf sync
expect "bad option: usage before config" 64 "unknown or malformed option --bogus" \
	DNS -c /nonexistent/mxdock.conf sync $D --bogus
expect "add A --priority" 64 "--priority is only for MX and SRV records, not A" \
	DNS -c "$C" add $D www A 192.0.2.1 --priority=5
expect "add: bad name" 65 'bad record name "bad name!"' DNS -c "$C" add $D "bad name!" A 192.0.2.1
expect "add: name outside the zone" 65 "not inside example.test" \
	DNS -c "$C" add $D www.other.test. A 192.0.2.1
expect "add: unknown type" 65 'bad record type "FOO"' DNS -c "$C" add $D www FOO bar
expect "add: bad IPv4" 65 'bad A record "300.1.1.1": not an IPv4 address' \
	DNS -c "$C" add $D www A 300.1.1.1
expect "add: IPv4 as AAAA" 65 "not an IPv6 address" DNS -c "$C" add $D www AAAA 192.0.2.1
expect "add: bad MX host" 65 "bad MX record" DNS -c "$C" add $D @ MX "bad..host" --priority=5
expect "add: bad CNAME" 65 "bad CNAME record" DNS -c "$C" add $D web CNAME "a b"
expect "add: bad SRV" 65 "want PRIORITY WEIGHT PORT TARGET" DNS -c "$C" add $D _x._tcp SRV "0 1 mail"
expect "add: bad CAA" 65 "bad CAA record" DNS -c "$C" add $D @ CAA "0 issue letsencrypt.org"
h_eq "add: a service name is fine" \
	"$(DNS -c "$C" add $D _xmpp._tcp SRV "0 1 5222 mail.example.test" >/dev/null; echo $?)" 0
mkdir -p "$H/templates"
expect "template show ../x: bad name" 65 "bad template name" DNS -c "$C" template show ../x
expect "create --template=../x: the same" 65 "bad template name" \
	DNS -c "$C" create $D --template=../x
expect "template show of none: no such input" 66 "No such file" DNS -c "$C" template show nosuch
expect "create --template of none: the same" 66 "No such file" \
	DNS -c "$C" create $D --template=nosuch
h_eq "a good --ttl still works" "$(DNS -c "$C" add $D www A 192.0.2.1 --ttl=0 >/dev/null; echo $?)" 0
h_eq "--ttl=0 is stored" "$(pdns_api GET /servers/localhost/zones/$D./export | grep -c '^www.example.test.	0	IN	A	192.0.2.1')" 1
h_eq "the API key appears in no message" "$(grep -c -- "$KEY" <<<"$ALL")" 0
err=$(MXDOCK_DEBUG_HTTP=1 DNS -c "$C" sync $D 2>&1)
h_eq "nor in the HTTP debug lines" "$(grep -c -- "$KEY" <<<"$err")" 0
h_eq "config-check exits 0" "$(DNS -c "$C" config-check >/dev/null; echo $?)" 0
h_done
