/* fuzz_reply — arbitrary bytes as replies to a pending upstream
 * transaction (the matching, parsing, TC and delivery path).
 *
 * Input: byte 0 control (bit 0: 0x20 context; bit 1: patch each reply's ID
 * to the attempt's; bits 4-5: consumer policy — finish on the first,
 * fail over on SERVFAIL/REFUSED, hold, keep), byte 1: the seq accepted at
 * the end, then records of u16 length + bytes, each fed to attempt
 * (record index mod attempts). The question is www.example.com A IN; the
 * corpus seeds carry it. Delivered replies must satisfy every matching
 * rule. The upstream is 127.0.0.1:9 (discard); the loop never reports
 * readiness, so only the fed bytes count. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/msg.h"
#include "dns/name.h"
#include "dns/rrtype.h"
#include "resolve/upstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static uint64_t clock_us = 1000000;
static int l_watch(void *ctx, int fd, unsigned ev, up_fd_cb *cb, void *arg)
{
	(void)ctx; (void)fd; (void)ev; (void)cb; (void)arg;
	return 0;
}
static void l_unwatch(void *ctx, int fd) { (void)ctx; (void)fd; }
static uint64_t l_now(void *ctx) { (void)ctx; return clock_us; }

static up_ctx *ctx[2];
static const uint8_t QN[] = "\3www\7example\3com";
static unsigned policy, delivered;
static bool ended;

static void on_reply(void *arg, up_txn *t, const up_reply *r)
{
	(void)arg;
	CHECK(r->seq == delivered);
	delivered++;
	CHECK(r->len >= MSG_HDRLEN && (r->flags & MSG_QR));
	CHECK((int)r->id == upstream_txn_id(t, r->attempt));
	CHECK(r->m->qname_len == sizeof(QN) && name_eq(r->m->qname, QN));
	CHECK(r->m->qtype == RR_A && r->m->qclass == CLASS_IN);
	CHECK(msg_flags_opcode(r->flags) == OPCODE_QUERY);
	CHECK(r->server == 0 && r->rtt_us == 0);
	switch (policy) {
	case 0:
		upstream_txn_finish(t, (int)r->seq);
		break;
	case 1:
		if (upstream_rcode_failover(r->rcode) && upstream_txn_next(t) == 0)
			break;
		upstream_txn_finish(t, (int)r->seq);
		break;
	case 2:
		upstream_txn_hold(t, r->t_us + 1000, r->seq & 1);
		break;
	default:
		break;
	}
}

static void on_end(void *arg, up_txn *t, int reason)
{
	(void)arg;
	(void)t;
	CHECK(reason == UP_END_TIMEOUT || reason == UP_END_HOLD);
	ended = true;
}

static const up_handler H = { .reply = on_reply, .end = on_end };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	unsigned ci = data[0] & 1;
	if (!ctx[ci]) {
		net_addr a;
		addr_parse(&a, "127.0.0.1:9", 53, NULL, 0);
		up_config cfg = { .servers = &a, .nservers = 1, .attempts = 3, .slots = 4,
				  .use_0x20 = ci == 1 };
		up_loop lp = { .watch = l_watch, .unwatch = l_unwatch, .now_us = l_now };
		ctx[ci] = upstream_new(&cfg, &lp);
		CHECK(ctx[ci]);
	}
	up_ctx *c = ctx[ci];
	policy = (data[0] >> 4) & 3;
	delivered = 0;
	ended = false;
	const uint16_t srv[] = { 0 };
	up_query q = { .qname = QN, .qtype = RR_A, .qclass = CLASS_IN, .hdr_flags = MSG_RD,
		       .servers = srv, .nservers = 1 };
	up_txn *t;
	CHECK(upstream_query(c, &q, &H, NULL, &t) == 0);
	static uint8_t buf[MSG_MAXLEN];
	size_t off = 2;
	for (unsigned k = 0; off + 2 <= size && !ended; k++) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (len > size - off)
			len = size - off;
		memcpy(buf, data + off, len);
		off += len;
		unsigned natt = upstream_txn_attempts(t);
		if (!natt)
			break;
		unsigned at = k % natt;
		if ((data[0] & 2) && len >= 2) {
			int id = upstream_txn_id(t, at);
			buf[0] = (uint8_t)(id >> 8);
			buf[1] = (uint8_t)id;
		}
		int rc = upstream_feed(t, at, buf, len, NULL, 64);
		if (rc == DNS_EINVAL)
			break; /* t ended inside the callback */
		CHECK(rc >= -1 - (UP_MIS_COUNT - 1) && rc <= 1);
	}
	if (!ended && upstream_active(c))
		upstream_txn_finish(t, data[1] < 0x80 ? data[1] : UP_NONE);
	CHECK(upstream_active(c) == 0);
#ifdef FUZZ_REPLY_VERBOSE
	up_stats st;
	upstream_total(c, &st);
	fprintf(stderr, "delivered %u ended %d replies %llu tc %llu\n", delivered, ended,
		(unsigned long long)st.replies, (unsigned long long)st.truncated);
#endif
	/* let connection timers run */
	clock_us += 20000000;
	upstream_expire(c, clock_us);
	return 0;
}
