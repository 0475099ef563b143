#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Hostile surroundings, in a namespace of the test's own: a record written to a full device must
# blame the write, not the dump (100 listeners make the inet_diag dump outgrow stdio's buffer, so
# the write fails inside it); a process that names itself with an escape sequence and invalid
# UTF-8 (prctl PR_SET_NAME) shows up in `top --by process` with '?' for those bytes, as ps shows
# them, in the table and in JSON.
. "$(dirname "$0")/../lib.sh"
. "$TD_ROOT/tests/helpers/farm.sh"
tmp=$(mktemp -d)
trap 'td_cleanup; farm_cleanup; rm -rf "$tmp"' EXIT

td_require_netns "hostile surroundings"
if ! td_netns_add NS hostile; then
	skip "hostile surroundings" "cannot create a network namespace"
	echo "1..$_tap_n"
	exit 0
fi

# --- /dev/full ---
farm_start "$NS" PF JF --family 4 --listen 100
ok $? "sockfarm with 100 listeners in $NS ready"
for src in netlink procfs; do
	timeout 60 "$TD_BIN" -N "$NS" --source "$src" sockets --record /dev/full >/dev/null 2>"$tmp/err"
	is "$?" 1 "--source $src sockets --record /dev/full exits 1"
	is "$(cat "$tmp/err")" "tcpdoctor: sockets: cannot write record '/dev/full': No space left on device" \
		"--source $src: the message blames the write to the record"
done
"$TD_BIN" -N "$NS" sockets --record "$tmp/ok.tdrec" >/dev/null
is "$?" 0 "the same record to a file works"
is "$("$TD_BIN" --replay "$tmp/ok.tdrec" sockets --state listen --json | wc -l)" 100 \
	"and replays its 100 listeners"

# --- a process named with an escape sequence and invalid UTF-8 ---
if command -v python3 >/dev/null; then
	ip netns exec "$NS" python3 -c '
import ctypes, socket, sys, time
ctypes.CDLL(None).prctl(15, b"\x1b[31mev\xffil", 0, 0, 0)
s = socket.socket()
s.bind(("127.0.0.1", 20999))
s.listen()
print("ready", flush=True)
time.sleep(60)
' >"$tmp/evil.out" 2>&1 &
	td_bg_pid $!
	td_wait_for "$tmp/evil.out" '^ready' 30
	ok $? "the oddly named process listens"
	timeout 60 "$TD_BIN" -N "$NS" top --by process --limit 0 >"$tmp/top.txt" 2>&1
	is "$?" 0 "top --by process exits 0"
	like "$(grep -a ':20999\|?\[31mev?il' "$tmp/top.txt")" '\?\[31mev\?il' "the table shows ?[31mev?il"
	ok "$(LC_ALL=C grep -caP '[\x00-\x09\x0b-\x1f\x7f\x80-\xff]' "$tmp/top.txt")" \
		"no control byte and no stray byte in the table"
	timeout 60 "$TD_BIN" -N "$NS" top --by process --limit 0 --json >"$tmp/top.json" 2>&1
	is "$(python3 -c 'import json,sys; print(sorted(g["comm"] for g in json.load(sys.stdin)["groups"] if g.get("comm") and "ev" in g["comm"]))' <"$tmp/top.json" 2>&1)" \
		"['?[31mev?il']" "top --by process --json: comm is ?[31mev?il"
else
	skip "a process named with an escape sequence" "needs python3"
fi
echo "1..$_tap_n"
