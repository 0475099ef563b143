#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# serve under a crowd (tests/helpers/crowd): 1,000 idle and 1,000 slowloris clients (one header
# byte a second), 200 of them from the scraper's own address 127.0.0.1 and the rest from distinct
# 127.1.x.x / 127.2.x.x addresses, replaced as soon as the exporter closes them; meanwhile 100
# scrapes from 127.0.0.1 must all answer with the exact census of a sockfarm namespace. Then: the
# crowd was cut at the whole-request deadline (5 s) with a 408; at a small --max-connections a
# newcomer takes the oldest idle client's slot (which gets a 503 with a reason); only when every
# slot is busy answering (clients that do not read, in a namespace whose send buffers are tiny)
# is a newcomer refused, with a 503 and a reason; those non-readers are cut at the deadline too.
# Scrape times, connections held and RSS are printed as diag lines, never asserted.
. "$(dirname "$0")/../lib.sh"
td_require_netns "serve under hostile clients"
td_require curl curl || exit 1
FARM=$TD_HELPERS/sockfarm
CROWD=$TD_HELPERS/crowd
d=$(mktemp -d)
trap 'td_cleanup; rm -rf "$d"' EXIT
val() { awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print "absent" }' "$1"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# held NS PORT PID: established connections to PORT that the exporter PID has accepted
held() { ip netns exec "$1" ss -tnpH state established "( sport = :$2 )" | grep -c "pid=$3,"; }
# wait_held NS PORT PID WANT SECONDS: until held is WANT; prints the last count
wait_held() {
	local i n
	for ((i = 0; i < $5 * 5; i++)); do
		n=$(held "$1" "$2" "$3")
		[ "$n" = "$4" ] && break
		sleep 0.2
	done
	echo "$n"
}
# field FILE KIND KEY: a key=value of the crowd's summary line for KIND
field() { sed -n "s/^$2 .*\<$3=\([^ ]*\).*/\1/p" "$1"; }
start_exporter() { # NS OUT ARGS...: starts it, sets EXP and URL/PORT
	local ns=$1 out=$2
	shift 2
	ip netns exec "$ns" "$TD_BIN" -N "$F" serve --listen 127.0.0.1:0 --no-owners "$@" \
		>"$out" 2>"$out.err" &
	EXP=$!
	td_bg_pid $EXP
	td_wait_for "$out" "^listening on http://127.0.0.1:[0-9]*/metrics$"
	URL=$(sed -n 's/^listening on //p' "$out")
	PORT=${URL##*:}
	PORT=${PORT%/metrics}
}
stop_exporter() { # PID ERRFILE what
	kill -TERM "$1"
	wait "$1"
	is "$?:$(cat "$2")" "0:" "$3: SIGTERM exits 0, nothing on stderr"
}

td_netns_add F hostile-farm
td_netns_add E hostile
td_netns_add G hostile-tiny
INE=(nsenter --net="/run/netns/$E")
# only sockets that last: LISTEN and ESTABLISHED (TIME_WAIT and orphans expire within the run)
ip netns exec "$F" "$FARM" --listen 2 --estab 5 --family 4 --hold 300 >"$d/farm" 2>/dev/null &
td_bg_pid $!
td_wait_for "$d/farm" ready
ok $? "sockfarm ready"
want=$(sed -n 2p "$d/farm" | python3 -c 'import json,sys; s=json.load(sys.stdin)["ipv4"]["states"]; print(" ".join(f"{k}={v}" for k,v in sorted(s.items())))')
census() { # FILES...: each page's census of F, in the same form, one line per page
	awk -v want="$want" -v ns="$F" '
	function out(  n, i, w, kv, k, line) {
		n = split(want, w, " ")
		for (i = 1; i <= n; i++) {
			split(w[i], kv, "=")
			k = "tcpdoctor_sockets{netns=\"" ns "\",family=\"ipv4\",state=\"" kv[1] "\"}"
			line = line (i > 1 ? " " : "") kv[1] "=" ((k in v) ? v[k] : "absent")
		}
		print line
		delete v
	}
	FNR == 1 && NR > 1 { out() }
	{ v[$1] = $2 }
	END { out() }' "$@"
}

# 1. 2,000 hostile clients held while Prometheus-like scrapes (every one a fresh collection)
start_exporter "$E" "$d/out" --min-interval 0
ok $? "exporter listening (--min-interval 0: every scrape collects)"
E1=$EXP
rss0=$(rss_kb "$E1")
ip netns exec "$E" "$CROWD" "127.0.0.1:$PORT" 120 --reconnect idle:900@127.1.0.1+ \
	idle:100@127.0.0.1 slow:900@127.2.0.1+ slow:100@127.0.0.1 >"$d/crowd1" 2>&1 &
CR=$!
td_bg_pid $CR
td_wait_for "$d/crowd1" '^ready' 60
ready_at=$SECONDS
is "$(sed -n 's/^ready //p' "$d/crowd1")" "opened=2000 failed=0" "crowd: 2000 connections opened"
is "$(wait_held "$E" "$PORT" "$E1" 2000 10)" 2000 \
	"the exporter holds all 2000 (no per-address limit: 200 share the scraper's address)"
N=100
hmin=999999 hmax=0 rmax=0
for ((i = 1; i <= N; i++)); do
	# only curl in the loop: starting processes is slow on a loaded machine
	"${INE[@]}" curl -s -m 10 --interface 127.0.0.1 -o "$d/page$i" \
		-w '%{http_code} %{time_total}\n' "$URL" >>"$d/scrapes"
	if ((i % 10 == 0)); then
		h=$(held "$E" "$PORT" "$E1")
		m=$(rss_kb "$E1")
		((h < hmin)) && hmin=$h
		((h > hmax)) && hmax=$h
		((m > rmax)) && rmax=$m
	fi
done
pages=()
for ((i = 1; i <= N; i++)); do pages+=("$d/page$i"); done
census "${pages[@]}" | paste -d' ' "$d/scrapes" - >"$d/results"
bad=$(grep -cv "^200 [0-9.]* $want\$" "$d/results")
[ "$bad" = 0 ] || grep -v "^200 [0-9.]* $want\$" "$d/results" | head -5 | while read -r l; do diag "bad scrape: $l"; done
awk '{ print $2 }' "$d/scrapes" >"$d/times"
is "$(wc -l <"$d/results")" "$N" "$N scrapes made"
is "$bad" 0 "$N scrapes from 127.0.0.1 during the crowd: every one 200 with the census ($want)"
read -r p50 p99 pmax < <(sort -n "$d/times" | awk '{ t[NR] = $1 } END {
	printf "%.3f %.3f %.3f\n", t[int(NR * 0.5 + 0.5)], t[int(NR * 0.99 + 0.5)], t[NR] }')
diag "scrape time s (curl, fresh collection each): p50 $p50, p99 $p99, max $pmax"
diag "connections held during the scrapes: $hmin to $hmax (the crowd is replaced as it is cut)"
diag "exporter VmRSS KiB: before $rss0, max with the crowd $rmax"
# The first 2,000 are cut 5 s after their accept: keep the crowd until that has passed with room
# to spare (on an idle machine the scrapes end within a second or two).
while ((SECONDS - ready_at < 9)); do sleep 0.2; done
kill -TERM "$CR"
wait "$CR"
for k in idle slow; do
	c=$(field "$d/crowd1" $k closed)
	is "$(field "$d/crowd1" $k status)" "408:$c" "$k clients: all $c cut by the exporter, each with a 408"
	ok $(((c >= 1000) ? 0 : 1)) "$k clients: each of the first 1000 was cut ($c cuts)"
	min=$(field "$d/crowd1" $k min) max=$(field "$d/crowd1" $k max)
	diag "$k clients: lifetime from connect to the cut $min s to $max s"
	ok "$(awk -v a="$min" -v b="$max" 'BEGIN { print (a >= 4 && b <= 15) ? 0 : 1 }')" \
		"$k clients: cut after the 5 s deadline, none held past 15 s ($min-$max s)"
done
like "$(grep '^reason slow 408' "$d/crowd1")" "not complete within 5 s" "the 408 says why"
is "$(wait_held "$E" "$PORT" "$E1" 0 10)" 0 "the crowd gone, the exporter holds nothing"
diag "exporter VmRSS KiB after the crowd: $(rss_kb "$E1")"
is "$(ip netns exec "$E" curl -s -m 10 -o /dev/null -w '%{http_code}' "$URL")" 200 "and still answers"
stop_exporter "$E1" "$d/out.err" "exporter under the crowd"

# 2. at the limit a newcomer takes the slot of the oldest client without a request
start_exporter "$E" "$d/out2" --min-interval 30 --max-connections 16
E2=$EXP
ip netns exec "$E" "$CROWD" "127.0.0.1:$PORT" 30 idle:100@127.3.0.1+ >"$d/crowd2" 2>&1 &
CR=$!
td_bg_pid $CR
td_wait_for "$d/crowd2" '^ready' 30
is "$(wait_held "$E" "$PORT" "$E2" 16 10)" 16 "--max-connections 16: 100 idle clients, 16 held"
is "$(ip netns exec "$E" curl -s -m 10 --interface 127.0.0.1 -o /dev/null -w '%{http_code}' "$URL")" \
	200 "a scraper still gets in (200)"
wait "$CR"
s503=$(field "$d/crowd2" idle status | tr ',' '\n' | sed -n 's/^503://p')
s408=$(field "$d/crowd2" idle status | tr ',' '\n' | sed -n 's/^408://p')
is "$(field "$d/crowd2" idle closed)" 100 "all 100 idle clients closed by the exporter"
ok $(((${s503:-0} >= 84 && ${s503:-0} + ${s408:-0} == 100) ? 0 : 1)) \
	"at least 84 made room for newcomers (503), the others timed out (408): ${s503:-0}+${s408:-0}"
like "$(grep '^reason idle 503' "$d/crowd2")" "All 16 connections are taken: the oldest one without a complete request is closed" \
	"the 503 of a client closed to make room says why"
stop_exporter "$E2" "$d/out2.err" "exporter at --max-connections 16"

# 3. every slot busy answering: a newcomer gets a 503 with a reason. Namespace G's tiny send
# buffers (its own sysctl) keep a page stuck in the kernel for clients that do not read.
ip netns exec "$G" sysctl -q -w net.ipv4.tcp_wmem="4096 4096 4096"
start_exporter "$G" "$d/out3" --min-interval 30 --max-connections 2
E3=$EXP
ip netns exec "$G" "$CROWD" "127.0.0.1:$PORT" 30 noread:2@127.4.0.1+ >"$d/crowd3" 2>&1 &
CR=$!
td_bg_pid $CR
td_wait_for "$d/crowd3" '^ready' 30
stuck=0
for _ in $(seq 50); do
	stuck=$(ip netns exec "$G" ss -tnH state established "( sport = :$PORT )" | awk '$2 > 0' | wc -l)
	[ "$stuck" = 2 ] && break
	sleep 0.1
done
is "$stuck" 2 "--max-connections 2: two clients that do not read hold both slots, answers stuck"
ip netns exec "$G" curl -s -m 10 -D "$d/h3" -o "$d/b3" "$URL"
is "$(head -1 "$d/h3" | tr -d '\r')" "HTTP/1.1 503 Service Unavailable" "a newcomer is refused: 503"
is "$(cat "$d/b3")" "All 2 connections are busy answering; retry in a few seconds." "the 503 says why"
like "$(tr -d '\r' <"$d/h3")" $'Retry-After: 5' "with Retry-After"
is "$(wait_held "$G" "$PORT" "$E3" 0 15)" 0 "the non-readers are cut at the deadline"
is "$(ip netns exec "$G" curl -s -m 10 -o /dev/null -w '%{http_code}' "$URL")" 200 "then a scrape gets in"
kill -TERM "$CR"
wait "$CR"
stop_exporter "$E3" "$d/out3.err" "exporter at --max-connections 2"
