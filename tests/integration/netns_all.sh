#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Namespaces: two private namespaces with different, known sockets on the same port numbers.
# `-N all states --json` must list each of them once, by name, with its exact census, and its
# top-level figures must be the sum of the namespaces it lists; `-N NAME` and
# `-N /proc/PID/ns/net` must each see only their own namespace's sockets. A third, anonymous
# namespace that only a process holds (no /run/netns name) must show up as "pid:PID".
. "$(dirname "$0")/../lib.sh"
. "$TD_ROOT/tests/helpers/farm.sh"
trap 'td_cleanup; farm_cleanup' EXIT

td_require_netns "-N all over two private namespaces"
if ! command -v python3 >/dev/null; then
	skip "-N all over two private namespaces" "needs python3 to read JSON"
	exit 0
fi
if ! td_netns_add A nsa || ! td_netns_add B nsb; then
	skip "-N all over two private namespaces" "cannot create network namespaces"
	exit 0
fi

# A: IPv4 only, 2 pairs and 3 listeners. B: both families, the other states.
# TIME_WAIT and FIN_WAIT2 last 60 s: fresh rebuilds all three (same names; the anonymous one
# anew, PC is then its new holder) once they are 30 s old, as a loaded machine may need longer.
build() {
	farm_start "$A" PA JA --family 4 --estab 2 --listen 3 &&
		farm_start "$B" PB JB --family both --timewait 3 --closewait 1 --synrecv 2 --listen 1 &&
		farm_start - PC JC --family 6 --closewait 2 --listen 1
}
fresh() { farm_fresh 30 build "$A" "$B" || ok 1 "fixtures rebuilt"; }
farm_fresh 30 build "$A" "$B"
ok $? "sockfarms in $A, $B and an anonymous namespace ready"
EA=$(census_line 4 0 0 0 0 0 0 0 0 3 0)
EC=$(census_line 0 0 0 0 2 0 0 2 0 1 0)
EA4=$EA
EA6=$(census_line 0 0 0 0 0 0 0 0 0 0 0)
# per family: 3N+2 = 8 ESTABLISHED and 2 SYN_RECV from --synrecv 2, 1 + 1 LISTEN
EB4=$(census_line 8 0 2 0 1 3 0 1 0 2 0)
EB=$(census_line 16 0 4 0 2 6 0 2 0 4 0)
is "$(census_of "" <<<"${JA:-{\}}")" "$EA" "sockfarm built what this test expects in $A"
is "$(census_of "" <<<"${JB:-{\}}")" "$EB" "sockfarm built what this test expects in $B"
fresh
is "$(ss_census "$A")" "$EA" "ss agrees in $A"
is "$(ss_census "$B")" "$EB" "ss agrees in $B"

# Top level = sum of the listed namespaces, per state and family; each name listed once.
sum_check() {
	python3 -c '
import json, sys
d = json.load(sys.stdin)
ns = d.get("netns") or []
bad = []
for fam in (None, "ipv4", "ipv6"):
    top = d if fam is None else d[fam]
    for s, v in top["states"].items():
        tot = sum((n if fam is None else n[fam])["states"][s] for n in ns)
        if tot != v:
            bad.append("%s/%s top %d sum %d" % (fam or "all", s, v, tot))
    if top["total"] != sum((n if fam is None else n[fam])["total"] for n in ns):
        bad.append("%s/total" % (fam or "all"))
names = [n["name"] for n in ns]
dups = sorted(set(x for x in names if names.count(x) > 1))
print("%d namespaces; mismatches: %s; duplicates: %s" % (len(ns), bad or "none", dups or "none"))
'
}

for src in auto procfs; do
	fresh
	out=$("$TD_BIN" -N all --source "$src" states --json 2>/dev/null)
	is "$?" 0 "-N all --source $src states exits 0"
	out=${out:-{\}}
	is "$(census_of "netns:$A" <<<"$out")" "$EA" "-N all --source $src: $A exact"
	is "$(census_of "netns:$A/ipv4" <<<"$out")" "$EA4" "-N all --source $src: $A IPv4"
	is "$(census_of "netns:$A/ipv6" <<<"$out")" "$EA6" "-N all --source $src: $A IPv6"
	is "$(census_of "netns:$B" <<<"$out")" "$EB" "-N all --source $src: $B exact"
	is "$(census_of "netns:$B/ipv4" <<<"$out")" "$EB4" "-N all --source $src: $B IPv4"
	is "$(census_of "netns:$B/ipv6" <<<"$out")" "$EB4" "-N all --source $src: $B IPv6"
	is "$(census_of "netns:pid:$PC" <<<"$out")" "$EC" "-N all --source $src: pid:$PC exact"
	like "$(sum_check <<<"$out")" '^[0-9]+ namespaces; mismatches: none; duplicates: none$' \
		"-N all --source $src: top level is the sum, no namespace twice"
done

one_ns() { # label, spec, expected
	local out
	out=$("$TD_BIN" -N "$2" states --json 2>&1)
	is "$?" 0 "$1: exits 0"
	out=${out:-{\}}
	is "$(census_of "" <<<"$out")" "$3" "$1: only its own sockets"
	is "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)["netns"]))' <<<"$out" \
		2>&1)" 1 "$1: one netns entry"
}
fresh
one_ns "-N $A" "$A" "$EA"
fresh
one_ns "-N $B" "$B" "$EB"
fresh
one_ns "-N /proc/$PB/ns/net (sockfarm in $B)" "/proc/$PB/ns/net" "$EB"
fresh
one_ns "-N /proc/$PA/ns/net (sockfarm in $A)" "/proc/$PA/ns/net" "$EA"
fresh
one_ns "-N /proc/$PC/ns/net (anonymous)" "/proc/$PC/ns/net" "$EC"

fresh
out=$(ip netns exec "$A" "$TD_BIN" states --json 2>&1)
is "$(census_of "" <<<"${out:-{\}}")" "$EA" "inside $A without -N: only $A"
echo "1..$_tap_n"
