/* sha1 — SHA-1 (FIPS 180-4), needed only for NSEC3 owner hashes (RFC 5155).
 * Not for security decisions of our own. */
#ifndef ANTIDOTE_UTIL_SHA1_H
#define ANTIDOTE_UTIL_SHA1_H

#include <stddef.h>
#include <stdint.h>

typedef struct sha1_ctx {
	uint32_t h[5];
	uint64_t len;     /* bytes hashed so far */
	uint8_t buf[64];
	size_t fill;
} sha1_ctx;

void sha1_init(sha1_ctx *c);
void sha1_update(sha1_ctx *c, const void *data, size_t n);
void sha1_final(sha1_ctx *c, uint8_t out[20]);

#endif
