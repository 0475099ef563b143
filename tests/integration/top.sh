#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `top` in a private namespace where every socket and its process is known:
#   S1 (td-srv) listens on 127.0.0.1:7000 and holds what it accepts; S2 (td-srv) on :7001
#   closes each connection once its client has.
#   c1 (td-cli1): 5 connections to :7000; S1 then closes the first 2 and c1 answers: 2
#     TIME_WAIT on S1's side (server closed first), 3 ESTABLISHED left.
#   c2 (td-cli2): 4 connections to :7001 from 127.0.0.2, closes 2 first: 2 TIME_WAIT on c2's
#     side (client closed first), 2 ESTABLISHED left.
#   c3 (td-cli3): 1 connection to :7000 from 127.0.0.3:5000, a port neither ephemeral nor
#     listening: side "neither".
# Expected, 18 sockets: S1 LISTEN 1 + ESTABLISHED 4 + TIME_WAIT 2 (inferred: the listener of
# 7000), S2 LISTEN 1 + ESTABLISHED 2, c1 ESTABLISHED 3, c2 ESTABLISHED 2 + TIME_WAIT 2 (inferred:
# the process holding the other sockets to 127.0.0.1:7001 from 127.0.0.2), c3 ESTABLISHED 1.
# Each grouping must give exactly these numbers; the owned sockets per pid must equal ss -p's.
. "$(dirname "$0")/../lib.sh"
tmp=
trap 'td_cleanup; [ -n "$tmp" ] && rm -rf "$tmp"' EXIT

td_require_netns "top in a private namespace"
td_require python3 python3 || exit 1
if ! td_netns_add NS top; then
	skip "top in a private namespace" "cannot create a network namespace"
	exit 0
fi
td_tw_exact "$NS" # no RST may end a TIME_WAIT early (see td_tw_exact)
tmp=$(mktemp -d)
CONN=("python3" "$TD_ROOT/tests/helpers/tdconn.py")

start() { # NAME ARGS...: background actor in the namespace, waits for "ready"
	local name=$1
	shift
	ip netns exec "$NS" "${CONN[@]}" "$@" >"$tmp/$name" 2>&1 &
	td_bg_pid $!
	printf -v "pid_$name" '%s' $!
	td_wait_for "$tmp/$name" '^ready' 10
}
# The actors run under `ip netns exec`, which execs: $! is the actor's own pid.

ss_n() { ip netns exec "$NS" ss -tanH "$@" | wc -l; }
# Every step waits for the marker or the kernel state it needs (no sleeps): the servers have
# accepted everything, S1's 2 FINs reached c1 (CLOSE_WAIT) before c1 answers them, and at the
# end every close has completed (4 TIME_WAIT, nothing half-closed) and S1 accepted c3.
start s1 serve 127.0.0.1 7000 hold 2
start s2 serve 127.0.0.1 7001 drain
start c1 hold 127.0.0.1 7000 5 td-cli1
start c2 hold 127.0.0.1 7001 4 td-cli2 127.0.0.2
td_wait_for "$tmp/s1" '^accepted 5$' && td_wait_for "$tmp/s2" '^accepted 4$'
ok $? "the servers accepted the 9 connections"
kill -USR1 "$pid_s1"
td_wait_for "$tmp/s1" '^closed 2$' && td_wait_until 10 eval '[ "$(ss_n state close-wait)" = 2 ]'
ok $? "S1 closed 2 first: 2 CLOSE_WAIT in c1"
kill -USR2 "$pid_c1"
kill -USR1 "$pid_c2"
td_wait_for "$tmp/c1" '^done' && td_wait_for "$tmp/c2" '^done'
ok $? "c1 and c2 closed what they should"
start c3 hold 127.0.0.1 7000 1 td-cli3 127.0.0.3:5000
td_wait_for "$tmp/s1" '^accepted 6$' && td_wait_until 10 eval '[ "$(ss_n state time-wait)" = 4 ] &&
	[ "$(ss_n state fin-wait-1 state fin-wait-2 state close-wait state last-ack state closing)" = 0 ]'
ok $? "settled: S1 accepted c3, 4 TIME_WAIT, nothing half-closed"

td() { ip netns exec "$NS" "$TD_BIN" top "$@"; }

# rows JSON PYEXPR: one line per group, PYEXPR over group g
rows() {
	python3 -c '
import json, sys
doc = json.load(open(sys.argv[1]))
for g in doc["groups"]:
    print(eval(sys.argv[2], {"g": g}))' "$@"
}

td --by process --limit 0 --json >"$tmp/proc.json" 2>"$tmp/proc.err"
is "$?" 0 "top --by process exits 0"
want=$(
	cat <<EOF
$pid_s1 td-srv server {'ESTABLISHED': 4, 'TIME_WAIT': 2, 'LISTEN': 1} 7 2
$pid_c2 td-cli2 client {'ESTABLISHED': 2, 'TIME_WAIT': 2} 4 2
$pid_c1 td-cli1 client {'ESTABLISHED': 3} 3 0
$pid_s2 td-srv server {'ESTABLISHED': 2, 'LISTEN': 1} 3 0
$pid_c3 td-cli3 neither {'ESTABLISHED': 1} 1 0
EOF
)
is "$(rows "$tmp/proc.json" '"%s %s %s %s %d %d" % (g["pid"], g["comm"], g["side"], g["states"], g["total"], g["inferred"])' | sort -k5,5nr -k1,1n)" \
	"$(sort -k5,5nr -k1,1n <<<"$want")" "--by process: every process exact, TIME_WAIT inferred"
# both ways of finding owners give the same table: the BPF task_file iterator (chosen by itself
# when the host has 1,000 open files or more) and the /proc scan
for via in bpf proc; do
	TD_OWNERS=$via td --by process --limit 0 --json >"$tmp/proc-$via.json"
	is "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["attribution"]["via"])' "$tmp/proc-$via.json")" $via \
		"--by process with TD_OWNERS=$via: owners found via $via"
	is "$(rows "$tmp/proc-$via.json" '"%s %s %s %s %d %d" % (g["pid"], g["comm"], g["side"], g["states"], g["total"], g["inferred"])' | sort -k5,5nr -k1,1n)" \
		"$(sort -k5,5nr -k1,1n <<<"$want")" "--by process with TD_OWNERS=$via: the same rows"
done

# The owners table is built in a second thread while the dump streams (the default), or before
# the dump with TD_OWNERS_THREAD=0: the same document either way, with each way of finding owners
# and with a --state filter (the other states still infer owners). Only the scan's counts of
# processes that exited or could not be read may differ: they come from the whole host.
same_doc() { # JSON on stdin, without those counts
	python3 -c 'import json,sys; d=json.load(sys.stdin); a=d.get("attribution", {})
for k in ("processes_gone", "processes_denied", "partial", "reason"): a.pop(k, None)
print(json.dumps(d, indent=1, sort_keys=True))'
}
for via in bpf proc; do
	for args in "--by process --limit 0 --json" "--by process --state time-wait --json"; do
		# shellcheck disable=SC2086
		a=$(TD_OWNERS=$via td $args | same_doc)
		# shellcheck disable=SC2086
		b=$(TD_OWNERS=$via TD_OWNERS_THREAD=0 td $args | same_doc)
		is "$a" "$b" "TD_OWNERS=$via top $args: threaded and sequential give the same document"
	done
done

# ss -p as the oracle for what is owned (not inferred): sockets per pid
ss_owned=$(ip netns exec "$NS" ss -tanpH | grep -o 'pid=[0-9]*' | sort | uniq -c |
	awk '{sub("pid=", "", $2); print $2, $1}' | sort -n)
td_owned=$(rows "$tmp/proc.json" '"%s %d" % (g["pid"], g["total"] - g["inferred"])' | sort -n)
is "$td_owned" "$ss_owned" "owned sockets per pid equal ss -p's"

td --by process --state time-wait --json >"$tmp/tw.json"
is "$(rows "$tmp/tw.json" '"%s %d %d" % (g["pid"], g["states"]["TIME_WAIT"], g["inferred"])' | sort)" \
	"$(printf '%s 2 2\n%s 2 2\n' "$pid_s1" "$pid_c2" | sort)" "--state time-wait: both inferred owners"
td --by process --sort time-wait --limit 1 --json >"$tmp/one.json"
is "$(rows "$tmp/one.json" 'g["pid"]')" "$pid_s1" "--sort time-wait --limit 1: tie broken by total"

td --by peer --json >"$tmp/peer.json"
is "$(rows "$tmp/peer.json" '"%s %s %d" % (g["peer"], g["side"], g["total"])')" \
	"$(printf '127.0.0.1 mixed 13\n0.0.0.0 server 2\n127.0.0.2 server 2\n127.0.0.3 server 1')" \
	"--by peer: exact groups, sides, totals"

td --by lport --limit 0 --json >"$tmp/lport.json"
is "$(rows "$tmp/lport.json" '"%d %s %d" % (g["lport"], g["side"], g["total"])' | sed -n 1,2p)" \
	"$(printf '7000 server 7\n7001 server 3')" "--by lport: the two server ports first"
is "$(rows "$tmp/lport.json" 'g["side"]' | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" \
	"client=7 neither=1 server=2 " "--by lport: 7 client ports (c1 3, c2 4), 5000 neither, 2 servers"
is "$(rows "$tmp/lport.json" 'g["lport"]' | grep -c '^5000$')" 1 "port 5000 present"

td --by dest --json >"$tmp/dest.json"
is "$(rows "$tmp/dest.json" '"%s>%s:%d %s %s" % (g["src"], g["dst"], g["dport"], g["side"], g["states"])' | sed -n 1,2p)" \
	"$(printf "127.0.0.2>127.0.0.1:7001 client {'ESTABLISHED': 2, 'TIME_WAIT': 2}\n127.0.0.1>127.0.0.1:7000 client {'ESTABLISHED': 3}")" \
	"--by dest: the two client destinations first"

td --by netns --json >"$tmp/ns.json"
is "$(rows "$tmp/ns.json" '"%d %s" % (g["total"], g["states"])')" \
	"18 {'ESTABLISHED': 12, 'TIME_WAIT': 4, 'LISTEN': 2}" "--by netns: all 18"

td --by process >"$tmp/proc.txt"
like "$(cat "$tmp/proc.txt")" "INFERRED" "text output has the INFERRED column and note"
like "$(grep td-cli2 "$tmp/proc.txt")" "^$pid_c2 +td-cli2 +client +2 +2 +0 +4 +2$" "text row of td-cli2"
td --by nonsense >/dev/null 2>&1
is "$?" 2 "--by nonsense: usage error"
td --sort established,listen >/dev/null 2>&1
is "$?" 2 "--sort takes one state"
td --limit -1 >/dev/null 2>&1
is "$?" 2 "--limit -1: usage error"

# More sockets than one batch of records handed to the owners thread (1,024) and than one chunk
# (4,096): sockfarm holds 3,000 ESTABLISHED pairs and 300 CLOSE_WAIT in one process; their 300
# FIN_WAIT2 peers are orphans (no inode: inferred, and nobody else talks to their destinations,
# so they stay unattributed: pid null). fin_timeout keeps the orphans for the test (this namespace only).
td_netns_add F topfarm || exit 1
ip netns exec "$F" sysctl -qw net.ipv4.tcp_fin_timeout=600
ip netns exec "$F" "$TD_HELPERS/sockfarm" --estab 3000 --closewait 300 --family 4 --hold 600 \
	>"$tmp/farm" 2>/dev/null &
td_bg_pid $!
td_wait_for "$tmp/farm" '^ready' 60
ok $? "sockfarm: 6,600 sockets ready"
farm=$(sed -n 2p "$tmp/farm" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
for via in bpf proc; do
	for th in 1 0; do
		TD_OWNERS=$via TD_OWNERS_THREAD=$th ip netns exec "$F" "$TD_BIN" top --by process \
			--limit 0 --json >"$tmp/farm-$via-$th.json"
		is "$(rows "$tmp/farm-$via-$th.json" '"%s %s %s %s %d %d %d" % (g["pid"], g["comm"], g["side"], g["states"], g["total"], g["inferred"], g["shared"])' | sort)" \
			"$(printf "%s sockfarm mixed {'ESTABLISHED': 6000, 'CLOSE_WAIT': 300} 6300 0 0\nNone None client {'FIN_WAIT2': 300} 300 0 0" "$farm")" \
			"6,600 sockets, TD_OWNERS=$via TD_OWNERS_THREAD=$th: every count exact"
	done
	is "$(same_doc <"$tmp/farm-$via-1.json")" "$(same_doc <"$tmp/farm-$via-0.json")" \
		"6,600 sockets, TD_OWNERS=$via: threaded and sequential give the same document"
done
is "$(ip netns exec "$F" ss -tanpH | grep -c "pid=$farm,")" 6300 "ss -p agrees: sockfarm holds 6,300"
