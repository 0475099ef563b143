// SPDX-License-Identifier: MIT
/*
 * The scenarios table and the driver of one scenario: set the scenario's sysctls inside the lab
 * namespaces (never the caller's), snapshot the kernel counters of both namespaces, run server,
 * client and sampler threads, call the worst-moment hook while the sockets still exist, then
 * turn it all into a struct lab_result with a verdict (verdict.c).
 */
#include "lab/scenario.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/model/counters.h"
#include "core/source/netns.h"
#include "core/model/ports.h"
#include "core/util.h"
#include "lab/client.h"
#include "lab/sampler.h"
#include "lab/server.h"
#include "lab/verdict.h"

/* Every scenario runs at the same rate and duration so their rows compare side by side. */
const struct lab_scenario lab_scenarios[] = {
	{ "baseline", "client closes first: TIME_WAIT on the client", LAB_CLOSE_CLIENT,
	  LAB_BIND_NONE, 1, false, -1, -1, -1 },
	{ "server-close", "server closes first (HTTP/1.0 style)", LAB_CLOSE_SERVER, LAB_BIND_NONE,
	  1, false, -1, -1, -1 },
	{ "keepalive", "a few long connections carry every request", LAB_CLOSE_KEEPALIVE,
	  LAB_BIND_NONE, 1, false, -1, -1, -1 },
	{ "linger0", "client closes with SO_LINGER {1,0}: RST, no TIME_WAIT", LAB_CLOSE_LINGER0,
	  LAB_BIND_NONE, 1, false, -1, -1, -1 },
	{ "tw-reuse", "tcp_tw_reuse=1 with timestamps", LAB_CLOSE_CLIENT, LAB_BIND_NONE, 1, false,
	  1, 1, -1 },
	{ "tw-reuse-no-ts", "tcp_tw_reuse=1 but tcp_timestamps=0", LAB_CLOSE_CLIENT, LAB_BIND_NONE,
	  1, false, 1, 0, -1 },
	{ "wide-range", "the kernel's default ip_local_port_range", LAB_CLOSE_CLIENT, LAB_BIND_NONE,
	  1, true, -1, -1, -1 },
	{ "two-ports", "the same load spread over two server ports", LAB_CLOSE_CLIENT,
	  LAB_BIND_NONE, 2, false, -1, -1, -1 },
	{ "bind-before-connect", "bind(addr, 0) then connect(), four server ports",
	  LAB_CLOSE_CLIENT, LAB_BIND_PORT, 4, false, -1, -1, -1 },
	{ "bind-no-port", "the same with IP_BIND_ADDRESS_NO_PORT", LAB_CLOSE_CLIENT,
	  LAB_BIND_NO_PORT, 4, false, -1, -1, -1 },
	{ "tw-buckets-low", "tcp_max_tw_buckets=100 on the client", LAB_CLOSE_CLIENT, LAB_BIND_NONE,
	  1, false, -1, -1, LAB_TW_BUCKETS_LOW },
	{ "close-wait-leak", "the server never closes its sockets", LAB_CLOSE_LEAK, LAB_BIND_NONE,
	  1, false, -1, -1, -1 },
};
const size_t lab_scenarios_count = TD_ARRAY_SIZE(lab_scenarios);

static const enum counters_id ctr_ids[LAB_CTR_COUNT] = {
	[LAB_CTR_TW_RECYCLED] = COUNTERS_TW_RECYCLED,
	[LAB_CTR_TW_OVERFLOW] = COUNTERS_TIME_WAIT_OVERFLOW,
	[LAB_CTR_ACTIVE_OPENS] = COUNTERS_ACTIVE_OPENS,
	[LAB_CTR_PASSIVE_OPENS] = COUNTERS_PASSIVE_OPENS,
	[LAB_CTR_ESTAB_RESETS] = COUNTERS_ESTAB_RESETS,
	[LAB_CTR_ABORT_ON_DATA] = COUNTERS_ABORT_ON_DATA,
	[LAB_CTR_LISTEN_OVERFLOWS] = COUNTERS_LISTEN_OVERFLOWS,
};

const char *lab_ctr_name(enum lab_ctr c)
{
	return counters_known[ctr_ids[c]].name;
}

const struct lab_scenario *lab_scenario_find(const char *name)
{
	for (size_t i = 0; i < lab_scenarios_count; i++)
		if (!strcmp(lab_scenarios[i].name, name))
			return &lab_scenarios[i];
	return NULL;
}

static int set_int(const struct lab_env *env, const char *key, int v, char *err, size_t errlen)
{
	char val[16];

	snprintf(val, sizeof(val), "%d", v);
	int r = lab_env_sysctl_write(env, LAB_CLIENT, key, val);
	if (r)
		snprintf(err, errlen, "cannot set %s=%s in %s: %s", key, val, env->name[LAB_CLIENT],
			 strerror(-r));
	return r;
}

/* The scenario's sysctls, client namespace only: the server keeps a fresh namespace's
 * defaults, which are the kernel's compiled-in ones (kernel-facts §12). */
static int apply_sysctls(const struct lab_config *cfg, const struct lab_scenario *sc,
			 const struct lab_env *env, struct lab_result *res, char *err,
			 size_t errlen)
{
	char buf[64];
	uint16_t lo, hi;
	int r = 0;

	if (!sc->wide_range) {
		snprintf(buf, sizeof(buf), "%u %u", 32768u, 32768u + cfg->ports - 1);
		r = lab_env_sysctl_write(env, LAB_CLIENT, "net/ipv4/ip_local_port_range", buf);
		if (r) {
			snprintf(err, errlen, "cannot set ip_local_port_range=%s in %s: %s", buf,
				 env->name[LAB_CLIENT], strerror(-r));
			return r;
		}
	}
	if (!r && sc->tw_reuse >= 0)
		r = set_int(env, "net/ipv4/tcp_tw_reuse", sc->tw_reuse, err, errlen);
	if (!r && sc->timestamps >= 0)
		r = set_int(env, "net/ipv4/tcp_timestamps", sc->timestamps, err, errlen);
	if (!r && sc->max_tw_buckets >= 0)
		r = set_int(env, "net/ipv4/tcp_max_tw_buckets", sc->max_tw_buckets, err, errlen);
	if (r)
		return r;
	/* report what the kernel took, not what was asked */
	if (!lab_env_sysctl_read(env, LAB_CLIENT, "net/ipv4/ip_local_port_range", buf,
				 sizeof(buf)) &&
	    !ports_parse_range(buf, &lo, &hi))
		res->ports = hi - lo + 1;
	uint64_t d;
	if (!lab_env_sysctl_read(env, LAB_CLIENT, "net/ipv4/tcp_tw_reuse_delay", buf,
				 sizeof(buf)) &&
	    !util_parse_u64(buf, 0, UINT32_MAX, &d))
		res->reuse_delay_ms = (unsigned)d;
	return 0;
}

/* Counters of one namespace, read from this thread while it is briefly inside it. */
static struct td_counters *ns_counters(const struct lab_env *env, enum lab_side side)
{
	struct td_counters *c = NULL;
	int saved = netns_save();

	if (saved < 0)
		return NULL;
	if (!lab_env_enter(env, side) && counters_read(&c, NULL))
		c = NULL;
	if (netns_restore(saved)) {
		counters_free(c);
		return NULL;
	}
	return c;
}

static void ctr_deltas(struct lab_result *res, struct td_counters *before[LAB_SIDES],
		       struct td_counters *after[LAB_SIDES])
{
	for (int s = 0; s < LAB_SIDES; s++) {
		res->have_ctr[s] = before[s] && after[s];
		for (int i = 0; res->have_ctr[s] && i < LAB_CTR_COUNT; i++) {
			struct td_counters_delta d;
			counters_delta_known(before[s], after[s], ctr_ids[i], &d);
			res->ctr[s][i] = d.missing ? 0 : d.delta;
		}
	}
}

static void summarize(struct lab_result *res, const struct lab_client_stats *st, uint64_t load_ns)
{
	res->attempted = st->attempted;
	res->succeeded = st->succeeded;
	res->eaddrnotavail = st->eaddrnotavail;
	res->eaddrinuse = st->eaddrinuse;
	res->other_errors = st->other;
	res->first_other_errno = st->first_errno;
	res->elapsed_s = (double)load_ns / 1e9;
	res->rate = res->elapsed_s > 0 ? (double)res->succeeded / res->elapsed_s : 0;
	res->first_failure_s = st->first_fail_ns ? (double)st->first_fail_ns / 1e9 : -1;
	for (size_t i = 0; i < res->nsamples; i++) {
		const struct lab_sample *x = &res->samples[i];
		for (int s = 0; s < LAB_SIDES; s++) {
			if (x->tw[s] > res->peak_tw[s])
				res->peak_tw[s] = x->tw[s];
			if (x->cw[s] > res->peak_cw[s])
				res->peak_cw[s] = x->cw[s];
			if (x->fw2[s] > res->peak_fw2[s])
				res->peak_fw2[s] = x->fw2[s];
		}
	}
}

static void settle(void)
{
	/* lets the last FIN/ACK exchanges land so the final sample shows the end state */
	util_sleep_ms(200);
}

/* Runs the threads; fills res->samples and the client totals. */
static int drive(const struct lab_config *cfg, const struct lab_scenario *sc,
		 const struct lab_env *env, struct lab_result *res,
		 struct td_counters *after[LAB_SIDES], char *err, size_t errlen)
{
	struct lab_server srv;
	struct lab_client cli;
	struct lab_sampler smp;
	uint64_t load_ns;
	int r = lab_server_start(&srv, env, sc->close, sc->dports);

	if (r) {
		snprintf(err, errlen, "cannot start the lab server: %s", strerror(-r));
		return r;
	}
	r = lab_client_start(&cli, env, sc, cfg);
	if (r) {
		snprintf(err, errlen, "cannot start the lab client: %s", strerror(-r));
		lab_server_stop(&srv);
		return r;
	}
	int rs = lab_sampler_start(&smp, env, &cli.st);
	r = lab_client_join(&cli);
	load_ns = util_now_ns() - cli.st.start_ns;
	if (r)
		snprintf(err, errlen, "cannot enter %s: %s", env->name[LAB_CLIENT], strerror(-r));
	if (!rs) {
		if (!*cfg->stop)
			settle();
		int re = lab_sampler_stop(&smp, &res->samples, &res->nsamples);
		if (re && !r) {
			r = re;
			snprintf(err, errlen, "%s", smp.errmsg);
		}
	} else if (!r) {
		r = rs;
		snprintf(err, errlen, "cannot start the sampler: %s", strerror(-rs));
	}
	summarize(res, &cli.st, load_ns);
	if (!r && cfg->worst_hook && !*cfg->stop) {
		r = cfg->worst_hook(env, sc, cfg->hook_arg);
		if (r)
			snprintf(err, errlen, "worst-moment hook failed: %s", strerror(-r));
	}
	/* before the server closes what it holds (close-wait-leak) */
	for (int s = 0; s < LAB_SIDES; s++)
		after[s] = ns_counters(env, (enum lab_side)s);
	lab_server_stop(&srv);
	return r;
}

int lab_scenario_run(const struct lab_config *cfg, const struct lab_scenario *sc,
		     const struct lab_env *env, struct lab_result *res, char *err, size_t errlen)
{
	struct td_counters *before[LAB_SIDES] = { NULL, NULL }, *after[LAB_SIDES] = { NULL, NULL };
	int r;

	memset(res, 0, sizeof(*res));
	res->sc = sc;
	res->first_failure_s = -1;
	r = apply_sysctls(cfg, sc, env, res, err, errlen);
	if (r)
		return r;
	for (int s = 0; s < LAB_SIDES; s++)
		before[s] = ns_counters(env, (enum lab_side)s);
	r = drive(cfg, sc, env, res, after, err, errlen);
	ctr_deltas(res, before, after);
	for (int s = 0; s < LAB_SIDES; s++) {
		counters_free(before[s]);
		counters_free(after[s]);
	}
	if (r) {
		lab_result_clear(res);
		return r;
	}
	lab_verdict(res, res->verdict, sizeof(res->verdict));
	return 0;
}

void lab_result_clear(struct lab_result *res)
{
	free(res->samples);
	res->samples = NULL;
	res->nsamples = 0;
}
