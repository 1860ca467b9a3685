/* truth — checks one reply a user got against the lab's truth (the site's
 * real addresses): genuine, forged, SERVFAIL or something else.
 *
 * Verdicts:
 *   GENUINE   NOERROR, the question is the one asked, at least one A/AAAA
 *             for the name, every one of them a true address of the site;
 *   FORGED    NOERROR and some A or AAAA in the answer section that is not
 *             the site's (whatever the type asked: the jan21 injector
 *             answers AAAA queries with an A) — the first such address is
 *             returned;
 *   SERVFAIL  RCODE 2;
 *   OTHER     anything else: other RCODEs, no address (NODATA), a question
 *             that does not match, a reply that does not parse.
 * TIMEOUT is the load generator's verdict for no reply at all. */
#ifndef ANTIDOTE_LAB_TRUTH_H
#define ANTIDOTE_LAB_TRUTH_H

#include <stddef.h>
#include <stdint.h>

#include "lab/internet.h"

enum truth_verdict { TRUTH_GENUINE, TRUTH_FORGED, TRUTH_SERVFAIL, TRUTH_OTHER, TRUTH_TIMEOUT, TRUTH_N };

struct truth_result {
	enum truth_verdict verdict;
	uint16_t id;        /* the reply's ID (valid when len >= 12) */
	uint8_t addr[16];   /* FORGED: the first false address */
	uint8_t alen;       /* 4 or 16; 0 when none */
	uint32_t ttl;       /* TTL of that address's RR (or of the first true one) */
};

/* Checks pkt[0..len) as the reply to (s->name, qtype). Never fails: a
 * malformed reply is OTHER. No allocation (a small RR array on the stack). */
void truth_check(const uint8_t *pkt, size_t len, const struct site *s, uint16_t qtype, struct truth_result *out);

/* "genuine", "forged", "servfail", "other", "timeout". */
const char *truth_name(enum truth_verdict v);

#endif
