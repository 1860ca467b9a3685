/* Unit tests for src/serve/zone: loading, checks, lookups, NSEC/NSEC3
 * indexes, zonesets. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "dns/rrtype.h"
#include "serve/zone.h"
#include "testutil.h"

static const uint8_t *N(const char *text)
{
	static uint8_t buf[8][NAME_MAXLEN];
	static int i;
	uint8_t *p = buf[i++ % 8];
	assert_true(name_from_text(text, strlen(text), NULL, p) > 0);
	return p;
}

static zone *load(const char *text, char *err, size_t errlen)
{
	char path[64];
	assert_non_null(tu_tempfile(text, path, sizeof(path)));
	zone *z = zone_load(path, NULL, err, errlen);
	unlink(path);
	return z;
}

static const char *base_zone =
	"$ORIGIN example.com.\n$TTL 300\n"
	"@ IN SOA ns1 host 1 7200 3600 1209600 60\n"
	"@ NS ns1\n@ NS ns2.other.net.\n"
	"ns1 A 192.0.2.1\n"
	"www A 192.0.2.10\nwww A 192.0.2.10\nwww A 192.0.2.11\n"
	"a.b.c A 192.0.2.12\n"
	"*.wild A 192.0.2.13\n"
	"sub NS ns.sub\nns.sub A 192.0.2.14\n"
	"alias CNAME www\n";

static void loads_and_indexes(void **st)
{
	(void)st;
	char err[256] = "";
	zone *z = load(base_zone, err, sizeof(err));
	assert_non_null(z);
	assert_string_equal(err, "");
	assert_true(name_eq(z->origin, N("example.com.")));
	assert_int_equal(z->records, 11); /* the duplicate www A is dropped */
	assert_int_equal(z->neg_ttl, 60);
	assert_non_null(z->ns);
	zone_node *n = zone_lookup(z, N("WWW.example.COM."), name_len(N("www.example.com.")));
	assert_non_null(n);
	zone_rrset *a = zone_rrset_find(n, RR_A);
	assert_non_null(a);
	assert_int_equal(a->count, 2);
	/* empty non-terminals exist, without data */
	n = zone_lookup(z, N("b.c.example.com."), name_len(N("b.c.example.com.")));
	assert_non_null(n);
	assert_false(n->flags & NODE_DATA);
	n = zone_lookup(z, N("wild.example.com."), name_len(N("wild.example.com.")));
	assert_true(n->flags & NODE_WILDKID);
	n = zone_lookup(z, N("sub.example.com."), name_len(N("sub.example.com.")));
	assert_true(n->flags & NODE_DELEG);
	assert_false(z->apex->flags & NODE_DELEG);
	bool exact;
	n = zone_closest(z, N("x.y.a.b.c.example.com."), &exact);
	assert_false(exact);
	assert_true(name_eq(n->name, N("a.b.c.example.com.")));
	n = zone_closest(z, N("nothing.example.com."), &exact);
	assert_ptr_equal(n, z->apex);
	zone_free(z);
}

static void refuses_broken_zones(void **st)
{
	(void)st;
	char err[256];
	struct {
		const char *text, *msg;
	} bad[] = {
		{"$ORIGIN example.com.\n@ 300 NS ns1\n", "no SOA record at the zone apex"},
		{"$ORIGIN example.com.\n@ 300 SOA a b 1 2 3 4 5\n@ 300 SOA a b 2 2 3 4 5\n", ":3: more than one SOA record"},
		{"$ORIGIN example.com.\n@ 300 SOA a b 1 2 3 4 5\nwww.example.org. 300 A 192.0.2.1\n",
		 ":3: www.example.org. is outside the zone example.com."},
		{"$ORIGIN example.com.\n@ 300 SOA a b 1 2 3 4 5\nx 300 CNAME y\nx 300 A 192.0.2.1\n",
		 "x.example.com.: CNAME and other data"},
		{"www.example.com. 300 A 192.0.2.1\n", ":1: no origin"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		zone *z = load(bad[i].text, err, sizeof(err));
		assert_null(z);
		if (!strstr(err, bad[i].msg))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, bad[i].msg);
		assert_true(strncmp(err, "/tmp/antidote-test.", 19) == 0);
	}
}

static void origin_from_first_soa(void **st)
{
	(void)st;
	char err[256];
	zone *z = load("example.net. 300 IN SOA ns.example.net. h.example.net. 1 2 3 4 5\n"
		       "example.net. 300 IN NS ns.example.net.\n", err, sizeof(err));
	assert_non_null(z);
	assert_true(name_eq(z->origin, N("example.net.")));
	zone_free(z);
}

static void nsec3_hash_rfc5155(void **st)
{
	(void)st;
	/* RFC 5155 Appendix A: salt aabbccdd, 12 iterations. */
	char err[256];
	zone *z = load("$ORIGIN example.\n@ 300 SOA ns1 bugs 1 2 3 4 5\n@ 300 NS ns1\n"
		       "@ 300 NSEC3PARAM 1 0 12 aabbccdd\n"
		       "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom 300 NSEC3 1 1 12 aabbccdd 2t7b4g4vsa5smi47k61mv5bv1a22bojr MX DNSKEY NS SOA NSEC3PARAM RRSIG\n"
		       "2t7b4g4vsa5smi47k61mv5bv1a22bojr 300 NSEC3 1 1 12 aabbccdd 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG\n",
		       err, sizeof(err));
	if (!z)
		fail_msg("%s", err);
	assert_true(z->nsec3);
	assert_int_equal(z->n3_count, 2);
	uint8_t h[20];
	zone_nsec3_hash(z, N("example."), h);
	bool match;
	const zone_nsec3 *e = zone_nsec3_find(z, h, &match);
	assert_true(match);
	assert_true(name_eq(e->node->name, N("0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example.")));
	zone_nsec3_hash(z, N("a.example."), h); /* 35mthgpgcu1qg68fab165klnsnk3dpvl: covered by 2t7b... */
	e = zone_nsec3_find(z, h, &match);
	assert_false(match);
	assert_true(name_eq(e->node->name, N("2t7b4g4vsa5smi47k61mv5bv1a22bojr.example.")));
	/* NSEC3-only nodes are invisible to lookups */
	bool exact;
	zone_node *n = zone_closest(z, N("0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example."), &exact);
	assert_false(exact);
	assert_ptr_equal(n, z->apex);
	zone_free(z);
}

static void nsec_cover(void **st)
{
	(void)st;
	char err[256];
	zone *z = load("$ORIGIN example.\n@ 300 SOA ns1 bugs 1 2 3 4 5\n@ 300 NSEC a NS SOA NSEC\n"
		       "a 300 A 192.0.2.1\na 300 NSEC x.y A NSEC\nx.y 300 A 192.0.2.2\nx.y 300 NSEC example. A NSEC\n",
		       err, sizeof(err));
	if (!z)
		fail_msg("%s", err);
	assert_true(name_eq(zone_nsec_cover(z, N("b.example."))->name, N("a.example.")));
	/* "y" is an empty non-terminal: the NSEC before it covers it */
	assert_true(name_eq(zone_nsec_cover(z, N("y.example."))->name, N("a.example.")));
	assert_true(name_eq(zone_nsec_cover(z, N("z.example."))->name, N("x.y.example.")));
	assert_true(name_eq(zone_nsec_cover(z, N("0.example."))->name, N("example.")));
	zone_free(z);
}

static void zoneset_longest_match(void **st)
{
	(void)st;
	char err[256];
	zoneset *zs = zoneset_new();
	zone *parent = load("$ORIGIN example.net.\n@ 300 SOA ns h 1 2 3 4 5\n", err, sizeof(err));
	zone *child = load("$ORIGIN child.example.net.\n@ 300 SOA ns h 1 2 3 4 5\n", err, sizeof(err));
	zone *dup = load("$ORIGIN EXAMPLE.net.\n@ 300 SOA ns h 1 2 3 4 5\n", err, sizeof(err));
	assert_int_equal(zoneset_add(zs, parent), 0);
	assert_int_equal(zoneset_add(zs, child), 0);
	assert_int_equal(zoneset_add(zs, dup), DNS_EINVAL);
	zone_free(dup);
	assert_ptr_equal(zoneset_find(zs, N("a.b.child.example.net.")), child);
	assert_ptr_equal(zoneset_find(zs, N("child.example.net.")), child);
	assert_ptr_equal(zoneset_find(zs, N("xchild.example.net.")), parent);
	assert_null(zoneset_find(zs, N("example.org.")));
	assert_null(zoneset_find(zs, N(".")));
	assert_ptr_equal(zoneset_parent(zs, child), parent);
	assert_null(zoneset_parent(zs, parent));
	zoneset_free(zs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(loads_and_indexes),
		cmocka_unit_test(refuses_broken_zones),
		cmocka_unit_test(origin_from_first_soa),
		cmocka_unit_test(nsec3_hash_rfc5155),
		cmocka_unit_test(nsec_cover),
		cmocka_unit_test(zoneset_longest_match),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
