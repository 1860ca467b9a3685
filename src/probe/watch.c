/* watch — `antidote watch`: canaries at a resolver every interval, injection
 * incidents raised and cleared as JSON Lines, Prometheus metrics. */
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "dns/err.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/rrtype.h"
#include "probe/fingerprint.h"
#include "probe/incident.h"
#include "probe/judge.h"
#include "probe/metrics.h"
#include "probe/namelist.h"
#include "probe/prober.h"
#include "resolve/secrand.h"
#include "util/json.h"

static volatile sig_atomic_t stop_flag;
static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

#define RAISED_MAX 1024

struct wrun {
	struct probe_cfg cfg;
	struct namelist nl;
	uint16_t deftype;
	struct incident *inc;
	size_t next;
	uint8_t qname[NAME_MAXLEN];
	int mfd;
	char *mbody;
	size_t mlen, mcap;
	bool exit_on_incident, verbose;
	unsigned raised_now;
	double raised_t[RAISED_MAX];
	uint64_t rounds, queries, answered, timeouts, failures, changed_total, events[2][INC_NKINDS];
	struct inc_round_stats last;
	double last_round_s, last_round_t;
	char resolver[ADDR_STRLEN];
};

static double now_real(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: antidote watch --canaries FILE --resolver ADDR[:PORT] [--interval S] [--metrics ADDR:PORT]\n"
		"                      [--exit-on-incident] [OPTIONS]\n"
		"Asks a resolver every canary name (one a line, optional type) every interval and raises an\n"
		"incident when the injection pattern changes:\n"
		"  hijack      one new address answering canaries of many unrelated bases (21 Jan 2014)\n"
		"  tld-outage  a TLD's canaries timing out or failing (25 Aug 2013, .cn)\n"
		"and clears it when the pattern ends. A canary \"*.example.com\" is asked under a fresh random\n"
		"label each round (no cache). The first --learn rounds learn the baseline.\n"
		"Out (stdout, JSON Lines): {\"event\":\"ready\",...} after learning, then {\"event\":\"raise\"|\"clear\",\n"
		"\"id\",\"kind\",\"t\",\"round\",...} per incident; a last {\"event\":\"stop\",...}.\n"
		"  --interval S        seconds between round starts (default 1; fractions allowed)\n"
		"  --timeout MS        per attempt (default 800)   --retries N (default 1)\n"
		"  --window MS         listening window after the first reply (default 50)\n"
		"  --learn N           baseline rounds (default 3)   --clear N  quiet rounds to clear (2)\n"
		"  --hijack-min N      distinct bases sharing one new address (default 3)\n"
		"  --tld-min N         failing canaries of a TLD (default 2)  --tld-frac F  share (0.5)\n"
		"  --metrics ADDR:PORT Prometheus text at GET /metrics (loopback only)\n"
		"  --exit-on-incident  exit with status 3 as soon as an incident is raised\n"
		"  --rounds N          stop after N rounds   --duration S  stop after S seconds\n"
		"  --no-rd             clear RD (watching an authoritative server or a relay)\n"
		"  --type T            default type (A)   --verbose  one line per round on stderr\n");
}

static int next_job(void *arg, struct probe_job *j)
{
	struct wrun *w = arg;
	while (w->next < w->nl.n) {
		size_t i = w->next++;
		const char *n = w->nl.e[i].name;
		char text[NAME_MAXTEXT + 16];
		int len;
		if (n[0] == '*' && n[1] == '.')
			len = snprintf(text, sizeof(text), "w%08x%s", secrand_u32(), n + 1);
		else
			len = snprintf(text, sizeof(text), "%s", n);
		if (len < 0 || (size_t)len >= sizeof(text) ||
		    name_from_text(text, (size_t)len, (const uint8_t *)"", w->qname) < 0)
			continue;
		j->qname = w->qname;
		j->qtype = w->nl.e[i].qtype ? w->nl.e[i].qtype : w->deftype;
		j->target = 0;
		j->tag = i;
		return 1;
	}
	return 0;
}

static void on_done(void *arg, const struct probe_job *j, const struct probe_result *r)
{
	struct wrun *w = arg;
	struct inc_obs o;
	memset(&o, 0, sizeof(o));
	w->queries++;
	if (!r->nrep) {
		o.status = OBS_TIMEOUT;
		w->timeouts++;
	} else {
		const struct probe_reply *p = &r->rep[0];
		o.status = OBS_ANSWER;
		o.rcode = (uint16_t)msg_flags_rcode(p->flags);
		o.naddr = p->naddr;
		memcpy(o.addr, p->addr, sizeof(o.addr));
		uint64_t h = judge_set_hash(p->addr, p->naddr);
		for (unsigned i = 1; i < r->nrep; i++)
			if (judge_set_hash(r->rep[i].addr, r->rep[i].naddr) != h ||
			    msg_flags_rcode(r->rep[i].flags) != o.rcode)
				o.multi = true;
		w->answered++;
	}
	incident_observe(w->inc, (size_t)j->tag, &o);
}

static void build_metrics(struct wrun *w)
{
	struct mtext m = {w->mbody, 0, w->mcap};
	char lab[64];
	mtext_head(&m, "antidote_watch_rounds_total", "counter", "Rounds of canary queries.");
	mtext_val(&m, "antidote_watch_rounds_total", NULL, (double)w->rounds);
	mtext_head(&m, "antidote_watch_canaries", "gauge", "Canary names.");
	mtext_val(&m, "antidote_watch_canaries", NULL, (double)w->nl.n);
	mtext_head(&m, "antidote_watch_learning", "gauge", "1 while the baseline is being learnt.");
	mtext_val(&m, "antidote_watch_learning", NULL, incident_learning(w->inc));
	mtext_head(&m, "antidote_watch_queries_total", "counter", "Canary queries by outcome.");
	mtext_val(&m, "antidote_watch_queries_total", "result=\"answered\"", (double)w->answered);
	mtext_val(&m, "antidote_watch_queries_total", "result=\"timeout\"", (double)w->timeouts);
	mtext_head(&m, "antidote_watch_round_failures", "gauge", "Canaries timing out or SERVFAIL/REFUSED in the last round.");
	mtext_val(&m, "antidote_watch_round_failures", NULL, w->last.failures);
	mtext_head(&m, "antidote_watch_round_changed", "gauge", "Canaries answering outside their baseline in the last round.");
	mtext_val(&m, "antidote_watch_round_changed", NULL, w->last.changed);
	mtext_head(&m, "antidote_watch_round_top_bases", "gauge",
		   "Distinct bases sharing the most common new address in the last round.");
	mtext_val(&m, "antidote_watch_round_top_bases", NULL, w->last.top_bases);
	mtext_head(&m, "antidote_watch_round_multi", "gauge", "Canaries with differing replies in the last round.");
	mtext_val(&m, "antidote_watch_round_multi", NULL, w->last.multi);
	mtext_head(&m, "antidote_watch_round_duration_seconds", "gauge", "Duration of the last round.");
	mtext_val(&m, "antidote_watch_round_duration_seconds", NULL, w->last_round_s);
	mtext_head(&m, "antidote_watch_last_round_timestamp_seconds", "gauge", "Start of the last round (Unix time).");
	mtext_val(&m, "antidote_watch_last_round_timestamp_seconds", NULL, w->last_round_t);
	mtext_head(&m, "antidote_watch_incidents_active", "gauge", "Incidents raised and not cleared.");
	for (int k = 0; k < INC_NKINDS; k++) {
		snprintf(lab, sizeof(lab), "kind=\"%s\"", incident_kind_name((enum inc_kind)k));
		mtext_val(&m, "antidote_watch_incidents_active", lab, incident_active(w->inc, (enum inc_kind)k));
	}
	mtext_head(&m, "antidote_watch_incidents_total", "counter", "Incidents raised.");
	for (int k = 0; k < INC_NKINDS; k++) {
		snprintf(lab, sizeof(lab), "kind=\"%s\"", incident_kind_name((enum inc_kind)k));
		mtext_val(&m, "antidote_watch_incidents_total", lab, (double)incident_total(w->inc, (enum inc_kind)k));
	}
	mtext_head(&m, "antidote_watch_incidents_cleared_total", "counter", "Incidents cleared.");
	for (int k = 0; k < INC_NKINDS; k++) {
		snprintf(lab, sizeof(lab), "kind=\"%s\"", incident_kind_name((enum inc_kind)k));
		mtext_val(&m, "antidote_watch_incidents_cleared_total", lab, (double)w->events[0][k]);
	}
	w->mlen = m.len;
}

static void serve_metrics(void *arg, int fd)
{
	struct wrun *w = arg;
	metrics_serve(fd, w->mbody, w->mlen);
}

static void emit(void *arg, const struct inc_event *e)
{
	struct wrun *w = arg;
	double t = now_real();
	char b[64];
	printf("{\"event\":\"%s\",\"id\":%u,\"kind\":\"%s\",\"t\":%.3f,\"round\":%llu", e->raise ? "raise" : "clear", e->id,
	       incident_kind_name(e->kind), t, (unsigned long long)e->round);
	if (e->raise) {
		w->raised_t[e->id % RAISED_MAX] = t;
		w->raised_now++;
	} else {
		printf(",\"raised_round\":%llu,\"duration_s\":%.3f", (unsigned long long)e->raised_round,
		       t - w->raised_t[e->id % RAISED_MAX]);
	}
	w->events[e->raise][e->kind]++;
	if (e->kind == INC_HIJACK)
		printf(",\"address\":\"%s\",\"names\":%u,\"bases\":%u", fp_addr_str(&e->addr, b, sizeof(b)), e->names,
		       e->bases);
	else
		printf(",\"tld\":\"%s\",\"failing\":%u,\"of\":%u,\"timeouts\":%u", e->tld, e->failing, e->of, e->timeouts);
	fputs(",\"sample\":[", stdout);
	for (unsigned i = 0; i < e->nsample; i++) {
		if (i)
			fputc(',', stdout);
		json_str(stdout, e->sample[i]);
	}
	printf("],\"resolver\":\"%s\"}\n", w->resolver);
	fflush(stdout);
}

int cmd_watch(int argc, char **argv)
{
	enum { O_CAN = 256, O_RES, O_INT, O_TO, O_RET, O_WIN, O_LEARN, O_CLEAR, O_HMIN, O_TMIN, O_TFRAC, O_MET, O_EXIT,
	       O_ROUNDS, O_DUR, O_NORD, O_TYPE, O_VERB, O_HELP };
	static const struct option opts[] = {
		{"canaries", required_argument, NULL, O_CAN}, {"resolver", required_argument, NULL, O_RES},
		{"interval", required_argument, NULL, O_INT}, {"timeout", required_argument, NULL, O_TO},
		{"retries", required_argument, NULL, O_RET},  {"window", required_argument, NULL, O_WIN},
		{"learn", required_argument, NULL, O_LEARN},  {"clear", required_argument, NULL, O_CLEAR},
		{"hijack-min", required_argument, NULL, O_HMIN}, {"tld-min", required_argument, NULL, O_TMIN},
		{"tld-frac", required_argument, NULL, O_TFRAC}, {"metrics", required_argument, NULL, O_MET},
		{"exit-on-incident", no_argument, NULL, O_EXIT}, {"rounds", required_argument, NULL, O_ROUNDS},
		{"duration", required_argument, NULL, O_DUR}, {"no-rd", no_argument, NULL, O_NORD},
		{"type", required_argument, NULL, O_TYPE},    {"verbose", no_argument, NULL, O_VERB},
		{"help", no_argument, NULL, O_HELP},          {NULL, 0, NULL, 0},
	};
	static struct wrun w;
	memset(&w, 0, sizeof(w));
	w.mfd = -1;
	probe_cfg_default(&w.cfg);
	w.cfg.rd = true;
	w.cfg.timeout_ms = 800;
	w.cfg.retries = 1;
	w.cfg.window_ms = 50;
	w.cfg.sockets = 4;
	w.cfg.inflight = 4096;
	w.deftype = RR_A;
	struct inc_cfg ic;
	inc_cfg_default(&ic);
	const char *canaries = NULL, *metrics = NULL;
	double interval = 1, duration = 0;
	unsigned long max_rounds = 0;
	bool have_res = false;
	char err[512];
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *end = NULL;
		switch (c) {
		case O_CAN: canaries = optarg; break;
		case O_RES:
			if (addr_parse(&w.cfg.targets[0], optarg, 53, err, sizeof(err)) < 0) {
				fprintf(stderr, "antidote watch: %s\n", err);
				return 2;
			}
			w.cfg.ntargets = 1;
			have_res = true;
			break;
		case O_INT: interval = strtod(optarg, &end); break;
		case O_TO: w.cfg.timeout_ms = (int)strtol(optarg, &end, 10); break;
		case O_RET: w.cfg.retries = (int)strtol(optarg, &end, 10); break;
		case O_WIN: w.cfg.window_ms = (int)strtol(optarg, &end, 10); break;
		case O_LEARN: ic.learn = (unsigned)strtoul(optarg, &end, 10); break;
		case O_CLEAR: ic.clear = (unsigned)strtoul(optarg, &end, 10); break;
		case O_HMIN: ic.hijack_min = (unsigned)strtoul(optarg, &end, 10); break;
		case O_TMIN: ic.tld_min = (unsigned)strtoul(optarg, &end, 10); break;
		case O_TFRAC: ic.tld_frac = strtod(optarg, &end); break;
		case O_MET: metrics = optarg; break;
		case O_EXIT: w.exit_on_incident = true; break;
		case O_ROUNDS: max_rounds = strtoul(optarg, &end, 10); break;
		case O_DUR: duration = strtod(optarg, &end); break;
		case O_NORD: w.cfg.rd = false; break;
		case O_TYPE: {
			int t = rrtype_from_text(optarg, strlen(optarg));
			if (t < 0) {
				fprintf(stderr, "antidote watch: unknown type '%s'\n", optarg);
				return 2;
			}
			w.deftype = (uint16_t)t;
			break;
		}
		case O_VERB: w.verbose = true; break;
		case 'h':
		case O_HELP: usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (end && *end) {
			fprintf(stderr, "antidote watch: bad number '%s'\n", optarg);
			return 2;
		}
	}
	if (optind < argc || !canaries || !have_res) {
		fprintf(stderr, "antidote watch: %s\n",
			optind < argc ? "unexpected argument" : "--canaries and --resolver are required");
		usage(stderr);
		return 2;
	}
	if (!(interval > 0) || ic.hijack_min < 2 || !(ic.tld_frac > 0) || ic.tld_frac > 1) {
		fprintf(stderr, "antidote watch: --interval > 0, --hijack-min >= 2, 0 < --tld-frac <= 1\n");
		return 2;
	}
	net_addr maddr, mbound;
	if (metrics && addr_parse(&maddr, metrics, 9153, err, sizeof(err)) < 0) {
		fprintf(stderr, "antidote watch: %s\n", err);
		return 2;
	}
	addr_format(&w.cfg.targets[0], w.resolver, sizeof(w.resolver));
	if (namelist_load(&w.nl, canaries, err, sizeof(err)) < 0) {
		fprintf(stderr, "antidote watch: %s\n", err);
		return 1;
	}
	if (!w.nl.n) {
		fprintf(stderr, "antidote watch: %s: no canaries\n", canaries);
		namelist_free(&w.nl);
		return 1;
	}
	int rc = 0;
	struct prober *p = NULL;
	const char **names = malloc(w.nl.n * sizeof(char *));
	w.mcap = 16384;
	w.mbody = malloc(w.mcap);
	if (!names || !w.mbody) {
		fprintf(stderr, "antidote watch: out of memory\n");
		rc = 1;
		goto out;
	}
	for (size_t i = 0; i < w.nl.n; i++)
		names[i] = w.nl.e[i].name;
	w.inc = incident_new(&ic, names, w.nl.n);
	p = prober_new(&w.cfg, err, sizeof(err));
	if (!w.inc || !p) {
		fprintf(stderr, "antidote watch: %s\n", p ? "out of memory" : err);
		rc = p ? 1 : 2;
		goto out;
	}
	build_metrics(&w);
	if (metrics) {
		w.mfd = metrics_listen(&maddr, &mbound, err, sizeof(err));
		if (w.mfd < 0) {
			fprintf(stderr, "antidote watch: %s\n", err);
			rc = w.mfd == DNS_EINVAL ? 2 : 1;
			goto out;
		}
		prober_watch_fd(p, w.mfd, serve_metrics, &w);
		char b[ADDR_STRLEN];
		fprintf(stderr, "watch: metrics on http://%s/metrics\n", addr_str(&mbound, b));
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	double t0 = now_real();
	uint64_t m0 = probe_now_us();
	fprintf(stderr, "watch: %zu canaries at %s every %.3g s; learning %u rounds\n", w.nl.n, w.resolver, interval,
		ic.learn);
	bool was_learning = true;
	while (!stop_flag) {
		uint64_t rs = probe_now_us();
		w.last_round_t = now_real();
		w.next = 0;
		if (prober_run(p, next_job, on_done, NULL, &w, &stop_flag) < 0) {
			fprintf(stderr, "antidote watch: event loop failed\n");
			rc = 1;
			break;
		}
		if (stop_flag)
			break;
		w.raised_now = 0;
		incident_round_end(w.inc, emit, &w, &w.last);
		w.rounds++;
		w.last_round_s = (double)(probe_now_us() - rs) / 1e6;
		if (was_learning && !incident_learning(w.inc)) {
			was_learning = false;
			printf("{\"event\":\"ready\",\"t\":%.3f,\"round\":%llu,\"canaries\":%zu,\"resolver\":\"%s\"}\n",
			       now_real(), (unsigned long long)incident_round(w.inc), w.nl.n, w.resolver);
			fflush(stdout);
		}
		build_metrics(&w);
		if (w.verbose)
			fprintf(stderr, "watch: round %llu (%.0f ms): %u answered, %u timeouts, %u failing, %u changed, "
					"top address shared by %u bases, %u hijack / %u outage active\n",
				(unsigned long long)w.rounds, w.last_round_s * 1000, w.last.answered, w.last.timeouts,
				w.last.failures, w.last.changed, w.last.top_bases, incident_active(w.inc, INC_HIJACK),
				incident_active(w.inc, INC_TLD_OUTAGE));
		if (w.exit_on_incident && w.raised_now) {
			rc = 3;
			break;
		}
		if ((max_rounds && w.rounds >= max_rounds) || (duration > 0 && now_real() - t0 >= duration))
			break;
		/* wait for the next round, serving metrics */
		uint64_t due = m0 + (uint64_t)llround((double)w.rounds * interval * 1e6);
		for (;;) {
			uint64_t now = probe_now_us();
			if (now >= due || stop_flag)
				break;
			int ms = (int)((due - now + 999) / 1000);
			struct pollfd pf = {.fd = w.mfd, .events = POLLIN};
			if (poll(&pf, w.mfd >= 0 ? 1 : 0, ms) > 0)
				metrics_serve(w.mfd, w.mbody, w.mlen);
		}
		if (probe_now_us() > due + (uint64_t)(interval * 1e6))
			m0 = probe_now_us() - (uint64_t)llround((double)w.rounds * interval * 1e6); /* fell behind: re-anchor */
	}
	printf("{\"event\":\"stop\",\"t\":%.3f,\"rounds\":%llu,\"queries\":%llu,\"answered\":%llu,\"timeouts\":%llu,"
	       "\"raised\":%llu,\"cleared\":%llu,\"active\":%u}\n",
	       now_real(), (unsigned long long)w.rounds, (unsigned long long)w.queries, (unsigned long long)w.answered,
	       (unsigned long long)w.timeouts, (unsigned long long)(w.events[1][0] + w.events[1][1]),
	       (unsigned long long)(w.events[0][0] + w.events[0][1]),
	       incident_active(w.inc, INC_HIJACK) + incident_active(w.inc, INC_TLD_OUTAGE));
	fflush(stdout);
out:
	if (w.mfd >= 0)
		close(w.mfd);
	prober_free(p);
	incident_free(w.inc);
	free(names);
	free(w.mbody);
	namelist_free(&w.nl);
	return rc;
}
