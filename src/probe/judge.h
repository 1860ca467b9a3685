/* judge — is a reply forged? Per-reply classes and a per-query verdict
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
#ifndef ANTIDOTE_PROBE_JV_H
#define ANTIDOTE_PROBE_JV_H

#include <stdbool.h>
#include <stdint.h>

#include "probe/prober.h"

enum judge_verdict { JV_NONE, JV_GENUINE, JV_FORGED, JV_CONFLICT, JV_N };
enum judge_class { JR_UNKNOWN, JR_GENUINE, JR_FORGED };

/* Summary of the control answer for one question. */
struct judge_ctl {
	bool ok;          /* the control answered */
	uint16_t rcode;
	uint8_t naddr;
	uint64_t set;     /* judge_set_hash of its addresses */
};

struct judge_ctx {
	bool silent;                   /* target known to run no DNS server */
	bool edns_sent;                /* the query carried OPT */
	const struct judge_ctl *ctl; /* NULL: no control */
};

/* Order-independent hash of an address set (0 for the empty set). */
uint64_t judge_set_hash(const struct probe_addr *a, unsigned n);

/* Classifies r->rep[0..nrep) into cls[] (PROBE_MAXREP entries) and returns
 * the query's enum judge_verdict. */
enum judge_verdict judge_result(const struct judge_ctx *c, const struct probe_result *r, uint8_t *cls);

const char *judge_name(enum judge_verdict v);
const char *judge_class_name(enum judge_class c);

#endif
