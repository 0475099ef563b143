/* SPDX-License-Identifier: MIT */
/*
 * Renders findings (rules.h) and the model summary they came from: a one-screen text report,
 * a JSON object, and the Nagios/Icinga plugin status line with perfdata. Reads only.
 */
#ifndef TD_RENDER_FINDINGS_H
#define TD_RENDER_FINDINGS_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "core/rules/rules.h"

struct td_model;

/* The doctor report: a header summarising the sockets, then each finding with evidence, cause
 * and numbered remedies (info findings last and shorter), then a summary line. */
void render_findings_text(FILE *f, const struct td_model *m, const struct td_findings *fs,
			  bool color, bool verbose);

/* {"status", "exit", "netns": [{"name", "source", "states", "total"}], "findings": [{"id",
 * "severity", "netns", "subject", "title", "cause", "evidence": {k: v}, "units": {k: u},
 * "remedies": [...], "ref" ("tcp-facts#ANCHOR"), "ref_source"}]}. New reference. */
json_t *render_findings_json(const struct td_model *m, const struct td_findings *fs, int exit_code);

/* One plugin line: "TCPDOCTOR CRITICAL - title; +N more | 'time_wait'=N;W;C;0; ..." plus, for
 * -v, one line per further finding (plugin guidelines' multi-line output). */
void render_nagios(FILE *f, const struct td_model *m, const struct td_findings *fs,
		   const struct td_limits *lim, int status, bool verbose);

#endif
