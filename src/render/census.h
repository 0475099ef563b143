/* SPDX-License-Identifier: MIT */
/*
 * Renders a census (per-state, per-family counts) as a text table or a JSON object. Reads the
 * census only.
 */
#ifndef TD_RENDER_CENSUS_H
#define TD_RENDER_CENSUS_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "core/model/census.h"

/* Table with rows ESTABLISHED..CLOSING in kernel order, columns IPv4, IPv6, Total, a Total
 * row last. Zero rows are dimmed in colour mode. */
void render_census_table(FILE *f, const struct td_census *c, bool color);

/* {"states": {NAME: n...}, "total": n, "ipv4": {"states": {...}, "total": n}, "ipv6": {...}}.
 * Every state name is present, zeros included. Returns a new reference. */
json_t *render_census_json(const struct td_census *c);

#endif
