# SPDX-License-Identifier: MIT
# Shell side of sockfarm for the integration tests (source it after tests/lib.sh): start a farm in
# a namespace and wait for its "ready", and turn a census (tcpdoctor's JSON, sockfarm's JSON, ss
# output, or eleven numbers) into one canonical line "ESTABLISHED=n ... CLOSING=n total=n", so a
# test compares whole censuses in one assertion and a failure shows every state at once.

# The kernel's state names in inet_diag order, and ss's spelling of each.
TD_STATE_NAMES=(ESTABLISHED SYN_SENT SYN_RECV FIN_WAIT1 FIN_WAIT2 TIME_WAIT CLOSE CLOSE_WAIT
	LAST_ACK LISTEN CLOSING)

# farm_start NS PIDVAR JSONVAR SOCKFARM-ARGS...: runs sockfarm in NS in the background (its pid
# goes to lib.sh's cleanup list), waits up to 60 s for "ready", stores its pid and expected-count
# JSON. NS "-" means a new anonymous namespace that only sockfarm holds (unshare -n), gone when
# it exits. With FARM_UID set, sockfarm runs as that uid (its sockets then carry it). Returns 1 (after printing sockfarm's stderr as TAP diagnostics) if it never got
# ready. Must not run in $(...): the pid list lives in this shell.
farm_start() {
	local ns=$1 pidvar=$2 jsonvar=$3 out i pid as=()
	shift 3
	[ -n "${FARM_UID:-}" ] && as=(setpriv --reuid="$FARM_UID" --regid="$FARM_UID" --clear-groups)
	out=$(mktemp "${TMPDIR:-/tmp}/td-farm.XXXXXX")
	_farm_files+=("$out" "$out.err")
	if [ "$ns" = - ]; then
		# sh execs sockfarm, so $! is sockfarm's pid and the namespace's only holder
		unshare -n sh -c 'ip link set lo up && exec "$0" "$@"' "${as[@]}" "$TD_HELPERS/sockfarm" \
			--hold 600 "$@" >"$out" 2>"$out.err" &
	else
		ip netns exec "$ns" "${as[@]}" "$TD_HELPERS/sockfarm" --hold 600 "$@" >"$out" \
			2>"$out.err" &
	fi
	pid=$!
	td_bg_pid "$pid"
	_farm_pids+=("$pid")
	for ((i = 0; i < 600; i++)); do
		if [ "$(sed -n 1p "$out")" = ready ] && [ -n "$(sed -n 2p "$out")" ]; then
			printf -v "$pidvar" '%s' "$pid"
			printf -v "$jsonvar" '%s' "$(sed -n 2p "$out")"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	sed 's/^/# sockfarm: /' "$out.err"
	return 1
}
_farm_files=()
_farm_pids=()
farm_cleanup() { rm -f "${_farm_files[@]}"; }

# farm_fresh MAXAGE BUILD NS...: timewait sockets (TIME_WAIT, orphaned FIN_WAIT2) last 60 s
# (tcp-facts#time-wait) and SYN_SENT ones give up after ~127 s; a loaded machine can take longer
# than that over a suite. The first call runs BUILD (a function that starts the farms with
# farm_start); later calls, once the fixture is MAXAGE seconds old, stop every farm, make each
# namespace NS anew under the same name and run BUILD again, so the counts it promises hold.
# Call it before each group of assertions that depends on those sockets. Returns BUILD's status.
_farm_t0=
farm_fresh() {
	local max=$1 build=$2 ns p
	shift 2
	if [ -n "$_farm_t0" ]; then
		[ $((SECONDS - _farm_t0)) -lt "$max" ] && return 0
		for p in "${_farm_pids[@]}"; do kill "$p" 2>/dev/null; done
		for p in "${_farm_pids[@]}"; do wait "$p" 2>/dev/null; done
		for ns in "$@"; do
			ip netns del "$ns" && ip netns add "$ns" && ip -n "$ns" link set lo up || return 1
		done
		diag "fixture older than $max s: rebuilt"
	fi
	_farm_pids=()
	_farm_t0=$SECONDS
	"$build"
}

# census_of SCOPE: reads a census JSON object on stdin and prints its canonical line. SCOPE is
# "" (top level), "ipv4", "ipv6", "netns:NAME" or "netns:NAME/ipv4". Prints "MISSING ..." when
# the scope is absent, and appends " BAD-TOTAL" when the states do not add up to "total".
census_of() {
	python3 -c '
import json, sys
names = sys.argv[1].split()
scope = sys.argv[2]
d = json.load(sys.stdin)
if scope.startswith("netns:"):
    want, _, fam = scope[6:].partition("/")
    hits = [n for n in d.get("netns", []) if n.get("name") == want]
    if len(hits) != 1:
        print("MISSING netns %s (%d matches)" % (want, len(hits)))
        sys.exit(0)
    d = hits[0]
    scope = fam
if scope:
    d = d.get(scope)
if not isinstance(d, dict) or "states" not in d:
    print("MISSING " + scope)
    sys.exit(0)
s = d["states"]
line = " ".join("%s=%s" % (n, s.get(n)) for n in names) + " total=%s" % d.get("total")
if sum(s.get(n, 0) for n in names) != d.get("total"):
    line += " BAD-TOTAL"
print(line)
' "${TD_STATE_NAMES[*]}" "$1"
}

# census_line N*11: the canonical line for counts given in TD_STATE_NAMES order.
census_line() {
	local i t=0 out="" v=("$@")
	for ((i = 0; i < 11; i++)); do
		out+="${TD_STATE_NAMES[i]}=${v[i]} "
		t=$((t + v[i]))
	done
	printf '%stotal=%d\n' "$out" "$t"
}

# ss_census NS [ss filter args...]: counts `ss -tan` rows in NS per state, as a canonical line.
ss_census() {
	local ns=$1
	shift
	ip netns exec "$ns" ss -tan "$@" | awk -v names="${TD_STATE_NAMES[*]}" '
		BEGIN {
			m["ESTAB"] = "ESTABLISHED"; m["SYN-SENT"] = "SYN_SENT"; m["SYN-RECV"] = "SYN_RECV"
			m["FIN-WAIT-1"] = "FIN_WAIT1"; m["FIN-WAIT-2"] = "FIN_WAIT2"
			m["TIME-WAIT"] = "TIME_WAIT"; m["UNCONN"] = "CLOSE"; m["CLOSE-WAIT"] = "CLOSE_WAIT"
			m["LAST-ACK"] = "LAST_ACK"; m["LISTEN"] = "LISTEN"; m["CLOSING"] = "CLOSING"
		}
		NR > 1 { if ($1 in m) c[m[$1]]++; else c["UNMAPPED:" $1]++ }
		END {
			n = split(names, a, " ")
			for (i = 1; i <= n; i++) { printf "%s=%d ", a[i], c[a[i]]; t += c[a[i]] }
			printf "total=%d", t
			for (k in c) if (k ~ /^UNMAPPED/) printf " %s", k
			printf "\n"
		}'
}

# json_lines_count: reads JSON lines on stdin; prints how many parse as objects, or "BAD LINE n".
json_lines_count() {
	python3 -c '
import json, sys
n = 0
for i, l in enumerate(sys.stdin, 1):
    try:
        o = json.loads(l)
    except ValueError:
        print("BAD LINE %d: %r" % (i, l[:200]))
        sys.exit(0)
    if not isinstance(o, dict):
        print("BAD LINE %d: not an object" % i)
        sys.exit(0)
    n += 1
print(n)
'
}
