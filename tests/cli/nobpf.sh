#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A build without BPF (BPF=0, as on a host without clang, bpftool or libbpf; `make check` builds
# it into build/nobpf) must compile warning-free and keep everything but tracing: every --trace
# and `trace` itself say what is missing and how to get it, with the command's failure exit
# code, and the commands that read sockets give the same output as the BPF build.
. "$(dirname "$0")/../lib.sh"
: "${TD_NOBPF_BIN:=$TD_ROOT/build/nobpf/tcpdoctor}"
if [ ! -x "$TD_NOBPF_BIN" ]; then
	skip "a build without BPF" "none at $TD_NOBPF_BIN (make BUILD=build/nobpf BPF=0)"
	echo "1..$_tap_n"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
NL=$TD_ROOT/tests/data/replay/mixed-netlink.tdrec

# nobpf EXIT ARGS...: the command fails with EXIT, naming the missing support, at once
nobpf() {
	local want=$1
	shift
	timeout 10 "$TD_NOBPF_BIN" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	is "$rc" "$want" "without BPF: tcpdoctor $* exits $want"
	like "$(cat "$tmp/err")" "this build has no BPF support: install clang, bpftool and libbpf-dev" \
		"without BPF: tcpdoctor $* says what to install"
	if [ "$1" = check ]; then # a Nagios plugin always prints its status line
		is "$(cat "$tmp/out")" "TCPDOCTOR UNKNOWN - could not trace" \
			"without BPF: check's status line says it could not trace"
	else
		is "$(cat "$tmp/out")" "" "without BPF: tcpdoctor $* prints nothing on stdout"
	fi
}
nobpf 1 trace --duration 1
nobpf 1 trace --json --duration 1
nobpf 3 doctor --trace 1
nobpf 3 check --trace 1
nobpf 1 top --by process --trace 1
nobpf 1 watch --trace
nobpf 1 serve --trace --textfile "$tmp/metrics.prom"
ok "$([ ! -e "$tmp/metrics.prom" ] && echo 0 || echo 1)" "serve --trace wrote no textfile"

# Everything else: the same bytes as the BPF build on the same record
for args in "states" "states --json" "doctor" "doctor --json" "top --by process" "ports --json" \
	"sockets --state time-wait"; do
	# shellcheck disable=SC2086
	a=$("$TD_BIN" --no-color --replay "$NL" $args 2>&1)
	# shellcheck disable=SC2086
	b=$("$TD_NOBPF_BIN" --no-color --replay "$NL" $args 2>&1)
	is "$b" "$a" "without BPF, $args on a record prints what the BPF build prints"
done
# a live census: BPF asked for (TD_BPF=1) falls back to the dump and agrees with ss
if [ "$(id -u)" = 0 ]; then
	n=$(TD_BPF=1 "$TD_NOBPF_BIN" states --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
	like "$n" '^[0-9]+$' "without BPF, TD_BPF=1 states still counts (the dump): $n sockets"
fi
echo "1..$_tap_n"
