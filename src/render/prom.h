/* SPDX-License-Identifier: MIT */
/*
 * Renders exporter metric families (core/export/exporter.h) in the Prometheus text exposition format
 * 0.0.4: "# HELP", "# TYPE", then one line per sample with escaped label values. Reads only.
 * Thread-safe (no state).
 */
#ifndef TD_RENDER_PROM_H
#define TD_RENDER_PROM_H

#include <stddef.h>

struct td_metrics;

/* The Content-Type of what render_prom produces. */
#define RENDER_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Returns the whole page as one NUL-terminated malloc'd string (caller frees), its length in
 * *len. Never NULL (aborts on OOM). */
char *render_prom(const struct td_metrics *m, size_t *len);

#endif
