// SPDX-License-Identifier: MIT
/*
 * The ephemeral-port model of ports.h: strict parsers for the two sysctls that bound the port
 * space, the capacity/parity/loopback rules as the 6.x kernel applies them, a per-destination
 * table fed one socket at a time, and the exhaustion arithmetic. Per namespace it keeps the
 * settings and a bitmap of listening ports, so that server-side sockets can be told apart even
 * when the dump delivers a listener after its connections.
 */
#include "core/model/ports.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/hashmap.h"
#include "core/source/source.h"
#include "core/util.h"

#define PORTS_MAX_NETNS 65536u

struct dest_key {
	uint32_t netns;
	uint16_t dport;
	uint8_t family;
	uint8_t pad;
	uint8_t src[16];
	uint8_t dst[16];
};

struct dest_val {
	uint32_t n[TD_SS_COUNT];
	uint32_t in_use;
	uint32_t tw_expired; /* TIME_WAIT with expires 0: older than 60 s, about to go */
	uint16_t tw_by_exp[TD_TIMEWAIT_LEN_S];
	uint16_t lport;	  /* local port of the first socket */
	bool lport_multi; /* sockets with different local ports: a client destination */
	bool bound_lo;	  /* some socket bound to the loopback device */
};

struct ns_state {
	struct td_port_cfg cfg;
	uint8_t listen[65536 / 8];
};

struct td_ports {
	struct td_hashmap *dests; /* struct dest_key -> struct dest_val */
	struct ns_state **ns;	  /* by netns index; NULL = defaults, no listener seen */
	size_t nns;
};

static bool bit_get(const uint8_t *b, unsigned i)
{
	return b[i >> 3] & (1u << (i & 7));
}

static void bit_set(uint8_t *b, unsigned i)
{
	b[i >> 3] |= (uint8_t)(1u << (i & 7));
}

void ports_cfg_default(struct td_port_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->low = 32768;
	c->high = 60999;
	c->tw_reuse = 2;
	c->timestamps = 1;
	c->tw_reuse_delay_ms = 1000;
}

/* Copies the next token of s (up to a char in stop, or the end) into tok; returns its end. */
static const char *token(const char *s, const char *stop, char *tok, size_t len, int *err)
{
	size_t n = strcspn(s, stop);

	if (n == 0 || n >= len) {
		/* empty, or longer than any port: too many digits is a range error */
		*err = n && strspn(s, "0123456789") >= n ? -ERANGE : -EINVAL;
		return s;
	}
	memcpy(tok, s, n);
	tok[n] = '\0';
	return s + n;
}

static int parse_port(const char *tok, uint64_t min, uint64_t *v)
{
	return util_parse_u64(tok, min, 65535, v);
}

/* Accepts the end of the text: nothing, or a single trailing newline. */
static bool at_end(const char *p)
{
	return !*p || (p[0] == '\n' && !p[1]);
}

int ports_parse_range(const char *s, uint16_t *low, uint16_t *high)
{
	char a[16], b[16];
	uint64_t lo, hi;
	int err = 0;
	const char *p;

	if (!s)
		return -EINVAL;
	p = token(s, " \t\n", a, sizeof(a), &err);
	if (err)
		return err;
	if (*p != ' ' && *p != '\t')
		return -EINVAL;
	p += strspn(p, " \t");
	p = token(p, " \t\n", b, sizeof(b), &err);
	if (err)
		return err;
	if (!at_end(p))
		return -EINVAL;
	if ((err = parse_port(a, 1, &lo)) || (err = parse_port(b, 1, &hi)))
		return err;
	if (hi < lo)
		return -ERANGE;
	*low = (uint16_t)lo;
	*high = (uint16_t)hi;
	return 0;
}

int ports_parse_reserved(const char *s, uint8_t bitmap[65536 / 8])
{
	uint8_t tmp[65536 / 8] = { 0 };
	const char *p = s;
	int err = 0;

	if (!s)
		return -EINVAL;
	while (!at_end(p)) {
		char a[16], b[16];
		uint64_t lo, hi;
		p = token(p, "-,\n", a, sizeof(a), &err);
		if (err || (err = parse_port(a, 0, &lo)))
			return err;
		hi = lo;
		if (*p == '-') {
			p = token(p + 1, ",\n-", b, sizeof(b), &err);
			if (err || (err = parse_port(b, 0, &hi)))
				return err;
			if (hi < lo)
				return -ERANGE;
		}
		for (uint64_t i = lo; i <= hi; i++)
			bit_set(tmp, (unsigned)i);
		if (*p == ',') {
			p++;
			if (at_end(p)) /* trailing comma */
				return -EINVAL;
		} else if (!at_end(p)) {
			return -EINVAL;
		}
	}
	memcpy(bitmap, tmp, sizeof(tmp));
	return 0;
}

static int meta_int(const char *meta, const char *key, int max, int *out)
{
	char buf[32];
	uint64_t v;

	if (source_meta_get(meta, key, buf, sizeof(buf)))
		return 0; /* absent: keep the default */
	if (util_parse_u64(buf, 0, (uint64_t)max, &v))
		return -EINVAL;
	*out = (int)v;
	return 0;
}

int ports_cfg_from_meta(struct td_port_cfg *c, const char *meta, const char **bad_key)
{
	static const char k_range[] = "net.ipv4.ip_local_port_range";
	static const char k_resv[] = "net.ipv4.ip_local_reserved_ports";
	const size_t buflen = 16384; /* the kernel prints at most a page of reserved ports */
	char *buf = xmalloc(buflen);
	const char *bad = NULL;
	int delay = 1000;

	ports_cfg_default(c);
	if (!source_meta_get(meta, k_range, buf, 64) && ports_parse_range(buf, &c->low, &c->high))
		bad = k_range;
	else if (!source_meta_get(meta, k_resv, buf, buflen) &&
		 ports_parse_reserved(buf, c->reserved))
		bad = k_resv;
	else if (meta_int(meta, "net.ipv4.tcp_tw_reuse", 2, &c->tw_reuse))
		bad = "net.ipv4.tcp_tw_reuse";
	else if (meta_int(meta, "net.ipv4.tcp_timestamps", 2, &c->timestamps))
		bad = "net.ipv4.tcp_timestamps";
	else if (meta_int(meta, "net.ipv4.tcp_tw_reuse_delay", 60000, &delay) || delay < 1)
		bad = "net.ipv4.tcp_tw_reuse_delay";
	c->tw_reuse_delay_ms = (uint32_t)delay;
	free(buf);
	if (bad_key)
		*bad_key = bad;
	return bad ? -EINVAL : 0;
}

/* connect() scans [low, low + span): the size rounded down to even (see ports.h). */
static unsigned span(const struct td_port_cfg *c)
{
	unsigned n = c->high >= c->low ? (unsigned)c->high - c->low + 1 : 0;

	return n > 1 ? n & ~1u : n;
}

bool ports_is_ephemeral(const struct td_port_cfg *c, uint16_t port)
{
	return port >= c->low && (unsigned)(port - c->low) < span(c) && !bit_get(c->reserved, port);
}

static unsigned count_free(const struct td_port_cfg *c, unsigned step)
{
	unsigned n = 0, end = c->low + span(c);

	for (unsigned p = c->low; p < end; p += step)
		n += !bit_get(c->reserved, p);
	return n;
}

unsigned ports_capacity(const struct td_port_cfg *c)
{
	return count_free(c, 1);
}

unsigned ports_preferred(const struct td_port_cfg *c)
{
	return count_free(c, 2);
}

bool ports_is_loopback(unsigned family, const uint8_t src[16], const uint8_t dst[16],
		       uint32_t ifindex)
{
	static const uint8_t v6lo[16] = { [15] = 1 };
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (ifindex == 1) /* LOOPBACK_IFINDEX */
		return true;
	if (family == AF_INET)
		return src[0] == 127 || dst[0] == 127;
	for (int i = 0; i < 2; i++) {
		const uint8_t *a = i ? dst : src;
		if (!memcmp(a, v6lo, 16) || (!memcmp(a, mapped, 12) && a[12] == 127))
			return true;
	}
	return false;
}

enum td_reuse ports_reuse(const struct td_port_cfg *c, bool loopback)
{
	if (c->timestamps == 0)
		return TD_REUSE_NO_TIMESTAMPS;
	if (c->tw_reuse < 0 || c->timestamps < 0)
		return TD_REUSE_UNKNOWN;
	if (c->tw_reuse == 0)
		return TD_REUSE_OFF;
	if (c->tw_reuse == 2 && !loopback)
		return TD_REUSE_LOOPBACK_ONLY;
	return TD_REUSE_ACTIVE;
}

const char *ports_reuse_name(enum td_reuse r)
{
	switch (r) {
	case TD_REUSE_ACTIVE:
		return "active";
	case TD_REUSE_OFF:
		return "off";
	case TD_REUSE_LOOPBACK_ONLY:
		return "loopback-only";
	case TD_REUSE_NO_TIMESTAMPS:
		return "no-timestamps";
	case TD_REUSE_UNKNOWN:
		break;
	}
	return "unknown";
}

/* ---- the per-destination table ---- */

struct td_ports *ports_new(void)
{
	struct td_ports *t = xcalloc(1, sizeof(*t));

	t->dests = hashmap_new(sizeof(struct dest_key), sizeof(struct dest_val));
	return t;
}

void ports_free(struct td_ports *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nns; i++)
		free(t->ns[i]);
	free(t->ns);
	hashmap_free(t->dests);
	free(t);
}

static struct ns_state *ns_get(struct td_ports *t, unsigned netns)
{
	if (netns >= t->nns) {
		size_t n = (size_t)netns + 1;
		t->ns = xrealloc(t->ns, n * sizeof(*t->ns));
		memset(t->ns + t->nns, 0, (n - t->nns) * sizeof(*t->ns));
		t->nns = n;
	}
	if (!t->ns[netns]) {
		t->ns[netns] = xcalloc(1, sizeof(**t->ns));
		ports_cfg_default(&t->ns[netns]->cfg);
	}
	return t->ns[netns];
}

int ports_set_cfg(struct td_ports *t, unsigned netns, const struct td_port_cfg *c)
{
	if (netns >= PORTS_MAX_NETNS)
		return -ERANGE;
	ns_get(t, netns)->cfg = *c;
	return 0;
}

static bool v4mapped(const uint8_t a[16])
{
	static const uint8_t prefix[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(a, prefix, 12);
}

/* A dual-stack socket talking to an IPv4 peer shares the IPv4 port space: key it as IPv4. */
static void dest_key_of(struct dest_key *k, const struct td_sock *sk)
{
	memset(k, 0, sizeof(*k));
	k->netns = sk->netns;
	k->dport = sk->dport;
	k->family = sk->family;
	if (sk->family == AF_INET6 && v4mapped(sk->src) && v4mapped(sk->dst)) {
		k->family = AF_INET;
		memcpy(k->src, sk->src + 12, 4);
		memcpy(k->dst, sk->dst + 12, 4);
	} else {
		memcpy(k->src, sk->src, 16);
		memcpy(k->dst, sk->dst, 16);
	}
}

void ports_add(struct td_ports *t, const struct td_sock *sk)
{
	struct dest_key k;
	bool added;

	if (sk->netns >= PORTS_MAX_NETNS)
		return;
	struct ns_state *ns = ns_get(t, sk->netns);
	if (sk->state == TD_SS_LISTEN) {
		bit_set(ns->listen, sk->sport);
		return;
	}
	/* Request sockets are the server's; a socket without a peer holds no 4-tuple. */
	if (sk->state == TD_SS_SYN_RECV || sk->state == TD_SS_UNKNOWN || sk->state >= TD_SS_COUNT ||
	    sk->dport == 0 || !ports_is_ephemeral(&ns->cfg, sk->sport) ||
	    bit_get(ns->listen, sk->sport))
		return;
	dest_key_of(&k, sk);
	struct dest_val *v = hashmap_put(t->dests, &k, &added);
	if (added)
		v->lport = sk->sport;
	else if (v->lport != sk->sport)
		v->lport_multi = true;
	v->bound_lo |= sk->ifindex == 1;
	v->n[sk->state]++;
	v->in_use++;
	if (sk->state == TD_SS_TIME_WAIT) {
		unsigned s = sk->expires_ms / 1000;
		if (s >= TD_TIMEWAIT_LEN_S) /* re-armed timers read 60000 at most; clamp anyway */
			s = TD_TIMEWAIT_LEN_S - 1;
		v->tw_expired += sk->expires_ms == 0;
		if (v->tw_by_exp[s] < UINT16_MAX)
			v->tw_by_exp[s]++;
	}
}

double ports_exhaustion_s(uint32_t capacity, uint32_t held, const uint16_t tw_by_exp[60],
			  double rate, unsigned hold_s)
{
	uint64_t rel[TD_TIMEWAIT_LEN_S + 1] = { 0 }, occ = held, released = 0;

	hold_s = hold_s < 1 ? 1 : hold_s > TD_TIMEWAIT_LEN_S ? TD_TIMEWAIT_LEN_S : hold_s;
	for (int k = 0; k < TD_TIMEWAIT_LEN_S; k++) {
		int j = k + 1 - (TD_TIMEWAIT_LEN_S - (int)hold_s);
		if (j <= 0)
			continue; /* older than hold_s: connect() may take it over now */
		rel[j] += tw_by_exp[k];
		occ += tw_by_exp[k];
	}
	if (occ >= capacity)
		return 0;
	if (!(rate > 0))
		return -1;
	/* In [j-1, j) the TIME_WAITs due by j-1 are gone and rate * t new ones hold ports. */
	for (unsigned j = 1; j <= hold_s; j++) {
		double t = ((double)capacity - (double)occ + (double)released) / rate;
		if (t < j)
			return t;
		released += rel[j];
	}
	/* From hold_s on, the steady state: held + rate * hold_s ports. */
	return (double)held + rate * hold_s >= capacity ? (double)hold_s : -1;
}

static unsigned hold_seconds(const struct td_port_cfg *c, enum td_reuse r)
{
	if (r != TD_REUSE_ACTIVE)
		return TD_TIMEWAIT_LEN_S;
	unsigned s = (c->tw_reuse_delay_ms + 999) / 1000;
	return s < 1 ? 1 : s > TD_TIMEWAIT_LEN_S ? TD_TIMEWAIT_LEN_S : s;
}

static void fill_dest(struct td_port_dest *d, const struct dest_key *k, const struct dest_val *v,
		      const struct td_port_cfg *c)
{
	*d = (struct td_port_dest){ .netns = k->netns, .family = k->family, .dport = k->dport };
	memcpy(d->src, k->src, 16);
	memcpy(d->dst, k->dst, 16);
	memcpy(d->n, v->n, sizeof(d->n));
	memcpy(d->tw_by_exp, v->tw_by_exp, sizeof(d->tw_by_exp));
	d->in_use = v->in_use;
	d->capacity = ports_capacity(c);
	d->preferred = ports_preferred(c);
	d->loopback = ports_is_loopback(k->family, k->src, k->dst, v->bound_lo ? 1 : 0);
	d->reuse = ports_reuse(c, d->loopback);
	d->closed_60s = v->n[TD_SS_TIME_WAIT] - v->tw_expired;
	for (int s = TD_TIMEWAIT_LEN_S - TD_RECENT_S; s < TD_TIMEWAIT_LEN_S; s++)
		d->closed_recent += v->tw_by_exp[s];
	d->rate_60s = d->closed_60s / (double)TD_TIMEWAIT_LEN_S;
	d->rate_recent = d->closed_recent / (double)TD_RECENT_S;
	d->rate = d->rate_60s > d->rate_recent ? d->rate_60s : d->rate_recent;
	unsigned hold = hold_seconds(c, d->reuse);
	for (int s = 0; s < TD_TIMEWAIT_LEN_S - (int)hold; s++)
		d->reusable += v->tw_by_exp[s];
	d->exhaust_s = ports_exhaustion_s(d->capacity, v->in_use - v->n[TD_SS_TIME_WAIT],
					  v->tw_by_exp, d->rate, hold);
}

void ports_result(const struct td_ports *t, struct td_port_dest **out, size_t *n)
{
	size_t total = hashmap_count(t->dests), m = 0;
	struct td_port_dest *v = xcalloc(total ? total : 1, sizeof(*v));

	for (size_t i = 0; i < total; i++) {
		const struct dest_key *k = hashmap_key_at(t->dests, i);
		const struct dest_val *dv = hashmap_val_at(t->dests, i);
		const struct ns_state *ns = t->ns[k->netns];
		/* One local port for every socket, and it listens: the server side of
		 * connections from a client's ephemeral port, not a destination of ours. */
		if (!dv->lport_multi && bit_get(ns->listen, dv->lport))
			continue;
		fill_dest(&v[m++], k, dv, &ns->cfg);
	}
	qsort(v, m, sizeof(*v), ports_cmp_risk);
	*out = v;
	*n = m;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

int ports_cmp_risk(const void *pa, const void *pb)
{
	const struct td_port_dest *a = pa, *b = pb;
	bool fa = a->exhaust_s >= 0, fb = b->exhaust_s >= 0;
	int r;

	if (fa != fb)
		return fa ? -1 : 1;
	if (fa && a->exhaust_s != b->exhaust_s)
		return a->exhaust_s < b->exhaust_s ? -1 : 1;
	/* in_use / capacity, compared without division (capacity may be 0: full) */
	uint64_t ua = (uint64_t)a->in_use * (b->capacity ? b->capacity : 1);
	uint64_t ub = (uint64_t)b->in_use * (a->capacity ? a->capacity : 1);
	if ((r = cmp_u64(ub, ua)))
		return r;
	if (a->rate != b->rate)
		return a->rate > b->rate ? -1 : 1;
	if ((r = cmp_u64(a->netns, b->netns)) || (r = cmp_u64(a->family, b->family)) ||
	    (r = memcmp(a->dst, b->dst, 16)) || (r = cmp_u64(a->dport, b->dport)))
		return r;
	return memcmp(a->src, b->src, 16);
}
