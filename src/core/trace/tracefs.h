/* SPDX-License-Identifier: MIT */
/*
 * Trace event ids from tracefs (tracefs.c), mounted or not. Never prints. Thread-safe (it may
 * fork a child that mounts tracefs in a private mount namespace; needs CAP_SYS_ADMIN for that).
 */
#ifndef TD_TRACEFS_H
#define TD_TRACEFS_H

#include <stddef.h>

/* ids[i] gets the id of the event names[i] ("syscalls/sys_exit_connect"). Returns 0, or -errno:
 * -ENOENT when an event does not exist, -EPERM when tracefs could not be mounted. */
int tracefs_event_ids(const char *const names[], int ids[], size_t n);

#endif
