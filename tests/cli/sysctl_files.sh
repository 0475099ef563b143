#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The files `tcpdoctor sysctl` reads: a FIFO (or any non-regular file) is refused at once with
# a clear error instead of blocking forever, whether named on the command line, found in a
# directory, under --root or given to apply --dry-run; and `lint --root DIR` resolves every
# path inside DIR as systemd-sysctl --root does, so an absolute symlink (or "..") in the image
# never reads a file of the host. The "host" files here live in a temporary directory outside
# the root, never in the real /etc. Nothing here writes a sysctl.
. "$(dirname "$0")/../lib.sh"

W=$(mktemp -d) || exit 1
trap 'rm -rf "$W"' EXIT

# --- FIFOs: every command gets 5 s and must answer with an error naming the file ---
mkfifo "$W/fifo.conf" || exit 1
out=$(timeout 5 "$TD_BIN" sysctl lint "$W/fifo.conf" 2>&1)
is $? 1 "lint FIFO: exits 1 at once (124 would be a hang)"
like "$out" "fifo\.conf:0: error: not a regular file \(a FIFO, device or socket\): not read" \
	"lint FIFO: says why, naming the file"

out=$(timeout 5 "$TD_BIN" sysctl apply --dry-run --backup-dir "$W/bk" "$W/fifo.conf" 2>&1)
is $? 1 "apply FIFO --dry-run: exits 1 at once"
like "$out" "fifo\.conf:0: error: not a regular file" "apply FIFO --dry-run: names the file"
like "$out" "would be refused, nothing would be applied" "apply FIFO --dry-run: says nothing would be applied"
[ ! -e "$W/bk" ]
ok $? "apply FIFO --dry-run: no backup written"

mkdir -p "$W/dir" && printf 'net.ipv4.tcp_fin_timeout = 30\n' >"$W/dir/10-ok.conf" &&
	mkfifo "$W/dir/20-fifo.conf" || exit 1
out=$(timeout 5 "$TD_BIN" sysctl lint "$W/dir" 2>&1)
is $? 1 "lint DIR with a FIFO in it: exits 1 at once"
like "$out" "dir/20-fifo\.conf:0: error: not a regular file" "lint DIR: the FIFO is named"
like "$out" "net\.ipv4\.tcp_fin_timeout = 30 +\(.*10-ok\.conf:1\)" "lint DIR: the regular file is still read"

R=$W/root
mkdir -p "$R/etc/sysctl.d" && mkfifo "$R/etc/sysctl.d/30-fifo.conf" || exit 1
out=$(timeout 5 "$TD_BIN" sysctl lint --root "$R" 2>&1)
is $? 1 "lint --root with a FIFO in sysctl.d: exits 1 at once"
like "$out" "^$R/etc/sysctl\.d/30-fifo\.conf:0: error: not a regular file" "lint --root: the FIFO is named"

# A character device is not a sysctl file either (and /dev/zero would never end).
out=$(timeout 5 "$TD_BIN" sysctl lint /dev/zero 2>&1)
is $? 1 "lint /dev/zero: exits 1 at once"
like "$out" "/dev/zero:0: error: not a regular file" "lint /dev/zero: refused as not a regular file"

# --- --root: links resolve inside the root ---
# The "host": files outside the root, at absolute paths the image's links name.
H=$W/host
mkdir -p "$H/sysctl.d" || exit 1
printf 'net.ipv4.tcp_keepalive_time = 1111\n' >"$H/secret.conf"
printf 'net.ipv4.tcp_keepalive_probes = 3333\n' >"$H/sysctl.d/40-hostdir.conf"
printf 'net.core.somaxconn = 5555\n' >"$H/sysctl.conf"
printf 'net.ipv4.tcp_fin_timeout = 4444\n' >"$H/other.conf"
R=$W/img
mkdir -p "$R/etc/sysctl.d" "$R/usr/lib" "$R$H" || exit 1
# 1. an absolute link to a file: inside the root it names $R$H/secret.conf
ln -s "$H/secret.conf" "$R/etc/sysctl.d/10-abs.conf"
printf 'net.ipv4.tcp_keepalive_time = 2222\n' >"$R$H/secret.conf"
# 2. an absolute link to a directory: inside the root it does not exist
ln -s "$H/sysctl.d" "$R/usr/lib/sysctl.d"
# 3. a relative link climbing out with "..": clamped at the root, so it does not exist either
ln -s "../../../../../../../../../../../..$H/other.conf" "$R/etc/sysctl.d/20-dotdot.conf"
# 4. /etc/sysctl.conf as an absolute link: resolves inside the root, where it is missing
ln -s "$H/sysctl.conf" "$R/etc/sysctl.conf"
out=$(timeout 5 "$TD_BIN" sysctl lint --json --root "$R")
rc=$?
is "$(jq -r '.effective[] | "\(.key)=\(.value)@\(.file | sub(".*/img"; "")):\(.line)"' <<<"$out" | tr '\n' ' ')" \
	"net.ipv4.tcp_keepalive_time=2222@/etc/sysctl.d/10-abs.conf:1 " \
	"--root: an absolute link is read inside the root, never the host's file"
is "$(jq -r '[.findings[] | select(.severity == "error") | "\(.file | sub(".*/img"; "")):\(.message)"] | join(" ")' <<<"$out")" \
	"/etc/sysctl.d/20-dotdot.conf:No such file or directory" \
	"--root: a link climbing out with '..' stays inside (missing there)"
is "$rc" 1 "--root: exit 1 (a listed file is missing inside the root)"
[[ $out != *1111* && $out != *3333* && $out != *4444* && $out != *5555* ]]
ok $? "--root: no value of the host's files appears"

# The same image with the dangling links removed: clean, and still nothing from the host.
rm "$R/etc/sysctl.d/20-dotdot.conf"
out=$(timeout 5 "$TD_BIN" sysctl lint --root "$R" 2>&1)
is $? 0 "--root without the escaping link: exit 0"
like "$out" "net\.ipv4\.tcp_keepalive_time = 2222 +\($R/etc/sysctl\.d/10-abs\.conf:1\)" \
	"--root: the file is named as the image names it"
# The root given with a trailing slash names the same files.
like "$("$TD_BIN" sysctl lint --root "$R/" 2>&1)" "\($R/etc/sysctl\.d/10-abs\.conf:1\)" \
	"--root DIR/: same names"
