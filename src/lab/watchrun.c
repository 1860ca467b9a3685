/* watchrun — `antidote watch` children of the lab (see watchrun.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "inject/rules.h"
#include "lab/internet.h"
#include "lab/jsonl.h"
#include "lab/rng.h"
#include "lab/watchrun.h"
#include "probe/incident.h"
#include "util/json.h"

/* Whether base b is among the n first of taken (small lists: linear). */
static bool base_taken(char (*taken)[SITE_NAMEMAX], unsigned n, const char *b)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(taken[i], b))
			return true;
	return false;
}

/* A canary the rules would never match, whatever its fresh label. */
static bool canary_clean(const struct rules *rules, const char *zone)
{
	if (!rules)
		return true;
	static const char *labels[] = {"w00000000", "wdeadbeef", "w7f3a91c2"};
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		char n[SITE_NAMEMAX + 16];
		int l = snprintf(n, sizeof(n), "%s.%s", labels[i], zone);
		if (l < 0 || (size_t)l >= sizeof(n) || rules_match(rules, n, (size_t)l) >= 0)
			return false;
	}
	return true;
}

int watchrun_canaries(const struct internet *net, const struct rules *rules, uint64_t seed, unsigned ncno,
		      unsigned ncn, FILE *f, unsigned *got_cno, unsigned *got_cn)
{
	unsigned *order = malloc((net->n ? net->n : 1) * sizeof(unsigned));
	char (*taken)[SITE_NAMEMAX] = calloc(ncno + ncn + 1, SITE_NAMEMAX);
	if (!order || !taken) {
		free(order);
		free(taken);
		return DNS_ENOMEM;
	}
	struct rng r;
	rng_seed(&r, seed ^ 0x77617463686c6162ull);
	for (unsigned i = 0; i < net->n; i++)
		order[i] = i;
	for (unsigned i = net->n; i > 1; i--) {
		unsigned j = rng_below(&r, i);
		unsigned t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
	unsigned nt = 0, a = 0, c = 0;
	for (unsigned k = 0; k < net->n && (a < ncno || c < ncn); k++) {
		const struct site *s = &net->site[order[k]];
		bool cn = s->origin == SITE_CN && !strcmp(net->tld[s->tld], "cn");
		bool cno = !cn && !s->domestic && s->cno && !s->blocked && s->origin == SITE_GENERATED;
		if ((cn && c >= ncn) || (cno && a >= ncno) || (!cn && !cno))
			continue;
		char b[SITE_NAMEMAX];
		incident_base(s->zone, b, sizeof(b));
		if (base_taken(taken, nt, b) || !canary_clean(rules, s->zone))
			continue;
		snprintf(taken[nt++], SITE_NAMEMAX, "%s", b);
		fprintf(f, "*.%s\n", s->zone);
		if (cn)
			c++;
		else
			a++;
	}
	free(order);
	free(taken);
	if (got_cno)
		*got_cno = a;
	if (got_cn)
		*got_cn = c;
	return ferror(f) ? DNS_EIO : (int)(a + c);
}

struct child *watchrun_start(const struct watchrun_cfg *c, const char *name, uint16_t port, const char *log,
			     char *err, size_t errlen)
{
	char res[32], iv[32], to[16], rt[16];
	snprintf(res, sizeof(res), "127.0.0.1:%u", port);
	snprintf(iv, sizeof(iv), "%g", c->interval);
	snprintf(to, sizeof(to), "%u", c->timeout_ms);
	snprintf(rt, sizeof(rt), "%u", c->retries);
	char *argv[] = {(char *)c->self, "watch", "--canaries", (char *)c->canaries, "--resolver", res, "--interval",
			iv, "--timeout", to, "--retries", rt, NULL};
	return child_spawn(name, argv, log, err, errlen);
}

bool watchrun_log_ready(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	char line[4096];
	bool ok = false;
	while (!ok && fgets(line, sizeof(line), f))
		ok = line[0] == '{' && strstr(line, "\"event\":\"ready\"");
	fclose(f);
	return ok;
}

void watchrun_line(struct watch_summary *s, const char *line, double epoch_s)
{
	char ev[16];
	double t;
	if (line[0] != '{' || !jsonl_str(line, "event", ev, sizeof(ev)) || !jsonl_num(line, "t", &t))
		return;
	t -= epoch_s;
	double v;
	if (!strcmp(ev, "ready")) {
		s->ready = true;
		s->ready_s = t;
		if (jsonl_num(line, "canaries", &v))
			s->canaries = (unsigned)v;
	} else if (!strcmp(ev, "raise")) {
		if (s->n >= WATCHRUN_MAXINC) {
			s->lost++;
			return;
		}
		struct watch_incident *x = &s->inc[s->n++];
		memset(x, 0, sizeof(*x));
		x->id = jsonl_num(line, "id", &v) ? (unsigned)v : 0;
		jsonl_str(line, "kind", x->kind, sizeof(x->kind));
		if (!jsonl_str(line, "address", x->what, sizeof(x->what)))
			jsonl_str(line, "tld", x->what, sizeof(x->what));
		x->raise_s = t;
		x->clear_s = NAN;
	} else if (!strcmp(ev, "clear")) {
		unsigned id = jsonl_num(line, "id", &v) ? (unsigned)v : 0;
		for (unsigned i = s->n; i-- > 0;)
			if (s->inc[i].id == id && isnan(s->inc[i].clear_s)) {
				s->inc[i].clear_s = t;
				break;
			}
	} else if (!strcmp(ev, "stop")) {
		s->stopped = true;
		if (jsonl_num(line, "rounds", &v))
			s->rounds = (uint64_t)v;
		if (jsonl_num(line, "queries", &v))
			s->queries = (uint64_t)v;
		if (jsonl_num(line, "timeouts", &v))
			s->timeouts = (uint64_t)v;
	}
}

int watchrun_read(struct watch_summary *s, const char *path, double epoch_s)
{
	s->on = true;
	FILE *f = fopen(path, "r");
	if (!f)
		return DNS_EIO;
	char line[8192];
	while (fgets(line, sizeof(line), f))
		watchrun_line(s, line, epoch_s);
	fclose(f);
	return 0;
}

static bool expected(const struct watch_incident *x, const struct watch_window *w)
{
	return (!w->kind || !strcmp(x->kind, w->kind)) && (!w->what || !strcmp(x->what, w->what));
}

void watchrun_score(struct watch_summary *s, const struct watch_window *w)
{
	s->detect_s = s->clear_s = NAN;
	s->in_window = s->false_pos = 0;
	unsigned nexp = 0;
	for (unsigned i = 0; i < s->n; i++) {
		struct watch_incident *x = &s->inc[i];
		x->in_window = w->has && x->raise_s >= w->start_s && x->raise_s <= w->end_s + WATCHRUN_GRACE_S;
		if (!x->in_window) {
			s->false_pos++;
			continue;
		}
		s->in_window++;
		if (expected(x, w)) {
			nexp++;
			double d = x->raise_s - w->start_s;
			if (isnan(s->detect_s) || d < s->detect_s)
				s->detect_s = d;
		}
	}
	s->false_pos += s->lost; /* not kept: counted against */
	bool any = false, open = false;
	double last = -INFINITY;
	for (unsigned i = 0; i < s->n; i++) {
		const struct watch_incident *x = &s->inc[i];
		if (!x->in_window || (nexp && !expected(x, w)))
			continue;
		any = true;
		if (isnan(x->clear_s))
			open = true;
		else if (x->clear_s > last)
			last = x->clear_s;
	}
	if (any && !open)
		s->clear_s = last - w->end_s;
}

/* ---- writers ---- */

static void secs(char *out, size_t cap, double v, bool have)
{
	if (have)
		snprintf(out, cap, "%.2f s", v);
	else
		snprintf(out, cap, "-");
}

void watchrun_table_head(FILE *f)
{
	fprintf(f, "%-16s %7s %6s %9s %9s %6s  %s\n", "watch", "ready", "rounds", "detect", "clear", "false+",
		"incidents (kind what raise-clear, scenario s)");
}

void watchrun_table_row(const char *resolver, const struct watch_summary *s, FILE *f)
{
	if (!s->on) {
		fprintf(f, "%-16s (no watch)\n", resolver);
		return;
	}
	char rd[16], det[16], clr[16];
	secs(rd, sizeof(rd), s->ready_s, s->ready);
	secs(det, sizeof(det), s->detect_s, !isnan(s->detect_s));
	secs(clr, sizeof(clr), s->clear_s, !isnan(s->clear_s));
	fprintf(f, "%-16s %7s %6llu %9s %9s %6u  ", resolver, rd, (unsigned long long)s->rounds, det, clr,
		s->false_pos);
	if (!s->n)
		fprintf(f, "none");
	for (unsigned i = 0; i < s->n; i++) {
		const struct watch_incident *x = &s->inc[i];
		if (!isnan(x->clear_s))
			fprintf(f, "%s%s %s %.2f-%.2f", i ? ", " : "", x->kind, x->what, x->raise_s, x->clear_s);
		else
			fprintf(f, "%s%s %s %.2f-(active)", i ? ", " : "", x->kind, x->what, x->raise_s);
		if (!x->in_window)
			fprintf(f, " [false+]");
	}
	if (s->lost)
		fprintf(f, " (+%u more)", s->lost);
	fprintf(f, "\n");
}

static void jnum(FILE *f, double v, bool have)
{
	if (have && isfinite(v))
		fprintf(f, "%.3f", v);
	else
		fprintf(f, "null");
}

void watchrun_json(const struct watch_summary *s, FILE *f)
{
	if (!s->on) {
		fprintf(f, "null");
		return;
	}
	fprintf(f, "{\"ready\": %s, \"ready_s\": ", s->ready ? "true" : "false");
	jnum(f, s->ready_s, s->ready);
	fprintf(f, ", \"canaries\": %u, \"rounds\": %llu, \"queries\": %llu, \"timeouts\": %llu, \"detect_s\": ",
		s->canaries, (unsigned long long)s->rounds, (unsigned long long)s->queries,
		(unsigned long long)s->timeouts);
	jnum(f, s->detect_s, true);
	fprintf(f, ", \"clear_s\": ");
	jnum(f, s->clear_s, true);
	fprintf(f, ", \"false_positives\": %u, \"in_window\": %u, \"incidents\": [", s->false_pos, s->in_window);
	for (unsigned i = 0; i < s->n; i++) {
		const struct watch_incident *x = &s->inc[i];
		fprintf(f, "%s{\"id\": %u, \"kind\": ", i ? ", " : "", x->id);
		json_str(f, x->kind);
		fprintf(f, ", \"what\": ");
		json_str(f, x->what);
		fprintf(f, ", \"raise_s\": ");
		jnum(f, x->raise_s, true);
		fprintf(f, ", \"clear_s\": ");
		jnum(f, x->clear_s, true);
		fprintf(f, ", \"in_window\": %s}", x->in_window ? "true" : "false");
	}
	fprintf(f, "]}");
}
