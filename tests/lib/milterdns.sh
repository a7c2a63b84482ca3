# milterdns.sh - a milter whose resolver answers badly or never, and a
# message whose every DKIM key lookup goes to it (source after harness.sh;
# milterdns_send needs milter_start from postfix.sh).
#
#   milterdns_conf FILE AUTHSERV PORT TIMEOUT   the shared keys
#   milterdns_send N SECS [ARGS]                N signatures, answer waited SECS

# milterdns_conf FILE AUTHSERV PORT TIMEOUT - write FILE: resolver
# 127.0.0.1:PORT with dns_timeout TIMEOUT, milter_dns_budget = 3s, a DKIM
# lookup that fails answered 451 4.7.20; the test appends its own keys
milterdns_conf() {
	mkdir -p "$H/store"
	cat >"$1" <<CONF
dkim_keydir = $H/store
milter_authserv_id = $2
milter_internal_hosts = 127.0.0.1/32
dns_resolver = 127.0.0.1:$3
dns_timeout = $4
milter_dns_budget = 3s
dkim_dnserror_action = tempfail
CONF
}

# milterdns_sig N - a DKIM-Signature of good syntax for dN.example, selector
# selN: verifying it takes a key lookup
milterdns_sig() {
	printf 'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=d%s.example; s=sel%s; h=from:subject; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=dGVzdHNpZ25hdHVyZXRlc3RzaWduYXR1cmU=' "$1" "$1"
}

# milterdns_send N SECS [ARGS] - a message with N such signatures from an
# outside client (192.0.2.10) over the milter protocol (milter_msg.py ARGS,
# --timeout SECS), as the milter answers it
milterdns_send() {
	local n=$1 secs=$2 i sigs=()
	shift 2
	for ((i = 1; i <= n; i++)); do sigs+=(--header "$(milterdns_sig "$i")"); done
	python3 "$H_TOP/tests/integration/milter_msg.py" "127.0.0.1:$MILTER_PORT" --timeout "$secs" \
		--ip 192.0.2.10 --mailfrom alice@d1.example "$@" "${sigs[@]}" \
		--header "From: Alice <alice@d1.example>" --header "Subject: hi" 2>&1
}
