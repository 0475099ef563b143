#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# serve in front of a private namespace built by sockfarm (IPv4: 18 ESTABLISHED, 7 TIME_WAIT,
# 3 CLOSE_WAIT, 3 FIN_WAIT2, 2 SYN_RECV, 3 LISTEN, one full accept queue): the page is valid
# for promtool and has the kernel's numbers; a real Prometheus (Debian's) scrapes it, loads
# contrib's rules and its API returns the same numbers; HEAD answers like GET; oversized requests,
# other methods and bodies get their 4xx; SIGHUP makes a new collection (also for --textfile) and
# SIGTERM stops it cleanly. The exporter, Prometheus and every client run in a second namespace of
# the test's (on its 127.0.0.1 / ::1): nothing touches the host's loopback. Crowds of idle and
# slow clients, the deadline and the connection limit are serve_hostile.sh's.
. "$(dirname "$0")/../lib.sh"
td_require_netns "serve scenarios"
td_require curl curl && td_require python3 python3 || exit 1
FARM=$TD_HELPERS/sockfarm
d=$(mktemp -d)
trap 'td_cleanup; rm -rf "$d"' EXIT
val() { awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print "absent" }' "$1"; }
# The exporter, Prometheus and the clients live in namespace E and look at F with -N, so their
# own sockets and counters stay out of F's numbers; nsenter execs in place, so $! is the
# exporter's pid.
code() { "${INNS[@]}" curl -s -g -m 5 -o /dev/null -w '%{http_code}' "$@"; }

td_netns_add F serve
td_netns_add E exporter
INNS=(nsenter --net="/run/netns/$E") # an array, not a function: `... &` then gives the real pid
ip netns exec "$F" "$FARM" --listen 2 --estab 5 --timewait 7 --closewait 3 --synrecv 2 --family 4 \
	--hold 600 >"$d/farm" 2>/dev/null &
td_bg_pid $!
td_wait_for "$d/farm" ready
ok $? "sockfarm ready"

# --min-interval 30: every page in this test comes from one collection unless said otherwise
"${INNS[@]}" "$TD_BIN" -N "$F" serve --listen 127.0.0.1:0 --min-interval 30 >"$d/out" 2>"$d/err" &
EXP=$!
td_bg_pid $EXP
td_wait_for "$d/out" "^listening on http://127.0.0.1:[0-9]*/metrics$"
ok $? "exporter listening on 127.0.0.1, port chosen by the kernel"
URL=$(sed -n 's/^listening on //p' "$d/out")
PORT=${URL##*:}
PORT=${PORT%/metrics}
base=${URL%/metrics}

"${INNS[@]}" curl -s -m 10 -D "$d/hdr" -o "$d/m1" "$URL"
is "$?" 0 "GET /metrics"
like "$(tr -d '\r' <"$d/hdr")" $'Content-Type: text/plain; version=0.0.4; charset=utf-8' "exposition content type"
if td_require promtool prometheus; then
	lint=$(promtool check metrics <"$d/m1" 2>&1)
	is "$?:$lint" "0:" "promtool check metrics on the live page"
fi
want=$(sed -n 2p "$d/farm" | python3 -c 'import json,sys; s=json.load(sys.stdin)["ipv4"]["states"]; print(" ".join(f"{k}={v}" for k,v in s.items()))')
got=$(for kv in $want; do
	printf '%s=%s ' "${kv%%=*}" "$(val "$d/m1" "tcpdoctor_sockets{netns=\"$F\",family=\"ipv4\",state=\"${kv%%=*}\"}")"
done)
is "${got% }" "$want" "census by state equals what sockfarm built"
is "$(val "$d/m1" "tcpdoctor_sockets{netns=\"$F\",family=\"ipv4\",state=\"TIME_WAIT\"}")" \
	"$(ip netns exec "$F" ss -tanH state time-wait | wc -l)" "TIME_WAIT: ss agrees"
kern() { ip netns exec "$F" awk -v k="$1" '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 } else print $c[k] }' /proc/net/snmp; }
is "$(val "$d/m1" "tcpdoctor_tcp_active_opens_total{netns=\"$F\"}") $(val "$d/m1" "tcpdoctor_tcp_passive_opens_total{netns=\"$F\"}")" \
	"$(kern ActiveOpens) $(kern PassiveOpens)" "ActiveOpens/PassiveOpens counters equal /proc/net/snmp in the namespace"
is "$(val "$d/m1" "tcpdoctor_findings{netns=\"$F\",id=\"accept-queue\",severity=\"critical\"}")" 1 \
	"findings: the full accept queue is critical"
is "$(val "$d/m1" "tcpdoctor_port_dest_time_wait_sockets{netns=\"$F\",src=\"127.0.0.2\",dst=\"127.0.0.1\",dport=\"20016\"}")" 7 \
	"per destination: 7 TIME_WAIT to 127.0.0.1:20016"

# caching: 20 scrapes at once inside --min-interval are served the startup collection
par=()
for i in $(seq 20); do
	"${INNS[@]}" curl -s -m 10 -o "$d/par$i" "$URL" &
	par+=($!)
done
wait "${par[@]}"
is "$(cat "$d"/par* | awk '$1 == "tcpdoctor_collections_total" { print $2 }' | sort -u | tr '\n' ' ')" "1 " \
	"20 concurrent scrapes: one collection (collections_total 1 on every page)"

# the same page for node_exporter's textfile collector, and an IPv6 listener
"$TD_BIN" -N "$F" serve --textfile "$d/tf.prom"
is "$?:$(val "$d/tf.prom" "tcpdoctor_sockets{netns=\"$F\",family=\"ipv4\",state=\"CLOSE_WAIT\"}")" "0:3" \
	"--textfile with -N: 3 CLOSE_WAIT"
"${INNS[@]}" "$TD_BIN" serve --listen '[::1]:0' --no-owners >"$d/out6" 2>&1 &
P6=$!
td_bg_pid $P6
td_wait_for "$d/out6" '^listening on http://\[::1\]:'
is "$(code "$(sed -n 's/^listening on //p' "$d/out6")")" 200 "[::1]:PORT serves /metrics"
kill "$P6"
wait "$P6"
is "$?" 0 "IPv6 exporter: SIGTERM exits 0"

# a real Prometheus scrapes it every second and loads contrib's rules
if td_require prometheus prometheus; then
	PP=$("${INNS[@]}" python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat >"$d/prometheus.yml" <<YML
global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [ "$TD_ROOT/contrib/prometheus/tcpdoctor.rules.yml" ]
scrape_configs:
  - job_name: tcpdoctor
    static_configs: [ { targets: [ "127.0.0.1:$PORT" ] } ]
YML
	"${INNS[@]}" prometheus --config.file="$d/prometheus.yml" --storage.tsdb.path="$d/tsdb" \
		--web.listen-address="127.0.0.1:$PP" --log.level=warn >"$d/prom.log" 2>&1 &
	PROM=$!
	td_bg_pid $PROM
	api() { # path: the JSON answer of Prometheus' HTTP API on 127.0.0.1
		"${INNS[@]}" python3 -c 'import sys, urllib.request
try: print(urllib.request.urlopen("http://127.0.0.1:%s%s" % (sys.argv[1], sys.argv[2]), timeout=5).read().decode())
except Exception as e: print("{}")' "$PP" "$1"
	}
	qs() { # PromQL expressions: each one's values, sorted, space-separated, one line each
		"${INNS[@]}" python3 -c 'import json, sys, urllib.parse, urllib.request
for q in sys.argv[2:]:
    try:
        d = json.load(urllib.request.urlopen("http://127.0.0.1:%s/api/v1/query?query=%s" % (sys.argv[1], urllib.parse.quote(q)), timeout=5))
    except Exception:
        d = {}
    print(" ".join(sorted(r["value"][1] for r in d.get("data", {}).get("result", []))))' "$PP" "$@"
	}
	# one Python for all the queries: the TIME_WAIT sockets last 60 s, on a loaded machine too
	RR="tcpdoctor:port_dest_usage:ratio{netns=\"$F\",dport=\"20016\"} * 28232"
	for _ in $(seq 300); do [ -n "$(qs "$RR")" ] && break; sleep 0.1; done
	mapfile -t res < <(qs 'up{job="tcpdoctor"}' "tcpdoctor_sockets{netns=\"$F\",family=\"ipv4\",state=\"TIME_WAIT\"}" \
		"tcpdoctor_sockets{netns=\"$F\",family=\"ipv4\",state=\"ESTABLISHED\"}" "sum(tcpdoctor_sockets{netns=\"$F\"})" \
		"tcpdoctor_tcp_active_opens_total{netns=\"$F\"}" "$RR")
	is "${res[0]:-}" 1 "Prometheus: target up"
	is "${res[1]:-}" 7 "Prometheus: TIME_WAIT 7"
	is "${res[2]:-}" 18 "Prometheus: ESTABLISHED 18"
	is "${res[3]:-}" 36 "Prometheus: 36 sockets in the namespace"
	is "${res[4]:-}" "$(kern ActiveOpens)" "Prometheus: ActiveOpens as the kernel counts"
	is "${res[5]:-}" 7 "Prometheus: recording rule, 7 of 28232 ports"
	is "$(api /api/v1/rules | python3 -c 'import json, sys
g = json.load(sys.stdin)["data"]["groups"]; print(len(g), sum(len(x["rules"]) for x in g))')" "2 17" \
		"Prometheus loaded contrib's 2 rule groups, 17 rules"
	alert=""
	for _ in $(seq 100); do
		alert=$(api /api/v1/alerts | python3 -c 'import json, sys
print(" ".join(sorted("%s/%s/%s" % (a["labels"]["alertname"], a["labels"].get("id", ""), a["state"])
	for a in json.load(sys.stdin).get("data", {}).get("alerts", []))))')
		[[ $alert == *TcpdoctorCriticalFinding/accept-queue/* ]] && break
		sleep 0.1
	done
	like "$alert" "TcpdoctorCriticalFinding/accept-queue/pending" "Prometheus: the critical-finding alert is pending for accept-queue"
	kill "$PROM"
	wait "$PROM"
	is "$?" 0 "Prometheus stopped"
fi

# hostile requests, one at a time from 127.0.0.4: the status line (and Allow), then with
# "all" the Content-Length header and how many bytes came after the headers
cat >"$d/hostile.py" <<'PY'
import socket, sys
port, req, everything = int(sys.argv[1]), sys.argv[2], len(sys.argv) > 3
s = socket.socket()
s.bind(("127.0.0.4", 0))
s.settimeout(5)
s.connect(("127.0.0.1", port))
s.sendall(req.encode().replace(b"BIG", b"a" * 65536).replace(b"URL", b"u" * 40000))
out = b""
try:
    while (everything or not out.endswith(b"\r\n\r\n")) and len(out) < 1 << 20:
        b = s.recv(65536)
        if not b: break
        out += b
except OSError:
    pass
head, _, body = out.partition(b"\r\n\r\n")
hdr = head.decode(errors="replace").split("\r\n")
keep = ("Allow:", "Content-Length:") if everything else ("Allow:",)
print(" ".join([hdr[0]] + [h for h in hdr[1:] if h.startswith(keep)] + (["body=%d" % len(body)] if everything else [])))
PY
raw() { "${INNS[@]}" python3 "$d/hostile.py" "$PORT" "$@"; }
is "$(raw $'GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: BIG\r\n\r\n')" "HTTP/1.1 431 Request Header Fields Too Large" \
	"64 KiB header: 431"
is "$(raw $'GET /metrics?URL HTTP/1.1\r\nHost: x\r\n\r\n')" "HTTP/1.1 414 URI Too Long" "40 KB URL: 414"
for m in POST PUT DELETE PATCH OPTIONS; do
	is "$(raw "$m /metrics HTTP/1.1"$'\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello')" \
		"HTTP/1.1 405 Method Not Allowed Allow: GET, HEAD" "$m: 405 with Allow: GET, HEAD"
done

# SIGHUP: a new collection at once (the cached page is 30 s old at most), never an exit; the
# new page is then served for 30 s, the same to GET and HEAD
coll() { "${INNS[@]}" curl -s -m 5 "$URL" | awk '$1 == "tcpdoctor_collections_total" { print $2 }'; }
c0=$(coll)
kill -HUP "$EXP"
c1=$c0
for _ in $(seq 50); do
	c1=$(coll)
	[ "$c1" != "$c0" ] && break
	sleep 0.1
done
is "$(kill -0 "$EXP" && echo alive) $((c1 - c0))" "alive 1" "SIGHUP: the exporter stays up and collects once more"
"${INNS[@]}" curl -s -m 5 -D "$d/hdr" -o /dev/null "$URL"
len=$(tr -d '\r' <"$d/hdr" | sed -n 's/^Content-Length: //p')
is "$(raw $'GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' all)" \
	"HTTP/1.1 200 OK Content-Length: $len body=$len" "GET /metrics: the whole page ($len bytes)"
is "$(raw $'HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' all)" \
	"HTTP/1.1 200 OK Content-Length: $len body=0" "HEAD /metrics: the same status and length, no body"
"${INNS[@]}" curl -s -m 5 -I -o /dev/null -D "$d/hhdr" "$URL"
is "$(tr -d '\r' <"$d/hhdr" | grep -v '^Date:')" "$(tr -d '\r' <"$d/hdr" | grep -v '^Date:')" \
	"HEAD /metrics: the same headers as GET"
is "$(raw $'HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' all | sed 's/ Content-Length: [0-9]*//')" \
	"HTTP/1.1 200 OK body=0" "HEAD /: 200, no body"
is "$(raw $'HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n')" "HTTP/1.1 404 Not Found" "HEAD elsewhere: 404"
is "$(raw $'GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello')" "HTTP/1.1 413 Content Too Large" \
	"GET with a body: 413"
is "$(raw $'GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')" \
	"HTTP/1.1 413 Content Too Large" "GET with a chunked body: 413"
is "$(raw $'GET /nope HTTP/1.1\r\nHost: x\r\n\r\n')" "HTTP/1.1 404 Not Found" "other path: 404"
like "$("${INNS[@]}" curl -s -m 5 "$base/")" '<a href="/metrics">' "/ links to /metrics"
is "$(code "$URL")" 200 "after all that, GET /metrics from 127.0.0.1 answers"

# --textfile --interval: SIGHUP rewrites the file now
"$TD_BIN" -N "$F" serve --textfile "$d/hup.prom" --interval 3600 2>"$d/tf.err" &
TF=$!
td_bg_pid $TF
td_wait_for "$d/hup.prom" '^tcpdoctor_collections_total 1$'
kill -HUP "$TF"
td_wait_for "$d/hup.prom" '^tcpdoctor_collections_total 2$'
is "$?:$(kill -0 "$TF" && echo alive)" "0:alive" "--textfile --interval 3600: SIGHUP rewrites the file at once"
kill -TERM "$TF"
wait "$TF"
is "$?:$(cat "$d/tf.err")" "0:" "--textfile: SIGTERM exits 0"


kill -TERM "$EXP"
for _ in $(seq 50); do kill -0 "$EXP" 2>/dev/null || break; sleep 0.1; done
wait "$EXP"
is "$?" 0 "SIGTERM: the exporter stops with status 0"
is "$(cat "$d/err")" "" "nothing on stderr"
