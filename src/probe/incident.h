/* incident — the detector behind `antidote watch`: per-canary baselines and
 * the incidents raised when the injection pattern changes. Pure logic (no
 * sockets, no clock): the caller feeds one observation per canary per round
 * and closes the round with incident_round_end, which emits events.
 *
 * BASELINE. For the first cfg.learn rounds every canary's answers are
 * learnt: its rcode(s) and its NORMAL address set (up to INC_NORMAL
 * addresses). A canary whose answers varied while learning (more than one
 * distinct address set, or answered and failed) is VOLATILE: censored names
 * cycling through an injector's pool, CDNs; volatile canaries never count
 * toward a hijack. After learning, an address a canary gives that is not in
 * its normal set is learnt too, unless that round it is a SUSPECT (given to
 * changed canaries of two or more distinct bases) or the address of an
 * active hijack.
 *
 * A canary written "*.example.com" is queried under a fresh random label
 * each round (cache busting; the caller does that): its baseline is then
 * usually NXDOMAIN or a wildcard answer.
 *
 * INCIDENTS (after learning):
 *  - hijack (the 21 Jan 2014 signature: one address answering many
 *    unrelated names): a canary is CHANGED when it answered with addresses
 *    none of which is in its normal set. The address shared by changed,
 *    non-volatile canaries of the most distinct bases (base = last two
 *    labels) is the round's candidate; >= cfg.hijack_min bases raise it.
 *  - tld-outage (the 25 Aug 2013 .cn signature): among the canaries of one
 *    TLD that answered while learning, those that time out or get SERVFAIL
 *    or REFUSED this round; >= cfg.tld_min of them and >= cfg.tld_frac of
 *    the TLD's canaries raise it (one incident per TLD).
 * An incident is raised in the first round its condition holds and cleared
 * after cfg.clear consecutive rounds without it. Each has an id (1, 2...).
 */
#ifndef ANTIDOTE_PROBE_INCIDENT_H
#define ANTIDOTE_PROBE_INCIDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probe/prober.h"

#define INC_NORMAL 16
#define INC_MAXACTIVE 64
#define INC_SAMPLE 8

struct inc_cfg {
	unsigned learn;       /* rounds of learning (default 3) */
	unsigned clear;       /* quiet rounds before a clear (default 2) */
	unsigned hijack_min;  /* distinct bases sharing one new address (default 3) */
	unsigned tld_min;     /* failing canaries of one TLD (default 2) */
	double tld_frac;      /* share of the TLD's canaries failing (default 0.5) */
};

enum inc_status { OBS_TIMEOUT, OBS_ANSWER };

/* One canary's outcome in one round (the first reply; extra differing
 * replies set `multi`). */
struct inc_obs {
	uint8_t status;       /* enum inc_status */
	uint16_t rcode;
	uint8_t naddr;
	bool multi;
	struct probe_addr addr[PROBE_MAXADDR];
};

enum inc_kind { INC_HIJACK, INC_TLD_OUTAGE, INC_NKINDS };

struct inc_event {
	bool raise;           /* false: clear */
	unsigned id;
	enum inc_kind kind;
	uint64_t round;       /* round that raised / cleared it */
	uint64_t raised_round;
	struct probe_addr addr;  /* hijack */
	char tld[64];            /* tld-outage */
	unsigned names, bases;   /* hijack: changed canaries / distinct bases */
	unsigned failing, of, timeouts; /* tld-outage */
	unsigned nsample;
	const char *sample[INC_SAMPLE]; /* canary names (borrowed) */
};

typedef void inc_emit_fn(void *arg, const struct inc_event *e);

/* Round statistics (for metrics and progress). */
struct inc_round_stats {
	unsigned answered, timeouts, failures, changed, multi;
	unsigned suspects;   /* addresses shared by changed canaries of >= 2 bases */
	unsigned top_bases;  /* bases behind the top candidate address */
};

struct incident;

void inc_cfg_default(struct inc_cfg *c);
/* names: canary names (borrowed; "*.x.com" allowed: its base/TLD come from
 * x.com). NULL on no memory. */
struct incident *incident_new(const struct inc_cfg *c, const char *const *names, size_t n);
void incident_free(struct incident *w);

/* Records canary i's observation for the current round. */
void incident_observe(struct incident *w, size_t i, const struct inc_obs *o);
/* Closes the round: learns, evaluates, emits raise/clear events, and
 * starts the next round (canaries not observed count as timeouts). */
void incident_round_end(struct incident *w, inc_emit_fn *emit, void *arg, struct inc_round_stats *st);

bool incident_learning(const struct incident *w);
uint64_t incident_round(const struct incident *w);
unsigned incident_active(const struct incident *w, enum inc_kind k);
uint64_t incident_total(const struct incident *w, enum inc_kind k);
const char *incident_kind_name(enum inc_kind k);

/* Base (last two labels) and TLD (last label) of a text name, lower-cased,
 * into out; "*." prefix ignored. */
void incident_base(const char *name, char *out, size_t cap);
void incident_tld(const char *name, char *out, size_t cap);

#endif
