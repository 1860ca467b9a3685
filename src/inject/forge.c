/* forge — the forged reply (layout in forge.h). */
#include "inject/forge.h"

#include <string.h>

#include "dns/err.h"

uint16_t forge_answer_type(uint16_t qtype)
{
	return qtype == 28 ? 28 : 1;
}

int forge_build(uint8_t *out, size_t cap, const struct qmem *m, const struct qname_view *v,
		enum forge_flags flags, int force_a, uint32_t ttl, const uint8_t *addr)
{
	uint16_t type = force_a ? 1 : forge_answer_type(v->qtype);
	size_t alen = type == 28 ? 16 : 4;
	size_t n = v->copy_len;

	if (n < 12 || n + 12 + alen > cap)
		return DNS_ESPACE;
	if (n <= m->pkt_len && n <= QMEM_SIZE) {
		memcpy(out, m->pkt, n);
	} else {
		for (size_t i = 0; i < n; i++)
			out[i] = qmem_byte(m, i);
	}
	if (flags == FORGE_FLAGS_BY_RD && !(out[2] & 1)) {
		out[2] = 0x84;
		out[3] = 0x00;
	} else {
		out[2] = 0x81;
		out[3] = 0x80;
	}
	static const uint8_t counts[8] = {0, 1, 0, 1, 0, 0, 0, 0};
	memcpy(out + 4, counts, sizeof(counts));
	uint8_t *p = out + n;
	*p++ = 0xc0;
	*p++ = 0x0c;
	*p++ = (uint8_t)(type >> 8);
	*p++ = (uint8_t)type;
	*p++ = 0;
	*p++ = 1;
	*p++ = (uint8_t)(ttl >> 24);
	*p++ = (uint8_t)(ttl >> 16);
	*p++ = (uint8_t)(ttl >> 8);
	*p++ = (uint8_t)ttl;
	*p++ = 0;
	*p++ = (uint8_t)alen;
	memcpy(p, addr, alen);
	return (int)(n + 12 + alen);
}
