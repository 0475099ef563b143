#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Error paths of the CLI, each with its exact exit code and a message that says what was wrong:
# bad state names (the message lists the valid ones), unknown options and commands, a missing
# namespace, and hostile replay files (random bytes, wrong magic, a record cut short at several
# points, absurd chunk lengths, a corrupt netlink message inside a good chunk). None may crash
# or trip the sanitizers. Then, as an unprivileged user, `states` must still work on the current
# namespace and `-N` must say it needs root. Runs without namespaces; the -N-as-nobody checks use
# a namespace of their own when root can make one.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
trap 'td_cleanup; rm -rf "$tmp"' EXIT
chmod 755 "$tmp"

# run ARGS...: runs the binary, leaving $rc, $out (stdout) and $err (stderr).
run() {
	"$TD_BIN" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}
no_sanitizer() { # label
	if grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' \
		"$tmp/err"; then
		ok 1 "$1: no sanitizer report"
		sed -n '1,15s/^/#   /p' "$tmp/err"
	else
		ok 0 "$1: no sanitizer report"
	fi
}

# --- usage errors: exit 2 ---
run sockets --state bogus
is "$rc" 2 "sockets --state bogus exits 2"
like "$err" "^tcpdoctor: sockets: unknown state 'bogus'" "the message names the bad state"
valid=$(grep -o 'valid:.*' <<<"$err" | head -n1)
for n in established syn-sent syn-recv fin-wait-1 fin-wait-2 time-wait close close-wait \
	last-ack listen closing connected synchronized bucket big all; do
	like "$valid" "[ ,]$n([,. ]|\$)" "the message lists '$n'"
done
run sockets --state established,nope,listen
is "$rc" 2 "a bad name inside a list exits 2"
like "$err" "unknown state 'nope'" "and names exactly the bad item"
run sockets --state ''
is "$rc" 2 "an empty state list exits 2"

run states --bogus
is "$rc" 2 "states --bogus exits 2"
like "$err" "Try 'tcpdoctor states --help'" "states --bogus points at the command's help"
# design.md: errors go to stderr as "tcpdoctor: ..." (getopt's as "tcpdoctor CMD: ...")
like "$err" "^tcpdoctor[: ]" "states --bogus: the error starts with 'tcpdoctor'"
like "$err" "'--bogus'" "states --bogus: the error names the option"
run sockets --bogus
is "$rc" 2 "sockets --bogus exits 2"
like "$err" "^tcpdoctor[: ]" "sockets --bogus: the error starts with 'tcpdoctor'"
# An unknown option before any command belongs to the default command, doctor, whose usage
# errors are Nagios UNKNOWN (3); it must still fail and name the option.
run --bogus
is "$rc" 3 "--bogus alone (doctor's option line) exits 3, UNKNOWN"
like "$err" "'--bogus'" "--bogus: the error names the option"
run sockets -x
is "$rc" 2 "sockets -x exits 2"
run sockets --sport
is "$rc" 2 "sockets --sport without a value exits 2"
run sockets --sport 70000
is "$rc" 2 "sockets --sport 70000 exits 2"
run sockets --dport 12x
is "$rc" 2 "sockets --dport 12x exits 2"
run --source bogus states
is "$rc" 2 "--source bogus exits 2"
like "$err" "expected auto, netlink or procfs" "--source bogus lists the choices"
# Nagios plugins (check, and doctor which shares its exit codes): anything wrong before or
# during the check is UNKNOWN (3), never 2, which a monitoring system reads as CRITICAL.
for args in "--source bogus check" "--bogus check" "--replay= check" "-N nonexistent-$$ check" \
	"--json --source x check" "check --source bogus" "check -N" "--source bogus" \
	"--source bogus doctor" "-N nonexistent-$$ doctor"; do
	# shellcheck disable=SC2086 # word splitting wanted
	run $args
	is "$rc" 3 "tcpdoctor $args: exits 3 (UNKNOWN)"
done
run --source bogus -N x check
is "$rc" 3 "a bad option before -N NAME check still finds check: exits 3"
run -N check --source bogus states
is "$rc" 2 "-N check (a namespace named 'check') --source bogus states: states' usage error, 2"
run -N "nonexistent-$$" check
like "$out" "^TCPDOCTOR UNKNOWN - " "-N nonexistent check: the status line says UNKNOWN"
run no-such-command
is "$rc" 2 "an unknown command exits 2"
like "$err" "unknown command 'no-such-command'" "and names it"
run states extra-arg
is "$rc" 2 "an unexpected argument exits 2"

# --- a namespace that does not exist: exit 1 (a failure, not a usage error) ---
run -N "td-no-such-ns-$$" states
is "$rc" 1 "-N td-no-such-ns exits 1"
like "$err" "no network namespace 'td-no-such-ns-$$'" "and names the namespace"
run -N /nonexistent/ns/net states
is "$rc" 1 "-N with a missing path exits 1"
run -N /etc/passwd states
is "$rc" 1 "-N with a file that is not a namespace exits 1"
like "$err" "not a network namespace" "and says it is not a namespace"

# --- replay files ---
run --replay "$tmp/missing.tdrec" states
is "$rc" 1 "--replay of a missing file exits 1"
like "$err" "missing\.tdrec" "and names the file"

# A real record of the current namespace (allowed without root) to damage.
"$TD_BIN" sockets --record "$tmp/good.tdrec" >/dev/null 2>"$tmp/err"
is "$?" 0 "sockets --record of the current namespace works"
run --replay "$tmp/good.tdrec" states --json
is "$rc" 0 "replaying the intact record works"

bad_replay() { # label file
	run --replay "$2" states --json
	is "$rc" 1 "$1: exits 1"
	like "$err" "${2##*/}" "$1: the message names the file"
	is "$out" "" "$1: no census printed"
	no_sanitizer "$1"
}
head -c 4096 /dev/urandom >"$tmp/random.bin"
bad_replay "random bytes" "$tmp/random.bin"
: >"$tmp/empty.bin"
bad_replay "an empty file" "$tmp/empty.bin"
{ printf 'TDREC999'; tail -c +9 "$tmp/good.tdrec"; } >"$tmp/wrongmagic.bin"
bad_replay "a wrong magic" "$tmp/wrongmagic.bin"
size=$(stat -c %s "$tmp/good.tdrec")
head -c $((size / 2)) "$tmp/good.tdrec" >"$tmp/half.bin"
bad_replay "a record cut in half" "$tmp/half.bin"
head -c 12 "$tmp/good.tdrec" >"$tmp/inheader.bin"
bad_replay "a record cut inside a chunk header" "$tmp/inheader.bin"
head -c $((size - 1)) "$tmp/good.tdrec" >"$tmp/lastbyte.bin"
bad_replay "a record missing its last byte" "$tmp/lastbyte.bin"

# Damage inside well-formed framing: chunk lengths and one netlink message's length.
python3 - "$tmp/good.tdrec" "$tmp" <<'EOF' || diag "python3 missing: chunk-level damage not made"
import struct, sys
d = open(sys.argv[1], "rb").read()
out = sys.argv[2]
chunks, off = [], 8
while off + 8 <= len(d):
    t, l = struct.unpack_from("<II", d, off)
    chunks.append((t, off, l))
    off += 8 + l
def put(name, offset, value):
    b = bytearray(d)
    struct.pack_into("<I", b, offset, value)
    open("%s/%s.bin" % (out, name), "wb").write(b)
put("hugelen", chunks[0][1] + 4, 0xFFFFFFF0)
put("overlen", chunks[0][1] + 4, chunks[0][2] + 100000)
nl = [c for c in chunks if c[0] == 3]
if nl:
    put("nlhuge", nl[0][1] + 8, 0xFFFF)
    put("nltiny", nl[0][1] + 8, 4)
EOF
for f in hugelen overlen nlhuge nltiny; do
	[ -f "$tmp/$f.bin" ] || continue
	bad_replay "damaged record ($f)" "$tmp/$f.bin"
done

# A chunk header claiming 256 MiB in an 18-byte file: refused before anything is allocated. Under
# ASan an allocation above 16 MiB aborts with a report, so the old reader (which grew its buffer
# to the claimed length first) fails here; the unit test checks the buffer too.
printf 'TDREC001\002\0\0\0\0\0\0\020td' >"$tmp/hugehdr.bin"
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}max_allocation_size_mb=16" \
	run --replay "$tmp/hugehdr.bin" states
is "$rc" 1 "a 256 MiB chunk header in an 18-byte file exits 1"
like "$err" "hugehdr\.bin: truncated or corrupt record at offset 8" "and names the file and offset"
no_sanitizer "a 256 MiB chunk header"

# --- files that are not regular files: refused at once, never waited on ---
mkfifo "$tmp/fifo"
# trun SECONDS ARGS...: run with a time limit (124 when it hung).
trun() {
	local t=$1
	shift
	timeout "$t" "$TD_BIN" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}
trun 20 --replay "$tmp/fifo" states
is "$rc" 1 "--replay FIFO exits 1 at once (124: it hung)"
like "$err" "replay file '.*/fifo': it is a FIFO, not a regular file" "--replay FIFO says it is a FIFO"
trun 20 --replay /dev/null states
is "$rc" 1 "--replay /dev/null exits 1"
like "$err" "'/dev/null': it is a character device, not a regular file" \
	"--replay /dev/null says it is a character device"
trun 20 -N "$tmp/fifo" states
is "$rc" 1 "-N FIFO exits 1 at once (124: it hung)"
like "$err" "'.*/fifo' is not a network namespace file" "-N FIFO says it is not a namespace"
trun 20 -N /dev/null states
is "$rc" 1 "-N /dev/null exits 1"
like "$err" "'/dev/null' is not a network namespace file" "-N /dev/null says it is not a namespace"
trun 20 -N /proc/self/ns/mnt states
is "$rc" 1 "-N of a mount namespace exits 1"
trun 20 sockets --record "$tmp/fifo"
is "$rc" 1 "sockets --record FIFO without a reader exits 1 at once (124: it hung)"
like "$err" "cannot write record '.*/fifo': a FIFO that no process is reading" \
	"and says nobody reads the FIFO"
# With a reader, a FIFO is a fine place for a record (`--record >(gzip >f)`).
timeout 20 cat "$tmp/fifo" >"$tmp/viafifo.tdrec" &
catpid=$!
td_bg_pid "$catpid"
for ((i = 0; i < 50; i++)); do
	trun 20 sockets --record "$tmp/fifo"
	[ "$rc" -eq 0 ] && break
	sleep 0.1 # the reader has not opened the FIFO yet
done
is "$rc" 0 "sockets --record FIFO with a reader exits 0"
wait "$catpid"
run --replay "$tmp/viafifo.tdrec" states --json
is "$rc" 0 "the record that went through the FIFO replays"

# A failed write is the record's fault, not the dump's. /dev/full fails at the first flush; with
# the namespace list's sysctls of -N all that is inside the dump.
if [ -w /dev/full ]; then
	trun 60 sockets --record /dev/full
	is "$rc" 1 "sockets --record /dev/full exits 1"
	like "$err" "cannot write record '/dev/full': No space left on device" \
		"--record /dev/full blames the write"
	no_sanitizer "--record /dev/full"
else
	skip "--record /dev/full" "no writable /dev/full"
fi

# --- as an unprivileged user ---
if [ "$(id -u)" -eq 0 ]; then
	cp "$TD_BIN" "$tmp/tcpdoctor"
	chmod 755 "$tmp/tcpdoctor"
	asuser() { setpriv --reuid=65534 --regid=65534 --clear-groups "$tmp/tcpdoctor" "$@"; }
else
	asuser() { "$TD_BIN" "$@"; }
fi
asuser states >"$tmp/out" 2>"$tmp/err"
is "$?" 0 "states as uid $( [ "$(id -u)" -eq 0 ] && echo 65534 || id -u) on the current namespace exits 0"
like "$(head -n1 "$tmp/out")" '^State +IPv4 +IPv6 +Total' "and prints the census table"
asuser states --json >"$tmp/out" 2>"$tmp/err"
is "$?" 0 "states --json unprivileged exits 0"
if td_require python3 python3; then
	is "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(d["states"].values()) == d["total"])' <"$tmp/out" 2>&1)" \
		True "unprivileged states --json parses and adds up"
fi
asuser -N /proc/1/ns/net states >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$(id -u)" -eq 0 ] || [ ! -r /proc/1/ns/net ]; then
	is "$rc" 1 "-N /proc/1/ns/net unprivileged exits 1"
	like "$(cat "$tmp/err")" "Permission denied \\(not running as root" \
		"-N /proc/1/ns/net unprivileged says it is not root"
fi
# Root that still cannot open pid 1's namespace (hidepid, an LSM, a container without
# CAP_SYS_PTRACE) must hear that, not "needs root".
if [ "$(id -u)" -eq 0 ]; then
	run -N /proc/1/ns/net states
	if [ "$rc" -ne 0 ] && grep -q 'Permission denied' "$tmp/err"; then
		ok "$(grep -cE "needs root|not root" <<<"$err")" "root denied pid 1's namespace: no 'needs root'"
		like "$err" "although running as root" "root denied pid 1's namespace: says so"
	else
		skip "root denied /proc/1/ns/net" "root can read it here"
	fi
fi
if need_root && td_netns_add NS errors; then
	asuser -N "$NS" states >"$tmp/out" 2>"$tmp/err"
	is "$?" 1 "-N $NS unprivileged exits 1"
	like "$(cat "$tmp/err")" "needs root: CAP_SYS_ADMIN" "-N $NS unprivileged says it needs CAP_SYS_ADMIN"
	like "$(cat "$tmp/err")" "$NS" "and names the namespace"
else
	skip "-N NAME unprivileged" "needs root to make a namespace"
fi
# The current namespace needs no privilege, even named by path; -N all without root shows what it
# can and says what it skipped.
asuser -N /proc/self/ns/net states --json >"$tmp/out" 2>"$tmp/err"
is "$?" 0 "-N /proc/self/ns/net (the current namespace) works unprivileged"
if need_root && [ -n "${NS:-}" ]; then
	asuser -N all states --json >"$tmp/out" 2>"$tmp/err"
	is "$?" 0 "-N all unprivileged exits 0"
	like "$(cat "$tmp/err")" "note: [0-9]+ of [0-9]+ network namespaces were skipped: entering them needs root \\(CAP_SYS_ADMIN\\)" \
		"-N all unprivileged says how many namespaces it skipped and why"
	if td_require python3 python3; then
		is "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["netns"]) >= 1 and d["total"] == sum(n["total"] for n in d["netns"]))' <"$tmp/out")" \
			True "-N all unprivileged: the namespaces it could see add up"
	fi
fi

# Replay of a directory or of a record with nothing after its header is an error, not a census.
run --replay "$tmp" states
is "$rc" 1 "--replay DIR exits 1"
like "$err" "Is a directory" "--replay DIR says it is a directory"
printf 'TDREC001' >"$tmp/magic-only"
run --replay "$tmp/magic-only" states
is "$rc" 1 "a record holding only its magic exits 1"
like "$err" "holds no namespace" "and says the record holds no namespace"
is "$out" "" "and prints no census"

# An option before the command name goes to that command.
run -4 states
is "$rc" 0 "tcpdoctor -4 states: the option reaches states"
run --bogus states
like "$err" "^tcpdoctor states: unrecognized option '--bogus'" "an unknown option before 'states' is reported by states"
echo "1..$_tap_n"
