#!/bin/bash
# bench.sh - CPU per SPF check, mxdock's module vs libspf2 alone (issue 6:
# "no more than 10% more CPU per message").  A benchmark, not a test.
#
#   BUILDDIR=/tmp/b-spf tests/spf/bench.sh [N]
#
# Runs tests/spf/bench.py in a private network and mount namespace, with
# /etc/resolv.conf pointing at the bench zone on 127.0.0.1:53 there.
cd "$(dirname "$0")/../.." || exit 70
BUILDDIR=${BUILDDIR:-build}
N=${1:-2000}
tmp=$(mktemp -d /tmp/mxdock-spfbench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cc -D_GNU_SOURCE -Iconf -Imilter/spf -O2 -o "$tmp/spfcheck" tests/spf/spfcheck.c \
	"$BUILDDIR/libmxspf.a" "$BUILDDIR/libmxconf.a" -lspf2 -lresolv -lpthread || exit 1
echo "nameserver 127.0.0.1" >"$tmp/resolv.conf"
for ttl in 300 0; do
	unshare -mn bash -c "ip link set lo up && mount --bind '$tmp/resolv.conf' /etc/resolv.conf \
		&& /usr/bin/python3 tests/spf/bench.py '$tmp/spfcheck' $N $ttl"
done
