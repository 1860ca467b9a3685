/* zonecat — parses a zone file with zonefile_parse and prints every record
 * in presentation form, one per line ("owner TTL IN TYPE RDATA"), or the
 * parser's "file:line: message" on stderr (exit 1). Used by
 * tests/e2e/zonefile_vs_nsd.sh. */
#include <stdio.h>
#include <string.h>

#include "dns/name.h"
#include "dns/rdata.h"
#include "dns/zonefile.h"

static int print_rr(void *arg, const zf_rr *rr)
{
	static char buf[300000];
	(void)arg;
	int n = rr_to_text(rr->owner, rr->type, rr->rclass, rr->ttl, rr->rdata, rr->rdlen,
			   buf, sizeof(buf));
	if (n < 0)
		return n;
	puts(buf);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: zonecat ZONEFILE [ORIGIN]\n");
		return 2;
	}
	uint8_t origin[NAME_MAXLEN];
	if (argc == 3 && name_from_text(argv[2], strlen(argv[2]), (const uint8_t *)"", origin) < 0) {
		fprintf(stderr, "bad origin '%s'\n", argv[2]);
		return 2;
	}
	char err[ZONEFILE_ERRLEN];
	long n = zonefile_parse(argv[1], argc == 3 ? origin : NULL, print_rr, NULL, err, sizeof(err));
	if (n < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	fprintf(stderr, "%ld records\n", n);
	return 0;
}
