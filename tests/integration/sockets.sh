#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `sockets` filters against a namespace whose every socket is known. sockfarm runs as uid 65534
# and builds, per family: 2 pairs (port 20000), 3 TIME_WAIT (to 20016), 1 CLOSE_WAIT/FIN_WAIT2
# (20032), 2 listeners (20064-20065), and a full-accept-queue listener on 20048 with 1 SYN_RECV,
# 2 unaccepted children and 1 SYN_SENT client: 19 sockets per family. Each filter (states,
# the ss groups, ports, port ranges, addresses, prefixes, families, combinations) must give the
# exact number of rows, every row must satisfy the filter, and the rows (state, addresses,
# ports, queues) must equal what `ss -tan` prints for the same filter (without the state when
# ss leaves that column out, which it does for a single-state filter). Every --json line must
# parse and carry the contract's keys. Also the kernel-facts §14 details: timewait and request
# sockets have uid 0 and inode 0, full sockets carry the owner's uid.
. "$(dirname "$0")/../lib.sh"
. "$TD_ROOT/tests/helpers/farm.sh"
tmp=
trap 'td_cleanup; farm_cleanup; [ -n "$tmp" ] && rm -rf "$tmp"' EXIT

td_require_netns "sockets filters in a private namespace"
td_require python3 python3 || exit 1
if ! td_netns_add NS sockets; then
	skip "sockets filters in a private namespace" "cannot create a network namespace"
	exit 0
fi
td_tw_exact "$NS" # no RST may end a TIME_WAIT early (see td_tw_exact)
tmp=$(mktemp -d)
chmod 755 "$tmp"
# uid 65534 must be able to run the helper wherever the tree lives
cp "$TD_HELPERS/sockfarm" "$tmp/sockfarm"
chmod 755 "$tmp/sockfarm"
# The TIME_WAIT and FIN_WAIT2 sockets last 60 s: check rebuilds the fixture (same namespace
# name) once it is 30 s old, as a loaded machine may need longer for all the checks.
build() {
	TD_HELPERS=$tmp FARM_UID=65534 farm_start "$NS" PF JF --family both --port 20000 --estab 2 \
		--timewait 3 --closewait 1 --listen 2 --synrecv 1 --synsent 1
}
fresh() { farm_fresh 30 build "$NS" || ok 1 "fixture rebuilt in $NS"; }
farm_fresh 30 build "$NS"
ok $? "sockfarm (uid 65534) ready"
is "$(census_of "" <<<"${JF:-{\}}")" "$(census_line 18 2 2 0 2 6 0 2 0 6 0)" \
	"sockfarm built the 38 sockets this test expects"

# check LABEL COUNT PRED TD-ARGS -- SS-ARGS: runs `sockets --json TD-ARGS` in the namespace and
# `ss -tanH SS-ARGS`; asserts the row count, that every row satisfies the Python expression PRED
# over row r, and that both list the same rows.
check() {
	local label=$1 want=$2 pred=$3 td=() ss=()
	shift 3
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		td+=("$1")
		shift
	done
	shift
	ss=("$@")
	fresh
	ip netns exec "$NS" "$TD_BIN" sockets --json "${td[@]}" >"$tmp/td.json" 2>"$tmp/td.err"
	is "$?" 0 "$label: exits 0"
	is "$(cat "$tmp/td.err")" "" "$label: nothing on stderr"
	is "$(json_lines_count <"$tmp/td.json")" "$want" "$label: $want JSON lines"
	ip netns exec "$NS" ss -tanH "${ss[@]}" >"$tmp/ss.txt"
	is "$(python3 - "$tmp/td.json" "$tmp/ss.txt" "$pred" <<'EOF'
import json, sys
ssname = {"ESTAB": "ESTABLISHED", "SYN-SENT": "SYN_SENT", "SYN-RECV": "SYN_RECV",
          "FIN-WAIT-1": "FIN_WAIT1", "FIN-WAIT-2": "FIN_WAIT2", "TIME-WAIT": "TIME_WAIT",
          "UNCONN": "CLOSE", "CLOSE-WAIT": "CLOSE_WAIT", "LAST-ACK": "LAST_ACK",
          "LISTEN": "LISTEN", "CLOSING": "CLOSING"}
def ep(s):
    a, _, p = s.rpartition(":")
    return a.strip("[]"), 0 if p == "*" else int(p)
rows = [json.loads(l) for l in open(sys.argv[1])]
bad = [r for r in rows if not eval(sys.argv[3], {}, {"r": r})]
td = sorted((r["state"], r["src"], r["sport"], r["dst"], r["dport"], r["rqueue"], r["wqueue"])
            for r in rows)
ss = []
for l in open(sys.argv[2]):
    f = l.split()
    if f[0].isdigit():  # ss drops the State column when the filter names a single state
        f.insert(0, "")
    ss.append((ssname.get(f[0], f[0]),) + ep(f[3]) + ep(f[4]) + (int(f[1]), int(f[2])))
if ss and ss[0][0] == "":
    td = sorted(("",) + t[1:] for t in td)
ss.sort()
out = "%d rows not matching the filter" % len(bad)
if bad:
    out += ", first: %s" % json.dumps(bad[0])
if td != ss:
    out += "; differs from ss: only tcpdoctor %s, only ss %s" % (
        sorted(set(td) - set(ss))[:3], sorted(set(ss) - set(td))[:3])
print(out)
EOF
)" "0 rows not matching the filter" "$label: every row matches, same rows as ss"
}

check "all" 38 'True' -- 
check "--state time-wait" 6 'r["state"] == "TIME_WAIT" and r["dport"] == 20016' \
	--state time-wait -- state time-wait
check "--state time-wait -4" 3 'r["state"] == "TIME_WAIT" and r["family"] == "ipv4"' \
	--state time-wait -4 -- -4 state time-wait
check "--state TIME_WAIT -6 (kernel spelling)" 3 'r["family"] == "ipv6"' \
	--state TIME_WAIT -6 -- -6 state time-wait
check "--state connected" 32 'r["state"] not in ("LISTEN", "CLOSE")' \
	--state connected -- state connected
check "--state synchronized" 30 'r["state"] not in ("LISTEN", "CLOSE", "SYN_SENT")' \
	--state synchronized -- state synchronized
check "--state bucket" 8 'r["state"] in ("SYN_RECV", "TIME_WAIT")' \
	--state bucket -- state bucket
check "--state big" 30 'r["state"] not in ("SYN_RECV", "TIME_WAIT")' \
	--state big -- state big
check "--state close-wait,fin-wait-2" 4 'r["state"] in ("CLOSE_WAIT", "FIN_WAIT2")' \
	--state close-wait,fin-wait-2 -- state close-wait state fin-wait-2
check "--state SYN-RECV" 2 'r["state"] == "SYN_RECV" and r["sport"] == 20048' \
	--state SYN-RECV -- state syn-recv
check "--state syn-sent" 2 'r["state"] == "SYN_SENT" and r["dport"] == 20048' \
	--state syn-sent -- state syn-sent
check "--state listen" 6 'r["state"] == "LISTEN" and r["dport"] == 0' \
	--state listen -- state listening
check "--sport 20000" 4 'r["sport"] == 20000 and r["state"] == "ESTABLISHED"' \
	--sport 20000 -- sport = :20000
check "--dport 20000" 4 'r["dport"] == 20000 and r["state"] == "ESTABLISHED"' \
	--dport 20000 -- dport = :20000
check "--dport 20016" 6 'r["state"] == "TIME_WAIT"' --dport 20016 -- dport = :20016
check "--sport 20016 (servers closed)" 0 'False' --sport 20016 -- sport = :20016
check "--sport 20048" 8 'r["sport"] == 20048' --sport 20048 -- sport = :20048
check "--dport 20048" 8 'r["dport"] == 20048' --dport 20048 -- dport = :20048
check "--sport 20064-20065" 4 'r["state"] == "LISTEN" and 20064 <= r["sport"] <= 20065' \
	--sport 20064-20065 -- '( sport >= :20064 and sport <= :20065 )'
check "--src 127.0.0.2" 10 'r["src"] == "127.0.0.2"' --src 127.0.0.2 -- src 127.0.0.2
check "--dst 127.0.0.2" 6 'r["dst"] == "127.0.0.2"' --dst 127.0.0.2 -- dst 127.0.0.2
check "--src 127.0.0.1" 9 'r["src"] == "127.0.0.1"' --src 127.0.0.1 -- src 127.0.0.1
check "--src 127.0.0.0/8" 19 'r["family"] == "ipv4"' --src 127.0.0.0/8 -- src 127.0.0.0/8
check "--src 127.0.0.2/32 --dport 20032" 1 'r["state"] == "FIN_WAIT2"' \
	--src 127.0.0.2/32 --dport 20032 -- src 127.0.0.2 and dport = :20032
check "--src ::1" 19 'r["family"] == "ipv6"' --src ::1 -- src '[::1]'
check "--dst ::1" 16 'r["family"] == "ipv6" and r["state"] != "LISTEN"' \
	--dst ::1 -- dst '[::1]'
check "-4" 19 'r["family"] == "ipv4"' -4 -- -4
# Children waiting in the accept queue have no file yet (inode 0) but the listener's uid.
check "--state established --sport 20048 -6 (queued children)" 2 \
	'r["rqueue"] == 1 and r["inode"] == 0 and r["uid"] == 65534' \
	--state established --sport 20048 -6 -- -6 state established sport = :20048
# A listener's rqueue is its accept-queue length, wqueue its backlog: backlog 1 holds 2.
check "full accept queue" 2 'r["rqueue"] == 2 and r["wqueue"] == 1' \
	--state listen --sport 20048 -- state listening sport = :20048
# Timewait sockets (TIME_WAIT and FIN_WAIT2 orphans) and request sockets: no uid, no inode.
check "timewait sockets: uid 0, inode 0, timewait timer" 8 \
	'r["uid"] == 0 and r["inode"] == 0 and r["timer"] == "timewait" and 0 < r["expires_ms"] <= 60000' \
	--state time-wait,fin-wait-2 -- state time-wait state fin-wait-2
check "request sockets: uid 0, inode 0, timer on" 2 \
	'r["uid"] == 0 and r["inode"] == 0 and r["timer"] == "on"' \
	--state syn-recv -- state syn-recv
check "full sockets with a file: uid 65534" 28 'r["inode"] == 0 or r["uid"] == 65534' \
	--state established,close-wait,syn-sent,listen -- \
	state established state close-wait state syn-sent state listening

# The JSON contract: every line an object with these keys and sane values.
fresh
ip netns exec "$NS" "$TD_BIN" sockets --json >"$tmp/all.json" 2>&1
is "$(python3 - "$tmp/all.json" <<'EOF'
import json, sys
need = {"netns", "family", "state", "src", "sport", "dst", "dport", "rqueue", "wqueue", "uid",
        "inode", "timer", "expires_ms", "cookie"}
bad = []
cookies = set()
for i, l in enumerate(open(sys.argv[1]), 1):
    r = json.loads(l)
    miss = need - set(r)
    if miss:
        bad.append("line %d lacks %s" % (i, sorted(miss)))
        continue
    if r["family"] not in ("ipv4", "ipv6") or not 0 <= r["sport"] <= 65535:
        bad.append("line %d: family/port %s" % (i, l.strip()))
    cookies.add(r["cookie"])
    if r["cookie"] == 0:
        bad.append("line %d: cookie 0 from netlink" % i)
print("%d lines, %d distinct cookies, problems: %s" % (i, len(cookies), bad[:3] or "none"))
EOF
)" "38 lines, 38 distinct cookies, problems: none" "sockets --json: contract keys, distinct cookies"

# Bad filters are usage errors (exit 2), checked here against a live namespace too.
ip netns exec "$NS" "$TD_BIN" sockets --sport 20064-20000 >/dev/null 2>&1
is "$?" 2 "--sport with LOW > HIGH is a usage error"
ip netns exec "$NS" "$TD_BIN" sockets --src 127.0.0.300 >/dev/null 2>&1
is "$?" 2 "--src with a bad address is a usage error"
echo "1..$_tap_n"
