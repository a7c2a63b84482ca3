#!/bin/bash
# pkg_units.sh - the systemd units of units/: each service's exposure score
# from `systemd-analyze security --offline=true` (printed, at most 2.0), a
# control (the milter unit without its sandbox lines scores above 2.0, so
# the parser and the bar can fail), reload by SIGUSR1 and never SIGHUP
# (libmilter's signal thread stops the milter on SIGHUP), and the timer.
. "$(dirname "$0")/../lib/harness.sh"
h_init pkg_units
BAR=2.0
U=$H_TOP/units

# score FILE - the overall exposure of FILE (a copy with @SBINDIR@ filled in)
score() {
	local f=$H/$(basename "$1")
	sed 's|@SBINDIR@|/usr/sbin|g' "$1" >"$f"
	(cd "$H" && systemd-analyze security --offline=true "$(basename "$f")" 2>&1) \
		| sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'
}

if ! command -v systemd-analyze >/dev/null; then
	h_fail "systemd-analyze" "missing" "installed (package systemd)"
	h_done
fi
for unit in mxdock-milter.service mxdock-dkim-tick.service \
	mxdock-policy-watch.service mxdock-policy-serve.service; do
	s=$(score "$U/$unit")
	echo "# $unit: exposure $s (bar $BAR)"
	if [ -n "$s" ] && awk -v s="$s" -v b="$BAR" 'BEGIN { exit !(s <= b) }'; then
		h_ok "$unit scores $s <= $BAR"
	else
		h_fail "$unit exposure" "${s:-no score}" "<= $BAR"
	fi
done

# control: the same unit without the sandbox block must score above the bar
mkdir "$H/ctl"
sed '/^# --- sandbox/,/^$/d' "$U/mxdock-milter.service" >"$H/ctl/bare.service"
s=$(score "$H/ctl/bare.service")
echo "# control (milter unit, sandbox removed): exposure $s"
if [ -n "$s" ] && awk -v s="$s" -v b="$BAR" 'BEGIN { exit !(s > b) }'; then
	h_ok "control: unsandboxed unit scores $s > $BAR"
else
	h_fail "control exposure" "${s:-no score}" "> $BAR"
fi

h_eq "milter reloads with SIGUSR1" \
	"$(sed -n 's/^ExecReload=//p' "$U/mxdock-milter.service")" '/bin/kill -USR1 $MAINPID'
h_eq "no unit sends SIGHUP" "$(grep -l '^Exec.*HUP' "$U"/* 2>/dev/null)" ""
h_eq "every service runs as mxdock" \
	"$(grep -L '^User=mxdock$' "$U"/*.service 2>/dev/null)" ""
h_eq "timer runs the tick hourly" "$(sed -n 's/^OnCalendar=//p' "$U/mxdock-dkim-tick.timer")" \
	"hourly"
h_done
