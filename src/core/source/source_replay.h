/* SPDX-License-Identifier: MIT */
/*
 * Replays a recorded dump (record.h) through the same parsers a live run uses: the namespaces,
 * their meta and their sockets come out exactly as they went in.
 */
#ifndef TD_SOURCE_REPLAY_H
#define TD_SOURCE_REPLAY_H

#include "core/source/source.h"

/* Runs o->replay as source_run would run the kernel. o->netns NULL or "all" replays every
 * namespace in the file; a name replays only that one (-ENOENT if absent). Returns 0, -errno,
 * -EBADMSG for a corrupt or truncated file (errbuf names file and offset), or a callback's
 * negative value. */
int replay_run(const struct td_source_opts *o, const struct td_source_cbs *cbs, void *arg,
	       char *errbuf);

/* Formats a message into errbuf (TD_ERRMSG_LEN bytes; NULL ignored). */
void source_errf(char *errbuf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
