/* SPDX-License-Identifier: MIT */
/*
 * A field of an entity (a port destination, a group, a counter), defined once: its JSON key,
 * its text header and alignment, and where its value is (a type and an offset into the
 * entity's struct, or a getter for the few composite fields), as curl's writeout table does.
 * fields_get turns a field of one entity into a typed value; the renderers (render/fields.h,
 * and the exporter) write values by their kind, so a unit and the meaning of "absent" are
 * decided here once for every output.
 *
 * Pure: no I/O, no printing. Thread-safe.
 */
#ifndef TD_FIELDS_H
#define TD_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum td_ftype {
	TD_FT_U16,     /* uint16_t, written as is (a port) */
	TD_FT_U32,     /* uint32_t, written as is */
	TD_FT_COUNT32, /* uint32_t, a count: thousands separators in text */
	TD_FT_COUNT64, /* uint64_t, a count */
	TD_FT_RATE,    /* double per second, one decimal in text */
	TD_FT_BOOL,    /* bool */
	TD_FT_FN,      /* composite: the field's get() fills the value */
};

enum td_fval_kind {
	TD_FV_NULL = 0, /* absent or undefined: "-" in text, null in JSON */
	TD_FV_UINT,	/* u */
	TD_FV_INT,	/* i, signed (a gauge's fall, a value the kernel printed as -1) */
	TD_FV_COUNT,	/* u, a count */
	TD_FV_REAL,	/* d, decimals in text */
	TD_FV_BOOL,	/* b */
	TD_FV_STR,	/* s ("" is "-" in text) */
	TD_FV_SECONDS,	/* d >= 0: "NOW", "12.5s", "15min" in text, seconds in JSON */
	TD_FV_STATES,	/* states[TD_SS_COUNT]: an object of the non-zero states in JSON */
	TD_FV_OMIT,	/* not a field of this entity: blank in text, no member in JSON */
};

struct td_fval {
	enum td_fval_kind kind;
	int decimals; /* TD_FV_REAL */
	uint64_t u;
	int64_t i;
	double d;
	bool b;
	const char *s;
	const uint32_t *states;
	char buf[128]; /* storage a getter may point s at */
};

struct td_field {
	const char *json_key; /* NULL: text only */
	const char *header;   /* NULL: JSON only */
	int width;	      /* text: minimum width; negative = left-aligned */
	enum td_ftype type;
	size_t offset; /* into the entity, for every type but TD_FT_FN */
	/* TD_FT_FN: fills v from the entity and the renderer's context (e.g. namespace names) */
	void (*get)(const void *obj, const void *ctx, struct td_fval *v);
};

/* The value of field f of obj. Can't fail. */
void fields_get(const struct td_field *f, const void *obj, const void *ctx, struct td_fval *v);

/* The field of table f (n entries) whose JSON key is key, or NULL. */
const struct td_field *fields_find(const struct td_field *f, size_t n, const char *key);

/* A numeric value (UINT, INT, COUNT, REAL, SECONDS, BOOL as 0/1) as a double, for a metric.
 * Returns 0, or -ENODATA for TD_FV_NULL and TD_FV_OMIT, -EINVAL for strings and state sets
 * (*out untouched). */
int fields_number(const struct td_fval *v, double *out);

/* A percentage of part in whole, one decimal in text; TD_FV_NULL when whole is 0 (a share of
 * nothing is undefined, not 100 %). */
void fields_pct(uint64_t part, uint64_t whole, struct td_fval *v);

#endif
