/* cache_bench — resolver cache figures: lookup+rebuild latency, 1M-entry memory (RSS), shared vs per-worker caches with 1 and 2 threads.
 *
 * usage: cache_bench [lat|mem|mt|all] [-n names] [-s seconds] [-r rounds]
 *   lat  ns per cache_lookup (hit, answer rebuilt) for a typical A answer:
 *        one hot name, then a 100k-name working set drawn uniformly and
 *        Zipf(1); shared (64 shards, mutexes) and per-worker (no locks)
 *   mem  stores -n names (default 1,000,000) A answers into a 256 MiB cache
 *        and reports VmRSS growth from /proc/self/status
 *   mt   1 and 2 threads doing lookups (1 in 64 a refreshing store) over a
 *        100k-name Zipf(1) working set: one shared cache vs one cache per
 *        thread (each holding every name, as per-worker caches would);
 *        -r rounds (default 5) of -s seconds (default 1), medians */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/msg.h"
#include "dns/rrtype.h"
#include "resolve/cache.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* Wire names "hostNNNNNNN.example.com." in a flat array. */
#define NAME_SLOT 32
#define QLEN 25 /* "hostNNNNNNN.example.com." in wire form */
static uint8_t *names;
static unsigned nnames;

static void make_names(unsigned n)
{
	names = malloc((size_t)n * NAME_SLOT);
	if (!names)
		exit(1);
	for (unsigned i = 0; i < n; i++) {
		char t[64];
		snprintf(t, sizeof(t), "host%07u.example.com.", i);
		if (name_from_text(t, strlen(t), NULL, names + (size_t)i * NAME_SLOT) != QLEN)
			exit(1);
	}
	nnames = n;
}
static inline const uint8_t *name_at(unsigned i) { return names + (size_t)i * NAME_SLOT; }


/* A typical upstream answer: one A record, upstream OPT included. */
static int mkresp(uint8_t *buf, const uint8_t *qn, uint32_t ttl, uint8_t last)
{
	msg_wr mw;
	msg_wr_init(&mw, buf, 512);
	msg_wr_header(&mw, 7, MSG_QR | MSG_RD | MSG_RA);
	msg_wr_question(&mw, qn, RR_A, CLASS_IN);
	uint8_t a[4] = {192, 0, 2, last};
	msg_wr_rr(&mw, MSG_ANSWER, qn, RR_A, CLASS_IN, ttl, a, 4);
	edns_out eo = { .udp_size = 1232 };
	msg_wr_edns(&mw, &eo);
	return msg_wr_finish(&mw);
}

static int store_name(cache *c, unsigned i, uint32_t now)
{
	uint8_t resp[512];
	int len = mkresp(resp, name_at(i), 3600, (uint8_t)i);
	cache_key k = { name_at(i), QLEN, RR_A, CLASS_IN, false, false };
	return cache_store(c, &k, resp, (size_t)len, now);
}

/* A parsed EDNS query (dig's default shape) whose qname we overwrite. */
static void mkquery(msg *q, uint8_t *buf, bool use_edns)
{
	msg_wr mw;
	msg_wr_init(&mw, buf, 512);
	msg_wr_header(&mw, 0x1234, MSG_RD);
	msg_wr_question(&mw, name_at(0), RR_A, CLASS_IN);
	if (use_edns) {
		edns_out eo = { .udp_size = 1232 };
		msg_wr_edns(&mw, &eo);
	}
	int len = msg_wr_finish(&mw);
	if (len < 0 || msg_parse_query(q, buf, (size_t)len) < 0)
		exit(1);
}

static inline void set_qname(msg *q, unsigned i)
{
	memcpy(q->qname, name_at(i), QLEN);
	q->hdr.id = (uint16_t)i;
}

static cache *mkcache(bool shared, size_t size)
{
	cache_cfg cfg;
	cache_cfg_default(&cfg);
	cfg.size = size;
	cfg.shared = shared;
	cfg.shards = shared ? 64 : 1;
	cache *c = cache_new(&cfg);
	if (!c) {
		fprintf(stderr, "cache_new failed\n");
		exit(1);
	}
	return c;
}

static uint32_t xs(uint32_t *s)
{
	uint32_t x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

/* n indexes below ws drawn from Zipf(1) (rank 0 most popular), the usual
 * model of DNS name popularity. */
static unsigned *zipf_draws(unsigned ws, unsigned n, uint32_t seed)
{
	double *cdf = malloc(sizeof(double) * ws), sum = 0;
	unsigned *out = malloc(sizeof(unsigned) * n);
	if (!cdf || !out)
		exit(1);
	for (unsigned i = 0; i < ws; i++)
		cdf[i] = sum += 1.0 / (i + 1);
	for (unsigned i = 0; i < n; i++) {
		double u = xs(&seed) / 4294967296.0 * sum;
		unsigned lo = 0, hi = ws - 1;
		while (lo < hi) {
			unsigned mid = (lo + hi) / 2;
			if (cdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		out[i] = lo;
	}
	free(cdf);
	return out;
}

static void bench_lat(void)
{
	printf("== lookup+rebuild latency (single thread, A answer, EDNS query unless noted)\n");
	for (int shared = 1; shared >= 0; shared--) {
		cache *c = mkcache(shared, 256u << 20);
		const unsigned ws = nnames < 100000 ? nnames : 100000;
		for (unsigned i = 0; i < ws; i++)
			store_name(c, i, 0);
		uint8_t qb[512], out[1232];
		msg q;
		unsigned fl;
		for (int ed = 1; ed >= 0; ed--) {
			mkquery(&q, qb, ed);
			const unsigned N = 20000000;
			set_qname(&q, 42);
			double t0 = now_s();
			size_t sum = 0;
			for (unsigned i = 0; i < N; i++) {
				q.hdr.id = (uint16_t)i;
				sum += (size_t)cache_lookup(c, &q, 1 + i / (N / 100), 0, 1232, out, sizeof(out), &fl);
			}
			double dt = now_s() - t0;
			printf("%-11s one hot name, %-8s %6.1f ns/lookup (answer %zu octets)\n",
			       shared ? "shared" : "per-worker", ed ? "EDNS:" : "no EDNS:", dt * 1e9 / N, sum / N);
		}
		mkquery(&q, qb, true);
		const unsigned N = 10000000;
		uint32_t r = 12345;
		/* Pre-drawn indexes so the RNG is not timed. */
		unsigned *idx = malloc(sizeof(unsigned) * 65536);
		for (unsigned i = 0; i < 65536; i++)
			idx[i] = xs(&r) % ws;
		double t0 = now_s();
		unsigned hits = 0;
		for (unsigned i = 0; i < N; i++) {
			set_qname(&q, idx[i & 65535]);
			hits += cache_lookup(c, &q, 1, 0, 1232, out, sizeof(out), &fl) > 0;
		}
		double dt = now_s() - t0;
		printf("%-11s %u names, uniform: %6.1f ns/lookup (%u%% hits)\n",
		       shared ? "shared" : "per-worker", ws, dt * 1e9 / N, (unsigned)(100.0 * hits / N));
		free(idx);
		idx = zipf_draws(ws, 1u << 20, 99);
		t0 = now_s();
		hits = 0;
		for (unsigned i = 0; i < N; i++) {
			set_qname(&q, idx[i & ((1u << 20) - 1)]);
			hits += cache_lookup(c, &q, 1, 0, 1232, out, sizeof(out), &fl) > 0;
		}
		dt = now_s() - t0;
		printf("%-11s %u names, Zipf(1): %6.1f ns/lookup (%u%% hits)\n",
		       shared ? "shared" : "per-worker", ws, dt * 1e9 / N, (unsigned)(100.0 * hits / N));
		free(idx);
		cache_free(c);
	}
	/* The store path, for reference. */
	cache *c = mkcache(true, 256u << 20);
	unsigned n = nnames < 200000 ? nnames : 200000;
	double t0 = now_s();
	for (unsigned i = 0; i < n; i++)
		store_name(c, i, 0);
	printf("store (parse, sanitise, re-encode, insert): %.0f ns/store\n", (now_s() - t0) * 1e9 / n);
	cache_free(c);
}

static void bench_mem(void)
{
	printf("== memory: %u names, 256 MiB budget, shared (64 shards)\n", nnames);
	long r0 = rss_kib();
	cache *c = mkcache(true, 256u << 20);
	double t0 = now_s();
	unsigned refused = 0;
	for (unsigned i = 0; i < nnames; i++)
		refused += store_name(c, i, 0) != CACHE_STORED;
	double dt = now_s() - t0;
	long r1 = rss_kib();
	cache_stats s;
	cache_stats_get(c, &s);
	printf("stored %u names in %.2f s (%.0f ns/store), refused %u, entries %llu, evictions %llu\n",
	       nnames, dt, dt * 1e9 / nnames, refused, (unsigned long long)s.entries,
	       (unsigned long long)s.evictions);
	printf("cache accounting: %.1f MiB (%.0f B/entry); VmRSS %ld -> %ld KiB: +%.1f MiB (%.0f B/entry)\n",
	       s.bytes / 1048576.0, (double)s.bytes / (s.entries ? s.entries : 1), r0, r1,
	       (r1 - r0) / 1024.0, (r1 - r0) * 1024.0 / (s.entries ? s.entries : 1));
	/* Every name must be answerable. */
	uint8_t qb[512], out[1232];
	msg q;
	mkquery(&q, qb, true);
	unsigned hits = 0, fl;
	for (unsigned i = 0; i < nnames; i += 97) {
		set_qname(&q, i);
		hits += cache_lookup(c, &q, 10, 0, 1232, out, sizeof(out), &fl) > 0;
	}
	printf("spot check: %u/%u sampled names hit; total VmRSS %.1f MiB (limit 256)\n",
	       hits, (nnames + 96) / 97, r1 / 1024.0);
	cache_free(c);
}

struct mt_arg {
	cache *c;
	const unsigned *idx; /* 1 << 20 pre-drawn name indexes */
	double secs;
	uint64_t ops;
	double cpu;          /* thread CPU seconds used */
};

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *mt_worker(void *p)
{
	struct mt_arg *a = p;
	uint8_t qb[512], out[1232];
	msg q;
	unsigned fl;
	mkquery(&q, qb, true);
	uint64_t ops = 0, k = 0;
	double end = now_s() + a->secs, c0 = cpu_s();
	do {
		for (unsigned j = 0; j < 4096; j++) {
			unsigned i = a->idx[k++ & ((1u << 20) - 1)];
			if ((j & 63) == 0) {
				store_name(a->c, i, 1);
			} else {
				set_qname(&q, i);
				cache_lookup(a->c, &q, 1, 0, 1232, out, sizeof(out), &fl);
			}
		}
		ops += 4096;
	} while (now_s() < end);
	a->ops = ops;
	a->cpu = cpu_s() - c0;
	return NULL;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* One run: nt threads on a shared cache or one cache each; returns total
 * M ops/s (wall) and CPU ns per op in *cpu_ns. */
static double mt_run(unsigned nt, bool shared, unsigned ws, unsigned **idx, double secs, double *cpu_ns)
{
	cache *cs[2] = {0};
	for (unsigned t = 0; t < nt; t++) {
		if (shared && t > 0) {
			cs[t] = cs[0];
			continue;
		}
		cs[t] = mkcache(shared, shared ? 256u << 20 : (256u << 20) / nt);
		for (unsigned i = 0; i < ws; i++)
			store_name(cs[t], i, 0);
	}
	pthread_t th[2];
	struct mt_arg args[2];
	for (unsigned t = 0; t < nt; t++) {
		args[t] = (struct mt_arg){ cs[t], idx[t], secs, 0, 0 };
		pthread_create(&th[t], NULL, mt_worker, &args[t]);
	}
	uint64_t ops = 0;
	double cpu = 0;
	for (unsigned t = 0; t < nt; t++) {
		pthread_join(th[t], NULL);
		ops += args[t].ops;
		cpu += args[t].cpu;
	}
	for (unsigned t = 0; t < nt; t++)
		if (!shared || t == 0)
			cache_free(cs[t]);
	*cpu_ns = cpu * 1e9 / ops;
	return ops / secs / 1e6;
}

/* Rounds alternate the configurations so that load from other processes
 * hits them alike; medians are reported. CPU ns/op (thread CPU time per
 * operation) is the figure least disturbed by preemption. */
static void bench_mt(double secs, unsigned rounds)
{
	const unsigned ws = nnames < 100000 ? nnames : 100000;
	printf("== threads: lookups (1 in 64 a store) over %u names, Zipf(1); %u rounds of %.1f s, medians\n",
	       ws, rounds, secs);
	unsigned *idx[2] = { zipf_draws(ws, 1u << 20, 777), zipf_draws(ws, 1u << 20, 1777) };
	double mops[4][16], cns[4][16];
	if (rounds > 16)
		rounds = 16;
	for (unsigned r = 0; r < rounds; r++)
		for (unsigned cfgi = 0; cfgi < 4; cfgi++)
			mops[cfgi][r] = mt_run(1 + cfgi / 2, cfgi % 2 == 0, ws, idx, secs, &cns[cfgi][r]);
	for (unsigned cfgi = 0; cfgi < 4; cfgi++) {
		qsort(mops[cfgi], rounds, sizeof(double), cmp_d);
		qsort(cns[cfgi], rounds, sizeof(double), cmp_d);
		unsigned nt = 1 + cfgi / 2;
		printf("%u thread%s %-11s %6.2f M ops/s total (range %.2f-%.2f), %6.1f CPU ns/op\n", nt,
		       nt > 1 ? "s" : " ", cfgi % 2 == 0 ? "shared:" : "per-worker:", mops[cfgi][rounds / 2],
		       mops[cfgi][0], mops[cfgi][rounds - 1], cns[cfgi][rounds / 2]);
	}
	free(idx[0]);
	free(idx[1]);
}

int main(int argc, char **argv)
{
	const char *what = "all";
	unsigned n = 1000000;
	double secs = 1;
	unsigned rounds = 5;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc)
			n = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "-s") && i + 1 < argc)
			secs = strtod(argv[++i], NULL);
		else if (!strcmp(argv[i], "-r") && i + 1 < argc)
			rounds = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (argv[i][0] != '-')
			what = argv[i];
		else {
			fprintf(stderr, "usage: cache_bench [lat|mem|mt|all] [-n names] [-s seconds] [-r rounds]\n");
			return 2;
		}
	}
	if (n == 0 || n > 9999999)
		n = 1000000;
	make_names(n);
	bool all = !strcmp(what, "all");
	/* Memory first, on a fresh heap. */
	if (all || !strcmp(what, "mem"))
		bench_mem();
	if (all || !strcmp(what, "lat"))
		bench_lat();
	if (all || !strcmp(what, "mt"))
		bench_mt(secs, rounds ? rounds : 1);
	free(names);
	return 0;
}
