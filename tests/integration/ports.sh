#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `ports` against traffic we make ourselves in private namespaces:
#  1. loopback, tcp_tw_reuse=0: a client makes ~200 short connections per second for 10 s and
#     closes first. Every close must be seen (closed_60s = the TIME_WAITs ss counts, all on the
#     client side), the 10-s close rate must count the TIME_WAITs younger than 10 s as ss shows
#     them just before and just after (timers only run down: before >= tcpdoctor >= after), the
#     60-s rate must be closed/60, and tw_reuse must read "off".
#  2. two namespaces joined by a veth (198.18.0.1 <-> 198.18.0.2, no other route), the client's
#     ip_local_port_range narrowed to 40000-40099: the client connects and holds until connect()
#     fails with EADDRNOTAVAIL. ports must show that destination at >= 95 % (exactly the number
#     the client holds, capacity 100), exhausted now, and tw_reuse "loopback-only".
#  3. the same client with 40000-40002 (both ends even): connect() gets only 2 ports, and ports
#     must say capacity 2 (the kernel rounds the range size down to even; kernel-facts §5 only
#     mentions the warning).
. "$(dirname "$0")/../lib.sh"
tmp=
trap 'td_cleanup; [ -n "$tmp" ] && rm -rf "$tmp"' EXIT

td_require_netns "ports in private namespaces"
td_require python3 python3 || exit 1
tmp=$(mktemp -d)
CONN=("python3" "$TD_ROOT/tests/helpers/tdconn.py")


# dest_field JSON DST DPORT EXPR: evaluates the Python expression EXPR over destination d.
dest_field() {
	python3 - "$@" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
ds = [d for d in doc["destinations"] if d["dst"] == sys.argv[2] and d["dport"] == int(sys.argv[3])]
print(eval(sys.argv[4], {"d": ds[0]}) if len(ds) == 1 else "no such destination (%d)" % len(ds))
EOF
}

# ---- 1. close rate on loopback ----
if td_netns_add A prate; then
	td_tw_exact "$A"
	ip netns exec "$A" sysctl -qw net.ipv4.tcp_tw_reuse=0
	ip netns exec "$A" "${CONN[@]}" serve 127.0.0.1 7100 drain >"$tmp/srv1" 2>&1 &
	td_bg_pid $!
	td_wait_for "$tmp/srv1" ready 10
	ok $? "drain server ready"
	ip netns exec "$A" "${CONN[@]}" burst 127.0.0.1 7100 200 10 >"$tmp/burst" 2>&1
	read -r count elapsed <"$tmp/burst"
	# the server closes after the client (its loop may lag): wait until no close is half done
	tw7100() { ip netns exec "$A" ss -tanoH state time-wait dst 127.0.0.1:7100; }
	td_wait_until 20 eval '[ "$(ip netns exec "$A" ss -tanH state fin-wait-1 state fin-wait-2 \
		state close-wait state last-ack state closing | wc -l)" = 0 ]'
	ok $? "every close of the burst completed"
	# TIME_WAITs whose timer has 50 s or more left (ss -o: timewait,52sec / 52.345ms / 345ms)
	recent() {
		tw7100 | awk 'match($0, /timewait,[^,]+,/) {
			t = substr($0, RSTART + 9, RLENGTH - 10)
			s = t ~ /min/ ? 60 : t ~ /sec|\./ ? int(t) : 0
			n += s >= 50 } END { print n + 0 }'
	}
	# Nothing creates TIME_WAIT any more and timers only run down: counts taken by ss just
	# before and just after tcpdoctor bound its own (equal unless one expired in between).
	tw_before=$(tw7100 | wc -l) recent_before=$(recent)
	ip netns exec "$A" "$TD_BIN" ports --json >"$tmp/p1.json" 2>"$tmp/p1.err"
	is "$?" 0 "ports --json exits 0"
	tw_after=$(tw7100 | wc -l) recent_after=$(recent)
	is "$(cat "$tmp/p1.err")" "" "nothing on stderr"
	diag "client made $count connections in $elapsed s; ss: $tw_before TIME_WAIT before, $tw_after after"
	# (the kernel may end one early, e.g. 2000 of 2001: ss, not the client's count, is the oracle)
	[ "$tw_before" -ne "$count" ] &&
		diag "$(ip netns exec "$A" nstat -az TcpActiveOpens TcpExtTW TcpExtTWRecycled TcpExtTWKilled | tail -n +2 | tr -s ' \n' ' ')"
	f=$tmp/p1.json
	is "$(dest_field "$f" 127.0.0.1 7100 \
		"list(d['states']) == ['TIME_WAIT'] and d['in_use'] == d['states']['TIME_WAIT'] and $tw_before >= d['in_use'] >= $tw_after")" True \
		"all on the client side, in TIME_WAIT, as many as ss sees"
	is "$(dest_field "$f" 127.0.0.1 7100 'd["closed_60s"] == d["in_use"] and d["in_use"] > 0.99 * '"$count")" True \
		"every close of the last 60 s seen: closed_60s = in_use, ~$count"
	is "$(dest_field "$f" 127.0.0.1 7100 \
		"$recent_before >= round(d['close_rate_10s'] * 10) >= $recent_after")" True \
		"10-s close rate: TIME_WAITs younger than 10 s as ss counts them ($recent_before before, $recent_after after)"
	is "$(dest_field "$f" 127.0.0.1 7100 "round(d['close_rate_60s'] * 60) == d['closed_60s']")" True \
		"60-s close rate = closes / 60"
	is "$(dest_field "$f" 127.0.0.1 7100 'd["tw_reuse"], d["loopback"], d["capacity"]')" \
		"('off', True, 28232)" "tw_reuse off on loopback; default capacity 28232"
	is "$(dest_field "$f" 127.0.0.1 7100 'd["exhaustion_s"]')" None \
		"200/s x 60 s = 12000 < 28232: no exhaustion at this rate"
else
	skip "close rate on loopback" "cannot create a namespace"
fi

# ---- 2. exhaustion over a veth link ----
if td_netns_add C pcli && td_netns_add S psrv; then
	ip -n "$C" link add vc type veth peer name vs netns "$S"
	ip -n "$C" addr add 198.18.0.1/24 dev vc
	ip -n "$S" addr add 198.18.0.2/24 dev vs
	ip -n "$C" link set vc up
	ip -n "$S" link set vs up
	td_tw_exact "$C" "$S"
	ip netns exec "$C" sysctl -qw net.ipv4.ip_local_port_range="40000 40099"
	ip netns exec "$S" "${CONN[@]}" serve 198.18.0.2 7200 hold >"$tmp/srv2" 2>&1 &
	td_bg_pid $!
	td_wait_for "$tmp/srv2" ready 10
	ok $? "holding server ready on 198.18.0.2:7200"
	ip netns exec "$C" "${CONN[@]}" fill 198.18.0.2 7200 >"$tmp/fill" 2>&1 &
	td_bg_pid $!
	td_wait_for "$tmp/fill" '^full ' 30
	ok $? "client ran out of ports (EADDRNOTAVAIL)"
	held=$(awk '/^full/ {print $2}' "$tmp/fill")
	diag "client holds $held connections"
	ip netns exec "$C" "$TD_BIN" ports --json >"$tmp/p2.json"
	f=$tmp/p2.json
	is "$(dest_field "$f" 198.18.0.2 7200 'd["in_use"], d["capacity"]')" "($held, 100)" \
		"in_use = the $held the client holds, capacity 100"
	is "$(dest_field "$f" 198.18.0.2 7200 'd["in_use"] >= 95 and d["usage"] >= 95')" True \
		"reported at >= 95 % usage"
	is "$(dest_field "$f" 198.18.0.2 7200 'd["exhaustion_s"], d["src"]')" "(0.0, '198.18.0.1')" \
		"exhausted now, from 198.18.0.1"
	is "$(dest_field "$f" 198.18.0.2 7200 'd["tw_reuse"], d["loopback"]')" \
		"('loopback-only', False)" "tw_reuse=2 does not cover a veth destination"
	is "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["destinations"][0]["dport"])' "$f")" \
		7200 "the exhausted destination sorts first"
	"$TD_BIN" -N "$C" ports >"$tmp/p2.txt" 2>&1
	like "$(grep 198.18.0.2 "$tmp/p2.txt")" "198\.18\.0\.1 +198\.18\.0\.2 +7200 +$held +100 +[0-9.]+ .* NOW +loopback-only" \
		"text row via -N: in use, capacity, NOW"
	"$TD_BIN" -N "$C" ports --limit 1 --json >/dev/null
	is "$?" 0 "--limit 1 accepted"
	"$TD_BIN" ports --limit x >/dev/null 2>&1
	is "$?" 2 "--limit x is a usage error"

	# ---- 3. both ends even: the top port is never used by connect() ----
	ip netns exec "$S" "${CONN[@]}" serve 198.18.0.2 7201 hold >"$tmp/srv3" 2>&1 &
	td_bg_pid $!
	td_wait_for "$tmp/srv3" ready 10
	ip netns exec "$C" sysctl -qw net.ipv4.ip_local_port_range="40000 40002"
	ip netns exec "$C" "${CONN[@]}" fill 198.18.0.2 7201 >"$tmp/fill3" 2>&1 &
	td_bg_pid $!
	td_wait_for "$tmp/fill3" '^full ' 30
	is "$(awk '/^full/ {print $2}' "$tmp/fill3")" 2 "range 40000-40002: connect() gets 2 ports, not 3"
	ip netns exec "$C" "$TD_BIN" ports --json >"$tmp/p3.json"
	is "$(dest_field "$tmp/p3.json" 198.18.0.2 7201 'd["in_use"], d["capacity"]')" "(2, 2)" \
		"ports says capacity 2"
else
	skip "exhaustion over veth" "cannot create namespaces"
fi
