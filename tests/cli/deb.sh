#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Debian package: `make deb` builds it (dpkg-buildpackage, then lintian --fail-on error) and
# the .deb holds the binary, the man page, the bash completion and contrib's files under
# /usr/share/tcpdoctor. Unpacked into a scratch directory tree (dpkg -x), its binary reports the
# package's version and replays a recorded dump to the same census as the binary under test.
# TD_DEB=FILE tests a .deb built elsewhere instead.
. "$(dirname "$0")/../lib.sh"
td_require dpkg-deb dpkg || exit 1
tmp=$(mktemp -d)
trap 'td_cleanup; rm -rf "$tmp"' EXIT
REC=$TD_ROOT/tests/data/replay/mixed-netlink.tdrec

deb=${TD_DEB:-}
if [ -z "$deb" ]; then
	# a make of its own: none of the calling make's variables or jobserver
	(cd "$TD_ROOT" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory deb) >"$tmp/log" 2>&1
	rc=$?
	is "$rc" 0 "make deb: dpkg-buildpackage and lintian --fail-on error succeed"
	[ "$rc" -eq 0 ] || { sed 's/^/#   /' "$tmp/log" | tail -n 40; exit 1; }
	ver=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$TD_ROOT/debian/changelog")
	deb=$TD_ROOT/build/tcpdoctor_${ver}_$(dpkg --print-architecture).deb
fi
[ -f "$deb" ]
ok $? "the package is $deb"
ver=$(dpkg-deb -f "$deb" Version)
is "$(dpkg-deb -f "$deb" Package)" tcpdoctor "package name"

dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's|^\./|/|' >"$tmp/files"
for f in /usr/bin/tcpdoctor /usr/share/man/man8/tcpdoctor.8.gz \
	/usr/share/bash-completion/completions/tcpdoctor \
	/usr/share/tcpdoctor/systemd/tcpdoctor-exporter.service \
	/usr/share/tcpdoctor/prometheus/tcpdoctor.rules.yml /usr/share/tcpdoctor/grafana/tcpdoctor.json \
	/usr/share/doc/tcpdoctor/copyright; do
	grep -qxF "$f" "$tmp/files"
	ok $? "ships $f"
done

root=$tmp/root
dpkg -x "$deb" "$root"
is "$?" 0 "dpkg -x into a scratch tree"
is "$("$root/usr/bin/tcpdoctor" --version)" "tcpdoctor ${ver%-*}" "the installed binary reports the package version"
want=$("$TD_BIN" --replay "$REC" states)
got=$("$root/usr/bin/tcpdoctor" --replay "$REC" states)
is "$?" 0 "the installed binary replays tests/data/replay/mixed-netlink.tdrec"
is "$got" "$want" "and its census is the binary under test's"
like "$got" $'\nTIME_WAIT +[0-9]+ +[0-9]+ +8\n' "8 TIME_WAIT in the replay"
cmp -s "$root/usr/share/bash-completion/completions/tcpdoctor" "$TD_ROOT/contrib/bash-completion/tcpdoctor"
ok $? "bash completion is contrib's"
like "$(grep '^ExecStart=' "$root/usr/share/tcpdoctor/systemd/tcpdoctor-exporter.service")" \
	'^ExecStart=/usr/bin/tcpdoctor serve ' "the unit runs the packaged /usr/bin/tcpdoctor"
like "$(zcat "$root/usr/share/man/man8/tcpdoctor.8.gz" | head -n 20)" '\.TH "?tcpdoctor"? "?8' "man page, section 8"
