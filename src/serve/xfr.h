/* xfr — outgoing zone transfers of `antidote serve` (AXFR, RFC 5936; an
 * IXFR query is answered with the whole zone in AXFR form, as RFC 1995
 * §4 allows a server without history).
 *
 * A transfer is a sequence of TCP messages, each a reply to the query (its
 * ID, opcode, AA set, the question repeated): the apex SOA first, then
 * every other record of the zone — every RRset of every node (in the
 * node table's order: RFC 5936 asks none), glue, DNSSEC records and the
 * NSEC3 chain included, each record with
 * its own TTL — and the apex SOA again last. Messages are filled up to
 * XFR_MSG_TARGET octets (fewer round trips than one RR a message, small
 * enough for every peer); an RRset may span messages.
 *
 * The cursor borrows the zone: the caller keeps it alive (serve.c builds
 * the whole transfer inside one handler call, while the zoneset cannot be
 * freed). No allocation. */
#ifndef ANTIDOTE_SERVE_XFR_H
#define ANTIDOTE_SERVE_XFR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/msg.h"
#include "serve/zone.h"

#define XFR_MSG_TARGET 16384

typedef struct xfr_cursor {
	const zone *z;
	const msg *q;              /* the query (borrowed) */
	size_t node;               /* slot in z->ht */
	const zone_rrset *set;     /* next RRset of that node (NULL: node done) */
	const zone_rdata *rr;      /* next record of set */
	int phase;                 /* 0 first SOA, 1 records, 2 last SOA, 3 done */
	uint64_t records, messages;
} xfr_cursor;

/* Starts the transfer of z answering q (a parsed AXFR/IXFR query for z's
 * origin). */
void xfr_start(xfr_cursor *c, const zone *z, const msg *q);

/* Writes the next message into buf (cap ≥ 512). Returns its length, 0
 * when the transfer is complete, or DNS_ESPACE when a single record does
 * not fit in cap. *last is set when this message ends the transfer. */
int xfr_next(xfr_cursor *c, uint8_t *buf, size_t cap, bool *last);

/* An error reply to q (rcode: NOTAUTH for a zone not served, REFUSED for a
 * client not allowed), the question echoed. Returns the length. */
int xfr_error(const msg *q, unsigned rcode, uint8_t *buf, size_t cap);

#endif
