/* zonefile_bench — parses a zone file with a counting callback and prints
 * the record count and the parse time (see tests/tools/zonefile_bench.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/name.h"
#include "dns/zonefile.h"

struct tally {
	long n;
	unsigned long bytes;
};

static int count(void *arg, const zf_rr *rr)
{
	struct tally *t = arg;
	t->n++;
	t->bytes += rr->rdlen + name_len(rr->owner);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: zonefile_bench ZONEFILE ORIGIN\n");
		return 2;
	}
	uint8_t origin[NAME_MAXLEN];
	if (name_from_text(argv[2], strlen(argv[2]), (const uint8_t *)"", origin) < 0) {
		fprintf(stderr, "bad origin '%s'\n", argv[2]);
		return 2;
	}
	struct tally t = { 0, 0 };
	char err[ZONEFILE_ERRLEN];
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	long n = zonefile_parse(argv[1], origin, count, &t, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (n < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("%ld records (%lu owner+rdata bytes) parsed in %.3f s (%.0f ns/record)\n",
	       n, t.bytes, s, n ? s * 1e9 / (double)n : 0.0);
	return 0;
}
