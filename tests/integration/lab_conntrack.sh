#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The seed's incident as conntrack makes it (tcp-facts#conntrack): in a namespace of our own whose
# ruleset tracks connections, ctfill fills the table with ASSURED UDP flows (which early_drop()
# never evicts) up to nf_conntrack_max, the host's limit, which the namespace's own count may
# reach. Then, measured: a new TCP connect, an ICMP echo and a UDP "DNS" query fail while a
# connection established before keeps working; the kernel's drop statistic rises (and
# early_drop does not: nothing is evictable); tcpdoctor shows the table at 100 %. Remedies:
# (a) a notrack rule for the flow makes new connects work in the full table; (b) after a flush,
# a shorter nf_conntrack_tcp_timeout_time_wait in the namespace frees the TIME_WAIT entries of
# short connections within seconds while those closed under the default 120 s stay.
# Then `tcpdoctor lab conntrack-full` (the same in namespaces of its own), its JSON asserted.
# Everything happens inside the namespaces (loopback only); they are deleted on exit.
. "$(dirname "$0")/../lib.sh"

td_require_netns "conntrack lab in a private namespace"
td_require nft nftables || exit 1
td_require conntrack conntrack || exit 1
td_require python3 python3 || exit 1
FILL=$TD_HELPERS/ctfill
td_netns_add NS ctlab || exit 1
tmp=$(mktemp -d)
trap 'td_cleanup; rm -rf "$tmp"' EXIT

ip netns exec "$NS" nft -f - <<'EOF'
table inet tdlab {
	chain out { type filter hook output priority 0; ct state new counter; }
	chain in {
		type filter hook input priority 0;
		ip saddr 127.0.0.2-127.0.0.254 meta l4proto udp drop
		ip daddr 127.0.0.2-127.0.0.254 meta l4proto udp drop
	}
}
EOF
max=$(ip netns exec "$NS" cat /proc/sys/net/netfilter/nf_conntrack_max)
[ -n "$max" ] && [ "$max" -gt 0 ] || { ok 1 "nf_conntrack_max readable"; echo "1..$_tap_n"; exit 1; }

# The actor: servers for the probes, one connection established before the fill, and a probe
# command per line on stdin ("probe" prints one line of results).
cat >"$tmp/actor.py" <<'EOF'
import os, select, socket, struct, sys, time
def srv(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port)); s.listen(256); return s
old_l = srv(7000); new_l = srv(7001)
dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); dns.bind(("127.0.0.1", 53))
old = socket.create_connection(("127.0.0.1", 7000)); old_a, _ = old_l.accept()
def tcp_new():
    c = socket.socket(); c.setblocking(False)
    try: c.connect(("127.0.0.1", 7001))
    except BlockingIOError: pass
    _, w, _ = select.select([], [c], [], 1.5)
    ok = bool(w) and c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
    if ok:
        a, _ = new_l.accept(); a.close()
    c.close(); return ok
def tcp_old():
    old.send(b"x"); r, _, _ = select.select([old_a], [], [], 1.5)
    if not r: return False
    old_a.recv(1); old_a.send(b"y"); r, _, _ = select.select([old], [], [], 1.5)
    return bool(r) and old.recv(1) == b"y"
def udp_dns():
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.sendto(b"\x12\x34query", ("127.0.0.1", 53))
    r, _, _ = select.select([dns], [], [], 1.5); c.close()
    if r: dns.recvfrom(100)
    return bool(r)
def icmp_echo():
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    body = struct.pack("!BBHHH", 8, 0, 0, 0x4242, 1) + b"tdlab!"
    c = sum(struct.unpack("!%dH" % (len(body) // 2), body))
    c = (c >> 16) + (c & 0xffff); c = ~(c + (c >> 16)) & 0xffff
    body = body[:2] + struct.pack("!H", c) + body[4:]
    s.sendto(body, ("127.0.0.1", 0)); end = time.time() + 1.5
    while time.time() < end:
        r, _, _ = select.select([s], [], [], end - time.time())
        if not r: break
        d = s.recv(200)
        if d[20] == 0 and d[24:26] == b"\x42\x42": s.close(); return True
    s.close(); return False
def short(port, n):
    l = srv(port)
    for i in range(n):
        c = socket.create_connection(("127.0.0.1", port)); a, _ = l.accept()
        c.close(); a.recv(1); a.close()
    l.close()
print("ready", flush=True)
for line in sys.stdin:
    cmd = line.split()
    if cmd[0] == "probe":
        res = []
        for f in (tcp_new, tcp_old, udp_dns, icmp_echo):
            try: res.append(int(f()))
            except OSError: res.append(0)  # EPERM: dropped at OUTPUT
        print("tcp_new=%d tcp_old=%d udp_dns=%d icmp=%d" % tuple(res), flush=True)
    elif cmd[0] == "short":
        short(int(cmd[1]), int(cmd[2])); print("done", flush=True)
    elif cmd[0] == "quit":
        break
EOF
mkfifo "$tmp/in"
ip netns exec "$NS" timeout 300 python3 "$tmp/actor.py" <"$tmp/in" >"$tmp/out" 2>&1 &
td_bg_pid $!
exec 7>"$tmp/in"
td_wait_for "$tmp/out" '^ready' 30 || { ok 1 "actor ready"; cat "$tmp/out"; echo "1..$_tap_n"; exit 1; }
# ask: send a command, wait for the next line of output
nlines() { wc -l <"$tmp/out"; }
ask() {
	local n; n=$(nlines)
	echo "$1" >&7
	for _ in $(seq 200); do [ "$(nlines)" -gt "$n" ] && break; sleep 0.05; done
	tail -n 1 "$tmp/out"
}
stat_sum() { ip netns exec "$NS" conntrack -S | awk -v k="$1" '{ for (i = 1; i <= NF; i++) { split($i, f, "="); if (f[1] == k) s += f[2] } } END { print s + 0 }'; }

is "$(ask probe)" "tcp_new=1 tcp_old=1 udp_dns=1 icmp=1" "before the fill: every kind of flow works"
# The probes' own entries are not ASSURED and early_drop() could evict them to make room: remove
# them, so the table holds only the established connection and ASSURED fill flows.
for d in "-p udp --dport 53" "-p icmp" "-p tcp --dport 7001"; do
	# shellcheck disable=SC2086
	ip netns exec "$NS" conntrack -D $d >/dev/null 2>&1
done
have=$(ip netns exec "$NS" cat /proc/sys/net/netfilter/nf_conntrack_count)
is "$have" 1 "before the fill: one entry, the established connection"
drop0=$(stat_sum drop)
early0=$(stat_sum early_drop)
insf0=$(stat_sum insert_failed)
fill=$(ip netns exec "$NS" "$FILL" "$((max - have))" --assured)
ok $? "ctfill: $fill"
echo "# $fill (nf_conntrack_max $max)"
is "$(ip netns exec "$NS" cat /proc/sys/net/netfilter/nf_conntrack_count)" "$max" \
	"the namespace's count reached the host's nf_conntrack_max"
is "$(ask probe)" "tcp_new=0 tcp_old=1 udp_dns=0 icmp=0" \
	"table full: new TCP connect, ICMP echo and UDP DNS fail; the established connection works"
drop1=$(stat_sum drop)
echo "# drop $drop0 -> $drop1, early_drop $early0 -> $(stat_sum early_drop)"
[ "$((drop1 - drop0))" -ge 3 ]
ok $? "the kernel's drop statistic rose by at least 3 (one per failed flow): $((drop1 - drop0))"
is "$(stat_sum early_drop) $(stat_sum insert_failed)" "$early0 $insf0" \
	"early_drop did not move (ASSURED entries are never evicted), nor insert_failed (no race)"
j=$("$TD_BIN" -N "$NS" conntrack --json --by dport --limit 3)
is "$(jq -r '"\(.netns[0].count) \(.netns[0].max) \(.netns[0].usage) \(.netns[0].dumped)"' <<<"$j")" \
	"$max $max 100 $max" "tcpdoctor: count = max, usage 100 %, every entry dumped"
# a few fill flows may miss ASSURED (their third packet within 2 s of the first, by jiffies);
# tcpdoctor must agree with conntrack -L on how many are, with the table as it is
is "$(jq '.netns[0].assured' <<<"$j")" "$(ip netns exec "$NS" conntrack -L 2>/dev/null | grep -c ASSURED)" \
	"tcpdoctor's assured count agrees with conntrack -L"
[ "$(jq '.netns[0].stats.drop' <<<"$j")" -ge "$drop1" ]
ok $? "tcpdoctor's drop agrees with conntrack -S"

# remedy (a): do not track the flow that needs no tracking
ip netns exec "$NS" nft -f - <<'EOF'
table inet tdraw {
	chain out { type filter hook output priority raw; tcp dport 7001 notrack; tcp sport 7001 notrack; }
	chain pre { type filter hook prerouting priority raw; tcp dport 7001 notrack; tcp sport 7001 notrack; }
}
EOF
is "$(ask probe)" "tcp_new=1 tcp_old=1 udp_dns=0 icmp=0" \
	"remedy notrack: new connects to the untracked port work in the full table, the rest still fails"

# remedy (b): after a flush, short connections under the default and a 2 s conntrack TIME_WAIT
ip netns exec "$NS" conntrack -F 2>/dev/null
is "$(ask 'short 7100 50')" done "50 short connections under the default timeout"
ip netns exec "$NS" sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_time_wait=2
is "$(ask 'short 7200 50')" done "50 short connections with nf_conntrack_tcp_timeout_time_wait=2"
tw() { ip netns exec "$NS" conntrack -L -p tcp --dport "$1" 2>/dev/null | grep -c TIME_WAIT; }
is "$(tw 7100) $(tw 7200)" "50 50" "right after: 50 TIME_WAIT entries each"
sleep 3.5
is "$(tw 7100) $(tw 7200)" "50 0" "3.5 s later: the 2 s ones are gone, the default ones (120 s) stay"
j=$("$TD_BIN" -N "$NS" conntrack --json --by dport --limit 100)
is "$(jq -r '[.netns[0].groups[] | select(.key == "tcp/7100" or .key == "tcp/7200") | "\(.key)=\(.time_wait)"] | join(" ")' <<<"$j")" \
	"tcp/7100=50" "tcpdoctor agrees: TIME_WAIT entries only for the default-timeout port"
is "$(cat /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_time_wait)" 120 "(the host's conntrack TIME_WAIT is untouched)"
echo quit >&7
exec 7>&-

# `tcpdoctor lab conntrack-full` does the same in namespaces of its own (src/lab/ct_full.c):
# exact numbers from its JSON. Each probe that fails sends one packet, so drop rises by
# exactly the failed probes; conntrack -C, polled inside its client namespace while it runs,
# must see the count it reports.
"$TD_BIN" --json lab conntrack-full --no-doctor >"$tmp/lab.json" 2>"$tmp/lab.err" &
lab=$!
td_bg_pid $lab
seen=0
for _ in $(seq 600); do
	kill -0 "$lab" 2>/dev/null || break
	c=$(ip netns exec "td-lab-c-$lab" conntrack -C 2>/dev/null) && [ "${c:-0}" -gt "$seen" ] && seen=$c
	sleep 0.05
done
wait "$lab"
is "$?" 0 "lab conntrack-full exits 0$(sed 's/^/; /' "$tmp/lab.err" | tr '\n' ' ')"
q() { jq -r ".conntrack_full | $1" "$tmp/lab.json"; }
is "$(q '"\(.max) \(.count_before) \(.fill.flows) \(.fill.refused)"')" "$max 1 $((max - 1)) 0" \
	"lab: max is the host's, one entry before the fill (the established connection), max - 1 flows"
is "$(q '"\(.count_full) \(.dumped) \(.assured)"')" "$max $max $max" \
	"lab: count = max, every entry dumped, every entry ASSURED"
is "$seen" "$max" "conntrack -C inside the lab's client namespace saw the same count"
is "$(q '[.probes.before[]] | map(tostring) | join(" ")')" "true true true true true" \
	"lab: before the fill every flow works"
is "$(q '.probes.full | "\(.tcp_connect) \(.tcp_inbound) \(.icmp_echo) \(.udp_dns) \(.tcp_established)"')" \
	"false false false false true" \
	"lab: table full: new TCP out and in, ICMP echo, UDP DNS fail; the established connection works"
is "$(q '"\(.delta.drop) \(.delta.early_drop) \(.delta.insert_failed)"')" "4 0 0" \
	"lab: drop +4 (one per failed probe), no early_drop, no insert_failed"
is "$(q '.probes.notrack | "\(.tcp_connect) \(.tcp_inbound) \(.icmp_echo) \(.udp_dns) \(.tcp_established)"')" \
	"true false false false true" "lab: with notrack for port 8080 only its new connects work"
is "$(q '"\(.notrack.succeeded)/\(.notrack.connects) \(.notrack.count_after) \(.stats.after_notrack.drop - .stats.after_probes.drop)"')" \
	"100/100 $max 3" "lab: 100/100 connects in the full table through notrack; drop +3 for the others"
is "$(q '[.time_wait.runs[] | "\(.timeout_s):\(.succeeded):\(.time_wait_now):\(.time_wait_later)"] | join(" ")')" \
	"120:100:100:100 2:100:100:0" \
	"lab: TIME_WAIT entries 3.5 s later: all under the default 120 s, none under 2 s"
is "$(ip netns list | grep -c "td-lab-[cs]-$lab")" 0 "lab: its namespaces are gone"
is "$(cat /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_time_wait)" 120 "(the host's conntrack TIME_WAIT is still untouched)"
echo "1..$_tap_n"
