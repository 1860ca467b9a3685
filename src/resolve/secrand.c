/* secrand — buffered getrandom(2) pool per thread (see secrand.h). */
#include "resolve/secrand.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "util/log.h"

static _Thread_local uint8_t pool[SECRAND_POOL];
static _Thread_local size_t avail; /* unread octets at the end of pool */

static void refill(void)
{
	size_t got = 0;
	while (got < sizeof(pool)) {
		ssize_t n = getrandom(pool + got, sizeof(pool) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fatal("getrandom: %s", strerror(errno));
		}
		got += (size_t)n;
	}
	avail = sizeof(pool);
}

void secrand_bytes(void *out, size_t n)
{
	uint8_t *o = out;
	while (n) {
		if (!avail)
			refill();
		size_t k = n < avail ? n : avail;
		uint8_t *src = pool + sizeof(pool) - avail;
		memcpy(o, src, k);
		memset(src, 0, k);
		avail -= k;
		o += k;
		n -= k;
	}
}

uint16_t secrand_u16(void)
{
	uint16_t v;
	secrand_bytes(&v, sizeof(v));
	return v;
}

uint32_t secrand_u32(void)
{
	uint32_t v;
	secrand_bytes(&v, sizeof(v));
	return v;
}

uint32_t secrand_below(uint32_t n)
{
	/* reject the top partial range */
	uint32_t lim = (uint32_t)(-n) % n; /* 2^32 mod n */
	for (;;) {
		uint32_t v = secrand_u32();
		if (v >= lim)
			return v % n;
	}
}
