#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The trace used where it helps (eBPF), in namespaces the test creates, with exact counts:
#  - doctor --trace: 6 connects answered with RST by an nftables reject rule give the
#    peer-rejects finding for that destination with count 6 and the program's name and pid;
#    4 EADDRNOTAVAIL under a 10-port range give port-exhaustion naming the program, count 4, and
#    no peer-rejects; a namespace without failures gets neither.
#  - serve --trace publishes the same 6 as tcpdoctor_trace_failures_total (promtool-valid), and
#    counts the peer-rejects finding in tcpdoctor_findings.
#  - watch --trace shows them in its frame.
#  - top --by process --trace attributes exactly the 7 TIME_WAIT a known program closed first.
# Every trace is attached ("tracing" on stderr) before the helpers run, and stopped with SIGINT
# after they returned (the helpers return once the kernel has done what they count).
. "$(dirname "$0")/../lib.sh"

H=$TD_HELPERS/tracegen
td_require_netns "trace_use integration"
td_require jq jq || exit 1
td_require nft nftables || exit 1
td_require curl curl || exit 1
if [ ! -x "$H" ]; then
	ok 1 "tracegen helper built ($H)"
	exit 1
fi
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"; td_cleanup' EXIT

# --- doctor without --trace never needs BPF; --trace needs it, and says so like trace does
"$TD_BIN" doctor --interval 0 --no-owners >/dev/null 2>"$tmp/e"
[ $? -lt 3 ]
ok $? "doctor without --trace runs"
"$TD_BIN" doctor --trace 0 >/dev/null 2>"$tmp/e"
is "$?" 3 "doctor --trace 0 is a usage error (Nagios unknown)"
"$TD_BIN" top --trace 1 >/dev/null 2>"$tmp/e"
is "$?" 2 "top --trace without --by process is a usage error"
like "$(cat "$tmp/e")" "only with --by process" "and says why"
"$TD_BIN" doctor --trace 0.1 --interval 0 --no-owners >/dev/null 2>"$tmp/probe.err"
rc=$?
if grep -q "no BPF support" "$tmp/probe.err"; then
	is "$rc" 3 "a build without BPF: doctor --trace exits 3 (unknown)"
	like "$(cat "$tmp/probe.err")" "install clang, bpftool and libbpf-dev" "and says how to get it"
	exit 0
fi
if grep -q "Operation not permitted" "$tmp/probe.err"; then
	skip "trace_use integration" "BPF is not permitted here: $(cat "$tmp/probe.err")"
	exit 0
fi
[ "$rc" -lt 3 ]
ok $? "doctor --trace 0.1 runs (status $rc)"

td_netns_add NS tuse || exit 1   # refused connects
td_netns_add NSX tusex || exit 1 # exhausted ports
td_netns_add NS3 tuse3 || exit 1 # TIME_WAIT owners
td_netns_add NS4 tuse4 || exit 1 # nothing happens
td_tw_exact "$NS3" || exit 1
ip netns exec "$NSX" sysctl -q -w net.ipv4.ip_local_port_range="40000 40009" || exit 1
ip netns exec "$NS" nft -f - <<'NFT' || exit 1
table inet td_trace_use {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport 5002 tcp flags syn reject with tcp reset
	}
}
NFT

bg() { # NAME NETNS ARGS...: tcpdoctor -N NETNS ARGS in the background, waits for "tracing"
	local name=$1 ns=$2
	shift 2
	ip netns exec "$ns" "$TD_BIN" -N "$ns" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	td_bg_pid "$!"
	printf -v "${name}_pid" '%s' "$!"
	td_wait_for "$tmp/$name.err" "tracing" 30
}
bg DA "$NS" doctor --trace 120 --interval 0 --json
ok $? "doctor --trace attached in NS"
bg DX "$NSX" doctor --trace 120 --interval 0 --json
ok $? "doctor --trace attached in NSX"
bg D4 "$NS4" doctor --trace 120 --interval 0 --json
ok $? "doctor --trace attached in NS4"
bg SV "$NS" serve --trace --listen 127.0.0.1:0 --min-interval 0
ok $? "serve --trace attached in NS"
bg TP "$NS3" top --by process --trace 120 --json
ok $? "top --by process --trace attached in NS3"
bg W "$NS" watch --trace --count 2 --interval 10
ok $? "watch --trace attached in NS"
bg CK "$NS" check --trace 120 --interval 0
ok $? "check --trace attached in NS"

gen() { # NS VAR MODE ARGS...: runs the helper, VAR gets "COUNT PID"
	local ns=$1 var=$2 out
	shift 2
	out=$(ip netns exec "$ns" "$H" "$@" </dev/null) || return 1
	set -- $out
	printf -v "$var" '%s %s' "$2" "$3"
}
gen "$NS" rj rejected 5002 6 && gen "$NSX" ex exhaust 5000 4
ok $? "the helpers ran"
out=$(ip netns exec "$NS3" "$H" closes 7 7 </dev/null)
ok $? "the closes helper ran"
read -r _ cl_n cl_pid _ _ <<<"$out"
is "${rj% *} ${ex% *} $cl_n" "6 4 7" "the helpers made exactly the events asked for"
# the 7 client sockets the helper closed first are TIME_WAIT once the server's FIN is acked
tw() { [ "$(ip netns exec "$NS3" ss -Htan state time-wait | wc -l)" = 7 ]; }
td_wait_until 10 tw
ok $? "7 TIME_WAIT in NS3"

URL=$(sed -n 's/^listening on //p' "$tmp/SV.out")
ip netns exec "$NS" curl -s -m 10 -o "$tmp/m" "$URL"
ok $? "serve answered a scrape"
kill -INT "$DA_pid" "$DX_pid" "$D4_pid" "$TP_pid" "$SV_pid" "$CK_pid"
wait "$DA_pid"
is "$?" 1 "doctor in NS: warning (exit 1)"
wait "$DX_pid"
is "$?" 2 "doctor in NSX: critical (exit 2)"
wait "$D4_pid"
[ $? -lt 1 ]
ok $? "doctor in NS4: nothing above info (exit 0)"
wait "$TP_pid"
is "$?" 0 "top --trace stops on SIGINT with status 0"
wait "$SV_pid"
wait "$CK_pid"
is "$?" 1 "check --trace in NS: WARNING (exit 1)"
like "$(head -n1 "$tmp/CK.out")" "^TCPDOCTOR WARNING - 127\.0\.0\.1:5002 rejects us: 6 connects refused" \
	"with the rejecting destination and the count in its status line"

# --- doctor: peer-rejects
A=$tmp/DA.out X=$tmp/DX.out
jq -e . "$A" >/dev/null
ok $? "doctor --trace --json is valid JSON"
pr() { jq -r "[.findings[] | select(.id == \"peer-rejects\")] | $1" "$2"; }
is "$(pr 'length' "$A")" 1 "one peer-rejects finding in NS"
is "$(pr '.[0].subject' "$A")" "127.0.0.1:5002" "for the rejecting destination"
is "$(pr '.[0].evidence.refused' "$A")" 6 "with the exact count of refused connects"
is "$(pr '.[0].traced | map([.comm, .pid, .call, .errno, .dst, .count] | join(" ")) | join(",")' "$A")" \
	"tracegen ${rj#* } connect ECONNREFUSED 127.0.0.1:5002 6" "naming the program, its pid, errno and destination"
is "$(pr '.[0].severity' "$A")" warning "a warning below peer_rejects' critical 100"
is "$(pr '.[0].ref' "$A")" "tcp-facts#peer-rejects" "with its reference"
is "$(jq '[.findings[] | select(.id == "port-exhaustion")] | length' "$A")" 0 "and no port-exhaustion"
is "$(jq '.trace.lost' "$A")" 0 "doctor --trace --json: no event lost"

# --- doctor: port exhaustion names the program
pe() { jq -r "[.findings[] | select(.id == \"port-exhaustion\")] | $1" "$X"; }
is "$(pe 'length')" 1 "one port-exhaustion finding in NSX"
is "$(pe '.[0].evidence.traced_failures')" 4 "with the exact count of EADDRNOTAVAIL"
is "$(pe '.[0].traced | map([.comm, .pid, .call, .errno, .dst, .count] | join(" ")) | join(",")')" \
	"tracegen ${ex#* } connect EADDRNOTAVAIL 127.0.0.1:5000 4" "naming the program and the destination"
is "$(pe '.[0].severity')" critical "critical: connects failed"
is "$(pr 'length' "$X")" 0 "no peer-rejects where ports ran out"
is "$(jq '[.findings[] | select(.id == "peer-rejects" or .id == "port-exhaustion")] | length' "$tmp/D4.out")" 0 \
	"a namespace without failures: neither finding"

# --- serve --trace: the same counts as counters
is "$(grep -c '^tcpdoctor_trace_failures_total{syscall="connect",errno="ECONNREFUSED",dst="127.0.0.1:5002"} 6$' "$tmp/m")" 1 \
	"serve --trace: tcpdoctor_trace_failures_total counts the 6 refused connects"
is "$(grep -c '^tcpdoctor_trace_failures_total' "$tmp/m")" 1 "and no other failure in NS"
is "$(grep -cE '^tcpdoctor_findings\{netns="[^"]*",id="peer-rejects",severity="warning"\} 1$' "$tmp/m")" 1 \
	"serve --trace: the trace's peer-rejects finding is counted in tcpdoctor_findings"
is "$(grep -c '^tcpdoctor_trace_events_lost_total 0$' "$tmp/m")" 1 "no event lost"
missing=$(grep -ohE 'tcpdoctor_trace_[a-z0-9_]+' "$TD_ROOT/contrib/prometheus/tcpdoctor.rules.yml" \
	"$TD_ROOT/contrib/grafana/tcpdoctor.json" | sort -u |
	while read -r n; do grep -q "^# TYPE $n " "$tmp/m" || echo "$n"; done)
is "$missing" "" "every tcpdoctor_trace_ metric named in contrib/ is published by serve --trace"
if td_require promtool prometheus; then
	lint=$(promtool check metrics <"$tmp/m" 2>&1)
	is "$?:$lint" "0:" "promtool check metrics on the page with the trace families"
fi

# --- top --by process --trace: exact TIME_WAIT owners
T=$tmp/TP.out
is "$(jq -r ".groups[] | select(.pid == $cl_pid) | [.comm, .states.TIME_WAIT, .exact, .inferred] | join(\" \")" "$T")" \
	"tracegen 7 7 0" "top --trace: the 7 TIME_WAIT go to the program that closed them, exactly"
is "$(jq '.trace.exact' "$T")" 7 "and the trace says 7 sockets were attributed exactly"
"$TD_BIN" -N "$NS3" top --by process >"$tmp/top.txt"
is "$(grep -c EXACT "$tmp/top.txt")" 0 "without --trace: no EXACT column"
# text: the EXACT column holds the 7
"$TD_BIN" -N "$NS3" top --by process --trace 0.1 >"$tmp/topx.txt" 2>/dev/null
like "$(grep -E '^ *PID ' "$tmp/topx.txt")" "EXACT" "top --trace: an EXACT column in text"

# --- watch --trace: the frame shows them
wait "$W_pid"
is "$?" 0 "watch --trace --count 2 ends with status 0"
like "$(cat "$tmp/W.out")" "6  connect\(\) ECONNREFUSED +127\.0\.0\.1:5002 +tracegen \(pid ${rj#* }\)" \
	"watch --trace shows the refused connects by destination and program"
