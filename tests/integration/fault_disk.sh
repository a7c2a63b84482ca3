#!/bin/bash
# fault_disk.sh - the disk fills while a key or a state file is written
# (issue 18).  The DKIM store is a 64 KB tmpfs in the scratch dir, filled
# by a filler file until only F bytes are left, F from 0 to 16 KB in 1 KB
# steps; at each level `mxdock-dkim keygen` (RSA-2048: key file + state
# file) and `mxdock-dkim rotate` run.  Each either succeeds whole or fails
# with one line and its exit code, and leaves the store as it was: the same
# files byte for byte, no half-written key, no temp file.  Root only
# (mount).
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/pdns.sh"
h_init fault-disk
if [ "$(id -u)" != 0 ]; then
	echo "# skipped: mounting a tmpfs needs root"
	h_done
	exit 0
fi
pdns_start sqlite || { h_done; exit 1; }
C=$H/mxdock.conf
pdns_conf "$C"
D=example.test
"$BINDIR/mxdock-dns" -c "$C" create $D >/dev/null || h_fail "setup: create" "failed" "exit 0"

# the store moves onto the tmpfs
mkdir -p "$H/small"
mount -t tmpfs -o size=64k,mode=0755 tmpfs "$H/small" || { h_fail "mount tmpfs" "failed" "ok"; h_done; exit 1; }
h_on_exit "umount -l '$H/small'"
cp -a "$H/dkim" "$H/small/dkim"
sed -i "s|^dkim_keydir = .*|dkim_keydir = $H/small/dkim|" "$C"

store_of() { (cd "$H/small/dkim" && find . -type f | sort | xargs -r sha256sum); }
# fill BYTES - leave about BYTES free on the tmpfs
fill() {
	rm -f "$H/small/filler"
	local avail
	avail=$(($(stat -f -c '%a * %S' "$H/small")))
	[ "$avail" -gt "$1" ] && head -c $((avail - $1)) /dev/zero >"$H/small/filler" 2>/dev/null
	sync
}
K() { MXDOCK_NOW=$2 "$BINDIR/mxdock-dkim" -c "$C" "$1" $D ${3:-} >"$H/out" 2>"$H/err"; echo $?; }

fails=0 oks=0 T=$(date +%s)
for free in 0 1024 2048 3072 4096 6144 8192 12288 16384; do
	for verb in "keygen --algorithm=rsa" rotate; do
		v=${verb%% *}
		T=$((T + 86400))
		fill $free
		before=$(store_of)
		rc=$(K $v $T "${verb#"$v"}")
		if [ "$rc" = 0 ]; then
			oks=$((oks + 1))
			h_eq "$v with $free bytes free: succeeded, no temp file left" \
				"$(find "$H/small/dkim" -name '*.tmp.*' | wc -l)" 0
			# each key file the state names is whole (parses as a key)
			bad=0
			for f in "$H/small/dkim/$D"/*.pem; do
				openssl pkey -in "$f" -noout 2>/dev/null || bad=$((bad + 1))
			done
			h_eq "$v with $free bytes free: every key file whole" "$bad" 0
		else
			fails=$((fails + 1))
			h_eq "$v with $free bytes free: exit 73 or 74" \
				"$(case $rc in 73 | 74) echo yes ;; *) echo "no ($rc)" ;; esac)" yes
			h_has "$v with $free bytes free: says the disk is full" "$(cat "$H/err")" \
				"No space left on device"
			h_eq "$v with $free bytes free: one line" "$(grep -c . "$H/err")" 1
			h_eq "$v with $free bytes free: the store exactly as before" "$(store_of)" "$before"
		fi
	done
done
h_eq "some runs failed for want of space" "$([ $fails -gt 0 ] && echo yes)" yes
h_eq "some runs had room and succeeded" "$([ $oks -gt 0 ] && echo yes)" yes
echo "# $fails failed on a full disk, $oks succeeded"

h_done
