/* notify — DNS NOTIFY (RFC 1996) from `antidote serve` to its secondaries:
 * after a start or a reload that changed a zone's serial, each --notify
 * target is told "this zone changed" so it transfers at once (xfr.h)
 * instead of waiting for the SOA refresh timer.
 *
 * A NOTIFY is a query with opcode NOTIFY (4), AA set, the question
 * "ZONE SOA IN" and the zone's SOA in the answer section (the serial, as a
 * hint). It is sent over UDP from a fresh socket per target with a random
 * ID, and retried (tries times, every wait_ms) until that target answers
 * with the same ID, QR, opcode NOTIFY and the same question — any RCODE
 * counts as an answer (NOTAUTH/REFUSED are logged by the caller).
 *
 * TSIG: a target given a key gets its NOTIFY signed (tsig.h); the answer's
 * TSIG is verified and the outcome reported in notify_result.tsig (an
 * answer that does not verify still counts as an answer: it only stops
 * the retries).
 *
 * notify_run blocks (serve.c runs it in a thread of its own so neither the
 * workers nor the control thread wait). */
#ifndef ANTIDOTE_SERVE_NOTIFY_H
#define ANTIDOTE_SERVE_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "dns/name.h"
#include "dns/tsig.h"
#include "net/addr.h"

#define NOTIFY_MAX_TARGETS 16
#define NOTIFY_MAX_ZONES 64

typedef struct notify_zone {
	uint8_t name[NAME_MAXLEN];
	uint32_t ttl;
	uint16_t soa_len;
	uint8_t soa[NAME_MAXLEN * 2 + 20]; /* storage-form SOA RDATA */
} notify_zone;

typedef struct notify_result {
	int rcode;       /* the answer's RCODE; -1 when none came */
	unsigned tries;  /* NOTIFYs sent */
	int tsig;        /* signed NOTIFY: 0 when the answer's TSIG verified, a TSIG
			  * error (TSIG_BADSIG...), DNS_ENOTFOUND (answer unsigned)
			  * or another negative code; 0 when unsigned */
} notify_result;

/* Builds the NOTIFY for z with id into buf. Returns the length or
 * DNS_ESPACE. */
int notify_build(uint8_t *buf, size_t cap, const notify_zone *z, uint16_t id);

/* Whether resp answers the NOTIFY q (ID, QR, opcode, question). */
int notify_is_answer(const uint8_t *q, size_t qlen, const uint8_t *resp, size_t rlen);

/* Notifies every target of every zone; res[z * ntargets + t] says how each
 * went. keys: NULL, or nt entries, the key to sign with for each target
 * (NULL entries: unsigned); borrowed for the call. Returns the number of
 * (zone, target) pairs answered. */
unsigned notify_run(const notify_zone *zones, unsigned nz, const net_addr *targets, const tsig_key *const *keys,
		    unsigned nt, unsigned tries, unsigned wait_ms, notify_result *res);

#endif
