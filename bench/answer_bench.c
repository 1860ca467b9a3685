/* answer_bench — in-process cost of antidote serve's query path (parse,
 * response cache or full answer, no network): the part of a server's CPU per
 * query that is ours and not the kernel's.
 *
 * usage: answer_bench ZONEFILE QUERYFILE [SECONDS]
 *   QUERYFILE: dnsperf format, "name type" per line.
 * Prints ns/query with the response cache (steady state) and without it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/msg.h"
#include "dns/rrtype.h"
#include "serve/answer.h"

#define MAXQ 200000

static uint8_t qbuf[MAXQ][64];
static uint16_t qlen[MAXQ];

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double run(answer_ctx *c, const zoneset *zs, size_t nq, double secs)
{
	static uint8_t out[65536];
	size_t done = 0;
	double t0 = now(), t;
	do {
		for (size_t i = 0; i < nq; i++)
			if (answer_query(c, zs, qbuf[i], qlen[i], out, sizeof(out), false) <= 0)
				fprintf(stderr, "query %zu dropped\n", i), exit(1);
		done += nq;
		t = now();
	} while (t - t0 < secs);
	return (t - t0) * 1e9 / (double)done;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: answer_bench ZONEFILE QUERYFILE [SECONDS]\n");
		return 2;
	}
	double secs = argc > 3 ? atof(argv[3]) : 2.0;
	char err[600];
	zone *z = zone_load(argv[1], NULL, err, sizeof(err));
	if (!z) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	zoneset *zs = zoneset_new();
	zoneset_add(zs, z);
	FILE *f = fopen(argv[2], "r");
	if (!f) {
		perror(argv[2]);
		return 1;
	}
	char line[512], name[300], type[32];
	size_t nq = 0;
	while (nq < MAXQ && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%299s %31s", name, type) != 2)
			continue;
		uint8_t qn[NAME_MAXLEN];
		size_t l = strlen(name);
		if (l && name[l - 1] != '.')
			name[l++] = '.', name[l] = 0;
		int t = rrtype_from_text(type, strlen(type));
		if (name_from_text(name, l, NULL, qn) < 0 || t < 0)
			continue;
		msg_wr mw;
		msg_wr_init(&mw, qbuf[nq], sizeof(qbuf[nq]));
		msg_wr_header(&mw, (uint16_t)nq, MSG_RD);
		msg_wr_question(&mw, qn, (uint16_t)t, CLASS_IN);
		edns_out eo = {.udp_size = 1232};
		msg_wr_edns(&mw, &eo);
		int len = msg_wr_finish(&mw);
		if (len > 0)
			qlen[nq++] = (uint16_t)len;
	}
	fclose(f);
	answer_cfg cfg = {.max_udp = 1232};
	answer_ctx *c = malloc(sizeof(*c));
	answer_ctx_init(c, &cfg, true);
	run(c, zs, nq, 0.2); /* warm the cache */
	printf("queries: %zu distinct (EDNS, 1232)\n", nq);
	double ns = run(c, zs, nq, secs);
	printf("with response cache:    %.0f ns/query (%.1f%% hits)\n", ns, 100.0 * (double)c->cache_hits / (double)c->queries);
	answer_ctx_free(c);
	answer_ctx_init(c, &cfg, false);
	printf("without response cache: %.0f ns/query\n", run(c, zs, nq, secs));
	answer_ctx_free(c);
	free(c);
	zoneset_free(zs);
	return 0;
}
