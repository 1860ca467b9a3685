/* zipf — Zipf popularity sampler: rank k (0-based) of n items is drawn with
 * probability proportional to 1 / (k + 1)^s.
 *
 * zipf_init precomputes the cumulative distribution (one allocation); a
 * draw is one uniform number and a binary search, no allocation, so the
 * load generator can draw per query. */
#ifndef ANTIDOTE_LAB_ZIPF_H
#define ANTIDOTE_LAB_ZIPF_H

#include <stddef.h>

#include "lab/rng.h"

struct zipf {
	unsigned n;
	double s;
	double *cdf; /* cdf[k] = P(rank <= k); cdf[n-1] = 1 */
};

/* n >= 1, s >= 0 (0 = uniform). Returns 0, DNS_EINVAL or DNS_ENOMEM. */
int zipf_init(struct zipf *z, unsigned n, double s);
void zipf_free(struct zipf *z);

/* Rank for a uniform u in [0, 1): the smallest k with cdf[k] > u. */
unsigned zipf_rank(const struct zipf *z, double u);

static inline unsigned zipf_draw(const struct zipf *z, struct rng *r)
{
	return zipf_rank(z, rng_unit(r));
}

/* Probability of rank k (0 when k >= n). */
double zipf_prob(const struct zipf *z, unsigned k);

#endif
