/* test_notify — the NOTIFY message, answer matching, and a run against a
 * responder on loopback and against nobody. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dns/msg.h"
#include "dns/name.h"
#include "dns/rrtype.h"
#include "dns/tsig.h"
#include "dns/wire.h"
#include "serve/notify.h"
#include "testutil.h"

static void mkzone(notify_zone *z, const char *origin, uint32_t serial)
{
	memset(z, 0, sizeof(*z));
	assert_true(name_from_text(origin, strlen(origin), NULL, z->name) > 0);
	/* SOA: mname "ns.", rname "h.", serial, 4 timers */
	uint8_t rd[] = {2, 'n', 's', 0, 1, 'h', 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4};
	wire_put_u32(rd + 7, serial);
	memcpy(z->soa, rd, sizeof(rd));
	z->soa_len = sizeof(rd);
	z->ttl = 300;
}

static void test_build_and_match(void **st)
{
	(void)st;
	notify_zone z;
	mkzone(&z, "example.com.", 42);
	uint8_t q[512];
	int n = notify_build(q, sizeof(q), &z, 0x1234);
	assert_true(n > 12);
	msg m;
	msg_rr rrs[4];
	assert_int_equal(msg_parse(&m, q, (size_t)n, rrs, 4), 0);
	assert_int_equal(m.hdr.id, 0x1234);
	assert_int_equal((m.hdr.flags & MSG_OPCODE_MASK) >> 11, 4);
	assert_true(m.hdr.flags & MSG_AA);
	assert_false(m.hdr.flags & MSG_QR);
	assert_int_equal(m.qtype, RR_SOA);
	assert_true(name_eq(m.qname, z.name));
	assert_int_equal(m.hdr.ancount, 1);
	assert_int_equal(rrs[1].type, RR_SOA);
	assert_int_equal(wire_get_u32(q + rrs[1].rdata + 7), 42);
	/* an answer: same ID and question, QR */
	uint8_t r[512];
	memcpy(r, q, (size_t)n);
	r[2] |= 0x80;
	assert_true(notify_is_answer(q, (size_t)n, r, (size_t)n));
	r[1] ^= 1; /* another ID */
	assert_false(notify_is_answer(q, (size_t)n, r, (size_t)n));
	r[1] ^= 1;
	r[2] &= 0x7f; /* no QR: our own query echoed */
	assert_false(notify_is_answer(q, (size_t)n, r, (size_t)n));
	r[2] |= 0x80;
	r[2] &= (uint8_t)~0x78; /* opcode QUERY */
	assert_false(notify_is_answer(q, (size_t)n, r, (size_t)n));
	assert_false(notify_is_answer(q, (size_t)n, r, 5));
	notify_zone o;
	mkzone(&o, "example.org.", 42);
	uint8_t q2[512];
	int n2 = notify_build(q2, sizeof(q2), &o, 0x1234);
	q2[2] |= 0x80;
	assert_false(notify_is_answer(q, (size_t)n, q2, (size_t)n2)); /* another zone */
	assert_true(notify_build(q, 20, &z, 1) < 0);
}

struct responder {
	int fd;
	int answers; /* answer only from this try on (1: the first) */
};

static void *respond(void *arg)
{
	struct responder *rs = arg;
	uint8_t b[512];
	struct sockaddr_storage from;
	for (int seen = 1; seen <= 8; seen++) {
		socklen_t fl = sizeof(from);
		ssize_t k = recvfrom(rs->fd, b, sizeof(b), 0, (struct sockaddr *)&from, &fl);
		if (k < 12)
			return NULL;
		if (seen < rs->answers)
			continue; /* "lost" */
		b[2] |= 0x80;
		sendto(rs->fd, b, (size_t)k, 0, (struct sockaddr *)&from, fl);
		return NULL;
	}
	return NULL;
}

static void bind_lo(int fd, net_addr *out)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t l = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &l);
	addr_from_sockaddr(out, (struct sockaddr *)&a, l);
}

static void test_run(void **st)
{
	(void)st;
	notify_zone z[2];
	mkzone(&z[0], "example.com.", 1);
	mkzone(&z[1], "example.net.", 2);
	/* a responder that ignores the first NOTIFY: answered on the retry */
	struct responder rs = {.fd = socket(AF_INET, SOCK_DGRAM, 0), .answers = 2};
	net_addr t[2];
	bind_lo(rs.fd, &t[0]);
	/* a bound socket that never answers */
	int mute = socket(AF_INET, SOCK_DGRAM, 0);
	bind_lo(mute, &t[1]);
	pthread_t th;
	pthread_create(&th, NULL, respond, &rs);
	notify_result res[4];
	unsigned ok = notify_run(z, 1, t, NULL, 2, 3, 150, res);
	pthread_join(th, NULL);
	assert_int_equal(ok, 1);
	assert_int_equal(res[0].rcode, 0);
	assert_int_equal(res[0].tries, 2);
	assert_int_equal(res[1].rcode, -1);
	assert_int_equal(res[1].tries, 3);
	close(rs.fd);
	close(mute);
	/* too many zones or targets: nothing sent */
	assert_int_equal(notify_run(z, NOTIFY_MAX_ZONES + 1, t, NULL, 1, 1, 10, res), 0);
}

/* A secondary with a key: verifies the NOTIFY's TSIG and answers signed
 * (sign = 1), echoes it unsigned-for-real (sign = 0). */
struct signer {
	int fd, sign, verified;
	const tsig_key *key;
};

static void *sign_respond(void *arg)
{
	struct signer *sg = arg;
	uint8_t b[1024], r[1024];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t k = recvfrom(sg->fd, b, sizeof(b), 0, (struct sockaddr *)&from, &fl);
	if (k < 12)
		return NULL;
	msg m;
	tsig_ctx t;
	if (msg_parse_query(&m, b, (size_t)k) < 0 || tsig_ctx_init(&t, sg->key, 1) < 0)
		return NULL;
	sg->verified = tsig_verify(&t, &m, (uint64_t)time(NULL));
	int n = tsig_strip(&m, r, sizeof(r));
	if (sg->sign && n > 0) {
		r[2] |= 0x80;
		n = tsig_sign(&t, r, (size_t)n, sizeof(r), (uint64_t)time(NULL));
	} else {
		memcpy(r, b, (size_t)k);
		r[2] |= 0x80;
		n = (int)k;
	}
	tsig_ctx_free(&t);
	if (n > 0)
		sendto(sg->fd, r, (size_t)n, 0, (struct sockaddr *)&from, fl);
	return NULL;
}

static void test_signed(void **st)
{
	(void)st;
	tsig_key key;
	char err[128];
	assert_int_equal(tsig_key_parse(&key, "hmac-sha256:notify.key:c2VjcmV0c2VjcmV0c2VjcmV0", err, sizeof(err)), 0);
	notify_zone z;
	mkzone(&z, "example.com.", 7);
	for (int sign = 1; sign >= 0; sign--) {
		struct signer sg = {.fd = socket(AF_INET, SOCK_DGRAM, 0), .sign = sign, .verified = -99, .key = &key};
		net_addr t;
		bind_lo(sg.fd, &t);
		pthread_t th;
		pthread_create(&th, NULL, sign_respond, &sg);
		const tsig_key *keys[1] = {&key};
		notify_result res;
		assert_int_equal(notify_run(&z, 1, &t, keys, 1, 3, 300, &res), 1);
		pthread_join(th, NULL);
		close(sg.fd);
		assert_int_equal(sg.verified, 0); /* the NOTIFY was signed with the key */
		assert_int_equal(res.rcode, 0);
		if (sign)
			assert_int_equal(res.tsig, 0);
		else
			assert_int_not_equal(res.tsig, 0); /* its own TSIG echoed: not a response's */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_and_match),
		cmocka_unit_test(test_run),
		cmocka_unit_test(test_signed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
