/* test_dnssec — RRSIG verification against zones signed by ldns-signzone. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dns/dnssec.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/rrtype.h"
#include "dns/zonefile.h"

#define DIR "tests/data/dnssec/"
#define T2025 1735689600u /* 2025-01-01, inside 2024-01-01 .. 2040-01-01 */
#define T2024 1704067200u /* 2024-01-01 00:00:00: the fixtures' inception */
#define T2040 2208988800u /* 2040-01-01 00:00:00: their expiration */

static uint8_t scratch[DNSSEC_SCRATCH];

/* ---- a zone in memory ---- */

typedef struct zrr {
	uint8_t owner[NAME_MAXLEN];
	uint16_t type;
	uint32_t ttl;
	uint8_t *rd;
	uint16_t rdlen;
} zrr;

typedef struct zone {
	zrr *rr;
	unsigned n, cap;
	dnssec_key keys[8];
	unsigned nkeys;
} zone;

static int add_rr(void *arg, const zf_rr *r)
{
	zone *z = arg;
	if (z->n == z->cap) {
		z->cap = z->cap ? 2 * z->cap : 64;
		z->rr = realloc(z->rr, z->cap * sizeof(*z->rr));
		assert_non_null(z->rr);
	}
	zrr *e = &z->rr[z->n++];
	name_copy(e->owner, r->owner);
	e->type = r->type;
	e->ttl = r->ttl;
	e->rdlen = r->rdlen;
	e->rd = malloc(r->rdlen ? r->rdlen : 1);
	assert_non_null(e->rd);
	memcpy(e->rd, r->rdata, r->rdlen);
	return 0;
}

static void zone_load(zone *z, const char *path)
{
	char err[ZONEFILE_ERRLEN] = "";
	*z = (zone){0};
	long n = zonefile_parse(path, NULL, add_rr, z, err, sizeof(err));
	if (n < 0)
		fail_msg("%s: %s", path, err);
	for (unsigned i = 0; i < z->n; i++)
		if (z->rr[i].type == RR_DNSKEY) {
			assert_true(z->nkeys < 8);
			assert_int_equal(dnssec_key_init(&z->keys[z->nkeys++], z->rr[i].owner, z->rr[i].rd,
							 z->rr[i].rdlen), 0);
		}
	assert_true(z->nkeys >= 1);
}

static void zone_free(zone *z)
{
	for (unsigned i = 0; i < z->n; i++)
		free(z->rr[i].rd);
	free(z->rr);
}

static const dnssec_key *key_for(const zone *z, const uint8_t *rrsig)
{
	uint16_t tag = (uint16_t)(rrsig[16] << 8 | rrsig[17]);
	for (unsigned i = 0; i < z->nkeys; i++)
		if (z->keys[i].tag == tag)
			return &z->keys[i];
	return NULL;
}

/* The RRset (owner, type) of z in rd[] (returns n) and its first RRSIG. */
static unsigned rrset_of(const zone *z, const uint8_t *owner, uint16_t type, dnssec_rdata *rd,
			 const zrr **sig)
{
	unsigned n = 0;
	*sig = NULL;
	for (unsigned i = 0; i < z->n; i++) {
		const zrr *e = &z->rr[i];
		if (!name_eq(e->owner, owner))
			continue;
		if (e->type == type)
			rd[n++] = (dnssec_rdata){e->rd, e->rdlen};
		else if (e->type == RR_RRSIG && (e->rd[0] << 8 | e->rd[1]) == type && !*sig)
			*sig = e;
	}
	return n;
}

static const uint8_t *N(const char *text)
{
	static uint8_t buf[8][NAME_MAXLEN];
	static int k;
	uint8_t *b = buf[k++ & 7];
	assert_true(name_from_text(text, strlen(text), NULL, b) > 0);
	return b;
}

static int verify(const zone *z, const char *owner, uint16_t type, const char *as_owner,
		  uint32_t now, dnssec_why *why)
{
	dnssec_rdata rd[64];
	const zrr *sig;
	unsigned n = rrset_of(z, N(owner), type, rd, &sig);
	assert_true(n > 0);
	assert_non_null(sig);
	dnssec_ctx c;
	dnssec_ctx_init(&c, scratch, sizeof(scratch), now);
	dnssec_rrset set = {N(as_owner ? as_owner : owner), type, CLASS_IN, rd, n};
	int r = dnssec_verify_stored(&c, &set, sig->rd, sig->rdlen, key_for(z, sig->rd));
	assert_non_null(c.why.reason);
	if (why)
		*why = c.why;
	return r;
}

/* Every RRSIG in the zone verifies with the zone's keys; returns the count. */
static unsigned verify_all(const zone *z, uint32_t now)
{
	static dnssec_rdata rd[4096];
	unsigned ok = 0;
	for (unsigned i = 0; i < z->n; i++) {
		const zrr *s = &z->rr[i];
		if (s->type != RR_RRSIG)
			continue;
		uint16_t covered = (uint16_t)(s->rd[0] << 8 | s->rd[1]);
		unsigned n = 0;
		for (unsigned j = 0; j < z->n; j++)
			if (z->rr[j].type == covered && name_eq(z->rr[j].owner, s->owner))
				rd[n++] = (dnssec_rdata){z->rr[j].rd, z->rr[j].rdlen};
		assert_true(n > 0);
		dnssec_ctx c;
		dnssec_ctx_init(&c, scratch, sizeof(scratch), now);
		dnssec_rrset set = {s->owner, covered, CLASS_IN, rd, n};
		int r = dnssec_verify_stored(&c, &set, s->rd, s->rdlen, key_for(z, s->rd));
		if (r != DNSSEC_OK) {
			char t[NAME_MAXTEXT];
			name_to_text(s->owner, t, sizeof(t));
			fail_msg("%s type %u: %s (%s)", t, covered, dnssec_status_name(r), c.why.reason);
		}
		assert_true(c.why.ttl > 0 && c.why.ttl <= s->ttl);
		ok++;
	}
	return ok;
}

static void each_alg(int alg)
{
	char path[128];
	zone z;
	snprintf(path, sizeof(path), DIR "alg%d.zone", alg);
	zone_load(&z, path);
	assert_int_equal(z.nkeys, 2);
	assert_int_equal(verify_all(&z, T2025), 24);
	zone_free(&z);
}

static void test_alg8(void **st) { (void)st; each_alg(8); }
static void test_alg10(void **st) { (void)st; each_alg(10); }
static void test_alg13(void **st) { (void)st; each_alg(13); }
static void test_alg14(void **st) { (void)st; each_alg(14); }
static void test_alg15(void **st) { (void)st; each_alg(15); }
static void test_alg16(void **st) { (void)st; each_alg(16); }
static void test_alg5(void **st) { (void)st; each_alg(5); }

static void test_repo_zones(void **st)
{
	(void)st;
	zone z;
	zone_load(&z, "tests/data/zones/dnssec.test.zone");
	assert_true(verify_all(&z, T2025) >= 20);
	zone_free(&z);
	zone_load(&z, "tests/data/zones/nsec3.test.zone");
	assert_true(verify_all(&z, T2025) >= 20);
	zone_free(&z);
}

/* ---- tampering ---- */

static void flips(int alg)
{
	char path[128], owner[64];
	zone z;
	snprintf(path, sizeof(path), DIR "alg%d.zone", alg);
	snprintf(owner, sizeof(owner), "www.alg%d.test.", alg);
	zone_load(&z, path);
	dnssec_rdata rd[8];
	const zrr *sig;
	unsigned n = rrset_of(&z, N(owner), RR_A, rd, &sig);
	assert_int_equal(n, 3);
	const dnssec_key *key = key_for(&z, sig->rd);
	assert_non_null(key);
	dnssec_ctx c;
	dnssec_ctx_init(&c, scratch, sizeof(scratch), T2025);
	dnssec_rrset set = {N(owner), RR_A, CLASS_IN, rd, n};
	assert_int_equal(dnssec_verify_stored(&c, &set, sig->rd, sig->rdlen, key), DNSSEC_OK);
	assert_false(c.why.wildcard);
	assert_int_equal(c.why.ttl, 3600);
	assert_int_equal(c.why.alg, alg);

	/* a bit of RDATA */
	uint8_t a[4];
	memcpy(a, rd[1].p, 4);
	a[3] ^= 0x40; /* .81 -> .17: not another RR of the set */
	dnssec_rdata rd2[3] = {rd[0], {a, 4}, rd[2]};
	set.rd = rd2;
	assert_int_equal(dnssec_verify_stored(&c, &set, sig->rd, sig->rdlen, key), DNSSEC_BOGUS);
	assert_string_equal(c.why.reason, "signature does not verify");
	/* one RR missing, one extra */
	set.n = 2;
	set.rd = rd;
	assert_int_equal(dnssec_verify_stored(&c, &set, sig->rd, sig->rdlen, key), DNSSEC_BOGUS);
	dnssec_rdata rd4[4] = {rd[0], rd[1], rd[2], {a, 4}};
	set.rd = rd4;
	set.n = 4;
	assert_int_equal(dnssec_verify_stored(&c, &set, sig->rd, sig->rdlen, key), DNSSEC_BOGUS);
	set.rd = rd;
	set.n = 3;
	/* the owner: one letter, and a sibling name */
	uint8_t o[NAME_MAXLEN];
	name_copy(o, N(owner));
	o[1] ^= 1;
	set.owner = o;
	assert_int_equal(dnssec_verify_stored(&c, &set, sig->rd, sig->rdlen, key), DNSSEC_BOGUS);
	snprintf(path, sizeof(path), "ww.alg%d.test.", alg);
	set.owner = N(path);
	assert_int_equal(dnssec_verify_stored(&c, &set, sig->rd, sig->rdlen, key), DNSSEC_BOGUS);
	set.owner = N(owner);
	/* the class */
	set.rclass = CLASS_CH;
	assert_int_equal(dnssec_verify_stored(&c, &set, sig->rd, sig->rdlen, key), DNSSEC_BOGUS);
	set.rclass = CLASS_IN;
	/* every octet of the RRSIG RDATA */
	uint8_t s[1024];
	assert_true(sig->rdlen <= sizeof(s));
	for (size_t i = 0; i < sig->rdlen; i++) {
		memcpy(s, sig->rd, sig->rdlen);
		s[i] ^= 0x01; /* never a mere case change of the signer */
		int r = dnssec_verify_stored(&c, &set, s, sig->rdlen, key);
		if (r == DNSSEC_OK)
			fail_msg("alg %d: RRSIG octet %zu flipped still verifies", alg, i);
	}
	/* a bit of the signature proper */
	memcpy(s, sig->rd, sig->rdlen);
	s[sig->rdlen - 5] ^= 0x10;
	assert_int_equal(dnssec_verify_stored(&c, &set, s, sig->rdlen, key), DNSSEC_BOGUS);
	/* a bit of the key (tag kept so the key is still tried) */
	uint8_t kb[1024];
	memcpy(kb, key->rdata, key->rdlen);
	kb[key->rdlen - 3] ^= 0x04;
	dnssec_key bad = *key;
	bad.rdata = kb;
	int r = dnssec_verify_stored(&c, &set, sig->rd, sig->rdlen, &bad);
	/* EC keys must stay curve points: a flipped coordinate is refused as
	 * malformed key material; RSA and EdDSA keys just fail to verify. */
	if (alg == 13 || alg == 14)
		assert_true(r == DNSSEC_BOGUS || r == DNSSEC_MALFORMED);
	else
		assert_int_equal(r, DNSSEC_BOGUS);
	/* the other key of the zone, forced to the right tag */
	for (unsigned i = 0; i < z.nkeys; i++)
		if (&z.keys[i] != key) {
			bad = z.keys[i];
			bad.tag = key->tag;
			assert_int_equal(dnssec_verify_stored(&c, &set, sig->rd, sig->rdlen, &bad),
					 DNSSEC_BOGUS);
		}
	zone_free(&z);
}

static void test_flips(void **st)
{
	(void)st;
	static const int algs[] = {8, 10, 13, 14, 15, 16, 5};
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		flips(algs[i]);
}

/* ---- canonical form ---- */

static void test_canonical(void **st)
{
	(void)st;
	zone z;
	zone_load(&z, DIR "alg13.zone");
	/* owner in any case */
	assert_int_equal(verify(&z, "www.alg13.test.", RR_A, "WwW.ALG13.tEsT.", T2025, NULL), DNSSEC_OK);
	/* embedded names in any case: the zone has "MAIL" and "mail2" */
	dnssec_rdata rd[8];
	const zrr *sig;
	unsigned n = rrset_of(&z, N("alg13.test."), RR_MX, rd, &sig);
	assert_int_equal(n, 2);
	uint8_t mx[2][64];
	for (unsigned i = 0; i < n; i++) {
		memcpy(mx[i], rd[i].p, rd[i].len);
		for (unsigned j = 2; j < rd[i].len; j++)
			if (mx[i][j] >= 'a' && mx[i][j] <= 'z')
				mx[i][j] ^= 0x20;
			else if (mx[i][j] >= 'A' && mx[i][j] <= 'Z')
				mx[i][j] ^= 0x20;
		rd[i].p = mx[i];
	}
	/* shuffled and duplicated too */
	dnssec_rdata rd3[3] = {rd[1], rd[0], rd[1]};
	dnssec_ctx c;
	dnssec_ctx_init(&c, scratch, sizeof(scratch), T2025);
	dnssec_rrset set = {N("ALG13.test."), RR_MX, CLASS_IN, rd3, 3};
	const dnssec_key *key = key_for(&z, sig->rd);
	assert_int_equal(dnssec_verify_stored(&c, &set, sig->rd, sig->rdlen, key), DNSSEC_OK);
	/* the signer name in the RRSIG in upper case */
	uint8_t s[256];
	memcpy(s, sig->rd, sig->rdlen);
	for (unsigned j = 18; j < 18 + name_len(s + 18); j++)
		if (s[j] >= 'a' && s[j] <= 'z')
			s[j] ^= 0x20;
	assert_int_equal(dnssec_verify_stored(&c, &set, s, sig->rdlen, key), DNSSEC_OK);
	/* the key's owner in upper case */
	dnssec_key k2 = *key;
	k2.owner = N("ALG13.TEST.");
	assert_int_equal(dnssec_verify_stored(&c, &set, sig->rd, sig->rdlen, &k2), DNSSEC_OK);
	/* NS with an upper-case target, SRV, SOA, CNAME */
	assert_int_equal(verify(&z, "alg13.test.", RR_NS, NULL, T2025, NULL), DNSSEC_OK);
	assert_int_equal(verify(&z, "_sip._tcp.alg13.test.", RR_SRV, "_SIP._TCP.alg13.test.", T2025, NULL),
			 DNSSEC_OK);
	assert_int_equal(verify(&z, "alg13.test.", RR_SOA, NULL, T2025, NULL), DNSSEC_OK);
	assert_int_equal(verify(&z, "alias.alg13.test.", RR_CNAME, NULL, T2025, NULL), DNSSEC_OK);
	/* the www A RRset reversed */
	n = rrset_of(&z, N("www.alg13.test."), RR_A, rd, &sig);
	dnssec_rdata rev[3] = {rd[2], rd[1], rd[0]};
	set = (dnssec_rrset){N("www.alg13.test."), RR_A, CLASS_IN, rev, 3};
	assert_int_equal(dnssec_verify_stored(&c, &set, sig->rd, sig->rdlen, key_for(&z, sig->rd)),
			 DNSSEC_OK);
	zone_free(&z);
}

/* ---- time ---- */

static void test_time(void **st)
{
	(void)st;
	zone z;
	zone_load(&z, DIR "alg15.zone");
	dnssec_why why;
	assert_int_equal(verify(&z, "www.alg15.test.", RR_A, NULL, T2024, NULL), DNSSEC_OK);
	assert_int_equal(verify(&z, "www.alg15.test.", RR_A, NULL, T2040, &why), DNSSEC_OK);
	assert_int_equal(why.ttl, 0);
	assert_int_equal(verify(&z, "www.alg15.test.", RR_A, NULL, T2040 - 100, &why), DNSSEC_OK);
	assert_int_equal(why.ttl, 100);
	assert_int_equal(verify(&z, "www.alg15.test.", RR_A, NULL, T2024 - 1, &why),
			 DNSSEC_NOT_YET_VALID);
	assert_string_equal(why.reason, "RRSIG not yet valid");
	assert_int_equal(verify(&z, "www.alg15.test.", RR_A, NULL, T2040 + 1, &why), DNSSEC_EXPIRED);
	assert_string_equal(why.reason, "RRSIG expired");
	/* 1970 is more than 2^31 s before 2040: serially it comes after */
	assert_int_equal(verify(&z, "www.alg15.test.", RR_A, NULL, 0, NULL), DNSSEC_EXPIRED);
	/* serial arithmetic: 2^31 - 1 seconds after expiration is "after",
	 * 2^31 + 1 after wraps to "before" the inception */
	assert_int_equal(verify(&z, "www.alg15.test.", RR_A, NULL, T2040 + 0x7fffffffu, NULL),
			 DNSSEC_EXPIRED);
	assert_int_equal(verify(&z, "www.alg15.test.", RR_A, NULL, T2040 + 0x80000001u, NULL),
			 DNSSEC_NOT_YET_VALID);
	zone_free(&z);
}

/* ---- wildcards ---- */

static void wild(int alg)
{
	char z_path[64], a[64], b[64], c[64], w[64], lit[64], other[64], apex[64];
	snprintf(z_path, sizeof(z_path), DIR "alg%d.zone", alg);
	snprintf(w, sizeof(w), "*.wild.alg%d.test.", alg);
	snprintf(a, sizeof(a), "foo.wild.alg%d.test.", alg);
	snprintf(b, sizeof(b), "a.B.c.wild.alg%d.test.", alg);
	snprintf(c, sizeof(c), "wild.alg%d.test.", alg);
	snprintf(lit, sizeof(lit), "*.WILD.alg%d.test.", alg);
	snprintf(other, sizeof(other), "foo.wild.alg%d.tests.", alg);
	snprintf(apex, sizeof(apex), "alg%d.test.", alg);
	zone z;
	zone_load(&z, z_path);
	dnssec_why why;
	static const uint16_t types[] = {RR_A, RR_TXT, RR_MX};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(verify(&z, w, types[i], a, T2025, &why), DNSSEC_OK);
		assert_true(why.wildcard);
		assert_int_equal(why.labels, 3);
		assert_int_equal(verify(&z, w, types[i], b, T2025, &why), DNSSEC_OK);
		assert_true(why.wildcard);
		assert_int_equal(verify(&z, w, types[i], lit, T2025, &why), DNSSEC_OK);
		assert_false(why.wildcard);
		/* as many labels as the RRSIG: no expansion, and not the signed name */
		assert_int_equal(verify(&z, w, types[i], c, T2025, &why), DNSSEC_BOGUS);
		assert_string_equal(why.reason, "signature does not verify");
		assert_int_equal(verify(&z, w, types[i], apex, T2025, &why), DNSSEC_BOGUS);
		assert_string_equal(why.reason, "RRSIG Labels exceed the owner's labels");
		assert_int_equal(verify(&z, w, types[i], other, T2025, &why), DNSSEC_BOGUS);
		assert_string_equal(why.reason, "signer is not the owner or an ancestor");
	}
	zone_free(&z);
}

static void test_wildcard(void **st)
{
	(void)st;
	wild(13);
	wild(8);
	wild(15);
}

/* ---- keys and DS ---- */

static void ds_alg(int alg)
{
	char path[64];
	zone z, ds;
	snprintf(path, sizeof(path), DIR "alg%d.zone", alg);
	zone_load(&z, path);
	snprintf(path, sizeof(path), DIR "alg%d.ds", alg);
	char err[ZONEFILE_ERRLEN];
	ds = (zone){0};
	assert_true(zonefile_parse(path, NULL, add_rr, &ds, err, sizeof(err)) == 3);
	const dnssec_key *ksk = NULL, *zsk = NULL;
	for (unsigned i = 0; i < z.nkeys; i++) {
		if (z.keys[i].rdata[1] & DNSSEC_KEY_SEP)
			ksk = &z.keys[i];
		else
			zsk = &z.keys[i];
	}
	assert_non_null(ksk);
	assert_non_null(zsk);
	static const uint8_t dtypes[] = {1, 2, 4};
	for (unsigned i = 0; i < 3; i++) {
		const zrr *d = &ds.rr[i];
		assert_int_equal(d->type, RR_DS);
		assert_int_equal(d->rd[3], dtypes[i]);
		/* key tag agrees with ldns-key2ds */
		assert_int_equal(dnssec_key_tag(ksk->rdata, ksk->rdlen), d->rd[0] << 8 | d->rd[1]);
		assert_int_equal(ksk->tag, d->rd[0] << 8 | d->rd[1]);
		uint8_t dig[DNSSEC_DIGEST_MAX];
		int dl = dnssec_ds_digest(ksk->owner, ksk->rdata, ksk->rdlen, d->rd[3], dig, sizeof(dig));
		assert_int_equal(dl, d->rdlen - 4);
		assert_memory_equal(dig, d->rd + 4, (size_t)dl);
		/* the owner's case does not matter */
		uint8_t up[NAME_MAXLEN];
		name_copy(up, ksk->owner);
		for (size_t j = 0; j < name_len(up); j++)
			if (up[j] >= 'a' && up[j] <= 'z')
				up[j] ^= 0x20;
		assert_false(memcmp(up, ksk->owner, name_len(up)) == 0);
		dl = dnssec_ds_digest(up, ksk->rdata, ksk->rdlen, d->rd[3], dig, sizeof(dig));
		assert_memory_equal(dig, d->rd + 4, (size_t)dl);
		assert_int_equal(dnssec_ds_match(d->rd, d->rdlen, ksk), DNSSEC_OK);
		assert_int_equal(dnssec_ds_match(d->rd, d->rdlen, zsk), DNSSEC_NO_KEY);
		uint8_t bad[64];
		memcpy(bad, d->rd, d->rdlen);
		bad[d->rdlen - 1] ^= 1;
		assert_int_equal(dnssec_ds_match(bad, d->rdlen, ksk), DNSSEC_BOGUS);
		assert_int_equal(dnssec_ds_match(bad, (uint16_t)(d->rdlen - 1), ksk), DNSSEC_MALFORMED);
		bad[3] = 3; /* GOST */
		assert_int_equal(dnssec_ds_match(bad, d->rdlen, ksk), DNSSEC_UNSUPPORTED);
		bad[3] = d->rd[3];
		bad[2] ^= 1; /* algorithm */
		assert_int_equal(dnssec_ds_match(bad, d->rdlen, ksk), DNSSEC_NO_KEY);
		assert_int_equal(dnssec_ds_digest(ksk->owner, ksk->rdata, ksk->rdlen, d->rd[3], dig, 19),
				 DNS_ESPACE);
	}
	/* RRSIG key tags name the keys that made them */
	for (unsigned i = 0; i < z.n; i++)
		if (z.rr[i].type == RR_RRSIG) {
			uint16_t tag = (uint16_t)(z.rr[i].rd[16] << 8 | z.rr[i].rd[17]);
			uint16_t covered = (uint16_t)(z.rr[i].rd[0] << 8 | z.rr[i].rd[1]);
			assert_int_equal(tag, covered == RR_DNSKEY ? ksk->tag : zsk->tag);
		}
	zone_free(&z);
	zone_free(&ds);
}

static void test_ds(void **st)
{
	(void)st;
	static const int algs[] = {8, 10, 13, 14, 15, 16, 5};
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		ds_alg(algs[i]);
	uint8_t d[64];
	assert_int_equal(dnssec_ds_digest(N("x."), (const uint8_t *)"\1\1\3\15", 4, 3, d, sizeof(d)),
			 DNS_ETYPE);
	assert_int_equal(dnssec_ds_match((const uint8_t *)"\0\0\15", 3, NULL), DNSSEC_MALFORMED);
}

static void test_key_tag(void **st)
{
	(void)st;
	/* RFC 4034 App. B.1: algorithm 1 uses bits 8..23 of the modulus' end */
	const uint8_t md5[] = {1, 0, 3, 1, 3, 1, 0, 1, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
	assert_int_equal(dnssec_key_tag(md5, sizeof(md5)), 0xccdd);
	assert_int_equal(dnssec_key_tag(md5, 3), 0);
	/* the one's-complement-like sum by hand: 0x0101 + 0x030d + 0xff00 */
	const uint8_t k[] = {1, 1, 3, 13, 0xff};
	assert_int_equal(dnssec_key_tag(k, sizeof(k)), (0x0101 + 0x030d + 0xff00 + 1) & 0xffff);
	dnssec_key key;
	assert_int_equal(dnssec_key_init(&key, N("x."), k, 3), DNS_EFORMAT);
	assert_null(key.rdata);
	assert_int_equal(dnssec_key_init(&key, N("x."), k, 5), 0);
	assert_int_equal(key.tag, dnssec_key_tag(k, 5));
}

/* ---- refusals ---- */

static void test_refusals(void **st)
{
	(void)st;
	zone z;
	zone_load(&z, DIR "alg13.zone");
	dnssec_rdata rd[8];
	const zrr *sig;
	unsigned n = rrset_of(&z, N("www.alg13.test."), RR_A, rd, &sig);
	const dnssec_key *key = key_for(&z, sig->rd);
	dnssec_ctx c;
	dnssec_ctx_init(&c, scratch, sizeof(scratch), T2025);
	dnssec_rrset set = {N("www.alg13.test."), RR_A, CLASS_IN, rd, n};
	uint8_t s[512], kb[512];

	/* unknown algorithms are unsupported, whatever the key */
	static const uint8_t unsup[] = {1, 3, 6, 12, 200, 253};
	for (size_t i = 0; i < sizeof(unsup); i++) {
		memcpy(s, sig->rd, sig->rdlen);
		s[2] = unsup[i];
		assert_int_equal(dnssec_verify_stored(&c, &set, s, sig->rdlen, key), DNSSEC_UNSUPPORTED);
		assert_false(dnssec_alg_supported(unsup[i]));
		assert_string_equal(dnssec_status_name(DNSSEC_UNSUPPORTED), "unsupported");
	}
	assert_true(dnssec_alg_supported(8) && dnssec_alg_supported(16) && dnssec_alg_supported(5));
	assert_true(dnssec_digest_supported(4) && !dnssec_digest_supported(3));
	/* the key: wrong tag, wrong owner, no zone flag, protocol, no key */
	dnssec_key k2 = *key;
	k2.tag ^= 1;
	assert_int_equal(dnssec_verify_stored(&c, &set, sig->rd, sig->rdlen, &k2), DNSSEC_NO_KEY);
	k2 = *key;
	k2.owner = N("www.alg13.test.");
	assert_int_equal(dnssec_verify_stored(&c, &set, sig->rd, sig->rdlen, &k2), DNSSEC_NO_KEY);
	memcpy(kb, key->rdata, key->rdlen);
	kb[0] = 0; /* flags 0x0000 */
	k2 = *key;
	k2.rdata = kb;
	assert_int_equal(dnssec_verify_stored(&c, &set, sig->rd, sig->rdlen, &k2), DNSSEC_NO_KEY);
	assert_string_equal(c.why.reason, "DNSKEY lacks the Zone Key flag");
	memcpy(kb, key->rdata, key->rdlen);
	kb[2] = 2;
	assert_int_equal(dnssec_verify_stored(&c, &set, sig->rd, sig->rdlen, &k2), DNSSEC_NO_KEY);
	assert_int_equal(dnssec_verify_stored(&c, &set, sig->rd, sig->rdlen, NULL), DNSSEC_NO_KEY);
	/* a key of the wrong length for its algorithm */
	memcpy(kb, key->rdata, key->rdlen);
	k2 = *key;
	k2.rdata = kb;
	k2.rdlen = (uint16_t)(key->rdlen - 1);
	assert_int_equal(dnssec_verify_stored(&c, &set, sig->rd, sig->rdlen, &k2), DNSSEC_MALFORMED);
	/* RRSIG: too short, bad signer, no signature, covers another type */
	assert_int_equal(dnssec_verify_stored(&c, &set, sig->rd, 18, key), DNSSEC_MALFORMED);
	memcpy(s, sig->rd, sig->rdlen);
	s[18] = 64;
	assert_int_equal(dnssec_verify_stored(&c, &set, s, sig->rdlen, key), DNSSEC_MALFORMED);
	assert_int_equal(dnssec_verify_stored(&c, &set, sig->rd, (uint16_t)(18 + name_len(sig->rd + 18)),
					      key), DNSSEC_MALFORMED);
	memcpy(s, sig->rd, sig->rdlen);
	s[1] = RR_AAAA;
	assert_int_equal(dnssec_verify_stored(&c, &set, s, sig->rdlen, key), DNSSEC_MALFORMED);
	assert_string_equal(c.why.reason, "RRSIG covers another type");
	/* a short ECDSA signature */
	assert_int_equal(dnssec_verify_stored(&c, &set, sig->rd, (uint16_t)(sig->rdlen - 1), key),
			 DNSSEC_BOGUS);
	/* broken names inside RDATA of a type with names */
	n = rrset_of(&z, N("alg13.test."), RR_MX, rd, &sig);
	uint8_t mx[64];
	memcpy(mx, rd[0].p, rd[0].len);
	mx[2] = 60; /* first label runs past the end */
	rd[0].p = mx;
	set = (dnssec_rrset){N("alg13.test."), RR_MX, CLASS_IN, rd, n};
	assert_int_equal(dnssec_verify_stored(&c, &set, sig->rd, sig->rdlen, key_for(&z, sig->rd)),
			 DNSSEC_MALFORMED);
	/* a scratch buffer at an odd address */
	dnssec_ctx odd;
	dnssec_ctx_init(&odd, scratch + 1, sizeof(scratch) - 1, T2025);
	n = rrset_of(&z, N("www.alg13.test."), RR_A, rd, &sig);
	set = (dnssec_rrset){N("www.alg13.test."), RR_A, CLASS_IN, rd, n};
	assert_int_equal(dnssec_verify_stored(&odd, &set, sig->rd, sig->rdlen, key), DNSSEC_OK);
	/* caller mistakes */
	dnssec_ctx small;
	dnssec_ctx_init(&small, scratch, 40, T2025);
	n = rrset_of(&z, N("www.alg13.test."), RR_A, rd, &sig);
	set = (dnssec_rrset){N("www.alg13.test."), RR_A, CLASS_IN, rd, n};
	assert_int_equal(dnssec_verify_stored(&small, &set, sig->rd, sig->rdlen, key), DNS_ESPACE);
	dnssec_ctx_init(&small, scratch, 90, T2025); /* RDATA fits, index or signed data does not */
	assert_int_equal(dnssec_verify_stored(&small, &set, sig->rd, sig->rdlen, key), DNS_ESPACE);
	set.n = 0;
	assert_int_equal(dnssec_verify_stored(&c, &set, sig->rd, sig->rdlen, key), DNS_EINVAL);
	assert_string_equal(dnssec_status_name(DNS_EINVAL), dns_strerror(DNS_EINVAL));
	assert_string_equal(dnssec_status_name(99), "unknown");
	zone_free(&z);
}

static void test_key_load(void **st)
{
	(void)st;
	static const int algs[] = {8, 13, 15, 16};
	for (size_t a = 0; a < 4; a++) {
		char path[64], owner[64];
		snprintf(path, sizeof(path), DIR "alg%d.zone", algs[a]);
		snprintf(owner, sizeof(owner), "www.alg%d.test.", algs[a]);
		zone z;
		zone_load(&z, path);
		for (unsigned i = 0; i < z.nkeys; i++) {
			assert_int_equal(dnssec_key_load(&z.keys[i]), DNSSEC_OK);
			assert_non_null(z.keys[i].pkey);
			assert_int_equal(dnssec_key_load(&z.keys[i]), DNSSEC_OK); /* idempotent */
		}
		assert_int_equal(verify(&z, owner, RR_A, NULL, T2025, NULL), DNSSEC_OK);
		assert_int_equal(verify(&z, owner, RR_A, NULL, T2040 + 5, NULL), DNSSEC_EXPIRED);
		for (unsigned i = 0; i < z.nkeys; i++) {
			dnssec_key_unload(&z.keys[i]);
			assert_null(z.keys[i].pkey);
		}
		zone_free(&z);
	}
	/* RSA key material: the two exponent-length forms and the size limits */
	uint8_t k[700];
	dnssec_key key;
	memset(k, 0, sizeof(k));
	k[0] = 1, k[1] = 1, k[2] = 3, k[3] = 8;
	k[4] = 0, k[5] = 0, k[6] = 3, k[7] = 1, k[8] = 0, k[9] = 1; /* long form, e = 65537 */
	memset(k + 10, 0xc5, 128);                                  /* 1024-bit modulus */
	dnssec_key_init(&key, N("x."), k, 10 + 128);
	assert_int_equal(dnssec_key_load(&key), DNSSEC_OK);
	dnssec_key_unload(&key);
	dnssec_key_init(&key, N("x."), k, 10 + 40); /* 320 bits */
	assert_int_equal(dnssec_key_load(&key), DNSSEC_UNSUPPORTED);
	memset(k + 10, 0xc5, 520);                  /* 4160 bits */
	dnssec_key_init(&key, N("x."), k, 10 + 520);
	assert_int_equal(dnssec_key_load(&key), DNSSEC_UNSUPPORTED);
	assert_null(key.pkey);
	k[4] = 0, k[5] = 0, k[6] = 200;             /* exponent longer than the key */
	dnssec_key_init(&key, N("x."), k, 10 + 128);
	assert_int_equal(dnssec_key_load(&key), DNSSEC_MALFORMED);
	k[4] = 0, k[5] = 0, k[6] = 0;
	assert_int_equal(dnssec_key_load(&key), DNSSEC_MALFORMED);
	k[4] = 9;                                   /* 72-bit exponent */
	memset(k + 5, 0xff, 9);
	assert_int_equal(dnssec_key_load(&key), DNSSEC_UNSUPPORTED);
	k[3] = 13;                                  /* ECDSA: not a point */
	memset(k + 4, 0x11, 64);
	dnssec_key_init(&key, N("x."), k, 4 + 64);
	assert_int_equal(dnssec_key_load(&key), DNSSEC_MALFORMED);
	k[3] = 99;
	dnssec_key_init(&key, N("x."), k, 4 + 64);
	assert_int_equal(dnssec_key_load(&key), DNSSEC_UNSUPPORTED);
	k[3] = 15;
	dnssec_key_init(&key, N("x."), k, 4 + 31);
	assert_int_equal(dnssec_key_load(&key), DNSSEC_MALFORMED);
}

/* ---- messages ---- */

static const zrr *find(const zone *z, const char *owner, uint16_t type, uint16_t covered, int nth)
{
	for (unsigned i = 0; i < z->n; i++) {
		const zrr *e = &z->rr[i];
		if (e->type == type && name_eq(e->owner, N(owner)) &&
		    (type != RR_RRSIG || (e->rd[0] << 8 | e->rd[1]) == covered) && nth-- == 0)
			return e;
	}
	fail_msg("%s %u not in zone", owner, type);
	return NULL;
}

static void put(msg_wr *mw, unsigned sec, const char *owner, const zrr *e, uint32_t ttl)
{
	assert_int_equal(msg_wr_rr(mw, sec, N(owner), e->type, CLASS_IN, ttl, e->rd, e->rdlen), 0);
}

static void seed(const char *name, uint8_t mode, const uint8_t *p, size_t n)
{
	const char *dir = getenv("DNSSEC_SEED_DIR");
	if (!dir)
		return;
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputc(mode, f);
	fwrite(p, 1, n, f);
	fclose(f);
}

/* Reply: CNAME alias -> www (3 A RRs, TTLs differ, RRs interleaved with
 * the RRSIG), MX with compressed upper-case names, an expanded wildcard, and
 * the DNSKEY RRset in the additional section. */
static int build_reply(const zone *z, uint8_t *buf, size_t cap, bool forge, bool sigs)
{
	msg_wr mw;
	msg_wr_init(&mw, buf, cap);
	assert_int_equal(msg_wr_header(&mw, 0x1234, MSG_QR | MSG_RD | MSG_RA), 0);
	assert_int_equal(msg_wr_question(&mw, N("ALIAS.alg13.test."), RR_A, CLASS_IN), 0);
	put(&mw, MSG_ANSWER, "ALIAS.alg13.test.", find(z, "alias.alg13.test.", RR_CNAME, 0, 0), 3600);
	if (sigs)
		put(&mw, MSG_ANSWER, "alias.ALG13.test.",
		    find(z, "alias.alg13.test.", RR_RRSIG, RR_CNAME, 0), 3600);
	put(&mw, MSG_ANSWER, "www.alg13.test.", find(z, "www.alg13.test.", RR_A, 0, 2), 10);
	if (sigs)
		put(&mw, MSG_ANSWER, "www.alg13.test.", find(z, "www.alg13.test.", RR_RRSIG, RR_A, 0), 10);
	put(&mw, MSG_ANSWER, "WWW.alg13.test.", find(z, "www.alg13.test.", RR_A, 0, 0), 7);
	put(&mw, MSG_ANSWER, "www.alg13.test.", find(z, "www.alg13.test.", RR_A, 0, 1), 99999);
	if (forge) {
		zrr f = *find(z, "www.alg13.test.", RR_A, 0, 0);
		uint8_t a[4] = {198, 51, 100, 7};
		f.rd = a;
		put(&mw, MSG_ANSWER, "www.alg13.test.", &f, 10);
	}
	put(&mw, MSG_ANSWER, "alg13.test.", find(z, "alg13.test.", RR_MX, 0, 1), 5);
	put(&mw, MSG_ANSWER, "alg13.test.", find(z, "alg13.test.", RR_MX, 0, 0), 5);
	if (sigs)
		put(&mw, MSG_ANSWER, "alg13.test.", find(z, "alg13.test.", RR_RRSIG, RR_MX, 0), 5);
	put(&mw, MSG_ANSWER, "x.y.wild.alg13.test.", find(z, "*.wild.alg13.test.", RR_MX, 0, 0), 60);
	if (sigs)
		put(&mw, MSG_ANSWER, "x.y.wild.alg13.test.",
		    find(z, "*.wild.alg13.test.", RR_RRSIG, RR_MX, 0), 60);
	put(&mw, MSG_AUTHORITY, "alg13.test.", find(z, "alg13.test.", RR_NS, 0, 0), 5);
	put(&mw, MSG_AUTHORITY, "alg13.test.", find(z, "alg13.test.", RR_NS, 0, 1), 5);
	if (sigs)
		put(&mw, MSG_AUTHORITY, "alg13.test.", find(z, "alg13.test.", RR_RRSIG, RR_NS, 0), 5);
	put(&mw, MSG_ADDITIONAL, "alg13.test.", find(z, "alg13.test.", RR_DNSKEY, 0, 0), 5);
	put(&mw, MSG_ADDITIONAL, "alg13.test.", find(z, "alg13.test.", RR_DNSKEY, 0, 1), 5);
	if (sigs)
		put(&mw, MSG_ADDITIONAL, "alg13.test.",
		    find(z, "alg13.test.", RR_RRSIG, RR_DNSKEY, 0), 5);
	int len = msg_wr_finish(&mw);
	assert_true(len > 0);
	return len;
}

static msg_rr rrs[256];

static void test_message(void **st)
{
	(void)st;
	zone z;
	zone_load(&z, DIR "alg13.zone");
	static uint8_t buf[8192];
	int len = build_reply(&z, buf, sizeof(buf), false, true);
	seed("msg-alg13", 1, buf, (size_t)len);
	msg m;
	assert_int_equal(msg_parse(&m, buf, (size_t)len, rrs, 256), 0);
	dnssec_set sets[16];
	uint16_t idx[64];
	int ns = dnssec_group(&m, MSG_ANSWER, sets, 16, idx, 64);
	assert_int_equal(ns, 4);
	assert_int_equal(sets[0].type, RR_CNAME);
	assert_int_equal(sets[1].type, RR_A);
	assert_int_equal(sets[1].n, 3);
	assert_int_equal(sets[1].nsig, 1);
	assert_int_equal(sets[2].type, RR_MX);
	assert_int_equal(sets[2].n, 2);
	assert_int_equal(sets[3].n, 1);
	dnssec_ctx c;
	dnssec_ctx_init(&c, scratch, sizeof(scratch), T2025);
	for (int i = 0; i < ns; i++) {
		int r = dnssec_verify_set(&c, &m, &sets[i], idx, z.keys, z.nkeys);
		if (r != DNSSEC_OK)
			fail_msg("set %d: %s (%s)", i, dnssec_status_name(r), c.why.reason);
		assert_int_equal(c.why.wildcard, i == 3);
	}
	/* the single-RRSIG entry point */
	assert_int_equal(dnssec_verify_rrset(&c, &m, idx + sets[1].first, sets[1].n,
					     idx[sets[1].sig], &z.keys[0]) == DNSSEC_OK ||
			 dnssec_verify_rrset(&c, &m, idx + sets[1].first, sets[1].n,
					     idx[sets[1].sig], &z.keys[1]) == DNSSEC_OK, 1);
	/* a set mixing two RRsets is refused */
	uint16_t mix[2] = {idx[sets[1].first], idx[sets[0].first]};
	assert_int_equal(dnssec_verify_rrset(&c, &m, mix, 2, idx[sets[1].sig], &z.keys[0]),
			 DNSSEC_MALFORMED);
	/* an RR that is no RRSIG as the RRSIG */
	assert_int_equal(dnssec_verify_rrset(&c, &m, idx + sets[1].first, sets[1].n, idx[sets[1].first],
					     &z.keys[0]), DNSSEC_MALFORMED);
	assert_string_equal(c.why.reason, "not an RRSIG");
	/* the RRSIG of another owner */
	assert_int_equal(dnssec_verify_rrset(&c, &m, idx + sets[1].first, sets[1].n,
					     idx[sets[0].sig], &z.keys[0]),
			 DNSSEC_MALFORMED);
	/* without keys: no key; the authority and additional sections */
	assert_int_equal(dnssec_verify_set(&c, &m, &sets[1], idx, NULL, 0), DNSSEC_NO_KEY);
	ns = dnssec_group(&m, MSG_AUTHORITY, sets, 16, idx, 64);
	assert_int_equal(ns, 1);
	assert_int_equal(dnssec_verify_set(&c, &m, &sets[0], idx, z.keys, z.nkeys), DNSSEC_OK);
	ns = dnssec_group(&m, MSG_ADDITIONAL, sets, 16, idx, 64);
	assert_int_equal(ns, 1);
	assert_int_equal(sets[0].type, RR_DNSKEY);
	assert_int_equal(dnssec_verify_set(&c, &m, &sets[0], idx, z.keys, z.nkeys), DNSSEC_OK);
	/* the chain step: keys from the reply, the KSK matched by the DS, the
	 * DNSKEY RRset verified by it, then the answer by the reply's keys */
	uint8_t kowner[NAME_MAXLEN];
	dnssec_key mk[4];
	assert_int_equal(dnssec_keys_from_set(&m, &sets[0], idx, kowner, mk, 4), 2);
	assert_int_equal(dnssec_keys_from_set(&m, &sets[0], idx, kowner, mk, 1), 1);
	assert_int_equal(dnssec_keys_from_set(&m, &sets[0], idx, kowner, mk, 4), 2);
	zone ds = {0};
	char err[ZONEFILE_ERRLEN];
	assert_int_equal(zonefile_parse(DIR "alg13.ds", NULL, add_rr, &ds, err, sizeof(err)), 3);
	dnssec_key anchor[1];
	unsigned na = 0;
	for (unsigned i = 0; i < 2; i++)
		if (dnssec_ds_match(ds.rr[1].rd, ds.rr[1].rdlen, &mk[i]) == DNSSEC_OK)
			anchor[na++] = mk[i];
	assert_int_equal(na, 1);
	assert_int_equal(dnssec_verify_set(&c, &m, &sets[0], idx, anchor, na), DNSSEC_OK);
	zone_free(&ds);
	dnssec_set as[16];
	uint16_t aidx[64];
	int nas = dnssec_group(&m, MSG_ANSWER, as, 16, aidx, 64);
	assert_int_equal(nas, 4);
	for (int i = 0; i < nas; i++)
		assert_int_equal(dnssec_verify_set(&c, &m, &as[i], aidx, mk, 2), DNSSEC_OK);
	/* only the KSK: the answer (signed by the ZSK) has no key */
	assert_int_equal(dnssec_verify_set(&c, &m, &as[1], aidx, anchor, 1), DNSSEC_NO_KEY);
	assert_int_equal(dnssec_keys_from_set(&m, &as[1], aidx, kowner, mk, 4), DNS_EINVAL);
	/* space */
	assert_int_equal(dnssec_group(&m, MSG_ANSWER, sets, 3, idx, 64), DNS_ESPACE);
	assert_int_equal(dnssec_group(&m, MSG_ANSWER, sets, 16, idx, 8), DNS_ESPACE);
	assert_int_equal(dnssec_group(&m, MSG_QUESTION, sets, 16, idx, 64), DNS_EINVAL);
	/* expired */
	c.now = T2040 + 1;
	ns = dnssec_group(&m, MSG_ANSWER, sets, 16, idx, 64);
	assert_int_equal(dnssec_verify_set(&c, &m, &sets[1], idx, z.keys, z.nkeys), DNSSEC_EXPIRED);
	c.now = T2025;

	/* a forged A among the genuine ones */
	len = build_reply(&z, buf, sizeof(buf), true, true);
	assert_int_equal(msg_parse(&m, buf, (size_t)len, rrs, 256), 0);
	ns = dnssec_group(&m, MSG_ANSWER, sets, 16, idx, 64);
	assert_int_equal(ns, 4);
	assert_int_equal(sets[1].n, 4);
	assert_int_equal(dnssec_verify_set(&c, &m, &sets[1], idx, z.keys, z.nkeys), DNSSEC_BOGUS);
	assert_int_equal(dnssec_verify_set(&c, &m, &sets[0], idx, z.keys, z.nkeys), DNSSEC_OK);
	/* an RRSIG with an unknown algorithm only: unsupported; none: unsigned */
	uint8_t *s = (uint8_t *)(uintptr_t)(buf + m.rr[idx[sets[1].sig]].rdata);
	s[2] = 222;
	assert_int_equal(dnssec_verify_set(&c, &m, &sets[1], idx, z.keys, z.nkeys), DNSSEC_UNSUPPORTED);
	len = build_reply(&z, buf, sizeof(buf), false, false);
	assert_int_equal(msg_parse(&m, buf, (size_t)len, rrs, 256), 0);
	ns = dnssec_group(&m, MSG_ANSWER, sets, 16, idx, 64);
	assert_int_equal(ns, 4);
	for (int i = 0; i < ns; i++) {
		assert_int_equal(sets[i].nsig, 0);
		assert_int_equal(dnssec_verify_set(&c, &m, &sets[i], idx, z.keys, z.nkeys),
				 DNSSEC_UNSIGNED);
		assert_string_equal(c.why.reason, "no RRSIG covers the RRset");
	}
	zone_free(&z);
}

/* Storage-mode fuzz seeds: owner, type, n, n x (len, RDATA), RRSIG, key. */
static void test_seeds(void **st)
{
	(void)st;
	if (!getenv("DNSSEC_SEED_DIR"))
		skip();
	static const int algs[] = {8, 13, 15, 16};
	for (size_t a = 0; a < 4; a++) {
		char path[64], owner[64];
		snprintf(path, sizeof(path), DIR "alg%d.zone", algs[a]);
		snprintf(owner, sizeof(owner), "www.alg%d.test.", algs[a]);
		zone z;
		zone_load(&z, path);
		dnssec_rdata rd[8];
		const zrr *sig;
		unsigned n = rrset_of(&z, N(owner), RR_A, rd, &sig);
		const dnssec_key *key = key_for(&z, sig->rd);
		static uint8_t out[4096];
		wire_wr w;
		wire_wr_init(&w, out, sizeof(out));
		wire_wr_bytes(&w, N(owner), name_len(N(owner)));
		wire_wr_u16(&w, RR_A);
		wire_wr_u8(&w, (uint8_t)n);
		for (unsigned i = 0; i < n; i++) {
			wire_wr_u16(&w, rd[i].len);
			wire_wr_bytes(&w, rd[i].p, rd[i].len);
		}
		wire_wr_u16(&w, sig->rdlen);
		wire_wr_bytes(&w, sig->rd, sig->rdlen);
		wire_wr_bytes(&w, key->rdata, key->rdlen);
		assert_int_equal(w.err, 0);
		snprintf(path, sizeof(path), "stored-alg%d", algs[a]);
		seed(path, 0, out, wire_wr_off(&w));
		zone_free(&z);
	}
}

int main(void)
{
	struct stat sb;
	if (stat(DIR "alg13.zone", &sb) != 0) {
		fprintf(stderr, "run from the repository root (%s missing)\n", DIR);
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alg8),
		cmocka_unit_test(test_alg10),
		cmocka_unit_test(test_alg13),
		cmocka_unit_test(test_alg14),
		cmocka_unit_test(test_alg15),
		cmocka_unit_test(test_alg16),
		cmocka_unit_test(test_alg5),
		cmocka_unit_test(test_repo_zones),
		cmocka_unit_test(test_flips),
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_wildcard),
		cmocka_unit_test(test_ds),
		cmocka_unit_test(test_key_tag),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_key_load),
		cmocka_unit_test(test_message),
		cmocka_unit_test(test_seeds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
