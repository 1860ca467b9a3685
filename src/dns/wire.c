/* wire — out-of-line cursor helpers (the rest is inline in wire.h). */
#include "dns/wire.h"

void wire_rd_sub(wire_rd *r, size_t n, wire_rd *sub)
{
	sub->msg = r->msg;
	sub->err = 0;
	const uint8_t *p = wire_rd_ptr(r, n);
	if (!p) {
		sub->pos = sub->end = r->end;
		sub->err = r->err;
		return;
	}
	sub->pos = p;
	sub->end = p + n;
}
