// SPDX-License-Identifier: MIT
/*
 * The live halves of `tcpdoctor sysctl`: audit, recommend, apply and rollback.
 */
#include "cmd/sysctl.h"

int sysctl_cmd_audit(const struct td_global *g, const struct sysctl_args *a)
{
	(void)a;
	cmd_err(g, "audit: not yet");
	return TD_EXIT_FAIL;
}

int sysctl_cmd_recommend(const struct td_global *g, const struct sysctl_args *a)
{
	(void)a;
	cmd_err(g, "recommend: not yet");
	return TD_EXIT_FAIL;
}

int sysctl_cmd_apply(const struct td_global *g, const struct sysctl_args *a)
{
	(void)a;
	cmd_err(g, "apply: not yet");
	return TD_EXIT_FAIL;
}

int sysctl_cmd_rollback(const struct td_global *g, const struct sysctl_args *a)
{
	(void)a;
	cmd_err(g, "rollback: not yet");
	return TD_EXIT_FAIL;
}
