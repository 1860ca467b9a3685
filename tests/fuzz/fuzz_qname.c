/* fuzz_qname — the injector's name reader and reply builder on arbitrary
 * bytes, in every regime and memory model: no crash, no read outside the
 * packet (over-reads must come from the synthetic image), bounded output,
 * and replies that keep the header contract. First input byte picks the
 * model: bit 0 digest, bits 1-2 how far udp_len exceeds the packet. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inject/forge.h"
#include "inject/qname.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t ctl = data[0];
	data++;
	size--;
	struct qmem m;
	qmem_init(&m, data, size);
	m.model.digest = ctl & 1;
	m.udp_len = size + ((ctl >> 1) & 3);
	static const uint8_t addr[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	for (int rg = QNAME_UNPATCHED; rg <= QNAME_FIXED; rg++) {
		struct qname_view v;
		if (qname_read(&m, (enum qname_regime)rg, &v))
			continue;
		if (v.name_len > QNAME_MAX || strlen(v.name) != v.name_len)
			abort();
		if (v.copy_len > QMEM_SIZE - 64)
			abort();
		bool ok = qname_answerable(&m, (enum qname_regime)rg, &v);
		if (rg == QNAME_FIXED && ok && v.copy_len > m.udp_len)
			abort(); /* today's regime never leaks */
		uint8_t out[FORGE_MAX];
		int n = forge_build(out, sizeof(out), &m, &v, (enum forge_flags)(ctl >> 3 & 1), 0, 300, addr);
		if (n < 0)
			abort();
		if ((out[2] & 0x80) == 0 || out[5] != 1 || out[7] != 1 || out[9] || out[11])
			abort();
		if (out[n - (forge_answer_type(v.qtype) == 28 ? 28 : 16)] != 0xc0)
			abort();
	}
	return 0;
}
