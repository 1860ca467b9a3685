/* probe_run — `antidote probe` against a replica of the lab's border,
 * scored against the injector's log (see probe_run.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dns/err.h"
#include "inject/gfwlist.h"
#include "inject/rules.h"
#include "lab/child.h"
#include "lab/internet.h"
#include "lab/jsonl.h"
#include "lab/probe_run.h"
#include "probe/rulekind.h"
#include "util/json.h"
#include "util/clock.h"

/* ---- a set of lower-case strings: sorted array after nset_seal ---- */

struct nset {
	char **v;
	size_t n, cap;
	bool sealed;
};

static int nset_add(struct nset *s, const char *x)
{
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 256;
		char **nv = realloc(s->v, nc * sizeof(char *));
		if (!nv)
			return DNS_ENOMEM;
		s->v = nv;
		s->cap = nc;
	}
	char *d = strdup(x);
	if (!d)
		return DNS_ENOMEM;
	for (char *p = d; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	size_t l = strlen(d);
	while (l && d[l - 1] == '.')
		d[--l] = 0;
	s->v[s->n++] = d;
	s->sealed = false;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void nset_seal(struct nset *s)
{
	if (s->n)
		qsort(s->v, s->n, sizeof(char *), cmp_str);
	size_t o = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (o && !strcmp(s->v[o - 1], s->v[i])) {
			free(s->v[i]);
			continue;
		}
		s->v[o++] = s->v[i];
	}
	s->n = o;
	s->sealed = true;
}

static bool nset_has(const struct nset *s, const char *x)
{
	return s->n && bsearch(&x, s->v, s->n, sizeof(char *), cmp_str) != NULL;
}

static void nset_free(struct nset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* |a ∩ b| of sealed sets */
static size_t nset_common(const struct nset *a, const struct nset *b)
{
	size_t n = 0;
	for (size_t i = 0; i < a->n; i++)
		n += nset_has(b, a->v[i]);
	return n;
}

/* ---- inputs ---- */

int probe_run_names(const struct internet *net, FILE *f, unsigned *listed)
{
	unsigned nl = 0, nu = 0;
	for (unsigned i = 0; i < net->n; i++)
		if (!net->site[i].domestic && net->site[i].blocked) {
			fprintf(f, "%s\n", net->site[i].name);
			nl++;
		}
	for (unsigned i = 0; i < net->n && nu < nl; i++)
		if (!net->site[i].domestic && !net->site[i].blocked) {
			fprintf(f, "%s\n", net->site[i].name);
			nu++;
		}
	if (listed)
		*listed = nl;
	return ferror(f) ? DNS_EIO : (int)(nl + nu);
}

int probe_run_kind_rules(unsigned per_kind, FILE *rules, FILE *truth)
{
	/* base "s<i>k<kind>.com": 's' only ever starts a base, so no base is
	 * inside another base's variants */
	static const char *notation[RK_NKINDS][2] = {
		{"", ""}, {"", ".*"}, {"", "*"}, {"*.", ""}, {"*", ""}, {"*.", ".*"}, {"*.", "*"}, {"*", ".*"}, {"*", "*"},
	};
	unsigned i = 0;
	for (unsigned k = 0; k < RK_NKINDS; k++)
		for (unsigned j = 0; j < per_kind; j++) {
			i++;
			fprintf(rules, "%ss%uk%u.com%s\n", notation[k][0], i, k, notation[k][1]);
			fprintf(truth, "s%uk%u.com %s\n", i, k, rulekind_name((enum rk_kind)k));
		}
	return ferror(rules) || ferror(truth) ? DNS_EIO : (int)i;
}

int probe_run_expected_kind(const struct rules *r, const char *base)
{
	uint16_t forged = 0;
	for (unsigned v = 0; v < RK_NVAR; v++) {
		char n[300];
		int l = rulekind_variant(base, v, n, sizeof(n));
		if (l > 0 && rules_match(r, n, (size_t)l) >= 0)
			forged |= (uint16_t)(1u << v);
	}
	int dist;
	return (int)rulekind_classify(forged, (uint16_t)((1u << RK_NVAR) - 1), &dist);
}

/* ---- scoring ---- */

static int read_lines(const char *path, struct nset *s)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return DNS_EIO;
	char line[512];
	int rc = 0;
	while (!rc && fgets(line, sizeof(line), f)) {
		line[strcspn(line, " \t\r\n")] = 0;
		if (line[0] && line[0] != '#')
			rc = nset_add(s, line);
	}
	fclose(f);
	nset_seal(s);
	return rc;
}

struct pools {
	char name[PROBE_RUN_MAXINJ][16];
	struct nset set[PROBE_RUN_MAXINJ + 16];
	unsigned n;
};

static void add_to_set(void *arg, const char *s)
{
	(void)nset_add(arg, s);
}

int probe_run_score_names(const char *names_path, const char *log_path, const char *probe_path,
			  const struct internet *net, struct probe_summary *s)
{
	struct nset asked = {0}, truth = {0}, found = {0};
	struct nset logp[PROBE_RUN_MAXINJ] = {{0}}, fpool[16] = {{0}};
	unsigned nlog = 0, nfound = 0;
	char lname[PROBE_RUN_MAXINJ][16] = {{0}};
	int rc = read_lines(names_path, &asked);
	FILE *f = NULL;
	char *line = malloc(1 << 20);
	if (!line)
		rc = DNS_ENOMEM;
	if (!rc && !(f = fopen(log_path, "r")))
		rc = DNS_EIO;
	while (!rc && fgets(line, 1 << 20, f)) {
		char q[300], inj[16], addr[64];
		if (!jsonl_str(line, "qname", q, sizeof(q)))
			continue;
		for (char *p = q; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (!nset_has(&asked, q))
			continue;
		rc = nset_add(&truth, q);
		if (rc || !jsonl_str(line, "injector", inj, sizeof(inj)) || !jsonl_str(line, "address", addr, sizeof(addr)))
			continue;
		unsigned k = 0;
		while (k < nlog && strcmp(lname[k], inj))
			k++;
		if (k == nlog && nlog < PROBE_RUN_MAXINJ)
			snprintf(lname[nlog++], sizeof(lname[0]), "%s", inj);
		if (k < nlog)
			rc = nset_add(&logp[k], addr);
	}
	if (f)
		fclose(f);
	f = NULL;
	if (!rc && !(f = fopen(probe_path, "r")))
		rc = DNS_EIO;
	while (!rc && fgets(line, 1 << 20, f)) {
		char v[16], n[300];
		if (!strncmp(line, "{\"injector\":", 12)) {
			if (nfound < 16 && jsonl_strings(line, "pool", add_to_set, &fpool[nfound]) >= 0)
				nset_seal(&fpool[nfound++]);
			continue;
		}
		if (line[0] == '{' && jsonl_str(line, "verdict", v, sizeof(v)) && !strcmp(v, "forged") &&
		    jsonl_str(line, "name", n, sizeof(n)))
			rc = nset_add(&found, n);
	}
	if (f)
		fclose(f);
	free(line);
	if (!rc) {
		nset_seal(&truth);
		nset_seal(&found);
		s->names = (unsigned)asked.n;
		s->listed = s->listed_truth = 0;
		for (size_t i = 0; i < asked.n; i++) {
			int si = net ? internet_find(net, asked.v[i], strlen(asked.v[i])) : -1;
			if (si >= 0 && net->site[si].blocked) {
				s->listed++;
				s->listed_truth += nset_has(&truth, asked.v[i]);
			}
		}
		s->truth = (unsigned)truth.n;
		s->found = (unsigned)found.n;
		s->tp = (unsigned)nset_common(&truth, &found);
		s->precision = s->found ? (double)s->tp / s->found : (s->truth ? 0 : 1);
		s->recall = s->truth ? (double)s->tp / s->truth : 1;
		s->injectors_found = nfound;
		s->ninj = nlog;
		s->pools_recovered = 0;
		for (unsigned k = 0; k < nlog; k++) {
			struct probe_run_inj *x = &s->inj[k];
			nset_seal(&logp[k]);
			snprintf(x->name, sizeof(x->name), "%.15s", lname[k]);
			x->pool_log = (unsigned)logp[k].n;
			x->pool_found = 0;
			x->recovered = false;
			size_t best = 0;
			for (unsigned j = 0; j < nfound; j++) {
				size_t c = nset_common(&logp[k], &fpool[j]);
				if (c > best || (c == best && c && fpool[j].n == logp[k].n)) {
					best = c;
					x->pool_found = (unsigned)fpool[j].n;
				}
				if (c == logp[k].n && fpool[j].n == logp[k].n)
					x->recovered = true;
			}
			s->pools_recovered += x->recovered;
		}
	}
	nset_free(&asked);
	nset_free(&truth);
	nset_free(&found);
	for (unsigned k = 0; k < PROBE_RUN_MAXINJ; k++)
		nset_free(&logp[k]);
	for (unsigned j = 0; j < 16; j++)
		nset_free(&fpool[j]);
	return rc;
}

int probe_run_score_kinds(const char *truth_path, const char *probe_path, unsigned gen_bases,
			  struct probe_summary *s)
{
	struct nset got = {0}; /* "base kind" pairs the probe gave */
	FILE *f = fopen(probe_path, "r");
	if (!f)
		return DNS_EIO;
	char line[4096];
	int rc = 0;
	while (!rc && fgets(line, sizeof(line), f)) {
		char b[300], k[32], pair[340];
		if (strncmp(line, "{\"base\":", 8) || !jsonl_str(line, "base", b, sizeof(b)) ||
		    !jsonl_str(line, "kind", k, sizeof(k)))
			continue;
		snprintf(pair, sizeof(pair), "%s %s", b, k);
		rc = nset_add(&got, pair);
	}
	fclose(f);
	nset_seal(&got);
	FILE *t = rc ? NULL : fopen(truth_path, "r");
	if (!rc && !t)
		rc = DNS_EIO;
	s->bases = s->kinds_right = s->gen_bases = s->gen_right = s->list_bases = s->list_right = 0;
	s->nwrong = 0;
	unsigned i = 0;
	while (!rc && fgets(line, sizeof(line), t)) {
		line[strcspn(line, "\r\n")] = 0;
		char *sp = strchr(line, ' ');
		if (!sp)
			continue;
		bool right = nset_has(&got, line);
		bool gen = i++ < gen_bases;
		s->bases++;
		s->kinds_right += right;
		if (gen) {
			s->gen_bases++;
			s->gen_right += right;
		} else {
			s->list_bases++;
			s->list_right += right;
		}
		if (!right && s->nwrong < PROBE_RUN_NWRONG) {
			*sp = 0;
			const char *g = "nothing";
			for (size_t j = 0; j < got.n; j++) {
				size_t l = strlen(line);
				if (!strncmp(got.v[j], line, l) && got.v[j][l] == ' ') {
					g = got.v[j] + l + 1;
					break;
				}
			}
			snprintf(s->wrong[s->nwrong++], sizeof(s->wrong[0]), "%.40s: want %s, got %s", line, sp + 1, g);
		}
	}
	if (t)
		fclose(t);
	s->kind_accuracy = s->bases ? (double)s->kinds_right / s->bases : 0;
	nset_free(&got);
	return rc;
}

/* ---- processes ---- */

/* An unused UDP port on 127.0.0.1 (the kernel's pick). */
static uint16_t free_port(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	uint16_t p = 0;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && getsockname(fd, (struct sockaddr *)&a, &al) == 0)
		p = ntohs(a.sin_port);
	close(fd);
	return p;
}

/* Whether someone holds UDP 127.0.0.1:port (the relay, once it is up). */
static bool port_taken(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	bool taken = bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 && errno == EADDRINUSE;
	close(fd);
	return taken;
}

static bool file_exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0;
}

/* The border replica: a relay with a silent upstream. */
static struct child *start_relay(const struct probe_run_cfg *c, const char *tag, const char *rules_file,
				 uint16_t *port, char *log, size_t logcap, char *err, size_t errlen)
{
	char listen[32], fwd[32], seed[24], gfw[4200], pa[4200], p6[4200], clog[4200];
	uint16_t lp = free_port(), sp = free_port();
	if (!lp || !sp || lp == sp) {
		snprintf(err, errlen, "no free port");
		return NULL;
	}
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", lp);
	snprintf(fwd, sizeof(fwd), "127.0.0.1:%u", sp);
	snprintf(seed, sizeof(seed), "%llu", (unsigned long long)c->seed);
	snprintf(gfw, sizeof(gfw), "%s/gfwlist-2026-08.b64", c->datadir);
	snprintf(pa, sizeof(pa), "%s/gfw-injector3-pool-a.txt", c->datadir);
	snprintf(p6, sizeof(p6), "%s/gfw-injector3-pool-aaaa.txt", c->datadir);
	snprintf(log, logcap, "%s/probe-%s-truth.jsonl", c->dir, tag);
	snprintf(clog, sizeof(clog), "%s/probe-%s-relay.log", c->dir, tag);
	char *argv[32];
	int a = 0;
	argv[a++] = (char *)c->self;
	argv[a++] = "inject";
	argv[a++] = "--listen";
	argv[a++] = listen;
	argv[a++] = "--forward";
	argv[a++] = fwd;
	argv[a++] = "--delay";
	argv[a++] = "5";
	argv[a++] = "--profile";
	argv[a++] = (char *)c->profile;
	argv[a++] = "--seed";
	argv[a++] = seed;
	argv[a++] = "--gfwlist";
	argv[a++] = gfw;
	if (rules_file) {
		argv[a++] = "--rules";
		argv[a++] = (char *)rules_file;
	}
	if (file_exists(pa)) {
		argv[a++] = "--pool-a";
		argv[a++] = pa;
	}
	if (file_exists(p6)) {
		argv[a++] = "--pool-aaaa";
		argv[a++] = p6;
	}
	argv[a++] = "--log";
	argv[a++] = log;
	argv[a] = NULL;
	char name[32];
	snprintf(name, sizeof(name), "probe-relay-%s", tag);
	struct child *ch = child_spawn(name, argv, clog, err, errlen);
	if (!ch)
		return NULL;
	double end = clock_mono_s() + 8;
	while (clock_mono_s() < end && child_alive(ch)) {
		if (port_taken(lp)) {
			*port = lp;
			return ch;
		}
		clock_sleep_ms(20);
	}
	char tail[400];
	child_log_tail(ch, tail, sizeof(tail));
	snprintf(err, errlen, "the border replica did not come up%s%.120s", tail[0] ? ": " : "", tail);
	child_kill(ch, 200);
	return NULL;
}

/* Runs `antidote probe` at the silent relay; its output into out. */
static int run_probe(const struct probe_run_cfg *c, const char *tag, const char *names, uint16_t port, bool kinds,
		     const char *out, volatile sig_atomic_t *stop, char *err, size_t errlen)
{
	char silent[32];
	snprintf(silent, sizeof(silent), "127.0.0.1:%u", port);
	char *argv[] = {(char *)c->self, "probe", "--names", (char *)names, "--silent", silent, "--rate", "20000",
			"--timeout", "300", "--retries", "1", "--window", "100", "--quiet", "--no-replies",
			kinds ? "--kinds" : NULL, NULL};
	char name[32];
	snprintf(name, sizeof(name), "probe-%s", tag);
	struct child *ch = child_spawn(name, argv, out, err, errlen);
	if (!ch)
		return DNS_EIO;
	double end = clock_mono_s() + (c->timeout_s ? c->timeout_s : 60);
	while (child_alive(ch) && !*stop && clock_mono_s() < end)
		clock_sleep_ms(20);
	if (ch->pid) {
		snprintf(err, errlen, *stop ? "interrupted" : "antidote probe took too long");
		child_kill(ch, 500);
		return DNS_EIO;
	}
	if (!WIFEXITED(ch->status) || WEXITSTATUS(ch->status) != 0) {
		char tail[400];
		child_log_tail(ch, tail, sizeof(tail));
		snprintf(err, errlen, "antidote probe failed: %.150s", tail);
		return DNS_EIO;
	}
	return 0;
}

static int gfwlist_rules(const struct probe_run_cfg *c, const char *extra, struct rules **out, char *err,
			 size_t errlen)
{
	char gpath[4200];
	snprintf(gpath, sizeof(gpath), "%s/gfwlist-2026-08.b64", c->datadir);
	struct rules *r = rules_new();
	if (!r || gfwlist_load(r, gpath, NULL, err, errlen) < 0 || (extra && rules_load_file(r, extra, err, errlen) < 0) ||
	    rules_build(r) < 0) {
		if (r && !err[0])
			snprintf(err, errlen, "cannot build the blocklist");
		rules_free(r);
		return DNS_EINVAL;
	}
	*out = r;
	return 0;
}

/* Writes the kinds run's inputs: rules, truth ("BASE KIND"), bases. */
static int kinds_inputs(const struct probe_run_cfg *c, const char *rpath, const char *tpath, const char *bpath,
			unsigned *ngen, char *err, size_t errlen)
{
	FILE *rf = fopen(rpath, "w"), *gt = tmpfile();
	int rc = rf && gt ? 0 : DNS_EIO;
	int n = rc ? rc : probe_run_kind_rules(c->per_kind, rf, gt);
	if (rf && fclose(rf) != 0 && n >= 0)
		n = DNS_EIO;
	if (n < 0) {
		if (gt)
			fclose(gt);
		snprintf(err, errlen, "%.150s: cannot write", rpath);
		return DNS_EIO;
	}
	*ngen = (unsigned)n;
	struct rules *r = NULL;
	if (gfwlist_rules(c, rpath, &r, err, errlen) < 0) {
		fclose(gt);
		return DNS_EINVAL;
	}
	FILE *tf = fopen(tpath, "w"), *bf = fopen(bpath, "w");
	rc = tf && bf ? 0 : DNS_EIO;
	char line[512];
	rewind(gt);
	while (!rc && fgets(line, sizeof(line), gt)) {
		line[strcspn(line, "\n")] = 0;
		char *sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp = 0;
		/* the kind the relay's rules give, which is the generated one
		 * unless the gfwlist also matches a variant */
		int k = probe_run_expected_kind(r, line);
		fprintf(tf, "%s %s\n", line, rulekind_name((enum rk_kind)k));
		fprintf(bf, "%s\n", line);
	}
	struct nset zones = {0};
	for (unsigned i = 0; !rc && i < c->net->n; i++)
		if (c->net->site[i].blocked && !c->net->site[i].domestic)
			rc = nset_add(&zones, c->net->site[i].zone);
	nset_seal(&zones);
	for (size_t i = 0; !rc && i < zones.n; i++) {
		int k = probe_run_expected_kind(r, zones.v[i]);
		if (k >= RK_NKINDS)
			continue; /* the zone itself is not blocked: nothing to classify */
		fprintf(tf, "%s %s\n", zones.v[i], rulekind_name((enum rk_kind)k));
		fprintf(bf, "%s\n", zones.v[i]);
	}
	nset_free(&zones);
	rules_free(r);
	fclose(gt);
	if (tf && fclose(tf) != 0)
		rc = DNS_EIO;
	if (bf && fclose(bf) != 0)
		rc = DNS_EIO;
	if (rc)
		snprintf(err, errlen, "cannot write the kinds run's inputs");
	return rc;
}

int probe_run(const struct probe_run_cfg *c, struct probe_summary *s, volatile sig_atomic_t *stop)
{
	memset(s, 0, sizeof(*s));
	s->on = true;
	s->per_kind = c->per_kind;
	double t0 = clock_mono_s();
	char *err = s->error;
	size_t errlen = sizeof(s->error);
	char names[4200], out[4200], log[4200];
	snprintf(names, sizeof(names), "%s/probe-names.txt", c->dir);
	snprintf(out, sizeof(out), "%s/probe-names.jsonl", c->dir);
	FILE *f = fopen(names, "w");
	int rc = f ? probe_run_names(c->net, f, NULL) : DNS_EIO;
	if (f && fclose(f) != 0)
		rc = DNS_EIO;
	if (rc < 0) {
		snprintf(err, errlen, "%.150s: cannot write", names);
		return rc;
	}
	uint16_t port = 0;
	struct child *relay = start_relay(c, "names", NULL, &port, log, sizeof(log), err, errlen);
	if (!relay)
		return DNS_EIO;
	rc = run_probe(c, "names", names, port, false, out, stop, err, errlen);
	child_kill(relay, 1000); /* flushes its log */
	if (rc < 0)
		return rc;
	if ((rc = probe_run_score_names(names, log, out, c->net, s)) < 0) {
		snprintf(err, errlen, "cannot score the names run");
		return rc;
	}
	if (c->per_kind) {
		char rpath[4200], tpath[4200], bpath[4200];
		snprintf(rpath, sizeof(rpath), "%s/probe-kinds-rules.txt", c->dir);
		snprintf(tpath, sizeof(tpath), "%s/probe-kinds-truth.txt", c->dir);
		snprintf(bpath, sizeof(bpath), "%s/probe-kinds-bases.txt", c->dir);
		snprintf(out, sizeof(out), "%s/probe-kinds.jsonl", c->dir);
		unsigned ngen = 0;
		if ((rc = kinds_inputs(c, rpath, tpath, bpath, &ngen, err, errlen)) < 0)
			return rc;
		relay = start_relay(c, "kinds", rpath, &port, log, sizeof(log), err, errlen);
		if (!relay)
			return DNS_EIO;
		rc = run_probe(c, "kinds", bpath, port, true, out, stop, err, errlen);
		child_kill(relay, 1000);
		if (rc < 0)
			return rc;
		if ((rc = probe_run_score_kinds(tpath, out, ngen, s)) < 0) {
			snprintf(err, errlen, "cannot score the kinds run");
			return rc;
		}
	}
	s->seconds = clock_mono_s() - t0;
	s->ok = true;
	return 0;
}

/* ---- writers ---- */

void probe_run_table(const struct probe_summary *s, FILE *f)
{
	if (!s->on)
		return;
	fprintf(f, "\nprobe: `antidote probe --silent` at a replica of the border (silent upstream: any reply is "
		   "forged), scored against its injector log\n");
	if (!s->ok && !s->names) {
		fprintf(f, "  failed: %s\n", s->error);
		return;
	}
	fprintf(f, "  censored names: %u asked (%u on the lab's blocklist); forged per the log %u, per the probe %u, "
		   "both %u: precision %.2f%%, recall %.2f%%\n",
		s->names, s->listed, s->truth, s->found, s->tp, 100 * s->precision, 100 * s->recall);
	fprintf(f, "  injectors: %u told apart; pools recovered %u/%u", s->injectors_found, s->pools_recovered, s->ninj);
	for (unsigned k = 0; k < s->ninj; k++)
		fprintf(f, "%s %s %s (%u addresses%s)", k ? "," : ":", s->inj[k].name,
			s->inj[k].recovered ? "exact" : "NOT recovered", s->inj[k].pool_log,
			s->inj[k].recovered ? "" : ", best match differs");
	fprintf(f, "\n");
	if (s->per_kind || s->bases) {
		fprintf(f, "  rule kinds: %u/%u bases right (%.1f%%): generated nine-kind set %u/%u, blocklisted zones %u/%u\n",
			s->kinds_right, s->bases, 100 * s->kind_accuracy, s->gen_right, s->gen_bases, s->list_right,
			s->list_bases);
		for (unsigned i = 0; i < s->nwrong; i++)
			fprintf(f, "    wrong: %s\n", s->wrong[i]);
	}
	if (!s->ok)
		fprintf(f, "  failed: %s\n", s->error);
	fprintf(f, "  probe runs took %.1f s\n", s->seconds);
}

void probe_run_json(const struct probe_summary *s, FILE *f)
{
	if (!s->on) {
		fprintf(f, "null");
		return;
	}
	fprintf(f, "{\"ok\": %s, \"error\": ", s->ok ? "true" : "false");
	json_str(f, s->error);
	fprintf(f, ", \"seconds\": %.2f,\n    \"names\": {\"asked\": %u, \"listed\": %u, \"truth\": %u, \"found\": %u, "
		   "\"true_positives\": %u, \"listed_truth\": %u, \"precision\": %.4f, \"recall\": %.4f},\n",
		s->seconds, s->names, s->listed, s->truth, s->found, s->tp, s->listed_truth, s->precision, s->recall);
	fprintf(f, "    \"injectors\": {\"found\": %u, \"in_log\": %u, \"pools_recovered\": %u, \"per_injector\": [",
		s->injectors_found, s->ninj, s->pools_recovered);
	for (unsigned k = 0; k < s->ninj; k++) {
		fprintf(f, "%s{\"name\": ", k ? ", " : "");
		json_str(f, s->inj[k].name);
		fprintf(f, ", \"pool_log\": %u, \"pool_found\": %u, \"recovered\": %s}", s->inj[k].pool_log,
			s->inj[k].pool_found, s->inj[k].recovered ? "true" : "false");
	}
	fprintf(f, "]},\n    \"kinds\": {\"per_kind\": %u, \"bases\": %u, \"right\": %u, \"accuracy\": %.4f, "
		   "\"generated\": {\"bases\": %u, \"right\": %u}, \"blocklisted\": {\"bases\": %u, \"right\": %u}, "
		   "\"wrong\": [",
		s->per_kind, s->bases, s->kinds_right, s->kind_accuracy, s->gen_bases, s->gen_right, s->list_bases,
		s->list_right);
	for (unsigned i = 0; i < s->nwrong; i++) {
		if (i)
			fprintf(f, ", ");
		json_str(f, s->wrong[i]);
	}
	fprintf(f, "]}}");
}
