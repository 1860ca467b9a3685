/* secrand — unpredictable numbers for query IDs, cookies and 0x20 case
 * patterns (RFC 5452): a per-thread pool refilled from getrandom(2).
 *
 * Each thread has its own 512-octet pool (thread-local, no locks); one
 * getrandom call refills it, so a query (2 ID octets, a few case octets)
 * costs a memcpy, not a syscall. Consumed octets are wiped from the pool.
 * getrandom never fails on Linux ≥ 3.17 once the kernel pool is seeded;
 * a failure other than EINTR is a broken invariant (fatal). */
#ifndef ANTIDOTE_RESOLVE_SECRAND_H
#define ANTIDOTE_RESOLVE_SECRAND_H

#include <stddef.h>
#include <stdint.h>

#define SECRAND_POOL 512

void secrand_bytes(void *out, size_t n);
uint16_t secrand_u16(void);
uint32_t secrand_u32(void);
/* Uniform in [0, n) (no modulo bias); n > 0. */
uint32_t secrand_below(uint32_t n);

#endif
