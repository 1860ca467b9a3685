/* forge — builds the injector's forged reply (INJECTORS.md, "The forged reply").
 *
 * Layout: the query's bytes [0, copy_len) are copied through the synthetic
 * memory image (so an over-read copies filler, never real memory), then the
 * header is rewritten -- TXID kept; flags 0x8400 (QR|AA) if the query had
 * RD=0, 0x8180 (QR|RD|RA) if RD=1, or always 0x8180 for the FORGE_FLAGS_8180
 * variant; counts QD=1 AN=1 NS=0 AR=0 -- and one answer RR follows:
 * name c0 0c, type AAAA if QTYPE was AAAA else A (MX, TXT... get an A),
 * class IN, the given TTL, and the address. Nothing else of the query (no
 * EDNS OPT, no additional records) is echoed unless it lay before copy_len,
 * which for a well-formed query ends right after QTYPE/QCLASS. */
#ifndef ANTIDOTE_INJECT_FORGE_H
#define ANTIDOTE_INJECT_FORGE_H

#include <stddef.h>
#include <stdint.h>

#include "inject/qname.h"

enum forge_flags { FORGE_FLAGS_BY_RD, FORGE_FLAGS_8180 };

/* Largest reply forge_build can produce (copy_len is bounded by the name
 * reader to well under this). */
#define FORGE_MAX 512

/* The answer type the injector uses for a query type: 28 (AAAA) for AAAA,
 * 1 (A) for anything else. */
uint16_t forge_answer_type(uint16_t qtype);

/* Writes the reply into out (cap bytes). addr is 4 bytes for type A and 16
 * for AAAA (type decided by forge_answer_type(v->qtype) unless force_a).
 * Returns the length, or DNS_ESPACE. */
int forge_build(uint8_t *out, size_t cap, const struct qmem *m, const struct qname_view *v,
		enum forge_flags flags, int force_a, uint32_t ttl, const uint8_t *addr);

#endif
