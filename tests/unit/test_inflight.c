/* test_inflight — the coalescing table: keys (case, type, class, DO, CD), waiters in order, pool and waiter limits. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "dns/err.h"
#include "dns/name.h"
#include "resolve/inflight.h"

static uint8_t names[8][NAME_MAXLEN];

static cache_key key(int slot, const char *text, uint16_t type, bool do_bit, bool cd_bit)
{
	cache_key k;
	int n = name_from_text(text, strlen(text), NULL, names[slot]);
	assert_true(n > 0);
	k.qname = names[slot];
	k.qname_len = (uint8_t)n;
	k.qtype = type;
	k.qclass = 1;
	k.do_bit = do_bit;
	k.cd_bit = cd_bit;
	return k;
}

static void test_keys(void **state)
{
	(void)state;
	inflight *t = inflight_new(8, 4);
	assert_non_null(t);
	cache_key a = key(0, "www.Example.COM.", 1, false, false);
	assert_null(inflight_find(t, &a));
	inflight_entry *e = inflight_add(t, &a);
	assert_non_null(e);
	assert_int_equal(inflight_count(t), 1);
	assert_memory_equal(e->qname, "\3www\7example\3com", 17); /* stored lowercased */
	cache_key b = key(1, "WWW.example.com.", 1, false, false);
	assert_ptr_equal(inflight_find(t, &b), e);
	assert_int_equal(inflight_hash(&a), inflight_hash(&b));
	cache_key c = key(2, "www.example.com.", 28, false, false);
	assert_null(inflight_find(t, &c));
	c = key(2, "www.example.com.", 1, true, false);
	assert_null(inflight_find(t, &c));
	c = key(2, "www.example.com.", 1, false, true);
	assert_null(inflight_find(t, &c));
	c = key(2, "www.example.org.", 1, false, false);
	assert_null(inflight_find(t, &c));
	c = key(2, "www.example.com.", 1, false, false);
	c.qclass = 3;
	assert_null(inflight_find(t, &c));
	cache_key k2;
	inflight_key(e, &k2);
	assert_int_equal(k2.qname_len, a.qname_len);
	assert_int_equal(k2.qtype, 1);
	inflight_remove(t, e);
	assert_null(inflight_find(t, &a));
	assert_int_equal(inflight_count(t), 0);
	inflight_free(t);
}

static void test_waiters(void **state)
{
	(void)state;
	inflight *t = inflight_new(4, 3);
	cache_key a = key(0, "a.test.", 1, false, false);
	inflight_entry *e = inflight_add(t, &a);
	inflight_waiter w[4];
	for (int i = 0; i < 3; i++)
		assert_int_equal(inflight_join(t, e, &w[i]), 0);
	assert_int_equal(inflight_join(t, e, &w[3]), DNS_ESPACE);
	assert_int_equal(e->nwaiters, 3);
	inflight_waiter *l = inflight_take(e);
	assert_ptr_equal(l, &w[0]);
	assert_ptr_equal(l->next, &w[1]);
	assert_ptr_equal(l->next->next, &w[2]);
	assert_null(l->next->next->next);
	assert_int_equal(e->nwaiters, 0);
	assert_null(inflight_take(e));
	/* joinable again after a take (a waiter put back) */
	assert_int_equal(inflight_join(t, e, &w[3]), 0);
	assert_ptr_equal(inflight_take(e), &w[3]);
	inflight_remove(t, e);
	inflight_free(t);
}

static void test_pool(void **state)
{
	(void)state;
	inflight *t = inflight_new(3, 1);
	assert_int_equal(inflight_cap(t), 3);
	cache_key k[4];
	inflight_entry *e[4];
	const char *n[] = {"a.", "b.", "c.", "d."};
	for (int i = 0; i < 4; i++)
		k[i] = key(i, n[i], 1, false, false);
	for (int i = 0; i < 3; i++) {
		e[i] = inflight_add(t, &k[i]);
		assert_non_null(e[i]);
		e[i]->flags = 7;
		e[i]->user = e;
	}
	assert_null(inflight_add(t, &k[3]));
	for (int i = 0; i < 3; i++) {
		assert_ptr_equal(inflight_find(t, &k[i]), e[i]);
		assert_ptr_equal(inflight_at(t, inflight_index(t, e[i])), e[i]);
	}
	inflight_remove(t, e[1]);
	inflight_remove(t, e[1]); /* twice: harmless */
	assert_int_equal(inflight_count(t), 2);
	assert_null(inflight_at(t, inflight_index(t, e[1])));
	assert_null(inflight_at(t, 99));
	e[3] = inflight_add(t, &k[3]);
	assert_non_null(e[3]);
	assert_int_equal(e[3]->flags, 0); /* caller fields cleared */
	assert_null(e[3]->user);
	assert_ptr_equal(inflight_find(t, &k[3]), e[3]);
	assert_ptr_equal(inflight_find(t, &k[0]), e[0]);
	assert_ptr_equal(inflight_find(t, &k[2]), e[2]);
	assert_null(inflight_find(t, &k[1]));
	assert_null(inflight_new(0, 1));
	assert_null(inflight_new(1, 0));
	inflight_free(t);
	inflight_free(NULL);
}

/* Many entries in one table: all found, removals leave the others. */
static void test_many(void **state)
{
	(void)state;
	enum { N = 2000 };
	inflight *t = inflight_new(N, 1);
	static uint8_t nm[N][NAME_MAXLEN];
	static cache_key k[N];
	static inflight_entry *e[N];
	for (int i = 0; i < N; i++) {
		char text[32];
		snprintf(text, sizeof(text), "n%d.example.", i);
		int len = name_from_text(text, strlen(text), NULL, nm[i]);
		k[i] = (cache_key){.qname = nm[i], .qname_len = (uint8_t)len, .qtype = 1, .qclass = 1};
		e[i] = inflight_add(t, &k[i]);
		assert_non_null(e[i]);
	}
	for (int i = 0; i < N; i += 2)
		inflight_remove(t, e[i]);
	for (int i = 0; i < N; i++)
		assert_ptr_equal(inflight_find(t, &k[i]), i % 2 ? e[i] : NULL);
	assert_int_equal(inflight_count(t), N / 2);
	inflight_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_waiters),
		cmocka_unit_test(test_pool),
		cmocka_unit_test(test_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
