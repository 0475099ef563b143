#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# contrib/bash-completion/tcpdoctor, sourced and called as bash calls it (COMP_WORDS,
# COMP_CWORD): commands, sysctl subcommands, global and per-command options (from the binary's
# --help), state names (also after a comma), --by keys, check's threshold names, lab scenarios,
# finding ids, and -N names: a namespace the test creates, and 'all'.
. "$(dirname "$0")/../lib.sh"
. "$TD_ROOT/contrib/bash-completion/tcpdoctor"

comp() { # words... (the last one is being completed); prints COMPREPLY sorted, one line
	COMP_WORDS=("$TD_BIN" "$@")
	COMP_CWORD=$#
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	_tcpdoctor
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

is "$(complete -p tcpdoctor)" "complete -F _tcpdoctor tcpdoctor" "registered for tcpdoctor"
is "$(comp '')" "check counters doctor explain help lab ports serve sockets states sysctl top trace watch" \
	"commands"
is "$(comp s)" "serve sockets states sysctl" "commands starting with s"
is "$(comp --json st)" "states" "a command after a global option"
is "$(comp --replay x.tdrec st)" "states" "a command after an option's argument"
is "$(comp --)" "--help --json --netns --no-color --replay --source --version" "global long options"
is "$(comp --source '')" "auto netlink procfs" "--source values"
is "$(comp top --s)" "--sort --source --state" "top's options from its --help"
like "$(comp watch -)" "(^| )--once( |$)" "watch: --once"
is "$(comp trace --d)" "--duration" "trace: --duration"
like "$(comp watch -)" "(^| )--ascii( |$)" "watch: --ascii"
like "$(comp check -)" "(^| )-w .*(^| )-c( |$)|(^| )-c .*(^| )-w( |$)" "check: -w and -c from its usage line"
is "$(comp sockets --state time)" "time-wait" "--state: a state name"
is "$(comp sockets --state clos)" "close close-wait closing" "--state: clos..."
is "$(comp sockets -s established,fin)" "established,fin-wait-1 established,fin-wait-2" \
	"--state: the last element of a comma list"
is "$(comp top --sort t)" "time-wait total" "--sort: a state or total"
is "$(comp top --by p)" "peer process" "--by keys"
is "$(comp check -w port)" "port_usage=" "check -w: threshold names with '='"
is "$(comp sysctl '')" "apply lint recommend rollback" "sysctl subcommands"
is "$(comp sysctl recommend --profile s)" "server" "sysctl recommend --profile"
is "$(comp lab tw-)" "tw-buckets-low tw-reuse tw-reuse-no-ts" "lab scenarios from lab --list"
is "$(comp help wa)" "watch" "help COMMAND"
if "$TD_BIN" explain --list >/dev/null 2>&1; then
	want=$("$TD_BIN" explain --list | awk '$1 ~ /^time-wait/ { print $1 }' | sort | tr '\n' ' ' | sed 's/ $//')
else
	want="time-wait-buckets time-wait-client time-wait-overflow time-wait-server"
fi
is "$(comp explain time-wait)" "$want" "explain: finding ids"
like "$(comp explain '')" "(^| )port-exhaustion( |$)" "explain: port-exhaustion among the ids"
is "$(comp -N al)" "all" "-N all"
is "$(comp --netns=al)" "" "--netns=al: '=' is its own word to bash, not a value here"
COMP_WORDS=("$TD_BIN" --netns = al)
COMP_CWORD=3
_tcpdoctor
is "${COMPREPLY[*]}" "all" "--netns=al as bash splits it: all"
dir=$(mktemp -d)
trap 'td_cleanup; rm -rf "$dir"' EXIT
touch "$dir/capture.tdrec"
is "$(comp --replay "$dir/capt")" "$dir/capture.tdrec" "--replay completes a file name"
if need_root && td_netns_add NS compl; then
	like "$(comp -N td-compl)" "(^| )$NS( |$)" "-N: a namespace under /run/netns"
	is "$(comp states -N "$NS" -)" "$(comp states -)" "options after -N NAME"
else
	skip "-N: a namespace under /run/netns" "needs root to make a namespace"
fi
