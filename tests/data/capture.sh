#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Regenerates tests/data/proc/{tcp,tcp6}.txt and tests/data/netlink/{inet,inet6}.bin from one
# private network namespace holding the socket set that capture.py builds, so procfs and
# netlink samples describe the very same sockets. Needs root. The namespace and the socket
# process are removed on exit, also on failure.
set -eu
cd "$(dirname "$0")"
ns=td-cap-$$
pid=
ready=$(mktemp -u)
cleanup() {
	set +e
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	ip netns del "$ns" 2>/dev/null
	rm -f "$ready"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" python3 capture.py sockets "$ready" &
pid=$!
for _ in $(seq 50); do [ -e "$ready" ] && break; sleep 0.1; done
[ -e "$ready" ]
ip netns exec "$ns" cat /proc/net/tcp >proc/tcp.txt
ip netns exec "$ns" cat /proc/net/tcp6 >proc/tcp6.txt
ip netns exec "$ns" python3 capture.py dump 4 netlink/inet.bin
ip netns exec "$ns" python3 capture.py dump 6 netlink/inet6.bin
ip netns exec "$ns" python3 capture.py dump 4 netlink/inet-all-bits.bin 0xffffffff
ip netns exec "$ns" ss -tanoei 2>/dev/null >ss.txt
