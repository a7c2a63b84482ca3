#!/bin/bash
# pkg_man.sh - the man pages of docs/man: each renders with `groff -ww -man`
# without a warning, and each section-8 page names every verb and option its
# binary's -h lists (so a verb added to a CLI without its page fails here).
# mxdock.conf(5) against the table is tests/unit/test_conf.c.
. "$(dirname "$0")/../lib/harness.sh"
h_init pkg_man
M=$H_TOP/docs/man

for page in "$M"/*.[58]; do
	w=$(groff -ww -man -Tutf8 "$page" 2>&1 >/dev/null)
	h_eq "groff -ww renders $(basename "$page") without warnings" "$w" ""
done

# words - the verbs and sub-verbs (first two lowercase words of a usage
# line: "authfail ban", "quota set-usage") and the --options of -h; the
# usage part only (up to "exit codes:" or "examples:", whose indented
# lines are prose and commands, not verbs)
words() {
	"$BINDIR/$1" -h 2>&1 | sed '/^\(exit codes\|examples\):/,$d' |
		sed -n 's/^  \([a-z][a-z-]*\)\( [a-z][a-z-]*\)\{0,1\}\([ |;].*\)\{0,1\}$/\1\2/p' |
		tr ' ' '\n'
	"$BINDIR/$1" -h 2>&1 | grep -oE -- '--[a-z][a-z-]*' | sort -u
}
for prog in mxdock-milter mxdock-dns mxdock-dkim mxdock-policy; do
	text=$(groff -man -Tutf8 -P-cbou "$M/$prog.8" 2>/dev/null)
	missing=""
	for w in $(words "$prog" | sort -u); do
		grep -qF -- "$w" <<<"$text" || missing="$missing $w"
	done
	h_eq "$prog(8) names every verb and option of $prog -h" "$missing" ""
done
h_done
