#!/bin/bash
# dkim_import_errors.sh - mxdock-dkim import of an OpenDKIM KeyTable with a
# malformed line (issue 12, clear errors): one stderr line naming FILE:LINE
# (physical lines, comments and blanks counted), EX_DATAERR, nothing
# imported (docs/DKIM.md), no key material in the message; the same tables
# with the line fixed import.
source "$(dirname "$0")/../lib/harness.sh"
source "$H_TOP/tests/lib/dkimstore.sh"
h_init dkim-import-errors

dkimstore_cli_conf
run() { "$@" >"$H/out" 2>"$H/err"; echo "$?"; }

mkdir -p "$H/od"
opendkim-genkey --directory="$H/od" --domain=good.test --selector=s1 --bits=1024
inline=$(grep -v '^-----' "$H/od/s1.private" | tr -d '\n')
cat >"$H/od/KeyTable" <<KT
# OpenDKIM key table

goodkey   good.test:s1:$H/od/s1.private
$inline
otherkey  other.test
KT
printf '*@good.test goodkey\n' >"$H/od/SigningTable"

h_eq "malformed KeyTable: EX_DATAERR" "$(run "$D" -c "$C" import "$H/od/KeyTable" "$H/od/SigningTable")" 65
err=$(cat "$H/err")
h_has "names the file and the physical line" "$err" "KeyTable $H/od/KeyTable:4: not KEYNAME DOMAIN:SELECTOR:KEY"
h_has "counts the other malformed lines" "$err" "(and 1 more malformed line)"
h_has "says nothing was imported" "$err" "; nothing imported"
h_eq "one line" "$(printf '%s\n' "$err" | wc -l)" 1
h_lacks "no key material in the message" "$err" "${inline:0:40}"
h_eq "nothing imported (the good line neither)" "$(ls "$H/store/good.test" 2>/dev/null | wc -l)" 0

sed -i -e '4d' -e 's/^otherkey .*/otherkey  other.test:s2:x/' "$H/od/KeyTable"
h_eq "fixed table imports (refile: prefix)" "$(run "$D" -c "$C" import "refile:$H/od/KeyTable" "$H/od/SigningTable")" 0
h_has "fixed: the used key imported" "$(cat "$H/out")" "key goodkey: s1._domainkey.good.test imported as active"
h_done
