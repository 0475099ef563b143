#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `tcpdoctor lab`: every scenario's qualitative outcome from one short run (1000 client ports,
# 500 connections/s, 3 s each), tw-reuse above its ceiling, the chart, bad input, the refusal
# without capabilities, that the host's sysctls are untouched, and that no td-lab namespace or
# link survives a run, also one interrupted with SIGINT or SIGTERM. Needs root; skipped without.
. "$(dirname "$0")/../lib.sh"

td_require_netns "lab integration tests"
td_require jq jq || exit 1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; td_cleanup' EXIT

# Namespaces are named after the lab's pid; other labs may run on this host at the same time,
# so only the pids this script started are checked.
lab_pids=()
leftovers() { # prints any namespace or link still on the host from a lab run here
	local p
	for p in "${lab_pids[@]}"; do
		ip netns list 2>/dev/null | grep -E "^td-lab-[cs]-$p( |$)"
		ip -o link 2>/dev/null | grep -E "td-lab-[cs]-$p"
	done
	ip -o link 2>/dev/null | grep -E ': td-lab-[cs][@:]' # the veth names, on the host
	true
}
run_lab() { # OUT ERR ARGS...: runs the lab, sets lab_rc
	local out=$1 err=$2
	shift 2
	"$TD_BIN" lab "$@" >"$out" 2>"$err" &
	lab_pids+=("$!")
	wait "$!"
	lab_rc=$?
}
host_sysctls() {
	cat /proc/sys/net/ipv4/ip_local_port_range /proc/sys/net/ipv4/tcp_tw_reuse \
		/proc/sys/net/ipv4/tcp_timestamps /proc/sys/net/ipv4/tcp_max_tw_buckets
}
host_before=$(host_sysctls)

# --- the command line, no namespaces needed ---
"$TD_BIN" lab --duration abc >/dev/null 2>"$tmp/err"
is "$?" 2 "--duration abc is a usage error"
"$TD_BIN" lab --duration 0 >/dev/null 2>&1
is "$?" 2 "--duration 0 is a usage error"
"$TD_BIN" lab --ports 5 >/dev/null 2>&1
is "$?" 2 "--ports 5 is a usage error"
"$TD_BIN" lab no-such-scenario >/dev/null 2>"$tmp/err"
is "$?" 2 "an unknown scenario is a usage error"
like "$(cat "$tmp/err")" "unknown scenario 'no-such-scenario'" "and says which"
is "$("$TD_BIN" lab --list | wc -l | tr -d ' ')" 13 "--list shows 13 scenarios"
like "$("$TD_BIN" lab --list | tail -n 1)" "^conntrack-full .*run only when named" \
	"conntrack-full is listed, and runs only when named (lab_conntrack.sh runs it)"
setpriv --bounding-set -sys_admin,-net_admin --inh-caps=-all "$TD_BIN" lab baseline \
	>/dev/null 2>"$tmp/err"
is "$?" 1 "without CAP_SYS_ADMIN/CAP_NET_ADMIN: exit 1"
like "$(cat "$tmp/err")" "lab needs root \(CAP_SYS_ADMIN and CAP_NET_ADMIN\) to create network namespaces" \
	"and a clear message"

# --- every scenario, one run ---
run_lab "$tmp/all.json" "$tmp/err" --json --ports 1000 --rate 500 --duration 3 \
	--chart "$tmp/lab.svg"
is "$lab_rc" 0 "lab runs every scenario"
jq -e . "$tmp/all.json" >/dev/null
is "$?" 0 "--json parses"
is "$(jq '.scenarios | length' "$tmp/all.json")" 12 "12 scenarios in the JSON"
is "$(leftovers)" "" "no td-lab namespace or link left after the run"
is "$(host_sysctls)" "$host_before" "the host's sysctls are untouched"

v() { # scenario jq-expression
	jq -r --arg n "$1" ".scenarios[] | select(.name == \$n) | $2" "$tmp/all.json"
}
for s in baseline tw-reuse-no-ts bind-before-connect close-wait-leak; do
	diag "$s: $(v "$s" '[.succeeded, .eaddrnotavail, .eaddrinuse, .other_errors] | @csv')"
done

is "$(v baseline '.eaddrnotavail > 0')" true "baseline fails with EADDRNOTAVAIL"
is "$(v baseline .succeeded)" 1000 "baseline: exactly as many connections as ports"
is "$(v baseline .peak_tw_client)" 1000 "baseline: every port in TIME_WAIT on the client"
is "$(v baseline .other_errors)" 0 "baseline: no other error"
is "$(v keepalive '.eaddrnotavail + .other_errors')" 0 "keepalive does not fail"
is "$(v keepalive .succeeded)" 1500 "keepalive: every request served"
is "$(v linger0 '.eaddrnotavail + .other_errors')" 0 "linger0 does not fail"
is "$(v linger0 '.peak_tw_client + .peak_tw_server')" 0 "linger0 leaves no TIME_WAIT"
is "$(v linger0 '.counters.client.TCPAbortOnData > 0')" true "linger0 closes by RST (TCPAbortOnData)"
is "$(v server-close .eaddrnotavail)" 0 "server-close does not exhaust the client"
is "$(v server-close .peak_tw_client)" 0 "server-close: no TIME_WAIT on the client"
is "$(v server-close '.peak_tw_server > 0')" true "server-close: TIME_WAIT on the server"
is "$(v tw-reuse .eaddrnotavail)" 0 "tw-reuse keeps succeeding at half of ports / reuse delay"
is "$(v tw-reuse '.counters.client.TWRecycled > 0')" true "tw-reuse: TWRecycled rises"
is "$(v tw-reuse-no-ts '.eaddrnotavail > 0')" true "tw-reuse-no-ts fails like baseline"
is "$(v tw-reuse-no-ts .counters.client.TWRecycled)" 0 "tw-reuse-no-ts: nothing reused"
is "$(v tw-reuse-no-ts .succeeded)" "$(v baseline .succeeded)" "tw-reuse-no-ts: as many as baseline"
is "$(v wide-range '.eaddrnotavail + .other_errors')" 0 "wide-range: no failure within the run"
is "$(v two-ports .eaddrnotavail)" 0 "two-ports: same load, no EADDRNOTAVAIL (ports are per destination)"
is "$(v bind-before-connect '.eaddrinuse > 0')" true "bind-before-connect exhausts (bind: EADDRINUSE)"
is "$(v bind-before-connect .succeeded)" 1000 "bind-before-connect: one port per connection over all destinations"
is "$(v bind-no-port '.eaddrnotavail + .eaddrinuse + .other_errors')" 0 \
	"bind-no-port does not exhaust"
is "$(v tw-buckets-low '.counters.client.TCPTimeWaitOverflow > 0')" true \
	"tw-buckets-low: TCPTimeWaitOverflow rises"
is "$(v tw-buckets-low '.peak_tw_client <= 100')" true "tw-buckets-low: TIME_WAIT capped at 100"
is "$(v tw-buckets-low .eaddrnotavail)" 0 "tw-buckets-low: no exhaustion (protection lost instead)"
is "$(v close-wait-leak '.peak_close_wait_server > 0')" true "close-wait-leak: CLOSE_WAIT on the server"
is "$(v close-wait-leak .peak_tw_client)" 0 "close-wait-leak: no TIME_WAIT on the client"
like "$(v baseline .verdict)" "EADDRNOTAVAIL" "the verdict names the failure"
like "$(v baseline '[.doctor[].id] | join(",")')" "port-exhaustion" \
	"doctor, run in the client namespace at the end of the load, finds the exhaustion"
like "$(v tw-buckets-low '[.doctor[].id] | join(",")')" "time-wait-overflow" \
	"doctor sees the bucket overflow in tw-buckets-low"
like "$(v bind-before-connect '[.doctor[].id] | join(",")')" "ephemeral-range" \
	"doctor sees bind-before-connect exhaust the range across destinations"
is "$(v bind-no-port '[.doctor[].id] | index("ephemeral-range") == null')" true \
	"no ephemeral-range finding when IP_BIND_ADDRESS_NO_PORT shares ports per destination"

python3 -c 'import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); print(len(d.getElementsByTagName("g")))' \
	"$tmp/lab.svg" >"$tmp/panels" 2>&1
is "$(cat "$tmp/panels")" 12 "--chart writes well-formed SVG with one panel per scenario"

# --- tw-reuse above ports / reuse delay: 200 ports, 1 s delay, 1000/s ---
run_lab "$tmp/fast.json" /dev/null --json --ports 200 --rate 1000 --duration 2 tw-reuse
is "$lab_rc" 0 "tw-reuse at 5x its ceiling runs"
diag "tw-reuse 200 ports 1000/s: $(jq -c '.scenarios[0] | [.succeeded, .eaddrnotavail, .counters.client.TWRecycled]' "$tmp/fast.json")"
is "$(jq '.scenarios[0].eaddrnotavail > 0' "$tmp/fast.json")" true \
	"tw-reuse above ports / tcp_tw_reuse_delay fails"
is "$(jq '.scenarios[0].counters.client.TWRecycled > 0' "$tmp/fast.json")" true \
	"even though TIME_WAITs are being reused"
is "$(leftovers)" "" "no td-lab namespace or link left"

# --- interrupted runs ---
for sig in INT TERM; do
	"$TD_BIN" lab --duration 5 baseline keepalive >/dev/null 2>"$tmp/err" &
	pid=$!
	td_bg_pid "$pid"
	lab_pids+=("$pid")
	for _ in $(seq 50); do
		ip netns list | grep -q "^td-lab-c-$pid" && break
		sleep 0.1
	done
	sleep 0.5
	ip netns list | grep -q "^td-lab-c-$pid"
	is "$?" 0 "SIG$sig: td-lab-c-$pid exists while the lab runs"
	kill -"$sig" "$pid"
	wait "$pid"
	is "$?" 1 "SIG$sig: exit 1"
	like "$(cat "$tmp/err")" "interrupted" "SIG$sig: says it was interrupted"
	is "$(leftovers)" "" "SIG$sig: no td-lab namespace or link left"
done
is "$(host_sysctls)" "$host_before" "the host's sysctls are still untouched"
