/* Fuzz target for src/dns/dnssec. First octet: mode.
 *  even: storage form — owner name (uncompressed), u16 type, u8 n, n x (u16
 *        len, RDATA), u16 RRSIG length, RRSIG RDATA, and the rest is DNSKEY
 *        RDATA (its tag forced to the RRSIG's so the crypto path is reached;
 *        its owner is the RRSIG's signer); the rest is also tried as a DS.
 *  odd:  a DNS message — every section grouped with dnssec_group and every
 *        set verified against the message's own DNSKEYs.
 * Time is the RRSIG's inception (storage) or 2025 (message). Nothing may
 * crash, leak or trip a sanitizer; verdicts must be in range. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dnssec.h"
#include "dns/rrtype.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t scratch[DNSSEC_SCRATCH];

static void check(int r)
{
	if (r < DNS_ETYPE || r > DNSSEC_UNSIGNED)
		abort();
}

static void stored(const uint8_t *p, size_t n)
{
	wire_rd r;
	uint8_t owner[NAME_MAXLEN], signer[NAME_MAXLEN];
	dnssec_rdata rd[64];
	wire_rd_init(&r, p, n);
	if (name_unpack(&r, owner) < 0)
		return;
	uint16_t type = wire_rd_u16(&r);
	unsigned cnt = wire_rd_u8(&r) % 65;
	for (unsigned i = 0; i < cnt; i++) {
		rd[i].len = wire_rd_u16(&r);
		rd[i].p = wire_rd_ptr(&r, rd[i].len);
	}
	uint16_t siglen = wire_rd_u16(&r);
	const uint8_t *sig = wire_rd_ptr(&r, siglen);
	if (!wire_rd_ok(&r) || !cnt)
		return;
	size_t klen = wire_rd_left(&r);
	const uint8_t *kd = r.pos;
	if (klen > 65535)
		return;
	/* the signer, if the RRSIG holds a plain name after its 18 octets */
	const uint8_t *kowner = owner;
	if (siglen > 18) {
		wire_rd s;
		wire_rd_init(&s, sig, siglen);
		s.pos += 18;
		if (name_unpack(&s, signer) > 0)
			kowner = signer;
	}
	dnssec_key key;
	dnssec_key_init(&key, kowner, kd, (uint16_t)klen);
	if (siglen >= 18)
		key.tag = wire_get_u16(sig + 16);
	dnssec_ctx c;
	dnssec_ctx_init(&c, scratch, sizeof(scratch), siglen >= 16 ? wire_get_u32(sig + 12) : 0);
	dnssec_rrset set = {owner, type, CLASS_IN, rd, cnt};
	int v = dnssec_verify_stored(&c, &set, sig, siglen, &key);
	check(v);
	if (!c.why.reason)
		abort();
	if (dnssec_key_load(&key) == DNSSEC_OK) {
		check(dnssec_verify_stored(&c, &set, sig, siglen, &key));
		dnssec_key_unload(&key);
	}
	/* small scratch: DNS_ESPACE, never an overrun */
	dnssec_ctx_init(&c, scratch, 64, c.now);
	check(dnssec_verify_stored(&c, &set, sig, siglen, &key));
	(void)dnssec_key_tag(kd, klen);
	uint8_t d[DNSSEC_DIGEST_MAX];
	for (uint8_t t = 0; t < 5; t++)
		(void)dnssec_ds_digest(owner, kd, (uint16_t)klen, t, d, sizeof(d));
	check(dnssec_ds_match(kd, (uint16_t)klen, &key));
}

static void message(const uint8_t *p, size_t n)
{
	static msg_rr rrs[MSG_MAXRRS];
	static uint8_t owners[16][NAME_MAXLEN];
	static dnssec_set sets[64];
	static uint16_t idx[MSG_MAXRRS];
	msg m;
	if (msg_parse(&m, p, n, rrs, MSG_MAXRRS) != 0)
		return;
	dnssec_key keys[16];
	unsigned nk = 0;
	for (unsigned i = 0; i < m.nrr && nk < 16; i++) {
		const msg_rr *rr = &m.rr[i];
		if (rr->type != RR_DNSKEY || rr->section == MSG_QUESTION)
			continue;
		if (msg_rr_owner(&m, rr, owners[nk]) < 0 ||
		    dnssec_key_init(&keys[nk], owners[nk], m.wire + rr->rdata, rr->rdlen) < 0)
			continue;
		nk++;
	}
	dnssec_ctx c;
	dnssec_ctx_init(&c, scratch, sizeof(scratch), 1735689600u);
	for (unsigned sec = MSG_ANSWER; sec <= MSG_ADDITIONAL; sec++) {
		int ns = dnssec_group(&m, sec, sets, 64, idx, MSG_MAXRRS);
		if (ns < 0)
			continue;
		for (int i = 0; i < ns; i++) {
			if (sets[i].n == 0 || sets[i].first + sets[i].n > MSG_MAXRRS)
				abort();
			check(dnssec_verify_set(&c, &m, &sets[i], idx, keys, nk));
			if (sets[i].type == RR_DNSKEY) {
				uint8_t o[NAME_MAXLEN];
				dnssec_key sk[8];
				int r = dnssec_keys_from_set(&m, &sets[i], idx, o, sk, 8);
				if (r > 8)
					abort();
				if (r > 0)
					check(dnssec_verify_set(&c, &m, &sets[i], idx, sk, (unsigned)r));
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	if (data[0] & 1)
		message(data + 1, size - 1);
	else
		stored(data + 1, size - 1);
	return 0;
}
