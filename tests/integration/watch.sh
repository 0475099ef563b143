#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# watch on a recorded dump (no root needed), then on sockets built for real in private
# namespaces: a sockfarm (6 ESTABLISHED, 4 FIN_WAIT2, 5 TIME_WAIT, 4 CLOSE_WAIT, 2 LISTEN) and a
# storm that exhausts a 100-port range over a veth pair. --once and --count frames must show the
# exact counts (cross-checked with ss and `states`), the exhausted destination and its finding.
# Then the curses view is driven in tmux on a private server and its screen read back: the
# numbers, p's paused marker, s's sort label, ? help, n/N namespace switching under -N all, a
# resize to 40x10 and back, and q, Ctrl-C and SIGTERM each exiting 0 with the terminal given
# back (tmux's alternate screen off). Every wait is bounded.
. "$(dirname "$0")/../lib.sh"
state_row() { grep -E "^$1 +[0-9]" <<<"$2" | head -n 1; }

# A recorded dump needs no root: the same numbers as `states` on it, no counters, no rates
REC=$TD_ROOT/tests/data/replay/mixed-netlink.tdrec
out=$("$TD_BIN" --replay "$REC" watch --count 2 --interval 0.1 --ascii)
is "$?" 0 "replay: --count 2 exits 0"
total=$("$TD_BIN" --replay "$REC" states --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
second=$(sed -n '/sample 2/,$p' <<<"$out")
is "$(state_row TOTAL "$second")" "$(printf '%-12s %10s' TOTAL "$total")" "replay: $total sockets, as states counts"
is "$(state_row ESTABLISHED "$second")" "ESTABLISHED          34      +0.0" "replay: ESTABLISHED 34, unchanged"
is "$(state_row TIME_WAIT "$second")" "TIME_WAIT             8      +0.0" "replay: TIME_WAIT 8"
like "$second" $'\nTIME_WAIT created -/s  expired -/s  \\(no kernel counters\\)\n' "replay: no counters, said so"
like "$second" $'\nCRITICAL Accept queue of 127\\.0\\.0\\.1:20048 is full: 4 waiting, backlog 3\n' "replay: findings, one line each"

td_require_netns "watch scenarios"
FARM=$TD_HELPERS/sockfarm
STORM=$TD_HELPERS/storm
T=(tmux -L "td-watch-$$" -f /dev/null)
trap '"${T[@]}" kill-server 2>/dev/null; td_cleanup' EXIT


# A: the farm
td_netns_add A farm
td_tw_exact "$A" # no RST may end a TIME_WAIT early (see td_tw_exact)
farm_out=$(mktemp)
ip netns exec "$A" "$FARM" --listen 2 --estab 3 --timewait 5 --closewait 4 --family 4 --hold 600 \
	>"$farm_out" 2>/dev/null &
td_bg_pid $!
# B: a client that runs out of its 100 ports, talking to S over a veth pair
td_netns_add B storm
td_netns_add S server
VB=tdwb$$ VS=tdws$$
ip link add "$VB" netns "$B" type veth peer name "$VS" netns "$S"
ip -n "$B" addr add 198.18.1.1/30 dev "$VB"
ip -n "$S" addr add 198.18.1.2/30 dev "$VS"
ip -n "$B" link set "$VB" up
ip -n "$S" link set "$VS" up
td_tw_exact "$B" "$S"
ip netns exec "$B" sysctl -qw net.ipv4.ip_local_port_range="40000 40099"
storm_out=$(mktemp)
ip netns exec "$S" "$STORM" server 198.18.1.2 8080 client-closes 30 >"$storm_out" &
td_bg_pid $!
td_wait_for "$farm_out" ready && td_wait_for "$storm_out" listening
ok $? "sockfarm and storm server ready"
res=$(ip netns exec "$B" "$STORM" client 198.18.1.2 8080 1000 15 client-closes)
is "$res" "ok=100 eaddrnotavail=1 other=0" "storm: 100 connections, then EADDRNOTAVAIL"

# --once: one plain frame, exact counts
out=$("$TD_BIN" -N "$A" watch --once --no-owners)
is "$?" 0 "--once exits 0"
is "$(grep -c '^tcpdoctor watch' <<<"$out")" 1 "--once prints one frame"
like "$(head -n 1 <<<"$out")" "^tcpdoctor watch  netns: $A  every 1 s  sample 1  \\?: help$" "--once: title"
for s in "ESTABLISHED 6" "FIN_WAIT2 4" "TIME_WAIT 5" "CLOSE_WAIT 4" "LISTEN 2" "SYN_RECV 0"; do
	set -- $s
	is "$(state_row "$1" "$out")" "$(printf '%-12s %10s %9s' "$1" "$2" -)" "--once: $1 $2, no rate yet"
done
is "$(state_row TOTAL "$out")" "TOTAL                21" "--once: 21 sockets"
is "$(ip netns exec "$A" ss -tanH | wc -l)" 21 "ss sees the same 21"
like "$out" $'\nTIME_WAIT created -/s  expired -/s  \\(rates from the second sample on\\)\n' "--once: no rates from one sample"
like "$out" $'\nTIME_WAIT  [^ ]  now 5  max 5\n' "--once: TIME_WAIT sparkline of one sample"
like "$out" $'\n127\\.0\\.0\\.2 -> 127\\.0\\.0\\.1:20016 +5 +28232 +0\\.0% +5 ' "--once: the TIME_WAIT destination"
like "$out" "TOP DESTINATIONS  sort: usage  \\(3\\)" "--once: three destinations"

# --count 2: the second frame has rates, all zero here since nothing moves
out=$("$TD_BIN" -N "$A" watch --count 2 --interval 0.2 --no-owners --ascii)
is "$?" 0 "--count 2 exits 0"
is "$(grep -c '^tcpdoctor watch' <<<"$out")" 2 "--count 2 prints two frames"
second=$(sed -n '/sample 2/,$p' <<<"$out")
is "$(state_row TIME_WAIT "$second")" "TIME_WAIT             5      +0.0" "--count: TIME_WAIT 5, +0.0/s"
is "$(state_row CLOSE_WAIT "$second")" "CLOSE_WAIT            4      +0.0" "--count: CLOSE_WAIT 4, +0.0/s"
like "$second" $'\nTIME_WAIT created 0.0/s  expired 0.0/s  connects 0.0/s  accepts 0.0/s\n' "--count: TIME_WAIT created/expired and opens from the counters"
like "$second" $'\nTIME_WAIT  ##  now 5  max 5\nCLOSE_WAIT ##  now 4  max 4\n' "--count: ASCII sparklines of two samples"

# not a terminal: plain frames without --once (stopped by --count here to stay bounded)
out=$(timeout 10 "$TD_BIN" -N "$B" watch --interval 0.2 --no-owners </dev/null | head -n 1)
is "$out" "tcpdoctor watch  netns: $B  every 0.2 s  sample 1  ?: help" "stdout not a terminal: plain text"
# every port is held by a TIME_WAIT: watch and ss see all 100
out=$("$TD_BIN" -N "$B" watch --once --no-owners)
tw=$(state_row TIME_WAIT "$out" | awk '{ print $2 }')
is "$tw $(ip netns exec "$B" ss -tanH state time-wait | wc -l)" "100 100" "storm: watch and ss see 100 TIME_WAIT"
pct=$(awk -v n="$tw" 'BEGIN { printf "%.1f", n }')
like "$out" $'\n198\\.18\\.1\\.1 -> 198\\.18\\.1\\.2:8080 +'"$tw"' +100 +'"$pct"'% +'"$tw"' ' \
	"storm: destination $tw of 100 ports, all TIME_WAIT"
like "$out" $'\n(CRITICAL|WARNING) Ephemeral ports to 198\\.18\\.1\\.2:8080 from 198\\.18\\.1\\.1(:| are exhausted:) '"$tw"' of 100 in use' \
	"storm: the port-exhaustion finding, one line"

# bad command lines
"$TD_BIN" watch --interval 0 --once >/dev/null 2>&1
is "$?" 2 "--interval 0 is refused"
"$TD_BIN" watch --count 1x >/dev/null 2>&1
is "$?" 2 "--count 1x is refused"

# The curses view in tmux. Each session runs watch, then prints its exit status and lingers.
td_require tmux tmux || exit 1
start() { # session, watch arguments...
	local s=$1
	shift
	"${T[@]}" new-session -d -s "$s" -x 120 -y 40 \
		"LANG=C.UTF-8 TERM=tmux-256color $TD_BIN $*; echo EXIT=\$?; sleep 60"
}
screen() { "${T[@]}" capture-pane -p -t "$1"; }
wait_screen() { # session regex: up to 10 s
	for _ in $(seq 100); do
		[[ $(screen "$1") =~ $2 ]] && return 0
		sleep 0.1
	done
	return 1
}
alt() { "${T[@]}" display -p -t "$1" '#{alternate_on}'; }

start w -N "$A" watch --interval 0.3 --no-owners
wait_screen w "sample [2-9]"
ok $? "tmux: watch draws and samples"
s=$(screen w)
is "$(alt w)" 1 "tmux: on the alternate screen"
is "$(state_row TIME_WAIT "$s")" "TIME_WAIT             5      +0.0" "tmux: TIME_WAIT 5 on screen"
is "$(state_row ESTABLISHED "$s")" "ESTABLISHED           6      +0.0" "tmux: ESTABLISHED 6 on screen"
is "$(state_row TOTAL "$s")" "TOTAL                21" "tmux: 21 sockets on screen"
like "$s" $'\nTIME_WAIT  █+  now 5  max 5' "tmux: UTF-8 block sparkline"
like "$s" "TOP DESTINATIONS  sort: usage  \\(3\\)" "tmux: sorted by usage"

"${T[@]}" send-keys -t w p
wait_screen w "\\[PAUSED\\]"
ok $? "tmux: p shows the paused marker"
n=$(screen w | sed -n 's/.*sample \([0-9]*\).*/\1/p' | head -n 1)
"${T[@]}" send-keys -t w s
wait_screen w "sort: TIME_WAIT"
ok $? "tmux: s changes the sort label to TIME_WAIT"
"${T[@]}" send-keys -t w s
wait_screen w "sort: rate"
ok $? "tmux: s again: rate"
sleep 0.7
like "$(screen w | head -n 1)" "sample $n  \\[PAUSED\\]" "tmux: paused, no new sample for 0.7 s (still $n)"
"${T[@]}" send-keys -t w '?'
wait_screen w $'\nKEYS\n'
ok $? "tmux: ? shows the help"
like "$(screen w)" "p      pause or resume sampling" "tmux: help lists the keys"
"${T[@]}" send-keys -t w x
wait_screen w $'\nSTATE +SOCKETS'
ok $? "tmux: any key leaves the help"

"${T[@]}" resize-window -t w -x 40 -y 10
for _ in $(seq 100); do [ "$(screen w | awk 'length($0) > 40' | wc -l)" = 0 ] && break; sleep 0.1; done
s=$(screen w)
is "$(awk 'length($0) > 40' <<<"$s" | wc -l)" 0 "tmux: resized to 40x10, no line wider than 40"
is "$(head -n 1 <<<"$s")" "$(printf '%.40s' "tcpdoctor watch  netns: $A  every 0.3 s")" "tmux: title cut to 40 columns"
is "$(grep -c . <<<"$s")" 10 "tmux: 10 lines drawn"
"${T[@]}" resize-window -t w -x 120 -y 40
wait_screen w "sample $n  \\[PAUSED\\]  \\?: help"
ok $? "tmux: back to 120x40, full title redrawn"
"${T[@]}" send-keys -t w p
wait_screen w "sample $((n + 1))"
ok $? "tmux: p resumes sampling"

"${T[@]}" send-keys -t w q
wait_screen w "EXIT=[0-9]+"
is "$(screen w | grep -o 'EXIT=[0-9]*')" "EXIT=0" "tmux: q exits with status 0"
is "$(alt w)" 0 "tmux: q leaves the alternate screen"
is "$(screen w | grep -c 'tcpdoctor watch')" 0 "tmux: the frame is gone, the shell screen is back"

# Ctrl-C and SIGTERM: the same clean exit
start c -N "$A" watch --no-owners
wait_screen c "sample 1"
"${T[@]}" send-keys -t c C-c
wait_screen c "EXIT=[0-9]+"
is "$(screen c | grep -o 'EXIT=[0-9]*')" "EXIT=0" "tmux: Ctrl-C exits with status 0"
is "$(alt c)" 0 "tmux: Ctrl-C gives the terminal back"
start t -N "$A" watch --no-owners
wait_screen t "sample 1"
pid=$(pgrep -P "$("${T[@]}" display -p -t t '#{pane_pid}')" -x tcpdoctor)
kill -TERM "$pid"
wait_screen t "EXIT=[0-9]+"
is "$(screen t | grep -o 'EXIT=[0-9]*')" "EXIT=0" "tmux: SIGTERM exits with status 0"
is "$(alt t)" 0 "tmux: SIGTERM gives the terminal back"

# -N all, paused (after two samples) so that the namespace list holds still: n walks from the
# total to each namespace; the farm's shows its own counts and rates; N walks back
start a -N all watch --interval 0.5 --no-owners
wait_screen a "netns: total of [0-9]+  every 0.5 s  sample [2-9]"
ok $? "tmux: -N all starts on the total"
"${T[@]}" send-keys -t a p
wait_screen a "\\[PAUSED\\]"
k=$(screen a | sed -n 's/.*total of \([0-9]*\).*/\1/p' | head -n 1)
found=0
for _ in $(seq "$k"); do
	before=$(screen a | head -n 1)
	"${T[@]}" send-keys -t a n
	for _ in $(seq 50); do [ "$(screen a | head -n 1)" != "$before" ] && break; sleep 0.05; done
	if [[ $(screen a | head -n 1) == *"netns: $A "* ]]; then
		found=1
		break
	fi
done
is "$found" 1 "tmux: n reaches the farm's namespace among $k"
is "$(state_row TIME_WAIT "$(screen a)")" "TIME_WAIT             5      +0.0" "tmux: its TIME_WAIT count alone"
"${T[@]}" send-keys -t a N
for _ in $(seq 50); do [[ $(screen a | head -n 1) != *"netns: $A "* ]] && break; sleep 0.05; done
[[ $(screen a | head -n 1) != *"netns: $A "* ]]
ok $? "tmux: N steps back: another namespace or the total"
"${T[@]}" send-keys -t a n
wait_screen a "netns: $A "
ok $? "tmux: n returns to the farm's namespace"
"${T[@]}" send-keys -t a q
wait_screen a "EXIT=[0-9]+"
is "$(screen a | grep -o 'EXIT=[0-9]*')" "EXIT=0" "tmux: -N all view quits with 0"
