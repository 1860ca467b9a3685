/* rules_bench — blocklist matching throughput: builds N rules (default
 * 100,000: the dnsmasq-china-list domains as *.base plus every other kind)
 * and matches M names (default 2,000,000; ~1/3 hits) on one thread.
 *
 *   rules_bench [-d DATA_DIR] [-r RULES] [-n NAMES] [-s SUBSTR_RULES]
 * Prints "rules=N names=M matched=K names_per_s=X". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "inject/rules.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static void rand_label(char *o, int n)
{
	static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789-";
	for (int i = 0; i < n; i++)
		o[i] = al[rnd() % (i == 0 ? 26 : 37)];
	o[n] = '\0';
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *dir = "../shared/data";
	long nrules = 100000, nnames = 2000000, nsub = 1000;
	int c;
	while ((c = getopt(argc, argv, "d:r:n:s:")) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'r': nrules = atol(optarg); break;
		case 'n': nnames = atol(optarg); break;
		case 's': nsub = atol(optarg); break;
		default:
			fprintf(stderr, "usage: rules_bench [-d DATA_DIR] [-r RULES] [-n NAMES] [-s SUBSTR_RULES]\n");
			return 2;
		}
	}
	/* base domains: from the dnsmasq list if present, else synthetic */
	size_t nb = 0, cap = (size_t)nrules + 16;
	char **base = calloc(cap, sizeof(*base));
	char path[512], line[512];
	snprintf(path, sizeof(path), "%s/china-domains-2026-08.conf", dir);
	FILE *f = fopen(path, "r");
	while (f && nb < cap && fgets(line, sizeof(line), f)) {
		char *a = strchr(line, '/'), *b = a ? strchr(a + 1, '/') : NULL;
		if (a && b) {
			*b = '\0';
			base[nb++] = strdup(a + 1);
		}
	}
	if (f)
		fclose(f);
	fprintf(stderr, "base domains: %zu from %s\n", nb, f ? path : "(synthetic)");
	while (nb < cap) {
		char l1[16], l2[8];
		rand_label(l1, 4 + rnd() % 10);
		rand_label(l2, 2 + rnd() % 3);
		snprintf(line, sizeof(line), "%s.%s", l1, l2);
		base[nb++] = strdup(line);
	}
	struct rules *r = rules_new();
	long added = 0;
	/* every kind: most rules are *.base (as in real lists) */
	for (long i = 0; i < nrules; i++) {
		enum rule_kind k = RULE_DOMAIN;
		long j = i % 100;
		if (i < nsub)
			k = (enum rule_kind)(RULE_DOMAIN_DOT + i % 4);
		else if (j < 4)
			k = RULE_EXACT;
		else if (j < 6)
			k = RULE_BASE_DOT;
		else if (j < 7)
			k = RULE_PREFIX;
		else if (j < 8)
			k = RULE_SUFFIX;
		if (rules_add(r, k, base[i], false) >= 0)
			added++;
	}
	double t0 = now();
	if (rules_build(r)) {
		fprintf(stderr, "build failed\n");
		return 1;
	}
	fprintf(stderr, "built %ld rules in %.3f s\n", added, now() - t0);
	/* names: 1/3 subdomains of rule bases (hits mostly), 2/3 random */
	char **names = malloc((size_t)nnames * sizeof(*names));
	size_t *lens = malloc((size_t)nnames * sizeof(*lens));
	for (long i = 0; i < nnames; i++) {
		char l1[16], l2[16];
		rand_label(l1, 1 + rnd() % 12);
		if (i % 3 == 0) {
			snprintf(line, sizeof(line), "%s.%s", l1, base[rnd() % (uint32_t)nrules]);
		} else {
			rand_label(l2, 3 + rnd() % 12);
			snprintf(line, sizeof(line), "www.%s.%s.com", l1, l2);
		}
		names[i] = strdup(line);
		lens[i] = strlen(line);
	}
	long matched = 0;
	t0 = now();
	for (long i = 0; i < nnames; i++)
		matched += rules_match(r, names[i], lens[i]) >= 0;
	double dt = now() - t0;
	printf("rules=%ld names=%ld matched=%ld names_per_s=%.0f\n", added, nnames, matched, nnames / dt);
	for (long i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	free(lens);
	for (size_t i = 0; i < nb; i++)
		free(base[i]);
	free(base);
	rules_free(r);
	return 0;
}
