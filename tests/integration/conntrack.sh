#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `conntrack` against namespaces whose tables the test fills itself: one where an nftables rule
# uses conntrack and a python actor makes 20 held TCP connections, 15 closed by the client first
# (conntrack TIME_WAIT: 120 s), 7 IPv4 and 3 IPv6 UDP flows nobody answers (UNREPLIED); and one
# with no ruleset (nothing tracked). Counts must be exact per protocol, TCP conntrack state and
# group, and agree with conntrack-tools (`conntrack -C`, `-L`, `-S`) read back to back with no
# traffic in between. UDP timeouts are raised inside the namespace so no entry expires mid-test.
. "$(dirname "$0")/../lib.sh"

td_require_netns "conntrack in a private namespace"
td_require nft nftables || exit 1
td_require conntrack conntrack || exit 1
td_require python3 python3 || exit 1
td_ct_netns NS ct || exit 1
td_netns_add BARE ctbare || exit 1
tmp=$(mktemp -d)
trap 'td_cleanup; rm -rf "$tmp"' EXIT

ip -n "$NS" addr add ::1/128 dev lo 2>/dev/null

cat >"$tmp/actor.py" <<EOF
import signal, socket, sys
sys.path.insert(0, "$TD_ROOT/tests/helpers")
from ctactor import listener, short, udp, serve
def more(*_):
    udp("127.0.0.1", 8000, 4)
    print("sent", flush=True)
signal.signal(signal.SIGUSR1, more)
srv = listener(5000)
held = []
for i in range(20):
    c = socket.create_connection(("127.0.0.1", 5000)); a, _ = srv.accept(); held += [c, a]
short(srv, 15)
udp("127.0.0.1", 6000, 7)
udp("::1", 7000, 3, socket.AF_INET6)
serve(float(sys.argv[1]))
EOF
td_ns_actor "$NS" "$tmp/actor.py" "$tmp/actor.out" 600 || exit 1
# all 15 closed connections in TIME_WAIT; then nothing moves until the actor exits
td_ct_settle "$NS" 15

json=$("$TD_BIN" -N "$NS" conntrack --json --by dport --limit 100)
ok $? "conntrack --json exits 0"
ct_c=$(ip netns exec "$NS" conntrack -C)
ct_l=$(ip netns exec "$NS" conntrack -L 2>/dev/null)
ct_s=$(ip netns exec "$NS" conntrack -S)
jq_() { python3 -c "import json,sys; d=json.load(sys.stdin)['netns'][0]; print($1)" <<<"$json"; }
is "$(jq_ 'd["count"]')" 45 "count: 20 + 15 TCP, 10 UDP"
is "$(jq_ 'd["count"]')" "$ct_c" "count equals conntrack -C"
is "$(jq_ 'd["dumped"]')" "$(grep -c . <<<"$ct_l")" "entries dumped equal conntrack -L's lines"
is "$(jq_ 'd["protocols"]')" "{'tcp': 35, 'udp': 10}" "by protocol"
is "$(jq_ 'd["tcp_states"]')" "{'ESTABLISHED': 20, 'TIME_WAIT': 15}" "TCP conntrack states"
is "$(jq_ 'd["tcp_states"]["TIME_WAIT"]')" "$(grep -c ' TIME_WAIT ' <<<"$ct_l")" \
	"TIME_WAIT agrees with conntrack -L"
is "$(jq_ 'd["unreplied"]')" 10 "10 UDP flows unreplied"
is "$(jq_ 'd["unreplied"]')" "$(grep -c UNREPLIED <<<"$ct_l")" "unreplied agrees with conntrack -L"
is "$(jq_ 'd["assured"]')" "$(grep -c ASSURED <<<"$ct_l")" "assured agrees with conntrack -L"
is "$(jq_ 'd["max"]')" "$(cat /proc/sys/net/netfilter/nf_conntrack_max)" "max is the host's limit"
is "$(jq_ 'd["timeouts"]["tcp_time_wait"]')" \
	"$(ip netns exec "$NS" cat /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_time_wait)" \
	"TIME_WAIT timeout read in the namespace"
is "$(jq_ 'd["timeouts"]["udp"]')" 600 "UDP timeout as set in the namespace"
is "$(jq_ '[(g["key"], g["entries"], g["time_wait"]) for g in d["groups"]][0]')" \
	"('tcp/5000', 35, 15)" "largest group: tcp/5000 with its 15 TIME_WAIT"
is "$(jq_ 'len(d["groups"])')" 11 "one group per destination port (1 TCP, 10 UDP)"
# stats: summed per CPU like conntrack -S, read with no traffic in between
sum_s() { awk -v k="$1" '{for(i=1;i<=NF;i++){split($i,a,"="); if(a[1]==k) s+=a[2]}} END{print s+0}' <<<"$ct_s"; }
for k in found invalid insert insert_failed drop early_drop error search_restart; do
	is "$(jq_ "d['stats']['$k']")" "$(sum_s "$k")" "stats.$k equals conntrack -S summed"
done

txt=$("$TD_BIN" -N "$NS" conntrack --by state)
like "$txt" "entries 45 of nf_conntrack_max" "text: entries against the limit"
like "$txt" "TIME_WAIT +15 +timeout [0-9]+ s" "text: TIME_WAIT with its timeout"
like "$txt" "tcp ESTABLISHED +20" "text: --by state groups"
like "$("$TD_BIN" -N "$NS" conntrack --by src)" "127\.0\.0\.1 +42" "--by src: 42 IPv4 entries"
like "$("$TD_BIN" -N "$NS" conntrack --by dst)" "::1 +3" "--by dst: 3 IPv6 entries"
like "$("$TD_BIN" -N "$NS" conntrack --by proto)" "tcp +35" "--by proto"
like "$("$TD_BIN" -N "$NS" conntrack --by zone)" "zone 0 +45" "--by zone"
is "$("$TD_BIN" -N "$NS" conntrack --limit 0 | grep -c 'largest groups')" 0 "--limit 0 shows no groups"

# from inside the namespace, without -N: the same numbers at top level
in=$(ip netns exec "$NS" "$TD_BIN" conntrack --json)
is "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["count"], d["tcp_states"])' <<<"$in")" \
	"45 {'ESTABLISHED': 20, 'TIME_WAIT': 15}" "inside the namespace: same census"

# a namespace where nothing uses conntrack: a clear state, exit 0
bare=$("$TD_BIN" -N "$BARE" conntrack)
ok $? "no ruleset: exit 0"
like "$bare" "no entries, and no conntrack activity" "no ruleset: said plainly"
is "$("$TD_BIN" -N "$BARE" conntrack --json | python3 -c 'import json,sys; d=json.load(sys.stdin)["netns"][0]; print(d["count"], d["present"], d["groups"])')" \
	"0 True []" "no ruleset: JSON count 0"

# -N all: both namespaces, each with its own count
all=$("$TD_BIN" -N all conntrack --json)
cnt() { python3 -c "import json,sys; print([n['count'] for n in json.load(sys.stdin)['netns'] if n['name']=='$1'])" <<<"$all"; }
is "$(cnt "$NS")" "[45]" "-N all: the tracked namespace"
is "$(cnt "$BARE")" "[0]" "-N all: the bare namespace"

# --interval: the statistics' change. The actor (already running) adds 4 UDP flows 2 s into a
# 4 s interval: after the first look, before the second.
td_poke_midway 2 USR1 "$tmp/iv" "$TD_BIN" -N "$NS" conntrack --json --interval 4
td_wait_for "$tmp/actor.out" '^sent' 10
is "$(python3 -c 'import json,sys; d=json.load(sys.stdin)["netns"][0]; print(d["count"], d["protocols"]["udp"], "stats_delta" in d)' <"$tmp/iv")" \
	"49 14 True" "--interval: 4 more UDP entries, and a stats_delta"

# errors
"$TD_BIN" conntrack --by nope >/dev/null 2>"$tmp/err"
is "$?" 2 "--by nope: usage error"
like "$(cat "$tmp/err")" "--by 'nope': expected src, dst, dport" "--by nope: names the value"
"$TD_BIN" conntrack --limit -1 >/dev/null 2>&1
is "$?" 2 "--limit -1: usage error"
"$TD_BIN" --replay "$TD_ROOT/tests/data/replay/mixed-netlink.tdrec" conntrack >/dev/null 2>"$tmp/err"
is "$?" 1 "--replay of a socket dump: refused"
like "$(cat "$tmp/err")" "mixed-netlink.tdrec: not a conntrack record .*chunk at offset 8" "--replay of a socket dump: says why"

# --record / --replay: the replay prints what the live run printed, text and JSON, with -N and
# with --interval (the stats of both passes are in the record); a damaged record names the file
# and the offset of the bad chunk; a socket replay refuses a conntrack record.
"$TD_BIN" -N "$NS" conntrack --by state --record "$tmp/ct.rec" >"$tmp/live.txt"
is "$?" 0 "--record: exit 0"
"$TD_BIN" --replay "$tmp/ct.rec" conntrack --by state >"$tmp/replay.txt"
is "$?" 0 "--replay: exit 0"
is "$(diff "$tmp/live.txt" "$tmp/replay.txt" && echo same)" same "--replay: the same text as the live run"
"$TD_BIN" -N "$NS" conntrack --json --limit 100 --record "$tmp/ctj.rec" >"$tmp/live.json"
"$TD_BIN" --replay "$tmp/ctj.rec" conntrack --json --limit 100 >"$tmp/replay.json"
is "$(diff "$tmp/live.json" "$tmp/replay.json" && echo same)" same "--replay: the same JSON as the live run"
is "$(jq ".netns[0].dumped" "$tmp/replay.json")" 49 "--replay: all 49 entries come back (45, and 4 from --interval)"
"$TD_BIN" -N "$NS" conntrack --interval 0.2 --record "$tmp/cti.rec" >"$tmp/live-i.txt"
"$TD_BIN" --replay "$tmp/cti.rec" conntrack >"$tmp/replay-i.txt"
is "$(diff "$tmp/live-i.txt" "$tmp/replay-i.txt" && echo same)" same "--replay with --interval: the same text"
like "$(cat "$tmp/replay-i.txt")" "change over the interval" "--replay: the interval's change is in the record"
"$TD_BIN" --replay "$tmp/ct.rec" conntrack --interval 1 >/dev/null 2>&1
is "$?" 2 "--replay with --interval: usage error"
head -c 3000 "$tmp/ct.rec" >"$tmp/trunc.rec"
"$TD_BIN" --replay "$tmp/trunc.rec" conntrack >/dev/null 2>"$tmp/err"
is "$?" 1 "truncated record: exit 1"
like "$(cat "$tmp/err")" "trunc\.rec: truncated or corrupt record at offset [0-9]+" "truncated record: file and offset named"
# the first dump chunk's first netlink length made impossible
off=$(python3 - "$tmp/ct.rec" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read(); o = 8
while o < len(d):
    t, l = struct.unpack("<II", d[o:o + 8])
    if t == 6 and d[o + 9] == 0:
        print(o); break
    o += 8 + l
PY
)
cp "$tmp/ct.rec" "$tmp/bad.rec"
printf '\377\377\377\177' | dd of="$tmp/bad.rec" bs=1 seek=$((off + 10)) conv=notrunc 2>/dev/null
"$TD_BIN" --replay "$tmp/bad.rec" conntrack >/dev/null 2>"$tmp/err"
is "$?" 1 "damaged dump chunk: exit 1"
is "$(cat "$tmp/err")" "tcpdoctor: conntrack: $tmp/bad.rec: corrupt ctnetlink dump data (chunk at offset $off)" \
	"damaged dump chunk: file and offset named"
"$TD_BIN" --replay "$tmp/ct.rec" sockets >/dev/null 2>"$tmp/err"
like "$(cat "$tmp/err")" "a conntrack record \(chunk at offset [0-9]+\): replay it with 'tcpdoctor --replay FILE conntrack'" \
	"sockets --replay of a conntrack record: says which command reads it"
if command -v setpriv >/dev/null; then
	ip netns exec "$NS" setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$TD_BIN" conntrack >"$tmp/out" 2>&1
	is "$?" 1 "unprivileged: exit 1"
	like "$(cat "$tmp/out")" "needs root: CAP_NET_ADMIN" "unprivileged: says what is missing"
	like "$(cat "$tmp/out")" "entries 4[59] of" "unprivileged: the count still shows"
fi
echo "1..$_tap_n"
