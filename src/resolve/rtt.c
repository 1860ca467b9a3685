/* rtt — SRTT/RTTVAR and RTO (see rtt.h). */
#include "resolve/rtt.h"

void rtt_sample(rtt *r, uint64_t sample_us)
{
	uint32_t s = sample_us > 60000000u ? 60000000u : (uint32_t)sample_us;
	if (s == 0)
		s = 1;
	if (!r->samples) {
		r->srtt_us = s;
		r->rttvar_us = s / 2;
	} else {
		uint32_t d = r->srtt_us > s ? r->srtt_us - s : s - r->srtt_us;
		r->rttvar_us = (uint32_t)(((uint64_t)r->rttvar_us * 3 + d) / 4);
		r->srtt_us = (uint32_t)(((uint64_t)r->srtt_us * 7 + s) / 8);
		if (!r->srtt_us)
			r->srtt_us = 1;
	}
	r->samples++;
	r->backoff = 0;
}

void rtt_timeout(rtt *r)
{
	if (r->backoff < 16)
		r->backoff++;
}

uint32_t rtt_rto(const rtt *r, const rtt_limits *lim)
{
	uint64_t rto;
	if (!r->samples) {
		rto = lim->init_us;
	} else {
		uint64_t v = (uint64_t)r->rttvar_us * 4;
		rto = r->srtt_us + (v > lim->gran_us ? v : lim->gran_us);
	}
	if (rto < lim->min_us)
		rto = lim->min_us;
	rto <<= r->backoff;
	if (rto > lim->max_us)
		rto = lim->max_us;
	return (uint32_t)rto;
}
