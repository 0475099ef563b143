#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# serve in front of a private namespace built by sockfarm (IPv4: 18 ESTABLISHED, 7 TIME_WAIT,
# 3 CLOSE_WAIT, 3 FIN_WAIT2, 2 SYN_RECV, 3 LISTEN, one full accept queue): the page is valid
# for promtool and has the kernel's numbers; a real Prometheus (Debian's) scrapes it, loads
# contrib's rules and its API returns the same numbers; then hostile clients (a thousand idle
# connections, slow headers, oversized requests, other methods, bodies) leave it answering with
# bounded memory, and SIGTERM stops it cleanly. The exporter, Prometheus and every client run
# in a second namespace of the test's (on its 127.0.0.1 / ::1): nothing touches the host's loopback;
# the sources 127.0.0.2-4 tell the clients apart (the per-address connection limit).
. "$(dirname "$0")/../lib.sh"
td_require_netns "serve scenarios"
for c in curl python3; do
	command -v $c >/dev/null || { skip "serve scenarios" "$c missing"; exit 0; }
done
FARM=$TD_HELPERS/sockfarm
d=$(mktemp -d)
trap 'td_cleanup; rm -rf "$d"' EXIT
val() { awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print "absent" }' "$1"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
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
if command -v promtool >/dev/null; then
	lint=$(promtool check metrics <"$d/m1" 2>&1)
	is "$?:$lint" "0:" "promtool check metrics on the live page"
else
	skip "promtool check metrics" "promtool missing"
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
if command -v prometheus >/dev/null; then
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
	q() { # PromQL: the values of the result, sorted, space-separated
		api "/api/v1/query?query=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1")" |
			python3 -c 'import json, sys
d = json.load(sys.stdin)
print(" ".join(sorted(r["value"][1] for r in d.get("data", {}).get("result", []))))'
	}
	TW="tcpdoctor_sockets{netns=\"$F\",family=\"ipv4\",state=\"TIME_WAIT\"}"
	for _ in $(seq 300); do [ -n "$(q "$TW")" ] && break; sleep 0.1; done
	is "$(q 'up{job="tcpdoctor"}')" 1 "Prometheus: target up"
	is "$(q "$TW")" 7 "Prometheus: TIME_WAIT 7"
	is "$(q "tcpdoctor_sockets{netns=\"$F\",family=\"ipv4\",state=\"ESTABLISHED\"}")" 18 "Prometheus: ESTABLISHED 18"
	is "$(q "sum(tcpdoctor_sockets{netns=\"$F\"})")" 36 "Prometheus: 36 sockets in the namespace"
	is "$(q "tcpdoctor_tcp_active_opens_total{netns=\"$F\"}")" "$(kern ActiveOpens)" "Prometheus: ActiveOpens as the kernel counts"
	is "$(q "tcpdoctor:port_dest_usage:ratio{netns=\"$F\",dport=\"20016\"} * 28232")" 7 "Prometheus: recording rule, 7 of 28232 ports"
	is "$(api /api/v1/rules | python3 -c 'import json, sys
g = json.load(sys.stdin)["data"]["groups"]; print(len(g), sum(len(x["rules"]) for x in g))')" "2 12" \
		"Prometheus loaded contrib's 2 rule groups, 12 rules"
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
else
	skip "real Prometheus scrape" "prometheus (Debian package) missing"
fi

# hostile clients; the exporter's memory is read before, during and after
cat >"$d/hostile.py" <<'PY'
import resource, select, socket, sys, time
mode, port = sys.argv[1], int(sys.argv[2])
if mode == "idle":  # N connections from 127.0.0.1 that never send; report what the server did
    n, want_open = int(sys.argv[3]), int(sys.argv[4])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n + 256)), hard))
    socks, state, p = {}, {}, select.poll()

    def watch(ms):
        for fd, ev in p.poll(ms):
            if state[fd] == "pending" and not ev & (select.POLLIN | select.POLLHUP | select.POLLERR):
                state[fd] = "open"
                p.modify(fd, select.POLLIN)
            else:
                state[fd] = "closed"
                p.unregister(fd)

    # in batches, so that the listen backlog (64) does not overflow: the test is about the
    # exporter's limits, not the kernel's SYN handling
    for i in range(n):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        socks[s.fileno()] = s
        state[s.fileno()] = "pending"
        p.register(s, select.POLLOUT | select.POLLIN)
        if i % 16 == 15:
            watch(30)
    # until the server settles (at most 5 s: its idle timeout is 10 s)
    end, last = time.time() + 5, None
    while time.time() < end:
        watch(500)
        vals = list(state.values())
        if vals.count("pending") == 0 and vals.count("open") <= want_open or vals == last:
            break
        last = vals
    vals = list(state.values())
    print("open=%d closed=%d pending=%d" % (vals.count("open"), vals.count("closed"), vals.count("pending")), flush=True)
    sys.stdin.readline()  # hold them until the test has checked the server
elif mode == "slow":  # a request line, then one header byte a second, then silence
    s = socket.socket()
    s.bind(("127.0.0.3", 0))
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    for _ in range(3):
        time.sleep(1)
        s.sendall(b"a")
    print("sent", flush=True)
    s.settimeout(25)
    t = time.time()
    try:
        got = s.recv(100)
    except OSError as e:
        got = repr(e).encode()
    print("closed" if got == b"" or b"Reset" in got else "answered %r" % got, flush=True)
else:  # one raw request from 127.0.0.4: the status line
    s = socket.socket()
    s.bind(("127.0.0.4", 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    s.sendall(sys.argv[3].encode().replace(b"BIG", b"a" * 65536).replace(b"URL", b"u" * 40000))
    out = b""
    try:
        while not out.endswith(b"\r\n\r\n") and len(out) < 65536:
            b = s.recv(4096)
            if not b: break
            out += b
    except OSError:
        pass
    hdr = out.split(b"\r\n\r\n")[0].decode(errors="replace").split("\r\n")
    print(" ".join([hdr[0]] + [h for h in hdr[1:] if h.startswith("Allow:")]))
PY
rss0=$(rss_kb "$EXP")
"${INNS[@]}" python3 "$d/hostile.py" slow "$PORT" >"$d/slow" 2>&1 &
SLOW=$!
mkfifo "$d/hold"
"${INNS[@]}" python3 "$d/hostile.py" idle "$PORT" 1000 8 <"$d/hold" >"$d/idle" 2>&1 &
IDLE=$!
exec 7>"$d/hold"
td_wait_for "$d/idle" "^open=" 20
diag "1000 idle connections, as the clients see them: $(cat "$d/idle")"
# counted on the server side: a handshake the kernel completed but the exporter never accepted
# (listen backlog overflow under the burst) looks open to the client as well
is "$("${INNS[@]}" ss -tnpH state established "( sport = :$PORT and dst 127.0.0.1 )" | grep -c "pid=$EXP,")" 8 \
	"1000 idle connections from one address: the exporter holds 8 (per-address limit)"
is "$(code --interface 127.0.0.2 "$URL")" 200 "with them open, GET /metrics from another address answers"
is "$(code --interface 127.0.0.1 "$URL")" 000 "a 9th connection from the crowded address is refused"
rss1=$(rss_kb "$EXP")
exec 7>&-
wait "$IDLE"
td_wait_for "$d/slow" sent 10
is "$(code --interface 127.0.0.2 "$URL")" 200 "during a slow-header request, GET /metrics answers"
raw() { "${INNS[@]}" python3 "$d/hostile.py" raw "$PORT" "$1"; }
is "$(raw $'GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: BIG\r\n\r\n')" "HTTP/1.1 431 Request Header Fields Too Large" \
	"64 KiB header: 431"
is "$(raw $'GET /metrics?URL HTTP/1.1\r\nHost: x\r\n\r\n')" "HTTP/1.1 414 URI Too Long" "40 KB URL: 414"
for m in POST PUT DELETE PATCH HEAD OPTIONS; do
	is "$(raw "$m /metrics HTTP/1.1"$'\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello')" \
		"HTTP/1.1 405 Method Not Allowed Allow: GET" "$m: 405 with Allow: GET"
done
is "$(raw $'GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello')" "HTTP/1.1 413 Content Too Large" \
	"GET with a body: 413"
is "$(raw $'GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')" \
	"HTTP/1.1 413 Content Too Large" "GET with a chunked body: 413"
is "$(raw $'GET /nope HTTP/1.1\r\nHost: x\r\n\r\n')" "HTTP/1.1 404 Not Found" "other path: 404"
like "$("${INNS[@]}" curl -s -m 5 "$base/")" '<a href="/metrics">' "/ links to /metrics"
wait "$SLOW"
is "$(tail -1 "$d/slow")" closed "a request that stops sending is closed by the idle timeout"
rss2=$(rss_kb "$EXP")
diag "VmRSS KiB: before $rss0, with 1000 idle clients $rss1, after $rss2"
ok $((rss1 - rss0 < 65536 && rss2 - rss0 < 65536 ? 0 : 1)) "memory stays bounded (< 64 MiB growth)"
is "$(code "$URL")" 200 "after all that, GET /metrics from 127.0.0.1 answers"


kill -TERM "$EXP"
for _ in $(seq 50); do kill -0 "$EXP" 2>/dev/null || break; sleep 0.1; done
wait "$EXP"
is "$?" 0 "SIGTERM: the exporter stops with status 0"
is "$(cat "$d/err")" "" "nothing on stderr"
