// SPDX-License-Identifier: MIT
/*
 * Writes the lab chart as hand-written SVG. Why no library: the chart is a few polylines, axes
 * and labels; SVG is plain text, and the plotting libraries that could do it (cairo, plplot,
 * gnuplot) would add a dependency heavier than this file for no gain in output.
 * Every panel shares the time axis and both value axes (sockets on the left, cumulative
 * failures on the right) so that heights compare across scenarios.
 */
#include "lab/chart.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lab/scenario.h"

#define COLS   3
#define PW     380 /* panel width, height */
#define PH     210
#define ML     52 /* plot margins inside a panel */
#define MR     52
#define MT     28
#define MB     30
#define TOP    40 /* legend band */
#define C_TWC  "#1f77b4"
#define C_TWS  "#ff7f0e"
#define C_CWS  "#2ca02c"
#define C_FAIL "#d62728"

/* (no libm: the build links none, and these two are all the chart needs) */
static double dmax(double a, double b)
{
	return a > b ? a : b;
}

static double ceil_sec_ms(double ms)
{
	unsigned long long s = (unsigned long long)(ms / 1000);

	return (double)(s * 1000 < ms ? s + 1 : s) * 1000;
}

struct axes {
	double tmax_ms, ymax, fmax;
};

/* The smallest 1, 2 or 5 times a power of ten that is >= v (and >= 1). */
static double nice_ceil(double v)
{
	double p = 1;

	if (v <= 1)
		return 1;
	while (p * 10 < v)
		p *= 10;
	return v <= p ? p : v <= 2 * p ? 2 * p : v <= 5 * p ? 5 * p : 10 * p;
}

static struct axes axes_of(const struct lab_result *res, size_t n)
{
	struct axes a = { 1000, 1, 1 };

	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < res[i].nsamples; k++) {
			const struct lab_sample *x = &res[i].samples[k];
			a.tmax_ms = dmax(a.tmax_ms, x->t_ms);
			a.ymax = dmax(a.ymax, dmax(dmax(x->tw[LAB_CLIENT], x->tw[LAB_SERVER]),
						   x->cw[LAB_SERVER]));
			a.fmax = dmax(a.fmax, (double)x->failures);
		}
	}
	a.tmax_ms = ceil_sec_ms(a.tmax_ms);
	a.ymax = nice_ceil(a.ymax);
	a.fmax = nice_ceil(a.fmax);
	return a;
}

enum series { S_TWC, S_TWS, S_CWS, S_FAIL };

static double value(const struct lab_sample *x, enum series s)
{
	switch (s) {
	case S_TWC:
		return x->tw[LAB_CLIENT];
	case S_TWS:
		return x->tw[LAB_SERVER];
	case S_CWS:
		return x->cw[LAB_SERVER];
	default:
		return (double)x->failures;
	}
}

static void polyline(FILE *f, const struct lab_result *r, const struct axes *a, enum series s,
		     const char *color, const char *extra)
{
	double w = PW - ML - MR, h = PH - MT - MB, top = s == S_FAIL ? a->fmax : a->ymax;

	fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" %s points=\"", color,
		extra);
	for (size_t k = 0; k < r->nsamples; k++) {
		const struct lab_sample *x = &r->samples[k];
		fprintf(f, "%.1f,%.1f ", ML + w * x->t_ms / a->tmax_ms,
			MT + h - h * value(x, s) / top);
	}
	fputs("\"/>\n", f);
}

static void panel_axes(FILE *f, const struct axes *a)
{
	double w = PW - ML - MR, h = PH - MT - MB;

	fprintf(f,
		"<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" fill=\"#fafafa\" "
		"stroke=\"#999\"/>\n",
		ML, MT, w, h);
	for (int k = 0; k <= 4; k++) {
		double y = MT + h - h * k / 4;
		fprintf(f,
			"<line x1=\"%d\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" "
			"stroke=\"#e4e4e4\"/>\n",
			ML, y, ML + w, y);
		fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>\n", ML - 4,
			y + 4, a->ymax * k / 4);
		fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" fill=\"" C_FAIL "\">%.0f</text>\n",
			ML + w + 4, y + 4, a->fmax * k / 4);
	}
	int secs = (int)(a->tmax_ms / 1000), step = secs > 10 ? (secs + 4) / 5 : 1;
	for (int t = 0; t <= secs; t += step)
		fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%d s</text>\n",
			ML + w * t * 1000 / a->tmax_ms, MT + h + 16, t);
}

static void panel(FILE *f, const struct lab_result *r, const struct axes *a, int x, int y)
{
	fprintf(f, "<g transform=\"translate(%d,%d)\">\n", x, y);
	fprintf(f, "<text x=\"%d\" y=\"18\" font-weight=\"bold\">%s</text>\n", ML, r->sc->name);
	fprintf(f, "<text x=\"%d\" y=\"18\" text-anchor=\"end\">%llu ok, %llu failed</text>\n",
		PW - MR, (unsigned long long)r->succeeded,
		(unsigned long long)(r->eaddrnotavail + r->eaddrinuse + r->other_errors));
	panel_axes(f, a);
	polyline(f, r, a, S_TWC, C_TWC, "");
	polyline(f, r, a, S_TWS, C_TWS, "");
	polyline(f, r, a, S_CWS, C_CWS, "stroke-dasharray=\"5,3\"");
	polyline(f, r, a, S_FAIL, C_FAIL, "stroke-dasharray=\"2,2\"");
	fputs("</g>\n", f);
}

static void legend(FILE *f)
{
	static const struct {
		const char *color, *label;
	} items[] = {
		{ C_TWC, "TIME_WAIT client" },
		{ C_TWS, "TIME_WAIT server" },
		{ C_CWS, "CLOSE_WAIT server" },
		{ C_FAIL, "client failures, cumulative (right axis)" },
	};
	int x = 10;

	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		fprintf(f, "<rect x=\"%d\" y=\"14\" width=\"14\" height=\"4\" fill=\"%s\"/>\n", x,
			items[i].color);
		fprintf(f, "<text x=\"%d\" y=\"20\">%s</text>\n", x + 18, items[i].label);
		x += 40 + 6 * (int)strlen(items[i].label);
	}
}

int lab_chart_write(FILE *f, const struct lab_result *res, size_t n)
{
	struct axes a = axes_of(res, n);
	int rows = (int)((n + COLS - 1) / COLS), width = COLS * PW, height = TOP + rows * PH;

	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">\n"
		"<title>tcpdoctor lab</title>\n<rect width=\"100%%\" height=\"100%%\" "
		"fill=\"white\"/>\n",
		width, height, width, height);
	legend(f);
	for (size_t i = 0; i < n; i++)
		panel(f, &res[i], &a, (int)(i % COLS) * PW, TOP + (int)(i / COLS) * PH);
	fputs("</svg>\n", f);
	return ferror(f) ? -EIO : 0;
}
