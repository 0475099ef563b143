#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# serve --textfile on a recorded dump (tests/data/replay/mixed-netlink.tdrec: per family 3 LISTEN,
# 17 ESTABLISHED, 3 SYN_RECV, 2 FIN_WAIT2, 4 TIME_WAIT, 2 CLOSE_WAIT, recorded in namespace
# td-golden-1164): promtool accepts the page, the numbers are the recording's, the file is
# replaced atomically, and bad command lines are refused. Needs no root and no live sockets.
. "$(dirname "$0")/../lib.sh"
cd "$TD_ROOT"
NL=tests/data/replay/mixed-netlink.tdrec
dir=$(mktemp -d)
trap 'rm -rf "$dir"; td_cleanup' EXIT
val() { # file metric{labels}: the sample's value, or "absent"
	awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print "absent" }' "$1"
}
NS='netns="td-golden-1164"'

"$TD_BIN" --replay "$NL" serve --textfile "$dir/td.prom"
is "$?" 0 "textfile: exit 0"
if td_require promtool prometheus; then
	lint=$(promtool check metrics <"$dir/td.prom" 2>&1)
	is "$?:$lint" "0:" "promtool check metrics: valid, no lint remark"
fi
for st in ESTABLISHED:17 SYN_RECV:3 FIN_WAIT2:2 TIME_WAIT:4 CLOSE_WAIT:2 LISTEN:3 SYN_SENT:0; do
	for fam in ipv4 ipv6; do
		is "$(val "$dir/td.prom" "tcpdoctor_sockets{$NS,family=\"$fam\",state=\"${st%%:*}\"}")" \
			"${st##*:}" "sockets $fam ${st%%:*} = ${st##*:}"
	done
done
is "$(grep -c '^tcpdoctor_sockets{' "$dir/td.prom")" 22 "sockets: 11 states x 2 families"
is "$(val "$dir/td.prom" "tcpdoctor_port_destinations{$NS}")" 8 "8 port destinations"
is "$(grep -c '^tcpdoctor_port_dest_in_use_ports{' "$dir/td.prom")" 8 "default --top 10: all 8 destinations"
is "$(val "$dir/td.prom" "tcpdoctor_port_dest_in_use_ports{$NS,src=\"127.0.0.2\",dst=\"127.0.0.1\",dport=\"20016\"}")" 4 \
	"the TIME_WAIT destination holds 4 ports"
is "$(val "$dir/td.prom" "tcpdoctor_port_dest_time_wait_sockets{$NS,src=\"::1\",dst=\"::1\",dport=\"20016\"}")" 4 \
	"4 TIME_WAIT to [::1]:20016"
is "$(val "$dir/td.prom" "tcpdoctor_port_dest_capacity_ports{$NS,src=\"::1\",dst=\"::1\",dport=\"20016\"}")" 28232 \
	"capacity of the default range: 28232"
is "$(val "$dir/td.prom" "tcpdoctor_port_dest_exhaustion_seconds{$NS,src=\"::1\",dst=\"::1\",dport=\"20016\"}")" +Inf \
	"never exhausted at this rate: +Inf"
is "$(val "$dir/td.prom" "tcpdoctor_findings{$NS,id=\"accept-queue\",severity=\"critical\"}")" 2 \
	"findings: accept-queue critical on both families' listeners"
is "$(val "$dir/td.prom" tcpdoctor_findings_worst_severity)" 3 "worst severity 3 (critical)"
is "$(val "$dir/td.prom" tcpdoctor_scrape_error)" 0 "scrape_error 0"
is "$(grep -c '^tcpdoctor_tcpext_' "$dir/td.prom")" 0 "replay: no kernel counters (none recorded)"
is "$(stat -c %a "$dir/td.prom")" 644 "file mode 0644 (readable by node_exporter)"
is "$(ls -A "$dir")" td.prom "no temporary file left"
like "$(grep '^# TYPE tcpdoctor_collections_total' "$dir/td.prom")" ' counter$' "collections_total is a counter"

"$TD_BIN" --replay "$NL" serve --textfile "$dir/td.prom" --top 3
is "$(grep -c '^tcpdoctor_port_dest_in_use_ports{' "$dir/td.prom")" 3 "--top 3: 3 destinations, riskiest first"
is "$(grep '^tcpdoctor_port_dest_in_use_ports{' "$dir/td.prom" | head -1 | awk '{print $2}')" 7 \
	"--top 3: the first holds the most ports (7)"
"$TD_BIN" --replay "$NL" serve --textfile "$dir/td.prom" --top 0
is "$(grep -c '^tcpdoctor_port_dest_' "$dir/td.prom")" 0 "--top 0: no per-destination series"

"$TD_BIN" --replay "$dir/missing.tdrec" serve --textfile "$dir/err.prom" 2>"$dir/err"
is "$?" 1 "failed collection: exit 1"
is "$(val "$dir/err.prom" tcpdoctor_scrape_error) $(val "$dir/err.prom" tcpdoctor_collection_errors_total)" "1 1" \
	"failed collection: the page says scrape_error 1, one error"
like "$(cat "$dir/err")" "^tcpdoctor: serve: collection failed: " "failed collection: the reason on stderr"
"$TD_BIN" --replay "$NL" serve --textfile "$dir/nodir/td.prom" 2>"$dir/err"
is "$?" 1 "unwritable directory: exit 1"
like "$(cat "$dir/err")" "cannot write '$dir/nodir/td.prom': No such file or directory" "unwritable directory: says why"

for bad in 1.2.3.4 ::1:80 '[::1]80' '[::1]:' localhost:80 1.2.3.4:65536 1.2.3.4:-1 1.2.3.4:80x \
	' 1.2.3.4:80' '1.2.3.4:+80' '[1.2.3.4]:80' '[::1:80'; do
	"$TD_BIN" serve --listen "$bad" >/dev/null 2>"$dir/err"
	is "$?" 2 "--listen '$bad' refused (exit 2)"
done
like "$(cat "$dir/err")" "expected ADDR:PORT" "--listen error says what is expected"
for args in "--top 1001" "--top -1" "--min-interval abc" "--min-interval 3601" "--interval 5" \
	"--textfile $dir/x.prom --listen 127.0.0.1:1" "--textfile $dir/x.prom --interval 0.0001x" "extra" \
	"--max-connections 0" "--max-connections 65537" "--max-connections 5x" \
	"--textfile $dir/x.prom --max-connections 5"; do
	"$TD_BIN" serve $args >/dev/null 2>&1
	is "$?" 2 "serve $args: exit 2"
done
like "$("$TD_BIN" serve --help)" "--listen ADDR:PORT .*default 127.0.0.1:10073" "--help names the default address"
if command -v prlimit >/dev/null; then
	# checked before listening: every connection is a descriptor, 256 + 66 are kept back
	prlimit --nofile=1000:1000 "$TD_BIN" serve --max-connections 1000 >/dev/null 2>"$dir/err"
	is "$?:$(cat "$dir/err")" \
		"1:tcpdoctor: serve: --max-connections 1000: the open-file limit (1000) allows at most 678" \
		"--max-connections beyond the open-file limit: exit 1, says how many fit"
	prlimit --nofile=300:300 "$TD_BIN" serve >/dev/null 2>"$dir/err"
	like "$?:$(cat "$dir/err")" "^1:.*the open-file limit \(300\) leaves room for 0 connections" \
		"an open-file limit too low for any connections: exit 1"
else
	skip "--max-connections and the open-file limit" "prlimit missing"
fi

# contrib/: the rules load, the dashboard is JSON, and every metric they name is one the
# exporter publishes (a live page of this namespace has the kernel counters a replay lacks)
if td_require promtool prometheus; then
	out=$(promtool check rules contrib/prometheus/tcpdoctor.rules.yml 2>&1)
	is "$?" 0 "promtool check rules contrib/prometheus/tcpdoctor.rules.yml"
	like "$out" "SUCCESS: 17 rules found" "rules: 17 rules"
fi
python3 -m json.tool contrib/grafana/tcpdoctor.json >/dev/null
is "$?" 0 "contrib/grafana/tcpdoctor.json is JSON"
"$TD_BIN" serve --textfile "$dir/live.prom" --no-owners
is "$?" 0 "textfile of the current namespace: exit 0"
# tcpdoctor_trace_* come with serve --trace (BPF): tests/integration/trace_use.sh checks those
missing=$(grep -ohE 'tcpdoctor_[a-z0-9_]+' contrib/prometheus/tcpdoctor.rules.yml contrib/grafana/tcpdoctor.json |
	grep -v '^tcpdoctor_trace_' | sort -u | while read -r n; do grep -q "^# TYPE $n " "$dir/live.prom" || echo "$n"; done)
is "$missing" "" "every metric named in contrib/ is published"
