# shellcheck shell=bash
# docsnip.sh - the snippets a guide in docs/ shows, for its test to run word
# for word (source after harness.sh).
#
#   docsnip FILE TAG     print the body of every fenced block of FILE whose
#                        opening fence names TAG as the second word of its
#                        info string (```sh postconf, ```ini pdns), in order;
#                        returns 1 (and prints nothing) when there is none
#
# The guide is the source: a test that used its own copy of a command would
# pass while the guide drifts.  Only the fence marks a snippet; a block
# without a tag is prose and never run.

docsnip() {
	local out
	out=$(awk -v tag="$2" '
	!inb && /^```/ { n = split(substr($0, 4), w, /[ \t]+/); inb = 1; take = (n >= 2 && w[2] == tag); next }
	inb && /^```[ \t]*$/ { inb = 0; take = 0; next }
	inb && take { print }' "$1")
	[ -n "$out" ] || { echo "docsnip: no \`\`\`... $2 block in $1" >&2; return 1; }
	printf '%s\n' "$out"
}
