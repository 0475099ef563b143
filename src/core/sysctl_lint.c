// SPDX-License-Identifier: MIT
/*
 * sysctl lint (declared in sysctl.h): turns parsed entries into findings. A key is looked up in
 * the knowledge table and in /proc/sys of the calling thread's namespace, so that "unknown to
 * tcpdoctor but present" differs from "does not exist" (with a did-you-mean over the table and
 * /proc/sys/net); a present key is judged by params_judge(); duplicates name the line that wins,
 * which is the last one read, as in systemd-sysctl and sysctl -p.
 */
#include "core/sysctl.h"

#include <dirent.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"

#define SUGGEST_DIST  2
#define WALK_DEPTH    6
#define WALK_KEYS_MAX 20000

struct keylist {
	char **v;
	size_t n;
	bool built;
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

/* 1 exists, 0 does not, -1 unknown (no procroot, or an error other than ENOENT). */
static int key_exists(const char *procroot, const char *path)
{
	struct stat st;
	char *p;
	int r;

	if (!procroot)
		return -1;
	p = xasprintf("%s/%s", procroot, path);
	r = stat(p, &st) ? (errno == ENOENT || errno == ENOTDIR ? 0 : -1) : !S_ISDIR(st.st_mode);
	free(p);
	return r;
}

static void lint_unknown(struct td_sysctl_set *s, struct td_sysctl_entry *e, int exists,
			 const struct td_lint_opts *o, struct keylist *kl)
{
	const char *dym;

	if (exists == 1) {
		sysctl_finding_add(
			s, e->file, e->line, e->key, e->value, TD_SEV_INFO,
			"tcpdoctor judges only the keys it knows; this one exists here.", NULL,
			"not in tcpdoctor's knowledge table; the key exists on this kernel");
		return;
	}
	dym = suggest(e->key, o->procroot, kl);
	if (exists == -1) {
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
		dym ? "tcp-facts#sysctl-files" : NULL,
		"unknown key: it does not exist on this kernel%s%s%s%s",
		dym ? "; did you mean " : "", dym ? dym : "", dym ? "?" : "",
		e->ignore_errors ? " (ignored: the line starts with '-')" : "");
}

static void lint_known(struct td_sysctl_set *s, struct td_sysctl_entry *e, const char *value,
		       const struct td_param *p, int exists, const struct td_lint_opts *o)
{
	struct td_verdict v[PARAMS_VERDICTS_MAX];
	struct td_kenv env = *o->env;
	size_t n;

	if (exists == 0 && p->scope == TD_SCOPE_GLOBAL && o->child_ns) {
		sysctl_finding_add(
			s, e->file, e->line, e->key, e->value, TD_SEV_WARN,
			"Global keys exist only in the initial network namespace.",
			"tcp-facts#netns-scope",
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
				   sev != v[i].sev ? " (ignored: the line starts with '-')" : "");
	}
}

static void lint_entry(struct td_sysctl_set *s, struct td_sysctl_entry *e,
		       const struct td_lint_opts *o, struct keylist *kl)
{
	const struct td_param *p = params_find(e->key);
	int exists = key_exists(o->procroot, e->path);
	char *hash = strchr(e->value, '#');
	char *value = xstrdup(e->value);

	if (hash) {
		/* systemd and procps pass the rest of the line through; the kernel's integer
		 * parser stops at the blank, anything else gets the '#' as part of the value */
		sysctl_finding_add(
			s, e->file, e->line, e->key, e->value, TD_SEV_WARN,
			"Comments start only at the beginning of a line; the kernel receives "
			"the '#' and what follows as part of the value.",
			"systemd-sysctl, procps sysctl -p",
			"inline '#' is part of the value, not a comment");
		size_t l = (size_t)(hash - e->value);
		while (l && (value[l - 1] == ' ' || value[l - 1] == '\t'))
			l--;
		value[l] = '\0';
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
		lint_unknown(s, e, exists, o, kl);
	} else {
		lint_known(s, e, value, p, exists, o);
	}
	free(value);
}

static int cmp_eff(const void *a, const void *b)
{
	return strcmp(((const struct td_sysctl_effective *)a)->key,
		      ((const struct td_sysctl_effective *)b)->key);
}

/* Duplicates: the last line read wins. The effective list holds the winners. */
static void lint_duplicates(struct td_sysctl_set *s)
{
	free(s->eff);
	s->eff = xcalloc(s->nent ? s->nent : 1, sizeof(*s->eff));
	s->neff = 0;
	for (size_t i = 0; i < s->nent; i++) {
		struct td_sysctl_entry *e = &s->ent[i], *w = NULL;
		unsigned over = 0;
		/* a line the kernel refuses changes nothing: it neither wins nor overrides */
		if (e->bad)
			continue;
		for (size_t j = i + 1; j < s->nent; j++)
			if (!s->ent[j].bad && !strcmp(s->ent[j].key, e->key))
				w = &s->ent[j];
		if (w) {
			bool same = w->file == e->file;
			sysctl_finding_add(s, e->file, e->line, e->key, e->value,
					   same ? TD_SEV_NOTE : TD_SEV_INFO,
					   same ? "The same key twice in one file: only the last "
						  "line counts."
						: "Files are applied in order; the later one wins.",
					   NULL, "overridden by %s:%u, which sets '%s'",
					   s->files[w->file], w->line, w->value);
			continue;
		}
		for (size_t j = 0; j < i; j++)
			over += !s->ent[j].bad && !strcmp(s->ent[j].key, e->key);
		s->eff[s->neff++] = (struct td_sysctl_effective){
			.key = e->key,
			.value = e->value,
			.file = e->file,
			.line = e->line,
			.overridden = over,
		};
	}
	if (s->neff > 1)
		qsort(s->eff, s->neff, sizeof(*s->eff), cmp_eff);
}

int sysctl_lint(struct td_sysctl_set *s, const struct td_lint_opts *o)
{
	struct keylist kl = { 0 };

	for (size_t i = 0; i < s->nent; i++)
		lint_entry(s, &s->ent[i], o, &kl);
	lint_duplicates(s);
	sysctl_findings_sort(s);
	for (size_t i = 0; i < kl.n; i++)
		free(kl.v[i]);
	free(kl.v);
	return 0;
}
