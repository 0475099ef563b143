// SPDX-License-Identifier: MIT
/*
 * The conntrack-full scenario, step by step: make the client namespace track connections,
 * probe every kind of flow, flush, open the connection that must survive, fill the table to
 * the limit with ASSURED flows (so early_drop() has nothing to evict and every new flow is
 * dropped, the seed's state), probe again with the statistics read around the probes, add a
 * notrack rule and probe again, then flush and count the TIME_WAIT entries of short
 * connections made under the default and a shortened conntrack TIME_WAIT timeout. Each probe
 * that fails sends exactly one packet, so the `drop` statistic must rise by exactly the
 * number of failed probes: the scenario reports both and the test compares them.
 */
#include "lab/ct_full.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "core/source/netns.h"
#include "core/util.h"
#include "lab/nft.h"

#define TW_KEY "net/netfilter/nf_conntrack_tcp_timeout_time_wait"

/* The ct expression is what registers conntrack's IPv4 hooks in the namespace (IPv4 only:
 * the veth's IPv6 router solicitations stay untracked and cannot move the statistics). */
static const char rules_track[] =
	"table ip tdlab {\n"
	"chain out { type filter hook output priority 0;\n"
	"ct state new counter\n}\n"
	"chain in { type filter hook input priority 0;\n" LAB_CTFILL_NFT_DROP "}\n}\n";

static bool stopped(const struct lab_ct_config *cfg)
{
	return cfg->stop && *cfg->stop;
}

/* Runs op(arg) with the calling thread in the client namespace. */
static int in_client(const struct lab_env *env, int (*op)(void *), void *arg)
{
	int saved = netns_save(), r, rr;

	if (saved < 0)
		return saved;
	r = lab_env_enter(env, LAB_CLIENT);
	if (!r)
		r = op(arg);
	rr = netns_restore(saved);
	return rr ? rr : r;
}

static int op_table(void *arg)
{
	return conntrack_table_read(arg);
}

static int op_stats(void *arg)
{
	memset(arg, 0, sizeof(struct td_ct_stats));
	return conntrack_stats_read(arg);
}

static int op_flush(void *arg)
{
	(void)arg;
	return lab_ct_flush();
}

#define TOUCH_MAX 65536 /* non-assured entries remembered per dump */

struct census {
	uint64_t n, assured, tw[2];
	struct lab_ctfill_flow *touch; /* when set: non-assured IPv4 UDP entries, TOUCH_MAX */
	size_t ntouch;
};

static void remember(struct census *c, const struct td_ct *ct)
{
	if (!c->touch || c->ntouch == TOUCH_MAX || ct->assured || ct->family != AF_INET ||
	    ct->proto != IPPROTO_UDP)
		return;
	struct lab_ctfill_flow *f = &c->touch[c->ntouch++];
	memcpy(&f->src, ct->src, 4);
	memcpy(&f->dst, ct->dst, 4);
	f->sport = htons(ct->sport);
	f->dport = htons(ct->dport);
}

static int on_entry(const struct td_ct *ct, void *arg)
{
	struct census *c = arg;

	c->n++;
	c->assured += ct->assured;
	remember(c, ct);
	if (ct->proto == IPPROTO_TCP && ct->tcp_state == TD_CT_TCP_TIME_WAIT) {
		c->tw[0] += ct->dport == LAB_CT_PORT_TW_DEF;
		c->tw[1] += ct->dport == LAB_CT_PORT_TW_FAST;
	}
	return 0;
}

static int op_dump(void *arg)
{
	struct td_ct_dump_stats st = { 0 };
	struct census *c = arg;

	*c = (struct census){ .touch = c->touch };
	return conntrack_dump(on_entry, arg, &st);
}

static int fail(int r, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, strerror(-r));
	return r;
}

static uint64_t count_now(const struct lab_env *env)
{
	struct td_ct_table t = { 0 };

	return in_client(env, op_table, &t) ? 0 : t.count;
}

static void probe_all(struct lab_ct_result *res, enum lab_ct_phase ph, struct lab_ct_socks *s,
		      const struct lab_env *env)
{
	for (int p = 0; p < LAB_CT_PROBES; p++)
		res->probe[ph][p] = (int8_t)(p == LAB_CT_TCP_OLD && s->old_c < 0
						     ? -1
						     : lab_ct_probe(s, env, (enum lab_ct_probe)p));
}

/* Tracking on, every flow probed, then an empty table holding only the established
 * connection (the probes' own entries are not ASSURED: early_drop() could evict them later
 * and let a probe through). */
static int prepare(const struct lab_env *env, struct lab_ct_socks *s, struct lab_ct_result *res,
		   char *err, size_t errlen)
{
	struct td_ct_table t = { 0 };
	int r = lab_nft_apply(env->fd[LAB_CLIENT], rules_track, err, errlen);

	if (r)
		return r;
	if ((r = lab_ct_socks_open(s, env)))
		return fail(r, err, errlen, "lab sockets");
	if ((r = in_client(env, op_table, &t)) || !t.has_max)
		return fail(r ? r : -ENOENT, err, errlen, "nf_conntrack_max in the lab namespace");
	res->max = t.max;
	res->buckets = t.buckets;
	if (res->max < 16 || res->max > LAB_CT_MAX_LIMIT) {
		snprintf(err, errlen, "nf_conntrack_max %llu: the lab fills 16 to %d entries",
			 (unsigned long long)res->max, LAB_CT_MAX_LIMIT);
		return -ERANGE;
	}
	probe_all(res, LAB_CT_BEFORE, s, env);
	usleep(200000); /* the probes' last ACKs, before the flush */
	if ((r = in_client(env, op_flush, NULL)))
		return fail(r, err, errlen, "conntrack flush in the lab namespace");
	if ((r = lab_ct_old_open(s, env)))
		return fail(r, err, errlen, "the established connection");
	res->probe[LAB_CT_BEFORE][LAB_CT_TCP_OLD] = 1;
	res->count_before = count_now(env);
	return 0;
}

/* Fills to max. An entry can miss ASSURED: its third packet came within UDP's 2 s by jiffies,
 * or it was evicted by early_drop() for a packet that found the table full (an entry that
 * came and went in the namespace meanwhile) and made again by a later packet of its flow.
 * Those get packets both ways until they are ASSURED, for up to 4 s. */
static int fill(const struct lab_ct_config *cfg, const struct lab_env *env,
		struct lab_ct_result *res, char *err, size_t errlen)
{
	struct census c = { .touch = xcalloc(TOUCH_MAX, sizeof(*c.touch)) };
	unsigned n = (unsigned)(res->max - res->count_before);
	int saved = netns_save(), r;

	if (saved < 0) {
		free(c.touch);
		return fail(saved, err, errlen, "netns");
	}
	r = lab_env_enter(env, LAB_CLIENT);
	if (!r)
		r = lab_ctfill_run(n, true, cfg->stop, &res->fill);
	for (int i = 0; !r && !stopped(cfg); i++) {
		r = op_dump(&c);
		if (r || c.assured >= c.n || i == 8)
			break;
		r = lab_ctfill_touch(c.touch, c.ntouch, &res->fill);
		usleep(500000);
		res->touched += c.ntouch;
	}
	free(c.touch);
	int rr = netns_restore(saved);
	r = rr ? rr : r;
	if (stopped(cfg))
		return -EINTR;
	if (r)
		return r == -EINTR ? r : fail(r, err, errlen, "filling the conntrack table");
	res->dumped = c.n;
	res->assured = c.assured;
	res->count_full = count_now(env);
	return 0;
}

static int read_stats(const struct lab_env *env, struct td_ct_stats *st, char *err, size_t errlen)
{
	int r = in_client(env, op_stats, st);

	return r ? fail(r, err, errlen, "conntrack statistics in the lab namespace") : 0;
}

static int remedy_notrack(const struct lab_env *env, struct lab_ct_socks *s,
			  struct lab_ct_result *res, char *err, size_t errlen)
{
	char rules[320];
	int r;

	snprintf(rules, sizeof(rules),
		 "table ip tdraw {\n"
		 "chain out { type filter hook output priority raw; tcp dport %d notrack\n}\n"
		 "chain pre { type filter hook prerouting priority raw; tcp sport %d notrack\n}\n"
		 "}\n",
		 LAB_CT_PORT_NEW, LAB_CT_PORT_NEW);
	if ((r = lab_nft_apply(env->fd[LAB_CLIENT], rules, err, errlen)))
		return r;
	probe_all(res, LAB_CT_NOTRACK, s, env);
	res->nt_conns = LAB_CT_NOTRACK_CONNS;
	res->nt_ok = lab_ct_short(s, env, LAB_CT_PORT_NEW, res->nt_conns);
	res->count_notrack = count_now(env);
	return read_stats(env, &res->st[LAB_CT_NOTRACK], err, errlen);
}

/* Short connections under the default timeout, then under LAB_CT_TW_SHORT_S, in an empty
 * table; their TIME_WAIT entries counted at once and after the short timeout passed. */
static int remedy_tw(const struct lab_ct_config *cfg, const struct lab_env *env,
		     struct lab_ct_socks *s, struct lab_ct_result *res, char *err, size_t errlen)
{
	char v[32];
	struct census c = { 0 };
	uint64_t v0, t_end;
	int r;

	lab_ct_old_close(s);
	usleep(200000);
	if ((r = in_client(env, op_flush, NULL)))
		return fail(r, err, errlen, "conntrack flush in the lab namespace");
	if ((r = lab_env_sysctl_read(env, LAB_CLIENT, TW_KEY, v, sizeof(v))) ||
	    util_parse_u64(v, 0, UINT32_MAX, &v0))
		return fail(r ? r : -EINVAL, err, errlen, TW_KEY);
	res->tw_timeout_s[0] = (unsigned)v0;
	res->tw_timeout_s[1] = LAB_CT_TW_SHORT_S;
	res->tw_conns = LAB_CT_TW_CONNS;
	res->tw_ok[0] = lab_ct_short(s, env, LAB_CT_PORT_TW_DEF, res->tw_conns);
	snprintf(v, sizeof(v), "%d", LAB_CT_TW_SHORT_S);
	if ((r = lab_env_sysctl_write(env, LAB_CLIENT, TW_KEY, v)))
		return fail(r, err, errlen, TW_KEY);
	res->tw_ok[1] = lab_ct_short(s, env, LAB_CT_PORT_TW_FAST, res->tw_conns);
	t_end = util_now_ns();
	usleep(200000); /* the last ACKs */
	if ((r = in_client(env, op_dump, &c)))
		return fail(r, err, errlen, "conntrack dump in the lab namespace");
	memcpy(res->tw_now, c.tw, sizeof(c.tw));
	res->tw_wait_s = LAB_CT_TW_SHORT_S + 1.5;
	util_sleep_until(t_end + (uint64_t)(res->tw_wait_s * 1e9));
	if (stopped(cfg))
		return -EINTR;
	if ((r = in_client(env, op_dump, &c)))
		return fail(r, err, errlen, "conntrack dump in the lab namespace");
	memcpy(res->tw_later, c.tw, sizeof(c.tw));
	return 0;
}

static unsigned failed(const struct lab_ct_result *res, enum lab_ct_phase ph)
{
	unsigned n = 0;

	for (int p = 0; p < LAB_CT_PROBES; p++)
		n += res->probe[ph][p] == 0;
	return n;
}

static void verdict(struct lab_ct_result *res)
{
	const int8_t *f = res->probe[LAB_CT_FULL];
	bool seed = res->count_full >= res->max && !f[LAB_CT_TCP_OUT] && !f[LAB_CT_TCP_IN] &&
		    !f[LAB_CT_ICMP] && !f[LAB_CT_UDP_DNS] && f[LAB_CT_TCP_OLD] == 1;
	uint64_t drop = res->st[LAB_CT_FULL].drop - res->st[LAB_CT_BEFORE].drop;
	size_t n;

	n = (size_t)snprintf(res->verdict, sizeof(res->verdict),
			     "%s: %llu/%llu entries; %u of %d flows failed, drop +%llu, early_drop "
			     "+%llu (ASSURED entries are not evicted). ",
			     seed ? "the seed incident reproduced" : "not the seed's symptoms",
			     (unsigned long long)res->count_full, (unsigned long long)res->max,
			     failed(res, LAB_CT_FULL), LAB_CT_PROBES, (unsigned long long)drop,
			     (unsigned long long)(res->st[LAB_CT_FULL].early_drop -
						  res->st[LAB_CT_BEFORE].early_drop));
	if (n < sizeof(res->verdict))
		snprintf(res->verdict + n, sizeof(res->verdict) - n,
			 "notrack: %u/%u new connects in the full table. TIME_WAIT entries %.1f s "
			 "after: %llu/%u under %u s, %llu/%u under %u s.",
			 res->nt_ok, res->nt_conns, res->tw_wait_s,
			 (unsigned long long)res->tw_later[0], res->tw_ok[0], res->tw_timeout_s[0],
			 (unsigned long long)res->tw_later[1], res->tw_ok[1], res->tw_timeout_s[1]);
}

static int run_steps(const struct lab_ct_config *cfg, const struct lab_env *env,
		     struct lab_ct_socks *s, struct lab_ct_result *res, char *err, size_t errlen)
{
	int r = prepare(env, s, res, err, errlen);

	if (!r && !stopped(cfg))
		r = fill(cfg, env, res, err, errlen);
	if (!r && !stopped(cfg) && cfg->full_hook && cfg->full_hook(env, cfg->hook_arg) < 0)
		r = fail(-ECANCELED, err, errlen, "the full-table hook");
	if (!r && !stopped(cfg))
		r = read_stats(env, &res->st[LAB_CT_BEFORE], err, errlen);
	if (!r && !stopped(cfg)) {
		probe_all(res, LAB_CT_FULL, s, env);
		r = read_stats(env, &res->st[LAB_CT_FULL], err, errlen);
	}
	if (!r && !stopped(cfg))
		r = remedy_notrack(env, s, res, err, errlen);
	if (!r && !stopped(cfg))
		r = remedy_tw(cfg, env, s, res, err, errlen);
	return r;
}

int lab_ct_full_run(const struct lab_ct_config *cfg, const struct lab_env *env,
		    struct lab_ct_result *res, char *err, size_t errlen)
{
	struct lab_ct_socks s = { -1, -1, { -1, -1 }, -1, -1, -1, -1, -1, 0 };
	uint64_t t0 = util_now_ns();
	int r;

	memset(res, 0, sizeof(*res));
	memset(res->probe, -1, sizeof(res->probe));
	r = run_steps(cfg, env, &s, res, err, errlen);
	lab_ct_socks_close(&s);
	res->elapsed_s = (double)(util_now_ns() - t0) / 1e9;
	if (r == -EINTR || stopped(cfg)) {
		res->interrupted = true;
		return 0;
	}
	if (!r)
		verdict(res);
	return r;
}
