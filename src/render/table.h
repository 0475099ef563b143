/* SPDX-License-Identifier: MIT */
/*
 * Plain-text tables: a small stored table with aligned columns for summaries (a census, a
 * top-N list), and a fixed-width row printer for streamed lists that must not be stored.
 * Reads only what it is given; not thread-safe per table.
 */
#ifndef TD_RENDER_TABLE_H
#define TD_RENDER_TABLE_H

#include <stdbool.h>
#include <stdio.h>

struct td_table;

enum td_align { TD_LEFT = 0, TD_RIGHT = 1 };

/* A table of ncols columns; headers and alignments are copied. Never returns NULL. */
struct td_table *table_new(unsigned ncols, const char *const *headers, const enum td_align *align);
/* Appends a row of ncols cells (copied). dim marks a row printed faint in colour mode. */
void table_add(struct td_table *t, const char *const *cells, bool dim);
/* Appends a separator line before the next row. */
void table_rule(struct td_table *t);
/* Prints with two spaces between columns; bold header in colour mode. */
void table_print(const struct td_table *t, FILE *f, bool color);
void table_free(struct td_table *t);

/* Formats n with thousands separators ("1,234,567") into buf. Returns buf. */
char *table_num(unsigned long long n, char *buf, size_t len);

#endif
