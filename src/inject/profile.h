/* profile — injector fingerprints and the named deployments (profiles).
 *
 * An injector (struct inj_fp) is one forging process on the path, with a
 * fingerprint: reader regime (qname.h), flags variant (forge.h), answer TTL
 * range, IP TTL (fixed or copied from the query), IP ID policy, DF, the lead
 * time over the real reply, which pools it draws from and how many
 * addresses a name may draw (subset k, pool.h). A profile is a set of
 * injectors firing side by side.
 *
 * Profiles (INJECTORS.md; numbers marked (?) there are parameters here):
 *   gfw    the triplet of today: three injectors, distinct fingerprints,
 *          all answering names the blocklist matches:
 *            gfw1  flags 0x8180 always, TTL 2985-3022, IP TTL copied from
 *                  the query, IP ID random, DF off, lead 10-60 ms, k=16
 *            gfw2  flags by RD, TTL 234, IP TTL 169, IP ID 0, DF on,
 *                  lead 5-40 ms, k=4
 *            gfw3  (injector 3) flags by RD, TTL 68-252, IP TTL 53, IP ID
 *                  incrementing, DF off, lead 5-30 ms, the whole pool in
 *                  order (k=0)
 *          all with regime FIXED unless overridden; pools A/AAAA from the
 *          command line (or the built-in 2009 A pool / Teredo AAAA).
 *   jan21  gfw, plus during the fault window [start, start+duration) (ms
 *          from the engine's epoch) an injector "dit" answering EVERY name
 *          whose last label is com, net or org with A 65.49.2.178 (also for
 *          AAAA queries; .cn and others untouched), TTL jan21_ttl (?) --
 *          while it fires, the triplet stays quiet for that name.
 *   iran   one injector: A 10.10.34.34-36, AAAA 2001:4188:2:600:10:10:34:
 *          {34,35,36}, cycling; TTL 60 (?), flags by RD.
 *   none   no injector (a transparent relay).
 * Lead time: the injector sends its reply lead ms before the real reply is
 * expected (the relay takes the round trip to be 2 x delay); a negative
 * lead puts it after (seen from outside China, 11% arrive late).
 *
 * Tuning (INJECTORS.md: "where a fact is marked (?) it is uncertain: make it
 * a parameter"). profile_tune applies "INJ.KEY=VALUE" to injector INJ of a
 * profile (its name, or '*' for all):
 *   fire=P        probability 0..1 that it answers a query it matches
 *                 (default 1; below 1 one query draws 1-3 replies)
 *   ttl=N|N-M     answer TTL (range drawn uniformly)
 *   ip_ttl=N|copy|random   IP TTL / hop limit: fixed 1..255, copied from
 *                 the query, or drawn from 1..255 per reply (Hold-On)
 *   ipid=kernel|zero|random|incr   df=on|off   (IPv4 only)
 *   lead=N|N..M   ms ahead of the real reply; negative = after it
 *                 (N-M also works when N >= 0)
 *   rst=on|off    TCP resets for the names it matches (border; default on)
 *   k=N           addresses of the pool one name may draw (0: the whole
 *                 pool in order)
 *   regime=unpatched|patched|fixed   flags=rd|8180 */
#ifndef ANTIDOTE_INJECT_PROFILE_H
#define ANTIDOTE_INJECT_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "inject/forge.h"
#include "inject/qname.h"

#define PROFILE_MAX_INJ 4

enum ipid_policy { IPID_KERNEL, IPID_ZERO, IPID_RANDOM, IPID_INCR };

/* inj_fp.ip_ttl special values (else 1..255, fixed) */
#define INJ_IPTTL_COPY -1   /* the query's IP TTL / hop limit */
#define INJ_IPTTL_RANDOM -2 /* drawn from 1..255 per reply */

/* Pools a profile refers to (owned by the engine). */
enum pool_id { POOL_NONE = -1, POOL_A, POOL_AAAA, POOL_JAN21, POOL_IRAN_A, POOL_IRAN_AAAA, POOL_N };

/* Which names an injector answers. */
enum inj_select {
	SELECT_RULES,   /* the blocklist */
	SELECT_COM_NET_ORG, /* last label com/net/org (jan21) */
};

struct inj_fp {
	char name[16];
	enum qname_regime regime;
	enum forge_flags flags;
	enum inj_select select;
	bool force_a;           /* answer A even to AAAA */
	int window;             /* 0 always, 1 only inside the fault window */
	uint32_t ttl_min, ttl_max;
	int ip_ttl;             /* INJ_IPTTL_COPY / _RANDOM, else 1..255 */
	enum ipid_policy ipid;
	bool df;
	int lead_min_ms, lead_max_ms;
	enum pool_id pool4, pool6;
	unsigned subset_k;      /* 0 = whole pool */
	double miss;            /* probability of staying silent on a match (0) */
	bool no_rst;            /* no TCP resets (default: resets on) */
};

struct inj_profile {
	char name[16];
	int n;
	struct inj_fp inj[PROFILE_MAX_INJ];
	int64_t win_start_ms, win_len_ms; /* jan21 fault window */
};

/* Options that shape a profile (defaults: profile_opts_default). */
struct profile_opts {
	bool regime_set;            /* override every injector's regime */
	enum qname_regime regime;
	int64_t jan21_start_ms;     /* default 0 */
	int64_t jan21_len_ms;       /* default 29 min (15:10-15:39) */
	uint32_t jan21_ttl;         /* default 3600 (?) */
};

void profile_opts_default(struct profile_opts *o);

/* Applies one "INJ.KEY=VALUE" (banner) to p. Returns 0, or DNS_ESYNTAX
 * with a message naming the bad part in err. */
int profile_tune(struct inj_profile *p, const char *spec, char *err, size_t errlen);

/* Fills *p for "gfw", "jan21", "iran" or "none". Returns 0 or DNS_ESYNTAX
 * (unknown name). */
int profile_make(struct inj_profile *p, const char *name, const struct profile_opts *o);

/* "kernel"/"zero"/"random"/"incr". */
const char *profile_ipid_name(enum ipid_policy p);

#endif
