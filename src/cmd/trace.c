// SPDX-License-Identifier: MIT
/*
 * `tcpdoctor trace`: watches the kernel with BPF (core/trace/trace.h) until Ctrl-C or --duration and
 * reports, aggregated with exact counts: connect() and bind() failures by errno, program,
 * namespace and destination (non-blocking connects included: charged to the caller of
 * connect() when the kernel sets the socket's error), resets received and sent, who closed
 * first, and CLOSE_WAIT stays. Says "tracing" on stderr once attached, so a script can start
 * its traffic then. On a terminal (no --json) the table refreshes in place once a second, each
 * section cut to its first rows, and the full report follows at the end. Namespaces are named as everywhere else (netns.h), comm and names escaped.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "core/names.h"
#include "core/source/netns.h"
#include "core/trace/trace.h"
#include "core/util.h"
#include "render/table.h"

#define DURATION_MAX_S (7 * 86400)

struct ns_name {
	uint32_t ino;
	char *name;
};

struct trace_run {
	const struct td_global *g;
	uint64_t duration_ms; /* 0: until a signal */
	struct ns_name *ns;
	size_t nns;
	bool listed_late; /* namespaces listed again for one born during the trace */
	bool live;	  /* a terminal, no --json: the table refreshes in place */
};

#define LIVE_REFRESH_MS 1000
#define LIVE_ROWS	10 /* rows a section shows while live; the final report has all */
static int on_opt(struct td_global *g, int c, const char *arg, void *ctx)
{
	struct trace_run *run = ctx;

	if (c != 'd')
		return cmd_getopt_err(g);
	if (util_parse_seconds(arg, DURATION_MAX_S, &run->duration_ms))
		return cmd_usage_err(
			g, "--duration '%s': expected seconds, more than 0 and at most %d", arg,
			DURATION_MAX_S);
	return 0;
}

/* Remembers a namespace's name, escaped for every output (names.h): a /run/netns name is data. */
static void ns_put(struct trace_run *run, uint32_t ino, const char *name)
{
	for (size_t i = 0; i < run->nns; i++)
		if (run->ns[i].ino == ino)
			return;
	run->ns = xrealloc(run->ns, (run->nns + 1) * sizeof(*run->ns));
	run->ns[run->nns++] = (struct ns_name){ ino, names_escape_str(name) };
}

static void ns_add(struct trace_run *run, const struct td_netns *n)
{
	struct stat st;

	if (fstat(n->fd, &st))
		return;
	ns_put(run, (uint32_t)st.st_ino, n->name);
}

static void ns_list(struct trace_run *run)
{
	struct td_netns_list l = { 0 };
	unsigned skipped = 0;

	struct stat self;

	/* our own namespace first, named "" as every command names the current one */
	if (stat("/proc/self/ns/net", &self) == 0)
		ns_put(run, (uint32_t)self.st_ino, "");
	if (netns_list_all(&l, &skipped))
		return; /* unnamed namespaces print as net:[INODE] */
	for (size_t i = 0; i < l.n; i++)
		ns_add(run, &l.v[i]);
	netns_list_free(&l);
}

static const char *ns_name(struct trace_run *run, uint32_t ino, char *buf, size_t len)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < run->nns; i++)
			if (run->ns[i].ino == ino)
				return run->ns[i].name;
		if (run->listed_late)
			break;
		run->listed_late = true;
		ns_list(run);
	}
	snprintf(buf, len, "net:[%u]", ino);
	return buf;
}

static const char *errno_name(int err, char *buf, size_t len)
{
	const char *n = err > 0 ? strerrorname_np(err) : NULL;

	if (n)
		return n;
	snprintf(buf, len, "errno %d", err);
	return buf;
}

static json_t *json_addr(uint8_t family, const uint8_t *addr)
{
	char a[64];

	trace_addr_str(family, addr, a, sizeof(a));
	return *a ? json_string(a) : json_null();
}

static json_t *row_json(struct trace_run *run, enum td_trace_section s,
			const struct td_trace_row *r)
{
	const struct td_trace_key *k = &r->k;
	json_t *o = json_object();
	char buf[64], *comm = names_escape_str(k->comm);

	json_object_set_new(o, "netns", json_string(ns_name(run, k->netns, buf, sizeof(buf))));
	json_object_set_new(o, "pid", k->pid ? json_integer(k->pid) : json_null());
	json_object_set_new(o, "comm", k->pid ? json_string(comm) : json_null());
	free(comm);
	if (s == TD_TRACE_FAILURES) {
		json_object_set_new(o, "syscall", json_string(trace_syscall_name(k->kind)));
		json_object_set_new(o, "errno", json_string(errno_name(k->err, buf, sizeof(buf))));
		json_object_set_new(o, "errno_value", json_integer(k->err));
	} else if (s == TD_TRACE_RESETS) {
		json_object_set_new(o, "direction", json_string(trace_reset_dir(k->kind)));
		json_object_set_new(o, "cause", json_string(trace_reset_cause(k->kind, k->detail)));
	} else if (s == TD_TRACE_CLOSES) {
		json_object_set_new(o, "first", json_string(trace_close_first(k->kind)));
	}
	json_object_set_new(o, "src", json_addr(k->family, k->saddr));
	json_object_set_new(o, "sport", json_integer(k->sport));
	json_object_set_new(o, "dst", json_addr(k->family, k->daddr));
	json_object_set_new(o, "dport", json_integer(k->dport));
	if (s == TD_TRACE_CLOSE_WAIT) {
		json_object_set_new(o, "entered", json_integer((json_int_t)r->count));
		json_object_set_new(o, "open", json_integer((json_int_t)r->cw_open));
		json_object_set_new(o, "oldest_open_s", json_real((double)r->cw_oldest_ns / 1e9));
		json_object_set_new(o, "longest_s", json_real((double)r->cw_longest_ns / 1e9));
	} else {
		json_object_set_new(o, "count", json_integer((json_int_t)r->count));
	}
	return o;
}

static const char *const headers[TD_TRACE_SECTIONS][8] = {
	{ "NETNS", "PID", "PROGRAM", "CALL", "ERRNO", "SOURCE", "DESTINATION", "COUNT" },
	{ "NETNS", "PID", "PROGRAM", "RESET", "CAUSE", "LOCAL", "PEER", "COUNT" },
	{ "NETNS", "PID", "PROGRAM", "FIRST FIN", "", "LOCAL", "PEER", "COUNT" },
	{ "NETNS", "PID", "PROGRAM", "OPEN", "OLDEST", "LOCAL", "PEER", "ENTERED" },
};
static const char *const titles[TD_TRACE_SECTIONS] = {
	"Failed connect() and bind()",
	"Resets",
	"Who closed first",
	"CLOSE_WAIT (the peer closed; the program had not yet)",
};

static void row_cells(struct trace_run *run, enum td_trace_section s, const struct td_trace_row *r,
		      char cells[8][80])
{
	const struct td_trace_key *k = &r->k;
	char *comm = names_escape_str(k->comm);

	const char *ns = ns_name(run, k->netns, cells[7], 80);
	snprintf(cells[0], 80, "%s", *ns ? ns : "(current)");
	snprintf(cells[1], 80, k->pid ? "%u" : "?", k->pid);
	snprintf(cells[2], 80, "%s", k->pid ? comm : "?");
	free(comm);
	cells[3][0] = cells[4][0] = '\0';
	if (s == TD_TRACE_FAILURES) {
		snprintf(cells[3], 80, "%s", trace_syscall_name(k->kind));
		snprintf(cells[4], 80, "%s", errno_name(k->err, cells[7], 80));
	} else if (s == TD_TRACE_RESETS) {
		snprintf(cells[3], 80, "%s", trace_reset_dir(k->kind));
		snprintf(cells[4], 80, "%s", trace_reset_cause(k->kind, k->detail));
	} else if (s == TD_TRACE_CLOSES) {
		snprintf(cells[3], 80, "%s", trace_close_first(k->kind));
	} else {
		snprintf(cells[3], 80, "%llu", (unsigned long long)r->cw_open);
		snprintf(cells[4], 80, "%.1fs", (double)r->cw_oldest_ns / 1e9);
	}
	trace_endpoint_str(k->family, k->saddr, k->sport, cells[5], 80);
	trace_endpoint_str(k->family, k->daddr, k->dport, cells[6], 80);
	table_num(r->count, cells[7], 80);
}

/* The report; limit > 0 cuts each section to its first rows (the live view) */
static void print_text(struct trace_run *run, struct td_trace_row *rows[], const size_t n[],
		       double secs, const struct td_trace_agg *agg, uint64_t lost, size_t limit)
{
	uint64_t events = trace_agg_events(agg), folded = trace_agg_folded(agg),
		 untracked = trace_agg_cw_untracked(agg);

	static const enum td_align al[8] = { TD_LEFT, TD_RIGHT, TD_LEFT, TD_LEFT,
					     TD_LEFT, TD_LEFT,	TD_LEFT, TD_RIGHT };
	char cells[8][80];
	const char *cp[8];

	printf("%s %.1f s: %llu events, %llu lost.\n", limit ? "Tracing" : "Traced", secs,
	       (unsigned long long)events, (unsigned long long)lost);
	for (int s = 0; s < TD_TRACE_SECTIONS; s++) {
		size_t shown = limit && n[s] > limit ? limit : n[s];
		struct td_table *t;

		if (!n[s])
			continue;
		t = table_new(8, headers[s], al);
		for (size_t i = 0; i < shown; i++) {
			row_cells(run, (enum td_trace_section)s, &rows[s][i], cells);
			for (int c = 0; c < 8; c++)
				cp[c] = cells[c];
			table_add(t, cp, false);
		}
		printf("\n%s:\n", titles[s]);
		table_print(t, stdout, run->g->color);
		table_free(t);
		if (shown < n[s])
			printf("  ... %zu more\n", n[s] - shown);
	}
	if (limit) {
		puts("\n(Ctrl-C to stop and print the whole report)");
		return;
	}
	if (!events)
		puts("\nNo failed connect() or bind(), no reset, no close seen.");
	if (folded)
		printf("\nnote: %llu events were counted without their program (and past %u more "
		       "rows without their endpoints): the table keeps %u rows by program\n",
		       (unsigned long long)folded, TD_TRACE_ROWS_SPARE, TD_TRACE_ROWS_MAX);
	if (untracked)
		printf("note: %llu sockets in CLOSE_WAIT were counted but not aged: %u are followed "
		       "at once\n",
		       (unsigned long long)untracked, TD_TRACE_CW_MAX);
	puts("ref: tcp-facts.md#trace");
}

static void print_json(struct trace_run *run, struct td_trace_row *rows[], const size_t n[],
		       double secs, const struct td_trace_agg *agg, uint64_t lost)
{
	json_t *o = json_object();

	json_object_set_new(o, "duration_s", json_real(secs));
	for (int s = 0; s < TD_TRACE_SECTIONS; s++) {
		json_t *a = json_array();
		for (size_t i = 0; i < n[s]; i++)
			json_array_append_new(a,
					      row_json(run, (enum td_trace_section)s, &rows[s][i]));
		json_object_set_new(o, trace_section_name((enum td_trace_section)s), a);
	}
	json_object_set_new(o, "events", json_integer((json_int_t)trace_agg_events(agg)));
	json_object_set_new(o, "lost", json_integer((json_int_t)lost));
	json_object_set_new(o, "folded", json_integer((json_int_t)trace_agg_folded(agg)));
	json_object_set_new(o, "close_wait_untracked",
			    json_integer((json_int_t)trace_agg_cw_untracked(agg)));
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	putchar('\n');
	json_decref(o);
}

static int open_err(const struct td_global *g, int r, const char *why)
{
	if (r == -ENOTSUP)
		cmd_err(g, "this build has no BPF support: install clang, bpftool and libbpf-dev "
			   "(scripts/install-deps bpf, as root) and rebuild tcpdoctor");
	else if (r == -EPERM || r == -EACCES)
		cmd_err(g, "%s: %s: needs root (or CAP_BPF and CAP_PERFMON)", why, strerror(-r));
	else if (r == -ENOENT && why && strstr(why, "BTF"))
		cmd_err(g, "%s: trace needs it to load its programs", why);
	else
		cmd_err(g, "%s: %s", why ? why : "BPF", strerror(-r));
	return TD_EXIT_FAIL;
}

/* -N: the namespace whose events to keep (its inode), 0 for every one */
static int netns_filter(struct trace_run *run, uint32_t *ino)
{
	struct td_netns n;
	struct stat st;
	int r;

	*ino = 0;
	if (!run->g->netns || !strcmp(run->g->netns, "all"))
		return 0;
	if ((r = netns_open(run->g->netns, &n))) {
		cmd_err(run->g, "namespace '%s': %s", run->g->netns,
			r == -EINVAL ? "not a network namespace" : strerror(-r));
		return TD_EXIT_FAIL;
	}
	if (!fstat(n.fd, &st))
		*ino = (uint32_t)st.st_ino;
	ns_add(run, &n);
	netns_free_one(&n);
	return 0;
}

/* The live view: home, clear, the report so far (its rows cut), all in one write */
static void live_draw(struct trace_run *run, struct td_trace *t, struct td_trace_agg *agg,
		      uint64_t start)
{
	struct td_trace_row *rows[TD_TRACE_SECTIONS];
	size_t n[TD_TRACE_SECTIONS];
	uint64_t now = util_now_ns();

	for (int s = 0; s < TD_TRACE_SECTIONS; s++)
		rows[s] = trace_agg_rows(agg, (enum td_trace_section)s, now, &n[s]);
	fputs("\033[H\033[2J", stdout);
	print_text(run, rows, n, (double)(now - start) / 1e9, agg, trace_lost(t), LIVE_ROWS);
	fflush(stdout);
	for (int s = 0; s < TD_TRACE_SECTIONS; s++)
		free(rows[s]);
}

static int trace_loop(struct trace_run *run, struct td_trace *t, struct td_trace_agg *agg)
{
	uint64_t next_draw = 0;
	uint64_t start = util_now_ns();
	uint64_t end = run->duration_ms ? start + run->duration_ms * 1000000ull : 0;
	int r = 0;

	cmd_signals_stop(false);
	cmd_err(run->g, "tracing%s (Ctrl-C to stop)", run->g->netns ? " one namespace" : "");
	while (!cmd_stopped()) {
		uint64_t now = util_now_ns();
		int ms = 200;

		if (end && now >= end)
			break;
		if (end && (end - now) / 1000000 < (uint64_t)ms)
			ms = (int)((end - now) / 1000000) + 1;
		r = trace_poll(t, agg, ms);
		if (r < 0 && r != -EINTR) {
			cmd_err(run->g, "reading events: %s", strerror(-r));
			return TD_EXIT_FAIL;
		}
		if (run->live && util_now_ns() >= next_draw) {
			live_draw(run, t, agg, start);
			next_draw = util_now_ns() + LIVE_REFRESH_MS * 1000000ull;
		}
	}
	if (run->live) /* the final report replaces the live view */
		fputs("\033[H\033[2J", stdout);
	/* what the programs queued before we stopped */
	while ((r = trace_poll(t, agg, 0)) > 0)
		;
	if (r >= 0 || r == -EINTR)
		r = trace_sync(t, agg, true); /* the open CLOSE_WAIT stays as of now */
	if (r < 0) {
		cmd_err(run->g, "reading events: %s", strerror(-r));
		return TD_EXIT_FAIL;
	}
	return 0;
}

static int trace_main(int argc, char **argv, struct td_global *g)
{
	struct trace_run run = { .g = g };
	struct td_trace_opts to = { 0 };
	struct td_trace_row *rows[TD_TRACE_SECTIONS] = { 0 };
	size_t n[TD_TRACE_SECTIONS] = { 0 };
	struct td_trace_agg *agg = NULL;
	struct td_trace *t = NULL;
	const char *why = NULL;
	uint64_t start, now;
	int r;

	if ((r = cmd_parse(&cmd_trace, argc, argv, g, &run)))
		return r;
	if (g->replay)
		return cmd_usage_err(g, "--replay: trace watches the live kernel; a recorded dump "
					"holds no events");
	if ((r = netns_filter(&run, &to.netns)))
		goto out;
	if ((r = trace_open(&to, &t, &why))) {
		r = open_err(g, r, why);
		goto out;
	}
	ns_list(&run);
	run.live = !g->json && isatty(STDOUT_FILENO);
	agg = trace_agg_new();
	start = util_now_ns();
	if ((r = trace_loop(&run, t, agg)))
		goto out;
	now = util_now_ns();
	for (int s = 0; s < TD_TRACE_SECTIONS; s++)
		rows[s] = trace_agg_rows(agg, (enum td_trace_section)s, now, &n[s]);
	if (g->json)
		print_json(&run, rows, n, (double)(now - start) / 1e9, agg, trace_lost(t));
	else
		print_text(&run, rows, n, (double)(now - start) / 1e9, agg, trace_lost(t), 0);
out:
	for (int s = 0; s < TD_TRACE_SECTIONS; s++)
		free(rows[s]);
	for (size_t i = 0; i < run.nns; i++)
		free(run.ns[i].name);
	free(run.ns);
	trace_agg_free(agg);
	trace_close(t);
	return r;
}

static const struct td_cmd_opt trace_opts[] = {
	{ "duration", 'd', "S", "stop after S seconds (up to 604800; 0.5 works)", 'd' },
	{ 0 },
};

const struct td_cmd_entry cmd_trace = {
	.name = "trace",
	.summary = "eBPF: failed connect()/bind() by errno and program, resets, who closed first",
	.usage = "tcpdoctor [-N NS|all] trace [--duration S] [--json]",
	.about =
		"Traces the kernel with BPF until Ctrl-C (or S seconds) and reports, with exact\n"
		"counts: failed connect() and bind() by errno, program, namespace and destination\n"
		"(non-blocking connects too); resets received from peers and sent by programs\n"
		"(linger-0 close, close with unread data); who closed first; CLOSE_WAIT stays.\n"
		"Needs root (CAP_BPF and CAP_PERFMON) and a kernel with BTF.",
	.opts = trace_opts,
	.more = "\nWith --json: {\"duration_s\", \"failures\": [...], \"resets\": [...],\n"
		"\"closes\": [...], \"close_wait\": [...], \"events\", \"lost\", \"folded\",\n"
		"\"close_wait_untracked\"}\n"
		"-N NS: only that namespace's events (default: every namespace).\n"
		"Says \"tracing\" on stderr once attached. ref: tcp-facts.md#trace",
	.on_opt = on_opt,
	.run = trace_main,
};
