#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Golden tests: the real binary replays dumps recorded from a namespace with known sockets
# (tests/data/replay/*.tdrec, made by sockfarm: 3 LISTEN, 17 ESTABLISHED, 3 SYN_RECV, 2 FIN_WAIT2,
# 4 TIME_WAIT, 2 CLOSE_WAIT per family) and its output must match tests/cli/golden/*.out byte for
# byte. Needs no root and no live sockets. TD_UPDATE_GOLDEN=1 rewrites the expected files.
. "$(dirname "$0")/../lib.sh"
cd "$TD_ROOT"
NL=tests/data/replay/mixed-netlink.tdrec
PF=tests/data/replay/mixed-procfs.tdrec

golden() { # name, args...
	local name=$1
	shift
	local out rc
	out=$("$TD_BIN" --no-color "$@" 2>&1)
	rc=$?
	out+=$'\n'"exit $rc"
	if [ "${TD_UPDATE_GOLDEN:-0}" = 1 ]; then
		printf '%s\n' "$out" >"tests/cli/golden/$name.out"
	fi
	is "$out" "$(cat "tests/cli/golden/$name.out")" "golden $name: tcpdoctor $*"
}

golden states-text --replay "$NL" states
golden states-json --replay "$NL" states --json
golden states-v6 --replay "$NL" states -6
golden states-procfs --replay "$PF" states
golden sockets-tw --replay "$NL" sockets --state time-wait
golden sockets-listen-json --replay "$NL" sockets --state listen --json
golden sockets-bucket-v4 --replay "$NL" sockets --state bucket -4
golden sockets-dport --replay "$PF" sockets --dport 20032 --state close-wait,fin-wait-2
golden sockets-src6 --replay "$NL" sockets --src ::1 --state established --sport 20000
# doctor, check, top and ports read the same records: findings, exit codes, groups and port
# headroom are fixed by the recorded sockets and the sysctls recorded with them.
golden doctor-text --replay "$NL" doctor
golden doctor-json --replay "$NL" doctor --json
golden doctor-procfs --replay "$PF" doctor
golden check --replay "$NL" check
golden check-thresholds --replay "$NL" check --warn time_wait=5 --crit close_wait=3
golden top-peer --replay "$NL" top
golden top-lport-json --replay "$NL" top --by lport --json
golden top-dest-tw --replay "$PF" top --by dest --state time-wait
golden top-process --replay "$NL" top --by process
golden ports-text --replay "$NL" ports
golden ports-json --replay "$NL" ports --json

# The two sources must agree on every count (their records differ in bytes, not in meaning).
a=$("$TD_BIN" --replay "$NL" states --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["ipv4"], d["ipv6"])')
b=$("$TD_BIN" --replay "$PF" states --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["ipv4"], d["ipv6"])')
is "$b" "$a" "procfs and netlink records give the same census"

# sockets --json: one valid object per line, as many lines as the census counts.
n=$("$TD_BIN" --replay "$NL" sockets --json | python3 -c 'import json,sys; print(sum(1 for l in sys.stdin if json.loads(l)))')
t=$("$TD_BIN" --replay "$NL" states --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
is "$n" "$t" "sockets --json lists exactly the census total ($t)"
is "$t" 62 "the recorded namespace holds 62 sockets"

# -N picks a namespace out of a record by name; an absent name is an error naming it.
name=$("$TD_BIN" --replay "$NL" states --json -N all | python3 -c 'import json,sys; print(json.load(sys.stdin)["netns"][0]["name"])')
like "$name" '^td-golden-' "the record keeps the namespace's name"
out=$("$TD_BIN" --replay "$NL" -N nosuch states 2>&1)
rc=$?
is "$rc" 1 "replay -N nosuch fails with exit 1"
like "$out" "no namespace 'nosuch' in this record" "replay -N nosuch names the namespace"
