#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every command's --help comes from its descriptor (struct td_cmd_entry, src/cmd/cmd.h): it exits
# 0 without running the command, lists every option of the command's table in src/cmd/ (read
# here from the source, so an option added to the table and missing from the help fails), and
# every option it lists is one the parser accepts. An unknown option exits 2 (3 for the Nagios
# commands doctor and check) and names the option. Needs no root and no sockets.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmds=$("$TD_BIN" --help | awk '/^Commands/ { on = 1; next } on && /^$/ { exit } on { print $1 }' |
	grep -vx help)
is "$(wc -w <<<"$cmds" | tr -d ' ')" 14 "tcpdoctor --help lists 14 commands"

# long names of a command's table: the lines `{ "name", ...` inside `..._opts[] = {`
src_opts() { # command
	awk '/^static const struct td_cmd_opt [a-z_]*_opts\[\] = \{/ { on = 1; next }
		on && /^\};/ { exit }
		on && match($0, /^\t\{ "[a-z0-9-]+"/) { s = substr($0, RSTART + 4, RLENGTH - 5); print s }' \
		"$TD_ROOT/src/cmd/$1.c"
}

for c in $cmds; do
	"$TD_BIN" "$c" --help >"$tmp/out" 2>"$tmp/err"
	is "$?" 0 "$c --help exits 0"
	like "$(head -n1 "$tmp/out")" "^Usage: tcpdoctor .*$c" "$c --help: a usage line naming $c"
	is "$(cat "$tmp/err")" "" "$c --help: nothing on stderr"
	help=$(cat "$tmp/out")
	n=0 missing=""
	for o in $(src_opts "$c") netns json no-color replay source help; do
		n=$((n + 1))
		grep -qE "^ +(-[A-Za-z0-9], )?--$o( |$)" <<<"$help" || missing+=" --$o"
	done
	is "$missing" "" "$c --help lists all its $n long options"
	# each option line of the help is one the parser knows: `CMD OPT [VALUE] --help` gives help
	bad=""
	while read -r opt arg; do
		if [ -n "$arg" ]; then
			"$TD_BIN" "$c" "$opt" x --help >/dev/null 2>&1 || bad+=" $opt"
		else
			"$TD_BIN" "$c" "$opt" --help >/dev/null 2>&1 || bad+=" $opt"
		fi
	done < <(sed -nE 's/^  (-[A-Za-z0-9], )?(--?[A-Za-z0-9][-A-Za-z0-9]*)( ([A-Z][^ ]*))?  .*/\2 \4/p' <<<"$help")
	is "$bad" "" "$c: every option its help lists is accepted"

	"$TD_BIN" "$c" --no-such-option >"$tmp/out" 2>"$tmp/err"
	rc=$?
	case $c in doctor | check) want=3 ;; *) want=2 ;; esac
	is "$rc" "$want" "$c --no-such-option exits $want"
	like "$(cat "$tmp/err")" "'--no-such-option'" "$c --no-such-option: the error names it"
	like "$(cat "$tmp/err")" "Try 'tcpdoctor $c --help'" "$c --no-such-option: points at the help"
done

is "$("$TD_BIN" help states)" "$("$TD_BIN" states --help)" "help COMMAND is COMMAND --help"
"$TD_BIN" states -h >/dev/null
is "$?" 0 "-h exits 0 too"
# -h after an option's value is help; as the value itself it is not
"$TD_BIN" sockets --replay /nonexistent -h >/dev/null 2>&1
is "$?" 0 "sockets --replay FILE -h: help, the file is not read"
