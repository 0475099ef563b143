#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What doctor's findings say, against states built for real in private namespaces (issue 10):
#  1. a client (tcp_tw_reuse=1, ports 40000-40099) closes first to a server that never closes:
#     its 100 ports are held by orphaned FIN_WAIT2, which tw_reuse never takes over. The
#     port-exhaustion finding must name FIN_WAIT2 with the count ss sees, blame the peer, offer
#     tcp_fin_timeout and neither tw_reuse nor SO_LINGER; its range proposal must pass lint. On
#     the server the 100 CLOSE_WAIT never read EOF: rqueue 1 each is the FIN, not data.
#  2. CLOSE_WAIT with data unread and with EOF read: unread_data counts data bytes only.
#  3. tcp_fin_timeout=120: 1000 orphaned FIN_WAIT2 are full orphans (keepalive timer, not
#     timewait sockets) and the finding says so.
#  4. a full accept queue dropping SYNs: listen-overflows gives this namespace's SYN schedule.
#  5. bind() before connect() over four destinations: the range finding has the evidence and
#     says bind() fails with EADDRINUSE, which then happens; connect() alone gets no such claim.
. "$(dirname "$0")/../lib.sh"
tmp=
trap 'td_cleanup; [ -n "$tmp" ] && rm -rf "$tmp"' EXIT
if ! need_root; then
	skip "advice scenarios" "needs root and network namespaces"
	exit 0
fi
tmp=$(mktemp -d)
STORM=$TD_HELPERS/storm
FARM=$TD_HELPERS/sockfarm
CONN=("python3" "$TD_ROOT/tests/helpers/tdconn.py")
# jf JSONFILE EXPR: EXPR over d (the doctor document) and f(id) (the first finding with that id)
jf() {
	python3 - "$@" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
def f(i):
    return ([x for x in d["findings"] if x["id"] == i] + [None])[0]
print(eval(sys.argv[2]))
EOF
}

# ---- 1. ports held by orphaned FIN_WAIT2: the server never closes ----
td_netns_add C cli
td_netns_add S srv
VC=tac$$ VS=tas$$
ip link add "$VC" netns "$C" type veth peer name "$VS" netns "$S"
ip -n "$C" addr add 198.18.0.1/30 dev "$VC"
ip -n "$S" addr add 198.18.0.2/30 dev "$VS"
ip -n "$C" link set "$VC" up
ip -n "$S" link set "$VS" up
td_tw_exact "$C" "$S"
ip netns exec "$C" sysctl -qw net.ipv4.ip_local_port_range="40000 40099" net.ipv4.tcp_tw_reuse=1
ip netns exec "$S" "${CONN[@]}" serve 198.18.0.2 8080 hold >"$tmp/srv" 2>&1 &
td_bg_pid $!
td_wait_for "$tmp/srv" ready
ok $? "never-closing server ready"
is "$(ip netns exec "$C" "$STORM" client 198.18.0.2 8080 1000 15 client-closes)" \
	"ok=100 eaddrnotavail=1 other=0" "client: 100 connections closed first, then EADDRNOTAVAIL"
sleep 0.3 # the last ACKs of the FINs
"$TD_BIN" -N "$C" doctor --json --interval 0 >"$tmp/c.json"
is "$?" 2 "doctor on the client exits 2"
fw2_ss=$(ip netns exec "$C" ss -tanH state fin-wait-2 | wc -l)
is "$fw2_ss" 100 "ss: 100 FIN_WAIT2 on the client"
is "$(ip netns exec "$C" ss -tanH state time-wait | wc -l)" 0 "ss: no TIME_WAIT on the client"
is "$(jf "$tmp/c.json" 'f("port-exhaustion")["evidence"]["fin_wait2"], f("port-exhaustion")["evidence"]["time_wait"], f("port-exhaustion")["evidence"]["in_use"]')" \
	"($fw2_ss, 0, 100)" "port-exhaustion: the 100 ports are held by $fw2_ss FIN_WAIT2 (as ss), 0 TIME_WAIT"
t=$(jf "$tmp/c.json" 'f("port-exhaustion")["title"]')
like "$t" "exhausted: 100 of 100 in use \\(100 FIN_WAIT2\\); connect\\(\\) fails with EADDRNOTAVAIL" "title names FIN_WAIT2 as the holder"
c=$(jf "$tmp/c.json" 'f("port-exhaustion")["cause"]')
like "$c" "198.18.0.2:8080 acknowledged but never closed its side" "cause: the peer does not close"
like "$c" "tcp_fin_timeout \\(60 s here\\) and tcp_tw_reuse never takes one over" "cause: tcp_fin_timeout, not tw_reuse"
unlike() { if [[ $1 =~ $2 ]]; then ok 1 "$3"; else ok 0 "$3"; fi; }
unlike "$c" "closes/s|this host closed first" "cause does not blame TIME_WAIT"
r=$(jf "$tmp/c.json" '"\n".join(f("port-exhaustion")["remedies"])')
like "$r" "^Fix 198.18.0.2:8080: it does not close" "first remedy: fix the peer"
like "$r" "lower net.ipv4.tcp_fin_timeout \\(60 s here\\)" "remedy: tcp_fin_timeout"
unlike "$r" "tw_reuse already applies|SO_LINGER|Let the server close first" "no tw_reuse, SO_LINGER or server-close remedy"
range=$(grep -oE 'ip_local_port_range to "[0-9]+ [0-9]+"' <<<"$r" | grep -oE '[0-9]+ [0-9]+')
is "$range" "32768 65535" "the range proposed is 32768 65535"
printf 'net.ipv4.ip_local_port_range = %s\n' "$range" >"$tmp/range.conf"
lint=$("$TD_BIN" sysctl lint "$tmp/range.conf" 2>&1)
unlike "$lint" "warn|error|harmful" "tcpdoctor sysctl lint has nothing against the proposed range"
"$TD_BIN" -N "$C" doctor --no-color --interval 0 >"$tmp/c.txt"
unlike "$(cat "$tmp/c.txt")" "tcp_tw_reuse already applies" "text report: no tw_reuse claim"
p=$("$TD_BIN" -N "$C" ports)
like "$p" "Top destination: 100 of 100 ports held \\(100 FIN_WAIT2\\)\\." "ports: the top destination's holders"
like "$p" "FIN_WAIT2: closed here, not yet by the peer; tcp_tw_reuse never takes these over" "ports: FIN_WAIT2 is not reused"
unlike "$p" "takes over TIME_WAIT" "ports: no TIME_WAIT reuse line without TIME_WAIT"

# the server side: 100 CLOSE_WAIT the program never read EOF on (Recv-Q 1 each: the FIN)
is "$(ip netns exec "$S" ss -tanH state close-wait | awk '{print $1}' | sort | uniq -c | awk '{print $1, $2}')" \
	"100 1" "ss: 100 CLOSE_WAIT with Recv-Q 1"
"$TD_BIN" -N "$S" doctor --json --interval 0 >"$tmp/s.json"
is "$(jf "$tmp/s.json" '[f("close-wait-leak")["evidence"][k] for k in ("close_wait", "never_read_eof", "unread_data")]')" \
	"[100, 100, 0]" "close-wait-leak: 100 never read EOF, 0 bytes of data"
like "$(jf "$tmp/s.json" 'f("close-wait-leak")["cause"]')" "never read EOF on any of them" "cause: never read EOF"
txt=$("$TD_BIN" -N "$S" doctor --no-color --interval 0)
unlike "$txt" "unread 100" "text report: no 'unread 100 bytes'"
like "$txt" "never_read_eof 100" "text report: never_read_eof 100"

# ---- 2. CLOSE_WAIT with data unread, and with EOF read but no close() ----
td_netns_add W cwdata
cat >"$tmp/cw.py" <<'EOF'
import socket, sys, time
ls = socket.socket(); ls.bind(("127.0.0.1", 7300)); ls.listen(64)
held = []
for i in range(20):
    c = socket.create_connection(("127.0.0.1", 7300))
    s, _ = ls.accept()
    if i < 10:
        c.sendall(b"0123456789")     # 10 bytes of data, then FIN: never read
    c.close()
    if i >= 10:
        while s.recv(100):           # read to EOF, keep the socket
            pass
    held.append(s)
print("ready", flush=True)
time.sleep(60)
EOF
ip netns exec "$W" python3 "$tmp/cw.py" >"$tmp/cw.out" 2>&1 &
td_bg_pid $!
td_wait_for "$tmp/cw.out" ready
ok $? "CLOSE_WAIT with data ready"
sleep 0.2
read -r n_cw rq_sum rq_pos < <(ip netns exec "$W" ss -tanH state close-wait |
	awk '{n++; s+=$1; if ($1 > 0) p++} END {print n, s, p}')
is "$n_cw $rq_sum $rq_pos" "20 110 10" "ss: 20 CLOSE_WAIT, Recv-Q sums to 110 over 10 sockets (data and FIN)"
"$TD_BIN" -N "$W" doctor --json --interval 0 >"$tmp/w.json"
is "$(jf "$tmp/w.json" '[f("close-wait-leak")["evidence"][k] for k in ("close_wait", "never_read_eof", "unread_data")]')" \
	"[20, 10, $((rq_sum - rq_pos))]" "close-wait-leak: 10 never read EOF, 100 bytes of data (Recv-Q minus the FINs)"
like "$(jf "$tmp/w.json" 'f("close-wait-leak")["cause"]')" \
	"On 10 the program never read EOF; on 10 it read EOF .* 100 bytes of data wait unread" "cause tells EOF and data apart"

# ---- 3. tcp_fin_timeout=120: orphaned FIN_WAIT2 are full orphans for the first 60 s ----
td_netns_add F fin120
ip netns exec "$F" sysctl -qw net.ipv4.tcp_fin_timeout=120
ip netns exec "$F" "$FARM" --closewait 1000 --family 4 --hold 60 >"$tmp/f.out" 2>/dev/null &
td_bg_pid $!
td_wait_for "$tmp/f.out" ready 30
ok $? "1000 CLOSE_WAIT/FIN_WAIT2 pairs ready"
"$TD_BIN" -N "$F" doctor --json --interval 0 >"$tmp/f.json"
full_ss=$(ip netns exec "$F" ss -tanoH state fin-wait-2 | grep -c 'timer:(keepalive')
is "$full_ss" 1000 "ss: 1000 FIN_WAIT2 on the keepalive timer (full sockets)"
is "$(ip netns exec "$F" awk '/^TCP:/ {for (i = 2; i < NF; i += 2) if ($i == "tw") print $(i + 1)}' /proc/net/sockstat)" \
	0 "sockstat: tw 0 (they are not timewait sockets)"
is "$(jf "$tmp/f.json" '[f("fin-wait2-orphans")["evidence"][k] for k in ("fin_wait2_orphans", "full_orphans", "timewait_sockets", "tcp_fin_timeout")]')" \
	"[1000, $full_ss, 0, 120]" "fin-wait2-orphans: 1000, all full orphans as ss shows, fin timeout 120"
c=$(jf "$tmp/f.json" 'f("fin-wait2-orphans")["cause"]')
like "$c" "stays a full orphan socket for its first 60 s: sockstat orphan, counted against the host-wide tcp_max_orphans" \
	"cause: full orphans against tcp_max_orphans"
unlike "$c" "Each is kept as a timewait socket" "cause does not call them timewait sockets"

# ---- 4. SYNs dropped by a full accept queue: this namespace's SYN schedule ----
td_netns_add Q synq
ip netns exec "$Q" sysctl -qw net.ipv4.tcp_syn_retries=3
have_linear=0
ip netns exec "$Q" sysctl -qw net.ipv4.tcp_syn_linear_timeouts=2 2>/dev/null && have_linear=1
ip netns exec "$Q" "$FARM" --synrecv 2 --synsent 2 --family 4 --hold 60 >"$tmp/q.out" 2>/dev/null &
td_bg_pid $!
td_wait_for "$tmp/q.out" ready 30
ok $? "full accept queue with SYN_SENT clients ready"
"$TD_BIN" -N "$Q" doctor --json --interval 0 >"$tmp/q.json"
ovf=$(ip netns exec "$Q" awk '/^TcpExt:/ {if (!h) {for (i = 1; i <= NF; i++) n[i] = $i; h = 1} else for (i = 1; i <= NF; i++) if (n[i] == "ListenOverflows") print $i}' /proc/net/netstat)
ok "$([ "$ovf" -ge 2 ] && echo 0 || echo 1)" "ListenOverflows counted the dropped SYNs ($ovf)"
c=$(jf "$tmp/q.json" 'f("listen-overflows")["cause"]')
like "$c" "a new SYN \\(the client stays in SYN_SENT" "listen-overflows: dropped SYNs count too"
if [ "$have_linear" = 1 ]; then
	like "$c" "\\(tcp_syn_retries=3, tcp_syn_linear_timeouts=2\\) resends its SYN after 1, 2, 3, 5 and 9 s and connect\\(\\) fails after about 17 s" \
		"the schedule of this namespace's settings"
else
	like "$c" "\\(tcp_syn_retries=3, no linear timeouts before 6.5\\) resends its SYN after 1, 3, 7 s" \
		"the schedule of this namespace's settings (no tcp_syn_linear_timeouts)"
fi
unlike "$c" "1, 3, 7 s\\." "no fixed '1, 3, 7 s'"

# ---- 5. bind() before connect(): evidence for EADDRINUSE, and none without bind() ----
cat >"$tmp/bind.py" <<'EOF'
import errno, socket, sys, time
bind_first = sys.argv[1] == "bind"
ls = []
for p in range(7001, 7005):
    l = socket.socket(); l.bind(("127.0.0.1", p)); l.listen(128); ls.append(l)
held = []
for i in range(80):
    s = socket.socket()
    if bind_first:
        s.bind(("127.0.0.1", 0))
    s.connect(("127.0.0.1", 7001 + i % 4))
    held.append(s)
print("ready", flush=True)
sys.stdin.readline()               # then: bind until it fails
extra = []
while bind_first:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", 0))
    except OSError as e:
        print("bind failed after", len(extra), errno.errorcode[e.errno], flush=True)
        break
    extra.append(s)
time.sleep(60)
EOF
for mode in bind connect; do
	td_netns_add B "$mode"
	td_tw_exact "$B"
	ip netns exec "$B" sysctl -qw net.ipv4.ip_local_port_range="40000 40099"
	mkfifo "$tmp/in.$mode"
	ip netns exec "$B" python3 "$tmp/bind.py" "$mode" <"$tmp/in.$mode" >"$tmp/b.$mode" 2>&1 &
	td_bg_pid $!
	exec {fd}>"$tmp/in.$mode"
	td_wait_for "$tmp/b.$mode" ready
	ok $? "$mode: 80 connections to 4 listeners ready"
	"$TD_BIN" -N "$B" doctor --json --interval 0 >"$tmp/b.json"
	odd=$(ip netns exec "$B" ss -tanH state established '( dport >= :7001 and dport <= :7004 )' |
		awk '{split($3, a, ":"); if ((a[2] - 40000) % 2) n++} END {print n + 0}')
	if [ "$mode" = bind ]; then
		is "$odd" 50 "ss: bind(0) took the 50 ports of its parity first"
		is "$(jf "$tmp/b.json" '[f("ephemeral-range")[k] for k in ("severity",)] + [f("ephemeral-range")["evidence"][k] for k in ("ports_in_use", "bind_parity", "bound_before_connect")]')" \
			"['warning', 80, $odd, 50]" "ephemeral-range: warning, 80 ports, 50 bound before connect"
		like "$(jf "$tmp/b.json" 'f("ephemeral-range")["title"]')" "bind\\(addr, 0\\) fails with EADDRINUSE" "title: bind() fails"
		echo >&"$fd"
		td_wait_for "$tmp/b.$mode" "bind failed"
		is "$(grep 'bind failed' "$tmp/b.$mode")" "bind failed after 20 EADDRINUSE" "and bind() does fail with EADDRINUSE after the other 20 ports"
	else
		is "$odd" 0 "ss: connect() alone kept to its own parity"
		is "$(jf "$tmp/b.json" 'f("ephemeral-range")')" "None" "no ephemeral-range finding: connect() shares ports"
		unlike "$(cat "$tmp/b.json")" "EADDRINUSE" "nothing claims EADDRINUSE"
	fi
	exec {fd}>&-
done
