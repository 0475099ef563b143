// SPDX-License-Identifier: MIT
/*
 * `tcpdoctor watch`: a live terminal view of the host's TCP states. Every --interval it collects
 * the model (as doctor does, with no counters interval: the rates come from deltas between its
 * own samples, kept in core/history), evaluates the rules and draws the frame that
 * render/watch_view builds: states with per-second rates, TIME_WAIT and CLOSE_WAIT sparklines,
 * the top destinations by port usage and the findings. Keys pause, sort, switch namespace, show
 * help and quit. With --once or --count N, or when stdout is not a terminal, it prints the same
 * frames as plain text and never touches the terminal.
 */
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <curses.h>

#include "cmd/cmd.h"
#include "cmd/trace_use.h"
#include "core/model/history.h"
#include "core/model/model.h"
#include "core/rules/rules.h"
#include "core/util.h"
#include "render/watch_view.h"

enum { OPT_ONCE = TD_OPT_CMD_BASE, OPT_COUNT, OPT_NO_OWNERS, OPT_ASCII, OPT_TRACE };

#define WATCH_HISTORY	 256 /* samples per ring: wider than any sparkline a terminal shows */
#define WATCH_PLAIN_W	 120 /* frame width when stdout is not a terminal */
#define WATCH_MAX_DESTS	 8
#define WATCH_KEY_POLL	 250 /* ms: how long a key wait lasts before the stop flag is checked */
#define WATCH_MIN_INT_MS 100 /* a sample walks every socket: not more than ten a second */

struct watch_opts {
	unsigned interval_ms;
	unsigned long count; /* frames to print in plain mode; 0: until killed */
	bool plain;
	bool no_owners;
	bool ascii;
	bool trace; /* --trace: failures and resets from a BPF trace, in the view and findings */
};

/* One run's state: the newest model and findings, the rings, what the user chose. */
struct watch_run {
	struct td_global *g;
	const struct watch_opts *o;
	struct td_model_opts mo;
	struct td_limits lim;
	struct td_model *m;
	struct td_findings fs;
	struct td_history_set *hs;
	struct td_wview v;
	bool has_sel;  /* a namespace is shown (not the total) */
	char sel[256]; /* its name, so that it survives namespaces coming and going */
	char err[TD_ERRMSG_LEN];
	struct td_trace_bg *trace;
};

static int parse_interval(const struct td_global *g, const char *arg, unsigned *ms)
{
	uint64_t v;

	if (util_parse_seconds(arg, 3600, &v) || v < WATCH_MIN_INT_MS)
		return cmd_usage_err(g, "--interval '%s': expected seconds, 0.1 to 3600", arg);
	*ms = (unsigned)v;
	return 0;
}

static int on_opt(struct td_global *g, int c, const char *arg, void *ctx)
{
	struct watch_opts *o = ctx;
	uint64_t n;

	switch (c) {
	case 'i':
		return parse_interval(g, arg, &o->interval_ms);
	case OPT_ONCE:
		o->count = 1;
		o->plain = true;
		return 0;
	case 'n':
		if (util_parse_u64(arg, 1, 1000000, &n))
			return cmd_usage_err(g, "--count '%s': expected 1 to 1000000", arg);
		o->count = (unsigned long)n;
		o->plain = true;
		return 0;
	case OPT_ASCII:
		o->ascii = true;
		return 0;
	case OPT_NO_OWNERS:
		o->no_owners = true;
		return 0;
	case OPT_TRACE:
		o->trace = true;
		return 0;
	}
	return cmd_getopt_err(g);
}

static int parse_args(int argc, char **argv, struct td_global *g, struct watch_opts *o)
{
	int r = cmd_parse(&cmd_watch, argc, argv, g, o);

	if (!r && g->json)
		return cmd_usage_err(g, "--json is not supported by watch; see 'serve' or 'doctor "
					"--json'");
	return r;
}

static void sleep_until(uint64_t deadline_ns)
{
	uint64_t now = util_now_ns();

	if (now >= deadline_ns)
		return;
	uint64_t d = deadline_ns - now;
	struct timespec ts = { (time_t)(d / 1000000000u), (long)(d % 1000000000u) };
	while (nanosleep(&ts, &ts) && errno == EINTR && !cmd_stopped())
		;
}

/* Finds the shown namespace again in a new model; the total when it is gone. */
static void reselect(struct watch_run *w)
{
	w->v.ns = -1;
	for (size_t i = 0; w->has_sel && i < w->m->n; i++)
		if (!strcmp(w->m->ns[i].name, w->sel))
			w->v.ns = (int)i;
	w->has_sel = w->v.ns >= 0;
}

/* Takes one sample: a new model, its findings, one more point in every ring. Returns 0, or -1
 * with w->err set (the previous model is kept). */
static int watch_sample(struct watch_run *w)
{
	struct td_model *m = NULL;
	int r;

	w->err[0] = '\0';
	if ((r = model_collect(&w->mo, &m, w->err))) {
		if (!*w->err)
			snprintf(w->err, sizeof(w->err), "%s", strerror(-r));
		return -1;
	}
	if (w->trace)
		trace_bg_attach(w->trace, m);
	rules_findings_free(&w->fs);
	memset(&w->fs, 0, sizeof(w->fs));
	rules_evaluate(m, &w->lim, &w->fs);
	model_free(w->m);
	w->m = m;
	history_set_update(w->hs, m, util_now_ns());
	w->v.sample++;
	reselect(w);
	return 0;
}

static const struct td_history *shown_history(const struct watch_run *w)
{
	if (!w->m || w->v.ns < 0)
		return history_set_total(w->hs);
	return history_set_find(w->hs, w->m->ns[w->v.ns].name);
}

static void build(const struct watch_run *w, struct td_wframe *f)
{
	watch_frame_build(f, &w->v, w->m, &w->fs, shown_history(w));
	if (w->trace && !w->v.help)
		trace_use_frame(f, w->m, w->m && w->v.ns >= 0 ? w->m->ns[w->v.ns].ino : 0,
				w->v.width, WATCH_MAX_DESTS);
}

static unsigned stdout_width(void)
{
	struct winsize ws;

	if (isatty(STDOUT_FILENO) && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col > 0)
		return ws.ws_col;
	return WATCH_PLAIN_W;
}

/* --once / --count / not a terminal: frames as plain text, a blank line between them. */
static int run_plain(struct watch_run *w)
{
	struct td_wframe f = { 0 };
	uint64_t next = util_now_ns();

	w->v.width = stdout_width();
	w->v.height = 0;
	for (unsigned long i = 0; !w->o->count || i < w->o->count; i++) {
		if (i) {
			next += (uint64_t)w->o->interval_ms * 1000000u;
			sleep_until(next);
		}
		if (cmd_stopped())
			break;
		if (watch_sample(w)) {
			cmd_err(w->g, "%s", w->err);
			watch_frame_free(&f);
			return TD_EXIT_FAIL;
		}
		build(w, &f);
		if (i)
			putchar('\n');
		for (size_t k = 0; k < f.n; k++)
			puts(f.v[k].text);
		fflush(stdout);
	}
	watch_frame_free(&f);
	return TD_EXIT_OK;
}

static void curses_colors(bool color)
{
	if (!color || !has_colors() || start_color() == ERR)
		return;
	use_default_colors();
	init_pair(1, COLOR_RED, -1);
	init_pair(2, COLOR_YELLOW, -1);
	init_pair(3, COLOR_CYAN, -1);
}

static attr_t kind_attr(enum td_wkind k, bool color)
{
	switch (k) {
	case TD_WL_TITLE:
		return A_REVERSE;
	case TD_WL_HEAD:
		return A_BOLD;
	case TD_WL_CRIT:
		return A_BOLD | (color ? COLOR_PAIR(1) : 0);
	case TD_WL_WARN:
		return color ? COLOR_PAIR(2) : A_BOLD;
	case TD_WL_INFO:
		return color ? COLOR_PAIR(3) : A_NORMAL;
	default:
		return A_NORMAL;
	}
}

static void draw(struct watch_run *w, struct td_wframe *f)
{
	bool color = w->g->color && has_colors();

	/* a terminal shrunk to nothing still gets a (clipped) frame, never a negative size */
	w->v.width = COLS > 0 ? (unsigned)COLS : 1;
	w->v.height = LINES > 0 ? (unsigned)LINES : 1;
	build(w, f);
	erase();
	for (size_t i = 0; i < f->n; i++) {
		attr_t a = kind_attr(f->v[i].kind, color);
		attron(a);
		/* writing the bottom-right cell returns ERR though it draws: nothing to handle */
		mvaddstr((int)i, 0, f->v[i].text);
		attroff(a);
	}
	if (w->err[0] && LINES > 1) {
		attron(A_BOLD);
		mvaddnstr(LINES - 1, 0, w->err, COLS);
		attroff(A_BOLD);
	}
	refresh();
}

/* n / N: the total (-1), then every namespace in model order, and round again. */
static void switch_ns(struct watch_run *w, int step)
{
	int n = w->m ? (int)w->m->n : 0;

	if (n <= 1)
		return;
	int i = w->v.ns + step;
	if (i >= n)
		i = -1;
	else if (i < -1)
		i = n - 1;
	w->v.ns = i;
	w->has_sel = i >= 0;
	if (w->has_sel)
		snprintf(w->sel, sizeof(w->sel), "%s", w->m->ns[i].name);
}

/* Applies one key. Returns false to quit. */
static bool on_key(struct watch_run *w, int ch, uint64_t *next)
{
	if (ch == 'q' || ch == 'Q')
		return false;
	if (w->v.help && ch != KEY_RESIZE) {
		w->v.help = false; /* any key leaves the help */
		return true;
	}
	switch (ch) {
	case 'p':
		w->v.paused = !w->v.paused;
		if (!w->v.paused)
			*next = util_now_ns(); /* a fresh sample at once on resume */
		break;
	case 's':
		w->v.sort = (enum td_wsort)((w->v.sort + 1) % TD_WSORT_COUNT);
		break;
	case 'n':
		switch_ns(w, 1);
		break;
	case 'N':
		switch_ns(w, -1);
		break;
	case '?':
		w->v.help = true;
		break;
	}
	return true;
}

static int wait_key(uint64_t next, bool paused)
{
	uint64_t now = util_now_ns();
	int ms = WATCH_KEY_POLL;

	if (!paused && next > now && (next - now) / 1000000u < WATCH_KEY_POLL)
		ms = (int)((next - now) / 1000000u);
	else if (!paused && next <= now)
		ms = 0;
	timeout(ms);
	return getch();
}

static int curses_loop(struct watch_run *w)
{
	struct td_wframe f = { 0 };
	uint64_t next = util_now_ns();
	int rc = TD_EXIT_OK;
	bool dirty = true;

	while (!cmd_stopped()) {
		if (!w->v.paused && util_now_ns() >= next) {
			if (watch_sample(w) && !w->m) {
				rc = TD_EXIT_FAIL; /* nothing to show at all: give up */
				break;
			}
			next += (uint64_t)w->o->interval_ms * 1000000u;
			if (next < util_now_ns()) /* a slow sample: do not try to catch up */
				next = util_now_ns() + (uint64_t)w->o->interval_ms * 1000000u;
			dirty = true;
		}
		if (dirty)
			draw(w, &f);
		int ch = wait_key(next, w->v.paused);
		dirty = ch != ERR;
		if (ch != ERR && !on_key(w, ch, &next))
			break;
	}
	watch_frame_free(&f);
	return rc;
}

static int run_curses(struct watch_run *w)
{
	SCREEN *scr;
	int rc;

	/* before newterm: ncurses then leaves SIGINT/SIGTERM to us, and the loop runs endwin()
	 * itself to give the terminal back (SIGWINCH stays ncurses', as KEY_RESIZE) */
	cmd_signals_stop(false);
	/* LC_CTYPE only: ncurses needs it for UTF-8, while LC_NUMERIC must stay "C" so that the
	 * screen shows the same "1.5" as --once, whatever the user's locale */
	setlocale(LC_CTYPE, "");
	w->v.utf8 = !w->o->ascii && !strcmp(nl_langinfo(CODESET), "UTF-8");
	/* newterm, not initscr: initscr exits the program itself when TERM is unusable */
	scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		cmd_err(w->g, "cannot use the terminal (TERM=%s); try --once or --count N",
			getenv("TERM") ? getenv("TERM") : "");
		return TD_EXIT_FAIL;
	}
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	curses_colors(w->g->color);
	rc = curses_loop(w);
	endwin();
	delscreen(scr);
	if (rc)
		cmd_err(w->g, "%s", w->err);
	return rc;
}

static int watch_main(int argc, char **argv, struct td_global *g)
{
	struct watch_opts o = { .interval_ms = 1000 };
	struct watch_run w = { .g = g, .o = &o };
	int r = parse_args(argc, argv, g, &o);

	if (r)
		return r;
	if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))
		o.plain = true;
	cmd_source_opts(g, &w.mo.src);
	w.mo.interval_ms = 0; /* rates come from watch's own samples */
	w.mo.no_owners = o.no_owners;
	rules_limits_default(&w.lim);
	w.hs = history_set_new(WATCH_HISTORY);
	w.v = (struct td_wview){ .ns = -1,
				 .interval_ms = o.interval_ms,
				 .max_dests = WATCH_MAX_DESTS };
	if (o.trace && (r = trace_bg_start(g, &w.trace, TD_EXIT_FAIL))) {
		history_set_free(w.hs);
		return r;
	}
	if (o.plain) {
		setlocale(LC_CTYPE, "");
		w.v.utf8 = !o.ascii && !strcmp(nl_langinfo(CODESET), "UTF-8");
		r = run_plain(&w);
	} else {
		r = run_curses(&w);
	}
	trace_bg_stop(w.trace);
	rules_findings_free(&w.fs);
	model_free(w.m);
	history_set_free(w.hs);
	return r;
}

static const struct td_cmd_opt watch_opts[] = {
	{ "interval", 'i', "S", "seconds between samples (default 1; 0.1 to 3600)", 'i' },
	{ "once", 0, NULL, "print one frame as plain text and exit", OPT_ONCE },
	{ "count", 'n', "N", "print N frames as plain text, one interval apart", 'n' },
	{ "ascii", 0, NULL, "ASCII sparklines even in a UTF-8 locale", OPT_ASCII },
	{ "no-owners", 0, NULL, "skip the /proc scan that finds which process holds a socket",
	  OPT_NO_OWNERS },
	{ "trace", 0, NULL,
	  "keep a BPF trace running (root): failed connects and resets\nby destination and program, "
	  "and doctor's trace findings",
	  OPT_TRACE },
	{ 0 },
};

const struct td_cmd_entry cmd_watch = {
	.name = "watch",
	.summary = "Live view: states, rates, sparklines, destinations, findings",
	.usage = "tcpdoctor [-N NS|all] watch [--interval S] [--once | --count N] [--ascii]\n"
		 "          [--trace]",
	.about = "Live view: sockets per state with per-second rates, TIME_WAIT created/expired,\n"
		 "sparklines of TIME_WAIT and CLOSE_WAIT, the top destinations by ephemeral-port\n"
		 "usage and the current findings, worst first.",
	.opts = watch_opts,
	.more = "\nKeys: p pause/resume, s sort destinations (usage, TIME_WAIT, rate), n/N next/previous\n"
		"namespace with -N all (or the total), ? help, q quit. Plain text frames are also\n"
		"printed when stdout is not a terminal.",
	.on_opt = on_opt,
	.run = watch_main,
};
