// SPDX-License-Identifier: MIT
/*
 * The sections of doc/tcp-facts.md and the references into it. The table below must match the
 * document: every anchor here has an <a id> there, every title is its heading word for word
 * (tests/unit/test_catalogue.c checks both ways), so a printed reference always lands on text.
 */
#include "core/rules/facts.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

const struct td_section facts_sections[] = {
	{ "states", "TCP states and who is responsible for each", "include/net/tcp_states.h" },
	{ "time-wait", "TIME_WAIT lasts 60 seconds, and no setting changes that",
	  "include/net/tcp.h TCP_TIMEWAIT_LEN" },
	{ "fin-wait2", "Orphaned FIN_WAIT2 and tcp_fin_timeout", "net/ipv4/tcp.c tcp_close()" },
	{ "close-wait", "CLOSE_WAIT: the peer closed, this program has not",
	  "net/ipv4/tcp_input.c tcp_fin()" },
	{ "tw-recycle", "tcp_tw_recycle was removed in Linux 4.12", "commit 4396e46187ca" },
	{ "tw-reuse", "tcp_tw_reuse: connect() may take over a TIME_WAIT",
	  "net/ipv4/tcp_ipv4.c tcp_twsk_unique()" },
	{ "tw-buckets", "tcp_max_tw_buckets: the size of the timewait table",
	  "net/ipv4/inet_timewait_sock.c inet_twsk_alloc()" },
	{ "ephemeral-ports", "Ephemeral ports: how connect() and bind() run out",
	  "net/ipv4/inet_hashtables.c __inet_hash_connect()" },
	{ "timestamps", "tcp_timestamps", "ip-sysctl.rst tcp_timestamps" },
	{ "listen-queues", "Listen queues, SYN handling and SYN retries",
	  "net/ipv4/tcp_input.c tcp_conn_request()" },
	{ "orphans", "Orphaned sockets", "net/ipv4/tcp.c tcp_check_oom()" },
	{ "memory", "TCP memory: tcp_mem, tcp_rmem, tcp_wmem", "ip-sysctl.rst tcp_mem" },
	{ "keepalive", "Keepalive", "ip-sysctl.rst tcp_keepalive_time" },
	{ "linger", "SO_LINGER with a zero timeout: closing with RST",
	  "net/ipv4/tcp.c __tcp_close()" },
	{ "netns-scope", "Which settings are per network namespace and which are global (6.18)",
	  "net/ipv4/sysctl_net_ipv4.c ipv4_net_table" },
	{ "counters", "Kernel counters", "include/uapi/linux/snmp.h" },
	{ "inet-diag", "What the socket dump (inet_diag) shows", "net/ipv4/inet_diag.c" },
	{ "sysctl-files", "sysctl.conf and sysctl.d files", "sysctl.d(5)" },
	{ "conntrack", "Connection tracking (netfilter)", "net/netfilter/nf_conntrack_core.c" },
	{ "conntrack-sysctl", "Conntrack sysctls: defaults, scope and what they do",
	  "net/netfilter/nf_conntrack_standalone.c" },
	{ "other-keys", "Keys that do not touch connection states", "admin-guide/sysctl/net.rst" },
	{ "errors", "Error messages and what they mean", "errno(3)" },
	{ "trace", "Where connect() errors and resets arise (what trace sees)",
	  "net/ipv4/tcp_input.c tcp_reset()" },
	{ "peer-rejects", "A destination that refuses or resets us: the errno is the evidence",
	  "net/ipv4/tcp_input.c tcp_rcv_synsent_state_process()" },
};
const size_t facts_nsections = TD_ARRAY_SIZE(facts_sections);

const char *facts_anchor_of(const char *s)
{
	const char *h;

	if (!s)
		return NULL;
	if ((h = strchr(s, '#')))
		s = h + 1;
	return *s ? s : NULL;
}

const struct td_section *facts_section(const char *s)
{
	const char *a = facts_anchor_of(s);

	for (size_t i = 0; a && i < facts_nsections; i++)
		if (!strcmp(facts_sections[i].anchor, a))
			return &facts_sections[i];
	return NULL;
}

char *facts_ref_text(const char *ref, char *buf, size_t len)
{
	const struct td_section *s = ref ? facts_section(ref) : NULL;

	if (!len)
		return buf;
	if (s)
		snprintf(buf, len, "tcp-facts.md#%s (%s)", s->anchor, s->source);
	else
		snprintf(buf, len, "%s", ref ? ref : "");
	return buf;
}

/* The start of the line after p (or end). */
static const char *next_line(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? nl + 1 : end;
}

static bool anchor_line(const char *p, const char *end)
{
	static const char tag[] = "<a id=\"";

	return (size_t)(end - p) >= sizeof(tag) - 1 && !memcmp(p, tag, sizeof(tag) - 1);
}

int facts_section_text(const char *anchor, const char **text, size_t *len)
{
	char tag[96];
	size_t dl, tl;
	const char *doc = facts_doc(&dl), *end = doc + dl, *p, *q;

	if (!anchor || !*anchor)
		return -ENOENT;
	tl = (size_t)snprintf(tag, sizeof(tag), "<a id=\"%s\"></a>\n", anchor);
	if (tl >= sizeof(tag))
		return -ENOENT;
	for (p = doc; p < end; p = next_line(p, end))
		if ((size_t)(end - p) >= tl && !memcmp(p, tag, tl))
			break;
	if (p >= end)
		return -ENOENT;
	p += tl;
	for (q = p; q < end && !anchor_line(q, end); q = next_line(q, end))
		;
	while (q > p && (q[-1] == '\n' || q[-1] == ' '))
		q--;
	*text = p;
	*len = (size_t)(q - p);
	return 0;
}
