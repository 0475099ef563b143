// SPDX-License-Identifier: MIT
/*
 * watch --trace's part of the frame: the failed connect()/bind() and the resets the trace
 * counted since watch started, one line per (program, errno, destination), most first, under the
 * frame that render/watch_view builds. Counts exact; names escaped.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cmd/trace_use.h"
#include "core/model/model.h"
#include "core/names.h"
#include "core/util.h"
#include "render/table.h"
#include "render/watch_view.h"

static void frame_add(struct td_wframe *f, enum td_wkind k, const char *text, unsigned width)
{
	char *s = xstrdup(text);

	watch_truncate(s, width);
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 48;
		f->v = xrealloc(f->v, f->cap * sizeof(*f->v));
	}
	f->v[f->n++] = (struct td_wline){ s, k };
}

static void row_line(struct td_wframe *f, const struct td_trace_row *r, unsigned width)
{
	const struct td_trace_key *k = &r->k;
	char dst[64], n[32], what[48], line[256], *comm = names_escape_str(k->comm);
	const char *e = k->err > 0 ? strerrorname_np(k->err) : NULL;
	bool bind = k->kind == TD_EV_BIND_FAIL;

	if (k->kind == TD_EV_CONNECT_FAIL || bind)
		snprintf(what, sizeof(what), "%s() %s", trace_syscall_name(k->kind), e ? e : "?");
	else
		snprintf(what, sizeof(what), "reset %s (%s)", trace_reset_dir(k->kind),
			 trace_reset_cause(k->kind, k->detail));
	trace_endpoint_str(k->family, bind ? k->saddr : k->daddr, bind ? k->sport : k->dport, dst,
			   sizeof(dst));
	snprintf(line, sizeof(line), "%10s  %-26s %-24s %s (pid %u)",
		 table_num(r->count, n, sizeof(n)), what, dst, k->pid ? comm : "?", k->pid);
	free(comm);
	frame_add(f, TD_WL_TEXT, line, width);
}

void trace_use_frame(struct td_wframe *f, const struct td_model *m, uint32_t ino, unsigned width,
		     size_t max)
{
	const struct td_model_trace *t = m ? m->trace : NULL;
	char line[160];
	size_t shown = 0;

	if (!t)
		return;
	snprintf(line, sizeof(line),
		 "Trace (%.0f s): failed connect()/bind() and resets, by destination (%llu lost)",
		 t->duration_s, (unsigned long long)t->lost);
	frame_add(f, TD_WL_TEXT, "", width);
	frame_add(f, TD_WL_HEAD, line, width);
	for (size_t i = 0; i < t->nfail && shown < max; i++)
		if (!ino || t->fail[i].k.netns == ino)
			row_line(f, &t->fail[i], width), shown++;
	for (size_t i = 0; i < t->nrst && shown < max; i++)
		if (!ino || t->rst[i].k.netns == ino)
			row_line(f, &t->rst[i], width), shown++;
	if (!shown)
		frame_add(f, TD_WL_TEXT, "  none so far", width);
}
