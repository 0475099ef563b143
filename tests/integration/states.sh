#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `states --json` against a namespace whose every socket is known: sockfarm builds different
# counts over IPv4 and IPv6 (so a family mix-up shows), in every state it can make: ESTABLISHED,
# SYN_SENT, SYN_RECV (request sockets of a listener whose accept queue is full), FIN_WAIT2
# (orphans kept as timewait sockets), TIME_WAIT, CLOSE_WAIT, LISTEN. The census must match
# exactly per state and per family with each source (auto, netlink, procfs), from inside the
# namespace and with -N, agree with `ss -tan` counted per state, and come back identical from a
# recorded dump replayed by an unprivileged user. Each group of checks runs within TIME_WAIT's
# 60 s (the fixture is rebuilt when it gets old).
. "$(dirname "$0")/../lib.sh"
. "$TD_ROOT/tests/helpers/farm.sh"
tmp=
trap 'td_cleanup; farm_cleanup; [ -n "$tmp" ] && rm -rf "$tmp"' EXIT

td_require_netns "states in a private namespace"
td_require python3 python3 || exit 1
if ! td_netns_add NS states; then
	skip "states in a private namespace" "cannot create a network namespace"
	exit 0
fi
td_tw_exact "$NS" # no RST may end a TIME_WAIT early (see td_tw_exact)
tmp=$(mktemp -d)
chmod 755 "$tmp"

# farm_expect ESTAB TIMEWAIT CLOSEWAIT LISTEN SYNRECV SYNSENT: what one sockfarm family yields
# (see sockfarm.c's header): pairs give 2 ESTABLISHED, a TIME_WAIT, or CLOSE_WAIT + FIN_WAIT2;
# --synrecv N gives 1 LISTEN, N SYN_RECV and 3N+2 ESTABLISHED.
farm_expect() {
	local e=$1 t=$2 c=$3 l=$4 r=$5 s=$6 re=0 rl=0
	[ "$r" -gt 0 ] && re=$((3 * r + 2)) rl=1
	census_line $((2 * e + re)) "$s" "$r" 0 "$c" "$t" 0 "$c" 0 $((l + rl)) 0
}
E4=$(farm_expect 3 4 2 5 3 1)
E6=$(farm_expect 2 1 3 4 1 2)
EALL=$(census_line 26 3 4 0 5 5 0 5 0 11 0)

# The TIME_WAIT and FIN_WAIT2 sockets last 60 s: fresh rebuilds the fixture (same namespace
# name) before a group of checks once it is 30 s old, as a loaded machine may need longer.
build() {
	farm_start "$NS" P4 J4 --family 4 --port 20000 --estab 3 --timewait 4 --closewait 2 \
		--listen 5 --synrecv 3 --synsent 1 &&
		farm_start "$NS" P6 J6 --family 6 --port 21000 --estab 2 --timewait 1 --closewait 3 \
			--listen 4 --synrecv 1 --synsent 2
}
fresh() { farm_fresh 30 build "$NS" || ok 1 "fixture rebuilt in $NS"; }
farm_fresh 30 build "$NS"
ok $? "sockfarm IPv4 and IPv6 ready"
is "$(census_of ipv4 <<<"${J4:-{\}}")" "$E4" "sockfarm reports the IPv4 counts this test expects"
is "$(census_of ipv6 <<<"${J6:-{\}}")" "$E6" "sockfarm reports the IPv6 counts this test expects"

# The oracle first: if ss disagrees, the fixture is wrong, not tcpdoctor.
fresh
is "$(ss_census "$NS")" "$EALL" "ss -tan agrees with the fixture"
is "$(ss_census "$NS" -4)" "$E4" "ss -tan -4 agrees"
is "$(ss_census "$NS" -6)" "$E6" "ss -tan -6 agrees"

check_census() { # label, json
	is "$(census_of "" <<<"$2")" "$EALL" "$1: all families"
	is "$(census_of ipv4 <<<"$2")" "$E4" "$1: IPv4"
	is "$(census_of ipv6 <<<"$2")" "$E6" "$1: IPv6"
	is "$(python3 -c 'import json,sys; print(json.load(sys.stdin).get("interrupted"))' \
		<<<"$2" 2>&1)" False "$1: not interrupted"
}

for src in auto netlink procfs; do
	fresh
	out=$(ip netns exec "$NS" "$TD_BIN" --source "$src" states --json 2>"$tmp/err")
	is "$?" 0 "states --source $src exits 0"
	is "$(cat "$tmp/err")" "" "states --source $src: nothing on stderr"
	check_census "states --source $src" "${out:-{\}}"
	want=$src
	[ "$src" = auto ] && want=netlink # a small namespace: the dump is quicker than loading BPF
	is "$(python3 -c 'import json,sys; print(json.load(sys.stdin).get("source"))' <<<"${out:-{\}}" 2>&1)" "$want" \
		"states --source $src: counted by $want"
done

# TD_BPF=1: the census iterator counts whatever the size (by itself from 50,000 TCP sockets on):
# the same numbers as the dump. Needs a kernel with BTF; make check installs the BPF toolchain.
if [ -r /sys/kernel/btf/vmlinux ]; then
	fresh
	out=$(TD_BPF=1 ip netns exec "$NS" "$TD_BIN" states --json 2>"$tmp/err")
	is "$?" 0 "TD_BPF=1 states exits 0"
	check_census "TD_BPF=1 states" "${out:-{\}}"
	is "$(python3 -c 'import json,sys; print(json.load(sys.stdin).get("source"))' <<<"${out:-{\}}" 2>&1)" bpf \
		"TD_BPF=1 states: counted by the BPF census iterator"
	fresh
	out=$(TD_BPF=1 "$TD_BIN" -N "$NS" states --json 2>"$tmp/err")
	check_census "TD_BPF=1 -N $NS states" "${out:-{\}}"
fi

fresh
out=$("$TD_BIN" -N "$NS" states --json 2>"$tmp/err")
is "$?" 0 "-N $NS states exits 0 from the host namespace"
check_census "-N $NS states" "${out:-{\}}"
is "$(census_of "netns:$NS" <<<"${out:-{\}}")" "$EALL" "-N $NS: the netns entry carries the name"

fresh
out=$(ip netns exec "$NS" "$TD_BIN" states -4 --json 2>&1)
is "$(census_of "" <<<"${out:-{\}}")" "$E4" "states -4 counts only IPv4"
out=$(ip netns exec "$NS" "$TD_BIN" states -6 --json 2>&1)
is "$(census_of "" <<<"${out:-{\}}")" "$E6" "states -6 counts only IPv6"

# Record in the namespace (both kernel sources), replay as nobody: the same numbers, no root.
cp "$TD_BIN" "$tmp/tcpdoctor"
chmod 755 "$tmp/tcpdoctor"
for src in netlink procfs; do
	fresh
	ip netns exec "$NS" "$TD_BIN" --source "$src" sockets --record "$tmp/rec-$src" >/dev/null \
		2>"$tmp/err"
	is "$?" 0 "sockets --record with --source $src exits 0"
	chmod 644 "$tmp/rec-$src"
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$tmp/tcpdoctor" --replay "$tmp/rec-$src" states --json 2>"$tmp/err")
	is "$?" 0 "replay of the $src record as uid 65534 exits 0"
	check_census "replay of the $src record as uid 65534" "${out:-{\}}"
done

# The fixture is intact at the end (within its 30 s).
fresh
is "$(ss_census "$NS")" "$EALL" "ss -tan still agrees at the end"
echo "1..$_tap_n"
