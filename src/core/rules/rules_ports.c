// SPDX-License-Identifier: MIT
/*
 * Rules on the ephemeral-port table: port exhaustion (or a client-side TIME_WAIT storm) per
 * destination, and the range filling up from one source address across destinations. A port is
 * held by whatever state its socket is in, so the finding says which states hold them and takes
 * its cause and remedies from that: TIME_WAIT (this host closes first), orphaned FIN_WAIT2 (the
 * peer never closes: its CLOSE_WAIT leak; tcp_fin_timeout, never tcp_tw_reuse), live
 * connections, this host's own CLOSE_WAIT, unanswered SYNs. Every sentence must agree with
 * doc/tcp-facts.md (ephemeral-ports, time-wait, fin-wait2, tw-reuse).
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/model/model.h"
#include "core/fields.h"
#include "core/model/ports.h"
#include "core/rules/rules.h"
#include "core/source/source.h"

/* Evidence keys, one per state (static strings). */
static const char *const state_key[TD_SS_COUNT] = {
	"",	     "established", "syn_sent",	  "syn_recv", "fin_wait1", "fin_wait2",
	"time_wait", "close",	    "close_wait", "last_ack", "listen",	   "closing",
};

/* What the rules need to know about a destination's namespace besides the port table. */
struct port_ctx {
	const struct td_ns_model *ns;
	const struct td_port_dest *d;
	char src[64], dst[80];
	int64_t fin_timeout; /* net.ipv4.tcp_fin_timeout, s */
	int64_t delay_ms;    /* the tw_reuse delay: tcp_tw_reuse_delay, or about 1 s before 6.14 */
	bool delay_known;    /* the namespace has tcp_tw_reuse_delay (6.14+) */
	unsigned order[TD_SS_COUNT]; /* states holding ports, most first */
	unsigned nheld;
};

static void endpoint(unsigned fam, const uint8_t *a, unsigned port, char *b, size_t l)
{
	char s[64];

	sock_addr_str(fam, a, s, sizeof(s));
	snprintf(b, l, fam == AF_INET6 ? "[%s]:%u" : "%s:%u", s, port);
}

static void ctx_init(struct port_ctx *c, const struct td_ns_model *ns, const struct td_port_dest *d)
{
	memset(c, 0, sizeof(*c));
	c->ns = ns;
	c->d = d;
	sock_addr_str(d->family, d->src, c->src, sizeof(c->src));
	endpoint(d->family, d->dst, d->dport, c->dst, sizeof(c->dst));
	c->fin_timeout = 60;
	model_sysctl_int(ns, "net.ipv4.tcp_fin_timeout", &c->fin_timeout);
	c->delay_ms = 1000;
	c->delay_known = model_sysctl_int(ns, "net.ipv4.tcp_tw_reuse_delay", &c->delay_ms) == 0 &&
			 c->delay_ms > 0;
	if (!c->delay_known)
		c->delay_ms = 1000;
	for (unsigned s = 1; s < TD_SS_COUNT; s++) {
		if (!d->n[s])
			continue;
		unsigned i = c->nheld++;
		while (i > 0 && d->n[c->order[i - 1]] < d->n[s]) { /* insertion: most first */
			c->order[i] = c->order[i - 1];
			i--;
		}
		c->order[i] = s;
	}
}

/* A state holds a share of the ports worth its own cause and remedies: the largest holder, or at
 * least a tenth of them. */
static bool holds(const struct port_ctx *c, unsigned state)
{
	uint32_t n = c->d->n[state];

	return n && ((c->nheld && c->order[0] == state) || (uint64_t)n * 10 >= c->d->in_use);
}

/* "100 FIN_WAIT2" or "60 TIME_WAIT, 30 ESTABLISHED and 10 FIN_WAIT2". */
static void holders_text(const struct port_ctx *c, char *b, size_t l)
{
	size_t o = 0;

	b[0] = '\0';
	for (unsigned i = 0; i < c->nheld && o < l; i++)
		o += (size_t)snprintf(b + o, l - o, "%s%u %s",
				      i == 0		  ? ""
				      : i + 1 == c->nheld ? " and "
							  : ", ",
				      c->d->n[c->order[i]], sock_state_name(c->order[i]));
}

/* "1000 ms (tcp_tw_reuse_delay) after it entered TIME_WAIT", or the pre-6.14 rule. */
static void delay_text(const struct port_ctx *c, char *b, size_t l)
{
	if (c->delay_known)
		snprintf(b, l, "%lld ms (tcp_tw_reuse_delay) after it entered TIME_WAIT",
			 (long long)c->delay_ms);
	else
		snprintf(b, l,
			 "about 1 s after the peer's last timestamp (kernels before 6.14 have "
			 "no tcp_tw_reuse_delay)");
}

/* The sentence on one state holding ports: who did what, and how long the port stays held. */
static int state_sentence(const struct port_ctx *c, unsigned s, char *b, size_t l)
{
	const struct td_port_dest *d = c->d;
	char delay[128];

	switch (s) {
	case TD_SS_TIME_WAIT:
		if (d->reuse != TD_REUSE_ACTIVE)
			return snprintf(
				b, l,
				" TIME_WAIT: this host closed first, and each keeps its port for "
				"60 s, a kernel constant no sysctl changes (tcp_fin_timeout "
				"does not). At %.0f closes/s that is %.0f ports held.",
				d->rate, d->rate * TD_TIMEWAIT_LEN_S);
		delay_text(c, delay, sizeof(delay));
		return snprintf(
			b, l,
			" TIME_WAIT: this host closed first; a TIME_WAIT lasts 60 s, but "
			"tcp_tw_reuse lets connect() take one over %s. At %.0f closes/s that "
			"is about %.0f ports held.",
			delay, d->rate, d->rate * (double)c->delay_ms / 1000.0);
	case TD_SS_FIN_WAIT2:
		return snprintf(
			b, l,
			" FIN_WAIT2: this host closed and %s acknowledged but never closed its "
			"side (its program leaves them in CLOSE_WAIT); an orphaned FIN_WAIT2 "
			"keeps its port for tcp_fin_timeout (%lld s here) and tcp_tw_reuse "
			"never takes one over.",
			c->dst, (long long)c->fin_timeout);
	case TD_SS_ESTABLISHED:
		return snprintf(
			b, l,
			" ESTABLISHED: %u open connections, each holding its port for as long "
			"as it lives.",
			d->n[s]);
	case TD_SS_CLOSE_WAIT:
		return snprintf(b, l,
				" CLOSE_WAIT: the peer closed and the program here never called "
				"close().");
	case TD_SS_SYN_SENT:
		return snprintf(b, l, " SYN_SENT: connects still waiting for a SYN-ACK.");
	case TD_SS_FIN_WAIT1:
	case TD_SS_CLOSING:
	case TD_SS_LAST_ACK:
		return snprintf(b, l, " %s: waiting for the peer to acknowledge this host's FIN.",
				sock_state_name(s));
	}
	return 0;
}

/* What holds the ports, then one sentence per state, most first. */
static void cause_text(const struct port_ctx *c, char *b, size_t l)
{
	char held[256];
	size_t o;

	holders_text(c, held, sizeof(held));
	o = (size_t)snprintf(b, l,
			     "connect() needs a local port unique per source IP, destination IP "
			     "and port; these %u are held by %s.",
			     c->d->in_use, held);
	for (unsigned i = 0; i < c->nheld && o < l; i++)
		o += (size_t)state_sentence(c, c->order[i], b + o, l - o);
}

/* The range remedy, only with a value tcpdoctor's own lint accepts: the low end stays at 32768
 * (below it the range overlaps service ports) and the ends differ in parity. */
static void range_remedy(struct td_finding *x, const struct td_ns_model *ns)
{
	struct td_port_cfg cfg;
	unsigned now;

	ports_cfg_from_meta(&cfg, ns->meta, NULL);
	now = ports_capacity(&cfg);
	cfg.low = 32768;
	cfg.high = 65535;
	if (ports_capacity(&cfg) <= now)
		return; /* as wide as a lint-clean range gets: the fixes above are what is left */
	rules_remedy(x,
		     "Widen net.ipv4.ip_local_port_range to \"32768 65535\" (%u ports instead of "
		     "%u; ends of different parity) and list ports services listen on inside it "
		     "in ip_local_reserved_ports; a low end under 32768 overlaps more service "
		     "ports",
		     ports_capacity(&cfg), now);
}

static void reuse_remedy(struct td_finding *x, const struct port_ctx *c)
{
	char delay[128];

	delay_text(c, delay, sizeof(delay));
	switch (c->d->reuse) {
	case TD_REUSE_OFF:
		rules_remedy(x,
			     "net.ipv4.tcp_tw_reuse=1 lets connect() take over a TIME_WAIT %s: "
			     "outgoing connections only, and only when the peer negotiates "
			     "timestamps (tcp_timestamps is on here)",
			     delay);
		break;
	case TD_REUSE_LOOPBACK_ONLY:
		rules_remedy(x,
			     "net.ipv4.tcp_tw_reuse is 2 (loopback only, the default since 4.18) "
			     "and this destination is not loopback: 1 lets connect() take over a "
			     "TIME_WAIT %s; needs timestamps",
			     delay);
		break;
	case TD_REUSE_NO_TIMESTAMPS:
		rules_remedy(x,
			     "net.ipv4.tcp_timestamps=0 disables tcp_tw_reuse whatever its value: "
			     "set tcp_timestamps=1 (the default) first");
		break;
	case TD_REUSE_ACTIVE:
		rules_remedy(x,
			     "tcp_tw_reuse already applies here: connect() takes over a TIME_WAIT "
			     "%s, so about %.0f connections/s can be sustained (capacity %u / "
			     "reuse delay %.3g s) when the peer negotiates timestamps; past that "
			     "only the fixes above help",
			     delay, c->d->capacity * 1000.0 / (double)c->delay_ms, c->d->capacity,
			     (double)c->delay_ms / 1000.0);
		break;
	default:
		break;
	}
}

/* Remedies for the states that hold the ports: application fixes first, then sysctls. */
static void dest_remedies(struct td_finding *x, const struct port_ctx *c)
{
	bool tw = holds(c, TD_SS_TIME_WAIT), fw2 = holds(c, TD_SS_FIN_WAIT2);

	if (fw2)
		rules_remedy(x,
			     "Fix %s: it does not close connections after this host closes them "
			     "(they sit in CLOSE_WAIT there; run tcpdoctor on that host)",
			     c->dst);
	if (holds(c, TD_SS_CLOSE_WAIT))
		rules_remedy(x, "Close the socket when read() returns 0 (end of stream): this "
				"host's program leaks these (see close-wait-leak)");
	if (holds(c, TD_SS_SYN_SENT))
		rules_remedy(x,
			     "%s does not answer SYNs: check that it is up and accepting (its "
			     "accept queue, listen-overflows there)",
			     c->dst);
	if (tw || holds(c, TD_SS_ESTABLISHED))
		rules_remedy(x, "Reuse connections: keep-alive or a bounded connection pool, so "
				"fewer connections carry the requests");
	if (tw)
		rules_remedy(x, "Let the server close first where the protocol allows: its "
				"TIME_WAIT then sits on the server and costs the client no ports");
	rules_remedy(x, "Spread over more source addresses or destination ports (ports run out per "
			"source IP, destination IP and port); with bind() before connect() set "
			"IP_BIND_ADDRESS_NO_PORT so bind() does not take a port exclusively");
	if (tw) {
		rules_remedy(x, "SO_LINGER {1, 0} closes with RST and skips TIME_WAIT, but unsent "
				"data is lost, the peer sees ECONNRESET and old duplicates are no "
				"longer guarded against: last resort");
		reuse_remedy(x, c);
	}
	if (fw2)
		rules_remedy(x,
			     "Until the peer is fixed, a lower net.ipv4.tcp_fin_timeout (%lld s "
			     "here) frees orphaned FIN_WAIT2 ports sooner; it bounds only orphaned "
			     "FIN_WAIT2, not TIME_WAIT",
			     (long long)c->fin_timeout);
	range_remedy(x, c->ns);
}

static enum td_fsev exhaust_grade(const struct td_limit *l, double s)
{
	/* lower is worse; a threshold of 0 turns the grade off */
	if (s < 0)
		return TD_F_OK;
	if (l->crit > 0 && s <= l->crit)
		return TD_F_CRITICAL;
	if (l->warn > 0 && s <= l->warn)
		return TD_F_WARNING;
	return TD_F_OK;
}

static void dest_evidence(struct td_finding *x, const struct port_ctx *c)
{
	const struct td_port_dest *d = c->d;

	rules_ev(x, "in_use", d->in_use, "ports");
	rules_ev(x, "capacity", d->capacity, "ports");
	struct td_fval use;
	ports_dest_usage(d, &use); /* the usage ports and watch show: none without a capacity */
	if (use.kind != TD_FV_NULL)
		rules_ev(x, "usage", use.d, "%");
	for (unsigned i = 0; i < c->nheld; i++)
		rules_ev(x, state_key[c->order[i]], d->n[c->order[i]], "sockets");
	if (!d->n[TD_SS_TIME_WAIT])
		rules_ev(x, "time_wait", 0, "sockets");
	rules_ev(x, "close_rate", d->rate, "/s");
	if (d->exhaust_s >= 0)
		rules_ev(x, "exhaust_in", d->exhaust_s, "s");
	if (d->reuse == TD_REUSE_ACTIVE && d->n[TD_SS_TIME_WAIT])
		rules_ev(x, "reusable", d->reusable, "sockets");
	if (holds(c, TD_SS_FIN_WAIT2))
		rules_ev(x, "tcp_fin_timeout", (double)c->fin_timeout, "s");
}

static void rule_dest(const struct td_ns_model *ns, const struct td_port_dest *d,
		      const struct td_limits *lim, struct td_findings *out)
{
	struct port_ctx c;
	char held[320], cause[2048];
	/* TIME_WAIT that connect() may take over already do not block it: grade the rest */
	uint32_t reusable = d->reuse == TD_REUSE_ACTIVE ? d->reusable : 0;
	double usage = d->capacity ? 100.0 * d->in_use / d->capacity : 100;
	double blocked = d->capacity ? 100.0 * (d->in_use - reusable) / d->capacity : 100;
	enum td_fsev sev = rules_grade(&lim->l[TD_LIM_PORT_USAGE], blocked);
	enum td_fsev sev2 = exhaust_grade(&lim->l[TD_LIM_EXHAUST_S], d->exhaust_s);
	uint32_t tw = d->n[TD_SS_TIME_WAIT];
	struct td_finding *x;

	if (sev2 > sev)
		sev = sev2;
	ctx_init(&c, ns, d);
	holders_text(&c, held, sizeof(held));
	if (reusable) {
		size_t o = strlen(held);
		snprintf(held + o, sizeof(held) - o, "; %u TIME_WAIT past the reuse delay",
			 reusable);
	}
	if (sev >= TD_F_WARNING) {
		x = rules_add(out, "port-exhaustion", sev, ns->name, NULL);
		rules_subject(x, "%s -> %s", c.src, c.dst);
		if (d->exhaust_s == 0)
			rules_title(x,
				    "Ephemeral ports to %s from %s are exhausted: %u of %u in use "
				    "(%s); connect() fails with EADDRNOTAVAIL",
				    c.dst, c.src, d->in_use, d->capacity, held);
		else if (d->exhaust_s > 0)
			rules_title(x,
				    "Ephemeral ports to %s from %s: %u of %u in use (%.0f%%: %s), "
				    "exhausted in %.0f s at %.0f closes/s",
				    c.dst, c.src, d->in_use, d->capacity, usage, held, d->exhaust_s,
				    d->rate);
		else
			rules_title(x,
				    "Ephemeral ports to %s from %s: %u of %u in use (%.0f%%: %s)",
				    c.dst, c.src, d->in_use, d->capacity, usage, held);
	} else if (tw >= lim->l[TD_LIM_TW_DEST].warn && lim->l[TD_LIM_TW_DEST].warn > 0) {
		x = rules_add(out, "time-wait-client", TD_F_WARNING, ns->name, NULL);
		rules_subject(x, "%s -> %s", c.src, c.dst);
		rules_title(x, "TIME_WAIT storm to %s: %u client-side TIME_WAIT (%u of %u ports)",
			    c.dst, tw, d->in_use, d->capacity);
	} else {
		return;
	}
	cause_text(&c, cause, sizeof(cause));
	rules_cause(x, "%s", cause);
	dest_evidence(x, &c);
	dest_remedies(x, &c);
}

/* Ports of the parity bind(0) tries first that connect() alone does not explain: connect() takes
 * that parity to a destination only once it holds every port of its own parity there. */
static uint32_t bound_evidence(const struct td_ns_model *ns, const struct td_src_ports *e)
{
	uint64_t by_connect = 0;

	for (size_t j = 0; j < ns->ndests; j++) {
		const struct td_port_dest *d = &ns->dests[j];
		if (d->family == e->family && !memcmp(d->src, e->addr, 16) &&
		    d->in_use > d->preferred)
			by_connect += d->in_use - d->preferred;
	}
	return e->bind_parity > by_connect ? (uint32_t)(e->bind_parity - by_connect) : 0;
}

/* Title and cause of the range finding: bind() fails only when sockets show bind before connect. */
static void range_text(struct td_finding *x, const struct td_src_ports *e, const char *a,
		       uint32_t bound)
{
	if (bound) {
		rules_title(x,
			    "%u of %u ephemeral ports in use from %s across all "
			    "destinations, %u of them apparently bound before connect(): "
			    "bind(addr, 0) fails with EADDRINUSE when they run out",
			    e->n, e->capacity, a, bound);
		rules_cause(x,
			    "connect() may share a local port between destinations, but "
			    "bind(addr, 0) takes one exclusively. %u sockets hold ports of "
			    "the parity bind(0) tries first, more than connect() takes on "
			    "its own, so code here binds before connecting (to pick a "
			    "source address); it runs out at the range size in total and "
			    "gets EADDRINUSE from bind(), not EADDRNOTAVAIL.",
			    bound);
	} else {
		rules_title(x,
			    "%u of %u ephemeral ports in use from %s across all "
			    "destinations; connect() can still share them",
			    e->n, e->capacity, a);
		rules_cause(x,
			    "connect() may share a local port between destinations, so it "
			    "does not run short here; only bind(addr, 0) (bind before "
			    "connect, or a program binding an ephemeral port) needs one no "
			    "socket uses and would fail with EADDRINUSE once all %u are "
			    "taken. No socket shows signs of bind before connect.",
			    e->capacity);
	}
}

/* bind(addr, 0) and bind-before-connect need a port no socket uses, whatever the destination,
 * so they run out at the range size in total while each destination looks half empty; connect()
 * alone shares a port between destinations and does not (tcp-facts#ephemeral-ports). */
static void rule_src_range(const struct td_ns_model *ns, const struct td_limits *lim,
			   struct td_findings *out)
{
	for (size_t i = 0; i < ns->nsrc; i++) {
		const struct td_src_ports *e = &ns->src[i];
		double pct = e->capacity ? 100.0 * e->n / e->capacity : 0;
		enum td_fsev sev = rules_grade(&lim->l[TD_LIM_RANGE_USAGE], pct);
		uint32_t most = 0, bound;
		char a[64];
		if (sev == TD_F_OK)
			continue;
		/* one destination holding them all is port-exhaustion's finding, not this one */
		for (size_t j = 0; j < ns->ndests; j++)
			if (ns->dests[j].family == e->family &&
			    !memcmp(ns->dests[j].src, e->addr, 16) && ns->dests[j].in_use > most)
				most = ns->dests[j].in_use;
		if (e->n <= most)
			continue;
		bound = bound_evidence(ns, e);
		sock_addr_str(e->family, e->addr, a, sizeof(a));
		struct td_finding *x =
			rules_add(out, "ephemeral-range", bound ? sev : TD_F_INFO, ns->name, NULL);
		rules_subject(x, "%s", a);
		range_text(x, e, a, bound);
		rules_ev(x, "ports_in_use", e->n, "ports");
		rules_ev(x, "capacity", e->capacity, "ports");
		rules_ev(x, "usage", pct, "%");
		rules_ev(x, "bind_parity", e->bind_parity, "ports");
		rules_ev(x, "bound_before_connect", bound, "sockets");
		rules_remedy(x,
			     "Set IP_BIND_ADDRESS_NO_PORT before bind(): the port is then chosen "
			     "at connect() time, per destination (Linux 4.2+)");
		rules_remedy(x, "Do not bind() before connect() unless a source address must be "
				"chosen; reuse connections so fewer ports are held in TIME_WAIT");
		range_remedy(x, ns);
	}
}

void rules_ports(const struct td_model *m, const struct td_ns_model *ns,
		 const struct td_limits *lim, struct td_findings *out)
{
	(void)m;
	for (size_t i = 0; i < ns->ndests; i++)
		rule_dest(ns, &ns->dests[i], lim, out);
	rule_src_range(ns, lim, out);
}
