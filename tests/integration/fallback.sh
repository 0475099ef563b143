#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Without inet_diag (simulated with an LD_PRELOAD shim that makes the sock_diag netlink socket
# fail with EPROTONOSUPPORT, as a kernel without the module does), states and sockets fall back
# to /proc/net/tcp{,6} by themselves and give the same exact numbers; --source netlink then
# fails clearly instead of falling back.
. "$(dirname "$0")/../lib.sh"
td_require_netns "inet_diag fallback"
d=$(mktemp -d)
trap 'td_cleanup; rm -rf "$d"' EXIT
cc -shared -fPIC -O2 -Wall -Werror -o "$d/nodiag.so" "$TD_ROOT/tests/preload/nodiag.c" -ldl
ok $? "the nodiag shim builds"
# an ASan binary wants its runtime first in the library list; the shim only wraps socket()
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
# (TD_BPF=0: on a large namespace states would count with the BPF census iterator, which needs
# no inet_diag)
nodiag() { TD_BPF=0 LD_PRELOAD="$d/nodiag.so" "$TD_BIN" "$@"; }
py() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }

td_netns_add N fallback
ip netns exec "$N" "$TD_HELPERS/sockfarm" --listen 2 --estab 3 --timewait 4 --closewait 2 \
	--family both --hold 600 >"$d/farm" 2>/dev/null &
td_bg_pid $!
td_wait_for "$d/farm" ready

want=$("$TD_BIN" -N "$N" states --json | py 'print(d["ipv4"], d["ipv6"])')
j=$(nodiag -N "$N" states --json)
is "$?" 0 "states without inet_diag exits 0"
is "$(py 'print(d["netns"][0]["source"])' <<<"$j")" procfs "it fell back to /proc/net/tcp by itself"
is "$(py 'print(d["ipv4"], d["ipv6"])' <<<"$j")" "$want" "with the same census as inet_diag"
is "$(py 'print(d["total"])' <<<"$j")" "$(ip netns exec "$N" ss -tanH | wc -l)" "and the same total as ss"
n=$(nodiag -N "$N" sockets --state time-wait --json | wc -l)
is "$n" 8 "sockets --state time-wait without inet_diag: 8 rows"
nodiag -N "$N" --source netlink states >/dev/null 2>"$d/err"
is "$?" 1 "--source netlink without inet_diag fails (exit 1)"
like "$(cat "$d/err")" "inet_diag dump failed: Protocol not supported" "and says why"
j=$(nodiag -N "$N" doctor --json --interval 0)
total=$("$TD_BIN" -N "$N" states --json | py 'print(d["total"])')
is "$(py 'print(d["netns"][0]["total"])' <<<"$j")" "$total" "doctor without inet_diag sees the same $total sockets"
