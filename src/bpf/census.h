/* SPDX-License-Identifier: MIT */
/*
 * What the census iterator (census.bpf.c) leaves in its global data for user space
 * (core/source/census_bpf.c): TCP sockets of one network namespace counted by family and by the state
 * inet_diag would report (a TIME_WAIT socket's substate, SYN_RECV for request sockets).
 */
#ifndef TD_BPF_CENSUS_H
#define TD_BPF_CENSUS_H

#define TD_CENSUS_STATES 16 /* kernel TCP states 0..15; unknown values count in 0 */

#endif
