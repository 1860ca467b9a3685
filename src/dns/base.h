/* base — hex, base64 (RFC 4648 §4) and base32hex (§7) encoders/decoders.
 *
 * Encoders write upper-case hex / padded base64 / upper-case unpadded
 * base32hex, NUL-terminated, into a caller buffer that must hold
 * base_*_enclen(n) + 1 chars. They cannot fail.
 *
 * Decoders are strict about the alphabet (no whitespace inside) and
 * case-insensitive for hex and base32hex. They return the number of bytes
 * written or a negative code: DNS_ESYNTAX (bad character, bad length,
 * misplaced padding), DNS_ESPACE (more than cap bytes).
 *
 * Streaming decoders (base_dec) let a caller feed a value split over several
 * zone-file tokens at arbitrary positions ("AwEAAc3K" "Q==" ...): init, feed
 * each piece, then finish, which checks the tail. No allocation anywhere. */
#ifndef ANTIDOTE_DNS_BASE_H
#define ANTIDOTE_DNS_BASE_H

#include <stddef.h>
#include <stdint.h>

static inline size_t base_hex_enclen(size_t n) { return 2 * n; }
static inline size_t base_b64_enclen(size_t n) { return (n + 2) / 3 * 4; }
static inline size_t base_b32hex_enclen(size_t n) { return (n * 8 + 4) / 5; }

size_t base_hex_enc(const uint8_t *in, size_t n, char *out);
size_t base_b64_enc(const uint8_t *in, size_t n, char *out);
size_t base_b32hex_enc(const uint8_t *in, size_t n, char *out);

/* One-shot decoders: the whole of s (len chars) must be a valid encoding.
 * base64 requires padding ('=') to a multiple of 4 chars, but also accepts
 * an unpadded final quantum of 2 or 3 chars. base32hex takes no padding. */
int base_hex_dec(const char *s, size_t len, uint8_t *out, size_t cap);
int base_b64_dec(const char *s, size_t len, uint8_t *out, size_t cap);
int base_b32hex_dec(const char *s, size_t len, uint8_t *out, size_t cap);

/* Streaming decoder state; treat as opaque. */
typedef struct base_dec {
	uint32_t acc;   /* pending bits */
	uint8_t bits;   /* how many bits in acc */
	uint8_t nch;    /* chars of the current quantum seen (mod 4 for b64) */
	uint8_t pad;    /* '=' seen (base64) */
} base_dec;

static inline void base_dec_init(base_dec *d) { d->acc = 0; d->bits = d->nch = d->pad = 0; }
/* Feed len chars; decoded bytes go to out (cap bytes available). Returns
 * bytes written or a negative code. */
int base_hex_feed(base_dec *d, const char *s, size_t len, uint8_t *out, size_t cap);
int base_b64_feed(base_dec *d, const char *s, size_t len, uint8_t *out, size_t cap);
/* 0 if the input fed so far ends on a valid boundary, else DNS_ESYNTAX. */
int base_hex_finish(const base_dec *d);
int base_b64_finish(const base_dec *d);

#endif
