/* SPDX-License-Identifier: MIT */
/*
 * Loads an nftables ruleset into one of the lab's namespaces with the nft program (nftables),
 * run in a child process that enters the namespace first, so the caller's namespace is never
 * touched. Call it while the calling process has no other threads (fork), with SIGPIPE ignored
 * (nft may exit before it read the ruleset).
 */
#ifndef TD_LAB_NFT_H
#define TD_LAB_NFT_H

#include <stddef.h>

/*
 * Runs `nft -f -` inside the namespace of ns_fd with ruleset on its standard input. Returns 0,
 * -ENOENT when no nft program was found (err says to install nftables), or -EINVAL/-errno with
 * the first line nft printed (or what failed) in err.
 */
int lab_nft_apply(int ns_fd, const char *ruleset, char *err, size_t errlen);

#endif
