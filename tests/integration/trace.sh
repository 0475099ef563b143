#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `tcpdoctor trace` (eBPF) against namespaces the test creates: tests/helpers/tracegen makes a
# known number of failures and resets on 127.0.0.1 in NS (EADDRNOTAVAIL under a narrow port
# range, ECONNREFUSED with no listener, through an nftables `reject with tcp reset` rule and
# from non-blocking connects, ETIMEDOUT from dropped SYNs, ENETUNREACH with no route, EADDRINUSE
# from bind(), resets from a linger-0 close, who closed first and CLOSE_WAIT stays), and trace
# must count each exactly, charged to the helper's pid. A second trace with -N NS2 must see only NS2's refused connects.
# Both traces are started and attached ("tracing" on stderr) before any traffic, and stopped
# with SIGINT after it; the helpers return only once the kernel has done what they count.
. "$(dirname "$0")/../lib.sh"

H=$TD_HELPERS/tracegen
td_require_netns "trace integration"
td_require jq jq || exit 1
td_require nft nftables || exit 1
if [ ! -x "$H" ]; then
	ok 1 "tracegen helper built ($H)"
	exit 1
fi
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"; td_cleanup' EXIT
# a static NAME_pid per trace (eval-free)
A_pid= B_pid= R_pid= U_pid=

# --- without BPF support, or without the privilege: a clear message, exit 1
"$TD_BIN" trace --duration 0.1 >"$tmp/probe.out" 2>"$tmp/probe.err"
rc=$?
if grep -q "no BPF support" "$tmp/probe.err"; then
	is "$rc" 1 "a build without BPF: trace exits 1"
	like "$(cat "$tmp/probe.err")" "install clang, bpftool and libbpf-dev" "and says how to get it"
	exit 0
fi
if [ "$rc" -ne 0 ] && grep -q "Operation not permitted" "$tmp/probe.err"; then
	# root, yet the kernel refuses BPF (a container without CAP_BPF, lockdown): the machine
	# cannot do it, like namespaces without root
	skip "trace integration" "BPF is not permitted here: $(cat "$tmp/probe.err")"
	exit 0
fi
is "$rc" 0 "trace --duration 0.1 runs"
"$TD_BIN" trace --duration 0 >/dev/null 2>"$tmp/e"
is "$?" 2 "--duration 0 is a usage error"
"$TD_BIN" trace --duration 1x >/dev/null 2>"$tmp/e"
is "$?" 2 "--duration 1x is a usage error"
if command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
		"$TD_BIN" trace --duration 0.1 >/dev/null 2>"$tmp/e"
	is "$?" 1 "without privilege: exit 1"
	like "$(cat "$tmp/e")" "needs root" "and says it needs root"
fi

td_netns_add NS trace || exit 1
td_netns_add NS2 trace2 || exit 1
in_ns() { ip netns exec "$NS" "$@"; }
# 10 ports; the helpers below use ports 5000-5002 outside the range
in_ns sysctl -q -w net.ipv4.ip_local_port_range="40000 40009" || exit 1
# a dropped SYN is retried once (after 1 s), then connect() gives up: ETIMEDOUT after 3 s
in_ns sysctl -q -w net.ipv4.tcp_syn_retries=1 || exit 1
# connects to 5002 are answered by the firewall with a reset, although a listener is there
in_ns nft -f - <<'NFT' || exit 1
table inet td_trace {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport 5002 tcp flags syn reject with tcp reset
		tcp dport 5004 drop
	}
}
NFT

start_trace() { # NAME NETNS
	"$TD_BIN" -N "$2" trace --json >"$tmp/$1.json" 2>"$tmp/$1.err" &
	td_bg_pid "$!"
	printf -v "${1}_pid" '%s' "$!"
	td_wait_for "$tmp/$1.err" "tracing" 30
}
start_trace A "$NS"
ok $? "trace -N NS attached (said 'tracing')"
start_trace B "$NS2"
ok $? "trace -N NS2 attached"
# the kernel counts closes in a map of rows; one of 1 row sends the closes past it as records
TD_TRACE_CLOSE_ROWS=1 start_trace C "$NS"
ok $? "trace -N NS with a 1-row map of closes attached"

gen() { # NS VAR MODE ARGS...: runs the helper, VAR gets "COUNT PID"
	local ns=$1 var=$2 out
	shift 2
	out=$(ip netns exec "$ns" "$H" "$@") || return 1
	set -- $out
	printf -v "$var" '%s %s' "$2" "$3"
}
gen "$NS" r_block refused 5001 5 && gen "$NS" r_nb refused_nb 5001 7 &&
	gen "$NS" r_fw rejected 5002 6 && gen "$NS" l0 linger0 8 && gen "$NS" bb bindbusy 5003 3 &&
	gen "$NS" un unreach 2 && gen "$NS" to timeout 5004 3 && gen "$NS2" other refused 5001 3
ok $? "the helpers ran"
# 6 connections the client closes first; the server closes 2 and holds 4 in CLOSE_WAIT
exec {hold}> >(exec ip netns exec "$NS" "$H" closes 6 2 >"$tmp/closes")
td_wait_for "$tmp/closes" "^closes" 20
ok $? "the closes helper holds its CLOSE_WAIT sockets"
read -r _ cl_n cl_pid _ cl_port <"$tmp/closes"
gen "$NS" ex exhaust 5000 4
ok $? "the exhaust helper ran"
is "${r_block% *} ${r_nb% *} ${r_fw% *} ${l0% *} ${bb% *} ${un% *} ${to% *} $cl_n ${ex% *} ${other% *}" \
	"5 7 6 8 3 2 3 6 4 3" "the helpers made exactly the events asked for"

kill -INT "$A_pid" "$B_pid" "$C_pid"
wait "$A_pid"
is "$?" 0 "trace A stops on SIGINT with status 0"
wait "$C_pid"
wait "$B_pid"
is "$?" 0 "trace B stops on SIGINT with status 0"
# only now may the closes helper close its CLOSE_WAIT sockets: before, trace A could still be
# reading (a loaded machine) and see them leave
exec {hold}>&-
A=$tmp/A.json B=$tmp/B.json
jq -e . "$A" >/dev/null
ok $? "trace A wrote valid JSON"

# count FILE SECTION JQ-FILTER: the sum of .count over the section's rows matching the filter
count() { jq "[.$2[] | select($3) | .count] | add // 0" "$1"; }
fail() { count "$A" failures ".pid == ${1#* } and .syscall == \"connect\" and .errno == \"$2\" and .dport == $3 and .dst == \"127.0.0.1\""; }
is "$(fail "$r_block" ECONNREFUSED 5001)" 5 "5 blocking connects refused (no listener), charged to their pid"
is "$(fail "$r_nb" ECONNREFUSED 5001)" 7 "7 non-blocking connects refused (SO_ERROR), charged to the caller of connect()"
is "$(fail "$r_fw" ECONNREFUSED 5002)" 6 "6 connects refused by the nftables reject rule"
is "$(fail "$ex" EADDRNOTAVAIL 5000)" 4 "4 connects failed with EADDRNOTAVAIL (10-port range held)"
is "$(count "$A" failures ".pid == ${bb#* } and .syscall == \"bind\" and .errno == \"EADDRINUSE\" and .sport == 5003 and .src == \"127.0.0.1\"")" 3 \
	"3 bind()s refused with EADDRINUSE, with the address asked for"
is "$(count "$A" failures ".pid == ${un#* } and .errno == \"ENETUNREACH\" and .dst == \"192.0.2.1\" and .dport == 80")" 2 \
	"2 connects failed with ENETUNREACH (no route)"
is "$(fail "$to" ETIMEDOUT 5004)" 3 "3 non-blocking connects timed out (SYNs dropped), charged to their caller"
is "$(count "$A" failures true)" 30 "no other failure in NS"
is "$(count "$A" resets ".pid == ${l0#* } and .direction == \"received\" and .cause == \"peer\"")" 8 \
	"8 resets received from a peer that closed with linger 0"
is "$(count "$A" resets ".pid == ${l0#* } and .direction == \"sent\" and .cause == \"linger0\"")" 8 \
	"8 resets sent by the linger-0 close"
is "$(count "$A" closes ".pid == $cl_pid and .first == \"local\" and .dport == $cl_port")" 6 \
	"6 connections closed first by the client (its rows name the server's port)"
is "$(count "$A" closes ".pid == $cl_pid and .first == \"peer\" and .sport == $cl_port and .dport == 0")" 6 \
	"the same 6 from the server's side: the peer closed first (its rows name its own port)"
is "$(jq -r "[.close_wait[] | select(.pid == $cl_pid and .sport == $cl_port) | [.entered, .open]] | add | join(\" \")" "$A")" \
	"6 4" "CLOSE_WAIT: 6 entered, 4 still open when the trace stopped"
is "$(jq "[.close_wait[] | select(.pid == $cl_pid and .open > 0) | .oldest_open_s > 0] | all" "$A")" true \
	"the oldest open CLOSE_WAIT has an age"
is "$(jq '[.failures[], .resets[], .closes[], .close_wait[] | select(.netns != "'"$NS"'")] | length' "$A")" 0 \
	"trace -N NS: every row is NS's"
is "$(jq .lost "$A")" 0 "no event lost"
is "$(jq -c "[.folded, .close_wait_untracked]" "$A")" "[0,0]" "nothing folded or left unaged (far below the bounds)"
rows() { jq -c '[.closes[], (.close_wait[] | del(.oldest_open_s, .longest_s))]' "$1"; }
is "$(rows "$tmp/C.json")" "$(rows "$A")" \
	"a 1-row map of closes: the rows past it came as records, counted the same"
is "$(jq '[.events, .lost]' -c "$tmp/C.json")" "$(jq '[.events, .lost]' -c "$A")" \
	"and the same events, none lost"
is "$(jq -r '[.failures[].comm] | unique | join(",")' "$A")" tracegen "the program is named"

is "$(count "$B" failures ".pid == ${other#* } and .errno == \"ECONNREFUSED\" and .dport == 5001")" 3 \
	"trace -N NS2 counts NS2's 3 refused connects"
is "$(jq '[.failures[], .resets[], .closes[], .close_wait[]] | map(.count // .entered) | add // 0' "$B")" 3 \
	"and nothing of NS's"

# --- text output and --duration
"$TD_BIN" -N "$NS2" trace --duration 0.2 >"$tmp/text" 2>"$tmp/text.err"
is "$?" 0 "trace --duration 0.2 ends by itself"
like "$(head -n1 "$tmp/text")" "^Traced 0\.[0-9] s: 0 events, 0 lost\.$" "the text report's first line"

# --- an owner entry is its socket's only: sockets that take the addresses of freed ones, and
# get the peer's FIN before anyone accepts them, have no owner yet (the programs tell sockets
# apart by their cookie; none runs as a socket is destroyed)
start_trace U "$NS2"
ok $? "trace -N NS2 attached for the unaccepted sockets"
out=$(ip netns exec "$NS2" "$H" unaccepted 100)
read -r _ ua_n ua_pid _ ua_port <<<"$out"
is "$ua_n" 100 "100 connections got the peer's FIN while waiting to be accepted"
kill -INT "$U_pid"
wait "$U_pid"
is "$?" 0 "that trace stops on SIGINT"
U=$tmp/U.json
is "$(count "$U" closes ".first == \"peer\" and .pid == null")" 100 \
	"their 100 peer-first closes have no owner"
# with no owner seen, a port that was bound (a listener's child shares its bucket) is the
# service's: one row for the listener's port, not one per client port
is "$(jq -c "[.closes[] | select(.first == \"peer\" and .pid == null) | [.sport, .dport, .count]]" "$U")" \
	"[[$ua_port,0,100]]" "in one row, keyed by the listener's port"
is "$(jq -c "[.close_wait[] | select(.pid == null) | [.sport, .dport, .entered, .open]]" "$U")" \
	"[[$ua_port,0,100,0]]" "and so are their 100 CLOSE_WAIT stays, all ended"
is "$(count "$U" closes ".first == \"peer\" and .pid == $ua_pid and .sport == $ua_port")" 0 \
	"none is charged to the program whose freed sockets had those addresses"
is "$(count "$U" closes ".first == \"local\" and .pid == $ua_pid and .dport == $ua_port")" 100 \
	"the client's 100 first closes are its own"

# --- the raw sys_exit fallback (no tracefs) counts the same
TD_TRACE_SYSEXIT=raw start_trace R "$NS2"
ok $? "trace with the raw sys_exit attached"
gen "$NS2" rw refused 5001 2 && gen "$NS2" rb bindbusy 5003 2
ok $? "2 refused connects and 2 busy binds made"
kill -INT "$R_pid"
wait "$R_pid"
is "$?" 0 "trace (raw sys_exit) stops on SIGINT"
is "$(count "$tmp/R.json" failures ".pid == ${rw#* } and .errno == \"ECONNREFUSED\" and .dport == 5001")" 2 \
	"raw sys_exit: the 2 refused connects"
is "$(count "$tmp/R.json" failures ".pid == ${rb#* } and .syscall == \"bind\" and .errno == \"EADDRINUSE\"")" 2 \
	"raw sys_exit: the 2 busy binds"
is "$(count "$tmp/R.json" failures true)" 4 "raw sys_exit: nothing else"

# --- on a terminal: the table refreshes in place, then the final report with the exact counts
if command -v script >/dev/null; then
	script -qfc "$TD_BIN -N $NS2 trace --duration 3.5" /dev/null >"$tmp/live" 2>&1 &
	live=$!
	td_bg_pid "$live"
	td_wait_for "$tmp/live" "tracing" 30
	ok $? "trace on a terminal attached"
	gen "$NS2" lv refused 5001 4
	ok $? "4 refused connects made during the live view"
	wait "$live"
	is "$?" 0 "trace on a terminal ends by itself"
	tr -d '\r' <"$tmp/live" >"$tmp/live.txt"
	draws=$(grep -ac $'\033\[H\033\[2JTracing ' "$tmp/live.txt")
	ok "$((draws < 2))" "the live table was drawn $draws times (at least twice)"
	like "$(grep -a 'Tracing .*events' "$tmp/live.txt" | tail -n1)" "Tracing [0-9.]+ s: 4 events, 0 lost\." \
		"a refresh showed the 4 events before the end"
	like "$(grep -a 'Traced ' "$tmp/live.txt")" "Traced 3\.[0-9] s: 4 events, 0 lost\.$" \
		"then the final report"
	is "$(awk '/Traced /{f=1} f && / ECONNREFUSED / {print $NF}' "$tmp/live.txt")" 4 \
		"whose row counts the 4 refused connects exactly"
else
	skip "trace on a terminal" "script (util-linux) is missing"
fi
