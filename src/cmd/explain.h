/* SPDX-License-Identifier: MIT */
/*
 * Shared by explain.c (the command and its text) and explain_data.c (the words for a sysctl
 * key's shape, default and verdict conditions, and the JSON of each kind of entry). Strings are
 * written to caller buffers (truncated to len - 1); nothing here reads the system.
 */
#ifndef TD_CMD_EXPLAIN_H
#define TD_CMD_EXPLAIN_H

#include <stddef.h>

#include <jansson.h>

struct td_param;
struct td_rule;
struct td_cat_match;

/* "4.18" for PARAMS_KV(4, 18). Returns b. */
const char *explain_kv(unsigned kv, char *b, size_t l);
/* "one integer from 0 to 2", "two port numbers: low high; the kernel rejects ...". */
void explain_shape(const struct td_param *p, char *b, size_t l);
/* "0 before 4.18, 2 from 4.18", or how the kernel computes it. */
void explain_default(const struct td_param *p, char *b, size_t l);
/* "= 0", "< 3", "below the default". */
void explain_rule_when(const struct td_rule *r, char *b, size_t l);
/* What the shape-specific check of p looks at, or NULL when p has none. */
const char *explain_check_words(const struct td_param *p);
/* The JSON object of one entry, with "kind". New reference. */
json_t *explain_match_json(const struct td_cat_match *m);

#endif
