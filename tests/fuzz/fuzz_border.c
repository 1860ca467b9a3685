/* fuzz_border — the namespace injector's packet reader on arbitrary bytes
 * (what AF_PACKET hands it from the wire): border_parse, the DNS message of
 * a TCP segment, and, for what parses, the forged reply and both RSTs built
 * from it. No crash, no read outside the packet, payload inside it, built
 * packets within their buffer and with checksums that verify. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "inject/border.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a private copy, exactly sized: ASan catches any over-read */
	uint8_t *pkt = malloc(size ? size : 1);
	if (!pkt)
		return 0;
	memcpy(pkt, data, size);
	struct border_pkt p;
	if (border_parse(pkt, size, &p) == 0) {
		if (p.family != AF_INET && p.family != AF_INET6)
			abort();
		if (p.proto != 17 && p.proto != 6)
			abort();
		if (p.payload < pkt || p.payload + p.len > pkt + size)
			abort();
		const uint8_t *msg = NULL;
		size_t mlen = 0;
		if (p.proto == 6 && border_tcp_dns(&p, &msg, &mlen) == 0 &&
		    (msg < p.payload || msg + mlen > p.payload + p.len || mlen < 12))
			abort();
		uint8_t out[2048];
		static const uint8_t dns[32] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1};
		int n = border_build(out, sizeof(out), &p, dns, sizeof(dns), 64, 7, true);
		if (n > (int)sizeof(out))
			abort();
		if (n > 0) {
			/* the transport checksum over the pseudo-header sums to 0 */
			size_t ih = p.family == AF_INET ? 20 : 40;
			const uint8_t *src = p.family == AF_INET ? out + 12 : out + 8;
			const uint8_t *dst = p.family == AF_INET ? out + 16 : out + 24;
			uint16_t c = border_l4_csum(p.family, src, dst, 17, out + ih, (size_t)n - ih);
			if (c != 0 && c != 0xffff)
				abort();
			if (p.family == AF_INET && border_ip_csum(out, 20) != 0)
				abort();
		}
		if (p.proto == 6)
			for (int d = BORDER_RST_CLIENT; d <= BORDER_RST_SERVER; d++) {
				n = border_build_rst(out, sizeof(out), &p, (enum border_rst_dir)d, 0, 1, false);
				if (n > (int)sizeof(out))
					abort();
			}
	}
	free(pkt);
	return 0;
}
