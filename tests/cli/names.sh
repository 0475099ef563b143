#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Names from outside are data. A copy of tests/data/replay/mixed-netlink.tdrec whose namespace is
# renamed to bytes no output may pass on raw: invalid UTF-8 (\xff), an ESC colour sequence, an
# OSC title sequence ending in BEL, a double quote and a backslash, and a valid "é". Every output
# must carry the same escaped name, td-\xff\x1b[31mred\x1b]0;owned\x07-é-"q"\b: the terminal
# gets no control byte, JSON parses with the name (not null), and the Prometheus page passes
# promtool with the name as a label value. -N selects the namespace by raw bytes or by the
# escaped form. Needs no root and no live sockets.
. "$(dirname "$0")/../lib.sh"
cd "$TD_ROOT"
dir=$(mktemp -d)
trap 'rm -rf "$dir"; td_cleanup' EXIT
if ! command -v python3 >/dev/null; then
	skip "hostile namespace names" "needs python3 to build the record"
	"$TD_BIN" --replay "$F" -N $'nope\x1b[2J' states >"$dir/nons.out" 2>"$dir/nons.err"
is "$?" 1 "-N of a name not in the record exits 1"
like "$(cat "$dir/nons.err")" "no namespace 'nope\\\\x1b\\[2J' in this record" "the message shows the name escaped"
"$TD_BIN" -N $'td-nope-\x1b[2J' states >"$dir/nons2.out" 2>"$dir/nons2.err"
is "$?" 1 "-N of a missing namespace exits 1"
no_ctl "the -N messages" "$dir/nons.err" "$dir/nons2.err"
echo "1..$_tap_n"
	exit 0
fi
F=$dir/hostile.tdrec
python3 - tests/data/replay/mixed-netlink.tdrec "$F" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
out, off = bytearray(d[:8]), 8
name = b'td-\xff\x1b[31mred\x1b]0;owned\x07-\xc3\xa9-"q"\\b'
while off + 8 <= len(d):
    t, l = struct.unpack_from("<II", d, off)
    body = name if t == 2 else d[off + 8:off + 8 + l]
    out += struct.pack("<II", t, len(body)) + body
    off += 8 + l
open(sys.argv[2], "wb").write(out)
PY
RAW=$'td-\xff\x1b[31mred\x1b]0;owned\x07-\xc3\xa9-"q"\\b'
SHOWN='td-\xff\x1b[31mred\x1b]0;owned\x07-é-"q"\b'

# no_ctl LABEL FILE...: no C0 control byte but newline, no DEL, no invalid UTF-8.
no_ctl() {
	local label=$1 f bad=
	shift
	for f in "$@"; do
		LC_ALL=C grep -qaP '[\x00-\x09\x0b-\x1f\x7f]' "$f" && bad+=" control-byte:${f##*/}"
		# C1 controls (U+0080-U+009F), which some terminals obey: CSI is U+009B
		LC_ALL=C grep -qaP '\xc2[\x80-\x9f]' "$f" && bad+=" c1-control:${f##*/}"
		iconv -f UTF-8 -t UTF-8 "$f" >/dev/null 2>&1 || bad+=" invalid-utf8:${f##*/}"
	done
	is "${bad:-clean}" clean "$label: no control byte, valid UTF-8"
}
tdo() { # NAME ARGS...: runs with --replay F, stdout to $dir/NAME.out, stderr to $dir/NAME.err
	local n=$1
	shift
	"$TD_BIN" --replay "$F" "$@" >"$dir/$n.out" 2>"$dir/$n.err"
	rc=$?
}

# --- terminal ---
for cmd in "states" "sockets" "top --by netns" "ports" "doctor" "sockets --state listen"; do
	n=${cmd// /_}
	# shellcheck disable=SC2086 # word splitting wanted
	tdo "$n" -N all $cmd
	ok "$([ "$rc" -le 2 ] && echo 0 || echo 1)" "-N all $cmd: ran (exit $rc)"
	no_ctl "-N all $cmd" "$dir/$n.out" "$dir/$n.err"
done
like "$(cat "$dir/states.out")" "Network namespace td-\\\\xff\\\\x1b\\[31mred\\\\x1b\\]0;owned\\\\x07-é-\"q\"\\\\b " \
	"states names the namespace, escaped"
like "$(sed -n 2p "$dir/top_--by_netns.out")" '^td-\\xff\\x1b\[31mred' "top --by netns shows the escaped name"
like "$(sed -n 2p "$dir/ports.out")" '^td-\\xff\\x1b\[31mred' "ports shows the escaped name"

# --- JSON: the name, not null ---
jname() { python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())'"$1"')' 2>&1; }
tdo sj -N all states --json
is "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["netns"][0]["name"])' <"$dir/sj.out" 2>&1)" \
	"$SHOWN" "states --json: the name is the escaped string"
tdo kj -N all sockets --json
is "$(jname '["netns"]' <"$dir/kj.out")" "$SHOWN" "sockets --json: netns is the escaped string"
tdo tj top --by netns --json
is "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["groups"][0]["netns"])' <"$dir/tj.out" 2>&1)" \
	"$SHOWN" "top --by netns --json: the name is the escaped string"
tdo pj -N all ports --json
is "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["destinations"][0]["netns"])' <"$dir/pj.out" 2>&1)" \
	"$SHOWN" "ports --json: the name is the escaped string"
tdo dj -N all doctor --json
is "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["netns"][0]["name"])' <"$dir/dj.out" 2>&1)" \
	"$SHOWN" "doctor --json: the name is the escaped string"
no_ctl "JSON outputs" "$dir/sj.out" "$dir/kj.out" "$dir/tj.out" "$dir/pj.out" "$dir/dj.out"

# --- Prometheus ---
tdo prom serve --textfile "$dir/td.prom"
is "$rc" 0 "serve --textfile: exit 0"
if command -v promtool >/dev/null; then
	lint=$(promtool check metrics <"$dir/td.prom" 2>&1)
	is "$?:$lint" "0:" "promtool check metrics accepts the page"
else
	skip "promtool check metrics" "promtool (Debian package prometheus) missing"
fi
no_ctl "the Prometheus page" "$dir/td.prom"
like "$(grep -m1 '^tcpdoctor_sockets{' "$dir/td.prom")" \
	'^tcpdoctor_sockets\{netns="td-\\\\xff\\\\x1b\[31mred\\\\x1b\]0;owned\\\\x07-é-\\"q\\"\\\\b",' \
	"the label value is the escaped name, with \\\\ and \\\" escaped as the format asks"

# --- -N selects by raw bytes or by the escaped form; messages escape too ---
tdo nraw -N "$RAW" states --json
is "$rc:$(python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])' <"$dir/nraw.out" 2>&1)" 0:62 \
	"-N with the raw bytes selects the namespace"
tdo nshown -N "$SHOWN" states --json
is "$rc:$(python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])' <"$dir/nshown.out" 2>&1)" 0:62 \
	"-N with the escaped name selects it too"
"$TD_BIN" --replay "$dir/"$'bad\x1b[2Jname.tdrec' states >"$dir/missing.out" 2>"$dir/missing.err"
is "$?" 1 "a missing replay file with an escape sequence in its name exits 1"
like "$(cat "$dir/missing.err")" 'bad\\x1b\[2Jname\.tdrec' "the message shows the file name escaped"
no_ctl "the message" "$dir/missing.err"
"$TD_BIN" --replay "$F" -N $'nope\x1b[2J' states >"$dir/nons.out" 2>"$dir/nons.err"
is "$?" 1 "-N of a name not in the record exits 1"
like "$(cat "$dir/nons.err")" "no namespace 'nope\\\\x1b\\[2J' in this record" "the message shows the name escaped"
"$TD_BIN" -N $'td-nope-\x1b[2J' states >"$dir/nons2.out" 2>"$dir/nons2.err"
is "$?" 1 "-N of a missing namespace exits 1"
no_ctl "the -N messages" "$dir/nons.err" "$dir/nons2.err"
# every command's messages go through one writer that escapes them, whatever the command
for cmd in counters "trace --duration 1" "sysctl recommend" "conntrack" "doctor"; do
	n=msg_${cmd%% *}
	# shellcheck disable=SC2086 # word splitting wanted
	"$TD_BIN" -N $'td-nope-\x1b]0;owned\x07' $cmd >"$dir/$n.out" 2>"$dir/$n.err"
	ok "$([ -s "$dir/$n.err" ] && echo 0 || echo 1)" "-N of a missing namespace: $cmd says why"
	no_ctl "-N of a missing namespace: the message of $cmd" "$dir/$n.out" "$dir/$n.err"
done
like "$(cat "$dir/msg_counters.err")" 'td-nope-\\x1b\]0;owned\\x07' "counters shows the name escaped"
# a sysctl file's name is printed before each of its findings
bad=$dir/$'td-\x1b[2J.conf'
printf 'net.ipv4.tcp_tw_recycle = 1\n' >"$bad"
"$TD_BIN" sysctl lint "$bad" >"$dir/lint.out" 2>"$dir/lint.err"
is "$?" 1 "sysctl lint of a file with an escape sequence in its name: exit 1 (an error)"
like "$(cat "$dir/lint.out")" 'td-\\x1b\[2J\.conf:1: error' "its findings show the file name escaped"
no_ctl "sysctl lint's findings" "$dir/lint.out" "$dir/lint.err"
# and the keys and values of its lines, and the effective values' file:line: a C1 CSI (valid
# UTF-8), a lone 0x9b byte (an 8-bit CSI) and an ESC in a value
printf 'net.ipv4.tcp_fin_timeout = 30\nnet.ipv4.tcp_keepalive_time = 7\xc2\x9b2J\nnet.ipv4.tcp_\x9bsyn_retries = 3\nnet.ipv4.tcp_syn_retries = 4\x1b[2J\n' >"$bad"
"$TD_BIN" sysctl lint "$bad" >"$dir/lint2.out" 2>"$dir/lint2.err"
like "$(cat "$dir/lint2.out")" 'tcp_keepalive_time = 7\\xc2\\x9b2J: error|tcp_keepalive_time = 7\\xc2\\x9b2J: invalid' \
	"a value's C1 control is shown escaped"
like "$(cat "$dir/lint2.out")" 'net\.ipv4\.tcp_\\x9bsyn_retries = 3' "a key's lone 0x9b byte is shown escaped"
like "$(cat "$dir/lint2.out")" 'tcp_syn_retries = 4\\x1b\[2J' "a value's ESC is shown escaped"
like "$(cat "$dir/lint2.out")" 'tcp_fin_timeout = 30 +\(.*td-\\x1b\[2J\.conf:1\)' \
	"the effective values name their file escaped"
no_ctl "sysctl lint's keys, values and effective values" "$dir/lint2.out" "$dir/lint2.err"
echo "1..$_tap_n"
