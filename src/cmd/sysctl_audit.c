// SPDX-License-Identifier: MIT
/*
 * `tcpdoctor sysctl` (audit) and `sysctl recommend`.
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
