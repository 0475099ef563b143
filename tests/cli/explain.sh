#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `tcpdoctor explain` through the real binary, and the promise behind it: every reference the
# tool prints can be followed. Each kind of input (finding id, sysctl key, section, error
# message, errno number and name) with its exit code; unknown input exits 1 with suggestions;
# every "tcpdoctor explain X" and "tcp-facts.md#ANCHOR" that doctor (replayed records, text and
# JSON), check and sysctl lint (every fixture) print resolves with explain; and no output of any
# of those commands, of explain --all, of any --help, nor any string in the binary or the user
# docs says "kernel-facts" (a document users do not have). Needs no root.
. "$(dirname "$0")/../lib.sh"
cd "$TD_ROOT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
NL=tests/data/replay/mixed-netlink.tdrec
PF=tests/data/replay/mixed-procfs.tdrec

run() { # args...: $rc, $out, $err
	"$TD_BIN" --no-color "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}

# --- one input per kind ---
run explain close-wait-leak
is "$rc" 0 "explain a finding id: exit 0"
like "$out" "^close-wait-leak: A process holds connections" "finding: title from the catalogue"
like "$out" "close_wait_proc +warn 10 +crit 1000" "finding: its threshold with the defaults"
like "$out" "tcp-facts.md#close-wait \(net/ipv4/tcp_input.c tcp_fin\(\)\)" "finding: section and primary source"

run explain net/ipv4/tcp_fin_timeout
is "$rc" 0 "explain a key written as a /proc/sys path: exit 0"
like "$out" "^net.ipv4.tcp_fin_timeout" "key: normalised name"
like "$out" "orphaned FIN_WAIT2" "key: what it really bounds"
like "$out" "not the default: note: bounds orphaned FIN_WAIT2 only; TIME_WAIT stays 60 s" "key: its verdict rule (the effect, no motive)"

run explain tcp-facts.md#tw-buckets
is "$rc" 0 "explain a section by its reference form: exit 0"
like "$out" "^## tcp_max_tw_buckets: the size of the timewait table" "section: the document's text"

run explain "write: Connection reset by peer (os error 104)"
is "$rc" 0 "explain a pasted error line: exit 0"
like "$out" "^ECONNRESET \(errno 104\): Connection reset by peer" "error: matched inside the line"
is "$(grep -c '^  [0-9]\. ' <<<"$out")" 5 "error: five possible causes, numbered"
is "$(grep -c '^     tell: ' <<<"$out")" 5 "error: each says how to tell it apart"
is "$(grep -c '^     check: ' <<<"$out")" 5 "error: each says what checks it"

run explain 111
like "$out" "^ECONNREFUSED \(errno 111\)" "errno number 111 is ECONNREFUSED"
run explain emfile
like "$out" "^EMFILE \(errno 24\): Too many open files" "errno name in lower case"
like "$out" "top --by process --state close-wait" "EMFILE: the CLOSE_WAIT check"
run explain TCP: too many orphaned sockets
is "$rc" 0 "a kernel log line given as several words"
like "$out" "tcp-facts.md#orphans" "orphan message: its section"

# every command a finding's or an error's checks name exists
run explain --all --json
cmds=$(jq -r '.matches[] | (.checks // empty), (.causes[]?.check // empty)' "$tmp/out" |
	grep -oE '(^|; |\()tcpdoctor [a-z]+' | awk '{print $NF}' | sort -u)
bad=
for c in $cmds; do
	"$TD_BIN" "$c" --help >/dev/null 2>&1 || bad+=" $c"
done
is "$bad" "" "every 'tcpdoctor COMMAND' explain names exists (${cmds//$'\n'/ })"
# and every option it gives such a command is one that command has
opts=$(jq -r '.matches[] | (.checks // empty), (.causes[]?.check // empty)' "$tmp/out" |
	grep -oE 'tcpdoctor [a-z]+[^;()]*' | awk '{for (i = 3; i <= NF; i++) if ($i ~ /^--/) print $2, $i}' |
	sort -u)
bad=
while read -r c o; do
	[ -n "$c" ] || continue
	"$TD_BIN" "$c" --help 2>/dev/null | grep -q -- " $o\b" || bad+=" $c$o"
done <<<"$opts"
is "$bad" "" "every option explain gives a command is that command's ($(wc -l <<<"$opts") pairs)"

# --- not found, usage ---
run explain tcp_fin_timout
is "$rc" 1 "unknown input: exit 1"
is "$out" "" "unknown input: nothing on stdout"
like "$err" "Closest: net.ipv4.tcp_fin_timeout" "unknown input: the closest name"
run explain
is "$rc" 2 "no input: exit 2 (usage)"
run explain --list nonsense
is "$rc" 2 "--list with a bad kind: exit 2"

# --list feeds completion: names only (that each resolves is tests/unit/test_catalogue.c's job)
run explain --list errors
is "$(head -1 "$tmp/out")" EADDRNOTAVAIL "--list errors: names one per line"
run explain EADDRNOTAVAIL
is "$rc" 0 "a listed name explains"

# --- every printed reference can be followed ---
run --replay "$NL" doctor
is "$rc" 2 "doctor on the recorded namespace: CRITICAL (exit 2)"
refs=$(grep -oE 'ref: tcp-facts\.md#[a-z0-9-]+ \([^)]*\)+; tcpdoctor explain [a-z0-9-]+' "$tmp/out" | sort -u)
nrefs=$(grep -c '^  ref: ' "$tmp/out")
is "$(wc -l <<<"$refs")" "$(grep '^  ref: ' "$tmp/out" | sort -u | wc -l)" \
	"every doctor ref line is 'tcp-facts.md#ANCHOR (SOURCE); tcpdoctor explain ID' ($nrefs lines)"
follow_fail=0
for x in $(grep -oE 'tcp-facts\.md#[a-z0-9-]+|tcpdoctor explain [a-z0-9-]+' "$tmp/out" |
	sed 's/tcpdoctor explain //' | sort -u); do
	"$TD_BIN" explain "$x" >/dev/null 2>&1 || {
		follow_fail=$((follow_fail + 1))
		diag "doctor printed '$x' but explain does not know it"
	}
done
is "$follow_fail" 0 "every section and id doctor names explains"

run --replay "$NL" doctor --json
refs=$(jq -r '.findings[] | "\(.id) \(.ref) \(.ref_source)"' "$tmp/out")
like "$refs" "accept-queue tcp-facts#listen-queues net/ipv4/tcp_input.c" "doctor --json: ref and ref_source"
follow_fail=0
while read -r id ref src; do
	"$TD_BIN" explain "$id" >/dev/null 2>&1 && "$TD_BIN" explain "$ref" >/dev/null 2>&1 ||
		follow_fail=$((follow_fail + 1))
done <<<"$refs"
is "$follow_fail" 0 "doctor --json: every id and ref explains"

follow_fail=0
for f in tests/data/sysctl/fixtures/*.conf tests/data/sysctl/*.conf; do
	"$TD_BIN" --no-color sysctl lint "$f" >>"$tmp/lint" 2>&1
	"$TD_BIN" sysctl lint --json "$f" >>"$tmp/lint" 2>&1
done
for a in $(grep -oE 'tcp-facts(\.md)?#[a-z0-9-]+' "$tmp/lint" | sort -u); do
	"$TD_BIN" explain "$a" >/dev/null 2>&1 || {
		follow_fail=$((follow_fail + 1))
		diag "lint printed '$a' but explain does not know it"
	}
done
is "$follow_fail" 0 "every reference sysctl lint prints (all fixtures) explains"
like "$(cat "$tmp/lint")" '\[tcp-facts\.md#tw-recycle \(commit 4396e46187ca\)\]' \
	"lint text names the section and its primary source"

# --- "kernel-facts" nowhere a user can see ---
{
	cat "$tmp/lint"
	for r in "$NL" "$PF"; do
		for c in "doctor" "doctor --json" "doctor -v" "check -v" "states" "top" "ports" \
			"sockets" "watch --once"; do
			# shellcheck disable=SC2086
			"$TD_BIN" --no-color --replay "$r" $c 2>&1
		done
	done
	"$TD_BIN" explain --all 2>&1
	"$TD_BIN" explain --all --json 2>&1
	"$TD_BIN" --help 2>&1
	for c in doctor check states sockets ports top counters sysctl lab watch serve explain; do
		"$TD_BIN" "$c" --help 2>&1
	done
	"$TD_BIN" lab --list 2>&1
	"$TD_BIN" counters --interval 0.1 --all 2>&1
	"$TD_BIN" sysctl 2>&1
	"$TD_BIN" sysctl recommend 2>&1
} >"$tmp/all"
is "$(grep -c 'kernel-facts' "$tmp/all")" 0 "no output says kernel-facts ($(wc -l <"$tmp/all") lines checked)"
is "$(strings "$TD_BIN" | grep -c 'kernel-facts')" 0 "no string in the binary says kernel-facts"
is "$(grep -l 'kernel-facts' README.md doc/*.md doc/*.scd 2>/dev/null)" "" \
	"README, the man page and doc/ do not say kernel-facts"
