/* internet — the lab's synthetic internet: sites with their true addresses,
 * the root and TLD zones that delegate to them, and the zone files that two
 * `antidote serve` processes load (the servers abroad and the domestic one).
 *
 * Sites come from three sources, mixed by internet_opts:
 *   - domestic: names from a dnsmasq china list (server=/domain/ip lines;
 *     served in China, resolvers route them to the domestic server) and
 *     generated names under .cn (whole .cn goes to the domestic server);
 *   - listed: foreign names taken from gfwlist (AutoProxy rules, decoded);
 *   - generated: foreign names made up from syllables, mostly .com/.net/.org.
 * Each site is one zone (SOA, 2 NS with glue, 1-2 A, sometimes AAAA); users
 * ask for site->name, which is the apex or www.<apex>. Addresses come only
 * from the documentation ranges 192.0.2.0/24, 198.51.100.0/24,
 * 203.0.113.0/24 and 2001:db8::/32: they are data, never contacted.
 * Zones never nest: no site's zone is an ancestor of another's.
 *
 * Popularity: each site has a rank (a seeded shuffle); users draw ranks
 * from a Zipf distribution.
 * TTLs: a realistic distribution (60 s .. 1 day; shorter for the top 5% of
 * the ranks) divided by opts.ttl_scale,
 * because the lab compresses an incident of half an hour into seconds.
 *
 * Everything is deterministic for given lists and opts (seed included).
 * Ownership: struct internet owns every site and string it holds. */
#ifndef ANTIDOTE_LAB_INTERNET_H
#define ANTIDOTE_LAB_INTERNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rules;

#define SITE_NAMEMAX 112
#define INTERNET_MAXSITES 4000 /* one server loads at most 4096 zones */
#define INTERNET_MAXTLDS 200
#define INTERNET_TLDMAX 32

enum site_origin { SITE_GENERATED = 0, SITE_GFWLIST = 1, SITE_CHINALIST = 2, SITE_CN = 3 };

struct site {
	char name[SITE_NAMEMAX]; /* asked by users: lower case, no final dot */
	char zone[SITE_NAMEMAX]; /* the site's zone apex */
	uint16_t tld;            /* index in internet.tld */
	uint8_t origin;          /* enum site_origin */
	bool domestic;           /* served by the domestic server */
	bool cno;                /* last label com, net or org */
	bool blocked;            /* internet_mark_blocked: the blocklist matches */
	uint8_t na, naaaa;       /* 1..2 A, 0..1 AAAA */
	uint8_t a[2][4];
	uint8_t aaaa[16];
	uint32_t rank;           /* popularity: 0 = most asked */
	uint32_t ttl;            /* in the zone (scaled) */
	uint32_t ttl_real;       /* before scaling */
};

struct internet_opts {
	unsigned sites;        /* 1..INTERNET_MAXSITES; default 2000 */
	uint64_t seed;         /* default 1 */
	unsigned ttl_scale;    /* >= 1; default 100 */
	unsigned domestic_pct; /* share of domestic sites; default 10 */
	unsigned cn_pct;       /* of the domestic sites, under .cn; default 50 */
	unsigned listed_pct;   /* share of sites from gfwlist; default 20 */
	unsigned aaaa_pct;     /* sites with an AAAA; default 30 */
	unsigned www_pct;      /* sites asked as www.<zone>; default 60 */
};

struct internet {
	struct internet_opts opts;
	struct site *site;
	unsigned n;
	unsigned counts[4];    /* sites per enum site_origin */
	char tld[INTERNET_MAXTLDS][INTERNET_TLDMAX];
	unsigned ntld;
	uint32_t *idx;         /* name -> site hash (open addressing) */
	size_t idxcap;
};

void internet_opts_default(struct internet_opts *o);

/* Builds the sites from the decoded gfwlist text and the china list text
 * (either may be NULL: generated names fill the gap). Returns 0 or a
 * negative DNS_E* code with a message in err. */
int internet_build(struct internet *net, const struct internet_opts *o, const char *gfwlist, size_t glen,
		   const char *chinalist, size_t clen, char *err, size_t errlen);
/* The same, reading DIR/gfwlist-2026-08.b64 (base64 or plain) and
 * DIR/china-domains-2026-08.conf. A missing file is an error. */
int internet_load(struct internet *net, const struct internet_opts *o, const char *datadir, char *err,
		  size_t errlen);
void internet_free(struct internet *net);

/* Sets site->blocked for every foreign site whose name the (built) rules
 * match; domestic sites never cross the border, so are never blocked.
 * Returns the number of blocked sites. */
unsigned internet_mark_blocked(struct internet *net, const struct rules *r);

/* Index of the site whose name is name[0..len) (any case, a final dot
 * allowed), or -1. */
int internet_find(const struct internet *net, const char *name, size_t len);

/* Whether addr (4 bytes if alen == 4, else 16) is one of s's addresses. */
bool internet_is_truth(const struct site *s, const uint8_t *addr, size_t alen);

/* Zone files written by internet_write_zones; paths are owned here. */
struct internet_files {
	char **abroad;    /* root, TLDs but cn, foreign sites */
	unsigned nabroad;
	char **domestic;  /* cn, domestic sites */
	unsigned ndomestic;
};

/* Writes DIR/root.zone, DIR/tld-<tld>.zone, DIR/site-<i>.zone. DIR must
 * exist. Returns 0 or DNS_EIO / DNS_ENOMEM with a message in err. */
int internet_write_zones(const struct internet *net, const char *dir, struct internet_files *f, char *err,
			 size_t errlen);
void internet_files_free(struct internet_files *f);

/* Real TTL drawn for u in [0,1) from the built-in distribution (60 s ..
 * 1 day), or for a popular name (top 5% of the ranks) from a short one
 * (60 s .. 1 h: names behind CDNs and load balancers). */
uint32_t internet_ttl_real(double u, bool popular);

#endif
