// SPDX-License-Identifier: MIT
/*
 * `tcpdoctor lab [SCENARIO...]`: reproduces the TIME_WAIT / port-exhaustion incident and its
 * cousins in two network namespaces it creates (fresh ones per scenario, so no scenario
 * inherits another's TIME_WAIT), measures each remedy side by side, and prints a table, JSON,
 * and optionally an SVG chart. Everything it makes is removed on normal exit, on error, on
 * SIGINT/SIGTERM (a flag the workers poll; cleanup happens in the main flow).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "cmd/lab_ct.h"
#include "core/model/model.h"
#include "core/rules/rules.h"
#include "core/util.h"
#include "lab/chart.h"
#include "lab/ct_full.h"
#include "lab/env.h"
#include "lab/scenario.h"

#define DEF_PORTS	1000
#define DEF_DURATION_MS 5000
#define DEF_MAX_CONNS	200000
#define MAX_DURATION_S	60

/* What doctor found in the client namespace of one scenario at its worst moment. */
struct lab_doctor {
	bool ran;
	char *error; /* why it could not look, or NULL */
	struct lab_found {
		char *id, *title;
		const char *sev;
	} * v;
	size_t n;
};

struct lab_opts {
	struct lab_config cfg;
	const char *chart;
	bool rate_set, no_doctor, list, ct_full;
	const struct lab_scenario **sel;
	size_t nsel;
};

enum {
	OPT_DURATION = TD_OPT_CMD_BASE,
	OPT_PORTS,
	OPT_RATE,
	OPT_MAX_CONNS,
	OPT_CHART,
	OPT_LIST,
	OPT_NO_DOCTOR,
};

static void list_scenarios(void)
{
	for (size_t i = 0; i < lab_scenarios_count; i++)
		printf("%-20s %s\n", lab_scenarios[i].name, lab_scenarios[i].summary);
	printf("%-20s %s\n", LAB_CT_FULL_NAME, LAB_CT_FULL_SUMMARY);
}

static int parse_value(struct td_global *g, struct lab_opts *o, int c, const char *arg)
{
	uint64_t v;

	switch (c) {
	case OPT_DURATION:
		if (util_parse_seconds(arg, MAX_DURATION_S, &o->cfg.duration_ms))
			return cmd_usage_err(g, "--duration '%s': expected seconds in (0, %d]", arg,
					     MAX_DURATION_S);
		return 0;
	case OPT_PORTS:
		if (util_parse_u64(arg, 16, 32768, &v))
			return cmd_usage_err(g, "--ports '%s': expected 16 to 32768", arg);
		o->cfg.ports = (unsigned)v;
		return 0;
	case OPT_RATE:
		o->rate_set = true;
		if (!strcmp(arg, "max")) {
			o->cfg.rate = 0;
			return 0;
		}
		if (util_parse_u64(arg, 1, 1000000, &v))
			return cmd_usage_err(g, "--rate '%s': expected 1 to 1000000 or 'max'", arg);
		o->cfg.rate = (double)v;
		return 0;
	case OPT_MAX_CONNS:
		if (util_parse_u64(arg, 1, 100000000, &v))
			return cmd_usage_err(g, "--max-conns '%s': expected 1 to 100000000", arg);
		o->cfg.max_conns = v;
		return 0;
	case OPT_CHART:
		o->chart = arg;
		return 0;
	case OPT_NO_DOCTOR:
		o->no_doctor = true;
		return 0;
	}
	return cmd_getopt_err(g);
}

static int on_opt(struct td_global *g, int c, const char *arg, void *ctx)
{
	struct lab_opts *o = ctx;

	if (c == OPT_LIST) {
		o->list = true;
		return 0;
	}
	return parse_value(g, o, c, arg);
}

static int parse_args(int argc, char **argv, struct td_global *g, struct lab_opts *o)
{
	int r;

	if ((r = cmd_parse(&cmd_lab, argc, argv, g, o)) || o->list)
		return r;
	if (g->netns || g->replay)
		return cmd_usage_err(g, "-N and --replay do not apply: the lab makes its own "
					"namespaces");
	o->sel = xcalloc(lab_scenarios_count, sizeof(*o->sel));
	for (int i = 0; i < g->nargs; i++) {
		const struct lab_scenario *sc = lab_scenario_find(g->args[i]);
		if (!strcmp(g->args[i], LAB_CT_FULL_NAME)) {
			o->ct_full = true;
			continue;
		}
		if (!sc)
			return cmd_usage_err(g, "unknown scenario '%s' (see --list)", g->args[i]);
		if (o->nsel < lab_scenarios_count)
			o->sel[o->nsel++] = sc;
	}
	for (size_t i = 0; !g->nargs && i < lab_scenarios_count; i++)
		o->sel[o->nsel++] = &lab_scenarios[i];
	if (!o->rate_set)
		o->cfg.rate = o->cfg.ports / 2.0;
	return 0;
}

/* Effective CAP_NET_ADMIN (12) and CAP_SYS_ADMIN (21), from /proc/self/status. */
static bool have_caps(void)
{
	char *text = NULL, *p;
	size_t len;
	bool ok = false;

	if (util_read_file("/proc/self/status", 1 << 16, &text, &len))
		return geteuid() == 0;
	p = strstr(text, "\nCapEff:");
	if (p) {
		unsigned long long eff = strtoull(p + 8, NULL, 16);
		ok = (eff >> 12 & 1) && (eff >> 21 & 1);
	}
	free(text);
	return ok;
}

/* close-wait-leak keeps thousands of sockets open on purpose. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* One scenario in fresh namespaces, removed before returning. */
static int run_one(const struct lab_config *cfg, const struct lab_scenario *sc,
		   struct lab_result *res, char *err, size_t errlen)
{
	struct lab_env env;
	int r;

	lab_env_init(&env);
	r = lab_env_create(&env, err, errlen);
	if (!r)
		r = lab_scenario_run(cfg, sc, &env, res, err, errlen);
	lab_env_destroy(&env);
	return r;
}

/*
 * The worst-moment hook: doctor's model and rules on the client namespace while its sockets are
 * still there (no process attribution: every socket there is the lab's own). A failure to look
 * is recorded and shown, not fatal: the measurements stand on their own.
 */
static int lab_doctor_hook(const struct lab_env *env, const struct lab_scenario *sc, void *arg)
{
	struct lab_doctor *d = arg;
	struct td_model_opts mo = { .src = { .kind = TD_SRC_AUTO, .netns = env->path[LAB_CLIENT] },
				    .no_owners = true };
	struct td_limits lim;
	struct td_findings fs = { 0 };
	struct td_model *m = NULL;
	char err[TD_ERRMSG_LEN];
	int r;

	(void)sc;
	d->ran = true;
	rules_limits_default(&lim);
	r = model_collect(&mo, &m, err);
	if (r) {
		d->error = xstrdup(*err ? err : strerror(-r));
		return 0;
	}
	rules_evaluate(m, &lim, &fs);
	d->v = xcalloc(fs.n ? fs.n : 1, sizeof(*d->v));
	for (size_t i = 0; i < fs.n; i++) {
		d->v[i].id = xstrdup(fs.v[i].id);
		d->v[i].title = xstrdup(fs.v[i].title ? fs.v[i].title : "");
		d->v[i].sev = rules_sev_name(fs.v[i].sev);
	}
	d->n = fs.n;
	rules_findings_free(&fs);
	model_free(m);
	return 0;
}

static void lab_doctor_free(struct lab_doctor *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].id);
		free(d->v[i].title);
	}
	free(d->v);
	free(d->error);
}

static void print_doctor(const struct lab_doctor *d)
{
	if (!d->ran)
		return;
	if (d->error)
		printf("  doctor (client namespace): could not look: %s\n", d->error);
	else if (!d->n)
		printf("  doctor (client namespace): no findings\n");
	for (size_t i = 0; i < d->n; i++)
		printf("  doctor (client namespace): %s %s: %s\n", d->v[i].sev, d->v[i].id,
		       d->v[i].title);
}

static json_t *doctor_json(const struct lab_doctor *d)
{
	json_t *a;

	if (!d->ran || d->error)
		return json_null();
	a = json_array();
	for (size_t i = 0; i < d->n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "id", d->v[i].id, "severity",
						   d->v[i].sev, "title", d->v[i].title));
	return a;
}

static void fmt_fail(char *b, size_t n, double s)
{
	if (s < 0)
		snprintf(b, n, "-");
	else
		snprintf(b, n, "%.1f s", s);
}

static void print_text(const struct lab_result *res, const struct lab_doctor *doc, size_t n,
		       bool color)
{
	const char *b = color ? "\033[1m" : "", *e = color ? "\033[0m" : "";

	printf("%-20s %9s %9s %9s %6s %7s %7s %7s %9s %10s %10s%s\n", "SCENARIO", "ATTEMPTED", "OK",
	       "NOTAVAIL", "OTHER", "RATE/s", "TW-CLI", "TW-SRV", "1ST-FAIL", "TWRecycled",
	       "TWOverflow", "");
	for (size_t i = 0; i < n; i++) {
		const struct lab_result *r = &res[i];
		char ff[32];
		fmt_fail(ff, sizeof(ff), r->first_failure_s);
		printf("%s%-20s%s %9llu %9llu %9llu %6llu %7.0f %7u %7u %9s %10llu %10llu\n", b,
		       r->sc->name, e, (unsigned long long)r->attempted,
		       (unsigned long long)r->succeeded, (unsigned long long)r->eaddrnotavail,
		       (unsigned long long)(r->eaddrinuse + r->other_errors), r->rate,
		       r->peak_tw[LAB_CLIENT], r->peak_tw[LAB_SERVER], ff,
		       (unsigned long long)r->ctr[LAB_CLIENT][LAB_CTR_TW_RECYCLED],
		       (unsigned long long)r->ctr[LAB_CLIENT][LAB_CTR_TW_OVERFLOW]);
		printf("  %s\n", r->verdict);
		print_doctor(&doc[i]);
	}
}

static json_t *counters_json(const struct lab_result *r, enum lab_side side)
{
	json_t *c = json_object();

	for (int i = 0; r->have_ctr[side] && i < LAB_CTR_COUNT; i++)
		json_object_set_new(c, lab_ctr_name((enum lab_ctr)i),
				    json_integer((json_int_t)r->ctr[side][i]));
	return c;
}

static json_t *result_json(const struct lab_result *r, const struct lab_doctor *d)
{
	json_t *o = json_object(), *c = json_object();

	json_object_set_new(o, "name", json_string(r->sc->name));
	json_object_set_new(o, "attempted", json_integer((json_int_t)r->attempted));
	json_object_set_new(o, "succeeded", json_integer((json_int_t)r->succeeded));
	json_object_set_new(o, "eaddrnotavail", json_integer((json_int_t)r->eaddrnotavail));
	json_object_set_new(o, "eaddrinuse", json_integer((json_int_t)r->eaddrinuse));
	json_object_set_new(o, "other_errors", json_integer((json_int_t)r->other_errors));
	json_object_set_new(o, "first_other_error",
			    r->first_other_errno ? json_string(strerror(r->first_other_errno))
						 : json_null());
	json_object_set_new(o, "rate", json_real(r->rate));
	json_object_set_new(o, "elapsed_s", json_real(r->elapsed_s));
	json_object_set_new(o, "ports", json_integer(r->ports));
	json_object_set_new(o, "peak_tw_client", json_integer(r->peak_tw[LAB_CLIENT]));
	json_object_set_new(o, "peak_tw_server", json_integer(r->peak_tw[LAB_SERVER]));
	json_object_set_new(o, "peak_close_wait_server", json_integer(r->peak_cw[LAB_SERVER]));
	json_object_set_new(o, "peak_fin_wait2_client", json_integer(r->peak_fw2[LAB_CLIENT]));
	json_object_set_new(o, "first_failure_s",
			    r->first_failure_s < 0 ? json_null() : json_real(r->first_failure_s));
	json_object_set_new(c, "client", counters_json(r, LAB_CLIENT));
	json_object_set_new(c, "server", counters_json(r, LAB_SERVER));
	json_object_set_new(o, "counters", c);
	json_object_set_new(o, "tcp_tw_reuse_delay_ms", json_integer(r->reuse_delay_ms));
	json_object_set_new(o, "verdict", json_string(r->verdict));
	json_object_set_new(o, "doctor", doctor_json(d));
	return o;
}

/* The conntrack-full run: its result, doctor's findings with the table full, the namespace. */
struct lab_ct_run {
	bool ran;
	struct lab_ct_result res;
	struct lab_doctor doc;
	char ns[32];
};

static void print_json(const struct lab_opts *o, const struct lab_result *res,
		       const struct lab_doctor *doc, size_t n, const struct lab_ct_run *ct,
		       bool interrupted)
{
	json_t *root = json_object(), *a = json_array();

	json_object_set_new(root, "ports", json_integer(o->cfg.ports));
	json_object_set_new(root, "rate", o->cfg.rate > 0 ? json_real(o->cfg.rate) : json_null());
	json_object_set_new(root, "duration_s", json_real((double)o->cfg.duration_ms / 1000));
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, result_json(&res[i], &doc[i]));
	json_object_set_new(root, "scenarios", a);
	if (ct->ran) {
		json_t *c = lab_ct_json(&ct->res);
		json_object_set_new(c, "doctor", doctor_json(&ct->doc));
		json_object_set_new(root, "conntrack_full", c);
	}
	json_object_set_new(root, "interrupted", json_boolean(interrupted));
	json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(root);
}

static int write_chart(struct td_global *g, const char *path, const struct lab_result *res,
		       size_t n)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		cmd_err(g, "cannot write chart '%s': %s", path, strerror(errno));
		return TD_EXIT_FAIL;
	}
	int r = lab_chart_write(f, res, n);
	if (fclose(f) || r) {
		cmd_err(g, "cannot write chart '%s': %s", path, strerror(EIO));
		return TD_EXIT_FAIL;
	}
	return TD_EXIT_OK;
}

static void progress(const struct lab_opts *o, size_t i)
{
	if (!isatty(STDERR_FILENO))
		return;
	fprintf(stderr, "tcpdoctor: lab: [%zu/%zu] %s (%.1f s)...\n", i + 1, o->nsel,
		o->sel[i]->name, (double)o->cfg.duration_ms / 1000);
}

static int lab_ct_doctor_hook(const struct lab_env *env, void *arg)
{
	return lab_doctor_hook(env, NULL, arg);
}

/* conntrack-full in fresh namespaces, removed before returning. */
static int run_ct(struct td_global *g, const struct lab_opts *o, struct lab_ct_run *ct)
{
	struct lab_ct_config cfg = { .stop = o->cfg.stop };
	struct lab_env env;
	char err[768] = "";
	int r;

	if (!o->no_doctor) {
		cfg.full_hook = lab_ct_doctor_hook;
		cfg.hook_arg = &ct->doc;
	}
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "tcpdoctor: lab: %s (about 15 s)...\n", LAB_CT_FULL_NAME);
	lab_env_init(&env);
	r = lab_env_create(&env, err, sizeof(err));
	snprintf(ct->ns, sizeof(ct->ns), "%s", env.name[LAB_CLIENT]);
	if (!r)
		r = lab_ct_full_run(&cfg, &env, &ct->res, err, sizeof(err));
	lab_env_destroy(&env);
	if (r) {
		cmd_err(g, "%s: %s", LAB_CT_FULL_NAME, err);
		return TD_EXIT_FAIL;
	}
	ct->ran = true;
	return TD_EXIT_OK;
}

static int run_all(struct td_global *g, struct lab_opts *o)
{
	struct lab_ct_run ct = { 0 };
	struct lab_result *res = xcalloc(o->nsel, sizeof(*res));
	struct lab_doctor *doc = xcalloc(o->nsel, sizeof(*doc));
	char err[768];
	size_t n = 0;
	int rc = TD_EXIT_OK;

	for (size_t i = 0; i < o->nsel && !cmd_stopped(); i++) {
		progress(o, i);
		if (!o->no_doctor) {
			o->cfg.worst_hook = lab_doctor_hook;
			o->cfg.hook_arg = &doc[n];
		}
		int r = run_one(&o->cfg, o->sel[i], &res[n], err, sizeof(err));
		if (r) {
			cmd_err(g, "%s: %s", o->sel[i]->name, err);
			rc = TD_EXIT_FAIL;
			break;
		}
		n++;
	}
	if (o->ct_full && !rc && !cmd_stopped())
		rc = run_ct(g, o, &ct);
	if (cmd_stopped()) {
		cmd_err(g, "interrupted; every lab namespace was removed");
		rc = TD_EXIT_FAIL;
	}
	if (g->json)
		print_json(o, res, doc, n, &ct, cmd_stopped());
	else if (n)
		print_text(res, doc, n, g->color);
	if (!g->json && ct.ran) {
		lab_ct_print_text(&ct.res, ct.ns, g->color);
		print_doctor(&ct.doc);
	}
	if (o->chart && n && write_chart(g, o->chart, res, n))
		rc = TD_EXIT_FAIL;
	for (size_t i = 0; i < o->nsel; i++) {
		lab_result_clear(&res[i]);
		lab_doctor_free(&doc[i]);
	}
	lab_doctor_free(&ct.doc);
	free(res);
	free(doc);
	return rc;
}

static int lab_main(int argc, char **argv, struct td_global *g)
{
	struct lab_opts o = { .cfg = { .ports = DEF_PORTS,
				       .duration_ms = DEF_DURATION_MS,
				       .max_conns = DEF_MAX_CONNS } };
	int r = parse_args(argc, argv, g, &o);

	if (r || o.list) {
		if (o.list)
			list_scenarios();
		free(o.sel);
		return r;
	}
	if (!have_caps()) {
		cmd_err(g, "lab needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) to create network "
			   "namespaces");
		free(o.sel);
		return TD_EXIT_FAIL;
	}
	o.cfg.stop = cmd_signals_stop(true);
	raise_nofile();
	r = run_all(g, &o);
	free(o.sel);
	return r;
}

static const struct td_cmd_opt lab_opts[] = {
	{ "duration", 0, "S", "load time per scenario (default 5)", OPT_DURATION },
	{ "ports", 0, "N", "client ip_local_port_range size (default 1000)", OPT_PORTS },
	{ "rate", 0, "N|max", "connections per second (default: ports / 2)", OPT_RATE },
	{ "max-conns", 0, "N", "cap on attempts per scenario (default 200000)", OPT_MAX_CONNS },
	{ "chart", 0, "FILE", "write an SVG chart of TIME_WAIT and failures over time", OPT_CHART },
	{ "no-doctor", 0, NULL, "skip the doctor findings taken in the client namespace",
	  OPT_NO_DOCTOR },
	{ "list", 0, NULL, "list the scenarios", OPT_LIST },
	{ 0 },
};

const struct td_cmd_entry cmd_lab = {
	.name = "lab",
	.summary = "Reproduce port exhaustion in private namespaces; measure each remedy",
	.usage = "tcpdoctor lab [OPTIONS] [SCENARIO...]",
	.about =
		"Reproduces TIME_WAIT and port exhaustion in two network namespaces it creates\n"
		"(td-lab-c-PID, td-lab-s-PID, joined by a veth on 198.18.0.0/30) and measures each\n"
		"remedy side by side. Needs root. Runs every scenario by default but\n"
		"conntrack-full, which runs when named: it fills the client namespace's\n"
		"conntrack table to the host's nf_conntrack_max (needs nft).",
	.opts = lab_opts,
	.more = "\nWith --json: {\"scenarios\": [{\"name\", \"attempted\", \"succeeded\", ...}],\n"
		"\"conntrack_full\": {\"count_full\", \"probes\", \"delta\", ...}}",
	.flags = TD_CMD_ARGS,
	.on_opt = on_opt,
	.run = lab_main,
};
