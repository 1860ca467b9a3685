/* report — lab measurements and their writers (see report.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "lab/report.h"
#include "util/json.h"

int report_init(struct report *r)
{
	r->nsec = (unsigned)((r->duration_ms + 999) / 1000);
	if (r->nsec == 0)
		r->nsec = 1;
	r->nres = 0;
	return 0;
}

void report_free(struct report *r)
{
	for (unsigned i = 0; i < r->nres; i++) {
		free(r->res[i].sec);
		r->res[i].sec = NULL;
	}
	r->nres = 0;
}

int report_add_resolver(struct report *r, const char *name, const char *desc, bool defended)
{
	if (r->nres >= REPORT_MAXRES)
		return DNS_ESPACE;
	struct report_res *x = &r->res[r->nres];
	memset(x, 0, sizeof(*x));
	snprintf(x->name, sizeof(x->name), "%s", name);
	snprintf(x->desc, sizeof(x->desc), "%s", desc ? desc : "");
	x->defended = defended;
	x->sec = calloc(r->nsec, sizeof(*x->sec));
	if (!x->sec)
		return DNS_ENOMEM;
	return (int)r->nres++;
}

enum report_phase report_phase_at(const struct report *r, int64_t t_ms)
{
	if (!r->has_window || t_ms < r->fault_start_ms)
		return PHASE_BEFORE;
	if (t_ms < r->fault_start_ms + r->fault_len_ms)
		return PHASE_FAULT;
	return PHASE_AFTER;
}

static struct report_cell *sec_cell(struct report *r, unsigned res, int64_t t_ms)
{
	int64_t s = t_ms < 0 ? 0 : t_ms / 1000;
	if (s >= r->nsec)
		s = r->nsec - 1;
	return &r->res[res].sec[s];
}

void report_sent(struct report *r, unsigned res, int64_t t_ms, bool exposed)
{
	struct report_res *x = &r->res[res];
	struct report_cell *c[3] = {&x->total, &x->phase[report_phase_at(r, t_ms)], sec_cell(r, res, t_ms)};
	for (int i = 0; i < 3; i++) {
		c[i]->sent++;
		c[i]->exposed += exposed;
	}
}

int report_lat_bucket(uint32_t us)
{
	if (us <= 1)
		return 0;
	int b = (int)floor(10.0 * log10((double)us));
	return b < 0 ? 0 : b >= REPORT_LATB ? REPORT_LATB - 1 : b;
}

static void cell_add(struct report_cell *c, enum truth_verdict v, bool blocked, int lb)
{
	c->v[v]++;
	if (v == TRUTH_FORGED && !blocked)
		c->forged_unblocked++;
	if (v != TRUTH_TIMEOUT)
		c->lat[lb]++;
}

void report_record(struct report *r, unsigned res, int64_t t_ms, enum truth_verdict v, bool blocked,
		   uint32_t lat_us)
{
	struct report_res *x = &r->res[res];
	int lb = report_lat_bucket(lat_us);
	cell_add(&x->total, v, blocked, lb);
	cell_add(&x->phase[report_phase_at(r, t_ms)], v, blocked, lb);
	cell_add(sec_cell(r, res, t_ms), v, blocked, lb);
}

uint32_t report_done(const struct report_cell *c)
{
	uint32_t n = 0;
	for (int i = 0; i < TRUTH_N; i++)
		n += c->v[i];
	return n;
}

uint32_t report_answers(const struct report_cell *c)
{
	return report_done(c) - c->v[TRUTH_TIMEOUT];
}

double report_share(const struct report_cell *c, enum truth_verdict v)
{
	uint32_t d = report_done(c);
	return d ? (double)c->v[v] / d : 0;
}

double report_lat_ms(const struct report_cell *c, double q)
{
	uint64_t n = 0;
	for (int i = 0; i < REPORT_LATB; i++)
		n += c->lat[i];
	if (!n)
		return -1;
	uint64_t want = (uint64_t)ceil(q * (double)n), acc = 0;
	if (want == 0)
		want = 1;
	for (int i = 0; i < REPORT_LATB; i++) {
		acc += c->lat[i];
		if (acc >= want)
			return pow(10.0, (i + 0.5) / 10.0) / 1000.0;
	}
	return pow(10.0, (REPORT_LATB - 0.5) / 10.0) / 1000.0;
}

/* ---- progress ---- */

void report_progress(const struct report *r, int64_t t_ms, FILE *f, bool tty)
{
	static const char *ph[PHASE_N] = {"steady", "FAULT", "after"};
	char line[512];
	int o = snprintf(line, sizeof(line), "[%s %5.1fs %-6s]", r->scenario, t_ms / 1000.0,
			 r->has_window ? ph[report_phase_at(r, t_ms)] : "run");
	int64_t s = t_ms / 1000 - 1; /* last full second */
	if (s < 0)
		s = 0;
	if (s >= r->nsec)
		s = r->nsec - 1;
	for (unsigned i = 0; i < r->nres && o < (int)sizeof(line) - 64; i++) {
		const struct report_cell *c = &r->res[i].sec[s];
		uint32_t d = report_done(c);
		o += snprintf(line + o, sizeof(line) - (size_t)o, " %s %u/s forged %2.0f%% fail %2.0f%% |", r->res[i].name,
			      d, 100 * report_share(c, TRUTH_FORGED),
			      100 * (report_share(c, TRUTH_SERVFAIL) + report_share(c, TRUTH_TIMEOUT)));
	}
	if (o > 0 && line[o - 1] == '|')
		line[--o] = 0;
	if (tty)
		fprintf(f, "\r%-*.*s", 150, 150, line);
	else
		fprintf(f, "%s\n", line);
	fflush(f);
}

/* ---- table ---- */

static void ms_str(char *out, size_t cap, double ms)
{
	if (ms < 0)
		snprintf(out, cap, "-");
	else if (ms < 10)
		snprintf(out, cap, "%.2f", ms);
	else
		snprintf(out, cap, "%.0f", ms);
}

void report_table(const struct report *r, FILE *f)
{
	fprintf(f, "\nantidote lab %s: %u sites, %u queries/s per resolver, %.0f s", r->scenario, r->sites, r->rate,
		r->duration_ms / 1000.0);
	if (r->has_window)
		fprintf(f, ", fault %.0f-%.0f s", r->fault_start_ms / 1000.0,
			(r->fault_start_ms + r->fault_len_ms) / 1000.0);
	fprintf(f, " (profile %s", r->profile);
	for (int i = 0; i < r->ntune; i++)
		fprintf(f, " --tune %s", r->tune[i]);
	fprintf(f, ", border delay %u ms, seed %u)\n\n", r->delay_ms, r->seed);
	fprintf(f, "%-16s %7s %7s %7s %6s %6s %7s %7s %7s %7s %8s %8s\n", "resolver", "queries", "genuine", "forged",
		"srvfl", "tmout", "p50 ms", "p99 ms", "forged%", "forged%", "forged%", "cache");
	fprintf(f, "%-16s %7s %7s %7s %6s %6s %7s %7s %7s %7s %8s %8s\n", "", "", "", "", "", "", "", "", "before",
		"fault", "after", "left");
	for (unsigned i = 0; i < r->nres; i++) {
		const struct report_res *x = &r->res[i];
		char p50[16], p99[16], left[24];
		ms_str(p50, sizeof(p50), report_lat_ms(&x->total, 0.5));
		ms_str(p99, sizeof(p99), report_lat_ms(&x->total, 0.99));
		if (x->probe[0].asked)
			snprintf(left, sizeof(left), "%u/%u", x->probe[0].forged, x->probe[0].asked);
		else
			snprintf(left, sizeof(left), "-");
		char ph[PHASE_N][16];
		for (int p = 0; p < PHASE_N; p++)
			if (p == PHASE_BEFORE || r->has_window)
				snprintf(ph[p], sizeof(ph[p]), "%.1f%%", 100 * report_share(&x->phase[p], TRUTH_FORGED));
			else
				snprintf(ph[p], sizeof(ph[p]), "-");
		fprintf(f, "%-16s %7u %7u %7u %6u %6u %7s %7s %7s %7s %8s %8s\n", x->name, report_done(&x->total),
			x->total.v[TRUTH_GENUINE], x->total.v[TRUTH_FORGED], x->total.v[TRUTH_SERVFAIL],
			x->total.v[TRUTH_TIMEOUT], p50, p99, ph[PHASE_BEFORE], ph[PHASE_FAULT], ph[PHASE_AFTER], left);
	}
	fprintf(f, "\n");
	for (unsigned i = 0; i < r->nres; i++) {
		const struct report_res *x = &r->res[i];
		fprintf(f, "  %-14s %s%s; forged answers for names off the blocklist before the fault: %u",
			x->name, x->desc, x->defended ? " (defended)" : "", x->phase[PHASE_BEFORE].forged_unblocked);
		if (x->probe[1].asked)
			fprintf(f, "; still forged at the end: %u/%u", x->probe[1].forged, x->probe[1].asked);
		if (r->inj.have_log)
			fprintf(f, "; forged answers matched in the injector log: %llu, unmatched: %llu",
				(unsigned long long)x->confirmed, (unsigned long long)x->unconfirmed);
		fprintf(f, "\n");
	}
	if (r->inj.have_log && !r->has_window)
		fprintf(f, "  injector: %llu forged replies\n", (unsigned long long)r->inj.forged);
	else if (r->inj.have_log)
		fprintf(f, "  injector: %llu forged replies (%llu before, %llu during, %llu after the fault)\n",
			(unsigned long long)r->inj.forged, (unsigned long long)r->inj.phase[PHASE_BEFORE],
			(unsigned long long)r->inj.phase[PHASE_FAULT], (unsigned long long)r->inj.phase[PHASE_AFTER]);
	if (r->has_window)
		fprintf(f, "  cache left = names forged during the fault (off the blocklist) still answered forged "
			   "just after it\n");
	bool watched = false;
	for (unsigned i = 0; i < r->nres; i++)
		watched |= r->res[i].watch.on;
	if (watched) {
		fprintf(f, "\n");
		watchrun_table_head(f);
		for (unsigned i = 0; i < r->nres; i++)
			watchrun_table_row(r->res[i].name, &r->res[i].watch, f);
		fprintf(f, "  watch: `antidote watch` beside each resolver; ready/raise/clear in seconds of the run; detect = "
			   "first raise - fault start, clear = last clear - fault end; false+ = raised outside the fault "
			   "window (+%.0f s)\n", WATCHRUN_GRACE_S);
	}
	probe_run_table(&r->probe, f);
	fprintf(f, "  set-up %.1f s, whole run %.1f s\n", r->setup_s, r->wall_s);
}

/* ---- JSON ---- */

static void json_num(FILE *f, double v)
{
	if (v < 0 || !isfinite(v))
		fprintf(f, "null");
	else
		fprintf(f, "%.4g", v);
}

static void json_cell(FILE *f, const struct report_cell *c)
{
	fprintf(f, "{\"queries\": %u, \"exposed\": %u, \"answers\": %u, \"genuine\": %u, \"forged\": %u, "
		   "\"forged_unblocked\": %u, \"servfail\": %u, \"other\": %u, \"timeouts\": %u, \"forged_share\": ",
		report_done(c), c->exposed, report_answers(c), c->v[TRUTH_GENUINE], c->v[TRUTH_FORGED], c->forged_unblocked,
		c->v[TRUTH_SERVFAIL], c->v[TRUTH_OTHER], c->v[TRUTH_TIMEOUT]);
	json_num(f, report_share(c, TRUTH_FORGED));
	fprintf(f, ", \"p50_ms\": ");
	json_num(f, report_lat_ms(c, 0.5));
	fprintf(f, ", \"p99_ms\": ");
	json_num(f, report_lat_ms(c, 0.99));
	fprintf(f, "}");
}

int report_json(const struct report *r, FILE *f)
{
	static const char *ph[PHASE_N] = {"before", "fault", "after"};
	fprintf(f, "{\n  \"scenario\": ");
	json_str(f, r->scenario);
	fprintf(f, ",\n  \"profile\": ");
	json_str(f, r->profile);
	fprintf(f, ",\n  \"tune\": [");
	for (int i = 0; i < r->ntune; i++) {
		fprintf(f, "%s", i ? ", " : "");
		json_str(f, r->tune[i]);
	}
	fprintf(f, "]");
	fprintf(f, ",\n  \"sites\": %u, \"rate\": %u, \"seed\": %u, \"delay_ms\": %u, \"ttl_scale\": %u, "
		   "\"forged_ttl\": %u,\n  \"duration_s\": %.3f, ",
		r->sites, r->rate, r->seed, r->delay_ms, r->ttl_scale, r->forged_ttl, r->duration_ms / 1000.0);
	if (r->has_window)
		fprintf(f, "\"fault\": {\"start_s\": %.3f, \"length_s\": %.3f},\n", r->fault_start_ms / 1000.0,
			r->fault_len_ms / 1000.0);
	else
		fprintf(f, "\"fault\": null,\n");
	fprintf(f, "  \"setup_s\": %.2f, \"wall_s\": %.2f,\n", r->setup_s, r->wall_s);
	fprintf(f, "  \"injector\": {\"log\": %s, \"forged\": %llu, \"before\": %llu, \"fault\": %llu, \"after\": %llu},\n",
		r->inj.have_log ? "true" : "false", (unsigned long long)r->inj.forged,
		(unsigned long long)r->inj.phase[0], (unsigned long long)r->inj.phase[1],
		(unsigned long long)r->inj.phase[2]);
	fprintf(f, "  \"probe\": ");
	probe_run_json(&r->probe, f);
	fprintf(f, ",\n");
	fprintf(f, "  \"resolvers\": [");
	for (unsigned i = 0; i < r->nres; i++) {
		const struct report_res *x = &r->res[i];
		const struct report_cell *c = &x->total;
		fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
		json_str(f, x->name);
		fprintf(f, ", \"desc\": ");
		json_str(f, x->desc);
		fprintf(f, ", \"defended\": %s,\n     \"queries\": %u, \"answers\": %u, \"genuine\": %u, \"forged\": %u, "
			   "\"servfail\": %u, \"other\": %u, \"timeouts\": %u, \"p50_ms\": ",
			x->defended ? "true" : "false", report_done(c), report_answers(c), c->v[TRUTH_GENUINE],
			c->v[TRUTH_FORGED], c->v[TRUTH_SERVFAIL], c->v[TRUTH_OTHER], c->v[TRUTH_TIMEOUT]);
		json_num(f, report_lat_ms(c, 0.5));
		fprintf(f, ", \"p99_ms\": ");
		json_num(f, report_lat_ms(c, 0.99));
		fprintf(f, ",\n     \"total\": ");
		json_cell(f, c);
		for (int p = 0; p < PHASE_N; p++) {
			fprintf(f, ",\n     \"%s\": ", ph[p]);
			json_cell(f, &x->phase[p]);
		}
		fprintf(f, ",\n     \"cache_left\": {\"fault_end\": {\"asked\": %u, \"answered\": %u, \"forged\": %u}, "
			   "\"end\": {\"asked\": %u, \"answered\": %u, \"forged\": %u}},\n",
			x->probe[0].asked, x->probe[0].answered, x->probe[0].forged, x->probe[1].asked,
			x->probe[1].answered, x->probe[1].forged);
		fprintf(f, "     \"injector_log\": {\"confirmed\": %llu, \"unconfirmed\": %llu},\n",
			(unsigned long long)x->confirmed, (unsigned long long)x->unconfirmed);
		fprintf(f, "     \"watch\": ");
		watchrun_json(&x->watch, f);
		fprintf(f, ",\n");
		fprintf(f, "     \"series\": [");
		for (unsigned s = 0; s < r->nsec; s++) {
			const struct report_cell *q = &x->sec[s];
			fprintf(f, "%s\n       {\"t\": %u, \"queries\": %u, \"answers\": %u, \"forged\": %u, "
				   "\"forged_unblocked\": %u, \"servfail\": %u, \"timeouts\": %u, \"forged_share\": ",
				s ? "," : "", s, report_done(q), report_answers(q), q->v[TRUTH_FORGED],
				q->forged_unblocked, q->v[TRUTH_SERVFAIL], q->v[TRUTH_TIMEOUT]);
			json_num(f, report_share(q, TRUTH_FORGED));
			fprintf(f, ", \"p50_ms\": ");
			json_num(f, report_lat_ms(q, 0.5));
			fprintf(f, ", \"p99_ms\": ");
			json_num(f, report_lat_ms(q, 0.99));
			fprintf(f, "}");
		}
		fprintf(f, "]}");
	}
	fprintf(f, "\n  ]\n}\n");
	return ferror(f) ? DNS_EIO : 0;
}

/* ---- SVG ---- */

static const char *palette[] = {"#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};

#define SVG_W 960
#define SVG_X0 70
#define SVG_X1 780

static double svg_x(const struct report *r, double t_s)
{
	double dur = r->duration_ms / 1000.0;
	return SVG_X0 + (SVG_X1 - SVG_X0) * (dur > 0 ? t_s / dur : 0);
}

/* One panel: y0 top, h height; share per second of what(cell). */
static void svg_panel(const struct report *r, FILE *f, int y0, int h, const char *title,
		      double (*what)(const struct report_cell *))
{
	fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"h\">%s</text>\n", SVG_X0, y0 - 8, title);
	if (r->has_window) {
		double a = svg_x(r, r->fault_start_ms / 1000.0), b = svg_x(r, (r->fault_start_ms + r->fault_len_ms) / 1000.0);
		fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#fbe3c8\"/>\n", a, y0, b - a, h);
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"s\" text-anchor=\"middle\">%s</text>\n", (a + b) / 2,
			y0 + 14, r->window_label[0] ? r->window_label : "fault window");
	}
	for (int p = 0; p <= 100; p += 25) {
		double y = y0 + h - h * p / 100.0;
		fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", SVG_X0, y, SVG_X1, y);
		fprintf(f, "<text x=\"%d\" y=\"%.1f\" class=\"s\" text-anchor=\"end\">%d%%</text>\n", SVG_X0 - 6, y + 4, p);
	}
	double dur = r->duration_ms / 1000.0;
	int step = dur > 120 ? 30 : dur > 40 ? 5 : dur > 15 ? 2 : 1;
	for (int t = 0; t <= (int)dur; t += step) {
		double x = svg_x(r, t);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#999\"/>\n", x, y0 + h, x, y0 + h + 4);
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"s\" text-anchor=\"middle\">%d</text>\n", x, y0 + h + 16, t);
	}
	fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#444\"/>\n", SVG_X0, y0,
		SVG_X1 - SVG_X0, h);
	for (unsigned i = 0; i < r->nres; i++) {
		const struct report_res *x = &r->res[i];
		fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"", palette[i % 8],
			x->defended ? " stroke-dasharray=\"6 3\"" : "");
		for (unsigned s = 0; s < r->nsec; s++) {
			const struct report_cell *c = &x->sec[s];
			if (!report_done(c))
				continue;
			double tt = s + 0.5;
			if (tt > dur)
				tt = dur;
			fprintf(f, "%.1f,%.1f ", svg_x(r, tt), y0 + h - h * what(c));
		}
		fprintf(f, "\"/>\n");
	}
}

/* Incidents `antidote watch` raised: one bar per resolver along the top of
 * the panel, from raise (a triangle) to clear (or the end). */
static void svg_watch(const struct report *r, FILE *f, int y0)
{
	double dur = r->duration_ms / 1000.0;
	bool any = false;
	for (unsigned i = 0; i < r->nres; i++) {
		const struct watch_summary *w = &r->res[i].watch;
		double y = y0 + 26 + 6 * (double)i; /* below the window label */
		for (unsigned k = 0; w->on && k < w->n; k++) {
			const struct watch_incident *x = &w->inc[k];
			double a = fmin(fmax(x->raise_s, 0), dur), b = isnan(x->clear_s) ? dur : fmin(fmax(x->clear_s, 0), dur);
			double xa = svg_x(r, a), xb = svg_x(r, b);
			fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"4\"><title>%s: "
				   "%s %s raised %.2f s%s</title></line>\n",
				xa, y, xb > xa + 1 ? xb : xa + 1, y, palette[i % 8], r->res[i].name, x->kind, x->what, x->raise_s,
				x->in_window ? "" : " (false positive)");
			fprintf(f, "<path d=\"M%.1f %.1f l-4 -6 h8 z\" fill=\"%s\"/>\n", xa, y - 2, palette[i % 8]);
			if (!isnan(x->clear_s))
				fprintf(f, "<path d=\"M%.1f %.1f l-4 6 h8 z\" fill=\"%s\"/>\n", xb, y + 2, palette[i % 8]);
			any = true;
		}
	}
	if (any)
		fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"s\" text-anchor=\"end\">watch incidents: raise &#9660; clear &#9650;</text>\n",
			SVG_X1 - 4, y0 + 34 + 6 * (int)r->nres);
}

static double what_forged(const struct report_cell *c)
{
	return report_share(c, TRUTH_FORGED);
}

static double what_failed(const struct report_cell *c)
{
	return report_share(c, TRUTH_SERVFAIL) + report_share(c, TRUTH_TIMEOUT);
}

int report_svg(const struct report *r, FILE *f)
{
	int h1 = 260, h2 = 130, y1 = 84, y2 = y1 + h1 + 60, H = y2 + h2 + 50;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n"
		   "<style>text{font-family:sans-serif;fill:#222} .t{font-size:17px;font-weight:bold} "
		   ".h{font-size:13px} .s{font-size:11px}</style>\n"
		   "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		SVG_W, H, SVG_W, H);
	fprintf(f, "<text x=\"%d\" y=\"28\" class=\"t\">antidote lab %s: forged answers users got, per resolver</text>\n",
		SVG_X0, r->scenario);
	fprintf(f, "<text x=\"%d\" y=\"48\" class=\"s\">%u sites, %u queries/s to each resolver, same names at the same "
		   "time; profile %s, border delay %u ms, seed %u</text>\n",
		SVG_X0, r->sites, r->rate, r->profile, r->delay_ms, r->seed);
	svg_panel(r, f, y1, h1, "share of queries answered with a forged address (per second)", what_forged);
	svg_watch(r, f, y1);
	svg_panel(r, f, y2, h2, "share of queries failed: SERVFAIL or timeout (per second)", what_failed);
	fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"s\" text-anchor=\"middle\">seconds since users started</text>\n",
		(SVG_X0 + SVG_X1) / 2, H - 8);
	for (unsigned i = 0; i < r->nres; i++) {
		int y = y1 + 10 + 36 * (int)i;
		const struct report_res *x = &r->res[i];
		fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"%s/>\n",
			SVG_X1 + 14, y, SVG_X1 + 40, y, palette[i % 8], x->defended ? " stroke-dasharray=\"6 3\"" : "");
		fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"h\">%s</text>\n", SVG_X1 + 46, y + 4, x->name);
		char buf[64];
		if (r->has_window)
			snprintf(buf, sizeof(buf), "fault %.0f%%, after %.0f%%", 100 * report_share(&x->phase[PHASE_FAULT], TRUTH_FORGED),
				 100 * report_share(&x->phase[PHASE_AFTER], TRUTH_FORGED));
		else
			snprintf(buf, sizeof(buf), "forged %.0f%%", 100 * report_share(&x->total, TRUTH_FORGED));
		fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"s\">%s</text>\n", SVG_X1 + 46, y + 18, buf);
	}
	fprintf(f, "</svg>\n");
	return ferror(f) ? DNS_EIO : 0;
}
