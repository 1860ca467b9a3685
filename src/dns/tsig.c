/* tsig — TSIG (RFC 8945) keys, verification and signing (tsig.h). */
#include "dns/tsig.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "dns/base.h"
#include "dns/err.h"
#include "dns/rrtype.h"
#include "dns/wire.h"

#define CLASS_ANY_ 255

static const struct {
	const char *text;
	const char *wire;
	const char *md;
	int maclen;
} algs[TSIG_NALGS] = {
	[TSIG_HMAC_SHA1] = {"hmac-sha1", "\x09" "hmac-sha1", "SHA1", 20},
	[TSIG_HMAC_SHA224] = {"hmac-sha224", "\x0b" "hmac-sha224", "SHA2-224", 28},
	[TSIG_HMAC_SHA256] = {"hmac-sha256", "\x0b" "hmac-sha256", "SHA2-256", 32},
	[TSIG_HMAC_SHA384] = {"hmac-sha384", "\x0b" "hmac-sha384", "SHA2-384", 48},
	[TSIG_HMAC_SHA512] = {"hmac-sha512", "\x0b" "hmac-sha512", "SHA2-512", 64},
};

const uint8_t *tsig_alg_wire(unsigned alg)
{
	return alg < TSIG_NALGS ? (const uint8_t *)algs[alg].wire : NULL;
}

const char *tsig_alg_text(unsigned alg) { return alg < TSIG_NALGS ? algs[alg].text : NULL; }

int tsig_alg_maclen(unsigned alg) { return alg < TSIG_NALGS ? algs[alg].maclen : -1; }

int tsig_key_parse(tsig_key *k, const char *spec, char *err, size_t errlen)
{
	const char *c1 = strchr(spec, ':');
	const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c1 || !c2 || c2 == c1 + 1 || !c2[1]) {
		snprintf(err, errlen, "give ALGORITHM:NAME:BASE64SECRET (e.g. hmac-sha256:xfr:c2VjcmV0)");
		return DNS_ESYNTAX;
	}
	unsigned a;
	for (a = 0; a < TSIG_NALGS; a++)
		if (strlen(algs[a].text) == (size_t)(c1 - spec) && !strncasecmp(spec, algs[a].text, (size_t)(c1 - spec)))
			break;
	if (a == TSIG_NALGS) {
		snprintf(err, errlen, "unknown algorithm '%.*s' (hmac-sha256, hmac-sha512, hmac-sha384, "
			 "hmac-sha224 or hmac-sha1)", (int)(c1 - spec), spec);
		return DNS_ETYPE;
	}
	k->alg = (uint8_t)a;
	char name[NAME_MAXTEXT + 2];
	size_t n = (size_t)(c2 - c1 - 1);
	if (n >= NAME_MAXTEXT) {
		snprintf(err, errlen, "key name too long");
		return DNS_ESYNTAX;
	}
	memcpy(name, c1 + 1, n);
	if (name[n - 1] != '.')
		name[n++] = '.';
	name[n] = 0;
	if (name_from_text(name, n, NULL, k->name) < 0) {
		snprintf(err, errlen, "bad key name '%.*s'", (int)(c2 - c1 - 1), c1 + 1);
		return DNS_ESYNTAX;
	}
	name_lower(k->name);
	int len = base_b64_dec(c2 + 1, strlen(c2 + 1), k->secret, sizeof(k->secret));
	if (len <= 0) {
		snprintf(err, errlen, "the secret is not base64 (of 1 to %d octets)", TSIG_SECRET_MAX);
		return DNS_ESYNTAX;
	}
	k->secret_len = (uint16_t)len;
	return 0;
}

const tsig_key *tsig_key_find(const tsig_key *keys, unsigned n, const uint8_t *name)
{
	for (unsigned i = 0; i < n; i++)
		if (name_eq(keys[i].name, name))
			return &keys[i];
	return NULL;
}

/* ---- MAC ---- */

static EVP_MAC *hmac;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void hmac_fetch(void) { hmac = EVP_MAC_fetch(NULL, "HMAC", NULL); }

int tsig_ctx_init(tsig_ctx *c, const tsig_key *keys, unsigned nkeys)
{
	memset(c, 0, sizeof(*c));
	c->keys = keys;
	c->nkeys = nkeys;
	c->fudge = TSIG_FUDGE;
	pthread_once(&hmac_once, hmac_fetch);
	c->mctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
	return c->mctx ? 0 : DNS_ENOMEM;
}

void tsig_ctx_free(tsig_ctx *c)
{
	EVP_MAC_CTX_free(c->mctx);
	c->mctx = NULL;
}

static int mac_begin(tsig_ctx *c, const tsig_key *k)
{
	OSSL_PARAM p[2] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)algs[k->alg].md, 0),
		OSSL_PARAM_construct_end(),
	};
	return EVP_MAC_init(c->mctx, k->secret, k->secret_len, p) == 1 ? 0 : DNS_EINVAL;
}

static void mac_add(tsig_ctx *c, const void *p, size_t n) { EVP_MAC_update(c->mctx, p, n); }

static void mac_u16(tsig_ctx *c, uint16_t v)
{
	uint8_t b[2];
	wire_put_u16(b, v);
	mac_add(c, b, 2);
}

/* The previous MAC with its size (a response's first digest component). */
static void mac_prior(tsig_ctx *c)
{
	mac_u16(c, c->mac_len);
	mac_add(c, c->mac, c->mac_len);
}

/* The message wire[0..len) with its header's ID and ARCOUNT replaced. */
static void mac_msg(tsig_ctx *c, const uint8_t *wire, size_t len, uint16_t id, uint16_t arcount)
{
	uint8_t h[MSG_HDRLEN];
	memcpy(h, wire, MSG_HDRLEN);
	wire_put_u16(h, id);
	wire_put_u16(h + 10, arcount);
	mac_add(c, h, MSG_HDRLEN);
	mac_add(c, wire + MSG_HDRLEN, len - MSG_HDRLEN);
}

/* The TSIG variables (§4.3.3), or only the timers. */
static void mac_vars(tsig_ctx *c, bool full, const uint8_t *kname, const uint8_t *aname, uint64_t t,
		     uint16_t fudge, uint16_t error, const uint8_t *other, uint16_t olen)
{
	uint8_t b[10];
	if (full) {
		mac_add(c, kname, name_len(kname));
		wire_put_u16(b, CLASS_ANY_);
		wire_put_u32(b + 2, 0);
		mac_add(c, b, 6);
		mac_add(c, aname, name_len(aname));
	}
	wire_put_u16(b, (uint16_t)(t >> 32));
	wire_put_u32(b + 2, (uint32_t)t);
	wire_put_u16(b + 6, fudge);
	mac_add(c, b, 8);
	if (full) {
		wire_put_u16(b, error);
		wire_put_u16(b + 2, olen);
		mac_add(c, b, 4);
		mac_add(c, other, olen);
	}
}

static int mac_end(tsig_ctx *c, uint8_t *out)
{
	size_t n = 0;
	if (EVP_MAC_final(c->mctx, out, &n, TSIG_MAC_MAX) != 1)
		return DNS_EINVAL;
	return (int)n;
}

/* ---- the TSIG RR ---- */

struct tsig_rr {
	uint8_t kname[NAME_MAXLEN], aname[NAME_MAXLEN];
	uint64_t time;
	uint16_t fudge, mac_len, orig_id, error, olen;
	const uint8_t *mac, *other;
};

static int rr_read(const msg *m, struct tsig_rr *t)
{
	wire_rd r;
	wire_rd_init(&r, m->wire, m->len);
	wire_rd_skip(&r, m->tsig_off);
	if (name_unpack(&r, t->kname) < 0)
		return r.err ? r.err : DNS_EFORMAT;
	uint16_t type = wire_rd_u16(&r), cls = wire_rd_u16(&r);
	wire_rd_u32(&r);
	uint16_t rdlen = wire_rd_u16(&r);
	wire_rd sub;
	wire_rd_sub(&r, rdlen, &sub);
	if (r.err)
		return r.err;
	if (type != RR_TSIG || cls != CLASS_ANY_)
		return DNS_EFORMAT;
	if (name_unpack(&sub, t->aname) < 0)
		return DNS_EFORMAT;
	t->time = (uint64_t)wire_rd_u16(&sub) << 32;
	t->time |= wire_rd_u32(&sub);
	t->fudge = wire_rd_u16(&sub);
	t->mac_len = wire_rd_u16(&sub);
	t->mac = wire_rd_ptr(&sub, t->mac_len);
	t->orig_id = wire_rd_u16(&sub);
	t->error = wire_rd_u16(&sub);
	t->olen = wire_rd_u16(&sub);
	t->other = wire_rd_ptr(&sub, t->olen);
	if (sub.err || wire_rd_left(&sub))
		return DNS_EFORMAT;
	name_lower(t->kname);
	name_lower(t->aname);
	return 0;
}

size_t tsig_size(const tsig_ctx *c)
{
	const uint8_t *k = c->key ? c->key->name : c->kname;
	const uint8_t *a = c->key ? tsig_alg_wire(c->key->alg) : c->aname;
	size_t mac = c->key ? (size_t)algs[c->key->alg].maclen : 0;
	return name_len(k) + 10 + name_len(a) + 16 + mac + 6;
}

/* A request's failure: the reply will carry err, unsigned unless BADTIME. */
static int req_fail(tsig_ctx *c, const tsig_key *k, uint16_t err)
{
	c->key = k;
	c->error = err;
	return err;
}

int tsig_verify(tsig_ctx *c, const msg *m, uint64_t now)
{
	if (!m->tsig_off || !m->hdr_ok || m->hdr.arcount == 0)
		return DNS_ENOTFOUND;
	struct tsig_rr t;
	int rc = rr_read(m, &t);
	if (rc < 0)
		return rc;
	bool resp = m->hdr.flags & MSG_QR;
	c->now = now;
	const tsig_key *k;
	if (!resp) {
		/* a request: a fresh exchange */
		c->key = NULL;
		c->mac_len = 0;
		c->nmsg = 0;
		c->error = 0;
		c->req_time = t.time;
		memcpy(c->kname, t.kname, name_len(t.kname));
		memcpy(c->aname, t.aname, name_len(t.aname));
		k = tsig_key_find(c->keys, c->nkeys, t.kname);
		if (!k || !name_eq(tsig_alg_wire(k->alg), t.aname))
			return req_fail(c, NULL, TSIG_BADKEY);
	} else {
		k = c->key;
		if (!k || !name_eq(k->name, t.kname) || !name_eq(tsig_alg_wire(k->alg), t.aname))
			return TSIG_BADKEY;
		if (t.error && t.mac_len == 0)
			return t.error;
	}
	int full = algs[k->alg].maclen, min = full / 2 > 10 ? full / 2 : 10;
	if (t.mac_len > full || t.mac_len < min)
		return DNS_EFORMAT;
	if (t.mac_len < full)
		return resp ? TSIG_BADTRUNC : req_fail(c, NULL, TSIG_BADTRUNC);
	uint8_t mac[TSIG_MAC_MAX];
	if (mac_begin(c, k) < 0)
		return DNS_EINVAL;
	if (resp)
		mac_prior(c);
	mac_msg(c, m->wire, m->tsig_off, t.orig_id, (uint16_t)(m->hdr.arcount - 1));
	mac_vars(c, !resp || c->nmsg == 0, t.kname, t.aname, t.time, t.fudge, t.error, t.other, t.olen);
	if (mac_end(c, mac) != full)
		return DNS_EINVAL;
	if (CRYPTO_memcmp(mac, t.mac, (size_t)full))
		return resp ? TSIG_BADSIG : req_fail(c, NULL, TSIG_BADSIG);
	/* the MAC is good: from here on replies are signed */
	memcpy(c->mac, t.mac, (size_t)full);
	c->mac_len = (uint16_t)full;
	uint64_t fudge = t.fudge < c->fudge ? t.fudge : c->fudge;
	bool late = now > t.time + fudge || t.time > now + fudge;
	if (resp) {
		c->nmsg++;
		return late ? TSIG_BADTIME : t.error;
	}
	return late ? req_fail(c, k, TSIG_BADTIME) : req_fail(c, k, 0);
}

int tsig_replay_check(tsig_ctx *c, _Atomic uint64_t *last)
{
	uint64_t seen = atomic_load_explicit(last, memory_order_relaxed);
	do {
		if (c->req_time + TSIG_REPLAY_SLACK < seen)
			return req_fail(c, c->key, TSIG_BADTIME);
		if (c->req_time <= seen)
			return 0;
	} while (!atomic_compare_exchange_weak_explicit(last, &seen, c->req_time, memory_order_relaxed,
							memory_order_relaxed));
	return 0;
}

int tsig_sign(tsig_ctx *c, uint8_t *buf, size_t len, size_t cap, uint64_t now)
{
	if (len < MSG_HDRLEN || len > cap || (!c->key && !c->error))
		return DNS_EINVAL;
	const uint8_t *kname = c->key ? c->key->name : c->kname;
	const uint8_t *aname = c->key ? tsig_alg_wire(c->key->alg) : c->aname;
	bool resp = buf[2] & 0x80;
	uint64_t t = now;
	uint8_t other[6];
	uint16_t olen = 0;
	if (resp && c->error) {
		/* an error reply: the request's time; BADTIME tells ours */
		t = c->req_time;
		if (c->error == TSIG_BADTIME) {
			wire_put_u16(other, (uint16_t)(c->now >> 32));
			wire_put_u32(other + 2, (uint32_t)c->now);
			olen = 6;
		}
	}
	uint8_t mac[TSIG_MAC_MAX];
	int mlen = 0;
	if (c->key) {
		if (mac_begin(c, c->key) < 0)
			return DNS_EINVAL;
		if (resp && c->mac_len)
			mac_prior(c);
		mac_msg(c, buf, len, wire_get_u16(buf), wire_get_u16(buf + 10));
		mac_vars(c, !resp || c->nmsg == 0, kname, aname, t, c->fudge, c->error, other, olen);
		if ((mlen = mac_end(c, mac)) <= 0)
			return DNS_EINVAL;
	}
	wire_wr w;
	wire_wr_init(&w, buf + len, cap - len);
	w.msg = buf;
	size_t kl = name_len(kname), al = name_len(aname);
	if (wire_wr_need(&w, kl)) {
		memcpy(w.pos, kname, kl);
		w.pos += kl;
	}
	wire_wr_u16(&w, RR_TSIG);
	wire_wr_u16(&w, CLASS_ANY_);
	wire_wr_u32(&w, 0);
	wire_wr_u16(&w, (uint16_t)(al + 16 + (size_t)mlen + olen));
	if (wire_wr_need(&w, al)) {
		memcpy(w.pos, aname, al);
		w.pos += al;
	}
	wire_wr_u16(&w, (uint16_t)(t >> 32));
	wire_wr_u32(&w, (uint32_t)t);
	wire_wr_u16(&w, c->fudge);
	wire_wr_u16(&w, (uint16_t)mlen);
	if (mlen && wire_wr_need(&w, (size_t)mlen)) {
		memcpy(w.pos, mac, (size_t)mlen);
		w.pos += mlen;
	}
	wire_wr_u16(&w, wire_get_u16(buf));
	wire_wr_u16(&w, c->error);
	wire_wr_u16(&w, olen);
	if (olen && wire_wr_need(&w, olen)) {
		memcpy(w.pos, other, olen);
		w.pos += olen;
	}
	if (w.err || wire_wr_off(&w) > MSG_MAXLEN)
		return DNS_ESPACE;
	wire_put_u16(buf + 10, (uint16_t)(wire_get_u16(buf + 10) + 1));
	if (mlen) {
		memcpy(c->mac, mac, (size_t)mlen);
		c->mac_len = (uint16_t)mlen;
	}
	if (resp)
		c->nmsg++;
	return (int)wire_wr_off(&w);
}

int tsig_strip(const msg *m, uint8_t *out, size_t cap)
{
	if (!m->tsig_off || m->hdr.arcount == 0)
		return DNS_ENOTFOUND;
	if (m->tsig_off > cap)
		return DNS_ESPACE;
	memcpy(out, m->wire, m->tsig_off);
	wire_put_u16(out + 10, (uint16_t)(m->hdr.arcount - 1));
	return m->tsig_off;
}
