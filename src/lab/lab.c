/* lab — the `antidote lab SCENARIO` subcommand: builds a synthetic internet,
 * starts its servers, the injecting border relay and the resolvers under
 * test on loopback, drives users through a scenario's timeline and reports
 * what each resolver served.
 *
 * Relay mode (this file): everything on 127.0.0.1 with distinct ports; the
 * border is `antidote inject --listen/--forward`, spawned last with
 * --epoch-ms = the CLOCK_REALTIME instant the users start, so that its
 * fault window lines up with the users' clock exactly.
 * Order: zones -> servers abroad/domestic -> resolvers (ready when they
 * answer "cn SOA", which never crosses the border) -> relay -> users.
 * Namespace mode (--netns, root) swaps only the plumbing (lab/netns.h):
 *   server ns  the servers abroad on 127.0.0.1:P behind a delay line (`antidote
 *              inject --netns=..-server --profile none --delay D`) listening on
 *              203.0.113.2:53: the kernel has no netem, so the ocean is a relay;
 *   border ns  `antidote inject --netns=..-border`: sniffs UDP/53 on the
 *              client-facing veth, forges from a raw socket, the kernel forwards;
 *   client ns  resolvers, the domestic server (inside the border, as in relay
 *              mode where domestic traffic never crosses it) and the users (the
 *              lab's own sockets are made in the client namespace).
 * Children join their namespace with setns before exec (child_set_netns);
 * readiness probes go out from the client namespace. The namespaces are
 * removed by cleanup(), Ctrl-C included; stale ones of a crashed run at the
 * next start. Internet, users, report and the resolver kinds stay. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "dns/err.h"
#include "inject/gfwlist.h"
#include "inject/profile.h"
#include "inject/rules.h"
#include "lab/child.h"
#include "lab/internet.h"
#include "lab/netns.h"
#include "lab/report.h"
#include "lab/resolvers.h"
#include "lab/rng.h"
#include "lab/users.h"
#include "util/log.h"
#include "util/clock.h"

/* ---- scenarios ---- */

enum fault_kind { FAULT_NONE, FAULT_INJECT_WINDOW, FAULT_FREEZE_DOMESTIC };

struct scenario {
	const char *name;
	const char *profile;
	enum fault_kind fault;
	const char *summary;
};

static const struct scenario scenarios[] = {
	{"jan21", "jan21", FAULT_INJECT_WINDOW,
	 "21 Jan 2014: steady GFW injection, then every .com/.net/.org answered 65.49.2.178 for a window"},
	{"gfw", "gfw", FAULT_NONE, "today's GFW triplet injecting forged answers for blocklisted names"},
	{"iran", "iran", FAULT_NONE, "Iran's injector: blocklisted names answered 10.10.34.34-36"},
	{"cn-ddos", "gfw", FAULT_FREEZE_DOMESTIC,
	 "25 Aug 2013: the .cn servers go silent for a window (domestic server SIGSTOPped)"},
	{"calm", "none", FAULT_NONE, "no injector at all (a baseline)"},
};

static const struct scenario *scenario_find(const char *name)
{
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (!strcmp(scenarios[i].name, name))
			return &scenarios[i];
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: antidote lab [SCENARIO] [OPTIONS]\n"
		"Replays a real DNS incident end to end on loopback: a synthetic internet served by\n"
		"`antidote serve`, the border as an `antidote inject` relay, the resolvers under test side by\n"
		"side, and users asking all of them the same names at the same time; every answer is checked\n"
		"against the truth.\n\nscenarios:\n");
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		fprintf(f, "  %-8s %s\n", scenarios[i].name, scenarios[i].summary);
	fprintf(f, "\nresolvers (--resolvers, default: every one that can run here):\n");
	for (unsigned i = 0; i < resolver_nkinds; i++)
		fprintf(f, "  %-15s %s\n", resolver_kinds[i].name, resolver_kinds[i].desc);
	fprintf(f,
		"\noptions:\n"
		"  --sites N          sites in the synthetic internet (default 2000, at most %d)\n"
		"  --domestic PCT     share of domestic sites (.cn and the china list; default 10)\n"
		"  --listed PCT       share of foreign sites taken from gfwlist (default 20)\n"
		"  --seed S           seed for the internet, the traffic and the injector (default 1)\n"
		"  --rate R           queries per second to each resolver (default 500)\n"
		"  --duration S       seconds of user traffic (default 45)\n"
		"  --fault-start S    fault window start, seconds (default 10)\n"
		"  --fault-length S   fault window length, seconds (default 15)\n"
		"  --delay MS         one-way delay across the border (default 40)\n"
		"  --tune INJ.KEY=VALUE  passed to the injector (antidote inject --help: fire=P,\n"
		"                     lead=N..M, ip_ttl=..., df=..., rst=...); repeatable, at most 16\n"
		"  --forged-ttl S     TTL of the jan21 forged answers (default 12: the lab's time is\n"
		"                     compressed, see --ttl-scale)\n"
		"  --ttl-scale K      zone TTLs are realistic ones divided by K (default: the fault window\n"
		"                     stands for the 29 minutes of 21 Jan 2014, so 116 for 15 s; else 100)\n"
		"  --zipf S           Zipf exponent of name popularity (default 1.0)\n"
		"  --aaaa PCT         share of AAAA queries (default 0)\n"
		"  --timeout MS       a user gives up after MS (default 1500)\n"
		"  --resolvers LIST   comma-separated kinds to test\n"
		"  --data DIR         lists (gfwlist, china list, pools); default ../shared/data from the\n"
		"                     working directory or above the binary; also $ANTIDOTE_DATA\n"
		"  --json FILE        write the measurements as JSON\n"
		"  --svg FILE         write a timeline of the forged share per resolver\n"
		"  --keep             keep the temporary directory (zones, configs, logs)\n"
		"  --quiet            no progress line\n"
		"  --no-watch         no `antidote watch` beside the resolvers (default: one per resolver, 30\n"
		"                     canaries *.SITE over unrelated .com/.net/.org sites and 6 .cn ones;\n"
		"                     reports time to detect, time to clear and false positives)\n"
		"  --watch-interval S seconds between its rounds (default 0.25)\n"
		"  --watch-timeout MS its per-attempt timeout (default 400)\n"
		"  --watch-retries N  its retries (default 1: a resolver stalled 400 ms under load is\n"
		"                     not a TLD outage; a real one is raised ~1 s after it starts)\n"
		"  --probe, --no-probe  measure the border with `antidote probe` after the users (default: gfw\n"
		"                     only): censored-name set, injectors' pools, rule kinds vs the injector log\n"
		"  --probe-kinds N    generated bases per rule kind in that measurement (default 30; 0: none)\n"
		"  --netns            namespace mode (root): client, border and server network namespaces\n"
		"                     joined by veths (198.51.100.0/24, 203.0.113.0/24); the injector sniffs\n"
		"                     at the border and forges with raw sockets while the kernel forwards;\n"
		"                     the servers abroad sit behind a --delay line in their namespace\n"
		"Everything runs on 127.0.0.0/8 (or in antidote's own namespaces); every child process is\n"
		"stopped on exit, Ctrl-C included.\n",
		INTERNET_MAXSITES);
}

/* ---- signals and cleanup ---- */

static volatile sig_atomic_t stop_sig;
static bool keep_temp;
static bool use_netns;
static struct netns_topo topo;

static void on_signal(int sig)
{
	stop_sig = sig;
}

static void cleanup(void)
{
	child_kill_all();
	if (use_netns)
		netns_destroy(&topo);
	child_rmtemp(keep_temp);
}

/* ---- small helpers ---- */

static bool file_exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0;
}

static bool data_ok(const char *dir)
{
	char p[PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/gfwlist-2026-08.b64", dir);
	return file_exists(p);
}

/* The data directory: --data, $ANTIDOTE_DATA, ./../shared/data, then
 * ../shared/data next to each ancestor of the binary. */
static bool find_data(const char *opt, char *out, size_t cap)
{
	if (opt) {
		snprintf(out, cap, "%s", opt);
		return data_ok(out);
	}
	const char *env = getenv("ANTIDOTE_DATA");
	if (env && *env) {
		snprintf(out, cap, "%s", env);
		if (data_ok(out))
			return true;
	}
	snprintf(out, cap, "../shared/data");
	if (data_ok(out))
		return true;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return false;
	exe[n] = 0;
	for (int up = 0; up < 8; up++) {
		char *s = strrchr(exe, '/');
		if (!s || s == exe)
			break;
		*s = 0;
		if (snprintf(out, cap, "%s/../shared/data", exe) < (int)cap && data_ok(out))
			return true;
	}
	return false;
}

/* A free port on 127.0.0.1 for UDP and TCP, below the ephemeral range so
 * resolvers' outgoing sockets do not take it meanwhile. */
static uint16_t pick_port(struct rng *r)
{
	for (int tries = 0; tries < 200; tries++) {
		uint16_t p = (uint16_t)(20000 + rng_below(r, 12000));
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(p),
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		int t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		bool ok = u >= 0 && t >= 0 && bind(u, (struct sockaddr *)&a, sizeof(a)) == 0 &&
			  bind(t, (struct sockaddr *)&a, sizeof(a)) == 0;
		if (u >= 0)
			close(u);
		if (t >= 0)
			close(t);
		if (ok)
			return p;
	}
	return 0;
}

/* A UDP socket of the lab: in the client namespace in namespace mode. */
static int lab_udp_socket(void)
{
	if (use_netns)
		return netns_socket(topo.fd[NETNS_CLIENT], AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	return socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

/* Sends "qname SOA" to ip:port (ip in host order; from the client
 * namespace in namespace mode) until any reply comes, the child dies, or
 * timeout_ms passes. */
static bool wait_ready(uint32_t ip, uint16_t port, const char *qname, struct child *c, int timeout_ms)
{
	int fd = lab_udp_socket();
	if (fd < 0)
		return false;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(ip)};
	uint8_t q[300] = {0x4c, 0x41, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
	size_t o = 12;
	for (const char *p = qname; *p;) {
		const char *d = strchr(p, '.');
		size_t l = d ? (size_t)(d - p) : strlen(p);
		if (l == 0 || l > 63 || o + l + 6 > sizeof(q))
			break;
		q[o++] = (uint8_t)l;
		memcpy(q + o, p, l);
		o += l;
		p += l + (d ? 1 : 0);
	}
	q[o++] = 0;
	q[o++] = 0;
	q[o++] = 6; /* SOA */
	q[o++] = 0;
	q[o++] = 1;
	bool ok = false;
	double end = clock_mono_s() + timeout_ms / 1000.0;
	while (!ok && !stop_sig && clock_mono_s() < end && child_alive(c)) {
		sendto(fd, q, o, 0, (struct sockaddr *)&a, sizeof(a));
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		if (poll(&pf, 1, 100) > 0) {
			uint8_t buf[1500];
			ssize_t n = recv(fd, buf, sizeof(buf), 0);
			ok = n >= 12 && buf[0] == 0x4c && buf[1] == 0x41;
		}
	}
	close(fd);
	return ok;
}

static struct child *start_checked(const char *name, char **argv, const char *dir, uint32_t ip, uint16_t port,
				   const char *probe, char *err, size_t errlen)
{
	char log[PATH_MAX];
	snprintf(log, sizeof(log), "%s/%s.log", dir, name);
	struct child *c = child_spawn(name, argv, log, err, errlen);
	if (!c)
		return NULL;
	if (!wait_ready(ip, port, probe, c, 8000)) {
		char tail[600];
		child_log_tail(c, tail, sizeof(tail));
		snprintf(err, errlen, "%s did not come up on %u.%u.%u.%u:%u%s%s", name, ip >> 24, ip >> 16 & 255,
			 ip >> 8 & 255, ip & 255, port, tail[0] ? ": " : "", tail);
		child_kill(c, 200);
		return NULL;
	}
	return c;
}

/* ---- the injector's log: ground truth ---- */

struct fset {
	uint64_t *k;
	size_t cap, n;
};

static uint64_t fkey(uint32_t site, const uint8_t *addr, size_t alen)
{
	uint64_t h = 0xcbf29ce484222325ull ^ site;
	for (size_t i = 0; i < alen; i++)
		h = (h ^ addr[i]) * 0x100000001b3ull;
	return h | 1; /* 0 = empty */
}

static bool fset_has(const struct fset *s, uint64_t k)
{
	if (!s->cap)
		return false;
	for (size_t i = k & (s->cap - 1); s->k[i]; i = (i + 1) & (s->cap - 1))
		if (s->k[i] == k)
			return true;
	return false;
}

static int fset_add(struct fset *s, uint64_t k)
{
	if ((s->n + 1) * 2 > s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 1024;
		uint64_t *nk = calloc(nc, sizeof(uint64_t));
		if (!nk)
			return DNS_ENOMEM;
		for (size_t i = 0; i < s->cap; i++)
			if (s->k[i]) {
				size_t j = s->k[i] & (nc - 1);
				while (nk[j])
					j = (j + 1) & (nc - 1);
				nk[j] = s->k[i];
			}
		free(s->k);
		s->k = nk;
		s->cap = nc;
	}
	size_t i = k & (s->cap - 1);
	while (s->k[i] && s->k[i] != k)
		i = (i + 1) & (s->cap - 1);
	if (!s->k[i]) {
		s->k[i] = k;
		s->n++;
	}
	return 0;
}

/* Value of "key": in a JSON line: a string (unescaped simply) or a number. */
static bool json_field(const char *line, const char *key, char *out, size_t cap)
{
	char pat[40];
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	const char *p = strstr(line, pat);
	if (!p)
		return false;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	size_t o = 0;
	if (*p == '"') {
		for (p++; *p && *p != '"' && o + 1 < cap; p++)
			out[o++] = *p == '\\' && p[1] ? *++p : *p;
	} else {
		for (; *p && *p != ',' && *p != '}' && o + 1 < cap; p++)
			out[o++] = *p;
	}
	out[o] = 0;
	return o > 0;
}

static int read_injector_log(const char *path, const struct internet *net, struct report *rep, double t0_real,
			     struct fset *set)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return DNS_EIO;
	char line[2048], v[256];
	while (fgets(line, sizeof(line), f)) {
		if (!json_field(line, "qname", v, sizeof(v)))
			continue;
		char ty[16];
		if (json_field(line, "type", ty, sizeof(ty)) && !strcmp(ty, "RST"))
			continue; /* a TCP reset (namespace mode), not a forged answer */
		int site = internet_find(net, v, strlen(v));
		char addr[64];
		uint8_t a[16];
		size_t alen = 0;
		if (json_field(line, "address", addr, sizeof(addr))) {
			if (inet_pton(AF_INET, addr, a) == 1)
				alen = 4;
			else if (inet_pton(AF_INET6, addr, a) == 1)
				alen = 16;
		}
		rep->inj.forged++;
		if (json_field(line, "t", v, sizeof(v))) {
			double t = strtod(v, NULL);
			rep->inj.phase[report_phase_at(rep, (int64_t)((t - t0_real) * 1000))]++;
		}
		if (site >= 0 && alen && fset_add(set, fkey((uint32_t)site, a, alen)) < 0) {
			fclose(f);
			return DNS_ENOMEM;
		}
	}
	fclose(f);
	rep->inj.have_log = true;
	return 0;
}

/* ---- options ---- */

#define INCIDENT_S (29 * 60) /* 21 Jan 2014, 15:10-15:39 (UTC+8) */

struct lab_opts {
	const struct scenario *sc;
	struct internet_opts net;
	struct users_cfg users;
	double duration, fault_start, fault_len;
	unsigned delay_ms, forged_ttl;
	const char *resolvers, *data, *json, *svg;
	bool quiet, netns;
	bool no_watch;          /* no `antidote watch` beside the resolvers */
	double watch_interval;  /* seconds between its rounds */
	unsigned watch_timeout; /* ms per canary query */
	unsigned watch_retries;
	int probe;              /* `antidote probe` at the border: -1 = gfw only, 0 off, 1 on */
	unsigned per_kind;      /* generated bases per rule kind for its kinds run */
	const char *tune[16];   /* --tune, passed to the injector */
	int ntune;
};

static bool parse_num(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		return false;
	*out = v;
	return true;
}

static int parse_opts(int argc, char **argv, struct lab_opts *o)
{
	enum { O_SITES = 256, O_SEED, O_RATE, O_DUR, O_FSTART, O_FLEN, O_DELAY, O_FTTL, O_SCALE, O_ZIPF, O_TIMEOUT,
	       O_RES, O_DATA, O_JSON, O_SVG, O_KEEP, O_QUIET, O_DOM, O_LISTED, O_AAAA, O_NETNS,
	       O_NOWATCH, O_WINT, O_WTMO, O_PROBE, O_NOPROBE, O_PKINDS, O_WRETRY, O_TUNE, O_HELP };
	static const struct option lo[] = {
		{"sites", required_argument, NULL, O_SITES}, {"seed", required_argument, NULL, O_SEED},
		{"rate", required_argument, NULL, O_RATE}, {"duration", required_argument, NULL, O_DUR},
		{"fault-start", required_argument, NULL, O_FSTART}, {"fault-length", required_argument, NULL, O_FLEN},
		{"delay", required_argument, NULL, O_DELAY}, {"forged-ttl", required_argument, NULL, O_FTTL},
		{"ttl-scale", required_argument, NULL, O_SCALE}, {"zipf", required_argument, NULL, O_ZIPF},
		{"timeout", required_argument, NULL, O_TIMEOUT}, {"resolvers", required_argument, NULL, O_RES},
		{"data", required_argument, NULL, O_DATA}, {"json", required_argument, NULL, O_JSON},
		{"svg", required_argument, NULL, O_SVG}, {"keep", no_argument, NULL, O_KEEP},
		{"quiet", no_argument, NULL, O_QUIET}, {"domestic", required_argument, NULL, O_DOM},
		{"listed", required_argument, NULL, O_LISTED}, {"aaaa", required_argument, NULL, O_AAAA},
		{"netns", no_argument, NULL, O_NETNS},
		{"no-watch", no_argument, NULL, O_NOWATCH}, {"watch-interval", required_argument, NULL, O_WINT},
		{"watch-timeout", required_argument, NULL, O_WTMO}, {"probe", no_argument, NULL, O_PROBE},
		{"no-probe", no_argument, NULL, O_NOPROBE}, {"probe-kinds", required_argument, NULL, O_PKINDS},
		{"watch-retries", required_argument, NULL, O_WRETRY}, {"tune", required_argument, NULL, O_TUNE},
		{"help", no_argument, NULL, O_HELP}, {NULL, 0, NULL, 0},
	};
	internet_opts_default(&o->net);
	users_cfg_default(&o->users);
	o->duration = 45;
	o->fault_start = 10;
	o->fault_len = 15;
	o->delay_ms = 40;
	o->forged_ttl = 12;
	o->watch_interval = 0.25;
	o->watch_timeout = 400;
	o->watch_retries = 1;
	o->probe = -1;
	o->per_kind = 30;
	optind = 1;
	int c;
	double v;
	bool scale_set = false;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		bool ok = true;
		switch (c) {
		case O_SITES: ok = parse_num(optarg, 10, INTERNET_MAXSITES, &v); o->net.sites = (unsigned)v; break;
		case O_SEED: ok = parse_num(optarg, 0, 4e9, &v); o->net.seed = o->users.seed = (uint64_t)v; break;
		case O_RATE: ok = parse_num(optarg, 1, 50000, &v); o->users.rate = (unsigned)v; break;
		case O_DUR: ok = parse_num(optarg, 1, 3600, &o->duration); break;
		case O_FSTART: ok = parse_num(optarg, 0, 3600, &o->fault_start); break;
		case O_FLEN: ok = parse_num(optarg, 0, 3600, &o->fault_len); break;
		case O_DELAY: ok = parse_num(optarg, 0, 4000, &v); o->delay_ms = (unsigned)v; break;
		case O_FTTL: ok = parse_num(optarg, 0, 604800, &v); o->forged_ttl = (unsigned)v; break;
		case O_SCALE: ok = parse_num(optarg, 1, 100000, &v); o->net.ttl_scale = (unsigned)v; scale_set = true; break;
		case O_ZIPF: ok = parse_num(optarg, 0, 10, &o->users.zipf_s); break;
		case O_TIMEOUT: ok = parse_num(optarg, 10, 60000, &v); o->users.timeout_ms = (unsigned)v; break;
		case O_RES: o->resolvers = optarg; break;
		case O_DATA: o->data = optarg; break;
		case O_JSON: o->json = optarg; break;
		case O_SVG: o->svg = optarg; break;
		case O_KEEP: keep_temp = true; break;
		case O_QUIET: o->quiet = true; break;
		case O_NETNS: o->netns = true; break;
		case O_NOWATCH: o->no_watch = true; break;
		case O_WINT: ok = parse_num(optarg, 0.05, 60, &o->watch_interval); break;
		case O_WTMO: ok = parse_num(optarg, 10, 60000, &v); o->watch_timeout = (unsigned)v; break;
		case O_PROBE: o->probe = 1; break;
		case O_NOPROBE: o->probe = 0; break;
		case O_PKINDS: ok = parse_num(optarg, 0, 1000, &v); o->per_kind = (unsigned)v; break;
		case O_WRETRY: ok = parse_num(optarg, 0, 5, &v); o->watch_retries = (unsigned)v; break;
		case O_TUNE:
			ok = o->ntune < (int)(sizeof(o->tune) / sizeof(o->tune[0]));
			if (ok)
				o->tune[o->ntune++] = optarg;
			break;
		case O_DOM: ok = parse_num(optarg, 0, 100, &v); o->net.domestic_pct = (unsigned)v; break;
		case O_LISTED: ok = parse_num(optarg, 0, 100, &v); o->net.listed_pct = (unsigned)v; break;
		case O_AAAA: ok = parse_num(optarg, 0, 100, &v); o->users.aaaa_pct = (unsigned)v; break;
		case 'h':
		case O_HELP: usage(stdout); return 1;
		default: usage(stderr); return 2;
		}
		if (!ok) {
			fprintf(stderr, "antidote lab: bad value '%s' for --%s\n", optarg, lo[c - O_SITES].name);
			return 2;
		}
	}
	const char *name = "jan21";
	if (optind < argc)
		name = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "antidote lab: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	o->sc = scenario_find(name);
	if (!o->sc) {
		fprintf(stderr, "antidote lab: unknown scenario '%s'\n", name);
		usage(stderr);
		return 2;
	}
	/* --tune is checked here, against the scenario's profile, not after
	 * the internet is built */
	struct inj_profile prof;
	struct profile_opts popts;
	profile_opts_default(&popts);
	char terr[256];
	if (o->ntune && profile_make(&prof, o->sc->profile, &popts) == 0)
		for (int i = 0; i < o->ntune; i++)
			if (profile_tune(&prof, o->tune[i], terr, sizeof(terr)) < 0) {
				fprintf(stderr, "antidote lab: %s\n", terr);
				return 2;
			}
	if (o->sc->fault != FAULT_NONE && o->fault_start + o->fault_len > o->duration) {
		fprintf(stderr, "antidote lab: the fault window (%.1f+%.1f s) must end within --duration %.1f s\n",
			o->fault_start, o->fault_len, o->duration);
		return 2;
	}
	/* the lab's clock runs faster than the incident's: the window stands for
	 * the real 29 minutes (15:10-15:39), and zone TTLs shrink alike */
	if (!scale_set && o->sc->fault != FAULT_NONE && o->fault_len > 0)
		o->net.ttl_scale = (unsigned)fmax(1, round(INCIDENT_S / o->fault_len));
	o->users.max_s = (unsigned)ceil(o->duration) + 5;
	return 0;
}

/* ---- the run ---- */

struct lab {
	struct lab_opts o;
	char data[PATH_MAX];
	const char *dir;
	char self[PATH_MAX];
	struct internet net;
	struct rules *rules;
	struct report rep;
	struct users *users;
	struct child *abroad, *domestic, *relay, *delayline;
	uint16_t port_abroad, port_domestic, port_relay;
	unsigned nres;
	struct {
		const struct resolver_kind *kind;
		struct child *c;
		uint16_t port;
	} res[REPORT_MAXRES];
	char inj_log[PATH_MAX];
	double t0_real;
	struct rng rng;
	char canaries[PATH_MAX];
	struct child *watch[REPORT_MAXRES];
	char watch_log[REPORT_MAXRES][PATH_MAX];
};

static bool kind_selected(const char *list, const char *name)
{
	if (!list)
		return true;
	size_t l = strlen(name);
	for (const char *p = list; p && *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == l && !strncmp(p, name, l))
			return true;
		p = e ? e + 1 : NULL;
	}
	return false;
}

/* Namespace mode: the delay line in the server namespace, 203.0.113.2:53
 * -> the servers abroad on 127.0.0.1:port there, --delay each way. */
static int start_delayline(struct lab *L, uint16_t port, char *err, size_t errlen)
{
	char ns[80], fwd[64], delay[16], seed[24];
	snprintf(ns, sizeof(ns), "--netns=%s", topo.name[NETNS_SERVER]);
	snprintf(fwd, sizeof(fwd), "127.0.0.1:%u", port);
	snprintf(delay, sizeof(delay), "%u", L->o.delay_ms);
	snprintf(seed, sizeof(seed), "%llu", (unsigned long long)L->o.net.seed);
	char *argv[] = {L->self, "inject", ns, "--listen", NETNS_SERVER_IP ":53", "--forward", fwd, "--profile",
			"none", "--delay", delay, "--seed", seed, NULL};
	struct in_addr ip;
	inet_pton(AF_INET, NETNS_SERVER_IP, &ip);
	L->delayline = start_checked("delayline", argv, L->dir, ntohl(ip.s_addr), 53, "com", err, errlen);
	return L->delayline ? 0 : -1;
}

static int start_servers(struct lab *L, char *err, size_t errlen)
{
	char zdir[PATH_MAX];
	snprintf(zdir, sizeof(zdir), "%s/zones", L->dir);
	if (mkdir(zdir, 0755) < 0) {
		if (snprintf(err, errlen, "%s: %s", zdir, strerror(errno)) < 0)
			err[0] = 0;
		return -1;
	}
	struct internet_files fl;
	if (internet_write_zones(&L->net, zdir, &fl, err, errlen) < 0)
		return -1;
	int rc = -1;
	for (int side = 0; side < 2; side++) {
		char **files = side ? fl.domestic : fl.abroad;
		unsigned nf = side ? fl.ndomestic : fl.nabroad;
		uint16_t port = pick_port(&L->rng);
		char listen[64];
		snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
		char **argv = calloc(2 * nf + 12, sizeof(char *));
		if (!argv || !port) {
			snprintf(err, errlen, argv ? "no free port" : "out of memory");
			free(argv);
			goto out;
		}
		int a = 0;
		argv[a++] = L->self;
		argv[a++] = "serve";
		argv[a++] = "--listen";
		argv[a++] = listen;
		argv[a++] = "--threads";
		argv[a++] = "1";
		argv[a++] = "--quiet";
		for (unsigned i = 0; i < nf; i++) {
			argv[a++] = "--zone";
			argv[a++] = files[i];
		}
		argv[a] = NULL;
		struct child *c;
		if (use_netns && !side) {
			/* abroad: in the server namespace, probed through its delay line */
			char log[PATH_MAX];
			snprintf(log, sizeof(log), "%s/abroad.log", L->dir);
			child_set_netns(topo.fd[NETNS_SERVER]);
			c = child_spawn("abroad", argv, log, err, errlen);
			child_set_netns(-1);
			if (c && start_delayline(L, port, err, errlen) < 0)
				c = NULL;
		} else {
			if (use_netns)
				child_set_netns(topo.fd[NETNS_CLIENT]);
			c = start_checked(side ? "domestic" : "abroad", argv, L->dir, INADDR_LOOPBACK, port,
					  side ? "cn" : "com", err, errlen);
			child_set_netns(-1);
		}
		free(argv);
		if (!c)
			goto out;
		if (side) {
			L->domestic = c;
			L->port_domestic = port;
		} else {
			L->abroad = c;
			L->port_abroad = port;
		}
	}
	rc = 0;
out:
	internet_files_free(&fl);
	return rc;
}

static int start_resolvers(struct lab *L, char *err, size_t errlen)
{
	struct resolvers_env env = {.dir = L->dir, .self = L->self, .datadir = L->data,
				    .border_port = use_netns ? 53 : L->port_relay,
				    .border_ip = use_netns ? NETNS_SERVER_IP : NULL,
				    .domestic_port = L->port_domestic, .net = &L->net};
	for (unsigned i = 0; i < resolver_nkinds && L->nres < REPORT_MAXRES; i++) {
		const struct resolver_kind *k = &resolver_kinds[i];
		if (!kind_selected(L->o.resolvers, k->name))
			continue;
		const char *why = k->missing(&env);
		if (why) {
			if (L->o.resolvers)
				fprintf(stderr, "antidote lab: skipping %s: %s\n", k->name, why);
			continue;
		}
		uint16_t port = pick_port(&L->rng);
		/* resolvers keep their own source-port randomisation: the relay
		 * forgets clients idle for 10 s (relay.h) */
		env.src_port_lo = 0;
		char e2[1024];
		if (use_netns)
			child_set_netns(topo.fd[NETNS_CLIENT]);
		struct child *c = port ? k->start(&env, port, e2, sizeof(e2)) : NULL;
		child_set_netns(-1);
		if (c && !wait_ready(INADDR_LOOPBACK, port, "cn", c, 8000)) {
			char tail[600];
			child_log_tail(c, tail, sizeof(tail));
			snprintf(e2, sizeof(e2), "did not answer on 127.0.0.1:%u%s%s", port, tail[0] ? ": " : "", tail);
			child_kill(c, 200);
			c = NULL;
		}
		if (!c) {
			fprintf(stderr, "antidote lab: skipping %s: %s\n", k->name, port ? e2 : "no free port");
			continue;
		}
		L->res[L->nres].kind = k;
		L->res[L->nres].c = c;
		L->res[L->nres].port = port;
		L->nres++;
	}
	if (!L->nres) {
		snprintf(err, errlen, "no resolver to test (install dnsmasq-base and unbound)");
		return -1;
	}
	return 0;
}

/* The border relay. Its scenario clock is absolute: time 0 is the
 * CLOCK_REALTIME instant epoch_ms, when the users start. */
static int start_relay(struct lab *L, int64_t epoch_ms, char *err, size_t errlen)
{
	char listen[64], fwd[64], delay[16], seed[24], gfw[PATH_MAX + 32], pa[PATH_MAX + 32], p6[PATH_MAX + 32];
	char ws[32], wl[32], wt[16], ep[32];
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", L->port_relay);
	snprintf(fwd, sizeof(fwd), "127.0.0.1:%u", L->port_abroad);
	snprintf(delay, sizeof(delay), "%u", L->o.delay_ms);
	snprintf(seed, sizeof(seed), "%llu", (unsigned long long)L->o.net.seed);
	snprintf(gfw, sizeof(gfw), "%s/gfwlist-2026-08.b64", L->data);
	snprintf(pa, sizeof(pa), "%s/gfw-injector3-pool-a.txt", L->data);
	snprintf(p6, sizeof(p6), "%s/gfw-injector3-pool-aaaa.txt", L->data);
	snprintf(L->inj_log, sizeof(L->inj_log), "%s/inject.jsonl", L->dir);
	char *argv[80], nsopt[80];
	int a = 0;
	argv[a++] = L->self;
	argv[a++] = "inject";
	if (use_netns) {
		snprintf(nsopt, sizeof(nsopt), "--netns=%s", topo.name[NETNS_BORDER]);
		argv[a++] = nsopt;
	} else {
		argv[a++] = "--listen";
		argv[a++] = listen;
		argv[a++] = "--forward";
		argv[a++] = fwd;
		argv[a++] = "--delay";
		argv[a++] = delay;
	}
	argv[a++] = "--profile";
	argv[a++] = (char *)L->o.sc->profile;
	argv[a++] = "--seed";
	argv[a++] = seed;
	argv[a++] = "--gfwlist";
	argv[a++] = gfw;
	argv[a++] = "--log";
	argv[a++] = L->inj_log;
	if (file_exists(pa)) {
		argv[a++] = "--pool-a";
		argv[a++] = pa;
	}
	if (file_exists(p6)) {
		argv[a++] = "--pool-aaaa";
		argv[a++] = p6;
	}
	if (L->o.sc->fault == FAULT_INJECT_WINDOW) {
		snprintf(ws, sizeof(ws), "%lld", (long long)llround(L->o.fault_start * 1000));
		snprintf(ep, sizeof(ep), "%lld", (long long)epoch_ms);
		argv[a++] = "--epoch-ms";
		argv[a++] = ep;
		snprintf(wl, sizeof(wl), "%lld", (long long)llround(L->o.fault_len * 1000));
		snprintf(wt, sizeof(wt), "%u", L->o.forged_ttl);
		argv[a++] = "--jan21-start";
		argv[a++] = ws;
		argv[a++] = "--jan21-duration";
		argv[a++] = wl;
		argv[a++] = "--jan21-ttl";
		argv[a++] = wt;
	}
	for (int i = 0; i < L->o.ntune; i++) {
		argv[a++] = "--tune";
		argv[a++] = (char *)L->o.tune[i];
	}
	argv[a] = NULL;
	if (use_netns) {
		/* the border injector only watches: ready when it says so */
		char log[PATH_MAX];
		snprintf(log, sizeof(log), "%s/inject.log", L->dir);
		L->relay = child_spawn("inject", argv, log, err, errlen);
		double end = clock_mono_s() + 8;
		while (L->relay && !stop_sig && clock_mono_s() < end && child_alive(L->relay)) {
			char tail[600];
			child_log_tail(L->relay, tail, sizeof(tail));
			if (strstr(tail, "injector ready"))
				return 0;
			clock_sleep_ms(20);
		}
		if (L->relay) {
			char tail[600];
			child_log_tail(L->relay, tail, sizeof(tail));
			snprintf(err, errlen, "the border injector did not come up%s%s", tail[0] ? ": " : "", tail);
			child_kill(L->relay, 200);
			L->relay = NULL;
		}
		return -1;
	}
	/* probe with a name no rule matches and no zone holds */
	L->relay = start_checked("inject", argv, L->dir, INADDR_LOOPBACK, L->port_relay, "lab-ready.invalid", err,
				 errlen);
	return L->relay ? 0 : -1;
}

/* ---- `antidote watch` beside each resolver (lab/watchrun.h) ---- */

static int64_t realtime_ms(void)
{
	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	return (int64_t)rt.tv_sec * 1000 + rt.tv_nsec / 1000000;
}

/* One watch per resolver under test (defended ones too: that its watch sees
 * nothing is the point), all with the same canaries. */
static int start_watches(struct lab *L, char *err, size_t errlen)
{
	snprintf(L->canaries, sizeof(L->canaries), "%s/canaries.txt", L->dir);
	FILE *f = fopen(L->canaries, "w");
	int n = f ? watchrun_canaries(&L->net, L->rules, L->o.net.seed, WATCHRUN_NCNO, WATCHRUN_NCN, f, NULL, NULL)
		  : DNS_EIO;
	if (f && fclose(f) != 0)
		n = DNS_EIO;
	if (n <= 0) {
		snprintf(err, errlen, "cannot write the canaries");
		return -1;
	}
	struct watchrun_cfg wc = {.self = L->self, .canaries = L->canaries, .interval = L->o.watch_interval,
				  .timeout_ms = L->o.watch_timeout, .retries = L->o.watch_retries};
	for (unsigned i = 0; i < L->nres; i++) {
		char name[40];
		snprintf(name, sizeof(name), "watch-%s", L->res[i].kind->name);
		snprintf(L->watch_log[i], sizeof(L->watch_log[i]), "%s/%s.log", L->dir, name);
		if (use_netns)
			child_set_netns(topo.fd[NETNS_CLIENT]);
		L->watch[i] = watchrun_start(&wc, name, L->res[i].port, L->watch_log[i], err, errlen);
		child_set_netns(-1);
		if (!L->watch[i])
			return -1;
	}
	return 0;
}

/* Until every watch has printed its ready event, or the CLOCK_REALTIME
 * instant until_ms. */
static void wait_watches(struct lab *L, int64_t until_ms)
{
	while (!stop_sig && realtime_ms() < until_ms) {
		bool all = true;
		for (unsigned i = 0; i < L->nres && all; i++)
			all = !L->watch[i] || watchrun_log_ready(L->watch_log[i]);
		if (all)
			return;
		clock_sleep_ms(20);
	}
}

/* Stops the watches (each prints its stop line) and scores what they saw
 * against the scenario's fault window. */
static void stop_watches(struct lab *L)
{
	const struct lab_opts *o = &L->o;
	struct watch_window w = {.has = o->sc->fault != FAULT_NONE, .start_s = o->fault_start,
				 .end_s = o->fault_start + o->fault_len};
	if (o->sc->fault == FAULT_INJECT_WINDOW) {
		w.kind = "hijack";
		w.what = "65.49.2.178";
	} else if (o->sc->fault == FAULT_FREEZE_DOMESTIC) {
		w.kind = "tld-outage";
		w.what = "cn";
	}
	for (unsigned i = 0; i < L->nres; i++) {
		if (!L->watch[i])
			continue;
		child_kill(L->watch[i], 1000);
		L->watch[i] = NULL;
		struct watch_summary *s = &L->rep.res[i].watch;
		if (watchrun_read(s, L->watch_log[i], L->t0_real) < 0)
			fprintf(stderr, "antidote lab: %s: cannot read\n", L->watch_log[i]);
		watchrun_score(s, &w);
	}
}

static void progress(struct lab *L, int64_t t, bool tty, double *last)
{
	if (L->o.quiet)
		return;
	double every = tty ? 0.25 : 5.0;
	if (t / 1000.0 - *last < every)
		return;
	*last = t / 1000.0;
	report_progress(&L->rep, t, stderr, tty);
}

static void run_timeline(struct lab *L)
{
	const struct lab_opts *o = &L->o;
	int64_t dur = llround(o->duration * 1000), fs = llround(o->fault_start * 1000),
		fe = fs + llround(o->fault_len * 1000);
	bool tty = isatty(2);
	bool frozen = false, probed = false;
	double last = -10;
	while (!stop_sig) {
		int64_t t = users_now_ms(L->users);
		if (t >= dur)
			break;
		if (o->sc->fault == FAULT_FREEZE_DOMESTIC) {
			if (!frozen && t >= fs && t < fe) {
				child_stop(L->domestic);
				frozen = true;
			} else if (frozen && t >= fe) {
				child_cont(L->domestic);
				frozen = false;
			}
		}
		if (o->sc->fault == FAULT_INJECT_WINDOW && !probed && t >= fe) {
			for (unsigned i = 0; i < L->nres; i++)
				users_probe(L->users, i, 0);
			probed = true;
		}
		users_step(L->users, dur, 20);
		progress(L, users_now_ms(L->users), tty, &last);
	}
	if (frozen)
		child_cont(L->domestic);
	if (!o->quiet && tty)
		fprintf(stderr, "\n");
	/* let outstanding queries finish or time out */
	double end = clock_mono_s() + o->users.timeout_ms / 1000.0 + 0.5;
	while (!stop_sig && users_busy(L->users) && clock_mono_s() < end)
		users_step(L->users, dur, 20);
	if (o->sc->fault == FAULT_INJECT_WINDOW && !stop_sig) {
		for (unsigned i = 0; i < L->nres; i++)
			users_probe(L->users, i, 1);
		end = clock_mono_s() + o->users.timeout_ms / 1000.0 + 2;
		while (!stop_sig && users_busy(L->users) && clock_mono_s() < end)
			users_step(L->users, dur, 20);
	}
}

static void cross_check(struct lab *L)
{
	child_kill(L->relay, 1000); /* flushes its log */
	struct fset set = {0};
	if (read_injector_log(L->inj_log, &L->net, &L->rep, L->t0_real, &set) < 0) {
		free(set.k);
		return;
	}
	size_t n, lost;
	const struct users_event *ev = users_events(L->users, &n, &lost);
	for (size_t i = 0; i < n; i++) {
		struct report_res *x = &L->rep.res[ev[i].target];
		if (fset_has(&set, fkey(ev[i].site, ev[i].addr, ev[i].alen)))
			x->confirmed++;
		else
			x->unconfirmed++;
	}
	free(set.k);
}

static int write_out(const char *path, int (*fn)(const struct report *, FILE *), const struct report *r)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "antidote lab: %s: %s\n", path, strerror(errno));
		return -1;
	}
	int rc = fn(r, f);
	if (fclose(f) != 0 || rc < 0) {
		fprintf(stderr, "antidote lab: %s: write error\n", path);
		return -1;
	}
	return 0;
}

int cmd_lab(int argc, char **argv)
{
	static struct lab L; /* big; one lab per process */
	memset(&L, 0, sizeof(L));
	int prc = parse_opts(argc, argv, &L.o);
	if (prc)
		return prc == 1 ? 0 : 2;
	double t_start = clock_mono_s();
	char err[2048];
	if (!find_data(L.o.data, L.data, sizeof(L.data))) {
		fprintf(stderr, "antidote lab: data directory not found (%s); give --data DIR holding "
				"gfwlist-2026-08.b64, china-domains-2026-08.conf and the injector pools\n",
			L.o.data ? L.o.data : "tried $ANTIDOTE_DATA, ../shared/data and ../shared/data above the binary");
		return 1;
	}
	ssize_t sl = readlink("/proc/self/exe", L.self, sizeof(L.self) - 1);
	if (sl <= 0) {
		fprintf(stderr, "antidote lab: cannot find my own binary\n");
		return 1;
	}
	L.self[sl] = 0;
	rng_seed(&L.rng, L.o.net.seed ^ (uint64_t)getpid() << 20 ^ (uint64_t)time(NULL));

	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	atexit(cleanup);

	int rc = 1;
	if (!(L.dir = child_mktemp(err, sizeof(err))))
		goto fail;
	if (internet_load(&L.net, &L.o.net, L.data, err, sizeof(err)) < 0)
		goto fail;
	L.rules = rules_new();
	char gpath[PATH_MAX + 32];
	snprintf(gpath, sizeof(gpath), "%s/gfwlist-2026-08.b64", L.data);
	if (!L.rules || gfwlist_load(L.rules, gpath, NULL, err, sizeof(err)) < 0 || rules_build(L.rules) < 0) {
		if (L.rules && !err[0])
			snprintf(err, sizeof(err), "cannot build the blocklist");
		goto fail;
	}
	unsigned nblocked = internet_mark_blocked(&L.net, L.rules);
	if (!L.o.quiet)
		fprintf(stderr, "antidote lab %s: %u sites (%u domestic, %u from gfwlist, %u generated; %u on the "
				"blocklist) in %s\n",
			L.o.sc->name, L.net.n, L.net.counts[SITE_CHINALIST] + L.net.counts[SITE_CN],
			L.net.counts[SITE_GFWLIST], L.net.counts[SITE_GENERATED], nblocked, L.dir);
	if (L.o.netns) {
		if (geteuid() != 0) {
			snprintf(err, sizeof(err), "--netns needs root (network namespaces, raw sockets)");
			goto fail;
		}
		netns_cleanup_stale();
		netns_topo_init(&topo, getpid());
		use_netns = true;
		if (netns_create(&topo, err, sizeof(err)) < 0)
			goto fail;
		if (!L.o.quiet)
			fprintf(stderr, "namespaces %s (resolvers, users, domestic server), %s (injector), %s (servers "
					"abroad behind a %u ms delay line)\n",
				topo.name[NETNS_CLIENT], topo.name[NETNS_BORDER], topo.name[NETNS_SERVER], L.o.delay_ms);
	}
	if (start_servers(&L, err, sizeof(err)) < 0)
		goto fail;

	/* the relay comes last, right before the users: its fault window counts
	 * from its own start */
	if (!(L.port_relay = pick_port(&L.rng))) {
		snprintf(err, sizeof(err), "no free port");
		goto fail;
	}
	if (start_resolvers(&L, err, sizeof(err)) < 0)
		goto fail;
	struct report *r = &L.rep;
	snprintf(r->scenario, sizeof(r->scenario), "%s", L.o.sc->name);
	snprintf(r->profile, sizeof(r->profile), "%s", L.o.sc->profile);
	r->tune = L.o.tune;
	r->ntune = L.o.ntune;
	r->sites = L.net.n;
	r->rate = L.o.users.rate;
	r->seed = (unsigned)L.o.net.seed;
	r->delay_ms = L.o.delay_ms;
	r->forged_ttl = L.o.sc->fault == FAULT_INJECT_WINDOW ? L.o.forged_ttl : 0;
	r->ttl_scale = L.o.net.ttl_scale;
	r->duration_ms = llround(L.o.duration * 1000);
	r->has_window = L.o.sc->fault != FAULT_NONE;
	if (L.o.sc->fault == FAULT_FREEZE_DOMESTIC)
		snprintf(r->window_label, sizeof(r->window_label), "domestic (.cn) servers silent");
	r->fault_start_ms = llround(L.o.fault_start * 1000);
	r->fault_len_ms = llround(L.o.fault_len * 1000);
	report_init(r);
	struct users_target tg[REPORT_MAXRES];
	for (unsigned i = 0; i < L.nres; i++) {
		int ri = report_add_resolver(r, L.res[i].kind->name, L.res[i].kind->desc, L.res[i].kind->defended);
		if (ri < 0) {
			snprintf(err, sizeof(err), "out of memory");
			goto fail;
		}
		tg[i] = (struct users_target){.res = (unsigned)ri,
					      .addr = {.sin_family = AF_INET, .sin_port = htons(L.res[i].port),
						       .sin_addr.s_addr = htonl(INADDR_LOOPBACK)}};
	}
	int oldns = -1;
	if (use_netns && netns_enter(topo.fd[NETNS_CLIENT], &oldns) < 0) {
		snprintf(err, sizeof(err), "cannot enter %s: %s", topo.name[NETNS_CLIENT], strerror(errno));
		goto fail;
	}
	L.users = users_new(&L.o.users, &L.net, tg, L.nres, r, err, sizeof(err));
	if (oldns >= 0 && netns_return(oldns) < 0)
		fatal("cannot leave %s", topo.name[NETNS_CLIENT]);
	if (!L.users)
		goto fail;
	/* the users start at the CLOCK_REALTIME instant epoch_ms, which is the
	 * relay's scenario time 0 (--epoch-ms): the fault windows line up */
	/* with watches, the lead leaves them time to learn their baseline through
	 * the border before the users start */
	const int64_t lead_ms = L.o.no_watch ? 500 : 2500;
	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	int64_t epoch_ms = (int64_t)rt.tv_sec * 1000 + rt.tv_nsec / 1000000 + lead_ms;
	if (stop_sig || start_relay(&L, epoch_ms, err, sizeof(err)) < 0)
		goto fail;
	if (!L.o.no_watch) {
		if (start_watches(&L, err, sizeof(err)) < 0)
			goto fail;
		wait_watches(&L, epoch_ms);
	}
	clock_gettime(CLOCK_REALTIME, &rt);
	int64_t wait_ms = epoch_ms - ((int64_t)rt.tv_sec * 1000 + rt.tv_nsec / 1000000);
	if (wait_ms > 0)
		clock_sleep_ms((int)wait_ms);
	else if (L.o.sc->fault == FAULT_INJECT_WINDOW && wait_ms < -20)
		fprintf(stderr, "antidote lab: warning: set-up took %lld ms past the agreed start; the fault window "
				"is that much early\n", (long long)-wait_ms);
	users_start(L.users);
	L.t0_real = (double)epoch_ms / 1000.0;
	r->setup_s = clock_mono_s() - t_start;
	if (!L.o.quiet) {
		fprintf(stderr, "resolvers:");
		for (unsigned i = 0; i < L.nres; i++)
			fprintf(stderr, " %s (127.0.0.1:%u)", L.res[i].kind->name, L.res[i].port);
		if (use_netns)
			fprintf(stderr, " in %s; border injector on %s; servers abroad " NETNS_SERVER_IP ":53 (delay line "
					"-> 127.0.0.1:%u), domestic 127.0.0.1:%u\n",
				topo.name[NETNS_CLIENT], topo.ifname[NETNS_IF_BORDER_C], L.port_abroad, L.port_domestic);
		else
			fprintf(stderr, "; border relay 127.0.0.1:%u; servers abroad :%u, domestic :%u\n", L.port_relay,
				L.port_abroad, L.port_domestic);
	}
	run_timeline(&L);
	if (stop_sig)
		goto fail;
	stop_watches(&L);
	cross_check(&L);
	if (L.o.probe > 0 || (L.o.probe < 0 && !strcmp(L.o.sc->name, "gfw"))) {
		if (!L.o.quiet)
			fprintf(stderr, "measuring the border: antidote probe --silent at a replica of it\n");
		struct probe_run_cfg pc = {.self = L.self, .dir = L.dir, .datadir = L.data, .profile = L.o.sc->profile,
					   .seed = L.o.net.seed, .per_kind = L.o.per_kind, .net = &L.net};
		if (probe_run(&pc, &r->probe, &stop_sig) < 0) {
			if (stop_sig)
				goto fail;
			fprintf(stderr, "antidote lab: probe: %s\n", r->probe.error);
		}
	}
	r->wall_s = clock_mono_s() - t_start;
	report_table(r, stdout);
	fflush(stdout);
	rc = 0;
	if (L.o.json && write_out(L.o.json, report_json, r) < 0)
		rc = 1;
	if (L.o.svg && write_out(L.o.svg, report_svg, r) < 0)
		rc = 1;
	goto out;
fail:
	if (stop_sig) {
		fprintf(stderr, "\nantidote lab: interrupted (signal %d), cleaning up\n", (int)stop_sig);
		rc = 128 + stop_sig;
	} else {
		fprintf(stderr, "antidote lab: %s\n", err);
	}
out:
	cleanup();
	users_free(L.users);
	report_free(&L.rep);
	rules_free(L.rules);
	internet_free(&L.net);
	return rc;
}
