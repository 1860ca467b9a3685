/* inject_testutil — helpers shared by the injector unit tests (header-only). */
#ifndef ANTIDOTE_INJECT_TESTUTIL_H
#define ANTIDOTE_INJECT_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>

#include "inject/qname.h"

static inline size_t unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = 0;
	while (h[0] && h[1] && n < cap) {
		unsigned v;
		if (sscanf(h, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

static inline int read_hex(const char *hex, enum qname_regime rg, struct qname_view *v, uint8_t *pkt, size_t *len)
{
	*len = unhex(hex, pkt, 512);
	struct qmem m;
	qmem_init(&m, pkt, *len);
	return qname_read(&m, rg, v);
}

#endif
