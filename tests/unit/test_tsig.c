/* test_tsig — TSIG keys, requests signed by dig (known-answer vectors
 * captured from `dig -y ALG:tk.example:c2VjcmV0c2VjcmV0c2VjcmV0`), the
 * §5.2 errors, a signed multi-message exchange and its chaining. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "dns/err.h"
#include "dns/msg.h"
#include "dns/name.h"
#include "dns/rrtype.h"
#include "dns/tsig.h"
#include "testutil.h"

#define SECRET "c2VjcmV0c2VjcmV0c2VjcmV0" /* "secretsecretsecret" */

/* dig 9.18 -y hmac-...:tk.example:SECRET example.com SOA +noedns */
static const char *DIG256 =
	"f7b201200001000000000001076578616d706c6503636f6d000006000102746b076578616d706c650000fa00ff000000"
	"00003d0b686d61632d7368613235360000006b08d4b6012c002056e1530833884d7e87fed2501a037eccfdf399130703"
	"982716c059c7e077a083f7b200000000";
static const char *DIG512 =
	"ba0b01200001000000000001076578616d706c6503636f6d000006000102746b076578616d706c650000fa00ff000000"
	"00005d0b686d61632d7368613531320000006b08d4b7012c00402005dca9bd875a4b86e197facbbc32a7d6067de0ce04"
	"64214c8f6313b892f13ec58f25f7088cf62c24a044fde71681e23b7e743673af60203cb792ce6ce4326aba0b00000000";
static const char *DIG1 =
	"965901200001000000000001076578616d706c6503636f6d000006000102746b076578616d706c650000fa00ff000000"
	"00002f09686d61632d736861310000006b08d4b9012c0014b39014bf3176f40db52c53024543c60b12974a7e96590000"
	"0000";
#define T256 0x6b08d4b6ull
#define T512 0x6b08d4b7ull
#define T1 0x6b08d4b9ull

static tsig_key key(const char *spec)
{
	tsig_key k;
	char err[128];
	assert_int_equal(tsig_key_parse(&k, spec, err, sizeof(err)), 0);
	return k;
}

static void parse(msg *m, const uint8_t *b, size_t len)
{
	assert_int_equal(msg_parse_query(m, b, len), 0);
}

static void test_key_parse(void **st)
{
	(void)st;
	tsig_key k;
	char err[160];
	uint8_t want[NAME_MAXLEN];
	assert_int_equal(tsig_key_parse(&k, "hmac-sha256:Xfr.Key:" SECRET, err, sizeof(err)), 0);
	assert_int_equal(k.alg, TSIG_HMAC_SHA256);
	assert_int_equal(name_from_text("xfr.key.", 8, NULL, want), 9);
	assert_memory_equal(k.name, want, 9); /* lower-cased, made absolute */
	assert_int_equal(k.secret_len, 18);
	assert_memory_equal(k.secret, "secretsecretsecret", 18);
	assert_int_equal(tsig_key_parse(&k, "HMAC-SHA512:k.:" SECRET, err, sizeof(err)), 0);
	assert_int_equal(k.alg, TSIG_HMAC_SHA512);
	assert_int_equal(tsig_key_parse(&k, "hmac-sha1:k:" SECRET, err, sizeof(err)), 0);
	assert_int_equal(k.alg, TSIG_HMAC_SHA1);
	assert_int_equal(tsig_key_parse(&k, "hmac-md5:k:" SECRET, err, sizeof(err)), DNS_ETYPE);
	assert_int_equal(tsig_key_parse(&k, "hmac-sha256:k:not*base64", err, sizeof(err)), DNS_ESYNTAX);
	assert_int_equal(tsig_key_parse(&k, "hmac-sha256:k:", err, sizeof(err)), DNS_ESYNTAX);
	assert_int_equal(tsig_key_parse(&k, "hmac-sha256::" SECRET, err, sizeof(err)), DNS_ESYNTAX);
	assert_int_equal(tsig_key_parse(&k, "k:" SECRET, err, sizeof(err)), DNS_ESYNTAX);
	assert_int_equal(tsig_key_parse(&k, "hmac-sha256:a..b:" SECRET, err, sizeof(err)), DNS_ESYNTAX);
	assert_ptr_equal(tsig_key_find(&k, 1, k.name), &k);
	assert_null(tsig_key_find(&k, 1, want));
	assert_int_equal(tsig_alg_maclen(TSIG_HMAC_SHA256), 32);
	assert_int_equal(tsig_alg_maclen(99), -1);
	assert_string_equal(tsig_alg_text(TSIG_HMAC_SHA512), "hmac-sha512");
}

/* dig's requests verify (all three algorithms); §5.2 errors from them. */
static void test_dig_vectors(void **st)
{
	(void)st;
	const struct { const char *hex, *alg; uint64_t t; } v[] = {
		{DIG256, "hmac-sha256", T256}, {DIG512, "hmac-sha512", T512}, {DIG1, "hmac-sha1", T1},
	};
	for (unsigned i = 0; i < 3; i++) {
		uint8_t b[512];
		size_t n = tu_hex(v[i].hex, b);
		char spec[128];
		snprintf(spec, sizeof(spec), "%s:tk.example:%s", v[i].alg, SECRET);
		tsig_key keys[3] = {key("hmac-sha256:other:" SECRET), key(spec), key("hmac-sha256:x:AAAA")};
		msg m;
		parse(&m, b, n);
		assert_int_not_equal(m.tsig_off, 0);
		tsig_ctx c;
		assert_int_equal(tsig_ctx_init(&c, keys, 3), 0);
		assert_int_equal(tsig_verify(&c, &m, v[i].t), 0);
		assert_ptr_equal(c.key, &keys[1]);
		assert_int_equal(c.mac_len, tsig_alg_maclen(keys[1].alg));
		/* within the fudge (300 s) on both sides */
		assert_int_equal(tsig_verify(&c, &m, v[i].t + 300), 0);
		assert_int_equal(tsig_verify(&c, &m, v[i].t - 300), 0);
		/* outside: BADTIME, and the reply will be signed */
		assert_int_equal(tsig_verify(&c, &m, v[i].t + 301), TSIG_BADTIME);
		assert_ptr_equal(c.key, &keys[1]);
		assert_int_equal(tsig_verify(&c, &m, v[i].t - 1000), TSIG_BADTIME);
		c.fudge = 10; /* a stricter local fudge wins */
		assert_int_equal(tsig_verify(&c, &m, v[i].t + 11), TSIG_BADTIME);
		c.fudge = TSIG_FUDGE;
		/* wrong secret: BADSIG, reply unsigned */
		keys[1].secret[0] ^= 1;
		assert_int_equal(tsig_verify(&c, &m, v[i].t), TSIG_BADSIG);
		assert_null(c.key);
		assert_int_equal(c.error, TSIG_BADSIG);
		keys[1].secret[0] ^= 1;
		/* every octet of the signed part matters */
		for (size_t off = 2; off < m.tsig_off; off += 3) {
			/* (the ID is not signed: Original ID in the TSIG is) */
			if (off >= 10 && off < 12)
				continue; /* ARCOUNT: changes the parse */
			b[off] ^= 0x20;
			msg m2;
			if (msg_parse_query(&m2, b, n) == 0)
				assert_int_equal(tsig_verify(&c, &m2, v[i].t), TSIG_BADSIG);
			b[off] ^= 0x20;
		}
		b[0] ^= 1; /* the header ID: a forwarder may change it */
		assert_int_equal(tsig_verify(&c, &m, v[i].t), 0);
		b[0] ^= 1;
		/* the MAC itself, and the time signed */
		b[n - 8] ^= 1;
		assert_int_equal(tsig_verify(&c, &m, v[i].t), TSIG_BADSIG);
		b[n - 8] ^= 1;
		size_t ts = m.tsig_off + 12 + 10 + name_len(tsig_alg_wire(keys[1].alg)) + 5;
		b[ts] ^= 1; /* last octet of time signed */
		assert_int_equal(tsig_verify(&c, &m, v[i].t), TSIG_BADSIG);
		b[ts] ^= 1;
		assert_int_equal(tsig_verify(&c, &m, v[i].t), 0);
		/* unknown key name, or the right name with another algorithm */
		tsig_ctx c2;
		assert_int_equal(tsig_ctx_init(&c2, keys, 1), 0);
		assert_int_equal(tsig_verify(&c2, &m, v[i].t), TSIG_BADKEY);
		assert_null(c2.key);
		tsig_key wrongalg = keys[1];
		wrongalg.alg = keys[1].alg == TSIG_HMAC_SHA256 ? TSIG_HMAC_SHA512 : TSIG_HMAC_SHA256;
		c2.keys = &wrongalg;
		assert_int_equal(tsig_verify(&c2, &m, v[i].t), TSIG_BADKEY);
		c2.nkeys = 0;
		assert_int_equal(tsig_verify(&c2, &m, v[i].t), TSIG_BADKEY);
		tsig_ctx_free(&c2);
		tsig_ctx_free(&c);
	}
}

static size_t build_query(uint8_t *b, size_t cap, uint16_t id, uint16_t qtype)
{
	msg_wr mw;
	uint8_t qn[NAME_MAXLEN];
	assert_true(name_from_text("x.test.", 7, NULL, qn) > 0);
	msg_wr_init(&mw, b, cap);
	assert_int_equal(msg_wr_header(&mw, id, 0), 0);
	assert_int_equal(msg_wr_question(&mw, qn, qtype, CLASS_IN), 0);
	int n = msg_wr_finish(&mw);
	assert_true(n > 0);
	return (size_t)n;
}

/* Response number i to q: a few A records. */
static size_t build_resp(const msg *q, uint8_t *b, size_t cap, unsigned i)
{
	msg_wr mw;
	msg_wr_init(&mw, b, cap);
	assert_int_equal(msg_wr_reply(&mw, q, MSG_AA), 0);
	for (unsigned k = 0; k < 3; k++) {
		uint8_t a[4] = {192, 0, 2, (uint8_t)(i * 3 + k)};
		assert_int_equal(msg_wr_rr(&mw, MSG_ANSWER, q->qname, RR_A, CLASS_IN, 60, a, 4), 0);
	}
	int n = msg_wr_finish(&mw);
	assert_true(n > 0);
	return (size_t)n;
}

/* A client signs, the server verifies and signs 4 responses, the client
 * verifies them in order; tampering, a lost message, the wrong key. */
static void test_exchange(void **st)
{
	(void)st;
	const uint64_t now = 1700000000;
	for (unsigned alg = 0; alg < TSIG_NALGS; alg++) {
		char spec[128];
		snprintf(spec, sizeof(spec), "%s:xfr.key:%s", tsig_alg_text(alg), SECRET);
		tsig_key k = key(spec);
		tsig_ctx cl, sv;
		assert_int_equal(tsig_ctx_init(&cl, &k, 1), 0);
		assert_int_equal(tsig_ctx_init(&sv, &k, 1), 0);
		cl.key = &k;
		uint8_t q[512], r[4][1024];
		size_t qn = build_query(q, sizeof(q), 0x1234, RR_AXFR);
		int n = tsig_sign(&cl, q, qn, sizeof(q), now);
		assert_true(n > (int)qn);
		assert_true((size_t)n - qn <= tsig_size(&cl));
		assert_int_equal(wire_get_u16(q + 10), 1);
		msg mq;
		parse(&mq, q, (size_t)n);
		assert_int_equal(tsig_verify(&sv, &mq, now + 5), 0);
		size_t rn[4];
		for (unsigned i = 0; i < 4; i++) {
			size_t len = build_resp(&mq, r[i], sizeof(r[i]), i);
			size_t want = tsig_size(&sv);
			int s = tsig_sign(&sv, r[i], len, sizeof(r[i]), now + 6);
			assert_true(s > 0);
			assert_true((size_t)s - len <= want);
			rn[i] = (size_t)s;
		}
		assert_int_equal(sv.nmsg, 4);
		/* in order: all verify */
		tsig_ctx save = cl;
		for (unsigned i = 0; i < 4; i++) {
			msg mr;
			parse(&mr, r[i], rn[i]);
			assert_int_equal(tsig_verify(&cl, &mr, now + 7), 0);
		}
		/* a lost message breaks the chain */
		cl = save;
		msg mr;
		parse(&mr, r[0], rn[0]);
		assert_int_equal(tsig_verify(&cl, &mr, now + 7), 0);
		parse(&mr, r[2], rn[2]);
		assert_int_equal(tsig_verify(&cl, &mr, now + 7), TSIG_BADSIG);
		/* the second message alone is not a first message */
		cl = save;
		parse(&mr, r[1], rn[1]);
		assert_int_equal(tsig_verify(&cl, &mr, now + 7), TSIG_BADSIG);
		/* tampered record */
		cl = save;
		r[0][rn[0] - tsig_size(&sv) + 2] ^= 1; /* inside the records, before the TSIG */
		parse(&mr, r[0], rn[0]);
		int rc = tsig_verify(&cl, &mr, now + 7);
		assert_true(rc == TSIG_BADSIG);
		/* another key */
		cl = save;
		tsig_key other = key("hmac-sha256:other.key:" SECRET);
		cl.key = &other;
		parse(&mr, r[1], rn[1]);
		assert_int_equal(tsig_verify(&cl, &mr, now + 7), TSIG_BADKEY);
		tsig_ctx_free(&cl);
		tsig_ctx_free(&sv);
	}
}

/* The server's NOTAUTH reply to mq, signed (or not) per sv's error: its
 * length in r. */
static int notauth_reply(tsig_ctx *sv, const msg *mq, uint8_t *r, size_t cap, uint64_t t)
{
	msg_wr mw;
	msg_wr_init(&mw, r, cap);
	assert_int_equal(msg_wr_reply(&mw, mq, RCODE_NOTAUTH), 0);
	int len = msg_wr_finish(&mw);
	int s = tsig_sign(sv, r, (size_t)len, cap, t);
	assert_true(s > len);
	assert_true((size_t)(s - len) <= tsig_size(sv));
	return s;
}

/* The replies to failed requests (§5.3.2): BADKEY/BADSIG unsigned,
 * BADTIME signed with our time in Other Data; the client sees each. */
static void test_error_replies(void **st)
{
	(void)st;
	const uint64_t now = 1700000000;
	tsig_key k = key("hmac-sha256:xfr.key:" SECRET), other = key("hmac-sha256:nope:" SECRET);
	for (int kind = 0; kind < 3; kind++) {
		tsig_ctx cl, sv;
		assert_int_equal(tsig_ctx_init(&cl, &k, 1), 0);
		cl.key = kind == 0 ? &other : &k;
		assert_int_equal(tsig_ctx_init(&sv, &k, 1), 0);
		uint8_t q[512], r[1024];
		size_t qn = build_query(q, sizeof(q), 7, RR_AXFR);
		int n = tsig_sign(&cl, q, qn, sizeof(q), now);
		assert_true(n > 0);
		if (kind == 1)
			q[qn - 1] ^= 1; /* the class: BADSIG */
		msg mq;
		parse(&mq, q, (size_t)n);
		uint64_t t = kind == 2 ? now + 1000 : now;
		int want = kind == 0 ? TSIG_BADKEY : kind == 1 ? TSIG_BADSIG : TSIG_BADTIME;
		assert_int_equal(tsig_verify(&sv, &mq, t), want);
		int s = notauth_reply(&sv, &mq, r, sizeof(r), t);
		msg mr;
		parse(&mr, r, (size_t)s);
		/* the TSIG RR: error field, MAC size, other data */
		size_t rd = (size_t)mr.tsig_off + name_len(kind == 0 ? other.name : k.name) + 10;
		rd += name_len(tsig_alg_wire(TSIG_HMAC_SHA256));
		uint16_t maclen = wire_get_u16(r + rd + 8);
		assert_int_equal(maclen, kind == 2 ? 32 : 0);
		assert_int_equal(wire_get_u16(r + rd + 10 + maclen + 2), want);
		assert_int_equal(wire_get_u16(r + rd + 10 + maclen + 4), kind == 2 ? 6 : 0);
		if (kind == 2) {
			uint64_t ours = (uint64_t)wire_get_u16(r + rd + 10 + maclen + 6) << 32 |
					wire_get_u32(r + rd + 10 + maclen + 8);
			assert_true(ours == t);
		}
		/* the client: the error comes back (BADTIME after a good MAC) */
		assert_int_equal(tsig_verify(&cl, &mr, now), want);
		tsig_ctx_free(&cl);
		tsig_ctx_free(&sv);
	}
	/* tsig_sign with neither key nor error */
	tsig_ctx c;
	assert_int_equal(tsig_ctx_init(&c, &k, 1), 0);
	uint8_t b[64];
	size_t qn = build_query(b, sizeof(b), 1, RR_SOA);
	assert_int_equal(tsig_sign(&c, b, qn, sizeof(b), now), DNS_EINVAL);
	/* no room */
	c.key = &k;
	assert_int_equal(tsig_sign(&c, b, qn, qn + 20, now), DNS_ESPACE);
	assert_int_equal(wire_get_u16(b + 10), 0);
	tsig_ctx_free(&c);
}

/* §5.2.3: a request signed earlier than the key's latest verified one (by
 * more than TSIG_REPLAY_SLACK) is refused with a signed BADTIME (a
 * replay); equal and slightly reordered times pass. */
static void test_replay(void **st)
{
	(void)st;
	const uint64_t now = 1700000000;
	tsig_key k = key("hmac-sha256:xfr.key:" SECRET);
	_Atomic uint64_t last = 0;
	const uint64_t times[] = {now - 10, now, now, now - 2, now - 3, now + 5, now - 10, now + 3};
	const int want[] = {0, 0, 0, 0, TSIG_BADTIME, 0, TSIG_BADTIME, 0};
	for (unsigned i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		tsig_ctx cl, sv;
		assert_int_equal(tsig_ctx_init(&cl, &k, 1), 0);
		assert_int_equal(tsig_ctx_init(&sv, &k, 1), 0);
		cl.key = &k;
		uint8_t q[512], r[1024];
		size_t qn = build_query(q, sizeof(q), (uint16_t)(100 + i), RR_AXFR);
		int n = tsig_sign(&cl, q, qn, sizeof(q), times[i]);
		assert_true(n > 0);
		msg mq;
		parse(&mq, q, (size_t)n);
		assert_int_equal(tsig_verify(&sv, &mq, now), 0); /* within the fudge */
		assert_int_equal(tsig_replay_check(&sv, &last), want[i]);
		assert_true(atomic_load(&last) == (i == 0 ? now - 10 : i < 5 ? now : now + 5));
		if (want[i]) {
			/* the reply is the signed BADTIME one: the client verifies it */
			int s = notauth_reply(&sv, &mq, r, sizeof(r), now);
			msg mr;
			parse(&mr, r, (size_t)s);
			assert_int_equal(tsig_verify(&cl, &mr, now), TSIG_BADTIME);
		}
		tsig_ctx_free(&cl);
		tsig_ctx_free(&sv);
	}
}

/* Malformed TSIG RRs and truncated MACs; no TSIG; tsig_strip. */
static void test_malformed(void **st)
{
	(void)st;
	uint8_t b[512], s[512];
	size_t n = tu_hex(DIG256, b);
	tsig_key k = key("hmac-sha256:tk.example:" SECRET);
	tsig_ctx c;
	assert_int_equal(tsig_ctx_init(&c, &k, 1), 0);
	msg m;
	parse(&m, b, n);
	/* tsig_strip gives the message dig signed */
	int sn = tsig_strip(&m, s, sizeof(s));
	assert_int_equal(sn, m.tsig_off);
	assert_int_equal(wire_get_u16(s + 10), 0);
	assert_int_equal(tsig_strip(&m, s, 10), DNS_ESPACE);
	msg ms;
	parse(&ms, s, (size_t)sn);
	assert_int_equal(tsig_verify(&c, &ms, T256), DNS_ENOTFOUND);
	assert_int_equal(tsig_strip(&ms, s, sizeof(s)), DNS_ENOTFOUND);
	size_t rd = (size_t)m.tsig_off + 12 + 10; /* tk.example. is 12 octets */
	size_t ms_off = rd + 13 + 6 + 2;          /* MAC size */
	/* MAC size 16 (≥ 10, half of 32): a truncation we refuse: BADTRUNC */
	uint8_t t[512];
	memcpy(t, b, n);
	wire_put_u16(t + ms_off, 16);
	memmove(t + ms_off + 2 + 16, t + ms_off + 2 + 32, n - (ms_off + 2 + 32));
	wire_put_u16(t + rd - 2, (uint16_t)(wire_get_u16(t + rd - 2) - 16));
	parse(&m, t, n - 16);
	assert_int_equal(tsig_verify(&c, &m, T256), TSIG_BADTRUNC);
	assert_int_equal(c.error, TSIG_BADTRUNC);
	assert_null(c.key);
	/* MAC size 8 (< half): FORMERR */
	memcpy(t, b, n);
	wire_put_u16(t + ms_off, 8);
	memmove(t + ms_off + 2 + 8, t + ms_off + 2 + 32, n - (ms_off + 2 + 32));
	wire_put_u16(t + rd - 2, (uint16_t)(wire_get_u16(t + rd - 2) - 24));
	parse(&m, t, n - 24);
	assert_int_equal(tsig_verify(&c, &m, T256), DNS_EFORMAT);
	/* RDLENGTH one too long / inner lengths inconsistent: FORMERR */
	memcpy(t, b, n);
	wire_put_u16(t + ms_off, 33);
	parse(&m, t, n);
	assert_int_equal(tsig_verify(&c, &m, T256), DNS_EFORMAT);
	memcpy(t, b, n);
	t[n] = 0;
	wire_put_u16(t + rd - 2, (uint16_t)(wire_get_u16(t + rd - 2) + 1));
	parse(&m, t, n + 1);
	assert_int_equal(tsig_verify(&c, &m, T256), DNS_EFORMAT);
	/* class not ANY */
	memcpy(t, b, n);
	wire_put_u16(t + rd - 8, 1);
	parse(&m, t, n);
	assert_int_equal(tsig_verify(&c, &m, T256), DNS_EFORMAT);
	tsig_ctx_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_parse),
		cmocka_unit_test(test_dig_vectors),
		cmocka_unit_test(test_exchange),
		cmocka_unit_test(test_error_replies),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
