/* engine — the injection engine: a profile's injectors, their pools and
 * cursors, the blocklist, and the per-query decision "which injectors fire
 * and what each sends". No sockets here: the relay (relay.h), the
 * `antidote inject --explain` command and the lab drive it.
 *
 * Use: inj_config_default(&c); set fields; e = inj_engine_new(&c, err, n);
 * then per query: qmem_init(&m, pkt, len); k = inj_engine_process(e, &m,
 * now_ms, out, INJ_MAX_FORGED, NULL); out[0..k) are the forged replies in
 * injector order. Not thread-safe (cursors and the RNG advance); use one
 * engine per thread. Deterministic for a given seed and query sequence. */
#ifndef ANTIDOTE_INJECT_ENGINE_H
#define ANTIDOTE_INJECT_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "inject/forge.h"
#include "inject/profile.h"
#include "inject/qname.h"
#include "inject/rules.h"

#define INJ_MAX_FORGED PROFILE_MAX_INJ

struct inj_config {
	const char *profile;         /* "gfw" (default), "jan21", "iran", "none" */
	struct profile_opts popts;
	struct rules *rules;         /* borrowed, built; NULL = built-in list:
				      * *.facebook.com *.twitter.com
				      * *.youtube.com *.google.com *.rsf.org
				      * *.wikipedia.org *.3.tt *.4.tt
				      * shadowvpn.com* *69.mu* */
	const char *pool_a_path;     /* NULL: built-in 2009 pool (3 addresses) */
	const char *pool_aaaa_path;  /* NULL: Teredo 2001::d155:9f89 */
	uint64_t seed;               /* TTL/lead/IP ID draws; default 1 */
	const char *const *tune;     /* "INJ.KEY=VALUE" (profile_tune), borrowed */
	int ntune;
};

/* One forged reply. fp points into the engine's profile. */
struct inj_forged {
	uint8_t pkt[FORGE_MAX];
	size_t len;
	int inj;                  /* index in the profile */
	const struct inj_fp *fp;
	int lead_ms;              /* drawn from the injector's range */
	uint32_t ttl;             /* answer TTL */
	uint16_t type;            /* answer type: 1 or 28 */
	uint8_t addr[16];         /* the forged address (4 bytes for A) */
	uint16_t ipid;            /* per the IP ID policy (0 for kernel/zero) */
	int ip_ttl;               /* 1..255, or INJ_IPTTL_COPY: the query's */
};

struct inj_engine;

void inj_config_default(struct inj_config *c);

/* Returns NULL with a message in err on a bad profile name, unreadable or
 * malformed pool file, or no memory. */
struct inj_engine *inj_engine_new(const struct inj_config *c, char *err, size_t errlen);
void inj_engine_free(struct inj_engine *e);

const struct inj_profile *inj_engine_profile(const struct inj_engine *e);
/* Whether now_ms (from the engine's epoch) is inside the jan21 window. */
bool inj_engine_in_window(const struct inj_engine *e, int64_t now_ms);

/* Decides for one query (m: see qname.h). Fills out[0..max) and returns the
 * number of injectors that fire (0: let the query pass untouched). If v is
 * not NULL it receives the name as the first firing injector (or, if none,
 * the first injector) read it. */
int inj_engine_process(struct inj_engine *e, const struct qmem *m, int64_t now_ms, struct inj_forged *out,
		       int max, struct qname_view *v);

/* Writes the ground-truth JSON line of one forged reply (format in
 * relay.h; t = CLOCK_REALTIME now; client as text "IP:port"). */
void inj_log_forged(FILE *log, const char *client, const struct qname_view *v, const struct inj_forged *f,
		    uint64_t send_in_ms, int ip_ttl);

#endif
