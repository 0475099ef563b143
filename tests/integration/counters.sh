#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `tcpdoctor counters` against a private namespace: tests/helpers/tcpevents makes a known number
# of events on 127.0.0.1 there and the test asserts the exact change of every counter that
# moves, cross-checks values against iproute2's nstat, and checks the gauges with held
# CLOSE_WAIT / orphaned FIN_WAIT2 sockets. The namespaces are deleted by the trap in lib.sh, also
# on failure. Values are compared between two runs of the command (each a full read of
# /proc/net), and tcpevents returns only once the kernel has counted what it did, so nothing
# depends on timing; the delta-window checks stop the command between its two samples
# (in_window) while the events happen.
. "$(dirname "$0")/../lib.sh"

H=$TD_HELPERS/tcpevents
td_require_netns "counters integration"
if [ ! -x "$H" ]; then
	ok 1 "tcpevents helper built ($H)"
	exit 1
fi
td_netns_add NS counters || exit 1
td_netns_add NS2 counters2 || exit 1
fifo=$(mktemp -u) && mkfifo "$fifo" || exit 1
trap 'rm -f "$fifo"; td_cleanup' EXIT

# snap FILE: "name value delta" for every counter and gauge of NS (sockstat ones prefixed).
snap() {
	"$TD_BIN" -N "$NS" counters --json --interval 0.05 >"$1.json" || return 1
	jq -r '.netns[0].counters[] | "\(if .file == "sockstat" then "sockstat." else "" end)\(.name) \(.value) \(.delta)"' \
		"$1.json" >"$1"
}
v() { awk -v n="$2" '$1 == n {print $2}' "$1"; }
# check BEFORE AFTER "Name=delta ..." DESC: exact change of each named value between two snaps
check() {
	local pair name want got
	for pair in $3; do
		name=${pair%=*} want=${pair#*=}
		got=$(($(v "$2" "$name") - $(v "$1" "$name")))
		is "$got" "$want" "$4: $name +$want"
	done
}
tmp=$(mktemp -d) && trap 'rm -rf "$tmp" "$fifo"; td_cleanup' EXIT
in_ns() { ip netns exec "$NS" "$@"; }

# --- an idle namespace: every counter is still, and -N gives the "netns" shape
snap "$tmp/s0"
ok $? "counters -N $NS --json runs"
is "$(jq -r '.netns[0].name' "$tmp/s0.json")" "$NS" "the netns entry is named after -N"
is "$(jq '[.netns[0].counters[] | select(.kind == "counter" and .delta != 0)] | length' "$tmp/s0.json")" \
	0 "idle namespace: no counter moved"
# "missing" is exactly the known counters this kernel's /proc/net lacks, whatever its version
kernel_names() {
	in_ns cat /proc/net/snmp /proc/net/netstat |
		awk '($1 == "Tcp:" || $1 == "TcpExt:") && !seen[$1]++ { for (i = 2; i <= NF; i++) print $i }'
}
kernel_names >"$tmp/names"
is "$(jq -r '.netns[0].missing[]' "$tmp/s0.json" | grep -cFxf "$tmp/names")" 0 \
	"no counter listed as missing is in this kernel's /proc/net/snmp or netstat"
is "$(jq -r '.netns[0].counters[] | select(.file != "sockstat") | .name' "$tmp/s0.json" |
	grep -cvFxf "$tmp/names")" 0 "every counter shown is in this kernel's /proc/net/snmp or netstat"
is "$(v "$tmp/s0" ActiveOpens)" 0 "fresh namespace: ActiveOpens 0"
is "$(jq -r '[.netns[0].counters[] | select(.name == "CurrEstab")][0].kind' "$tmp/s0.json")" \
	gauge "CurrEstab is a gauge"

# --- connects to a closed port: SYN sent, RST back, SYN_SENT -> CLOSE
is "$(in_ns "$H" refused 9 5)" "refused 5" "5 connects refused"
snap "$tmp/s1"
check "$tmp/s0" "$tmp/s1" "ActiveOpens=5 AttemptFails=5 PassiveOpens=0 EstabResets=0 TW=0" refused
is "$(in_ns nstat -asz TcpAttemptFails | awk '$1 == "TcpAttemptFails" {print $2}')" \
	"$(v "$tmp/s1" AttemptFails)" "AttemptFails agrees with nstat -az"
is "$(in_ns nstat -asz TcpExtTW | awk '$1 == "TcpExtTW" {print $2}')" \
	"$(v "$tmp/s1" TW)" "TW agrees with nstat -az"

# --- SO_LINGER {1, 0}: RST instead of FIN; both ends leave ESTABLISHED for CLOSE
is "$(in_ns "$H" linger0 3)" "linger0 3" "3 linger-0 closes, the server saw ECONNRESET"
snap "$tmp/s2"
check "$tmp/s1" "$tmp/s2" "ActiveOpens=3 PassiveOpens=3 EstabResets=6 TCPAbortOnData=3 \
TCPAbortOnClose=0 AttemptFails=0 TW=0 sockstat.tw=0" linger0

# --- the server closes with unread data: RST, TCPAbortOnClose
is "$(in_ns "$H" unread 4)" "unread 4" "4 closes with unread data, the client saw ECONNRESET"
snap "$tmp/s3"
check "$tmp/s2" "$tmp/s3" "ActiveOpens=4 PassiveOpens=4 EstabResets=8 TCPAbortOnClose=4 \
TCPAbortOnData=0 TW=0 sockstat.tw=0" unread

# --- orderly close, client first: TIME_WAIT on the client; TW counts when the timewait socket
# is armed, not when it expires 60 s later (tcp-facts#counters)
is "$(in_ns "$H" timewait 6)" "timewait 6" "6 orderly closes"
snap "$tmp/s4"
check "$tmp/s3" "$tmp/s4" "ActiveOpens=6 PassiveOpens=6 TW=6 TWKilled=0 EstabResets=0 \
TCPTimeWaitOverflow=0 sockstat.tw=6" timewait
is "$(v "$tmp/s4" sockstat.tw)" 6 "sockstat tw: the 6 TIME_WAIT"
is "$(in_ns ss -Htan state time-wait | wc -l)" 6 "ss sees 6 TIME-WAIT"

# --- held CLOSE_WAIT: the client closed, the server did not. The client's sockets become orphaned
# FIN_WAIT2, stored as timewait sockets: they count in sockstat tw (tcp-facts#fin-wait2)
in_ns "$H" closewait 7 30 <"$fifo" >"$tmp/cw" &
td_bg_pid $!
exec 9>"$fifo"
td_wait_for "$tmp/cw" ready
is "$(head -1 "$tmp/cw")" "closewait 7" "7 connections held in CLOSE_WAIT"
snap "$tmp/s5"
is "$(v "$tmp/s5" CurrEstab)" 7 "CurrEstab counts CLOSE_WAIT: 7"
is "$(in_ns ss -Htan state close-wait | wc -l)" 7 "ss sees 7 CLOSE-WAIT"
is "$(in_ns ss -Htan state fin-wait-2 | wc -l)" 7 "ss sees 7 FIN-WAIT-2"
is "$(v "$tmp/s5" sockstat.tw)" 13 "sockstat tw = 6 TIME_WAIT + 7 orphaned FIN_WAIT2"
is "$(v "$tmp/s5" sockstat.inuse)" 8 "sockstat inuse = 7 CLOSE_WAIT + 1 listener"
# the orphans' timewait sockets are armed for tcp_fin_timeout (60 s > 4 s): TW, not TWKilled
check "$tmp/s4" "$tmp/s5" "TW=7 TWKilled=0 ActiveOpens=7 PassiveOpens=7 EstabResets=0" closewait
# sockstat alloc is host-wide: another namespace with no socket at all sees our 8
"$TD_BIN" -N "$NS2" counters --json --interval 0.05 >"$tmp/o.json"
is "$(jq '.netns[0].counters[] | select(.file == "sockstat" and .name == "inuse") | .value' "$tmp/o.json")" \
	0 "other namespace: sockstat inuse 0"
alloc2=$(jq '.netns[0].counters[] | select(.file == "sockstat" and .name == "alloc") | .value' "$tmp/o.json")
[ "$alloc2" -ge 8 ]
ok $? "other namespace: sockstat alloc $alloc2 >= 8: alloc is global, not per namespace"
exec 9>&-
wait "$(jobs -p)" 2>/dev/null
snap "$tmp/s6"
is "$(v "$tmp/s6" CurrEstab)" 0 "CurrEstab back to 0 once the server closed"
# the server's FIN turns each orphaned FIN_WAIT2 into a TIME_WAIT: the same timewait socket,
# re-armed, so sockstat tw stays 13 and TW does not count it again
check "$tmp/s5" "$tmp/s6" "EstabResets=0 AttemptFails=0 TW=0 sockstat.tw=0" \
	"orderly close from CLOSE_WAIT"
is "$(in_ns ss -Htan state time-wait | wc -l)" 13 "ss sees 13 TIME-WAIT now"

# --- listen(fd, 0), never accepting: the accept queue holds one; the 4 SYNs after it are dropped
is "$(in_ns "$H" overflow 5)" "overflow 5" "5 connects to a full listener"
snap "$tmp/s7"
lo=$(($(v "$tmp/s7" ListenOverflows) - $(v "$tmp/s6" ListenOverflows)))
ld=$(($(v "$tmp/s7" ListenDrops) - $(v "$tmp/s6" ListenDrops)))
diag "ListenOverflows +$lo, ListenDrops +$ld"
# 4 exactly unless the kernel resent a SYN (1 s later) before tcpevents closed: at least 4
[ "$lo" -ge 4 ]
ok $? "ListenOverflows rose by at least 4 (one per SYN to the full queue)"
is "$ld" "$lo" "ListenDrops rose by as much (no other listener drop)"
is "$(in_ns nstat -asz TcpExtListenOverflows | awk '$1 == "TcpExtListenOverflows" {print $2}')" \
	"$(v "$tmp/s7" ListenOverflows)" "ListenOverflows agrees with nstat -az"
check "$tmp/s6" "$tmp/s7" "PassiveOpens=1 ActiveOpens=5" overflow

# in_window OUT COUNTERS-ARGS -- CMD...: runs `counters COUNTERS-ARGS` in NS in the background,
# waits until it has taken its first sample (asleep in its interval), stops it while CMD makes
# events, then lets it take the second sample: the events fall inside the interval however
# slow the machine (the rate is delta / the nominal interval).
in_window() {
	local out=$1 pid a=()
	shift
	while [ "$1" != -- ]; do
		a+=("$1")
		shift
	done
	shift
	"$TD_BIN" -N "$NS" counters "${a[@]}" >"$out" &
	pid=$!
	td_wait_asleep "$pid" 20 || diag "counters $* did not reach its interval"
	kill -STOP "$pid"
	"$@" >/dev/null
	kill -CONT "$pid"
	wait "$pid"
}

# --- the delta window itself: events in the middle of a 3 s interval
in_window "$tmp/d.json" --json --interval 3 -- in_ns "$H" refused 9 4
ok $? "counters --interval 3 exits 0"
is "$(jq '.netns[0].counters[] | select(.name == "AttemptFails") | .delta' "$tmp/d.json")" 4 \
	"delta over the interval: AttemptFails 4"
is "$(jq '.interval_s' "$tmp/d.json")" 3 "interval_s 3"
like "$(jq '.netns[0].counters[] | select(.name == "AttemptFails") | .rate' "$tmp/d.json")" \
	'^1\.3' "rate: 4 over ~3 s"

# --- text output: non-zero counters first, each explained
in_window "$tmp/t.txt" --interval 1 -- in_ns "$H" refused 9 2
out=$(cat "$tmp/t.txt")
like "$(echo "$out" | sed -n 3p)" '^  ActiveOpens +2 +[0-9.]+  SYN sent' "text: ActiveOpens first"
like "$(echo "$out" | sed -n 4p)" '^  AttemptFails +2 ' "text: AttemptFails second"
like "$out" 'sockstat tw +[0-9]+ +timewait sockets' "text: sockstat tw gauge, explained"

# --- -N all lists our namespace; --all adds other Tcp/TcpExt counters that moved
"$TD_BIN" -N all counters --json --interval 0.05 >"$tmp/a.json"
ok $? "counters -N all"
is "$(jq --arg n "$NS" '[.netns[] | select(.name == $n)] | length' "$tmp/a.json")" 1 \
	"-N all includes $NS"
in_window "$tmp/x.json" --all --json --interval 2 -- in_ns "$H" refused 9 3
is "$(jq '.netns[0].counters[] | select(.name == "OutRsts") | .delta' "$tmp/x.json")" 3 \
	"--all: OutRsts +3 (one RST per refused SYN)"
is "$(jq '[.netns[0].counters[] | select(.name == "InSegs")][0].meaning' "$tmp/x.json")" null \
	"--all: unknown counters carry no meaning"

# --- usage errors
for bad in 0 3601 1x -1 ""; do
	"$TD_BIN" counters --interval "$bad" >/dev/null 2>&1
	is $? 2 "--interval '$bad' rejected"
done
err=$("$TD_BIN" --replay /dev/null counters 2>&1)
is $? 2 "--replay rejected"
like "$err" 'counters come from /proc/net' "--replay: says why"
"$TD_BIN" -N td-no-such-ns-$$ counters >/dev/null 2>&1
is $? 1 "unknown namespace: exit 1"
echo "1..$_tap_n"
