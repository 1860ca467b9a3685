/* fuzz_cache — cache_store on arbitrary upstream responses, then cache_lookup with a varied client query; every answer must parse and match the client.
 *
 * Input: 4 control octets, then the response. Control: [0] bits 0 DO,
 * 1 CD, 2 EDNS client, 3 allow stale, 4 flip the qname's case, 5 RD;
 * [1..2] client size limit (big-endian); [3] seconds between store and
 * lookup (times 8 when bit 6 of [0] is set). The key is the response's
 * own question, so that stores can succeed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/msg.h"
#include "dns/rrtype.h"
#include "resolve/cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static cache *C;
static msg_rr rrs[MSG_MAXRRS];
static uint8_t out[MSG_MAXLEN];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	if (!C) {
		cache_cfg cfg;
		cache_cfg_default(&cfg);
		cfg.shared = false;
		cfg.shards = 1;
		cfg.size = 1 << 20;
		cfg.min_ttl = 0;
		cfg.stale_window = 600;
		C = cache_new(&cfg);
		CHECK(C);
	}
	unsigned ctl = data[0];
	size_t limit = (size_t)data[1] << 8 | data[2];
	uint32_t dt = (uint32_t)data[3] * ((ctl & 0x40) ? 8u : 1u);
	const uint8_t *resp = data + 4;
	size_t len = size - 4;

	msg r;
	if (msg_parse_query(&r, resp, len) < 0 || r.qname_len == 0) {
		/* Still a store attempt with some key: must be refused. */
		uint8_t root = 0;
		cache_key k = { &root, 1, RR_A, CLASS_IN, false, false };
		CHECK(cache_store(C, &k, resp, len, 1000) != CACHE_STORED);
		return 0;
	}
	cache_key k = { r.qname, r.qname_len, r.qtype, r.qclass, (ctl & 1) != 0, (ctl & 2) != 0 };
	int st = cache_store(C, &k, resp, len, 1000);
	CHECK(st >= 0 && st < CACHE_R_COUNT);

	/* The client's query. */
	uint8_t qn[NAME_MAXLEN], qb[512];
	memcpy(qn, r.qname, r.qname_len);
	if (ctl & 16)
		for (unsigned i = 0; i < r.qname_len; i++)
			if ((qn[i] | 0x20) >= 'a' && (qn[i] | 0x20) <= 'z')
				qn[i] ^= 0x20;
	msg_wr mw;
	msg_wr_init(&mw, qb, sizeof(qb));
	uint16_t id = (uint16_t)(limit * 31 + dt);
	msg_wr_header(&mw, id, (uint16_t)(((ctl & 32) ? MSG_RD : 0) | ((ctl & 2) ? MSG_CD : 0)));
	if (msg_wr_question(&mw, qn, r.qtype, r.qclass) < 0)
		goto done;
	if (ctl & 4) {
		edns_out eo = { .udp_size = 1232, .flags = (ctl & 1) ? EDNS_DO : 0 };
		msg_wr_edns(&mw, &eo);
	}
	int ql = msg_wr_finish(&mw);
	msg q;
	CHECK(ql > 0 && msg_parse_query(&q, qb, (size_t)ql) == 0);
	unsigned fl;
	int n = cache_lookup(C, &q, 1000 + dt, (ctl & 8) ? CACHE_ALLOW_STALE : 0, limit, out, sizeof(out), &fl);
	if (st != CACHE_STORED || ((ctl & 1) && !(ctl & 4))) {
		/* Nothing stored, or stored with DO and asked without EDNS (a
		 * different key). */
		CHECK(n == 0);
		goto done;
	}
	if (n == DNS_ESPACE) {
		CHECK(limit < 12u + r.qname_len + 4 + ((ctl & 4) ? 17 : 0));
		goto done;
	}
	if (n == 0) {
		CHECK(dt > 0); /* expired (or dead) */
		goto done;
	}
	CHECK((size_t)n <= limit);
	msg a;
	CHECK(msg_parse(&a, out, (size_t)n, rrs, MSG_MAXRRS) == 0);
	CHECK(a.hdr.id == id);
	CHECK(a.hdr.flags & MSG_QR);
	CHECK(!(a.hdr.flags & MSG_AA));
	CHECK(((a.hdr.flags & MSG_TC) != 0) == ((fl & CACHE_TRUNC) != 0));
	CHECK(((a.hdr.flags & MSG_RD) != 0) == ((ctl & 32) != 0));
	CHECK(a.qname_len == q.qname_len && memcmp(a.qname, qn, q.qname_len) == 0);
	CHECK(a.qtype == r.qtype && a.qclass == r.qclass);
	CHECK(a.edns.present == ((ctl & 4) != 0));
	if (a.edns.present)
		CHECK(((a.edns.flags & EDNS_DO) != 0) == ((ctl & 1) != 0));
	unsigned rc = msg_rcode(&a);
	CHECK(rc == RCODE_NOERROR || rc == RCODE_NXDOMAIN);
	for (unsigned i = 1; i < a.nrr; i++) {
		if (rrs[i].type == RR_OPT)
			continue;
		CHECK(rrs[i].section != MSG_ADDITIONAL);
		if (fl & CACHE_STALE)
			CHECK(rrs[i].ttl == 30);
		else
			CHECK(rrs[i].ttl <= 86400);
	}
done:
	cache_remove(C, &k);
	return 0;
}
