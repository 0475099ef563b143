// SPDX-License-Identifier: MIT
/*
 * Collects the diagnosis model: one pass over the sockets of every namespace asked for, feeding
 * O(1)-per-socket aggregators, then (live runs) a second look at each namespace's counters an
 * interval later. Process attribution comes from one /proc scan made before the dump.
 */
#include "core/model/model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "core/model/counters.h"
#include "core/model/ports.h"
#include "core/sysctl/sysctl.h"
#include "core/trace/trace.h"
#include "core/util.h"

struct collect {
	struct td_port_cfg cfg; /* of the namespace being dumped */
	struct td_model *m;
	struct td_owners *own;
	struct td_ns_model *cur;
	bool second_pass;
	uint64_t first_c0_ns;
};

static void judge_sysctls(struct td_model *m, struct td_ns_model *ns)
{
	char val[128];

	ns->sys = xcalloc(params_count, sizeof(*ns->sys));
	for (size_t i = 0; i < params_count; i++) {
		const struct td_param *p = &params_table[i];
		if (source_meta_get(ns->meta, p->key, val, sizeof(val)))
			continue;
		struct td_sysctl_val *sv = &ns->sys[ns->nsys++];
		sv->param = p;
		snprintf(sv->value, sizeof(sv->value), "%s", val);
		sv->sev = params_judge(p, &m->env, val, sv->v, &sv->nv);
	}
}

static int on_ns_begin(const struct td_ns_info *info, void *arg)
{
	struct collect *c = arg;
	struct td_model *m = c->m;
	struct td_port_cfg cfg;

	if (c->second_pass) {
		for (size_t i = 0; i < m->n; i++) {
			struct td_ns_model *x = &m->ns[i];
			if (strcmp(x->name, info->name) || x->c1)
				continue;
			if (x->c0 && counters_read(&x->c1, NULL) == 0)
				x->interval_s = (double)(x->c1->taken_ns - x->c0->taken_ns) / 1e9;
			model_ct_collect(&x->ct, true);
			break;
		}
		return 0;
	}
	m->ns = xrealloc(m->ns, (m->n + 1) * sizeof(*m->ns));
	struct td_ns_model *ns = &m->ns[m->n++];
	memset(ns, 0, sizeof(*ns));
	c->cur = ns;
	ns->name = xstrdup(info->name);
	if (!m->replay) { /* entered: the thread's namespace is this one */
		struct stat st;
		if (stat("/proc/thread-self/ns/net", &st) == 0)
			ns->ino = (uint32_t)st.st_ino;
	}
	ns->meta = xstrdup(info->meta ? info->meta : "");
	ns->ports = ports_new();
	ports_cfg_from_meta(&cfg, ns->meta, NULL);
	ports_set_cfg(ns->ports, info->idx, &cfg);
	c->cfg = cfg;
	ns->capacity = ports_capacity(&cfg);
	judge_sysctls(m, ns);
	if (!m->replay && counters_read(&ns->c0, NULL) == 0 && !c->first_c0_ns)
		c->first_c0_ns = ns->c0->taken_ns;
	/* A recording holds no conntrack table yet: a replayed namespace shows none (ct.present
	 * false). The hook for record/replay of the table is here: fill ns->ct from it. */
	if (!m->replay)
		model_ct_collect(&ns->ct, false);
	return 0;
}

static void add_listener(struct collect *c, const struct td_sock *sk)
{
	struct td_ns_model *ns = c->cur;
	const struct td_owner_proc *p = c->own ? owners_lookup(c->own, sk->inode, NULL) : NULL;

	if (ns->nlis == ns->caplis) {
		ns->caplis = ns->caplis ? ns->caplis * 2 : 16;
		ns->lis = xrealloc(ns->lis, ns->caplis * sizeof(*ns->lis));
	}
	struct td_listener *l = &ns->lis[ns->nlis++];
	memset(l, 0, sizeof(*l));
	l->family = sk->family;
	memcpy(l->addr, sk->src, 16);
	l->port = sk->sport;
	l->accept_q = sk->rqueue;
	l->backlog = sk->wqueue;
	l->backlog_unknown = !!(sk->flags & TD_SK_NO_BACKLOG);
	if (p) {
		l->pid = p->pid;
		memcpy(l->comm, p->comm, sizeof(l->comm));
	}
}

static struct td_cw_proc *cw_proc(struct td_ns_model *ns, const struct td_owner_proc *p)
{
	pid_t pid = p ? p->pid : 0;

	for (size_t i = 0; i < ns->ncw; i++)
		if (ns->cw[i].pid == pid)
			return &ns->cw[i];
	if (ns->ncw == ns->capcw) {
		ns->capcw = ns->capcw ? ns->capcw * 2 : 8;
		ns->cw = xrealloc(ns->cw, ns->capcw * sizeof(*ns->cw));
	}
	struct td_cw_proc *w = &ns->cw[ns->ncw++];
	memset(w, 0, sizeof(*w));
	w->pid = pid;
	if (p)
		memcpy(w->comm, p->comm, sizeof(w->comm));
	return w;
}

static void add_close_wait(struct collect *c, const struct td_sock *sk)
{
	const struct td_owner_proc *p = c->own ? owners_lookup(c->own, sk->inode, NULL) : NULL;
	struct td_cw_proc *w = cw_proc(c->cur, p);

	w->n++;
	if (sk->rqueue) { /* the FIN still counts: the program never read end-of-stream */
		w->eof_unread++;
		w->unread_data += sk->rqueue - 1;
	}
	for (int i = 0; i < TD_CW_PEERS; i++) {
		struct td_cw_peer *pe = &w->peers[i];
		if (pe->n && (pe->family != sk->family || pe->port != sk->dport ||
			      memcmp(pe->addr, sk->dst, 16)))
			continue;
		if (!pe->n) {
			pe->family = sk->family;
			pe->port = sk->dport;
			memcpy(pe->addr, sk->dst, 16);
		}
		pe->n++;
		return;
	}
	w->other_peers++;
}

/* Marks the socket's local port as used from its source address (ephemeral ports only; the
 * server side of accepted connections is taken out again in ns_end, once listeners are known). */
static void src_port(struct collect *c, const struct td_sock *sk)
{
	struct td_ns_model *ns = c->cur;
	struct td_src_ports *e = NULL;

	if (sk->state == TD_SS_LISTEN || sk->state == TD_SS_SYN_RECV ||
	    !ports_is_ephemeral(&c->cfg, sk->sport))
		return;
	for (size_t i = 0; i < ns->nsrc && !e; i++)
		if (ns->src[i].family == sk->family && !memcmp(ns->src[i].addr, sk->src, 16))
			e = &ns->src[i];
	if (!e) {
		if (ns->nsrc == TD_SRC_PORTS_MAX)
			return;
		ns->src = xrealloc(ns->src, (ns->nsrc + 1) * sizeof(*ns->src));
		e = &ns->src[ns->nsrc++];
		*e = (struct td_src_ports){ .family = sk->family, .capacity = ns->capacity };
		memcpy(e->addr, sk->src, 16);
		e->bitmap = xcalloc(65536 / 8, 1);
	}
	uint8_t bit = (uint8_t)(1u << (sk->sport & 7));
	if (!(e->bitmap[sk->sport >> 3] & bit)) {
		e->bitmap[sk->sport >> 3] |= bit;
		e->n++;
	}
}

static void count_port(uint32_t **arr, uint16_t port)
{
	if (!*arr)
		*arr = xcalloc(65536, sizeof(uint32_t));
	(*arr)[port]++;
}

static int on_sock(const struct td_sock *sk, void *arg)
{
	struct collect *c = arg;
	struct td_ns_model *ns = c->cur;

	census_add(&ns->census, sk);
	ports_add(ns->ports, sk);
	src_port(c, sk);
	switch (sk->state) {
	case TD_SS_LISTEN:
		add_listener(c, sk);
		break;
	case TD_SS_TIME_WAIT:
		count_port(&ns->tw_by_port, sk->sport);
		break;
	case TD_SS_SYN_RECV:
		count_port(&ns->syn_by_port, sk->sport);
		break;
	case TD_SS_FIN_WAIT2:
		/* no inode: the program closed it. A timewait socket carries the timewait timer;
		 * a full orphan (tcp_fin_timeout > 60 s) the keepalive timer, or none. */
		if (sk->inode == 0) {
			ns->fw2_orphans++;
			ns->fw2_full += sk->timer != TD_TIMER_TIMEWAIT;
		}
		break;
	case TD_SS_CLOSE_WAIT:
		add_close_wait(c, sk);
		break;
	}
	return 0;
}

/* Splits TIME_WAIT by side now that every listener is known. */
static void split_time_wait(struct td_ns_model *ns, const struct td_port_cfg *cfg)
{
	uint8_t *listening = xcalloc(65536, 1);

	for (size_t i = 0; i < ns->nlis; i++) {
		uint16_t p = ns->lis[i].port;
		listening[p] = 1;
		if (ns->syn_by_port)
			ns->lis[i].syn_recv = ns->syn_by_port[p];
		/* a listening port inside the range serves accepted connections, not clients */
		for (size_t j = 0; j < ns->nsrc; j++) {
			struct td_src_ports *e = &ns->src[j];
			if (e->bitmap && (e->bitmap[p >> 3] & (1u << (p & 7)))) {
				e->bitmap[p >> 3] &= (uint8_t) ~(1u << (p & 7));
				e->n--;
			}
		}
	}
	for (size_t j = 0; j < ns->nsrc; j++) {
		struct td_src_ports *e = &ns->src[j];
		/* connect() scans the parity of low first, bind(0) the other (§5) */
		for (unsigned p = cfg->low + 1u; p <= cfg->high; p += 2)
			if (e->bitmap[p >> 3] & (1u << (p & 7)))
				e->bind_parity++;
		free(e->bitmap);
		e->bitmap = NULL;
	}
	for (unsigned p = 0; ns->tw_by_port && p < 65536; p++) {
		uint32_t n = ns->tw_by_port[p];
		if (!n)
			continue;
		if (listening[p]) {
			ns->tw_server += n;
			if (n > ns->tw_top_port_n) {
				ns->tw_top_port_n = n;
				ns->tw_top_port = (uint16_t)p;
			}
		} else if (ports_is_ephemeral(cfg, (uint16_t)p)) {
			ns->tw_client += n;
		} else {
			ns->tw_other += n;
		}
	}
	free(listening);
	free(ns->tw_by_port);
	free(ns->syn_by_port);
	ns->tw_by_port = ns->syn_by_port = NULL;
}

static int on_ns_end(const struct td_ns_info *info, const struct td_dump_stats *st, void *arg)
{
	struct collect *c = arg;
	struct td_ns_model *ns = c->cur;

	if (c->second_pass)
		return 0;
	ns->interrupted = st->interrupted;
	ns->used = info->used;
	split_time_wait(ns, &c->cfg);
	ports_result(ns->ports, &ns->dests, &ns->ndests);
	if (!c->m->orphans && ns->c0) {
		const struct td_counters_entry *e =
			counters_get(ns->c0, COUNTERS_SOCKSTAT, "TCP", "orphan");
		if (e)
			c->m->orphans = e->value;
	}
	return 0;
}

static void read_host(struct td_model *m)
{
	char buf[64];
	uint64_t v;

	sysctl_kenv_read("/proc/sys", &m->env);
	m->ct_entry_measured = model_ct_entry_bytes(&m->ct_entry_bytes) == 0;
	if (!m->ct_entry_measured)
		m->ct_entry_bytes = TD_CT_ENTRY_BYTES;
	/* global, and absent in child namespaces (kernel-facts §12): read it from here */
	if (!sysctl_read("/proc/sys", "net/ipv4/tcp_max_orphans", buf, sizeof(buf)) &&
	    !util_parse_u64(buf, 0, UINT64_MAX, &v))
		m->max_orphans = v;
}

int model_collect(const struct td_model_opts *o, struct td_model **out, char *errbuf)
{
	struct td_model *m = xcalloc(1, sizeof(*m));
	struct collect c = { .m = m };
	struct td_source_cbs cbs = { on_ns_begin, on_sock, on_ns_end };
	int r;

	m->replay = o->src.replay != NULL;
	read_host(m);
	if (!m->replay && !o->no_owners && owners_scan(&c.own, &m->ost) == 0)
		m->have_owners = true;
	r = source_run(&o->src, &cbs, &c, errbuf);
	if (!r && !m->replay && o->interval_ms && c.first_c0_ns) {
		struct td_source_opts again = o->src;
		again.visit_only = true;
		again.record = NULL;
		util_sleep_until(c.first_c0_ns + (uint64_t)o->interval_ms * 1000000u);
		c.second_pass = true;
		r = source_run(&again, &cbs, &c, NULL); /* the first pass's note stays */
	}
	owners_free(c.own);
	if (r) {
		model_free(m);
		return r;
	}
	*out = m;
	return 0;
}

void model_free(struct td_model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		struct td_ns_model *ns = &m->ns[i];
		free(ns->name);
		free(ns->lis);
		ports_free(ns->ports);
		free(ns->dests);
		free(ns->cw);
		for (size_t j = 0; j < ns->nsrc; j++)
			free(ns->src[j].bitmap);
		free(ns->src);
		free(ns->meta);
		free(ns->sys);
		counters_free(ns->c0);
		counters_free(ns->c1);
		free(ns->tw_by_port);
		free(ns->syn_by_port);
	}
	free(m->ns);
	if (m->trace) {
		free(m->trace->fail);
		free(m->trace->rst);
		free(m->trace);
	}
	free(m);
}

void model_trace_attach(struct td_model *m, const struct td_trace_agg *agg, double duration_s,
			uint64_t lost)
{
	struct td_model_trace *t = xcalloc(1, sizeof(*t));
	uint64_t now = util_now_ns();

	t->duration_s = duration_s;
	t->lost = lost;
	t->events = trace_agg_events(agg);
	t->fail = trace_agg_rows(agg, TD_TRACE_FAILURES, now, &t->nfail);
	t->rst = trace_agg_rows(agg, TD_TRACE_RESETS, now, &t->nrst);
	m->trace = t;
}

int model_counter(const struct td_ns_model *ns, const char *section, const char *name,
		  uint64_t *value, bool *absolute)
{
	enum counters_src src = strcmp(section, "Tcp") ? COUNTERS_NETSTAT : COUNTERS_SNMP;
	const struct td_counters_entry *a =
		ns->c0 ? counters_get(ns->c0, src, section, name) : NULL;
	const struct td_counters_entry *b =
		ns->c1 ? counters_get(ns->c1, src, section, name) : NULL;

	if (!a)
		return -ENOENT;
	if (b) {
		*value = b->value >= a->value ? b->value - a->value : 0;
		*absolute = false;
	} else {
		*value = a->value;
		*absolute = true;
	}
	return 0;
}

int model_gauge(const struct td_ns_model *ns, const char *name, uint64_t *value)
{
	const struct td_counters *c = ns->c1 ? ns->c1 : ns->c0;
	const struct td_counters_entry *e =
		c ? counters_get(c, COUNTERS_SOCKSTAT, "TCP", name) : NULL;

	if (!e)
		return -ENOENT;
	*value = e->value;
	return 0;
}

int model_sysctl_int(const struct td_ns_model *ns, const char *key, int64_t *out)
{
	char buf[64];

	if (source_meta_get(ns->meta, key, buf, sizeof(buf)))
		return -ENOENT;
	return util_parse_i64(buf, INT64_MIN, INT64_MAX, out) ? -EINVAL : 0;
}
