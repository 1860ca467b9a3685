/* pool — forged-address pools and the injectors' cursors over them.
 *
 * A pool holds addresses of one family (AF_INET or AF_INET6) in file order.
 * Each injector keeps its own pool_cursor, so two injectors drawing from the
 * same pool step through it independently (injector 3 of 2025 walked an
 * ordered cyclic list of 592 addresses: data/gfw-injector3-pool-a.txt).
 *
 * Subsets: with k > 0 a name draws only k of the N addresses, chosen
 * deterministically from the name: start = FNV-1a(lower-case name) mod N,
 * stride = N / k, subset = { (start + j*stride) mod N : j < k } (all
 * distinct; k >= N means the whole pool). The cursor then cycles through
 * the subset: the j-th draw (j = position mod k) gives its j-th member. */
#ifndef ANTIDOTE_INJECT_POOL_H
#define ANTIDOTE_INJECT_POOL_H

#include <stddef.h>
#include <stdint.h>

struct pool {
	int family;        /* AF_INET, AF_INET6, or AF_UNSPEC while empty */
	size_t n, cap;
	uint8_t (*addr)[16]; /* IPv4 in the first 4 bytes */
};

struct pool_cursor {
	uint64_t pos; /* draws so far */
};

void pool_init(struct pool *p);
void pool_free(struct pool *p);
/* Bytes per address: 4 or 16 (0 while empty). */
size_t pool_addr_len(const struct pool *p);

/* Adds one numeric address. Returns 0, DNS_ESYNTAX (not an address, or the
 * other family than the pool's), DNS_ENOMEM. */
int pool_add_text(struct pool *p, const char *text);

/* Loads a file: one address a line, '#' starts a comment, blank lines
 * ignored. Returns the number added or a negative code with
 * "FILE:LINE: message" in err. */
int pool_load(struct pool *p, const char *path, char *err, size_t errlen);

/* Index of the next address for name (see banner); advances the cursor.
 * The pool must not be empty. */
size_t pool_next_index(const struct pool *p, struct pool_cursor *c, const char *name, size_t len, unsigned k);

/* The address at pool_next_index (borrowed pointer into p). */
const uint8_t *pool_next(const struct pool *p, struct pool_cursor *c, const char *name, size_t len, unsigned k);

#endif
