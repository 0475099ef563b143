#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Namespaces: two private namespaces with different, known sockets on the same port numbers.
# `-N all states --json` must list each of them once, by name, with its exact census, and its
# top-level figures must be the sum of the namespaces it lists; `-N NAME` and
# `-N /proc/PID/ns/net` must each see only their own namespace's sockets. A third, anonymous
# namespace that only a process holds (no /run/netns name) must show up as "pid:PID".
# Hostile /run/netns entries: a stale one (an empty file, what `ip netns` leaves when the bind
# mount is gone) and a FIFO must be skipped with a note naming them, never fail -N all as a whole
# or hang it; a namespace whose name holds invalid UTF-8 and an escape sequence is listed with
# its name escaped (JSON parses, the terminal gets no control byte, promtool accepts the page).
. "$(dirname "$0")/../lib.sh"
. "$TD_ROOT/tests/helpers/farm.sh"
STALE=/run/netns/td-stale-$$
trap 'td_cleanup; farm_cleanup; rm -f "$STALE" "$STALE-fifo"' EXIT

td_require_netns "-N all over two private namespaces"
td_require python3 python3 || exit 1
TD_TMP=$(mktemp -d)
trap 'td_cleanup; farm_cleanup; rm -f "$STALE" "$STALE-fifo"; rm -rf "$TD_TMP"' EXIT
if ! td_netns_add A nsa || ! td_netns_add B nsb; then
	skip "-N all over two private namespaces" "cannot create network namespaces"
	exit 0
fi

# A: IPv4 only, 2 pairs and 3 listeners. B: both families, the other states.
farm_start "$A" PA JA --family 4 --estab 2 --listen 3
ok $? "sockfarm in $A ready"
farm_start "$B" PB JB --family both --timewait 3 --closewait 1 --synrecv 2 --listen 1
ok $? "sockfarm in $B ready"
farm_start - PC JC --family 6 --closewait 2 --listen 1
ok $? "sockfarm in an anonymous namespace ready"
EA=$(census_line 4 0 0 0 0 0 0 0 0 3 0)
EC=$(census_line 0 0 0 0 2 0 0 2 0 1 0)
EA4=$EA
EA6=$(census_line 0 0 0 0 0 0 0 0 0 0 0)
# per family: 3N+2 = 8 ESTABLISHED and 2 SYN_RECV from --synrecv 2, 1 + 1 LISTEN
EB4=$(census_line 8 0 2 0 1 3 0 1 0 2 0)
EB=$(census_line 16 0 4 0 2 6 0 2 0 4 0)
# Every census is taken now, at once, and checked afterwards: TIME_WAIT and orphaned FIN_WAIT2
# last 60 s, and on a loaded machine the checks (one python3 each) can take longer than that.
for src in auto procfs; do
	"$TD_BIN" -N all --source "$src" states --json >"$TD_TMP/all-$src.json" 2>/dev/null
	echo $? >"$TD_TMP/all-$src.rc"
done
capture_one() { # spec
	local f=$TD_TMP/one-${1//\//_}
	"$TD_BIN" -N "$1" states --json >"$f.json" 2>&1
	echo $? >"$f.rc"
}
for spec in "$A" "$B" "/proc/$PB/ns/net" "/proc/$PA/ns/net" "/proc/$PC/ns/net"; do
	capture_one "$spec"
done
is "$(census_of "" <<<"${JA:-{\}}")" "$EA" "sockfarm built what this test expects in $A"
is "$(census_of "" <<<"${JB:-{\}}")" "$EB" "sockfarm built what this test expects in $B"
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
	is "$(cat "$TD_TMP/all-$src.rc")" 0 "-N all --source $src states exits 0"
	out=$(cat "$TD_TMP/all-$src.json")
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

one_ns() { # label, spec, expected: checks what capture_one saved for spec
	local out f=$TD_TMP/one-${2//\//_}
	is "$(cat "$f.rc")" 0 "$1: exits 0"
	out=$(cat "$f.json")
	out=${out:-{\}}
	is "$(census_of "" <<<"$out")" "$3" "$1: only its own sockets"
	is "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)["netns"]))' <<<"$out" \
		2>&1)" 1 "$1: one netns entry"
}
one_ns "-N $A" "$A" "$EA"
one_ns "-N $B" "$B" "$EB"
one_ns "-N /proc/$PB/ns/net (sockfarm in $B)" "/proc/$PB/ns/net" "$EB"
one_ns "-N /proc/$PA/ns/net (sockfarm in $A)" "/proc/$PA/ns/net" "$EA"
one_ns "-N /proc/$PC/ns/net (anonymous)" "/proc/$PC/ns/net" "$EC"

# --- hostile /run/netns entries (only ones this test made, by its pid) ---
: >"$STALE"
mkfifo "$STALE-fifo"
timeout 120 "$TD_BIN" -N all states --json >"$TD_TMP/stale.out" 2>"$TD_TMP/stale.err"
is "$?" 0 "-N all with a stale entry and a FIFO in /run/netns exits 0 (124: it hung)"
err=$(cat "$TD_TMP/stale.err")
like "$err" "note: skipped .*'td-stale-$$'.* in /run/netns: not a network namespace" \
	"the note names the stale entry"
like "$err" "'td-stale-$$-fifo'" "and the FIFO"
out=$(cat "$TD_TMP/stale.out")
is "$(census_of "netns:$A" <<<"${out:-{\}}")" "$EA" "-N all with stale entries: $A still exact"
# B's TIME_WAIT and FIN_WAIT2 may have expired by now (60 s): its listeners are fixed
like "$(census_of "netns:$B" <<<"${out:-{\}}")" "LISTEN=4 " "-N all with stale entries: $B still listed"
is "$(python3 -c 'import json,sys; print(sorted(n["name"] for n in json.load(sys.stdin)["netns"] if n["name"].startswith("td-stale-")))' <<<"${out:-{\}}" 2>&1)" \
	"[]" "the stale entries are not listed as namespaces"
timeout 60 "$TD_BIN" -N "td-stale-$$" states >/dev/null 2>"$TD_TMP/stale.err"
is "$?" 1 "-N of the stale entry alone exits 1"
like "$(cat "$TD_TMP/stale.err")" "'td-stale-$$' is not a network namespace file" "and says why"
rm -f "$STALE" "$STALE-fifo"

# --- a namespace named with invalid UTF-8 and an escape sequence ---
if td_netns_add H $'\xff\x1b[31mred'; then
	shown="td-\\xff\\x1b[31mred-$$"
	timeout 120 "$TD_BIN" -N all states --json >"$TD_TMP/h.json" 2>"$TD_TMP/h.err"
	is "$?" 0 "-N all with a hostile namespace name exits 0"
	is "$(python3 -c 'import json,sys; print(",".join(n["name"] for n in json.load(sys.stdin)["netns"] if "red-" in n["name"]))' <"$TD_TMP/h.json" 2>&1)" \
		"$shown" "states --json lists it once, escaped"
	timeout 120 "$TD_BIN" -N all states >"$TD_TMP/h.txt" 2>>"$TD_TMP/h.err"
	like "$(grep -a 'red-' "$TD_TMP/h.txt")" "^Network namespace td-\\\\xff\\\\x1b\\[31mred-$$ " \
		"the table shows the escaped name"
	ok "$(LC_ALL=C grep -caP '[\x00-\x09\x0b-\x1f\x7f]' "$TD_TMP/h.txt" "$TD_TMP/h.err" | awk -F: '{s += $NF} END {print s + 0}')" \
		"no control byte reaches the terminal"
	timeout 120 "$TD_BIN" -N "$H" sockets --json >/dev/null 2>&1
	is "$?" 0 "-N with the raw name opens it"
	if command -v promtool >/dev/null; then
		timeout 120 "$TD_BIN" -N all serve --textfile "$TD_TMP/h.prom" 2>/dev/null
		lint=$(promtool check metrics <"$TD_TMP/h.prom" 2>&1)
		is "$?:$lint" "0:" "-N all serve --textfile: promtool accepts the page"
		like "$(grep -a -m1 "^tcpdoctor_sockets{netns=\"td-\\\\\\\\xff" "$TD_TMP/h.prom")" 'red-' \
			"the label value is the escaped name"
	fi
else
	skip "a hostile namespace name" "ip netns add refused it"
fi

out=$(ip netns exec "$A" "$TD_BIN" states --json 2>&1)
is "$(census_of "" <<<"${out:-{\}}")" "$EA" "inside $A without -N: only $A"
echo "1..$_tap_n"
