#!/bin/bash
# cli_help.sh - every command of mxdock-dns, mxdock-dkim, mxdock-policy and
# mxdock-milter answers --help (issue 17): exit 0, its own text on stdout
# (the first line is the usage of THAT command, not the tool's), nothing on
# stderr, examples that run the tool, and the exit codes.  No configuration
# exists: --help must not need one.  The commands are read from each tool's
# own --help, so a verb added without a help text fails here.
source "$(dirname "$0")/../lib/harness.sh"
h_init cli_help
export MXDOCK_CONF=$H/none.conf

# verbs TOOL - the commands listed by TOOL --help: "  verb ..." lines
# before the exit codes / options block (two words for policy's groups)
verbs() {
	"$BINDIR/$1" --help | awk '/^(exit codes|options):/ { exit }
		/^  [a-z][a-z-]* / || /^  [a-z][a-z-]*$/ {
			if ($1 == "authfail" || $1 == "quota") print $1 " " $2; else print $1 }' |
		sed 's/|.*//' | sort -u
}

# check_help TOOL WORDS... - TOOL WORDS --help is the command's own help
check_help() {
	local tool=$1 name
	shift
	name="$tool $*"
	"$BINDIR/$tool" "$@" --help >"$H/out" 2>"$H/err"
	h_eq "$name --help exits 0" "$?" 0
	h_eq "$name --help: nothing on stderr" "$(cat "$H/err")" ""
	local want="usage: $tool [-c FILE] $*" first
	first="$(head -1 "$H/out") "
	h_eq "$name --help: first line is its usage" "${first:0:${#want}+1}" "$want "
	h_has "$name --help: examples" "$(cat "$H/out")" "examples:"
	h_has "$name --help: exit codes" "$(cat "$H/out")" "exit codes: 0"
	h_eq "$name --help: two examples that run the tool" \
		"$(sed -n '/^examples:/,/^exit codes:/p' "$H/out" | grep -c "$tool .*$1")" 2
}

for tool in mxdock-dns mxdock-dkim mxdock-policy; do
	list=$(verbs "$tool")
	h_has "$tool --help lists its commands" "$list" "$(case $tool in
		mxdock-dns) echo records ;; mxdock-dkim) echo keygen ;; *) echo authfail list ;; esac)"
	while read -r v; do
		# shellcheck disable=SC2086 # two words for policy's groups
		check_help "$tool" $v
	done <<<"$list"
	out=$("$BINDIR/$tool" --help)
	h_has "$tool --help: exit codes" "$out" "exit codes: 0"
	h_has "$tool --help: examples" "$out" "examples:"
done
h_eq "mxdock-dns: 13 commands" "$(verbs mxdock-dns | wc -l)" 13
h_eq "mxdock-dkim: 9 commands" "$(verbs mxdock-dkim | wc -l)" 9
h_eq "mxdock-policy: 13 commands" "$(verbs mxdock-policy | wc -l)" 13

# the forms that were there before keep working; help VERB too
h_eq "mxdock-dns help sync = sync --help" "$("$BINDIR/mxdock-dns" help sync)" \
	"$("$BINDIR/mxdock-dns" sync --help)"
h_eq "mxdock-dkim help list = list --help" "$("$BINDIR/mxdock-dkim" help list)" \
	"$("$BINDIR/mxdock-dkim" list --help)"
h_has "mxdock-policy quota --help: both commands" "$("$BINDIR/mxdock-policy" quota --help)" \
	"quota set-usage ADDRESS BYTES"
h_has "-h after -c FILE" "$("$BINDIR/mxdock-dns" -c /nonexistent list -h)" "usage: mxdock-dns [-c FILE] list"
"$BINDIR/mxdock-dns" nosuchverb --help >/dev/null 2>&1
h_eq "an unknown verb with --help is still a usage error" "$?" 64
"$BINDIR/mxdock-dkim" keygen example.com --json >/dev/null 2>"$H/err"
h_eq "mxdock-dkim: --json where nothing is listed: 64" "$?" 64
h_has "... named on stderr" "$(cat "$H/err")" "--json is for list and dns"

# mxdock-milter has no verbs: its -h and --help
for o in -h --help; do
	"$BINDIR/mxdock-milter" $o >"$H/out" 2>"$H/err"
	h_eq "mxdock-milter $o exits 0" "$?" 0
	h_eq "mxdock-milter $o: nothing on stderr" "$(cat "$H/err")" ""
	h_has "mxdock-milter $o: exit codes" "$(cat "$H/out")" "exit codes: 0"
	h_eq "mxdock-milter $o: examples" "$(grep -c '^  mxdock-milter ' "$H/out")" 2
done
h_done
