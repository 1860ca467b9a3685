/* zipf — Zipf popularity sampler (see zipf.h). */
#include <math.h>
#include <stdlib.h>

#include "dns/err.h"
#include "lab/zipf.h"

int zipf_init(struct zipf *z, unsigned n, double s)
{
	z->cdf = NULL;
	z->n = 0;
	if (n == 0 || !(s >= 0) || s > 100)
		return DNS_EINVAL;
	z->cdf = malloc(sizeof(double) * n);
	if (!z->cdf)
		return DNS_ENOMEM;
	double sum = 0;
	for (unsigned k = 0; k < n; k++) {
		sum += pow((double)k + 1, -s);
		z->cdf[k] = sum;
	}
	for (unsigned k = 0; k < n; k++)
		z->cdf[k] /= sum;
	z->cdf[n - 1] = 1.0;
	z->n = n;
	z->s = s;
	return 0;
}

void zipf_free(struct zipf *z)
{
	free(z->cdf);
	z->cdf = NULL;
	z->n = 0;
}

unsigned zipf_rank(const struct zipf *z, double u)
{
	unsigned lo = 0, hi = z->n - 1;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (z->cdf[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

double zipf_prob(const struct zipf *z, unsigned k)
{
	if (k >= z->n)
		return 0;
	return k ? z->cdf[k] - z->cdf[k - 1] : z->cdf[0];
}
