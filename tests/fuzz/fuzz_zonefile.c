/* libFuzzer target: zone text -> zonefile_parse_mem (origin "example.",
 * $INCLUDE disabled so inputs cannot read files), counting records. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dns/name.h"
#include "dns/zonefile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz_count {
	long n;
	unsigned rdbytes;
};

static int count_rr(void *arg, const zf_rr *rr)
{
	struct fz_count *c = arg;
	/* touch everything the parser hands over so ASan sees bad pointers */
	size_t ol = name_len(rr->owner);
	if (ol == 0 || ol > NAME_MAXLEN || rr->line == 0 || !rr->file)
		__builtin_trap();
	for (uint16_t i = 0; i < rr->rdlen; i++)
		c->rdbytes += rr->rdata[i];
	c->n++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t origin[] = "\7example";
	struct fz_count c = { 0, 0 };
	char err[ZONEFILE_ERRLEN];
	long r = zonefile_parse_mem_flags((const char *)data, size, "fuzz", origin,
					  ZONEFILE_NO_INCLUDE, count_rr, &c, err, sizeof(err));
	if (r >= 0 && r != c.n)
		__builtin_trap();
	if (r < 0 && (strncmp(err, "fuzz:", 5) != 0 || strlen(err) >= sizeof(err)))
		__builtin_trap();
	return 0;
}
