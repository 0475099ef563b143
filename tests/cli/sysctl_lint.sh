#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `tcpdoctor sysctl lint`: every file in tests/data/sysctl yields exactly the findings listed
# here (line, severity, key), with the exit status lint promises (1 when anything is an error or
# harmful). The blog fixtures are copies of ../shared/fixtures/sysctl, byte for byte: the copies
# make this test independent of that path, and when the shared tree is there the test checks
# the copies still match it and lints the originals too. Expectations are those of Linux 6.18
# (which keys exist, the ehash-derived defaults of this machine class).
. "$(dirname "$0")/../lib.sh"

D=$TD_ROOT/tests/data/sysctl
SHARED=$TD_ROOT/../shared/fixtures/sysctl

# findings FILE...: "line severity key" per finding, then "rc=N"
findings() {
	local out rc
	out=$("$TD_BIN" sysctl lint --json "$@" 2>/dev/null)
	rc=$?
	jq -r '.findings[] | "\(.line) \(.severity) \(.key // "-")"' <<<"$out"
	echo "rc=$rc"
}

check() { # file expected
	is "$(findings "$1")" "$2" "lint ${1#"$TD_ROOT"/}"
}

want_basic='1 info net.ipv4.tcp_syncookies
2 note net.ipv4.tcp_tw_reuse
3 error net.ipv4.tcp_tw_recycle
4 note net.ipv4.tcp_fin_timeout
rc=1'
want_keepalive='2 harmful net.ipv4.tcp_syn_retries
5 info net.ipv4.tcp_keepalive_time
8 note net.ipv4.tcp_fin_timeout
10 note net.ipv4.tcp_max_syn_backlog
12 info net.ipv4.tcp_syncookies
15 note net.ipv4.tcp_tw_reuse
17 error net.ipv4.tcp_tw_recycle
20 info net.ipv4.tcp_keepalive_probes
22 info net.core.netdev_max_backlog
rc=1'
want_short='1 note net.ipv4.tcp_tw_reuse
2 error net.ipv4.tcp_tw_recycle
3 note net.ipv4.tcp_fin_timeout
4 warn net.ipv4.ip_local_port_range
4 note net.ipv4.ip_local_port_range
5 note net.ipv4.tcp_max_syn_backlog
6 harmful net.ipv4.tcp_max_tw_buckets
rc=1'

for dir in "$D/fixtures" ${SHARED:+"$SHARED"}; do
	[ -d "$dir" ] || continue
	check "$dir/blog-basic.conf" "$want_basic"
	check "$dir/blog-keepalive-recycle.conf" "$want_keepalive"
	check "$dir/blog-short.conf" "$want_short"
done
if [ -d "$SHARED" ]; then
	for f in "$SHARED"/*; do
		cmp -s "$f" "$D/fixtures/${f##*/}"
		ok $? "tests/data copy of ${f##*/} is byte-identical to ../shared"
	done
else
	skip "copies match ../shared/fixtures/sysctl" "no ../shared beside the repository"
fi

# The messages carry the facts, not just a severity.
out=$("$TD_BIN" sysctl lint "$D/fixtures/blog-basic.conf")
like "$out" "tcp_tw_recycle = 1: removed from the kernel in 4\.12" "recycle: removed, and since when"
like "$out" "NAT" "recycle: says why it was harmful"
like "$out" "tcp_fin_timeout = 30: bounds orphaned FIN_WAIT2 only; TIME_WAIT stays 60 s" \
	"fin_timeout: its real effect, no motive presumed"
[[ $out != *"wrong reason"* ]]
ok $? "no verdict says 'wrong reason'"
out=$("$TD_BIN" sysctl lint "$D/fixtures/blog-short.conf")
like "$out" "same parity" "port range parity"
like "$out" "tcp_max_tw_buckets = 10000: overflow skips TIME_WAIT" "tw_buckets verdict"

check "$D/misc.conf" '2 error net.ipv4.tcp_timestsmps
3 warn net.ipv4.tcp_tw_reuse
3 note net.ipv4.tcp_tw_reuse
3 warn net.ipv4.tcp_tw_reuse
4 warn net.ipv4.tcp_tw_recycle
5 info net.ipv4.tcp_fin_timeout
6 error net.ipv4.tcp_tw_reuse
7 error net.ipv4.ip_local_port_range
8 error net.ipv4.ip_local_port_range
9 info kernel.pid_max
10 warn net.ipv4.td_no_such_key
11 info net.ipv4.tcp_syn_retries
11 note net.ipv4.tcp_syn_retries
12 harmful net.ipv4.tcp_syn_retries
13 error -
14 harmful net.ipv4.tcp_mem
14 harmful net.ipv4.tcp_mem
15 note net.ipv4.tcp_max_orphans
16 info net.core.somaxconn
17 note net.ipv4.ip_local_port_range
18 harmful net.ipv4.tcp_timestamps
rc=1'
out=$("$TD_BIN" sysctl lint "$D/misc.conf")
like "$out" "misc.conf:2: error: net.ipv4.tcp_timestsmps = 0: unknown key: it does not exist on this kernel; did you mean net.ipv4.tcp_timestamps\?" \
	"misspelled key: did-you-mean tcp_timestamps"
like "$out" "misc.conf:3: warn: net.ipv4.tcp_tw_reuse = 1 # enable reuse: inline '#' is not a comment: the kernel keeps '1' and ignores the rest" \
	"inline # flagged, with what the kernel keeps"
like "$out" "misc.conf:13: error: invalid key 'net.ipv4 .tcp_rfc1337'" "an invalid key is echoed"
like "$out" "misc.conf:4: warn: .*\(ignored: the line starts with '-'\)" "'-' turns a missing key into a warning"
like "$out" "misc.conf:11: note: .*overridden by .*misc.conf:12, which sets '2'" "duplicate names the winner"
like "$out" "net.ipv4.tcp_syn_retries = 2    \(.*misc.conf:12, overrides 1 earlier line\)" \
	"effective value and where it is set"
like "$out" "tcp_fin_timeout = 60    \(.*misc.conf:5\)" "a '/'-separated key is the same key"
[[ $out != *"tcp_tw_recycle = 1    ("* ]]
ok $? "a key that does not exist has no effective value"

check "$D/noeq.conf" '2 error -
3 info net.ipv4.tcp_syncookies
4 error -
rc=1'
like "$("$TD_BIN" sysctl lint "$D/noeq.conf")" "noeq.conf:2: error: not an assignment: missing '='" \
	"missing '=' names file and line"
check "$D/empty-value.conf" '1 error net.ipv4.tcp_tw_reuse
2 error net.ipv4.tcp_fin_timeout
rc=1'
check "$D/crlf.conf" '1 note -
2 harmful net.ipv4.tcp_timestamps
3 info net.core.somaxconn
rc=1'
like "$("$TD_BIN" sysctl lint --json "$D/crlf.conf" | jq -r '.effective[0].value')" '^32768$' \
	"CR stripped from the value"
check "$D/utf8.conf" '3 info net.ipv4.tcp_keepalive_time
4 error net.ipv4.tcp_réuse
rc=1'
check "$D/longline.conf" '1 info net.ipv4.tcp_fin_timeout
2 error -
3 info net.ipv4.tcp_syncookies
rc=1'
out=$("$TD_BIN" sysctl lint --json "$D/binary.conf")
is $? 1 "binary junk: exit 1"
is "$(jq -r '[.findings[] | select(.message | test("rest of the file is skipped"))] | map(.line) | join(" ")' <<<"$out")" \
	"21" "binary junk: given up after 20 parse errors, at line 21"
is "$(jq -r '[.findings[] | select(.severity != "error")] | length' <<<"$out")" 0 \
	"binary junk: nothing but errors"
is "$(jq -r '.findings | length' <<<"$out")" 22 "binary junk: every finding is valid JSON (bytes that are not UTF-8 included)"

# A directory is read in name order; later files win; README is not a .conf.
check "$D/override" '1 note net.ipv4.tcp_fin_timeout
1 info net.ipv4.tcp_fin_timeout
2 warn net.core.somaxconn
2 info net.core.somaxconn
3 info net.ipv4.tcp_keepalive_time
1 note net.ipv4.tcp_fin_timeout
1 info net.ipv4.tcp_fin_timeout
2 info net.core.somaxconn
1 info net.ipv4.tcp_fin_timeout
rc=0'
is "$("$TD_BIN" sysctl lint --json "$D/override" | jq -r '.effective[] | "\(.key)=\(.value)@\(.file | sub(".*/"; "")):\(.line)"' | tr '\n' ' ')" \
	"net.core.somaxconn=8192@20-site.conf:2 net.ipv4.tcp_fin_timeout=60@99-local.conf:1 net.ipv4.tcp_keepalive_time=600@10-base.conf:3 " \
	"directory: effective values and the file:line that sets each"

# The system's files in systemd-sysctl order, under a fake root: /etc masks /usr/lib by name,
# a link to /dev/null masks, names sort across directories, /etc/sysctl.conf comes last.
out=$("$TD_BIN" sysctl lint --json --root "$D/tree")
is "$(jq -r '[.findings[] | .file | sub(".*/tree"; "")] | unique | join(" ")' <<<"$out")" \
	"/etc/sysctl.conf /etc/sysctl.d/50-tune.conf /run/sysctl.d/60-runtime.conf /usr/lib/sysctl.d/10-vendor.conf /usr/local/lib/sysctl.d/80-local.conf" \
	"--root: the files systemd-sysctl reads (masked ones left out)"
is "$(jq -r '.effective[] | "\(.key)=\(.value)@\(.file | sub(".*/tree"; ""))"' <<<"$out" | tr '\n' ' ')" \
	"net.core.somaxconn=16384@/etc/sysctl.conf net.ipv4.tcp_fin_timeout=30@/etc/sysctl.d/50-tune.conf net.ipv4.tcp_keepalive_time=7200@/usr/lib/sysctl.d/10-vendor.conf net.ipv4.tcp_tw_reuse=1@/usr/local/lib/sysctl.d/80-local.conf " \
	"--root: effective values, /etc/sysctl.conf last"

# Exit codes and errors
"$TD_BIN" sysctl lint "$D/override" >/dev/null 2>&1
is $? 0 "exit 0 when nothing is harmful or an error"
"$TD_BIN" sysctl lint "$D/no-such-file.conf" >/dev/null 2>&1
is $? 1 "exit 1 for a missing file"
like "$("$TD_BIN" sysctl lint "$D/no-such-file.conf" 2>&1)" "no-such-file.conf:0: error: No such file or directory" \
	"a missing file is named"
"$TD_BIN" sysctl lint --bogus >/dev/null 2>&1
is $? 2 "exit 2 for a usage error"
"$TD_BIN" sysctl frobnicate >/dev/null 2>&1
is $? 2 "exit 2 for an unknown subcommand"
"$TD_BIN" -N all sysctl lint "$D/noeq.conf" >/dev/null 2>&1
is $? 2 "-N all is a usage error"
