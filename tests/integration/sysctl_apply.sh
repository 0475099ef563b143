#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `tcpdoctor -N NS sysctl apply/rollback` inside a private namespace (deleted by lib.sh's trap):
# dry-run changes nothing; apply changes, backs up and reads back; a failure half-way (a value
# the kernel rejects only on write) leaves every value as it was and keeps the previous backup;
# files with an invalid line, a global key or a read-only key are refused before any write;
# rollback restores the backup. Also proves on this kernel what the knowledge table says about
# a fresh namespace (defaults, global keys absent or read-only). The host's values are compared
# before and after: tests never change them.
. "$(dirname "$0")/../lib.sh"

td_require_netns "sysctl apply integration"
td_netns_add NS sysctl || exit 1
W=$(mktemp -d) || exit 1
trap 'rm -rf "$W"; td_cleanup' EXIT
BK=$W/backups
KEYS="net/ipv4/tcp_fin_timeout net/ipv4/tcp_tw_reuse net/core/somaxconn net/ipv4/tcp_keepalive_time
net/ipv4/tcp_congestion_control net/ipv4/ip_local_port_range net/ipv4/tcp_rto_max_ms"
vals() { # [netns]: "key=value" of KEYS, tabs folded
	local k
	for k in $KEYS; do
		if [ -n "${1:-}" ]; then
			printf '%s=%s\n' "$k" "$(ip netns exec "$1" cat /proc/sys/$k | tr '\t' ' ')"
		else
			printf '%s=%s\n' "$k" "$(tr '\t' ' ' </proc/sys/$k)"
		fi
	done
}
nsval() { ip netns exec "$NS" cat "/proc/sys/$1" | tr '\t' ' '; }
host_before=$(vals)

# A fresh namespace starts from compiled-in defaults: each per-namespace key the table gives a
# default for on this kernel (not "(from host)" or "(varies)") must read exactly that.
is "$("$TD_BIN" -N "$NS" sysctl --json | python3 -c 'import json, sys
p = [x for x in json.load(sys.stdin)["params"] if x["scope"] == "netns" and x["default"][:1] != "("]
keys = {"net.ipv4.tcp_tw_reuse", "net.core.somaxconn", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_fin_timeout"}
print(keys - {x["key"] for x in p} or "", [(x["key"], x["value"], x["default"]) for x in p if x["value"] != x["default"]])')" \
	" []" "fresh namespace: every per-namespace key at the default the table gives for this kernel"
is "$(nsval net/ipv4/tcp_max_tw_buckets)" "$(($(cat /proc/sys/net/ipv4/tcp_ehash_entries) / 2))" \
	"fresh namespace: tcp_max_tw_buckets is half the ehash"
ip netns exec "$NS" test -e /proc/sys/net/ipv4/tcp_mem
is $? 1 "tcp-facts#netns-scope: tcp_mem is absent in a child namespace"
ip netns exec "$NS" test -e /proc/sys/net/ipv4/tcp_max_orphans
is $? 1 "tcp-facts#netns-scope: tcp_max_orphans is absent in a child namespace"
# net.core.rmem_max is global: a child namespace cannot set it (absent, or read-only as on 6.x),
# which is what the "global key" refusal below predicts.
! ip netns exec "$NS" sh -c 'echo 1000000 > /proc/sys/net/core/rmem_max' 2>/dev/null
ok $? "net.core.rmem_max cannot be written from a child namespace"
before=$(vals "$NS")

cat >"$W/ok.conf" <<'EOF'
net.ipv4.tcp_fin_timeout = 30
net.ipv4.tcp_tw_reuse = 1
net.core.somaxconn = 8192
EOF
out=$("$TD_BIN" -N "$NS" sysctl apply --dry-run --backup-dir "$BK" "$W/ok.conf")
is $? 0 "dry-run: exit 0"
like "$out" "net.ipv4.tcp_fin_timeout +60 -> 30  \[would change\]" "dry-run: shows old -> new"
is "$(vals "$NS")" "$before" "dry-run: nothing changed"
[ ! -e "$BK" ]
ok $? "dry-run: no backup written"

out=$("$TD_BIN" -N "$NS" sysctl apply --backup-dir "$BK" "$W/ok.conf")
is $? 0 "apply: exit 0"
is "$(nsval net/ipv4/tcp_fin_timeout) $(nsval net/ipv4/tcp_tw_reuse) $(nsval net/core/somaxconn)" \
	"30 1 8192" "apply: values set in the namespace"
is "$(grep -v '^#' "$BK/backup-$NS.conf")" "net.ipv4.tcp_fin_timeout = 60
net.ipv4.tcp_tw_reuse = 2
net.core.somaxconn = 4096" "apply: backup holds the old values"
is "$(stat -c %a "$BK/backup-$NS.conf")" 600 "apply: backup is mode 0600"
applied=$(vals "$NS")

# Half-way failures: the kernel rejects line 3 only when written (no such congestion control;
# a value below tcp_rto_max_ms's range). Lines 1-2 were written by then and must be put back.
for bad in "net.ipv4.tcp_congestion_control = td_nosuch" "net.ipv4.tcp_rto_max_ms = 1"; do
	printf 'net.ipv4.tcp_fin_timeout = 20\nnet.ipv4.tcp_keepalive_time = 600\n%s\nnet.core.somaxconn = 1000\n' \
		"$bad" >"$W/half.conf"
	out=$("$TD_BIN" -N "$NS" sysctl apply --backup-dir "$BK" "$W/half.conf" 2>&1)
	is $? 1 "half-way failure (${bad%% *}): exit 1"
	like "$out" "half.conf:3: ${bad//./\\.}: .*every value written before was restored" \
		"half-way failure (${bad%% *}): names file, line and says all was restored"
	like "$out" "tcp_fin_timeout +30 -> 20  \[restored\]" "half-way failure (${bad%% *}): line 1 restored"
	like "$out" "somaxconn +8192 -> 1000  \[not reached\]" "half-way failure (${bad%% *}): line 4 not reached"
	is "$(vals "$NS")" "$applied" "half-way failure (${bad%% *}): every value as it was"
	like "$(cat "$BK/backup-$NS.conf")" "tcp_fin_timeout = 60" "half-way failure (${bad%% *}): previous backup kept"
	[ ! -e "$BK/backup-$NS.conf.new" ]
	ok $? "half-way failure (${bad%% *}): no stray .new backup"
done

# Refused before any write.
refuse() { # name expected-message-regex file-content
	printf '%s\n' "$3" >"$W/refuse.conf"
	out=$("$TD_BIN" -N "$NS" sysctl apply --backup-dir "$BK" "$W/refuse.conf" 2>&1)
	is $? 1 "refused ($1): exit 1"
	like "$out" "$2" "refused ($1): says why, with file and line"
	like "$out" "nothing applied" "refused ($1): says nothing was applied"
	is "$(vals "$NS")" "$applied" "refused ($1): every value as it was"
}
refuse "port range low > high" "refuse.conf:2: error: net.ipv4.ip_local_port_range = 60000 10000: high end below low end" \
	"net.ipv4.tcp_fin_timeout = 25
net.ipv4.ip_local_port_range = 60000 10000"
refuse "port range below unprivileged start" "refuse.conf:2: error: .*below ip_unprivileged_port_start" \
	"net.ipv4.tcp_fin_timeout = 25
net.ipv4.ip_local_port_range = 500 60000"
refuse "global key in a child namespace" "refuse.conf:2: error: net.core.rmem_max = 1000000: refused: a global key cannot be set from a child namespace" \
	"net.ipv4.tcp_fin_timeout = 25
net.core.rmem_max = 1000000"
refuse "read-only key" "refuse.conf:2: error: net.ipv4.tcp_ehash_entries = 1024: refused: the key is not writable here" \
	"net.ipv4.tcp_fin_timeout = 25
net.ipv4.tcp_ehash_entries = 1024"
refuse "misspelled key" "refuse.conf:2: error: net.ipv4.tcp_timestsmps = 1: unknown key.*did you mean net.ipv4.tcp_timestamps" \
	"net.ipv4.tcp_fin_timeout = 25
net.ipv4.tcp_timestsmps = 1"
refuse "inline comment" "refuse.conf:1: error: .*inline '#' would be written" \
	"net.ipv4.tcp_fin_timeout = 25 # shorter"

# The kernel does reject what the refusals predict (so they are not guesses).
ip netns exec "$NS" sh -c 'echo "500 60000" > /proc/sys/net/ipv4/ip_local_port_range' 2>/dev/null
is $? 1 "kernel rejects ip_local_port_range low < ip_unprivileged_port_start"
ip netns exec "$NS" sh -c 'echo "60000 10000" > /proc/sys/net/ipv4/ip_local_port_range' 2>/dev/null
is $? 1 "kernel rejects ip_local_port_range low > high"
ip netns exec "$NS" sh -c 'echo 3 > /proc/sys/net/ipv4/tcp_tw_reuse' 2>/dev/null
is $? 1 "kernel rejects tcp_tw_reuse=3 (table: enforced 0..2)"
is "$(vals "$NS")" "$applied" "those direct writes changed nothing"

# A '-' line whose key is missing is skipped, as systemd-sysctl does.
printf -- '-net.ipv4.tcp_tw_recycle = 1\nnet.ipv4.tcp_keepalive_time = 900\n' >"$W/dash.conf"
"$TD_BIN" -N "$NS" sysctl apply --backup-dir "$BK" "$W/dash.conf" >/dev/null 2>&1
is $? 0 "'-' line with a removed key: applied the rest"
is "$(nsval net/ipv4/tcp_keepalive_time)" 900 "'-' line: the other key was set"

out=$("$TD_BIN" -N "$NS" sysctl rollback --backup-dir "$BK")
is $? 0 "rollback: exit 0"
is "$(nsval net/ipv4/tcp_keepalive_time)" 7200 "rollback: restores the last backup"
"$TD_BIN" -N "$NS" sysctl rollback --backup-dir "$BK" >/dev/null
is "$(nsval net/ipv4/tcp_keepalive_time) $(nsval net/ipv4/tcp_fin_timeout)" "7200 30" \
	"rollback twice: same result (the backup of the last apply only)"
"$TD_BIN" -N "$NS" sysctl rollback --backup-dir "$W/none" >/dev/null 2>&1
is $? 1 "rollback without a backup: exit 1"

# The backup says exactly how to restore it, --backup-dir included.
like "$(cat "$BK/backup-$NS.conf")" "
# Restore with: tcpdoctor -N $NS sysctl rollback --backup-dir $BK
" \
	"backup: the 'Restore with:' line names -N and --backup-dir"

# -N writes only the namespace's keys. Keys outside net. are the host's: refused, also in
# --dry-run. The file holds the host's current values, so even a bug could not change them.
fmax=$(cat /proc/sys/fs/file-max) swap=$(cat /proc/sys/vm/swappiness)
printf 'net.ipv4.tcp_keepalive_time = 650\nfs.file-max = %s\nvm.swappiness = %s\n' "$fmax" "$swap" >"$W/host.conf"
ns_before=$(vals "$NS")
out=$("$TD_BIN" -N "$NS" sysctl apply --dry-run --backup-dir "$BK" "$W/host.conf" 2>&1)
is $? 1 "-N dry-run with fs.file-max, vm.swappiness: exit 1"
like "$out" "host\.conf:2: error: fs\.file-max = $fmax: refused: not a per-namespace key \(host-wide\)" \
	"-N dry-run: fs.file-max would be refused (file and line)"
like "$out" "host\.conf:3: error: vm\.swappiness = $swap: refused: not a per-namespace key" \
	"-N dry-run: vm.swappiness would be refused (file and line)"
like "$out" "would be refused, nothing would be applied" "-N dry-run: says it would be refused"
out=$("$TD_BIN" -N "$NS" sysctl apply --backup-dir "$BK" "$W/host.conf" 2>&1)
is $? 1 "-N apply with fs.file-max, vm.swappiness: refused, exit 1"
like "$out" "host\.conf:2: error: fs\.file-max = $fmax: refused" "-N apply: fs.file-max refused"
like "$out" "nothing applied" "-N apply: nothing applied"
is "$(cat /proc/sys/fs/file-max) $(cat /proc/sys/vm/swappiness)" "$fmax $swap" "-N apply: the host's fs.file-max and vm.swappiness unchanged"
is "$(vals "$NS")" "$ns_before" "-N apply: the namespace's keys unchanged too (all or nothing)"
# nf_conntrack_max is the host's, read-only in a child namespace: the table knows it as a global
# key (tcp-facts#conntrack-sysctl), so -N refuses it before any write.
if ip netns exec "$NS" test -e /proc/sys/net/netfilter/nf_conntrack_max; then
	printf 'net.netfilter.nf_conntrack_max = %s\n' "$(cat /proc/sys/net/netfilter/nf_conntrack_max)" >"$W/ct.conf"
	out=$("$TD_BIN" -N "$NS" sysctl apply --backup-dir "$BK" "$W/ct.conf" 2>&1)
	is $? 1 "-N apply of nf_conntrack_max: exit 1"
	like "$out" "ct\.conf:1: error: net\.netfilter\.nf_conntrack_max = [0-9]+: refused: a global key cannot be set from a child namespace" \
		"-N apply of nf_conntrack_max: refused as the host's key"
else
	skip "unknown global net. key" "nf_conntrack is not loaded"
fi
# A global net. key that is absent from a child namespace (not in the table either).
printf 'net.core.netdev_budget = %s\n' "$(cat /proc/sys/net/core/netdev_budget)" >"$W/budget.conf"
out=$("$TD_BIN" -N "$NS" sysctl apply --backup-dir "$BK" "$W/budget.conf" 2>&1)
is $? 1 "-N apply of net.core.netdev_budget (absent in a child): exit 1"
like "$out" "budget\.conf:1: error: net\.core\.netdev_budget = [0-9]+: unknown key: it does not exist on this kernel" \
	"-N apply of net.core.netdev_budget: looked up in the namespace, where it is missing"

# Empty values round trip. ip_local_reserved_ports is empty in a fresh namespace; the kernel
# reads "8080,8081" back as "8080-8081", which means the same.
is "$(nsval net/ipv4/ip_local_reserved_ports)" "" "fresh namespace: ip_local_reserved_ports is empty"
rm -f "$BK/backup-$NS.conf"
printf 'net.ipv4.ip_local_reserved_ports = 8080,8081,9000-9002\nnet.ipv4.tcp_rmem = 4096   131072\t6291456\n' >"$W/ports.conf"
out=$("$TD_BIN" -N "$NS" sysctl apply --backup-dir "$BK" "$W/ports.conf" 2>&1)
is $? 0 "apply 8080,8081,9000-9002: exit 0 (the kernel's 8080-8081,9000-9002 means the same)"
like "$out" "ip_local_reserved_ports +\"\" -> 8080,8081,9000-9002  \[changed\]" "apply port list: reported changed, not FAILED"
is "$(nsval net/ipv4/ip_local_reserved_ports)" "8080-8081,9000-9002" "apply port list: the kernel holds it"
like "$(cat "$BK/backup-$NS.conf")" "
net\.ipv4\.ip_local_reserved_ports = 
" "apply port list: the backup holds the empty old value"
out=$("$TD_BIN" -N "$NS" sysctl rollback --backup-dir "$BK" 2>&1)
is $? 0 "rollback to an empty ip_local_reserved_ports: exit 0"
is "$(nsval net/ipv4/ip_local_reserved_ports)" "" "rollback: ip_local_reserved_ports is empty again"
# The automatic restore after a failed apply writes the empty value back too.
ip netns exec "$NS" sh -c 'echo > /proc/sys/net/ipv4/ip_local_reserved_ports'
printf 'net.ipv4.ip_local_reserved_ports = 9100\nnet.ipv4.tcp_congestion_control = td_nosuch\n' >"$W/pfail.conf"
out=$("$TD_BIN" -N "$NS" sysctl apply --backup-dir "$BK" "$W/pfail.conf" 2>&1)
is $? 1 "apply that fails after setting ip_local_reserved_ports: exit 1"
like "$out" "ip_local_reserved_ports +\"\" -> 9100  \[restored\]" "failed apply: reported restored"
is "$(nsval net/ipv4/ip_local_reserved_ports)" "" "failed apply: ip_local_reserved_ports empty again"

# Non-regular files: a FIFO as the file to apply or as the backup fails at once.
mkfifo "$W/fifo.conf"
out=$(timeout 5 "$TD_BIN" -N "$NS" sysctl apply --backup-dir "$BK" "$W/fifo.conf" 2>&1)
is $? 1 "-N apply FIFO: exit 1 at once"
like "$out" "fifo\.conf:0: error: not a regular file" "-N apply FIFO: says why"
mkdir -p "$W/fifobk" && mkfifo "$W/fifobk/backup-$NS.conf"
out=$(timeout 5 "$TD_BIN" -N "$NS" sysctl rollback --backup-dir "$W/fifobk" 2>&1)
is $? 1 "-N rollback from a FIFO backup: exit 1 at once"
like "$out" "backup-$NS\.conf:0: error: not a regular file" "-N rollback FIFO: says why"

# 4,000 lines setting the same key: the last one wins (the plan is one pass over the lines).
awk 'BEGIN { for (i = 0; i < 4000; i++) printf "net.ipv4.tcp_keepalive_time = %d\n", 1000 + i % 7; print "net.ipv4.tcp_keepalive_time = 777" }' >"$W/dup.conf"
out=$("$TD_BIN" -N "$NS" sysctl apply --dry-run --backup-dir "$BK" "$W/dup.conf" 2>&1)
is $? 0 "4,001 duplicate lines: dry-run exit 0"
is "$(grep -c '\[' <<<"$out")" 1 "4,001 duplicate lines: one key in the plan"
like "$out" "tcp_keepalive_time +[0-9]+ -> 777  \[would change\]  \(.*dup\.conf:4001\)" \
	"4,001 duplicate lines: the last line wins"

is "$(vals)" "$host_before" "the host's values are unchanged"
