// SPDX-License-Identifier: MIT
/*
 * sysctl lint (declared in sysctl.h): turns parsed entries into findings. A key is looked up in
 * the knowledge table and in /proc/sys of the calling thread's namespace, so that "unknown to
 * tcpdoctor but present" differs from "does not exist" (with a did-you-mean over the table and
 * /proc/sys/net) and from "read-only here"; a present key is judged by params_judge(); an inline
 * '#' is judged as the kernel treats it for that key; duplicates name the line that wins, which
 * is the last one read, as in systemd-sysctl and sysctl -p. Lines are grouped by key in a hash
 * table first, so that everything after is linear in the number of lines (a 15 MB file of one
 * key repeated must not take minutes) and each distinct key is stat()ed and spell-checked once.
 */
#include "core/sysctl/sysctl.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/hashmap.h"
#include "core/sysctl/sysctl_cross.h"
#include "core/util.h"

#define SUGGEST_DIST	 2
#define WALK_DEPTH	 6
#define WALK_KEYS_MAX	 20000
#define GROUP_LIST_KEYS	 6 /* keys named in a grouped "not in the table" line */
#define EXISTS_UNCHECKED (-2)
#define IGNORED_SUFFIX	 " (ignored: the line starts with '-')"
#define REF_SYSCTL_FILES "tcp-facts#sysctl-files"
#define REF_NETNS_SCOPE	 "tcp-facts#netns-scope"

struct keylist {
	char **v;
	size_t n;
	bool built;
};

/* Every line setting one key. */
struct key_group {
	const char *key; /* borrowed from the first entry */
	const char *path;
	const struct td_param *param;
	const char *dym; /* did-you-mean, borrowed from the table or the keylist */
	size_t last;	 /* the last line that can apply */
	unsigned good;	 /* how many lines can apply */
	uint32_t next;	 /* next group with the same hash, + 1 (0: none) */
	unsigned listed; /* file + 1 it was last named for in a grouped line */
	int exists;	 /* key_exists(), EXISTS_UNCHECKED until asked */
	bool readonly, dym_done;
};

/* An entry whose key exists but is not in the table: reported per file unless verbose. */
struct unknown_line {
	size_t ent;
	unsigned file;
	uint32_t group;
};

struct lint_ctx {
	struct td_sysctl_set *s;
	const struct td_lint_opts *o;
	struct keylist kl;
	struct td_hashmap *map; /* hash of the key -> first group + 1 */
	struct key_group *g;
	size_t ng;
	uint32_t *grp; /* group of each entry */
	/* lines that set nothing here but are not e->bad: e->bad tells apply to leave a line out
	 * silently, so only errors and '-' lines may carry it; a global or read-only key must still
	 * reach apply's own refusal, yet is no effective value */
	bool *noeff;
	struct unknown_line *unk;
	size_t nunk;
};

/* Collects dotted keys under procroot/net. Interfaces repeat the same names under conf/ and
 * neigh/, so only "all" and "default" are walked there. */
static void walk(const char *dirpath, const char *dotted, int depth, bool in_ifdir,
		 struct keylist *kl)
{
	DIR *d;
	struct dirent *de;

	if (depth > WALK_DEPTH || !(d = opendir(dirpath)))
		return;
	while ((de = readdir(d)) && kl->n < WALK_KEYS_MAX) {
		if (de->d_name[0] == '.')
			continue;
		if (in_ifdir && strcmp(de->d_name, "all") && strcmp(de->d_name, "default"))
			continue;
		char *p = xasprintf("%s/%s", dirpath, de->d_name);
		char *k = xasprintf("%s.%s", dotted, de->d_name);
		struct stat st;
		if (!stat(p, &st) && S_ISDIR(st.st_mode)) {
			bool ifdir = !strcmp(de->d_name, "conf") || !strcmp(de->d_name, "neigh");
			walk(p, k, depth + 1, ifdir, kl);
			free(k);
		} else {
			kl->v = xrealloc(kl->v, (kl->n + 1) * sizeof(*kl->v));
			kl->v[kl->n++] = k;
		}
		free(p);
	}
	closedir(d);
}

static const char *suggest(const char *key, const char *procroot, struct keylist *kl)
{
	unsigned d, best;
	const struct td_param *p = params_suggest(key, SUGGEST_DIST, &best);
	const char *s = p ? p->key : NULL;

	if (!procroot)
		return s;
	if (!kl->built) {
		char *net = xasprintf("%s/net", procroot);
		walk(net, "net", 1, false, kl);
		free(net);
		kl->built = true;
	}
	for (size_t i = 0; i < kl->n; i++) {
		d = params_edit_distance(key, kl->v[i], SUGGEST_DIST);
		if (d < best && d > 0) {
			best = d;
			s = kl->v[i];
		}
	}
	return s;
}

/* 1 exists, 0 does not, -1 unknown (no procroot, or an error other than ENOENT). *ro tells
 * whether the file has no write permission at all (global keys in a child namespace, 0444). */
static int key_exists(const char *procroot, const char *path, bool *ro)
{
	struct stat st;
	char *p;
	int r;

	*ro = false;
	if (!procroot)
		return -1;
	p = xasprintf("%s/%s", procroot, path);
	r = stat(p, &st) ? (errno == ENOENT || errno == ENOTDIR ? 0 : -1) : !S_ISDIR(st.st_mode);
	if (r == 1)
		*ro = !(st.st_mode & 0222);
	free(p);
	return r;
}

/* The group of key, created on first sight. */
static uint32_t group_of(struct lint_ctx *c, const struct td_sysctl_entry *e)
{
	uint64_t h = hashmap_hash_bytes(e->key, strlen(e->key));
	uint32_t *head = hashmap_put(c->map, &h, NULL);

	for (uint32_t i = *head; i; i = c->g[i - 1].next)
		if (!strcmp(c->g[i - 1].key, e->key))
			return i - 1;
	/* at most one group per entry: c->g was sized for all of them */
	c->g[c->ng] = (struct key_group){ .key = e->key,
					  .path = e->path,
					  .param = params_find(e->key),
					  .next = *head,
					  .exists = EXISTS_UNCHECKED };
	*head = (uint32_t)++c->ng;
	return *head - 1;
}

static struct key_group *group_checked(struct lint_ctx *c, size_t i)
{
	struct key_group *g = &c->g[c->grp[i]];

	if (g->exists == EXISTS_UNCHECKED)
		g->exists = key_exists(c->o->procroot, g->path, &g->readonly);
	return g;
}

static const char *group_dym(struct lint_ctx *c, struct key_group *g)
{
	if (!g->dym_done) {
		g->dym = suggest(g->key, c->o->procroot, &c->kl);
		g->dym_done = true;
	}
	return g->dym;
}

static void add_unknown_info(struct td_sysctl_set *s, const struct td_sysctl_entry *e)
{
	sysctl_finding_add(s, e->file, e->line, e->key, e->value, TD_SEV_INFO,
			   "tcpdoctor judges only the keys it knows; this one exists here.", NULL,
			   "not in tcpdoctor's knowledge table; the key exists on this kernel");
}

static void lint_unknown(struct lint_ctx *c, size_t i, struct key_group *g)
{
	struct td_sysctl_set *s = c->s;
	struct td_sysctl_entry *e = &s->ent[i];
	const char *dym;

	if (g->exists == 1) {
		if (c->o->verbose)
			add_unknown_info(s, e);
		else
			c->unk[c->nunk++] = (struct unknown_line){ i, e->file, c->grp[i] };
		return;
	}
	dym = group_dym(c, g);
	if (g->exists == -1) {
		if (dym)
			sysctl_finding_add(
				s, e->file, e->line, e->key, e->value, TD_SEV_WARN, NULL, NULL,
				"not in tcpdoctor's knowledge table; did you mean %s?", dym);
		return;
	}
	e->bad = true; /* even when ignored: the key cannot be set */
	sysctl_finding_add(
		s, e->file, e->line, e->key, e->value,
		e->ignore_errors ? TD_SEV_WARN : TD_SEV_ERROR,
		"The intended setting never applies: sysctl -p fails on the line, systemd-sysctl "
		"logs and skips it.",
		dym ? REF_SYSCTL_FILES : NULL,
		"unknown key: it does not exist on this kernel%s%s%s%s",
		dym ? "; did you mean " : "", dym ? dym : "", dym ? "?" : "",
		e->ignore_errors ? IGNORED_SUFFIX : "");
}

/* A key whose file has no write permission: no line can set it here. A warning, not an error:
 * apply refuses the line with its own error, and lint must not mark it bad (apply would then
 * leave it out silently). */
static void lint_readonly(struct lint_ctx *c, size_t i, const struct td_param *p)
{
	struct td_sysctl_entry *e = &c->s->ent[i];

	c->noeff[i] = true;
	if (p && p->scope == TD_SCOPE_GLOBAL) {
		sysctl_finding_add(c->s, e->file, e->line, e->key, e->value, TD_SEV_WARN,
				   "A global key is one value for the whole host; a child network "
				   "namespace shows the host's value read-only.",
				   REF_NETNS_SCOPE,
				   "global key: read-only in this network namespace; set it on the "
				   "host");
		return;
	}
	sysctl_finding_add(c->s, e->file, e->line, e->key, e->value, TD_SEV_WARN,
			   "The file has no write permission here: every write fails.", NULL,
			   "read-only key: the kernel refuses the write%s",
			   e->ignore_errors ? IGNORED_SUFFIX : "");
}

static void lint_known(struct lint_ctx *c, size_t idx, const char *value, const struct td_param *p,
		       int exists)
{
	struct td_sysctl_entry *e = &c->s->ent[idx];
	struct td_sysctl_set *s = c->s;
	struct td_verdict v[PARAMS_VERDICTS_MAX];
	struct td_kenv env = *c->o->env;
	size_t n;

	if (exists == 0 && p->scope == TD_SCOPE_GLOBAL && c->o->child_ns) {
		c->noeff[idx] = true; /* not in this namespace: no line here sets it */
		sysctl_finding_add(
			s, e->file, e->line, e->key, e->value, TD_SEV_WARN,
			"Global keys exist only in the initial network namespace.", REF_NETNS_SCOPE,
			"global key: not visible in this network namespace; set it on the host");
		return;
	}
	if (exists == 1)
		env.kver = 0; /* the kernel has it, whatever the table's versions say */
	params_judge(p, &env, value, v, &n);
	if (exists == 0 && v[0].sev != TD_SEV_ERROR) {
		e->bad = true; /* even when ignored: the key cannot be set */
		sysctl_finding_add(s, e->file, e->line, e->key, e->value,
				   e->ignore_errors ? TD_SEV_WARN : TD_SEV_ERROR, p->history,
				   p->ref, "the key does not exist on this kernel");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		enum td_sev sev = v[i].sev;
		if (sev == TD_SEV_OK)
			continue;
		if (sev == TD_SEV_ERROR)
			e->bad = true;
		if (sev == TD_SEV_ERROR && e->ignore_errors && exists == 0)
			sev = TD_SEV_WARN;
		char ver[48] = "";
		if (v[i].kv)
			snprintf(ver, sizeof(ver), " %u.%u: the key does not exist here",
				 v[i].kv / 1000, v[i].kv % 1000);
		sysctl_finding_add(s, e->file, e->line, e->key, e->value, sev, v[i].reason,
				   v[i].ref, "%s%s%s", v[i].message, ver,
				   sev != v[i].sev ? IGNORED_SUFFIX : "");
	}
}

static void hash_rejected(struct td_sysctl_set *s, struct td_sysctl_entry *e, const char *why,
			  const char *what)
{
	e->bad = true;
	sysctl_finding_add(s, e->file, e->line, e->key, e->value,
			   e->ignore_errors ? TD_SEV_WARN : TD_SEV_ERROR, why, REF_SYSCTL_FILES,
			   "inline '#' is part of the value: the kernel rejects the write (%s)%s",
			   what, e->ignore_errors ? IGNORED_SUFFIX : "");
}

/*
 * An inline '#': procps and systemd-sysctl hand "1 # text" to the kernel. Integer and vector
 * keys keep the numbers when a blank separates them from the '#'; names and port lists take the
 * whole text and are refused (tcp-facts#sysctl-files, measured on 6.18 in a fresh namespace).
 * Cuts value (a copy of e->value) to what the kernel keeps. Returns false when the line cannot
 * apply (the finding is added).
 */
static bool lint_hash(struct td_sysctl_set *s, struct td_sysctl_entry *e, const struct td_param *p,
		      char *value)
{
	char *hash = strchr(value, '#');
	const char *why;
	int64_t vals[3];
	size_t l, nvals;
	bool glued;

	if (!hash)
		return true;
	l = (size_t)(hash - value);
	glued = l && value[l - 1] != ' ' && value[l - 1] != '\t';
	while (l && (value[l - 1] == ' ' || value[l - 1] == '\t'))
		l--;
	value[l] = '\0';
	if (!p) {
		sysctl_finding_add(s, e->file, e->line, e->key, e->value, TD_SEV_WARN,
				   "Comments start only at the beginning of a line; the kernel "
				   "receives the '#' and what follows.",
				   REF_SYSCTL_FILES,
				   "inline '#' is part of the value: an integer key keeps the "
				   "number before it, a string or list key rejects the write");
		return true;
	}
	if (p->shape == TD_SHAPE_STRING || p->shape == TD_SHAPE_PORTLIST) {
		hash_rejected(s, e,
			      "Comments start only at the beginning of a line: the kernel gets the "
			      "whole text, '#' included, and refuses it as a name or a port list.",
			      p->shape == TD_SHAPE_STRING ? "ENOENT: no such name" : "EINVAL");
		return false;
	}
	if (!l || glued || params_parse_value(p, value, vals, &nvals, &why)) {
		hash_rejected(
			s, e,
			glued ? "The kernel reads a number up to a blank; a '#' right after a "
				"digit makes the write fail."
			      : "Comments start only at the beginning of a line: the kernel "
				"needs every number of the value before the '#'.",
			"EINVAL");
		return false;
	}
	sysctl_finding_add(
		s, e->file, e->line, e->key, e->value, TD_SEV_WARN,
		"Comments start only at the beginning of a line; for an integer key the "
		"kernel stops after the numbers it needs, so this works by accident: a "
		"comment without the blank, or on a string key, fails.",
		REF_SYSCTL_FILES,
		"inline '#' is not a comment: the kernel keeps '%s' and ignores the rest", value);
	return true;
}

static void lint_entry(struct lint_ctx *c, size_t i)
{
	struct td_sysctl_set *s = c->s;
	struct td_sysctl_entry *e = &s->ent[i];
	struct key_group *g = group_checked(c, i);
	const struct td_param *p = g->param;
	char *value;

	if (g->exists == 1 && g->readonly) {
		lint_readonly(c, i, p);
		return;
	}
	value = xstrdup(e->value);
	if (!lint_hash(s, e, p, value)) {
		free(value);
		return;
	}
	/* An empty value is written as an empty line: it clears a list (ip_local_reserved_ports
	 * is empty by default, so backups hold it), the kernel rejects it for a number. */
	if (!*value && p && p->shape != TD_SHAPE_PORTLIST) {
		e->bad = true;
		sysctl_finding_add(
			s, e->file, e->line, e->key, e->value, TD_SEV_ERROR,
			"Only a list can be empty; the kernel rejects an empty number or "
			"word.",
			NULL, "empty value");
	} else if (!p) {
		if (!*value)
			sysctl_finding_add(s, e->file, e->line, e->key, e->value, TD_SEV_WARN,
					   "Written as an empty line: the kernel clears a list, "
					   "rejects an empty number or word.",
					   NULL, "empty value");
		lint_unknown(c, i, g);
	} else {
		lint_known(c, i, value, p, g->exists);
	}
	free(value);
}

/* The "not in the table" lines of one file as one finding (two or more lines). */
static void report_unknown_run(struct lint_ctx *c, size_t a, size_t b)
{
	struct td_sysctl_set *s = c->s;
	char *list = xstrdup("");
	size_t keys = 0;
	unsigned file = c->unk[a].file;

	for (size_t i = a; i < b; i++) {
		struct key_group *g = &c->g[c->unk[i].group];
		if (g->listed == file + 1)
			continue;
		g->listed = file + 1;
		if (keys++ < GROUP_LIST_KEYS) {
			char *t = xasprintf("%s%s%s", list, *list ? ", " : "", g->key);
			free(list);
			list = t;
		}
	}
	sysctl_finding_add(s, file, s->ent[c->unk[a].ent].line, NULL, NULL, TD_SEV_INFO,
			   "tcpdoctor judges only the keys it knows; these exist here. -v lists "
			   "each line.",
			   NULL,
			   "%zu line%s with %zu key%s not in tcpdoctor's knowledge table: %s%s",
			   b - a, b - a > 1 ? "s" : "", keys, keys > 1 ? "s" : "", list,
			   keys > GROUP_LIST_KEYS ? ", ..." : "");
	free(list);
}

static void report_unknown(struct lint_ctx *c)
{
	for (size_t a = 0, b; a < c->nunk; a = b) {
		for (b = a + 1; b < c->nunk && c->unk[b].file == c->unk[a].file; b++)
			;
		if (b - a == 1)
			add_unknown_info(c->s, &c->s->ent[c->unk[a].ent]);
		else
			report_unknown_run(c, a, b);
	}
}

static int cmp_eff(const void *a, const void *b)
{
	return strcmp(((const struct td_sysctl_effective *)a)->key,
		      ((const struct td_sysctl_effective *)b)->key);
}

/* Duplicates: the last line read wins. The effective list holds the winners. Linear: the
 * groups know their last line and how many lines can apply. */
static void lint_duplicates(struct lint_ctx *c)
{
	struct td_sysctl_set *s = c->s;

	free(s->eff);
	s->eff = xcalloc(s->nent ? s->nent : 1, sizeof(*s->eff));
	s->neff = 0;
	for (size_t i = 0; i < s->nent; i++) {
		struct key_group *g = &c->g[c->grp[i]];
		/* a line the kernel refuses changes nothing: it neither wins nor overrides */
		if (!s->ent[i].bad && !c->noeff[i]) {
			g->last = i;
			g->good++;
		}
	}
	for (size_t i = 0; i < s->nent; i++) {
		struct td_sysctl_entry *e = &s->ent[i];
		struct key_group *g = &c->g[c->grp[i]];
		if (e->bad || c->noeff[i])
			continue;
		if (g->last != i) {
			struct td_sysctl_entry *w = &s->ent[g->last];
			bool same = w->file == e->file;
			sysctl_finding_add(
				s, e->file, e->line, e->key, e->value,
				same ? TD_SEV_NOTE : TD_SEV_INFO,
				same ? "The same key twice in one file: only the last line counts."
				     : "Files are applied in order; the later one wins.",
				NULL, "overridden by %s:%u, which sets '%s'", s->files[w->file],
				w->line, w->value);
			continue;
		}
		s->eff[s->neff++] = (struct td_sysctl_effective){
			.key = e->key,
			.value = e->value,
			.file = e->file,
			.line = e->line,
			.overridden = g->good - 1,
		};
	}
	if (s->neff > 1)
		qsort(s->eff, s->neff, sizeof(*s->eff), cmp_eff);
}

/* The leading integer of an effective value ("1 # x" gives 1), or -1. */
static int64_t eff_num(const struct td_sysctl_set *s, const char *key)
{
	char tok[24];
	int64_t v;

	for (size_t i = 0; i < s->neff; i++) {
		const char *x = s->eff[i].value;
		size_t l;
		if (strcmp(s->eff[i].key, key))
			continue;
		x += strspn(x, " \t");
		l = strcspn(x, " \t#");
		if (!l || l >= sizeof(tok))
			return -1;
		memcpy(tok, x, l);
		tok[l] = '\0';
		return util_parse_i64(tok, 0, INT64_MAX, &v) ? -1 : v;
	}
	return -1;
}

/* A conntrack limit above the hash size it will be spread over: each entry is hashed in both
 * directions, so a full table has chains of 2 x max / buckets (nf_conntrack-sysctl.rst). The
 * buckets are the files' value, else this kernel's. */
static void lint_ct_buckets(struct lint_ctx *c)
{
	static const char *const maxkeys[] = { "net.netfilter.nf_conntrack_max",
					       "net.nf_conntrack_max" };
	struct td_sysctl_set *s = c->s;
	int64_t b = eff_num(s, "net.netfilter.nf_conntrack_buckets");
	char buf[32];

	if (b < 0 && c->o->procroot &&
	    !sysctl_read(c->o->procroot, "net/netfilter/nf_conntrack_buckets", buf, sizeof(buf)) &&
	    util_parse_i64(buf, 1, INT64_MAX, &b))
		b = -1;
	for (size_t k = 0; b > 0 && k < TD_ARRAY_SIZE(maxkeys); k++) {
		int64_t m = eff_num(s, maxkeys[k]);
		for (size_t i = 0; m > b && i < s->neff; i++) {
			const struct td_sysctl_effective *e = &s->eff[i];
			if (strcmp(e->key, maxkeys[k]))
				continue;
			sysctl_finding_add(
				s, e->file, e->line, e->key, e->value, TD_SEV_NOTE,
				"Each entry is hashed in both directions; raising the "
				"limit without nf_conntrack_buckets makes every lookup walk longer "
				"chains, and each entry costs about 256 bytes of kernel memory "
				"(nf_conntrack slab, 6.18).",
				"tcp-facts#conntrack-sysctl",
				"raised without nf_conntrack_buckets (%" PRId64
				"): chains of %.1f entries on average when full",
				b, 2.0 * (double)m / (double)b);
		}
	}
}

int sysctl_lint(struct td_sysctl_set *s, const struct td_lint_opts *o)
{
	struct lint_ctx c = { .s = s, .o = o };

	c.map = hashmap_new(sizeof(uint64_t), sizeof(uint32_t));
	c.g = xcalloc(s->nent ? s->nent : 1, sizeof(*c.g));
	c.grp = xcalloc(s->nent ? s->nent : 1, sizeof(*c.grp));
	c.noeff = xcalloc(s->nent ? s->nent : 1, sizeof(*c.noeff));
	c.unk = xcalloc(s->nent ? s->nent : 1, sizeof(*c.unk));
	for (size_t i = 0; i < s->nent; i++)
		c.grp[i] = group_of(&c, &s->ent[i]);
	for (size_t i = 0; i < s->nent; i++)
		lint_entry(&c, i);
	report_unknown(&c);
	lint_duplicates(&c);
	lint_ct_buckets(&c);
	sysctl_cross_lint(s);
	sysctl_findings_sort(s);
	for (size_t i = 0; i < c.kl.n; i++)
		free(c.kl.v[i]);
	free(c.kl.v);
	free(c.unk);
	free(c.grp);
	free(c.noeff);
	free(c.g);
	hashmap_free(c.map);
	return 0;
}
