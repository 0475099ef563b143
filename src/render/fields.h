/* SPDX-License-Identifier: MIT */
/*
 * The generic writers of table-defined fields (core/fields.h): one per value kind for text and
 * for JSON, and the walks that make a text table or a JSON object of one entity from its field
 * table. Every command that shows an entity with a field table goes through these, so the same
 * field reads the same in every output.
 */
#ifndef TD_RENDER_FIELDS_H
#define TD_RENDER_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "core/fields.h"

struct td_table;

/* The text of a value into buf ("-" for TD_FV_NULL). Returns buf. */
char *fields_text(const struct td_fval *v, char *buf, size_t len);
/* The JSON of a value (a new reference; null for TD_FV_NULL). */
json_t *fields_json(const struct td_fval *v);

/* A text table with a column per field that has a header. Never NULL. */
struct td_table *fields_table_new(const struct td_field *f, size_t n);
/* Adds obj as a row of that table. */
void fields_table_add(struct td_table *t, const struct td_field *f, size_t n, const void *obj,
		      const void *ctx);
/* Fixed-width lines, for sections that must line up with each other: the text fields of f at
 * their widths, two spaces apart, after a two-space indent; the last column unpadded. The header
 * line is bold in colour mode. */
void fields_line_header(FILE *out, const struct td_field *f, size_t n, bool color);
void fields_line(FILE *out, const struct td_field *f, size_t n, const void *obj, const void *ctx);
/* Sets a member on o for every field of obj that has a JSON key (none for TD_FV_OMIT). */
void fields_json_set(json_t *o, const struct td_field *f, size_t n, const void *obj,
		     const void *ctx);

#endif
