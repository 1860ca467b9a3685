/* rtt — round-trip time estimation and retransmission timeout for one
 * upstream, RFC 6298 style, in microseconds.
 *
 * First sample R: SRTT = R, RTTVAR = R/2. Later samples:
 *   RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|,  SRTT = 7/8 SRTT + 1/8 R.
 * RTO = SRTT + max(G, 4 RTTVAR) clamped to [min, max], doubled for each
 * consecutive timeout (back-off, RFC 6298 §5.5) up to max; a new sample
 * clears the back-off. Before any sample RTO = init. Samples must come
 * from unambiguous exchanges (one ID per send: Karn's rule holds). */
#ifndef ANTIDOTE_RESOLVE_RTT_H
#define ANTIDOTE_RESOLVE_RTT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct rtt_limits {
	uint32_t init_us; /* RTO before the first sample */
	uint32_t min_us;
	uint32_t max_us;
	uint32_t gran_us; /* clock granularity G */
} rtt_limits;

typedef struct rtt {
	uint32_t srtt_us;   /* 0 = no sample yet */
	uint32_t rttvar_us;
	uint8_t backoff;    /* consecutive timeouts (capped at 16) */
	uint32_t samples;
} rtt;

static inline void rtt_init(rtt *r) { r->srtt_us = r->rttvar_us = 0; r->backoff = 0; r->samples = 0; }
static inline bool rtt_known(const rtt *r) { return r->samples > 0; }
void rtt_sample(rtt *r, uint64_t sample_us);
void rtt_timeout(rtt *r);
/* Current RTO including back-off. */
uint32_t rtt_rto(const rtt *r, const rtt_limits *lim);

#endif
