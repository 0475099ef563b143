#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `sysctl` (audit) and `sysctl recommend` on a namespace whose sysctls we set (never the host's):
# exact verdicts per key, the cross-key checks (tcp_timestamps=0 with tcp_tw_reuse=1, a listening
# port inside the ephemeral range, a listener capped at somaxconn), exit codes, and a recommended
# drop-in that sets back exactly the harmful values, parses as sysctl.conf, lints clean and,
# applied in the namespace, makes the audit clean again.
. "$(dirname "$0")/../lib.sh"
td_require_netns "sysctl audit"
py() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }
tmp=$(mktemp -d)
trap 'td_cleanup; rm -rf "$tmp"' EXIT

td_netns_add A audit
ip netns exec "$A" sysctl -qw net.ipv4.tcp_timestamps=0 net.ipv4.tcp_tw_reuse=1 \
	net.ipv4.tcp_max_tw_buckets=5000
# sockfarm's listeners sit on 40000 + 64 (inside 32768-60999) with listen(4096) = somaxconn
ip netns exec "$A" "$TD_HELPERS/sockfarm" --listen 1 --port 40000 --family 4 --hold 600 >"$tmp/farm" 2>/dev/null &
td_bg_pid $!
td_wait_for "$tmp/farm" ready
lport=$(ip netns exec "$A" ss -ltnH | awk '{split($4, a, ":"); print a[2]}')
like "$lport" '^4[0-9]{4}$' "a listener inside the ephemeral range ($lport)"

j=$("$TD_BIN" -N "$A" sysctl --json)
is "$?" 1 "audit exits 1 when something is harmful"
is "$(py 'p={x["key"]: x["severity"] for x in d["params"]}; print(p["net.ipv4.tcp_timestamps"], p["net.ipv4.tcp_max_tw_buckets"], p["net.ipv4.tcp_tw_reuse"], p["net.ipv4.tcp_fin_timeout"])' <<<"$j")" \
	"harmful harmful note ok" "audit verdicts: timestamps=0 and max_tw_buckets=5000 harmful, tw_reuse=1 a note, fin_timeout default ok"
is "$(py 'p={x["key"]: x["default"] for x in d["params"]}; print(p["net.ipv4.tcp_timestamps"], p["net.ipv4.tcp_tw_reuse"], p["net.core.somaxconn"])' <<<"$j")" \
	"1 2 4096" "audit shows this kernel's defaults"
is "$(py 'print(sorted((f["key"], f["severity"]) for f in d["findings"]))' <<<"$j")" \
	"[('net.core.somaxconn', 'note'), ('net.ipv4.ip_local_port_range', 'warn'), ('net.ipv4.tcp_tw_reuse', 'warn')]" \
	"cross-key findings: reuse without timestamps (dead, not harmful), listening port in the range, capped listener"
like "$(py 'print([f["message"] for f in d["findings"] if f["key"]=="net.ipv4.ip_local_port_range"][0])' <<<"$j")" \
	"$lport" "the port-range finding names the listening port"
txt=$("$TD_BIN" -N "$A" sysctl --no-color)
like "$txt" $'\n''warn: net.ipv4.tcp_tw_reuse = 1: dead: tcp_tw_reuse=1 has no effect while tcp_timestamps=0' \
	"text: cross-key finding without a file:line prefix, called dead"
[[ $txt != *"kernel-facts"* && $txt != *"(from host)"* && $txt != *inferred* ]]
ok $? "audit text: no internal words (kernel-facts, (from host), inferred)"
is "$(py 'p={x["key"]: x["default"] for x in d["params"]}; print(p["net.ipv4.tcp_rmem"], "|", p["net.ipv4.tcp_congestion_control"])' <<<"$j")" \
	"(as the host) | (as the host)" "child namespace: tcp_rmem and congestion control default to the host's value"

"$TD_BIN" -N "$A" sysctl recommend >"$tmp/rec.conf"
is "$?" 0 "recommend exits 0"
is "$(grep -v '^#' "$tmp/rec.conf" | grep -v '^$' | sort | tr '\n' ';')" \
	"net.ipv4.tcp_max_tw_buckets = $(ip netns exec "$A" cat /proc/sys/net/ipv4/tcp_ehash_entries | awk '{v = $1 < 0 ? -$1 : $1; print int(v / 2)}');net.ipv4.tcp_timestamps = 1;" \
	"recommend sets back exactly the two harmful values (tw buckets to half the ehash; a child namespace prints the shared ehash size negated)"
is "$(grep -c '^# ' "$tmp/rec.conf")" "$(($(grep -c '^[a-z]' "$tmp/rec.conf") + 3))" "every recommended line has a comment (plus a 3-line header)"
"$TD_BIN" sysctl lint "$tmp/rec.conf" >/dev/null
is "$?" 0 "the recommended drop-in lints clean"
is "$("$TD_BIN" sysctl lint --json "$tmp/rec.conf" | jq -r '[.findings[] | select(.severity == "warn" or .severity == "harmful" or .severity == "error")] | length')" 0 \
	"recommend proposes nothing its own lint warns about"
rj=$("$TD_BIN" -N "$A" sysctl recommend --json)
is "$(jq -r '[.recommendations[] | select(.suggested != null) | "\(.key) = \(.suggested)"] | sort | join(";")' <<<"$rj")" \
	"$(grep -v '^#' "$tmp/rec.conf" | grep -v '^$' | sort | paste -sd';')" "recommend --json suggests what the drop-in sets"
is "$(jq -r '[.recommendations[] | "\(.kind) \(.current)"] | sort | join(";")' <<<"$rj")" "reset 0;reset 5000" \
	"recommend --json: both are harmful values set back, with their current values"
"$TD_BIN" -N "$A" sysctl apply --backup-dir "$tmp" "$tmp/rec.conf" >/dev/null
is "$?" 0 "applying it in the namespace works"
j=$("$TD_BIN" -N "$A" sysctl --json)
is "$(py 'print([x["key"] for x in d["params"] if x["severity"] in ("harmful","error")], [f["key"] for f in d["findings"] if f["severity"]=="harmful"])' <<<"$j")" \
	"[] []" "after applying, nothing harmful is left"
is "$(cat /proc/sys/net/ipv4/tcp_timestamps) $(cat /proc/sys/net/ipv4/tcp_max_tw_buckets)" \
	"$(cat /proc/sys/net/ipv4/tcp_timestamps) $(cat /proc/sys/net/ipv4/tcp_max_tw_buckets)" "(host untouched)"

# a fresh namespace is clean: exit 0, recommend changes nothing
td_netns_add F fresh
"$TD_BIN" -N "$F" sysctl >/dev/null
is "$?" 0 "a fresh namespace audits clean (exit 0)"
is "$("$TD_BIN" -N "$F" sysctl recommend | grep -cv '^#\|^$')" 0 "recommend on a fresh namespace sets nothing"

# Verdicts state effects, not motives, and know the keys blogs paste (values set inside a
# namespace of ours only).
td_netns_add B blog
ip netns exec "$B" sysctl -qw net.ipv4.tcp_fin_timeout=30 net.ipv4.tcp_sack=0 net.ipv4.tcp_retries2=5 \
	net.ipv4.tcp_fack=1 net.ipv4.tcp_timestamps=0 net.ipv4.tcp_tw_reuse=1
j=$("$TD_BIN" -N "$B" sysctl --json)
v() { py "p={x['key']: x for x in d['params']}; x=p['net.ipv4.$1']; print(x['severity'] + ': ' + x['verdicts'][0]['message'])" <<<"$j"; }
is "$(v tcp_fin_timeout)" "note: bounds orphaned FIN_WAIT2 only; TIME_WAIT stays 60 s" "fin_timeout=30: what it bounds, TIME_WAIT stays 60 s"
is "$(v tcp_sack)" "warn: turns SACK off: each loss costs more round trips" "tcp_sack=0 is known and judged"
is "$(v tcp_retries2)" "warn: below RFC 1122's 100 s: short outages kill established connections" "tcp_retries2=5 is known and judged"
is "$(v tcp_fack)" "info: no effect on current kernels: a legacy option" "tcp_fack=1: no effect"
is "$(py 'print([(f["severity"], f["message"]) for f in d["findings"] if f["key"] == "net.ipv4.tcp_tw_reuse"])' <<<"$j")" \
	"[('warn', 'dead: tcp_tw_reuse=1 has no effect while tcp_timestamps=0')]" "audit: reuse with timestamps=0 is dead, a warning"
[[ $("$TD_BIN" -N "$B" sysctl) != *"wrong reason"* ]]
ok $? "no verdict presumes a motive"

# The initial namespace (read only, nothing is set): no internal words in the defaults.
txt=$("$TD_BIN" sysctl --no-color)
[[ $txt != *"(from host)"* && $txt != *inferred* && $txt != *"kernel-facts"* ]]
ok $? "initial namespace: no '(from host)', 'inferred' or 'kernel-facts'"
like "$txt" $'\n''net.ipv4.tcp_rmem +[0-9 ]+ +\(sized at boot\)' "initial namespace: tcp_rmem's default is sized at boot"
