#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# doctor and check on scenarios built for real in private namespaces (two joined by a veth
# pair, 198.18.0.0/30, where a network path matters): a client TIME_WAIT storm up to
# EADDRNOTAVAIL, server-side TIME_WAIT only, a CLOSE_WAIT leak, a full accept queue, bad
# sysctls, and a healthy namespace. Asserts exit codes, finding ids, subjects and exact numbers,
# cross-checked with ss where it sees the same thing.
. "$(dirname "$0")/../lib.sh"
td_require_netns "doctor scenarios"
STORM=$TD_HELPERS/storm
FARM=$TD_HELPERS/sockfarm
jq_py() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }

td_netns_add C cli
td_netns_add S srv
VC=tdc$$ VS=tds$$
ip link add "$VC" netns "$C" type veth peer name "$VS" netns "$S"
ip -n "$C" addr add 198.18.0.1/30 dev "$VC"
ip -n "$S" addr add 198.18.0.2/30 dev "$VS"
ip -n "$C" link set "$VC" up
ip -n "$S" link set "$VS" up
# a TIME_WAIT must not be ended by the RST a duplicate ACK may draw (see td_tw_exact)
td_tw_exact "$C" "$S"

# 1. client TIME_WAIT storm: 100 ports, the client closes first, until EADDRNOTAVAIL
ip netns exec "$C" sysctl -qw net.ipv4.ip_local_port_range="40000 40099"
out=$(mktemp)
ip netns exec "$S" "$STORM" server 198.18.0.2 8080 client-closes 30 >"$out" &
td_bg_pid $!
td_wait_for "$out" listening
res=$(ip netns exec "$C" "$STORM" client 198.18.0.2 8080 1000 15 client-closes)
is "$res" "ok=100 eaddrnotavail=1 other=0" "storm: 100 connections, then EADDRNOTAVAIL"
j=$("$TD_BIN" -N "$C" doctor --json)
is "$?" 2 "storm: doctor exits 2 (critical)"
is "$(jq_py 'f=[x for x in d["findings"] if x["id"]=="port-exhaustion"][0]; print(x["severity"] if False else f["severity"], f["subject"], f["evidence"]["in_use"], f["evidence"]["capacity"])' <<<"$j")" \
	"critical 198.18.0.1 -> 198.18.0.2:8080 100 100" "storm: port-exhaustion names the destination, 100 of 100 ports"
ss_tw=$(ip netns exec "$C" ss -tanH state time-wait | wc -l)
is "$ss_tw" 100 "storm: ss sees the same 100 TIME_WAIT"
like "$("$TD_BIN" -N "$C" doctor --no-color)" "exhausted: 100 of 100 in use" "storm: text report says exhausted"
res=$("$TD_BIN" -N "$C" check)
is "$?" 2 "storm: check exits 2"
like "$res" "^TCPDOCTOR CRITICAL - Ephemeral ports to 198.18.0.2:8080 .*\\| 'established'=0;;;0; .*'time_wait'=100;;;0; .*'port_usage'=100.0%;50;90;0;100$" \
	"storm: check status line and perfdata"
res=$("$TD_BIN" -N "$C" check --crit port_usage=101 --warn port_usage=101 --warn exhaust_s=0 --crit exhaust_s=0 --warn time_wait=50 --crit time_wait=150)
is "$?" 1 "storm: check with port thresholds off and time_wait warn 50 exits 1"
like "$res" "^TCPDOCTOR WARNING - 100 sockets in TIME_WAIT .*'time_wait'=100;50;150;0;" "storm: state threshold in status and perfdata"

# 2. server-side TIME_WAIT only: the server closes first; the client keeps its default range.
# Each connection binds its own source port (20000 + i): with ports picked by connect(), a SYN
# that reuses an earlier 4-tuple takes over that server-side TIME_WAIT (tcp-facts#time-wait)
# and the server is left with 1199. The client's last FIN may still be in flight when it exits:
# wait until the server holds all 1200, then count.
ip netns exec "$C" sysctl -qw net.ipv4.ip_local_port_range="32768 60999"
# empty the file here, not in the background job: its '>' may come after td_wait_for has read the
# first server's "listening" (seen: 683 connects refused before the second server listened)
: >"$out"
ip netns exec "$S" "$STORM" server 198.18.0.2 8081 server-closes 90 >>"$out" &
td_bg_pid $!
td_wait_for "$out" listening
res=$(ip netns exec "$C" "$STORM" client 198.18.0.2 8081 1200 60 server-closes 20000)
is "$res" "ok=1200 eaddrnotavail=0 other=0" "server-close: 1200 connections"
srv_tw() { ip netns exec "$S" ss -tanH state time-wait '( sport = :8081 )' | wc -l; }
td_wait_until 10 eval '[ "$(srv_tw)" = 1200 ]'
tw_before=$(srv_tw)
is "$tw_before" 1200 "server-close: the server holds its 1200 TIME_WAIT"
[ "$tw_before" = 1200 ] || diag "server-close: TIME_WAIT counters $(ip netns exec "$S" nstat -az TcpExtTW TcpOutRsts TcpExtTCPTimeWaitOverflow 2>/dev/null | tail -n +2 | awk '{printf "%s=%s ", $1, $2}')"
j=$("$TD_BIN" -N "$S" doctor --json --interval 0)
is "$?" 0 "server-close: doctor on the server exits 0"
tw_after=$(srv_tw)
# (attribution-partial depends on the machine: here PID 1's fds are unreadable even for root)
is "$(jq_py 'print(sorted(set(f["id"] for f in d["findings"]) - {"attribution-partial"}))' <<<"$j")" "['time-wait-server']" \
	"server-close: only the time-wait-server info finding"
read -r sev tws port < <(jq_py 'f=[x for x in d["findings"] if x["id"]=="time-wait-server"][0]; print(f["severity"], f["evidence"]["time_wait_server"], f["evidence"]["top_port"])' <<<"$j")
is "$sev $port" "info 8081" "server-close: server-side TIME_WAIT on port 8081, info only"
is "${tws%.*} $tw_after" "1200 1200" "server-close: doctor and ss both see 1200 server-side TIME_WAIT"
j=$("$TD_BIN" -N "$C" doctor --json --interval 0)
is "$(jq_py 'print(len([f for f in d["findings"] if f["id"] in ("port-exhaustion","time-wait-client")]))' <<<"$j")" 0 \
	"server-close: no port finding on the client"

# 3. CLOSE_WAIT leak, 4. full accept queue, 6. healthy: sockfarm in their own namespaces
td_netns_add L leak
ip netns exec "$L" "$FARM" --closewait 20 --family 4 --hold 600 >"$out.l" 2>/dev/null &
td_bg_pid $!
td_netns_add Q queue
ip netns exec "$Q" "$FARM" --synrecv 3 --family 4 --hold 600 >"$out.q" 2>/dev/null &
td_bg_pid $!
td_netns_add H healthy
ip netns exec "$H" "$FARM" --listen 2 --estab 3 --family both --hold 600 >"$out.h" 2>/dev/null &
td_bg_pid $!
td_wait_for "$out.l" ready && td_wait_for "$out.q" ready && td_wait_for "$out.h" ready
ok $? "sockfarms ready"

farm_pid=$(sed -n 2p "$out.l" | jq_py 'print(d["pid"])')
j=$("$TD_BIN" -N "$L" doctor --json --interval 0)
is "$?" 1 "close-wait leak: doctor exits 1 (warning)"
is "$(jq_py 'f=[x for x in d["findings"] if x["id"]=="close-wait-leak"][0]; print(f["severity"], f["subject"], f["evidence"]["close_wait"])' <<<"$j")" \
	"warning pid $farm_pid (sockfarm) 20" "close-wait leak: names pid $farm_pid and program sockfarm, 20 sockets"
is "$(ip netns exec "$L" ss -tanH state close-wait | wc -l)" 20 "close-wait leak: ss sees 20 CLOSE_WAIT"
# the text evidence writes the pid as everywhere else (no thousands separator)
like "$("$TD_BIN" -N "$L" doctor --interval 0 --no-color | tr -s ' \n' ' ')" "· pid $farm_pid( ·| |\$)" \
	"close-wait leak: the text evidence shows pid $farm_pid as it is"

j=$("$TD_BIN" -N "$Q" doctor --json --interval 0)
is "$?" 2 "accept queue: doctor exits 2"
is "$(jq_py 'f=[x for x in d["findings"] if x["id"]=="accept-queue"][0]; print(f["severity"], f["subject"], f["evidence"]["accept_queue"], f["evidence"]["backlog"])' <<<"$j")" \
	"critical 127.0.0.1:20048 4 3" "accept queue: names the listener, 4 waiting with backlog 3"
is "$(ip netns exec "$Q" ss -ltnH '( sport = :20048 )' | awk '{print $2, $3}')" "4 3" "accept queue: ss shows Recv-Q 4, Send-Q 3"

n_h=$(ip netns exec "$H" ss -tanH | wc -l)
j=$("$TD_BIN" -N "$H" doctor --json --interval 0.5)
is "$?" 0 "healthy: doctor exits 0"
is "$(jq_py 'print([f["id"] for f in d["findings"] if f["severity"]!="info"], d["status"], d["netns"][0]["total"])' <<<"$j")" \
	"[] ok $n_h" "healthy: nothing above info, $n_h sockets as ss counts"
like "$("$TD_BIN" -N "$H" doctor --no-color --interval 0)" "OK: nothing wrong found" "healthy: text says OK"
like "$("$TD_BIN" -N "$H" check)" "^TCPDOCTOR OK - $n_h sockets, nothing wrong found \\|" "healthy: check OK line"

# 5. bad sysctls, set inside a namespace we created (never the host)
td_netns_add B bad
ip netns exec "$B" sysctl -qw net.ipv4.tcp_max_tw_buckets=5000 net.ipv4.tcp_timestamps=0 net.ipv4.tcp_tw_reuse=1
j=$("$TD_BIN" -N "$B" doctor --json --interval 0)
is "$?" 1 "bad sysctls: doctor exits 1"
is "$(jq_py 'print(sorted((f["id"], f["subject"], f["severity"]) for f in d["findings"] if f["severity"]!="info"))' <<<"$j")" \
	"[('sysctl', 'net.ipv4.tcp_max_tw_buckets', 'warning'), ('sysctl', 'net.ipv4.tcp_timestamps', 'warning'), ('tw-reuse-without-timestamps', 'net.ipv4.tcp_timestamps', 'warning')]" \
	"bad sysctls: tcp_max_tw_buckets, tcp_timestamps and the reuse/timestamps conflict"

# -N all sees every scenario (the storm's TIME_WAIT no longer counts: its ports are outside the
# client's range since step 2); bad command lines are UNKNOWN (3)
j=$("$TD_BIN" -N all doctor --json --interval 0)
is "$?" 2 "-N all: the worst namespace decides (critical)"
is "$(jq_py "print(sorted(set(f['netns'] for f in d['findings'] if f['severity']!='info') & {'$C','$S','$H','$L','$Q','$B'}))" <<<"$j")" \
	"$(python3 -c "print(sorted({'$L','$Q','$B'}))")" "-N all: findings in exactly the three troubled namespaces"
"$TD_BIN" check --warn bogus=1 >/dev/null 2>&1
is "$?" 3 "check: unknown threshold is UNKNOWN (3)"
"$TD_BIN" doctor --interval abc >/dev/null 2>&1
is "$?" 3 "doctor: bad --interval is UNKNOWN (3)"
rm -f "$out" "$out.l" "$out.q" "$out.h"
