/* probe — `antidote probe`: bulk injection measurement (JSON Lines out). */
#include <getopt.h>
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
#include "probe/control.h"
#include "probe/fingerprint.h"
#include "probe/namelist.h"
#include "probe/prober.h"
#include "probe/rulekind.h"
#include "probe/store.h"
#include "probe/judge.h"
#include "util/json.h"

static volatile sig_atomic_t stop_flag;
static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

struct run {
	struct probe_cfg cfg;
	struct namelist nl;
	uint16_t deftype;
	bool silent[PROBE_MAXTARGETS];
	char tname[PROBE_MAXTARGETS][ADDR_STRLEN];
	bool kinds;           /* each name is a base; probe RK_NVAR variants */
	unsigned nvar;
	size_t njobs, next;
	struct judge_ctl *ctl; /* per (name, variant); NULL without --control */
	uint16_t *kforged, *kknown; /* per (name, target) in kinds mode */
	struct fp_table fp;
	struct store *db;
	FILE *out;
	bool quiet, tty, no_replies;
	uint64_t t0_us;
	double t0_real;
	struct store_summary sum;
	uint64_t last_progress_us;
	int store_err;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: antidote probe --names FILE --target ADDR[:PORT] [--target ...] [--silent ADDR[:PORT] ...]\n"
		"                      [--rate N] [--control ADDR[:PORT]] [--kinds] [--sqlite FILE] [OPTIONS]\n"
		"Measures DNS injection: queries every name (one a line, optional type: \"name AAAA\") at\n"
		"every target, asynchronously, and keeps every reply that arrives in the listening window.\n"
		"Out (stdout, JSON Lines): one line per query {name,type,target,verdict,attempts,replies:[\n"
		"{t_ms,ip_ttl,flags,rcode,ttl,opt,answers,class,injector}]}, then one line per injector\n"
		"(fingerprint and recovered pool), per base with --kinds, and a final {\"summary\":...}.\n"
		"Verdicts: forged, genuine, conflict (replies differ, nothing says which is real), none.\n"
		"  --names FILE       names to query (\"-\": stdin)\n"
		"  --target ADDR      server to query (repeatable; default port 53)\n"
		"  --silent ADDR      a target known to run no DNS server: any reply is forged (GFWatch)\n"
		"  --control ADDR     control server asked over TCP first; UDP replies that disagree are forged\n"
		"  --kinds            names are blocked bases: probe %d variants of each (xBASE, BASEx,\n"
		"                     www.BASE, BASE.x...) and recover its GFWatch rule kind\n"
		"  --rate N           new queries per second (default 0: as fast as slots free up)\n"
		"  --inflight N       queries in flight (default 16384)   --sockets N  source sockets (16)\n"
		"  --timeout MS       per attempt (default 1000)   --retries N  (default 2)\n"
		"  --window MS        keep listening MS after the first reply (default 500)\n"
		"  --type T           default query type (A)   --rd  set RD   --no-edns  no OPT RR\n"
		"  --sqlite FILE      store the results (schema: README.md, \"antidote probe\")\n"
		"  --no-replies       verdict lines without the replies array (smaller output)\n"
		"  --quiet            no progress line on stderr\n",
		RK_NVAR);
}

static int job_qname(struct run *r, size_t name, unsigned var, uint8_t *w, char *text, size_t tcap)
{
	const char *n = r->nl.e[name].name;
	int len;
	if (r->kinds) {
		len = rulekind_variant(n, var, text, tcap);
		if (len < 0)
			return len;
	} else {
		len = snprintf(text, tcap, "%s", n);
		if (len < 0 || (size_t)len >= tcap)
			return DNS_ESPACE;
	}
	return name_from_text(text, (size_t)len, (const uint8_t *)"", w);
}

static uint16_t job_type(const struct run *r, size_t name)
{
	return r->nl.e[name].qtype ? r->nl.e[name].qtype : r->deftype;
}

static int next_job(void *arg, struct probe_job *j)
{
	struct run *r = arg;
	static __thread uint8_t w[NAME_MAXLEN];
	char text[NAME_MAXTEXT];
	while (r->next < r->njobs) {
		size_t k = r->next++;
		size_t t = k % r->cfg.ntargets, nv = k / r->cfg.ntargets;
		size_t name = nv / r->nvar;
		unsigned var = (unsigned)(nv % r->nvar);
		if (job_qname(r, name, var, w, text, sizeof(text)) < 0)
			continue;
		j->qname = w;
		j->qtype = job_type(r, name);
		j->target = (uint16_t)t;
		j->tag = k;
		return 1;
	}
	return 0;
}

static int ctl_get(void *arg, size_t i, uint8_t *qname, uint16_t *qtype)
{
	struct run *r = arg;
	char text[NAME_MAXTEXT];
	size_t name = i / r->nvar;
	*qtype = job_type(r, name);
	int rc = job_qname(r, name, (unsigned)(i % r->nvar), qname, text, sizeof(text));
	return rc < 0 ? rc : 0;
}

static void put_reply(FILE *f, const struct probe_reply *p, unsigned cls, int inj)
{
	char ans[PROBE_MAXADDR * 48 + 8];
	const char *rc = msg_rcode_name(msg_flags_rcode(p->flags));
	fprintf(f, "{\"t_ms\":%.3f,\"ip_ttl\":%u,\"flags\":\"%04x\",\"rcode\":\"%s\",\"ttl\":%u,\"opt\":%s,\"answers\":[",
		p->t_us / 1000.0, p->ip_ttl, p->flags, rc ? rc : "?", p->ttl, p->opt ? "true" : "false");
	prober_reply_answers(p, ans, sizeof(ans));
	char *s = ans;
	bool first = true;
	while (*s) {
		char *sp = strchr(s, ' ');
		if (sp)
			*sp = 0;
		fprintf(f, "%s\"%s\"", first ? "" : ",", s);
		first = false;
		if (!sp)
			break;
		s = sp + 1;
	}
	fprintf(f, "],\"other\":%u,\"class\":\"%s\"", p->nother, judge_class_name((enum judge_class)cls));
	if (inj)
		fprintf(f, ",\"injector\":%d", inj);
	fputc('}', f);
}

static void on_done(void *arg, const struct probe_job *j, const struct probe_result *res)
{
	struct run *r = arg;
	size_t k = j->tag, t = k % r->cfg.ntargets, nv = k / r->cfg.ntargets;
	size_t name = nv / r->nvar;
	unsigned var = (unsigned)(nv % r->nvar);
	struct judge_ctx vc = {.silent = r->silent[t], .edns_sent = r->cfg.edns, .ctl = r->ctl ? &r->ctl[nv] : NULL};
	uint8_t cls[PROBE_MAXREP];
	int inj[PROBE_MAXREP] = {0};
	enum judge_verdict v = judge_result(&vc, res, cls);
	uint64_t mask = 0;
	for (unsigned i = 0; i < res->nrep; i++) {
		if (cls[i] == JR_FORGED) {
			inj[i] = fp_add(&r->fp, &res->rep[i]);
			if (inj[i])
				mask |= 1ull << (inj[i] - 1);
		}
	}
	fp_note_query(&r->fp, mask);
	r->sum.queries++;
	r->sum.answered += res->nrep > 0;
	r->sum.verdicts[v]++;
	if (r->kinds) {
		size_t b = name * r->cfg.ntargets + t;
		if (v == JV_FORGED)
			r->kforged[b] |= (uint16_t)(1u << var);
		if (v == JV_FORGED || v == JV_GENUINE || (v == JV_NONE && r->silent[t]))
			r->kknown[b] |= (uint16_t)(1u << var);
	}
	char text[NAME_MAXTEXT], tbuf[16];
	char nm[NAME_MAXTEXT];
	uint8_t w[NAME_MAXLEN];
	if (job_qname(r, name, var, w, nm, sizeof(nm)) < 0)
		snprintf(nm, sizeof(nm), "?");
	(void)text;
	const char *type = rrtype_to_text(j->qtype, tbuf);
	FILE *f = r->out;
	fputs("{\"name\":", f);
	json_str(f, nm);
	fprintf(f, ",\"type\":\"%s\",\"target\":\"%s\"", type, r->tname[t]);
	if (r->kinds) {
		fputs(",\"base\":", f);
		json_str(f, r->nl.e[name].name);
		fprintf(f, ",\"variant\":%u", var);
	}
	fprintf(f, ",\"verdict\":\"%s\",\"attempts\":%u,\"nreplies\":%u", judge_name(v), res->attempts,
		res->nrep + res->extra);
	if (!r->no_replies) {
		fputs(",\"replies\":[", f);
		for (unsigned i = 0; i < res->nrep; i++) {
			if (i)
				fputc(',', f);
			put_reply(f, &res->rep[i], cls[i], inj[i]);
		}
		fputc(']', f);
	}
	fputs("}\n", f);
	if (r->db && !r->store_err) {
		double sent = r->t0_real + (double)(res->sent_us - r->t0_us) / 1e6;
		if (store_query(r->db, nm, type, r->tname[t], judge_name(v), sent, res, cls, inj) < 0)
			r->store_err = 1;
	}
}

static void on_tick(void *arg, const struct probe_stats *s, uint64_t now)
{
	struct run *r = arg;
	if (r->quiet)
		return;
	uint64_t gap = r->tty ? 250000 : 2000000;
	if (now - r->last_progress_us < gap && s->done < r->njobs)
		return;
	r->last_progress_us = now;
	double el = (double)(now - r->t0_us) / 1e6;
	fprintf(stderr, "%sprobe: %llu/%zu done, %.0f q/s, %u in flight, %llu replies, %llu forged, %llu retries%s",
		r->tty ? "\r" : "", (unsigned long long)s->done, r->njobs, el > 0 ? (double)s->done / el : 0.0,
		s->active, (unsigned long long)s->replies, (unsigned long long)r->sum.verdicts[JV_FORGED],
		(unsigned long long)s->retries, r->tty ? "   " : "\n");
}

static char *join_args(int argc, char **argv)
{
	size_t len = 16;
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *s = malloc(len);
	if (!s)
		return NULL;
	strcpy(s, "antidote");
	for (int i = 0; i < argc; i++) {
		strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

int cmd_probe(int argc, char **argv)
{
	enum { O_NAMES = 256, O_TARGET, O_SILENT, O_CONTROL, O_KINDS, O_RATE, O_INFLIGHT, O_SOCKETS, O_TIMEOUT,
	       O_RETRIES, O_WINDOW, O_TYPE, O_RD, O_NOEDNS, O_SQLITE, O_QUIET, O_NOREP, O_HELP };
	static const struct option opts[] = {
		{"names", required_argument, NULL, O_NAMES},     {"target", required_argument, NULL, O_TARGET},
		{"silent", required_argument, NULL, O_SILENT},   {"control", required_argument, NULL, O_CONTROL},
		{"kinds", no_argument, NULL, O_KINDS},           {"rate", required_argument, NULL, O_RATE},
		{"inflight", required_argument, NULL, O_INFLIGHT}, {"sockets", required_argument, NULL, O_SOCKETS},
		{"timeout", required_argument, NULL, O_TIMEOUT}, {"retries", required_argument, NULL, O_RETRIES},
		{"window", required_argument, NULL, O_WINDOW},   {"type", required_argument, NULL, O_TYPE},
		{"rd", no_argument, NULL, O_RD},                 {"no-edns", no_argument, NULL, O_NOEDNS},
		{"sqlite", required_argument, NULL, O_SQLITE},   {"quiet", no_argument, NULL, O_QUIET},
		{"no-replies", no_argument, NULL, O_NOREP},      {"help", no_argument, NULL, O_HELP},
		{NULL, 0, NULL, 0},
	};
	static struct run r;
	memset(&r, 0, sizeof(r));
	probe_cfg_default(&r.cfg);
	r.deftype = RR_A;
	const char *names = NULL, *sqlite = NULL;
	net_addr control;
	bool have_control = false;
	char err[512];
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *end = NULL;
		switch (c) {
		case O_NAMES: names = optarg; break;
		case O_TARGET:
		case O_SILENT:
			if (r.cfg.ntargets >= PROBE_MAXTARGETS) {
				fprintf(stderr, "antidote probe: at most %d targets\n", PROBE_MAXTARGETS);
				return 2;
			}
			if (addr_parse(&r.cfg.targets[r.cfg.ntargets], optarg, 53, err, sizeof(err)) < 0) {
				fprintf(stderr, "antidote probe: %s\n", err);
				return 2;
			}
			r.silent[r.cfg.ntargets] = c == O_SILENT;
			addr_format(&r.cfg.targets[r.cfg.ntargets], r.tname[r.cfg.ntargets], ADDR_STRLEN);
			r.cfg.ntargets++;
			break;
		case O_CONTROL:
			if (addr_parse(&control, optarg, 53, err, sizeof(err)) < 0) {
				fprintf(stderr, "antidote probe: %s\n", err);
				return 2;
			}
			have_control = true;
			break;
		case O_KINDS: r.kinds = true; break;
		case O_RATE: r.cfg.rate = strtod(optarg, &end); break;
		case O_INFLIGHT: r.cfg.inflight = (unsigned)strtoul(optarg, &end, 10); break;
		case O_SOCKETS: r.cfg.sockets = (unsigned)strtoul(optarg, &end, 10); break;
		case O_TIMEOUT: r.cfg.timeout_ms = (int)strtol(optarg, &end, 10); break;
		case O_RETRIES: r.cfg.retries = (int)strtol(optarg, &end, 10); break;
		case O_WINDOW: r.cfg.window_ms = (int)strtol(optarg, &end, 10); break;
		case O_TYPE: {
			int t = rrtype_from_text(optarg, strlen(optarg));
			if (t < 0) {
				fprintf(stderr, "antidote probe: unknown type '%s'\n", optarg);
				return 2;
			}
			r.deftype = (uint16_t)t;
			break;
		}
		case O_RD: r.cfg.rd = true; break;
		case O_NOEDNS: r.cfg.edns = false; break;
		case O_SQLITE: sqlite = optarg; break;
		case O_QUIET: r.quiet = true; break;
		case O_NOREP: r.no_replies = true; break;
		case 'h':
		case O_HELP: usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (end && *end) {
			fprintf(stderr, "antidote probe: bad number '%s'\n", optarg);
			return 2;
		}
	}
	if (optind < argc || !names || !r.cfg.ntargets) {
		fprintf(stderr, "antidote probe: %s\n", optind < argc ? "unexpected argument" : "--names and a --target are required");
		usage(stderr);
		return 2;
	}
	long n = namelist_load(&r.nl, names, err, sizeof(err));
	if (n < 0) {
		fprintf(stderr, "antidote probe: %s\n", err);
		return 1;
	}
	r.nvar = r.kinds ? RK_NVAR : 1;
	r.njobs = r.nl.n * r.nvar * r.cfg.ntargets;
	struct prober *p = prober_new(&r.cfg, err, sizeof(err));
	if (!p) {
		fprintf(stderr, "antidote probe: %s\n", err);
		namelist_free(&r.nl);
		return 2;
	}
	int rc = 0;
	if (sqlite) {
		char *cmdline = join_args(argc, argv);
		r.db = store_open(sqlite, cmdline ? cmdline : "antidote probe", err, sizeof(err));
		free(cmdline);
		if (!r.db) {
			fprintf(stderr, "antidote probe: %s\n", err);
			rc = 1;
			goto out;
		}
	}
	if (r.kinds) {
		r.kforged = calloc(r.nl.n * r.cfg.ntargets, sizeof(uint16_t));
		r.kknown = calloc(r.nl.n * r.cfg.ntargets, sizeof(uint16_t));
		if (!r.kforged || !r.kknown) {
			fprintf(stderr, "antidote probe: out of memory\n");
			rc = 1;
			goto out;
		}
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	r.tty = isatty(2);
	if (have_control) {
		size_t nc = r.nl.n * r.nvar;
		r.ctl = calloc(nc ? nc : 1, sizeof(*r.ctl));
		if (!r.ctl) {
			fprintf(stderr, "antidote probe: out of memory\n");
			rc = 1;
			goto out;
		}
		uint64_t t = probe_now_us();
		long got = control_fetch(&control, 4, nc, ctl_get, &r, r.ctl, r.cfg.timeout_ms * (r.cfg.retries + 1) + 1000,
					 err, sizeof(err));
		if (got < 0) {
			fprintf(stderr, "antidote probe: %s\n", err);
			rc = 1;
			goto out;
		}
		if (!r.quiet)
			fprintf(stderr, "probe: control answered %ld/%zu questions over TCP in %.2f s\n", got, nc,
				(double)(probe_now_us() - t) / 1e6);
	}
	fp_init(&r.fp);
	r.out = stdout;
	static char obuf[1 << 20];
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	r.t0_real = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	r.t0_us = probe_now_us();
	if (prober_run(p, next_job, on_done, on_tick, &r, &stop_flag) < 0) {
		fprintf(stderr, "antidote probe: event loop failed\n");
		rc = 1;
	}
	double el = (double)(probe_now_us() - r.t0_us) / 1e6;
	if (!r.quiet && r.tty)
		fputc('\n', stderr);
	for (unsigned i = 1; i <= r.fp.n; i++) {
		fp_print_json(&r.fp, (int)i, stdout);
		fputc('\n', stdout);
		if (r.db && !r.store_err && store_injector(r.db, &r.fp, (int)i) < 0)
			r.store_err = 1;
	}
	unsigned kinds_n[RK_UNKNOWN + 1] = {0};
	if (r.kinds) {
		for (size_t b = 0; b < r.nl.n; b++) {
			for (unsigned t = 0; t < r.cfg.ntargets; t++) {
				size_t i = b * r.cfg.ntargets + t;
				int dist;
				enum rk_kind k = rulekind_classify(r.kforged[i], r.kknown[i], &dist);
				kinds_n[k]++;
				char rule[NAME_MAXTEXT + 8], pat[RK_NVAR + 1], kn[RK_NVAR + 1];
				if (rulekind_format(k, r.nl.e[b].name, rule, sizeof(rule)) < 0)
					rule[0] = 0;
				for (unsigned v = 0; v < RK_NVAR; v++) {
					pat[v] = (r.kforged[i] >> v & 1) ? 'F' : (r.kknown[i] >> v & 1) ? '-' : '?';
					kn[v] = (rulekind_pattern(k < RK_NKINDS ? k : RK_EXACT) >> v & 1) ? 'F' : '-';
				}
				pat[RK_NVAR] = kn[RK_NVAR] = 0;
				fputs("{\"base\":", stdout);
				json_str(stdout, r.nl.e[b].name);
				fprintf(stdout, ",\"target\":\"%s\",\"kind\":\"%s\",\"rule\":", r.tname[t], rulekind_name(k));
				json_str(stdout, rule);
				fprintf(stdout, ",\"observed\":\"%s\",\"distance\":%d}\n", pat, dist);
				if (r.db && !r.store_err &&
				    store_base(r.db, r.nl.e[b].name, r.tname[t], k, r.kforged[i], r.kknown[i], dist) < 0)
					r.store_err = 1;
			}
		}
	}
	const struct probe_stats *s = prober_stats(p);
	printf("{\"summary\":{\"queries\":%llu,\"answered\":%llu,\"verdicts\":{\"forged\":%llu,\"genuine\":%llu,"
	       "\"conflict\":%llu,\"none\":%llu},\"replies\":%llu,\"sent\":%llu,\"retries\":%llu,\"late\":%llu,"
	       "\"unmatched\":%llu,\"bad\":%llu,\"send_errors\":%llu,\"injectors\":%u,\"elapsed_s\":%.3f,\"qps\":%.0f",
	       (unsigned long long)r.sum.queries, (unsigned long long)r.sum.answered,
	       (unsigned long long)r.sum.verdicts[JV_FORGED], (unsigned long long)r.sum.verdicts[JV_GENUINE],
	       (unsigned long long)r.sum.verdicts[JV_CONFLICT], (unsigned long long)r.sum.verdicts[JV_NONE],
	       (unsigned long long)s->replies, (unsigned long long)s->sent, (unsigned long long)s->retries,
	       (unsigned long long)s->late, (unsigned long long)s->unmatched, (unsigned long long)s->bad,
	       (unsigned long long)s->send_err, r.fp.n, el, el > 0 ? (double)r.sum.queries / el : 0.0);
	if (r.kinds) {
		fputs(",\"kinds\":{", stdout);
		for (int k = 0; k <= RK_UNKNOWN; k++)
			printf("%s\"%s\":%u", k ? "," : "", rulekind_name((enum rk_kind)k), kinds_n[k]);
		fputc('}', stdout);
	}
	printf(",\"interrupted\":%s}}\n", stop_flag ? "true" : "false");
	fflush(stdout);
	if (!r.quiet) {
		fprintf(stderr, "probe: %llu queries in %.2f s (%.0f/s): %llu forged, %llu genuine, %llu conflict, %llu none; "
				"%u injectors\n",
			(unsigned long long)r.sum.queries, el, el > 0 ? (double)r.sum.queries / el : 0.0,
			(unsigned long long)r.sum.verdicts[JV_FORGED], (unsigned long long)r.sum.verdicts[JV_GENUINE],
			(unsigned long long)r.sum.verdicts[JV_CONFLICT], (unsigned long long)r.sum.verdicts[JV_NONE],
			r.fp.n);
		for (unsigned i = 0; i < r.fp.n; i++) {
			const struct fp_cluster *fc = &r.fp.c[i];
			fprintf(stderr, "  injector %u: flags %04x, IP TTL %u, OPT %s, TTL %u-%u, %llu replies, %llu queries, pool %zu\n",
				i + 1, fc->flags, fc->ip_ttl, fc->opt ? "yes" : "no", fc->ttl_min, fc->ttl_max,
				(unsigned long long)fc->replies, (unsigned long long)fc->queries, fc->nset);
		}
	}
	r.sum.injectors = r.fp.n;
	if (r.db) {
		if (store_close(r.db, &r.sum) < 0 || r.store_err) {
			fprintf(stderr, "antidote probe: %s: write error\n", sqlite);
			rc = 1;
		}
		r.db = NULL;
	}
	if (stop_flag)
		rc = 1;
out:
	if (r.db)
		store_close(r.db, NULL);
	fp_free(&r.fp);
	free(r.ctl);
	free(r.kforged);
	free(r.kknown);
	prober_free(p);
	namelist_free(&r.nl);
	return rc;
}
