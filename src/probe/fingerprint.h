/* fingerprint — groups forged replies into injectors and recovers each
 * injector's address pool.
 *
 * A reply's KEY is what a UDP socket can see of the sender's habits: the
 * header flags word (QR|AA 0x8400 vs QR|RD|RA 0x8180...), the IP TTL
 * (IP_RECVTTL; 0 when not reported), whether an OPT RR came back, and the
 * section counts (capped at 15). IP ID and DF are not visible to a UDP
 * socket and are not used. Within one key, answer TTLs form BANDS: a TTL
 * joins a cluster of the same key when it lies within
 * [min/4, max*4 + 30] of the cluster's TTL range (so 2985-3022 and 68-252
 * stay apart while one injector's own random spread, e.g. 68-252, never
 * splits whatever value comes first); otherwise it
 * starts a new cluster. Cluster ids are 1.. in order of first sight; at
 * most FP_MAX clusters (further keys get 0: "unclustered").
 *
 * Each cluster keeps the set of addresses it answered with (a hash set that
 * grows by doubling: amortised, not per reply), counts of replies and of
 * queries it answered (fp_note_query), and its TTL range. */
#ifndef ANTIDOTE_PROBE_FINGERPRINT_H
#define ANTIDOTE_PROBE_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "probe/prober.h"

#define FP_MAX 64

struct fp_cluster {
	uint16_t flags;
	uint8_t ip_ttl;
	uint8_t opt;
	uint8_t an, ns, ar;
	uint32_t ttl_min, ttl_max;
	uint64_t replies, queries;
	/* address set: open addressing, cap a power of two */
	struct fp_slot { struct probe_addr a; uint8_t used; uint64_t hits; } *set;
	size_t nset, capset;
};

struct fp_table {
	unsigned n;
	struct fp_cluster c[FP_MAX];
};

void fp_init(struct fp_table *t);
void fp_free(struct fp_table *t);

/* Files one forged reply; returns its cluster id (1..FP_MAX) or 0. */
int fp_add(struct fp_table *t, const struct probe_reply *r);
/* Counts one query for every cluster in mask (bit id-1). */
void fp_note_query(struct fp_table *t, uint64_t mask);

/* Addresses of cluster id sorted (v4 before v6, numerically) into out
 * (cap entries); returns how many were written. */
size_t fp_pool(const struct fp_table *t, int id, struct probe_addr *out, size_t cap);
/* True when cluster id's pool holds a. */
int fp_has(const struct fp_table *t, int id, const struct probe_addr *a);

/* Text of an address ("1.2.3.4" / "2001::1") into buf (>= 46). */
const char *fp_addr_str(const struct probe_addr *a, char *buf, size_t len);

/* One JSON object for cluster id (no newline). */
void fp_print_json(const struct fp_table *t, int id, FILE *f);

#endif
