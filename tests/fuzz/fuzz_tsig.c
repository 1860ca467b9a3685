/* fuzz_tsig — TSIG verification (dns/tsig.h) on arbitrary messages, as a
 * server sees transfer requests and signed queries from anyone: the
 * message parser, then tsig_verify against a keyring holding a key of each
 * algorithm, then the reply signing and the strip a server does after. No
 * crash, no out-of-bounds access; results within the documented codes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "dns/msg.h"
#include "dns/tsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static tsig_key keys[3];
	static int ready;
	if (!ready) {
		char err[128];
		/* the key names the corpus seeds use */
		if (tsig_key_parse(&keys[0], "hmac-sha256:k256:c2VjcmV0LWtleS0xMjM0NTY3ODkwYWJjZGVm", err, sizeof(err)) ||
		    tsig_key_parse(&keys[1], "hmac-sha512:k512:c2VjcmV0LWtleS0xMjM0NTY3ODkwYWJjZGVm", err, sizeof(err)) ||
		    tsig_key_parse(&keys[2], "hmac-sha1:k1:c2VjcmV0LWtleS0xMjM0NTY3ODkwYWJjZGVm", err, sizeof(err)))
			abort();
		ready = 1;
	}
	uint8_t *msgb = malloc(size ? size : 1); /* exactly sized: ASan sees over-reads */
	if (!msgb)
		return 0;
	memcpy(msgb, data, size);
	msg m;
	msg_rr rrs[64];
	if (msg_parse(&m, msgb, size, rrs, 64) == 0) {
		tsig_ctx c;
		if (tsig_ctx_init(&c, keys, 3) == 0) {
			int rc = tsig_verify(&c, &m, 1795741372);
			if (rc > 0 && rc != TSIG_BADKEY && rc != TSIG_BADSIG && rc != TSIG_BADTIME && rc != TSIG_BADTRUNC)
				abort();
			static uint8_t out[65536 + 512];
			int n = tsig_strip(&m, out, sizeof(out));
			if (n > (int)size)
				abort();
			if (n > 0 && (c.key || c.error)) {
				/* sign a reply the size of the stripped message (the seeds were
				 * signed at 1795741372: they verify) */
				int k = tsig_sign(&c, out, (size_t)n, sizeof(out), 1795741372);
				if (k > (int)sizeof(out))
					abort();
			}
			tsig_ctx_free(&c);
		}
	}
	free(msgb);
	return 0;
}
