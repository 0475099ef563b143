/* SPDX-License-Identifier: MIT */
/*
 * Text and JSON for the lab's conntrack-full scenario (src/lab/ct_full.h); lab.c runs it and
 * calls these. The JSON object is the "conntrack_full" member of `lab --json`.
 */
#ifndef TD_CMD_LAB_CT_H
#define TD_CMD_LAB_CT_H

#include <stdbool.h>

#include <jansson.h>

struct lab_ct_result;

/* Prints the scenario's table and verdict to stdout. */
void lab_ct_print_text(const struct lab_ct_result *r, const char *ns_name, bool color);

/* A new JSON object for the result (the caller owns the reference). */
json_t *lab_ct_json(const struct lab_ct_result *r);

#endif
