/* verdict — is a reply forged? Per-reply classes and a per-query verdict
 * from the three detection methods of `antidote probe`:
 *   (a) the target runs no DNS server (GFWatch): every reply is forged;
 *   (b) a control answer fetched over TCP (the injector does not forge over
 *       TCP): a reply that disagrees with it (rcode or address set) is
 *       forged, one that agrees is genuine;
 *   (c) several replies to one query: when the query carried EDNS and some
 *       replies echo an OPT RR and others do not, the ones without are
 *       forged (injectors do not echo OPT); otherwise differing replies make
 *       the query a conflict.
 * A single reply with no other evidence is taken as genuine.
 * Verdicts: none (no reply), genuine, forged (at least one forged reply),
 * conflict (replies differ and nothing says which is real). */
#ifndef ANTIDOTE_PROBE_VERDICT_H
#define ANTIDOTE_PROBE_VERDICT_H

#include <stdbool.h>
#include <stdint.h>

#include "probe/prober.h"

enum verdict { VERDICT_NONE, VERDICT_GENUINE, VERDICT_FORGED, VERDICT_CONFLICT, VERDICT_N };
enum reply_class { REPLY_UNKNOWN, REPLY_GENUINE, REPLY_FORGED };

/* Summary of the control answer for one question. */
struct verdict_ctl {
	bool ok;          /* the control answered */
	uint16_t rcode;
	uint8_t naddr;
	uint64_t set;     /* verdict_set_hash of its addresses */
};

struct verdict_ctx {
	bool silent;                   /* target known to run no DNS server */
	bool edns_sent;                /* the query carried OPT */
	const struct verdict_ctl *ctl; /* NULL: no control */
};

/* Order-independent hash of an address set (0 for the empty set). */
uint64_t verdict_set_hash(const struct probe_addr *a, unsigned n);

/* Classifies r->rep[0..nrep) into cls[] (PROBE_MAXREP entries) and returns
 * the query's enum verdict. */
enum verdict verdict_judge(const struct verdict_ctx *c, const struct probe_result *r, uint8_t *cls);

const char *verdict_name(enum verdict v);
const char *reply_class_name(enum reply_class c);

#endif
