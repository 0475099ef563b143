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

# Inline '#' (tcp-facts#sysctl-files): integer and vector keys keep the numbers before a blank
# and '#', names and port lists reject the write, and so does a '#' glued to a digit or one that
# comes before every number is written. A rejected line is an error and never an effective value.
check "$D/inline-hash.conf" '1 warn net.ipv4.tcp_fin_timeout
1 note net.ipv4.tcp_fin_timeout
2 warn net.ipv4.ip_local_port_range
3 error net.ipv4.tcp_congestion_control
4 error net.ipv4.ip_local_reserved_ports
5 error net.ipv4.tcp_keepalive_time
6 error net.ipv4.ip_local_port_range
7 warn net.ipv4.tcp_rmem
rc=1'
out=$("$TD_BIN" sysctl lint "$D/inline-hash.conf")
like "$out" "inline-hash.conf:1: warn: [^"$'\n'"]*: inline '#' is not a comment: the kernel keeps '30' and ignores the rest" \
	"inline #: an integer key keeps the number"
like "$out" "inline-hash.conf:2: warn: [^"$'\n'"]*: the kernel keeps '40000 50001'" "inline #: a vector key keeps its numbers"
like "$out" "inline-hash.conf:3: error: [^"$'\n'"]*: inline '#' is part of the value: the kernel rejects the write \(ENOENT" \
	"inline #: a congestion control name is rejected"
like "$out" "inline-hash.conf:4: error: [^"$'\n'"]*: the kernel rejects the write \(EINVAL\)" "inline #: a port list is rejected"
like "$out" "inline-hash.conf:5: error: [^"$'\n'"]*: the kernel rejects the write \(EINVAL\)" "inline #: '600# c' is rejected"
is "$("$TD_BIN" sysctl lint --json "$D/inline-hash.conf" | jq -r '[.effective[] | "\(.key | sub("net.ipv4."; ""))@\(.line)"] | join(" ")')" \
	"ip_local_port_range@2 tcp_fin_timeout@1 tcp_rmem@7" "inline #: rejected lines are not effective values"
if need_root; then
	# the kernel agrees, line by line: write each value as sysctl -p does into a fresh namespace
	td_netns_add H hash
	j=$("$TD_BIN" sysctl lint --json "$D/inline-hash.conf")
	agree=0 n=0
	while IFS= read -r l; do
		n=$((n + 1))
		k=${l%% =*} v=${l#*= }
		p=/proc/sys/${k//.//}
		if ip netns exec "$H" sh -c 'printf "%s\n" "$1" >"$2"' sh "$v" "$p" 2>/dev/null; then
			got="kept $(ip netns exec "$H" cat "$p" | tr '\t' ' ')"
		else
			got=rejected
		fi
		want=$(jq -r --argjson n "$n" '[.findings[] | select(.line == $n and (.message | test("inline")))][0] |
			if .severity == "error" then "rejected" else "kept " + (.message | capture("keeps .(?<v>[^'"'"']*).").v) end' <<<"$j")
		[ "$got" == "$want" ] && agree=$((agree + 1)) || diag "line $n: kernel $got, lint $want"
	done <"$D/inline-hash.conf"
	is "$agree/$n" "7/7" "inline #: lint says what the kernel of a fresh namespace does with each line"
else
	skip "inline #: the kernel agrees" "needs root and network namespaces"
fi

# tcp_tw_reuse with tcp_timestamps = 0 is dead (a warning naming the other line), not harmful.
check "$D/crosskey.conf" '2 note net.ipv4.tcp_tw_reuse
2 warn net.ipv4.tcp_tw_reuse
3 harmful net.ipv4.tcp_timestamps
rc=1'
like "$("$TD_BIN" sysctl lint "$D/crosskey.conf")" "crosskey.conf:2: warn: net.ipv4.tcp_tw_reuse = 1: dead: tcp_timestamps = 0 at [^ ]*crosskey.conf:3 disables tcp_tw_reuse" \
	"dead tcp_tw_reuse names the tcp_timestamps line"

# Keys pasted from blogs are in the table (tcp_fack and tcp_low_latency: no effect), and the keys
# tcpdoctor does not judge are one line per file unless -v.
check "$D/pasted.conf" '1 info net.ipv4.tcp_fack
2 info net.ipv4.tcp_low_latency
3 info net.ipv4.tcp_sack
4 info net.ipv4.tcp_window_scaling
5 info net.ipv4.tcp_slow_start_after_idle
6 info net.ipv4.tcp_no_metrics_save
7 info net.ipv4.ip_forward
8 info net.ipv4.tcp_fastopen
9 info net.ipv4.tcp_notsent_lowat
10 info net.ipv4.tcp_mtu_probing
11 warn net.ipv4.tcp_retries2
12 info -
13 note vm.swappiness
rc=0'
out=$("$TD_BIN" sysctl lint "$D/pasted.conf")
like "$out" "tcp_fack = 1: no effect on current kernels" "tcp_fack: no effect"
like "$out" "tcp_low_latency = 1: no effect on current kernels" "tcp_low_latency: no effect"
like "$out" "pasted.conf:12: info: 5 lines with 4 keys not in tcpdoctor's knowledge table: kernel.pid_max, vm.swappiness, fs.file-max, net.ipv4.conf.all.rp_filter"$'\n' \
	"keys outside the table: one line for the file, naming them"
is "$(grep -c "not in tcpdoctor's knowledge table" <<<"$out")" 1 "keys outside the table: one line, not five"
is "$("$TD_BIN" sysctl lint -v "$D/pasted.conf" | grep -c "not in tcpdoctor's knowledge table; the key exists")" 5 \
	"-v: one line per line that sets a key outside the table"
is "$("$TD_BIN" sysctl lint --json "$D/pasted.conf" "$D/misc.conf" | jq -r '[.findings[] | select(.message | test("knowledge table")) | "\(.file | sub(".*/"; "")):\(.line)"] | join(" ")')" \
	"pasted.conf:12 misc.conf:9" "one line per file (a single key keeps its own line)"

# Linear: 80,000 copies of one line, and 80,000 lines of one misspelled key, each lint well
# within a generous bound (the quadratic version took minutes on 15 MB). A functional bound on
# a sanitizer build, not a benchmark.
tmp=$(mktemp -d)
trap 'td_cleanup; rm -rf "$tmp"' EXIT
# files that set nothing: lint says it read them rather than print nothing
printf '# only a comment\n\n; and another\n' >"$tmp/empty.conf"
mkdir "$tmp/noconf" && printf 'net.ipv4.tcp_fin_timeout = 30\n' >"$tmp/noconf/README"
out=$("$TD_BIN" sysctl lint "$tmp/empty.conf")
is "$?:$out" "0:No setting in $tmp/empty.conf: only comments and blank lines." \
	"a file with only comments: lint says it has no setting (exit 0)"
is "$("$TD_BIN" sysctl lint "$tmp/empty.conf" "$tmp/empty.conf")" \
	"No setting in the 2 files read: only comments and blank lines." "and of two such files"
out=$("$TD_BIN" sysctl lint "$tmp/noconf")
is "$?:$out" "0:$tmp/noconf: no *.conf file in this directory (lint reads those, as systemd-sysctl does)" \
	"a directory without *.conf files: lint says so (exit 0)"
is "$("$TD_BIN" sysctl lint --json "$tmp/noconf" | jq -c .)" '{"findings":[],"effective":[]}' \
	"and its JSON stays the empty document"
yes 'net.ipv4.tcp_fin_timeout = 30' | head -n 80000 >"$tmp/dup.conf"
yes 'net.ipv4.tcp_timestsmps = 0' | head -n 80000 >"$tmp/typo.conf"
out=$(timeout 20 "$TD_BIN" sysctl lint "$tmp/dup.conf")
is "$?" 0 "80,000 duplicate lines: done within 20 s (exit 0)"
is "$(grep -c ': overridden by .*dup.conf:80000, which sets' <<<"$out")" 79999 "80,000 duplicate lines: each earlier line names the winner"
like "$out" "tcp_fin_timeout = 30    \(.*dup.conf:80000, overrides 79999 earlier lines\)" "80,000 duplicate lines: the effective value"
out=$(timeout 20 "$TD_BIN" sysctl lint "$tmp/typo.conf")
is "$?" 1 "80,000 lines of a misspelled key: done within 20 s (exit 1)"
is "$(grep -c 'did you mean net.ipv4.tcp_timestamps?' <<<"$out")" 80000 "80,000 lines of a misspelled key: each has its did-you-mean"

# In a child namespace net.core.rmem_* are the host's values, read-only (0444 on 6.18).
if need_root; then
	td_netns_add C child
	is "$(ip netns exec "$C" stat -c %a /proc/sys/net/core/rmem_max)" 444 "(rmem_max is read-only in a child namespace)"
	printf 'net.core.rmem_max = 16777216\nnet.core.wmem_default = 262144\nnet.ipv4.tcp_sack = 1\n' >"$tmp/rmem.conf"
	j=$("$TD_BIN" -N "$C" sysctl lint --json "$tmp/rmem.conf")
	is "$(jq -r '[.findings[] | "\(.line) \(.severity) \(.message)"] | join("; ")' <<<"$j")" \
		"1 warn global key: read-only in this network namespace; set it on the host; 2 warn global key: read-only in this network namespace; set it on the host; 3 info same as this kernel's default: the line changes nothing" \
		"rmem_max and wmem_default: read-only in a child namespace"
	is "$(jq -r '[.effective[].key] | join(" ")' <<<"$j")" "net.ipv4.tcp_sack" "read-only keys are not effective values"
	# each new key's default is this kernel's: a fresh namespace reads it
	bad=
	for k in tcp_fack tcp_sack tcp_window_scaling tcp_slow_start_after_idle tcp_no_metrics_save \
		ip_forward tcp_fastopen tcp_notsent_lowat tcp_mtu_probing tcp_retries2; do
		v=$(ip netns exec "$C" cat "/proc/sys/net/ipv4/$k")
		printf 'net.ipv4.%s = %s\n' "$k" "$v" >"$tmp/def.conf"
		m=$("$TD_BIN" -N "$C" sysctl lint --json "$tmp/def.conf" | jq -r '.findings[0].message')
		[[ $m == "same as this kernel's default"* || $m == "no effect on current kernels"* ]] || bad+=" $k=$v($m)"
	done
	is "${bad:-none}" none "the new keys' defaults are those a fresh namespace has"
	is "$("$TD_BIN" -N "$C" sysctl lint --json "$D/pasted.conf" | jq -r '.findings[] | select(.line == 2) | .message')" \
		"global key: not visible in this network namespace; set it on the host" \
		"tcp_low_latency exists only in the initial namespace on 6.18"
else
	skip "read-only keys in a child namespace" "needs root and network namespaces"
fi

# Conntrack keys (tcp-facts#conntrack-sysctl). The files exist once nf_conntrack is loaded: an
# nftables ct rule in a namespace of our own loads it (nothing of the host's is changed). In the
# initial namespace the limit is writable; in a child one it is the host's, read-only, and so
# are the hash size; the timeouts are per namespace with the compiled-in defaults.
if need_root && command -v nft >/dev/null; then
	td_netns_add T cttrack
	printf 'table inet tdtest {\n\tchain out { type filter hook output priority 0; ct state new counter; }\n}\n' |
		ip netns exec "$T" nft -f -
	check "$D/conntrack.conf" '2 error net.ipv4.netfilter.ip_conntrack_tcp_timeout_time_wait
3 error net.ipv4.netfilter.ip_conntrack_max
4 note net.netfilter.nf_conntrack_max
5 note net.netfilter.nf_conntrack_tcp_timeout_time_wait
6 warn net.netfilter.nf_conntrack_tcp_timeout_established
7 warn net.netfilter.nf_conntrack_tcp_be_liberal
8 note net.netfilter.nf_conntrack_tcp_loose
9 info net.netfilter.nf_conntrack_udp_timeout
10 warn net.netfilter.nf_conntrack_count
rc=1'
	out=$("$TD_BIN" sysctl lint "$D/conntrack.conf")
	like "$out" "conntrack.conf:2: error: net.ipv4.netfilter.ip_conntrack_tcp_timeout_time_wait = 120: removed from the kernel in 4\.10" \
		"legacy ip_conntrack name: gone, and since when"
	like "$out" "the key is net\.netfilter\.nf_conntrack_tcp_timeout_time_wait\. sysctl -p fails on this line" \
		"legacy name: which key replaced it, and that the line fails"
	like "$out" "conntrack.conf:4: note: .*raised without nf_conntrack_buckets \($(cat /proc/sys/net/netfilter/nf_conntrack_buckets)\)" \
		"a raised max without the buckets: the hash size named"
	like "$out" "time_wait = 30: frees conntrack slots sooner; TCP's own TIME_WAIT stays 60 s" \
		"conntrack's TIME_WAIT is not TCP's"
	like "$out" "be_liberal = 1: hides invalid packets" "tcp_be_liberal hides invalid packets"
	printf 'net.netfilter.nf_conntrack_max = 524288\nnet.netfilter.nf_conntrack_buckets = 524288\n' >"$tmp/ctb.conf"
	is "$("$TD_BIN" sysctl lint --json "$tmp/ctb.conf" | jq -r '[.findings[] | select(.line == 1)] | length')" 0 \
		"a max raised with buckets to match: no chain-length note"
	# child namespace: limit, hash size and expect_max are the host's, read-only; timeouts are not
	td_netns_add K ctchild
	is "$(ip netns exec "$K" stat -c %a /proc/sys/net/netfilter/nf_conntrack_{max,buckets,expect_max,tcp_timeout_time_wait} | tr '\n' ' ')" \
		"444 444 444 644 " "(child namespace: max, buckets, expect_max read-only; timeouts writable)"
	is "$(ip netns exec "$K" cat /proc/sys/net/netfilter/nf_conntrack_max)" "$(cat /proc/sys/net/netfilter/nf_conntrack_max)" \
		"(child namespace: nf_conntrack_max shows the host's value)"
	printf 'net.netfilter.nf_conntrack_max = 524288\nnet.netfilter.nf_conntrack_tcp_timeout_time_wait = 30\nnet.nf_conntrack_max = 524288\n' >"$tmp/ctns.conf"
	j=$("$TD_BIN" -N "$K" sysctl lint --json "$tmp/ctns.conf")
	is "$(jq -r '[.findings[] | "\(.line) \(.severity) \(.message)"] | join("; ")' <<<"$j")" \
		"1 warn global key: read-only in this network namespace; set it on the host; 2 note frees conntrack slots sooner; TCP's own TIME_WAIT stays 60 s; 3 warn global key: not visible in this network namespace; set it on the host" \
		"child namespace: the limit is the host's, the TIME_WAIT timeout is the namespace's"
	# every per-namespace default in the table is what a fresh namespace has
	bad=
	for k in tcp_timeout_syn_sent tcp_timeout_syn_recv tcp_timeout_established tcp_timeout_fin_wait \
		tcp_timeout_close_wait tcp_timeout_last_ack tcp_timeout_time_wait tcp_timeout_close \
		tcp_timeout_max_retrans tcp_timeout_unacknowledged tcp_loose tcp_be_liberal \
		tcp_ignore_invalid_rst tcp_max_retrans udp_timeout udp_timeout_stream icmp_timeout \
		icmpv6_timeout generic_timeout acct checksum log_invalid timestamp; do
		v=$(ip netns exec "$K" cat "/proc/sys/net/netfilter/nf_conntrack_$k")
		printf 'net.netfilter.nf_conntrack_%s = %s\n' "$k" "$v" >"$tmp/def.conf"
		m=$("$TD_BIN" -N "$K" sysctl lint --json "$tmp/def.conf" | jq -r '.findings[0].message')
		[[ $m == "same as this kernel's default"* ]] || bad+=" $k=$v($m)"
	done
	is "${bad:-none}" none "conntrack defaults in the table are those of a fresh namespace"
	# apply -N refuses what the namespace cannot write, and writes the rest there only
	host_tw=$(cat /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_time_wait)
	printf 'net.netfilter.nf_conntrack_tcp_timeout_time_wait = 30\n' >"$tmp/ctok.conf"
	"$TD_BIN" -N "$K" sysctl apply --backup-dir "$tmp/bk" "$tmp/ctns.conf" >"$tmp/apply.out" 2>&1
	is "$?" 1 "apply -N: a file with the host's limit is refused (exit 1)"
	like "$(cat "$tmp/apply.out")" "nf_conntrack_max = 524288: refused: a global key cannot be set from a child namespace" \
		"apply -N: nf_conntrack_max refused as the host's"
	"$TD_BIN" -N "$K" sysctl apply --backup-dir "$tmp/bk" "$tmp/ctok.conf" >/dev/null 2>&1
	is "$?" 0 "apply -N: the conntrack TIME_WAIT timeout is the namespace's own"
	is "$(ip netns exec "$K" cat /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_time_wait) $(cat /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_time_wait)" \
		"30 $host_tw" "apply -N: written in the namespace, the host's untouched"
else
	skip "conntrack keys" "needs root, network namespaces and nft"
fi
