# SPDX-License-Identifier: MIT
# TAP helpers and namespace plumbing for the shell test suites. Source it; it sets:
#   TD_BIN (the binary under test), TD_HELPERS (tests/helpers binaries), TD_ROOT (repo top).
# Namespaces made with td_netns_add are deleted on exit, also on failure or Ctrl-C.
set -u
# The suites expect a UTF-8 locale (watch's sparklines, tmux); C.UTF-8 needs no locales package
export LC_ALL=C.UTF-8
: "${TD_ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${TD_BUILD:=build/san}"
: "${TD_BIN:=$TD_ROOT/$TD_BUILD/tcpdoctor}"
: "${TD_HELPERS:=$TD_ROOT/$TD_BUILD/tests/helpers}"
_tap_n=0
_td_netns=()
_td_pids=()

ok() { # cond-exit-status desc
	_tap_n=$((_tap_n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $_tap_n - $2"; else echo "not ok $_tap_n - $2"; fi
}
is() { # got want desc
	_tap_n=$((_tap_n + 1))
	if [ "$1" == "$2" ]; then
		echo "ok $_tap_n - $3"
	else
		echo "not ok $_tap_n - $3"
		printf '#   got:  %s\n#   want: %s\n' "$1" "$2"
	fi
}
like() { # got regex desc
	_tap_n=$((_tap_n + 1))
	if [[ $1 =~ $2 ]]; then
		echo "ok $_tap_n - $3"
	else
		echo "not ok $_tap_n - $3"
		printf '#   got:  %s\n#   want match: %s\n' "$1" "$2"
	fi
}
skip() { # desc reason
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $1 # SKIP $2"
}
diag() { printf '# %s\n' "$*"; }
# td_require CMD PACKAGE: true if CMD is installed; if not, a failure naming it. `make check`
# installs every tool a suite uses (scripts/install-deps check), so a missing one is a broken
# setup to report, never a quiet skip. Skips stay for what CI cannot lack: root, namespaces.
td_require() {
	command -v "$1" >/dev/null 2>&1 && return 0
	_tap_n=$((_tap_n + 1))
	echo "not ok $_tap_n - $1 is missing (Debian package $2: scripts/install-deps check installs it)"
	return 1
}

# td_wait_for FILE ERE [SECONDS]: waits (default 10 s) until FILE has a line matching ERE.
td_wait_for() {
	local i
	for ((i = 0; i < ${3:-10} * 10; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# td_wait_until SECONDS CMD...: runs CMD every 0.1 s until it succeeds (0) or SECONDS pass (1).
# For a state the test caused but the kernel completes on its own time (a FIN still in flight
# when a helper exits): wait for it, then assert it exactly.
td_wait_until() {
	local i n=$(($1 * 10))
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

# td_wait_asleep PID [SECONDS]: waits until PID sleeps in nanosleep (a sampling command between
# its first and its second sample, e.g. counters --interval), so that events the test makes
# next fall inside the interval. Returns 1 if PID exits first or SECONDS (10) pass.
td_wait_asleep() {
	local i nr
	for ((i = 0; i < ${2:-10} * 100; i++)); do
		read -r nr _ <"/proc/$1/syscall" 2>/dev/null || return 1
		case "$(uname -m):$nr" in
		x86_64:35 | x86_64:230 | aarch64:101 | aarch64:115) return 0 ;;
		esac
		grep -q nanosleep "/proc/$1/wchan" 2>/dev/null && return 0
		sleep 0.01
	done
	return 1
}

# (not `ip netns list`: it hangs when /run/netns holds a FIFO, as a hostile-input test may leave)
need_root() { [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null && unshare -n true 2>/dev/null; }

# td_require_netns DESC: the preamble of every suite that builds network namespaces. Without
# root or `ip netns`, reports DESC as one skipped test and ends the suite (exit 0).
td_require_netns() {
	need_root && return 0
	skip "$1" "needs root and network namespaces (ip netns)"
	exit 0
}

# td_netns_add VAR NAME: creates namespace td-NAME-PID with lo up, stores its name in VAR.
# (Not via $(...): the list of namespaces to delete must live in this shell.)
td_netns_add() {
	local n="td-$2-$$"
	ip netns add "$n" || return 1
	_td_netns+=("$n")
	ip -n "$n" link set lo up
	printf -v "$1" '%s' "$n"
}
# td_tw_exact NS...: makes the TIME_WAIT counts of these namespaces exact. Measured on 6.18 over
# veth (and seen over loopback): now and then the side that closed first acknowledges the peer's
# FIN twice; the first ACK ends the peer's LAST_ACK socket, the second finds none and draws an RST,
# and with tcp_rfc1337=0 (the default) an RST ends a TIME_WAIT at once (tcp-facts.md#time-wait).
# A 100-connection storm came out inexact 13 times in 120 (101-110 connects, or 91-99 TIME_WAIT
# left); with tcp_rfc1337=1 the TIME_WAIT ignores that RST: 40 of 40 exact.
td_tw_exact() {
	local n
	for n; do ip netns exec "$n" sysctl -qw net.ipv4.tcp_rfc1337=1 || return 1; done
}
# td_ct_netns VAR NAME: td_netns_add, then connection tracking on in that namespace (an nftables
# ruleset that uses ct: a namespace tracks flows only then) with UDP entries kept 600 s, so the
# counts a test makes stay put while it reads them.
td_ct_netns() {
	td_netns_add "$1" "$2" || return 1
	ip netns exec "${!1}" nft -f - <<-'NFT' || return 1
		table inet tdtest {
			chain out { type filter hook output priority 0; ct state new counter; }
		}
	NFT
	ip netns exec "${!1}" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=600
}
# td_ns_actor NS SCRIPT OUT ARGS...: python3 SCRIPT ARGS in namespace NS, in the background
# (killed on exit; its pid in td_actor), output to OUT; waits up to 30 s for its line "ready".
# When it does not come: a failed test, the actor's output, status 1.
td_ns_actor() {
	local ns=$1 script=$2 out=$3
	shift 3
	ip netns exec "$ns" python3 "$script" "$@" >"$out" 2>&1 &
	td_actor=$!
	td_bg_pid "$td_actor"
	td_wait_for "$out" '^ready' 30 && return 0
	ok 1 "actor ready"
	cat "$out"
	return 1
}
# td_poke_midway SECONDS SIGNAL OUT CMD...: runs CMD (stdout to OUT) in the background, sends
# SIGNAL to the actor of td_ns_actor SECONDS later (inside CMD's interval), waits for CMD.
td_poke_midway() {
	local s=$1 sig=$2 out=$3 tool
	shift 3
	"$@" >"$out" &
	tool=$!
	sleep "$s"
	kill -"$sig" "$td_actor"
	wait "$tool"
}
# td_ct_settle NS N: waits (5 s at most) until conntrack -L in NS shows N entries in TIME_WAIT:
# the last FIN/ACK of a closed connection may still be in flight when its actor says ready.
td_ct_settle() {
	local _
	for _ in $(seq 50); do
		[ "$(ip netns exec "$1" conntrack -L 2>/dev/null | grep -c ' TIME_WAIT ')" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
# Background a process and remember its pid for cleanup.
td_bg_pid() { _td_pids+=("$1"); }

td_cleanup() {
	local p n
	for p in "${_td_pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${_td_pids[@]}"; do wait "$p" 2>/dev/null; done
	for n in "${_td_netns[@]}"; do ip netns del "$n" 2>/dev/null; done
}
trap td_cleanup EXIT
trap 'exit 130' INT TERM
