/* zone — an authoritative zone loaded in memory, and the set of zones a
 * server answers from.
 *
 * A zone owns all of its memory in one arena: nodes (one per owner name,
 * plus empty non-terminals between the apex and every owner), RRsets and
 * RDATA in storage form (rdata.h). Once zone_finish() has succeeded a zone
 * is immutable and may be read by any number of threads without locks.
 *
 * Names are stored with the case they had in the zone file; the hash table
 * is keyed case-insensitively.
 *
 * A zoneset is an immutable collection of finished zones, looked up by the
 * longest origin that contains a name. `antidote serve` builds a new zoneset
 * on SIGHUP and swaps a pointer; the old one is freed after the workers
 * have moved on (see serve.c). */
#ifndef ANTIDOTE_SERVE_ZONE_H
#define ANTIDOTE_SERVE_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/name.h"
#include "util/arena.h"

typedef struct zone_rdata {
	struct zone_rdata *next;
	uint32_t ttl;      /* each record keeps its own TTL, as NSD does */
	uint16_t len;
	uint8_t data[];
} zone_rdata;

typedef struct zone_rrset {
	struct zone_rrset *next;
	uint16_t type;
	uint16_t count;
	uint32_t ttl;      /* the first record's TTL */
	zone_rdata *rrs;   /* in zone-file order */
	zone_rdata **tail; /* for appending while loading */
} zone_rrset;

enum zone_node_flags {
	NODE_DATA = 1,     /* has at least one RRset */
	NODE_DELEG = 2,    /* NS RRset below the apex: a zone cut */
	NODE_DNAME = 4,    /* has a DNAME RRset */
	NODE_WILDKID = 8,  /* has a child labelled "*" */
	NODE_CNAME = 16,   /* has a CNAME RRset */
	NODE_NSEC3ONLY = 32, /* only NSEC3 (+RRSIG) here: invisible to lookups */
};

typedef struct zone_node {
	struct zone_node *parent; /* NULL at the apex */
	const uint8_t *name;      /* wire form, case as loaded */
	uint32_t hash;
	uint8_t len;
	uint8_t labels;
	uint16_t flags;
	zone_rrset *rrsets;
	uint32_t order;           /* index in canonical order (zone_finish) */
} zone_node;

typedef struct zone_nsec3 {
	uint8_t hash[20];         /* decoded first label of the NSEC3 owner */
	uint8_t hlen;
	zone_node *node;
} zone_nsec3;

typedef struct zone {
	uint8_t origin[NAME_MAXLEN];
	uint8_t origin_len;
	uint8_t origin_labels;
	zone_node *apex;
	zone_rrset *soa;          /* apex SOA */
	zone_rrset *ns;           /* apex NS (may be NULL) */
	uint32_t neg_ttl;         /* min(SOA TTL, SOA MINIMUM): RFC 2308 */
	bool secure;              /* apex has RRSIGs: answer DNSSEC with DO=1 */
	bool nsec3;               /* NSEC3PARAM at apex with a usable chain */
	uint8_t n3_alg, n3_flags;
	uint16_t n3_iter;
	uint8_t n3_salt[255];
	uint8_t n3_saltlen;
	zone_nsec3 *n3;           /* NSEC3 chain sorted by hash */
	size_t n3_count;
	zone_node **sorted;       /* nodes in canonical order (zone_finish) */
	size_t nodes;
	zone_node **ht;           /* open addressing, power-of-two size */
	size_t ht_size;
	size_t records;
	arena mem;
	const char *file;         /* for messages; owned */
	int sticky_err;
} zone;

/* Creates an empty zone for origin (may be NULL: taken from the first SOA,
 * whose owner must then be absolute). Returns NULL on allocation failure. */
zone *zone_new(const uint8_t *origin);
void zone_free(zone *z);
/* Sets the origin of a zone that has none yet (before any zone_add). */
void zone_set_origin(zone *z, const uint8_t *origin);

/* Adds one record (owner absolute, storage-form RDATA). Duplicates are
 * ignored. Returns 0 or a negative code with a message in err (no file:line
 * prefix). */
int zone_add(zone *z, const uint8_t *owner, uint16_t type, uint32_t ttl,
	     const uint8_t *rdata, uint16_t rdlen, char *err, size_t errlen);

/* Checks the zone (exactly one SOA at the apex, CNAME alone at its name,
 * nothing outside the origin) and builds the lookup indexes. */
int zone_finish(zone *z, char *err, size_t errlen);

/* Loads a zone file whole: parse + add + finish. origin may be NULL.
 * On failure returns NULL and err holds "file:line: message". */
zone *zone_load(const char *path, const uint8_t *origin, char *err, size_t errlen);

/* Exact lookup (case-insensitive). NULL when the name has no node. */
zone_node *zone_lookup(const zone *z, const uint8_t *name, size_t len);
/* Deepest existing node at or above name (at least the apex; name must be
 * at or below the origin). *exact is set when it is name itself. */
zone_node *zone_closest(const zone *z, const uint8_t *name, bool *exact);
zone_rrset *zone_rrset_find(const zone_node *n, uint16_t type);
/* The node carrying the NSEC that covers or matches name: the nearest node
 * at or before name in canonical order that has an NSEC RRset. */
zone_node *zone_nsec_cover(const zone *z, const uint8_t *name);
/* NSEC3: hash name with the zone's parameters into out (20 bytes). */
void zone_nsec3_hash(const zone *z, const uint8_t *name, uint8_t *out);
/* The NSEC3 entry matching hash exactly (*match = true) or covering it. */
const zone_nsec3 *zone_nsec3_find(const zone *z, const uint8_t *hash, bool *match);

typedef struct zoneset {
	uint64_t gen;      /* unique per zoneset in this process (answer caches) */
	zone **zones;
	size_t count;
	zone **index;      /* open addressing by origin */
	size_t index_size;
} zoneset;

zoneset *zoneset_new(void);
/* Takes ownership of z. Fails with DNS_EINVAL when the origin is already
 * present. */
int zoneset_add(zoneset *zs, zone *z);
void zoneset_free(zoneset *zs);
/* The zone with the longest origin at or above name, or NULL. */
zone *zoneset_find(const zoneset *zs, const uint8_t *name);
/* The zone whose origin is the longest proper ancestor of z's origin. */
zone *zoneset_parent(const zoneset *zs, const zone *z);

#endif
