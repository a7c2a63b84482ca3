# rspamd.sh - rspamd (Debian's 3.4) as a bench peer: a scratch instance of
# its own in $H/NAME, root on loopback (source after peers.sh).
#
#   peer_rspamd NAME ALG [WORKERS]   rspamd_proxy with milter = yes and
#       self_scan = yes (an option of its upstream), WORKERS proxy processes (default 1), signing with
#       ALG (rsa|ed|dual) for bench.test from 127.0.0.1 and verifying
#       everything else; sets SOCK_<NAME>, PID_<NAME> (the main process)
#       and PIDS_<NAME> (main and every child: milterload sums their CPU).
#   rspamd_edkey PEM    the Ed25519 key of PEM in rspamd's own encoding
#
# The configuration is written from scratch and is the whole configuration:
# /etc/rspamd/rspamd.conf is not read, so neither are its modules.d (every
# module, Lua and C, that has no section here stays "unconfigured" and off)
# nor /etc/rspamd/local.d; LOCAL_CONFDIR points at an empty directory of
# its own.  options.filters = "dkim" enables the one C module (it also
# holds the signing primitive that dkim_signing calls); dkim_signing signs,
# milter_headers writes Authentication-Results (the verdict milterload
# checks).  No Redis: use_redis = false and no redis section.  DNS: the
# scratch PowerDNS, as for the other peers.  Log level "error", so that
# check_logs sees real errors only.  Config syntax from rspamd's docs
# (doc/modules/dkim_signing.md, doc/workers/rspamd_proxy.md) and
# /etc/rspamd/{options.inc,worker-proxy.inc,modules.d/dkim_signing.conf}.

# rspamd_edkey PEM - rspamd loads Ed25519 signing keys as base64 of the
# 64-byte libsodium secret key (seed || public key), what
# `rspamadm dkim_keygen -t ed25519` writes; this is the same key as PEM.
rspamd_edkey() {
	{
		openssl pkey -in "$1" -outform DER 2>/dev/null | tail -c 32
		openssl pkey -in "$1" -pubout -outform DER 2>/dev/null | tail -c 32
	} | base64 -w0
}

# rspamd_selectors ALG DIR - the selectors list of dkim_signing.
rspamd_selectors() {
	local alg=$1 d=$2
	if [ "$alg" != ed ]; then
		printf '{ path = "%s"; selector = "%s"; }\n' "$BK/rsa.pem" "$BENCH_RSA_SEL"
	fi
	if [ "$alg" != rsa ]; then
		rspamd_edkey "$BK/ed.pem" >"$d/ed.key"
		chmod 600 "$d/ed.key"
		printf '{ path = "%s"; selector = "%s"; }\n' "$d/ed.key" "$BENCH_ED_SEL"
	fi
}

# rspamd_conf NAME ALG WORKERS - $H/NAME/rspamd.conf.
rspamd_conf() {
	local d=$H/$1 alg=$2 n=$3
	cat <<EOF
options {
	pidfile = "$d/rspamd.pid";
	filters = "dkim";
	local_addrs = "127.0.0.0/8";
	cache_file = "$d/db/symbols.cache";
	control_socket = "$d/db/rspamd.sock mode=0600";
	history_file = "$d/db/rspamd.history";
	dynamic_conf = "$d/db/rspamd_dynamic";
	hs_cache_dir = "$H/rspamd-hs";
	tempdir = "$d/tmp";
	dns {
		nameserver = ["127.0.0.1:53"];
		timeout = 1s;
		retransmits = 2;
	}
}
modules {
	path = "\${PLUGINSDIR}";
}
logging {
	type = "file";
	filename = "$d/log";
	level = "error";
}
worker "rspamd_proxy" {
	bind_socket = "$d/sock mode=0666";
	milter = yes;
	timeout = 120s;
	count = $n;
	upstream "local" {
		default = yes;
		self_scan = yes;
	}
}
dkim {
	use_redis = false;
}
dkim_signing {
	use_redis = false;
	sign_local = true;
	sign_authenticated = true;
	allow_hdrfrom_mismatch = false;
	use_domain = "header";
	use_esld = false;
	try_fallback = false;
	domain {
		$BENCH_DOMAIN {
			selectors = [
$(rspamd_selectors "$alg" "$d")
			];
		}
	}
}
milter_headers {
	use = ["authentication-results"];
	authenticated_headers = [];
	skip_local = true;
	skip_authenticated = true;
}
EOF
}

# rspamd_pids NAME PID WORKERS - wait for WORKERS rspamd_proxy children
# of PID; sets PIDS_<NAME> to PID and every child (the proxies and
# hs_helper).
rspamd_pids() {
	local name=$1 pid=$2 n=$3 i kids
	for ((i = 0; i < 300; i++)); do
		[ "$(ps -o cmd= --ppid "$pid" | grep -c rspamd_proxy)" -ge "$n" ] && break
		sleep 0.1
	done
	kids=$(ps -o pid= --ppid "$pid" | tr -s ' \n' ' ')
	printf -v "PIDS_$name" '%s' "$pid ${kids# }"
}

# rspamd_wait SOCK PID - the first start compiles the Hyperscan databases
# (URL and TLD patterns) into $H/rspamd-hs, shared by all instances: up to
# a minute on a loaded machine, longer than peer_up waits.
rspamd_wait() {
	local i
	for ((i = 0; i < 1200; i++)); do
		[ -S "$1" ] && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

peer_rspamd() {
	local name=$1 alg=$2 n=${3:-1} d="$H/$1" sock pid
	mkdir -p "$d/local" "$d/db" "$d/tmp" "$H/rspamd-hs"
	if ! command -v rspamd >/dev/null; then
		echo "rspamd is not installed (make bench-deps)" >"$d/why"
		return 1
	fi
	sock="local:$d/sock"
	rspamd_conf "$name" "$alg" "$n" >"$d/rspamd.conf"
	rspamd -f -i -u root -g root -c "$d/rspamd.conf" --var LOCAL_CONFDIR="$d/local" \
		--var DBDIR="$d/db" --var RUNDIR="$d" --var LOGDIR="$d" >"$d/out" 2>&1 &
	pid=$!
	rspamd_wait "$d/sock" "$pid"
	peer_up "$name" "$pid" "$sock" || return 1
	rspamd_pids "$name" "$pid" "$n"
}
