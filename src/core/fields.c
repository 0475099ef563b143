// SPDX-License-Identifier: MIT
/*
 * Typed values of table-defined fields (fields.h): a load by type and offset, or the field's
 * getter.
 */
#include "core/fields.h"

#include <errno.h>
#include <string.h>

void fields_get(const struct td_field *f, const void *obj, const void *ctx, struct td_fval *v)
{
	const char *p = (const char *)obj + f->offset;

	memset(v, 0, sizeof(*v));
	switch (f->type) {
	case TD_FT_U16: {
		uint16_t x;
		memcpy(&x, p, sizeof(x));
		v->kind = TD_FV_UINT;
		v->u = x;
		break;
	}
	case TD_FT_U32:
	case TD_FT_COUNT32: {
		uint32_t x;
		memcpy(&x, p, sizeof(x));
		v->kind = f->type == TD_FT_U32 ? TD_FV_UINT : TD_FV_COUNT;
		v->u = x;
		break;
	}
	case TD_FT_COUNT64:
		memcpy(&v->u, p, sizeof(v->u));
		v->kind = TD_FV_COUNT;
		break;
	case TD_FT_RATE:
		memcpy(&v->d, p, sizeof(v->d));
		v->kind = TD_FV_REAL;
		v->decimals = 1;
		break;
	case TD_FT_BOOL:
		memcpy(&v->b, p, sizeof(v->b));
		v->kind = TD_FV_BOOL;
		break;
	case TD_FT_FN:
		f->get(obj, ctx, v);
		break;
	}
}

const struct td_field *fields_find(const struct td_field *f, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (f[i].json_key && !strcmp(f[i].json_key, key))
			return &f[i];
	return NULL;
}

int fields_number(const struct td_fval *v, double *out)
{
	switch (v->kind) {
	case TD_FV_UINT:
	case TD_FV_COUNT:
		*out = (double)v->u;
		return 0;
	case TD_FV_INT:
		*out = (double)v->i;
		return 0;
	case TD_FV_REAL:
	case TD_FV_SECONDS:
		*out = v->d;
		return 0;
	case TD_FV_BOOL:
		*out = v->b;
		return 0;
	case TD_FV_NULL:
	case TD_FV_OMIT:
		return -ENODATA;
	default:
		return -EINVAL;
	}
}

void fields_pct(uint64_t part, uint64_t whole, struct td_fval *v)
{
	if (!whole) {
		v->kind = TD_FV_NULL;
		return;
	}
	v->kind = TD_FV_REAL;
	v->decimals = 1;
	v->d = 100.0 * (double)part / (double)whole;
}
