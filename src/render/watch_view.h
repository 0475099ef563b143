/* SPDX-License-Identifier: MIT */
/*
 * The screen of `tcpdoctor watch` as plain text lines: a title, sockets per state with their
 * per-second change, TIME_WAIT created/expired and opens per second, sparklines of TIME_WAIT and
 * CLOSE_WAIT, the top destinations by port usage, and the findings one line each, worst first.
 * The curses view draws these lines and `--once`/`--count` print them, so what a test reads is
 * what a user sees. Every line fits the width (cut by display columns, UTF-8 aware) and a frame
 * never has more lines than the height. Reads the model, findings and history only; never
 * prints. Allocation failure aborts.
 */
#ifndef TD_RENDER_WATCH_VIEW_H
#define TD_RENDER_WATCH_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct td_model;
struct td_findings;
struct td_history;
struct td_port_dest;

/* How the destinations are ordered (the `s` key cycles through them in this order). */
enum td_wsort {
	TD_WSORT_USAGE = 0, /* ports in use / capacity, then in use */
	TD_WSORT_TW,	    /* TIME_WAIT holding a port to it */
	TD_WSORT_RATE,	    /* closes per second (ports.h: rate) */
	TD_WSORT_COUNT,
};

/* What the user chose and the room there is. */
struct td_wview {
	int ns; /* -1: the total of every namespace; else an index into the model */
	enum td_wsort sort;
	bool paused;
	bool help;	      /* the key help instead of the data */
	bool utf8;	      /* block glyphs for sparklines; ASCII otherwise */
	unsigned width;	      /* columns, >= 1 */
	unsigned height;      /* lines; 0: no limit (plain frames) */
	unsigned interval_ms; /* between samples, for the title */
	unsigned long sample; /* samples taken so far */
	size_t max_dests;     /* destination rows at most */
};

/* The look of a line, for curses attributes; plain frames ignore it. */
enum td_wkind {
	TD_WL_TEXT = 0,
	TD_WL_TITLE,
	TD_WL_HEAD,
	TD_WL_CRIT,
	TD_WL_WARN,
	TD_WL_INFO,
};

struct td_wline {
	char *text; /* UTF-8, at most width columns */
	enum td_wkind kind;
};

struct td_wframe {
	struct td_wline *v;
	size_t n, cap;
};

/*
 * Builds the frame for view v from the model m (may be NULL before the first sample), its
 * findings fs and the ring h of the namespace (or total) shown. Replaces f's previous lines;
 * free with watch_frame_free. Can't fail.
 */
void watch_frame_build(struct td_wframe *f, const struct td_wview *v, const struct td_model *m,
		       const struct td_findings *fs, const struct td_history *h);
void watch_frame_free(struct td_wframe *f);

/* "usage", "TIME_WAIT", "rate". */
const char *watch_sort_name(enum td_wsort s);

/* Orders n destination pointers for s, largest first; ties by in-use ports, then netns,
 * destination port and addresses, so the order is stable. */
void watch_sort_dests(const struct td_port_dest **v, size_t n, enum td_wsort s);

/*
 * Writes the sparkline of n values (levels by history_level against their maximum) into buf:
 * "▁▂▃▄▅▆▇█" glyphs (3 bytes each) when utf8, else "_.-:=+*#". Writes at most len - 1 bytes
 * and a NUL, dropping whole glyphs; returns the glyphs written.
 */
size_t watch_sparkline(char *buf, size_t len, const uint64_t *vals, size_t n, bool utf8);

/* Cuts s in place to at most width display columns (every code point counts one; a cut never
 * splits a UTF-8 sequence). Returns the columns kept. */
size_t watch_truncate(char *s, size_t width);

#endif
