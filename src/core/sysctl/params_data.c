// SPDX-License-Identifier: MIT
/*
 * The data of the sysctl knowledge table (declared in params.h): one row per key that
 * kernel-facts.md discusses or that the widely copied blog snippets set. Every verdict here
 * restates kernel-facts.md; a rule that goes beyond it cites the kernel documentation (DOC =
 * Documentation/networking/ip-sysctl.rst) or was checked in a fresh namespace on 6.18 (the
 * ranges marked enforced: the kernel answered EINVAL outside them, tests/integration/
 * sysctl_apply.sh shows one). Shape-specific checks (port range, memory triples) are the small
 * functions at the top.
 */
#include "core/sysctl/params.h"

#include "core/util.h"

#define RULES(...)                                                                                 \
	.rules = (const struct td_rule[]){ __VA_ARGS__ },                                          \
	.nrules = sizeof((const struct td_rule[]){ __VA_ARGS__ }) / sizeof(struct td_rule)

/* A reference into doc/tcp-facts.md by its anchor (facts.h). */
#define KF(anchor) "tcp-facts#" anchor

static void add(struct td_verdict *v, size_t *n, enum td_sev sev, const char *msg, const char *why,
		const char *ref)
{
	if (*n < PARAMS_VERDICTS_MAX)
		v[(*n)++] = (struct td_verdict){ sev, msg, why, ref, 0 };
}

static void check_port_range(const struct td_param *p, const struct td_kenv *env, const int64_t *x,
			     size_t nx, struct td_verdict *v, size_t *n)
{
	(void)p;
	if (nx != 2)
		return;
	if (x[1] < x[0]) {
		add(v, n, TD_SEV_ERROR, "high end below low end: the kernel rejects the write",
		    "ip_local_port_range needs low <= high.", KF("ephemeral-ports"));
		return;
	}
	if (env->unpriv_port_start && x[0] < (int64_t)env->unpriv_port_start) {
		add(v, n, TD_SEV_ERROR,
		    "low end below ip_unprivileged_port_start: the kernel rejects the write",
		    "Writes with low < ip_unprivileged_port_start are refused with EINVAL.",
		    KF("ephemeral-ports"));
		return;
	}
	if ((x[0] & 1) == (x[1] & 1))
		add(v, n, TD_SEV_WARN, "both ends have the same parity: the kernel logs a warning",
		    "connect() prefers ports with the parity of the low end and bind(0) the other; "
		    "the kernel logs 'prefer different parity for start/end values'.",
		    KF("ephemeral-ports"));
	if (x[0] < 32768)
		add(v, n, TD_SEV_NOTE,
		    "range reaches below 32768: reserve the service ports inside it",
		    "connect() may take a port a service listens on while the service is down "
		    "unless that port is listed in ip_local_reserved_ports.",
		    KF("ephemeral-ports"));
}

static void check_tcp_mem(const struct td_param *p, const struct td_kenv *env, const int64_t *x,
			  size_t nx, struct td_verdict *v, size_t *n)
{
	(void)p;
	if (nx != 3)
		return;
	if (x[0] > x[1] || x[1] > x[2])
		add(v, n, TD_SEV_HARMFUL,
		    "min > pressure or pressure > max: the kernel takes it as is",
		    "tcp_mem is min pressure max in pages and the kernel does not check their "
		    "order, so memory pressure starts in the wrong place.",
		    KF("memory"));
	if (env->phys_pages && (uint64_t)x[2] > env->phys_pages)
		add(v, n, TD_SEV_HARMFUL, "max exceeds this host's RAM: TCP memory is unbounded",
		    "tcp_mem counts pages, not bytes; a max above RAM means TCP can take all "
		    "memory before the kernel pushes back.",
		    KF("memory"));
}

static void check_buf_triple(const struct td_param *p, const struct td_kenv *env, const int64_t *x,
			     size_t nx, struct td_verdict *v, size_t *n)
{
	(void)p;
	(void)env;
	if (nx == 3 && (x[0] > x[1] || x[1] > x[2]))
		add(v, n, TD_SEV_WARN, "min > default or default > max",
		    "tcp_rmem/tcp_wmem are min default max in bytes; the kernel does not reorder "
		    "them.",
		    KF("memory"));
}

static const char recycle_hist[] =
	"Removed in Linux 4.12 (commit 4396e46187ca); up to 4.11 it dropped SYNs from clients "
	"behind one NAT address.";

const struct td_param params_table[] = {
	{ .key = "net.ipv4.tcp_tw_recycle",
	  .shape = TD_SHAPE_CHOICE,
	  .min = 0,
	  .max = 1,
	  .removed = PARAMS_KV(4, 12),
	  .defaults = { { 0, "0" } },
	  .history = recycle_hist,
	  .meaning = "Cut TIME_WAIT to 3.5xRTO using per-host timestamps (4.11 and older).",
	  .ref = KF("tw-recycle"),
	  RULES({ TD_ROP_NE, 0, TD_SEV_HARMFUL, "clients behind NAT lose their SYNs",
		  "Per-host timestamp caching dropped SYNs from clients sharing one NAT address; "
		  "the key is gone since 4.12.",
		  KF("tw-recycle") }) },
	{ .key = "net.ipv4.tcp_tw_reuse",
	  .shape = TD_SHAPE_CHOICE,
	  .enforced = true,
	  .min = 0,
	  .max = 2,
	  .defaults = { { 0, "0" }, { PARAMS_KV(4, 18), "2" } },
	  .history = "Value 2 (loopback only) added and made the default in 4.18 (commit "
		     "79e9fed46038); a boolean defaulting to 0 before.",
	  .meaning = "Lets connect() take over a TIME_WAIT socket with timestamps; outgoing "
		     "connections only.",
	  .ref = KF("tw-reuse"),
	  RULES({ TD_ROP_EQ, 1, TD_SEV_NOTE,
		  "right in context: outgoing connect() only, needs timestamps",
		  "Reuse only helps the side that connects and closes first, only when timestamps "
		  "were negotiated; the default 2 already covers loopback.",
		  KF("tw-reuse") },
		{ TD_ROP_EQ, 0, TD_SEV_NOTE, "turns reuse off, loopback included",
		  "0 also disables the loopback-only reuse that the default 2 gives.",
		  KF("tw-reuse") }) },
	{ .key = "net.ipv4.tcp_tw_reuse_delay",
	  .enforced = true,
	  .min = 1,
	  .max = 60000,
	  .added = PARAMS_KV(6, 14),
	  .defaults = { { 0, "1000" } },
	  .history = "Added in 6.14; before, connect() waited for the peer's timestamp clock to "
		     "move on by about 1 s.",
	  .meaning = "Milliseconds a TIME_WAIT must have existed before connect() may reuse it "
		     "(counted from its creation).",
	  .ref = KF("tw-reuse") },
	{ .key = "net.ipv4.tcp_timestamps",
	  .shape = TD_SHAPE_CHOICE,
	  .min = 0,
	  .max = 2,
	  .defaults = { { 0, "1" } },
	  .history = "Value 2 (no random offset) since 4.10; per namespace by 4.18.",
	  .meaning = "TCP timestamps (RFC 7323): PAWS, RTT measurement, and what tcp_tw_reuse "
		     "needs.",
	  .ref = KF("timestamps"),
	  RULES({ TD_ROP_EQ, 0, TD_SEV_HARMFUL,
		  "no PAWS, disables tcp_tw_reuse, weaker SYN cookies",
		  "Without timestamps there is no PAWS, tcp_tw_reuse cannot work, SYN-cookie "
		  "connections lose SACK/wscale/ECN, and RTT measurement is lost; the uptime leak "
		  "is gone since random offsets.",
		  KF("timestamps") }) },
	{ .key = "net.ipv4.tcp_fin_timeout",
	  .defaults = { { 0, "60" } },
	  .history = "Unchanged in meaning across 4.11-6.18.",
	  .meaning = "Bounds only orphaned FIN_WAIT2 sockets; TIME_WAIT is a fixed 60 s.",
	  .ref = KF("fin-wait2"),
	  RULES({ TD_ROP_GT, 60, TD_SEV_NOTE,
		  "orphaned FIN_WAIT2 kept longer; TIME_WAIT stays 60 s",
		  "It bounds how long a connection this host closed waits for the peer's FIN after "
		  "the application let go of the socket; past 60 s such an orphan stays a full "
		  "socket (counted against tcp_max_orphans). TIME_WAIT lasts a compiled-in 60 s "
		  "(TCP_TIMEWAIT_LEN) whatever this is.",
		  KF("fin-wait2") },
		{ TD_ROP_NOT_DEFAULT, 0, TD_SEV_NOTE,
		  "bounds orphaned FIN_WAIT2 only; TIME_WAIT stays 60 s",
		  "It bounds how long a connection this host closed waits for the peer's FIN after "
		  "the application let go of the socket (orphaned FIN_WAIT2); TIME_WAIT lasts a "
		  "compiled-in 60 s (TCP_TIMEWAIT_LEN) whatever this is.",
		  KF("fin-wait2") }) },
	{ .key = "net.ipv4.tcp_max_tw_buckets",
	  .defkind = TD_DEF_EHASH_HALF,
	  .history =
		  "Default half the TCP ehash size (at most 262144); overflow silent since 4.11.",
	  .meaning = "Limit of timewait sockets (TIME_WAIT plus orphaned FIN_WAIT2) per namespace.",
	  .ref = KF("tw-buckets"),
	  RULES({ TD_ROP_BELOW_DEFAULT, 0, TD_SEV_HARMFUL,
		  "overflow skips TIME_WAIT and its protection",
		  "Past the limit a closing socket skips TIME_WAIT (TCPTimeWaitOverflow), so old "
		  "duplicates are accepted and a lost last ACK is answered by RST; FIN_WAIT2 "
		  "orphans count too.",
		  KF("tw-buckets") }) },
	{ .key = "net.ipv4.ip_local_port_range",
	  .shape = TD_SHAPE_RANGE,
	  .enforced = true,
	  .min = 0,
	  .max = 65535,
	  .defaults = { { 0, "32768 61000" }, { PARAMS_KV(4, 2), "32768 60999" } },
	  .history = "Default 32768-60999 since 4.2 (32768-61000 before); parity split since 4.2.",
	  .meaning = "Ephemeral ports for connect() and bind(0); they run out per (source IP, "
		     "destination IP, destination port).",
	  .ref = KF("ephemeral-ports"),
	  .check = check_port_range },
	{ .key = "net.ipv4.ip_local_reserved_ports",
	  .shape = TD_SHAPE_PORTLIST,
	  .defaults = { { 0, "" } },
	  .history = "Unchanged in meaning across 4.11-6.18.",
	  .meaning = "Ports both ephemeral searches skip.",
	  .ref = KF("ephemeral-ports") },
	{ .key = "net.ipv4.ip_unprivileged_port_start",
	  .enforced = true,
	  .min = 0,
	  .max = 65535,
	  .defaults = { { 0, "1024" } },
	  .history = "Added in 4.11.",
	  .meaning = "Lowest port an unprivileged process may bind; ip_local_port_range must start "
		     "at or above it.",
	  .ref = KF("ephemeral-ports") },
	{ .key = "net.core.somaxconn",
	  .enforced = true,
	  .min = 0,
	  .max = INT32_MAX,
	  .defaults = { { 0, "128" }, { PARAMS_KV(5, 4), "4096" } },
	  .history = "Default 4096 since 5.4 (128 before).",
	  .meaning = "Caps the backlog an application passes to listen().",
	  .ref = KF("listen-queues"),
	  RULES({ TD_ROP_ABOVE_DEFAULT, 0, TD_SEV_INFO, "harmless: only a cap",
		  "somaxconn only caps listen()'s backlog; the application must ask for the larger "
		  "backlog too.",
		  KF("listen-queues") },
		{ TD_ROP_BELOW_DEFAULT, 0, TD_SEV_WARN,
		  "lower than the default: caps every listener",
		  "Every listen() backlog above this value is silently cut to it.",
		  KF("listen-queues") }) },
	{ .key = "net.ipv4.tcp_max_syn_backlog",
	  .defkind = TD_DEF_EHASH_128,
	  .history = "Default max(128, ehash size / 128).",
	  .meaning = "Only matters with tcp_syncookies=0; the SYN queue is bounded by the listen "
		     "backlog.",
	  .ref = KF("listen-queues"),
	  RULES({ TD_ROP_NOT_DEFAULT, 0, TD_SEV_NOTE,
		  "mostly ineffective: the listen backlog bounds the SYN queue",
		  "The SYN queue is bounded by the listener's backlog; tcp_max_syn_backlog only "
		  "matters when tcp_syncookies=0.",
		  KF("listen-queues") }) },
	{ .key = "net.ipv4.tcp_syncookies",
	  .shape = TD_SHAPE_CHOICE,
	  .min = 0,
	  .max = 2,
	  .defaults = { { 0, "1" } },
	  .history = "0/1/2, default 1, unchanged across 4.11-6.18.",
	  .meaning = "SYN cookies when the SYN queue is full (1) or always (2).",
	  .ref = KF("listen-queues"),
	  RULES({ TD_ROP_EQ, 0, TD_SEV_WARN,
		  "no SYN cookies: SYNs are dropped when the queue fills",
		  "With cookies off, SYNs from unproven peers are dropped once fewer than a "
		  "quarter of the queue's slots are free.",
		  KF("listen-queues") },
		{ TD_ROP_EQ, 2, TD_SEV_NOTE, "cookies always, even without a flood",
		  "2 answers every SYN with a cookie (DOC: for testing): the MSS is rounded to a "
		  "few values, and without timestamps SACK and window scaling are lost.",
		  KF("listen-queues") }) },
	{ .key = "net.ipv4.tcp_abort_on_overflow",
	  .shape = TD_SHAPE_CHOICE,
	  .min = 0,
	  .max = 1,
	  .defaults = { { 0, "0" } },
	  .history = "Unchanged across 4.11-6.18.",
	  .meaning =
		  "What a full accept queue does to a completing handshake: retry (0) or RST (1).",
	  .ref = KF("listen-queues"),
	  RULES({ TD_ROP_EQ, 1, TD_SEV_WARN, "clients get RST when the accept queue is full",
		  "With 1 a short burst resets connections that the default would have completed "
		  "by retrying the SYN-ACK.",
		  KF("listen-queues") }) },
	{ .key = "net.ipv4.tcp_synack_retries",
	  .enforced = true,
	  .min = 0,
	  .max = 255,
	  .defaults = { { 0, "5" } },
	  .history = "Default 5 (about 63 s).",
	  .meaning = "SYN-ACK retransmissions for a passive open.",
	  .ref = KF("listen-queues") },
	{ .key = "net.ipv4.tcp_syn_retries",
	  .enforced = true,
	  .min = 1,
	  .max = 127,
	  .defaults = { { 0, "6" } },
	  .history = "Default 6: connect() fails after about 127 s (133.6 s measured on 6.18, "
		     "where tcp_syn_linear_timeouts makes the first retransmits linear).",
	  .meaning = "SYN retransmissions before connect() gives up.",
	  .ref = KF("listen-queues"),
	  RULES({ TD_ROP_LT, 3, TD_SEV_HARMFUL,
		  "harmful as a default: connect() gives up within seconds",
		  "With 2, connect() fails after about 7 s (with 1 about 3 s) for every "
		  "application; use TCP_SYNCNT or application timeouts where fast failure is "
		  "wanted.",
		  KF("listen-queues") }) },
	{ .key = "net.ipv4.tcp_syn_linear_timeouts",
	  .enforced = true,
	  .min = 0,
	  .max = 127,
	  .added = PARAMS_KV(6, 5),
	  .defaults = { { 0, "4" } },
	  .history = "Added in 6.5.",
	  .meaning = "SYN retransmissions with a linear timeout before exponential backoff.",
	  .ref = KF("listen-queues") },
	{ .key = "net.ipv4.tcp_max_orphans",
	  .scope = TD_SCOPE_GLOBAL,
	  .defkind = TD_DEF_EHASH_HALF,
	  .history = "Global; default half the TCP ehash size.",
	  .meaning = "Limit of orphaned sockets host-wide; each can hold about 64 KB.",
	  .ref = KF("orphans"),
	  RULES({ TD_ROP_ABOVE_DEFAULT, 0, TD_SEV_NOTE,
		  "raises the orphan limit: more orphans may hold memory before the kernel resets "
		  "them",
		  "Past the limit the kernel resets orphaned sockets ('too many orphaned "
		  "sockets'); each can hold about 64 KB, and tcp_mem still bounds TCP memory as a "
		  "whole.",
		  KF("orphans") },
		{ TD_ROP_BELOW_DEFAULT, 0, TD_SEV_WARN, "do not lower: orphans get reset early",
		  "Over the limit the kernel resets orphans ('too many orphaned sockets', "
		  "TCPAbortOnMemory).",
		  KF("orphans") }) },
	{ .key = "net.ipv4.tcp_orphan_retries",
	  .enforced = true,
	  .min = 0,
	  .max = 255,
	  .defaults = { { 0, "0" } },
	  .history = "Default 0, which means 8 while the peer is alive.",
	  .meaning = "Retransmissions before an orphaned connection is killed.",
	  .ref = KF("orphans") },
	{ .key = "net.ipv4.tcp_mem",
	  .scope = TD_SCOPE_GLOBAL,
	  .shape = TD_SHAPE_TRIPLE,
	  .defkind = TD_DEF_MEMORY,
	  .history =
		  "Global, in pages; defaults about 4.7 % / 6.25 % / 9.4 % of free buffer pages.",
	  .meaning = "TCP memory thresholds in pages: min pressure max.",
	  .ref = KF("memory"),
	  .check = check_tcp_mem },
	{ .key = "net.ipv4.tcp_rmem",
	  .shape = TD_SHAPE_TRIPLE,
	  .defkind = TD_DEF_INHERITED,

	  .history = "Per namespace since 4.18; a new namespace copies the initial one's value; "
		     "the max is sized from memory at boot.",
	  .meaning = "Receive buffer min default max in bytes for autotuning.",
	  .ref = KF("memory"),
	  .check = check_buf_triple },
	{ .key = "net.ipv4.tcp_wmem",
	  .shape = TD_SHAPE_TRIPLE,
	  .defkind = TD_DEF_INHERITED,

	  .history = "Per namespace since 4.18; a new namespace copies the initial one's value; "
		     "the max is sized from memory at boot.",
	  .meaning = "Send buffer min default max in bytes for autotuning.",
	  .ref = KF("memory"),
	  .check = check_buf_triple },
	{ .key = "net.core.rmem_max",
	  .scope = TD_SCOPE_GLOBAL,
	  .defkind = TD_DEF_MEMORY,
	  .history = "Global; read-only in child namespaces on 6.18.",
	  .meaning = "Caps SO_RCVBUF; setting SO_RCVBUF disables receive autotuning.",
	  .ref = KF("memory") },
	{ .key = "net.core.wmem_max",
	  .scope = TD_SCOPE_GLOBAL,
	  .defkind = TD_DEF_MEMORY,
	  .history = "Global; read-only in child namespaces on 6.18.",
	  .meaning = "Caps SO_SNDBUF; setting SO_SNDBUF disables send autotuning.",
	  .ref = KF("memory") },
	{ .key = "net.core.rmem_default",
	  .scope = TD_SCOPE_GLOBAL,
	  .defkind = TD_DEF_MEMORY,
	  .history = "Global; read-only in child namespaces on 6.18.",
	  .meaning = "Default receive buffer of non-TCP sockets.",
	  .ref = KF("memory") },
	{ .key = "net.core.wmem_default",
	  .scope = TD_SCOPE_GLOBAL,
	  .defkind = TD_DEF_MEMORY,
	  .history = "Global; read-only in child namespaces on 6.18.",
	  .meaning = "Default send buffer of non-TCP sockets.",
	  .ref = KF("memory") },
	{ .key = "net.ipv4.tcp_keepalive_time",
	  .defaults = { { 0, "7200" } },
	  .history = "Unchanged across 4.11-6.18.",
	  .meaning = "Idle seconds before the first keepalive probe, SO_KEEPALIVE sockets only.",
	  .ref = KF("keepalive"),
	  RULES({ TD_ROP_NOT_DEFAULT, 0, TD_SEV_INFO, "neutral: SO_KEEPALIVE sockets only",
		  "Only sockets with SO_KEEPALIVE probe, per-socket TCP_KEEPIDLE overrides it, and "
		  "it has nothing to do with TIME_WAIT.",
		  KF("keepalive") }) },
	{ .key = "net.ipv4.tcp_keepalive_intvl",
	  .defaults = { { 0, "75" } },
	  .history = "Unchanged across 4.11-6.18.",
	  .meaning = "Seconds between keepalive probes, SO_KEEPALIVE sockets only.",
	  .ref = KF("keepalive"),
	  RULES({ TD_ROP_NOT_DEFAULT, 0, TD_SEV_INFO, "neutral: SO_KEEPALIVE sockets only",
		  "Only sockets with SO_KEEPALIVE probe; TCP_KEEPINTVL overrides it per socket.",
		  KF("keepalive") }) },
	{ .key = "net.ipv4.tcp_keepalive_probes",
	  .defaults = { { 0, "9" } },
	  .history = "Unchanged across 4.11-6.18.",
	  .meaning = "Unanswered probes before a keepalive connection is dropped.",
	  .ref = KF("keepalive"),
	  RULES({ TD_ROP_NOT_DEFAULT, 0, TD_SEV_INFO, "neutral: SO_KEEPALIVE sockets only",
		  "Only sockets with SO_KEEPALIVE probe; TCP_KEEPCNT overrides it per socket.",
		  KF("keepalive") }) },
	{ .key = "net.ipv4.tcp_rfc1337",
	  .shape = TD_SHAPE_CHOICE,
	  .min = 0,
	  .max = 1,
	  .defaults = { { 0, "0" } },
	  .history = "Unchanged across 4.11-6.18.",
	  .meaning = "With 0 an RST ends a TIME_WAIT early; 1 ignores it (RFC 1337).",
	  .ref = KF("time-wait") },
	{ .key = "net.core.netdev_max_backlog",
	  .scope = TD_SCOPE_GLOBAL,
	  .defaults = { { 0, "1000" } },
	  .history = "Global; absent in child namespaces on 6.18.",
	  .meaning = "Packets queued per CPU on input before the stack drops them; not a TCP "
		     "connection-state setting.",
	  .ref = KF("other-keys"),
	  RULES({ TD_ROP_NOT_DEFAULT, 0, TD_SEV_INFO, "unrelated to TCP connection states",
		  "It sizes the per-CPU input packet queue; it changes nothing about TIME_WAIT, "
		  "ports or listen queues.",
		  KF("other-keys") }) },
	{ .key = "net.ipv4.tcp_congestion_control",
	  .shape = TD_SHAPE_STRING,
	  .defkind = TD_DEF_INHERITED,
	  .history = "A new namespace copies the initial namespace's algorithm.",
	  .meaning = "Default congestion control; the kernel rejects a name it cannot load.",
	  .ref = KF("other-keys") },
	/* Keys the pasted snippets set that are not about connection states. Defaults and scope
	 * read on 6.18 in the initial namespace and in a fresh one (tests/cli/sysctl_lint.sh);
	 * each reason restates Documentation/networking/ip-sysctl.rst for that key, and
	 * tcp-facts#other-keys cites it. */
	{ .key = "net.ipv4.tcp_fack",
	  .shape = TD_SHAPE_CHOICE,
	  .min = 0,
	  .max = 1,
	  .defaults = { { 0, "0" } },
	  .history = "Still a file on 6.18 (per network namespace) but a legacy option: FACK loss "
		     "recovery is gone and the value is read by nothing.",
	  .meaning = "Forward acknowledgement loss recovery, retired: the key is kept only so that "
		     "old files do not fail.",
	  .ref = "tcp-facts#other-keys",
	  RULES({ TD_ROP_NE, -1, TD_SEV_INFO, "no effect on current kernels: a legacy option",
		  "ip-sysctl.rst: 'This is a legacy option, it has no effect anymore.'; the line "
		  "can go.",
		  "tcp-facts#other-keys" }) },
	{ .key = "net.ipv4.tcp_low_latency",
	  .scope = TD_SCOPE_GLOBAL,
	  .shape = TD_SHAPE_CHOICE,
	  .min = 0,
	  .max = 1,
	  .defaults = { { 0, "0" } },
	  .history = "No effect since 4.14 (commit e7942d0633c4 removed the prequeue it "
		     "controlled); on 6.18 the file exists only in the initial network namespace.",
	  .meaning = "Used to bypass the TCP prequeue; read by nothing since the prequeue was "
		     "removed.",
	  .ref = "tcp-facts#other-keys",
	  RULES({ TD_ROP_NE, -1, TD_SEV_INFO, "no effect on current kernels: a legacy option",
		  "ip-sysctl.rst: 'This is a legacy option, it has no effect anymore.' (the "
		  "prequeue went in 4.14); the line can go.",
		  "tcp-facts#other-keys" }) },
	{ .key = "net.ipv4.tcp_sack",
	  .shape = TD_SHAPE_CHOICE,
	  .min = 0,
	  .max = 1,
	  .defaults = { { 0, "1" } },
	  .history = "Default 1; per network namespace.",
	  .meaning = "Selective acknowledgements (RFC 2018): the receiver reports which segments "
		     "arrived, so the sender resends only the lost ones.",
	  .ref = "tcp-facts#other-keys",
	  RULES({ TD_ROP_EQ, 0, TD_SEV_WARN, "turns SACK off: each loss costs more round trips",
		  "Without SACK the sender learns of one lost segment per round trip and may "
		  "resend data that arrived; the 2019 SACK CVEs that made people turn it off are "
		  "fixed in the kernel.",
		  "tcp-facts#other-keys" }) },
	{ .key = "net.ipv4.tcp_window_scaling",
	  .shape = TD_SHAPE_CHOICE,
	  .min = 0,
	  .max = 1,
	  .defaults = { { 0, "1" } },
	  .history = "Default 1; per network namespace.",
	  .meaning = "Window scaling (RFC 7323): receive windows larger than 64 KB.",
	  .ref = "tcp-facts#other-keys",
	  RULES({ TD_ROP_EQ, 0, TD_SEV_WARN, "turns window scaling off: windows cap at 64 KB",
		  "New connections cannot advertise a window above 64 KB, which caps throughput "
		  "at 64 KB per round trip.",
		  "tcp-facts#other-keys" }) },
	{ .key = "net.ipv4.tcp_slow_start_after_idle",
	  .shape = TD_SHAPE_CHOICE,
	  .min = 0,
	  .max = 1,
	  .defaults = { { 0, "1" } },
	  .history = "Default 1; per network namespace.",
	  .meaning = "With 1 the congestion window shrinks after an idle period (RFC 2861); with 0 "
		     "it is kept.",
	  .ref = "tcp-facts#other-keys",
	  RULES({ TD_ROP_NOT_DEFAULT, 0, TD_SEV_INFO,
		  "throughput after idle periods; unrelated to connection states",
		  "0 keeps the congestion window of long-lived connections across idle periods; "
		  "it changes nothing about TIME_WAIT, ports or listen queues.",
		  "tcp-facts#other-keys" }) },
	{ .key = "net.ipv4.tcp_no_metrics_save",
	  .shape = TD_SHAPE_CHOICE,
	  .min = 0,
	  .max = 1,
	  .defaults = { { 0, "0" } },
	  .history = "Default 0; per network namespace.",
	  .meaning = "With 1 TCP does not cache a closing connection's metrics (RTT, cwnd) for the "
		     "next connection to the same host.",
	  .ref = "tcp-facts#other-keys",
	  RULES({ TD_ROP_NOT_DEFAULT, 0, TD_SEV_INFO,
		  "initial conditions of new connections; unrelated to connection states",
		  "It decides whether new connections start from the cached metrics of earlier "
		  "ones to the same host; it changes nothing about TIME_WAIT, ports or listen "
		  "queues.",
		  "tcp-facts#other-keys" }) },
	{ .key = "net.ipv4.ip_forward",
	  .shape = TD_SHAPE_CHOICE,
	  .min = 0,
	  .max = 1,
	  .defaults = { { 0, "0" } },
	  .history = "Default 0; per network namespace (net.core.devconf_inherit_init_net decides "
		     "whether a new namespace copies the host's value).",
	  .meaning = "Forwards IPv4 packets between interfaces (a router, a container host).",
	  .ref = "tcp-facts#other-keys",
	  RULES({ TD_ROP_NOT_DEFAULT, 0, TD_SEV_INFO, "routing; unrelated to TCP connection states",
		  "It makes the host route packets between interfaces; changing it also resets "
		  "per-interface settings to host or router defaults (ip-sysctl.rst).",
		  "tcp-facts#other-keys" }) },
	{ .key = "net.ipv4.tcp_fastopen",
	  .defaults = { { 0, "1" } },
	  .history = "A bitmask, default 1 (client side on); per network namespace.",
	  .meaning = "TCP Fast Open (RFC 7413): data in the SYN. 1 client, 2 server; a server "
		     "listener must also set TCP_FASTOPEN.",
	  .ref = "tcp-facts#other-keys",
	  RULES({ TD_ROP_NOT_DEFAULT, 0, TD_SEV_INFO,
		  "data in the SYN; unrelated to connection states",
		  "Fast Open saves a round trip on repeat connections; the server side works only "
		  "for listeners that set TCP_FASTOPEN, and no bit changes TIME_WAIT or ports.",
		  "tcp-facts#other-keys" }) },
	{ .key = "net.ipv4.tcp_notsent_lowat",
	  .enforced = true,
	  .min = 0,
	  .max = UINT32_MAX,
	  .defaults = { { 0, "4294967295" } },
	  .history = "Default 4294967295 (no limit); per network namespace.",
	  .meaning = "Unsent bytes a socket may queue before poll() stops reporting it writable "
		     "(TCP_NOTSENT_LOWAT per socket).",
	  .ref = "tcp-facts#other-keys",
	  RULES({ TD_ROP_NOT_DEFAULT, 0, TD_SEV_INFO,
		  "memory and latency of send queues; unrelated to connection states",
		  "A lower value keeps less unsent data in the kernel per socket; it changes "
		  "nothing about TIME_WAIT, ports or listen queues.",
		  "tcp-facts#other-keys" }) },
	{ .key = "net.ipv4.tcp_mtu_probing",
	  .shape = TD_SHAPE_CHOICE,
	  .min = 0,
	  .max = 2,
	  .defaults = { { 0, "0" } },
	  .history = "0/1/2, default 0; per network namespace.",
	  .meaning = "Packetization-layer path MTU discovery: 1 after an ICMP black hole is "
		     "detected, 2 always.",
	  .ref = "tcp-facts#other-keys",
	  RULES({ TD_ROP_NOT_DEFAULT, 0, TD_SEV_INFO,
		  "path MTU discovery; unrelated to connection states",
		  "It helps connections whose path drops large packets without ICMP (a PMTU black "
		  "hole); it changes nothing about TIME_WAIT, ports or listen queues.",
		  "tcp-facts#other-keys" }) },
	{ .key = "net.ipv4.tcp_retries2",
	  .enforced = true,
	  .min = 0,
	  .max = 255,
	  .defaults = { { 0, "15" } },
	  .history = "Default 15 (about 924 s with the minimal RTO); per network namespace.",
	  .meaning = "Retransmissions before an established connection with unacknowledged data "
		     "is given up (ETIMEDOUT).",
	  .ref = "tcp-facts#other-keys",
	  RULES({ TD_ROP_LT, 8, TD_SEV_WARN,
		  "below RFC 1122's 100 s: short outages kill established connections",
		  "ip-sysctl.rst: RFC 1122 recommends at least 100 s, a value of at least 8; "
		  "lower values abort connections during a brief network outage. Per socket, "
		  "TCP_USER_TIMEOUT does this where fast failure is wanted.",
		  "tcp-facts#other-keys" },
		{ TD_ROP_NOT_DEFAULT, 0, TD_SEV_INFO,
		  "how long a stalled connection lives; unrelated to TIME_WAIT",
		  "It bounds retransmissions of data on an established connection; it changes "
		  "nothing about TIME_WAIT or ports.",
		  "tcp-facts#other-keys" }) },
#include "core/sysctl/params_data_ct.inc"
};

const size_t params_count = TD_ARRAY_SIZE(params_table);
