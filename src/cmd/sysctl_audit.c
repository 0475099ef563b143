// SPDX-License-Identifier: MIT
/*
 * `tcpdoctor sysctl` (audit) and `tcpdoctor sysctl recommend`: rendering only. Both read one
 * namespace through the diagnosis model (model.h: the sysctls the source read there, listeners,
 * TIME_WAIT per destination, counters), and this kernel's description (version, ehash) read
 * inside it. The audit prints each value with this kernel's default and the verdict, then the
 * cross-key findings (sysctl_cross.h); recommend prints what recommend.h decides as a drop-in,
 * or as JSON.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd/sysctl.h"
#include "core/rules/facts.h"
#include "core/model/model.h"
#include "core/sysctl/recommend.h"
#include "core/sysctl/sysctl_apply.h"
#include "core/sysctl/sysctl_cross.h"
#include "core/util.h"

struct evidence {
	struct td_model *m;
	const struct td_ns_model *ns;
	struct td_kenv env; /* of the namespace */
	bool child;	    /* a child network namespace: some defaults are the host's */
};

/* Reads the namespace. Prints and returns an exit code on failure, else 0. */
static int gather(const struct td_global *g, struct evidence *e)
{
	struct td_model_opts o = { .no_owners = true };
	char err[TD_ERRMSG_LEN] = "";
	int saved, r;

	memset(e, 0, sizeof(*e));
	cmd_source_opts(g, &o.src);
	r = model_collect(&o, &e->m, err);
	if (r) {
		cmd_err(g, "%s", *err ? err : strerror(-r));
		return TD_EXIT_FAIL;
	}
	if (e->m->n != 1) {
		cmd_err(g, "no namespace was read");
		return TD_EXIT_FAIL;
	}
	e->ns = &e->m->ns[0];
	if (cmd_sysctl_enter(g, &saved))
		return TD_EXIT_FAIL;
	sysctl_kenv_read(CMD_SYSCTL_PROCROOT, &e->env);
	e->child = sysctl_in_child_netns(CMD_SYSCTL_PROCROOT);
	cmd_sysctl_leave(saved);
	return 0;
}

/* What the DEFAULT column says when the table has no number for this kernel. */
static const char *default_words(const struct td_param *p, bool child)
{
	switch (p->defkind) {
	case TD_DEF_INHERITED:
		/* a new namespace copies the initial namespace's value when it is created */
		if (child)
			return "(as the host)";
		return p->shape == TD_SHAPE_STRING ? "(kernel build)" : "(sized at boot)";
	case TD_DEF_MEMORY:
		return "(sized at boot)";
	default:
		return "(varies)";
	}
}

/* The KEY column: as wide as the longest key this namespace has (ip_unprivileged_port_start
 * is 35 characters). */
static int key_width(const struct evidence *e)
{
	char v[TD_REC_VAL_MAX];
	size_t w = 3;

	for (size_t i = 0; i < params_count; i++)
		if (strlen(params_table[i].key) > w &&
		    recommend_value(e->ns, params_table[i].key, v))
			w = strlen(params_table[i].key);
	return (int)w;
}

static void print_row_text(int kw, const struct td_param *p, const char *v, const char *def,
			   const struct td_verdict *vd, size_t n)
{
	printf("%-*s %-22s %-22s %-7s %s\n", kw, p->key, v, def, params_sev_name(vd[0].sev),
	       vd[0].message);
	for (size_t i = 1; i < n; i++)
		printf("%-*s %-22s %-22s %-7s %s\n", kw, "", "", "", params_sev_name(vd[i].sev),
		       vd[i].message);
}

static json_t *row_json(const struct td_param *p, const char *v, const char *def, enum td_sev w,
			const struct td_verdict *vd, size_t n)
{
	json_t *row = json_object(), *vs = json_array();

	json_object_set_new(row, "key", json_string(p->key));
	json_object_set_new(row, "value", json_string(v));
	json_object_set_new(row, "default", json_string(def));
	json_object_set_new(row, "scope", json_string(p->scope ? "global" : "netns"));
	json_object_set_new(row, "severity", json_string(params_sev_name(w)));
	for (size_t k = 0; k < n; k++) {
		json_t *j = json_object();
		json_object_set_new(j, "severity", json_string(params_sev_name(vd[k].sev)));
		json_object_set_new(j, "message", json_string(vd[k].message));
		json_object_set_new(j, "reason", json_string(vd[k].reason));
		json_object_set_new(j, "reference", json_string(vd[k].ref));
		json_array_append_new(vs, j);
	}
	json_object_set_new(row, "verdicts", vs);
	return row;
}

/* One row per key present in the namespace; returns the worst verdict. */
static enum td_sev audit_params(const struct td_global *g, const struct evidence *e, json_t *rows)
{
	enum td_sev worst = TD_SEV_OK;
	char v[TD_REC_VAL_MAX], def[128];
	int kw = g->json ? 0 : key_width(e);

	if (!g->json)
		printf("%-*s %-22s %-22s %-7s %s\n", kw, "KEY", "VALUE", "DEFAULT", "VERDICT",
		       "WHY");
	for (size_t i = 0; i < params_count; i++) {
		const struct td_param *p = &params_table[i];
		struct td_verdict vd[PARAMS_VERDICTS_MAX];
		struct td_kenv env = e->env;
		size_t n;
		if (!recommend_value(e->ns, p->key, v))
			continue; /* removed keys, and global ones in a child namespace */
		if (params_default(p, &e->env, def, sizeof(def)))
			snprintf(def, sizeof(def), "%s", default_words(p, e->child));
		env.kver = 0; /* present: judge the value, not the key's existence */
		enum td_sev w = params_judge(p, &env, v, vd, &n);
		if (w == TD_SEV_INFO && n == 1 && sysctl_apply_same(v, def)) {
			/* the audit shows defaults as ok: only departures are news */
			w = vd[0].sev = TD_SEV_OK;
			vd[0].message = "default";
		}
		if (w > worst)
			worst = w;
		if (g->json)
			json_array_append_new(rows, row_json(p, v, def, w, vd, n));
		else
			print_row_text(kw, p, v, def, vd, n);
	}
	return worst;
}

int cmd_sysctl_audit(const struct td_global *g, const struct cmd_sysctl_args *a)
{
	struct evidence e;
	struct td_rec_cross x;
	struct td_sysctl_set *s;
	json_t *rows = json_array();
	enum td_sev worst;
	int r;

	if (a->nargs)
		return cmd_usage_err(g, "unexpected argument '%s'", a->args[0]);
	if ((r = gather(g, &e))) {
		json_decref(rows);
		model_free(e.m);
		return r;
	}
	worst = audit_params(g, &e, rows);
	s = td_sysctl_set_new();
	recommend_cross_facts(e.ns, &x);
	sysctl_cross_check(s, &x.f);
	recommend_cross_free(&x);
	if (g->json) {
		json_t *o = json_object();
		json_object_set_new(o, "netns", json_string(g->netns ? g->netns : ""));
		json_object_set_new(o, "params", rows);
		json_object_set_new(o, "findings", cmd_sysctl_findings_json(s));
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(o);
	} else {
		json_decref(rows);
		if (s->nfnd)
			puts("\nAcross keys and sockets:");
		cmd_sysctl_print_findings(g, s, false);
	}
	if (sysctl_worst(s) > worst)
		worst = sysctl_worst(s);
	td_sysctl_set_free(s);
	model_free(e.m);
	return worst >= TD_SEV_HARMFUL ? TD_EXIT_FAIL : TD_EXIT_OK;
}

/* --- recommend --- */

/* One comment line with the reason and the reference, then the setting if there is one. */
static void print_rec_text(const struct td_rec *r)
{
	char ref[300];

	facts_ref_text(r->ref, ref, sizeof(ref));
	/* an application fix of its own says so in its reason */
	if (r->app_fix && r->kind != TD_REC_APP)
		printf("\n# %s Fix the application first: %s. [%s]\n", r->reason, r->app_fix, ref);
	else
		printf("\n# %s [%s]\n", r->reason, ref);
	if (*r->suggested)
		printf("%s = %s\n", r->key, r->suggested);
}

static json_t *rec_json(const struct td_rec *r)
{
	json_t *j = json_object();

	json_object_set_new(j, "kind", json_string(recommend_kind_name(r->kind)));
	json_object_set_new(j, "key", r->key ? json_string(r->key) : json_null());
	json_object_set_new(j, "current", r->key ? json_string(r->current) : json_null());
	json_object_set_new(j, "suggested",
			    *r->suggested ? json_string(r->suggested) : json_null());
	json_object_set_new(j, "reason", json_string(r->reason));
	json_object_set_new(j, "application_fix",
			    r->app_fix ? json_string(r->app_fix) : json_null());
	json_object_set_new(j, "reference", json_string(r->ref));
	return j;
}

static void print_recs_json(const struct td_global *g, enum td_rec_profile prof,
			    const struct evidence *e, const struct td_recs *rs)
{
	const struct td_rec_evidence *ev = &rs->ev;
	json_t *o = json_object(), *a = json_array(), *j = json_object();

	json_object_set_new(o, "profile", json_string(recommend_profile_name(prof)));
	json_object_set_new(o, "netns", json_string(g->netns ? g->netns : ""));
	json_object_set_new(o, "kernel",
			    json_sprintf("%u.%u", e->env.kver / 1000, e->env.kver % 1000));
	json_object_set_new(j, "time_wait", json_integer((json_int_t)ev->time_wait));
	json_object_set_new(j, "time_wait_top_destination", json_integer(ev->top_tw));
	json_object_set_new(j, "listeners", json_integer((json_int_t)ev->listeners));
	json_object_set_new(j, "sockstat_tw",
			    ev->have_sock_tw ? json_integer((json_int_t)ev->sock_tw) : json_null());
	json_object_set_new(j, "ListenOverflows",
			    ev->have_listen_overflows
				    ? json_integer((json_int_t)ev->listen_overflows)
				    : json_null());
	json_object_set_new(j, "TCPTimeWaitOverflow",
			    ev->have_tw_overflow ? json_integer((json_int_t)ev->tw_overflow)
						 : json_null());
	json_object_set_new(o, "evidence", j);
	for (size_t i = 0; i < rs->n; i++)
		json_array_append_new(a, rec_json(&rs->v[i]));
	json_object_set_new(o, "recommendations", a);
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(o);
}

int cmd_sysctl_recommend(const struct td_global *g, const struct cmd_sysctl_args *a)
{
	struct evidence e;
	struct td_recs rs;
	enum td_rec_profile prof = TD_REC_AUTO;
	int rc;

	recommend_profile_parse(a->profile, &prof); /* checked by the option parser */
	if ((rc = gather(g, &e))) {
		model_free(e.m);
		return rc;
	}
	recommend_run(e.ns, &e.env, prof, &rs);
	if (g->json) {
		print_recs_json(g, prof, &e, &rs);
	} else {
		const struct td_rec_evidence *ev = &rs.ev;
		printf("# tcpdoctor sysctl recommend: profile %s, network namespace %s, Linux %u.%u\n"
		       "# Evidence: TIME_WAIT %" PRIu64 " (most to one destination: %" PRIu32
		       "), listeners %zu, sockstat tw %" PRIu64 ", ListenOverflows %" PRIu64
		       ", TCPTimeWaitOverflow %" PRIu64 "\n"
		       "# Only changes this evidence or the profile justifies; each line says "
		       "why.\n",
		       a->profile, g->netns ? g->netns : "current", e.env.kver / 1000,
		       e.env.kver % 1000, ev->time_wait, ev->top_tw, ev->listeners, ev->sock_tw,
		       ev->listen_overflows, ev->tw_overflow);
		for (size_t i = 0; i < rs.n; i++)
			print_rec_text(&rs.v[i]);
		if (!rs.n)
			puts("\n# No change is justified by this host's evidence.");
	}
	recommend_free(&rs);
	model_free(e.m);
	return TD_EXIT_OK;
}
