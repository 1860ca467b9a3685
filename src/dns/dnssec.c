/* dnssec — RRSIG verification, key tags and DS digests (see dnssec.h). */
#include "dns/dnssec.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "dns/err.h"
#include "dns/name.h"
#include "dns/rrtype.h"

/* Types missing from rrtype.h whose RDATA holds names (RFC 4034 §6.2). */
enum { T_RT = 21, T_PX = 26, T_NXT = 30, T_A6 = 38 };

#define RRSIG_FIXED 18 /* type covered .. key tag */

static const char *const status_names[] = {
	"ok", "bogus", "expired", "not-yet-valid", "no-key", "unsupported", "malformed", "unsigned",
};

const char *dnssec_status_name(int status)
{
	if (status < 0)
		return dns_strerror(status);
	if ((size_t)status < sizeof(status_names) / sizeof(status_names[0]))
		return status_names[status];
	return "unknown";
}

bool dnssec_alg_supported(uint8_t alg)
{
	switch (alg) {
	case DNSSEC_RSASHA1: case DNSSEC_RSASHA1NSEC3: case DNSSEC_RSASHA256:
	case DNSSEC_RSASHA512: case DNSSEC_ECDSAP256: case DNSSEC_ECDSAP384:
	case DNSSEC_ED25519: case DNSSEC_ED448:
		return true;
	}
	return false;
}

static const EVP_MD *digest_md(uint8_t t)
{
	switch (t) {
	case DNSSEC_DS_SHA1: return EVP_sha1();
	case DNSSEC_DS_SHA256: return EVP_sha256();
	case DNSSEC_DS_SHA384: return EVP_sha384();
	}
	return NULL;
}

bool dnssec_digest_supported(uint8_t digest_type) { return digest_md(digest_type) != NULL; }

static int verdict(dnssec_ctx *c, int status, const char *reason)
{
	c->why.reason = reason;
	return status;
}

/* ---- names inside untrusted storage-form RDATA ---- */

/* Length of the uncompressed name at p (≤ left octets), or -1. Lowercases
 * it in place when lower is set. */
static int name_span(uint8_t *p, size_t left, bool lower)
{
	size_t i = 0;
	for (;;) {
		if (i >= left)
			return -1;
		uint8_t l = p[i];
		if (l == 0)
			break;
		if (l > NAME_MAXLABEL || i + 1 + l >= left || i + 1 + l > NAME_MAXLEN - 1)
			return -1;
		if (lower)
			for (size_t j = i + 1; j <= i + l; j++)
				if (p[j] >= 'A' && p[j] <= 'Z')
					p[j] |= 0x20;
		i += 1 + l;
	}
	return (int)i + 1;
}

/* Lowercases `count` consecutive names at rd + off; -1 if they overrun. */
static int lower_names(uint8_t *rd, size_t len, size_t off, int count)
{
	while (count-- > 0) {
		if (off > len)
			return -1;
		int l = name_span(rd + off, len - off, true);
		if (l < 0)
			return -1;
		off += (size_t)l;
	}
	return 0;
}

/* Canonical RDATA (RFC 4034 §6.2 as amended by RFC 6840 §5.1) in place. */
static int canon_rdata(uint16_t type, uint8_t *rd, size_t len)
{
	size_t off = 0;
	switch (type) {
	case RR_NS: case RR_MD: case RR_MF: case RR_CNAME: case RR_MB: case RR_MG:
	case RR_MR: case RR_PTR: case RR_DNAME: case T_NXT:
		return lower_names(rd, len, 0, 1);
	case RR_SOA: case RR_MINFO: case RR_RP:
		return lower_names(rd, len, 0, 2);
	case RR_MX: case RR_AFSDB: case T_RT: case RR_KX:
		return lower_names(rd, len, 2, 1);
	case T_PX:
		return lower_names(rd, len, 2, 2);
	case RR_SRV:
		return lower_names(rd, len, 6, 1);
	case RR_SIG: case RR_RRSIG:
		return lower_names(rd, len, RRSIG_FIXED, 1);
	case RR_NAPTR:
		off = 4;
		for (int i = 0; i < 3; i++) {
			if (off >= len)
				return -1;
			off += 1 + (size_t)rd[off];
		}
		return lower_names(rd, len, off, 1);
	case T_A6:
		if (len < 1 || rd[0] > 128)
			return -1;
		off = 1 + (size_t)(128 - rd[0] + 7) / 8;
		return rd[0] ? lower_names(rd, len, off, 1) : (off <= len ? 0 : -1);
	}
	return 0;
}

/* ---- RRSIG RDATA ---- */

typedef struct sig_view {
	uint16_t covered, tag;
	uint8_t alg, labels;
	uint32_t ottl, exp, inc;
	const uint8_t *signer;
	size_t signer_len;
	const uint8_t *sig;
	size_t siglen;
} sig_view;

static bool sig_parse(const uint8_t *p, size_t len, sig_view *v)
{
	if (!p || len < RRSIG_FIXED + 1)
		return false;
	v->covered = wire_get_u16(p);
	v->alg = p[2];
	v->labels = p[3];
	v->ottl = wire_get_u32(p + 4);
	v->exp = wire_get_u32(p + 8);
	v->inc = wire_get_u32(p + 12);
	v->tag = wire_get_u16(p + 16);
	int l = name_span((uint8_t *)(uintptr_t)(p + RRSIG_FIXED), len - RRSIG_FIXED, false);
	if (l < 0)
		return false;
	v->signer = p + RRSIG_FIXED;
	v->signer_len = (size_t)l;
	v->sig = v->signer + l;
	v->siglen = len - RRSIG_FIXED - (size_t)l;
	return v->siglen > 0;
}

/* ---- keys ---- */

uint16_t dnssec_key_tag(const uint8_t *rd, size_t len)
{
	if (!rd || len < 4)
		return 0;
	if (rd[3] == DNSSEC_RSAMD5) /* App. B.1: bits 8..23 of the modulus' tail */
		return len < 7 ? 0 : (uint16_t)(rd[len - 3] << 8 | rd[len - 2]);
	uint32_t ac = 0;
	for (size_t i = 0; i < len; i++)
		ac += (i & 1) ? rd[i] : (uint32_t)rd[i] << 8;
	ac += ac >> 16 & 0xffff;
	return (uint16_t)ac;
}

int dnssec_key_init(dnssec_key *k, const uint8_t *owner, const uint8_t *rdata, uint16_t rdlen)
{
	*k = (dnssec_key){0};
	if (!owner || !rdata || rdlen < 4)
		return DNS_EFORMAT;
	*k = (dnssec_key){owner, rdata, rdlen, dnssec_key_tag(rdata, rdlen), NULL};
	return 0;
}

static EVP_PKEY *pkey_fromdata(const char *type, const OSSL_PARAM *params)
{
	EVP_PKEY *pk = NULL;
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	if (pc && EVP_PKEY_fromdata_init(pc) == 1 &&
	    EVP_PKEY_fromdata(pc, &pk, EVP_PKEY_PUBLIC_KEY, (OSSL_PARAM *)(uintptr_t)params) != 1)
		pk = NULL;
	EVP_PKEY_CTX_free(pc);
	return pk;
}

static size_t skip_zeros(const uint8_t **p, size_t n)
{
	while (n && **p == 0) {
		(*p)++;
		n--;
	}
	return n;
}

/* RFC 3110 key: exponent length (1 octet, or 0 + 2 octets), exponent, modulus. */
static int rsa_key(const uint8_t *k, size_t len, EVP_PKEY **out, const char **why)
{
	size_t off = 1, el;
	if (len < 1)
		return *why = "RSA key empty", DNSSEC_MALFORMED;
	el = k[0];
	if (el == 0) {
		if (len < 3)
			return *why = "RSA exponent length truncated", DNSSEC_MALFORMED;
		el = wire_get_u16(k + 1);
		off = 3;
	}
	if (el == 0 || off + el >= len)
		return *why = "RSA exponent or modulus missing", DNSSEC_MALFORMED;
	const uint8_t *e = k + off, *n = k + off + el;
	size_t es = skip_zeros(&e, el), ns = skip_zeros(&n, len - off - el);
	if (es == 0 || ns == 0)
		return *why = "RSA exponent or modulus zero", DNSSEC_MALFORMED;
	size_t bits = ns * 8;
	for (uint8_t b = n[0]; !(b & 0x80); b <<= 1)
		bits--;
	if (bits < 512 || bits > 4096)
		return *why = "RSA modulus outside 512..4096 bits", DNSSEC_UNSUPPORTED;
	if (es > 8)
		return *why = "RSA exponent longer than 64 bits", DNSSEC_UNSUPPORTED;
	BIGNUM *bn_e = BN_bin2bn(e, (int)es, NULL), *bn_n = BN_bin2bn(n, (int)ns, NULL);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	*out = NULL;
	if (bn_e && bn_n && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) &&
	    (params = OSSL_PARAM_BLD_to_param(bld)))
		*out = pkey_fromdata("RSA", params);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_e);
	BN_free(bn_n);
	return *out ? DNSSEC_OK : (*why = "RSA key rejected by OpenSSL", DNSSEC_MALFORMED);
}

/* RFC 6605: x | y; RFC 8080: raw public key. */
static int ec_key(uint8_t alg, const uint8_t *k, size_t len, EVP_PKEY **out, const char **why)
{
	if (alg == DNSSEC_ED25519 || alg == DNSSEC_ED448) {
		bool e25519 = alg == DNSSEC_ED25519;
		if (len != (e25519 ? 32u : 57u))
			return *why = "EdDSA key length wrong", DNSSEC_MALFORMED;
		*out = EVP_PKEY_new_raw_public_key(e25519 ? EVP_PKEY_ED25519 : EVP_PKEY_ED448, NULL, k,
						   len);
		return *out ? DNSSEC_OK : (*why = "EdDSA key rejected by OpenSSL", DNSSEC_MALFORMED);
	}
	size_t want = alg == DNSSEC_ECDSAP256 ? 64 : 96;
	uint8_t pt[1 + 96];
	if (len != want)
		return *why = "ECDSA key length wrong", DNSSEC_MALFORMED;
	pt[0] = 4; /* uncompressed point */
	memcpy(pt + 1, k, len);
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
						 (char *)(alg == DNSSEC_ECDSAP256 ? "P-256" : "P-384"), 0),
		OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + len),
		OSSL_PARAM_construct_end(),
	};
	*out = pkey_fromdata("EC", params);
	return *out ? DNSSEC_OK : (*why = "ECDSA key is not a curve point", DNSSEC_MALFORMED);
}

static int pkey_new(const uint8_t *rd, size_t len, EVP_PKEY **out, const char **why)
{
	*out = NULL;
	*why = "";
	if (!rd || len < 4)
		return *why = "DNSKEY shorter than 4 octets", DNSSEC_MALFORMED;
	uint8_t alg = rd[3];
	int r;
	switch (alg) {
	case DNSSEC_RSASHA1: case DNSSEC_RSASHA1NSEC3: case DNSSEC_RSASHA256: case DNSSEC_RSASHA512:
		r = rsa_key(rd + 4, len - 4, out, why);
		break;
	case DNSSEC_ECDSAP256: case DNSSEC_ECDSAP384: case DNSSEC_ED25519: case DNSSEC_ED448:
		r = ec_key(alg, rd + 4, len - 4, out, why);
		break;
	default:
		return *why = "algorithm not supported", DNSSEC_UNSUPPORTED;
	}
	if (r != DNSSEC_OK)
		ERR_clear_error();
	return r;
}

int dnssec_key_load(dnssec_key *k)
{
	if (k->pkey)
		return DNSSEC_OK;
	const char *why;
	EVP_PKEY *pk;
	int r = pkey_new(k->rdata, k->rdlen, &pk, &why);
	k->pkey = pk;
	return r;
}

void dnssec_key_unload(dnssec_key *k)
{
	EVP_PKEY_free(k->pkey);
	k->pkey = NULL;
}

/* ---- DS ---- */

int dnssec_ds_digest(const uint8_t *owner, const uint8_t *dnskey, uint16_t rdlen,
		     uint8_t digest_type, uint8_t *out, size_t cap)
{
	const EVP_MD *md = digest_md(digest_type);
	if (!md)
		return DNS_ETYPE;
	if (!owner || !dnskey || !out)
		return DNS_EINVAL;
	int dl = EVP_MD_get_size(md);
	if (dl <= 0 || (size_t)dl > cap)
		return DNS_ESPACE;
	uint8_t lo[NAME_MAXLEN];
	size_t ol = name_copy(lo, owner);
	name_lower(lo);
	unsigned int got = 0;
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	bool ok = mc && EVP_DigestInit_ex(mc, md, NULL) == 1 && EVP_DigestUpdate(mc, lo, ol) == 1 &&
		  EVP_DigestUpdate(mc, dnskey, rdlen) == 1 && EVP_DigestFinal_ex(mc, out, &got) == 1;
	EVP_MD_CTX_free(mc);
	if (!ok) {
		ERR_clear_error();
		return DNS_ENOMEM;
	}
	return (int)got;
}

int dnssec_ds_match(const uint8_t *ds, uint16_t dslen, const dnssec_key *key)
{
	if (!ds || dslen < 5)
		return DNSSEC_MALFORMED;
	if (!key || !key->rdata || key->rdlen < 4 || key->rdata[2] != 3 ||
	    !(wire_get_u16(key->rdata) & DNSSEC_KEY_ZONE))
		return DNSSEC_NO_KEY;
	if (wire_get_u16(ds) != key->tag || ds[2] != key->rdata[3])
		return DNSSEC_NO_KEY;
	uint8_t d[DNSSEC_DIGEST_MAX];
	int dl = dnssec_ds_digest(key->owner, key->rdata, key->rdlen, ds[3], d, sizeof(d));
	if (dl == DNS_ETYPE)
		return DNSSEC_UNSUPPORTED;
	if (dl < 0)
		return DNSSEC_MALFORMED;
	if ((size_t)dl != (size_t)dslen - 4)
		return DNSSEC_MALFORMED;
	return memcmp(d, ds + 4, (size_t)dl) ? DNSSEC_BOGUS : DNSSEC_OK;
}

/* ---- verification ---- */

/* r | s (RFC 6605) as a DER ECDSA-Sig-Value into out (≥ 2 * 51 + 2). */
static size_t ecdsa_der(const uint8_t *sig, size_t half, uint8_t *out)
{
	size_t o = 2;
	for (int i = 0; i < 2; i++) {
		const uint8_t *p = sig + (size_t)i * half;
		size_t n = skip_zeros(&p, half);
		bool pad = n == 0 || p[0] & 0x80;
		out[o++] = 0x02;
		out[o++] = (uint8_t)(n + pad);
		if (pad)
			out[o++] = 0;
		memcpy(out + o, p, n);
		o += n;
	}
	out[0] = 0x30;
	out[1] = (uint8_t)(o - 2);
	return o;
}

static int crypto_verify(dnssec_ctx *c, EVP_PKEY *pk, uint8_t alg, const uint8_t *sig,
			 size_t siglen, const uint8_t *data, size_t len)
{
	const EVP_MD *md = NULL;
	uint8_t der[2 * 51 + 2];
	switch (alg) {
	case DNSSEC_RSASHA1: case DNSSEC_RSASHA1NSEC3: md = EVP_sha1(); break;
	case DNSSEC_RSASHA256: md = EVP_sha256(); break;
	case DNSSEC_RSASHA512: md = EVP_sha512(); break;
	case DNSSEC_ECDSAP256: case DNSSEC_ECDSAP384: {
		size_t half = alg == DNSSEC_ECDSAP256 ? 32 : 48;
		if (siglen != 2 * half)
			return verdict(c, DNSSEC_BOGUS, "ECDSA signature length wrong");
		md = half == 32 ? EVP_sha256() : EVP_sha384();
		siglen = ecdsa_der(sig, half, der);
		sig = der;
		break;
	}
	case DNSSEC_ED25519:
		if (siglen != 64)
			return verdict(c, DNSSEC_BOGUS, "Ed25519 signature length wrong");
		break;
	case DNSSEC_ED448:
		if (siglen != 114)
			return verdict(c, DNSSEC_BOGUS, "Ed448 signature length wrong");
		break;
	}
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	int ok = mc && EVP_DigestVerifyInit(mc, NULL, md, NULL, pk) == 1 &&
		 EVP_DigestVerify(mc, sig, siglen, data, len) == 1;
	EVP_MD_CTX_free(mc);
	if (!ok) {
		ERR_clear_error();
		return verdict(c, DNSSEC_BOGUS, "signature does not verify");
	}
	return verdict(c, DNSSEC_OK, "signature verifies");
}

static int cmp_rdata(const void *a, const void *b)
{
	const uint8_t *x = *(const uint8_t *const *)a, *y = *(const uint8_t *const *)b;
	size_t lx = wire_get_u16(x), ly = wire_get_u16(y);
	int r = memcmp(x + 2, y + 2, lx < ly ? lx : ly);
	return r ? r : (lx > ly) - (lx < ly);
}

/* Checks 1-5 of dnssec.h on the RRSIG alone. Fills the signed owner so. */
static int precheck(dnssec_ctx *c, const uint8_t *owner, uint16_t type, const uint8_t *rrsig,
		    size_t siglen, const dnssec_key *k, sig_view *v, uint8_t *so)
{
	c->why = (dnssec_why){"", 0, 0, false, 0, 0};
	if (!sig_parse(rrsig, siglen, v))
		return verdict(c, DNSSEC_MALFORMED, "RRSIG RDATA malformed");
	c->why.tag = v->tag;
	c->why.alg = v->alg;
	if (v->covered != type)
		return verdict(c, DNSSEC_MALFORMED, "RRSIG covers another type");
	if (!dnssec_alg_supported(v->alg))
		return verdict(c, DNSSEC_UNSUPPORTED, "RRSIG algorithm not supported");
	int ol = name_labels(owner);
	if (v->labels > ol)
		return verdict(c, DNSSEC_BOGUS, "RRSIG Labels exceed the owner's labels");
	if (!name_is_sub(owner, v->signer))
		return verdict(c, DNSSEC_BOGUS, "signer is not the owner or an ancestor");
	if (!k || !k->rdata || k->rdlen < 4)
		return verdict(c, DNSSEC_NO_KEY, "no DNSKEY matches the RRSIG's signer, algorithm and key tag");
	if (k->rdata[3] != v->alg || k->tag != v->tag || !k->owner || !name_eq(k->owner, v->signer))
		return verdict(c, DNSSEC_NO_KEY, "DNSKEY owner, algorithm or tag differ from the RRSIG");
	if (!(wire_get_u16(k->rdata) & DNSSEC_KEY_ZONE))
		return verdict(c, DNSSEC_NO_KEY, "DNSKEY lacks the Zone Key flag");
	if (k->rdata[2] != 3)
		return verdict(c, DNSSEC_NO_KEY, "DNSKEY protocol is not 3");
	if ((int32_t)(c->now - v->exp) > 0)
		return verdict(c, DNSSEC_EXPIRED, "RRSIG expired");
	if ((int32_t)(v->inc - c->now) > 0)
		return verdict(c, DNSSEC_NOT_YET_VALID, "RRSIG not yet valid");
	/* signed owner: "*." + Labels rightmost labels when expanded */
	const uint8_t *suffix = owner;
	for (int i = v->labels; i < ol; i++)
		suffix = name_parent(suffix);
	if (suffix == owner) {
		name_copy(so, owner);
	} else {
		so[0] = 1;
		so[1] = '*';
		name_copy(so + 2, suffix);
		c->why.wildcard = !(name_is_wildcard(owner) && ol == v->labels + 1);
	}
	name_lower(so);
	c->why.labels = v->labels;
	uint32_t left = v->exp - c->now;
	c->why.ttl = v->ottl < left ? v->ottl : left;
	return DNSSEC_OK;
}

/* Scratch holds n entries [u16 len][storage RDATA] in [0, ent): canonicalise,
 * sort, build the signed data behind them and check the signature. */
static int finish(dnssec_ctx *c, const uint8_t *so, uint16_t type, uint16_t rclass, size_t ent,
		  unsigned n, const uint8_t *rrsig, const sig_view *v, const dnssec_key *k)
{
	uint8_t *buf = c->scratch;
	size_t off = 0;
	for (unsigned i = 0; i < n; i++) {
		size_t l = wire_get_u16(buf + off);
		if (canon_rdata(type, buf + off + 2, l))
			return verdict(c, DNSSEC_MALFORMED, "names in RDATA malformed");
		off += 2 + l;
	}
	size_t po = ent + ((size_t)-(uintptr_t)(buf + ent) & (sizeof(void *) - 1)); /* aligned index */
	if (po > c->scratch_len || (c->scratch_len - po) / sizeof(uint8_t *) < n)
		return verdict(c, DNS_ESPACE, "RRset too large for the scratch buffer");
	const uint8_t **ptr = (const uint8_t **)(void *)(buf + po);
	off = 0;
	for (unsigned i = 0; i < n; i++) {
		ptr[i] = buf + off;
		off += 2 + (size_t)wire_get_u16(buf + off);
	}
	qsort(ptr, n, sizeof(*ptr), cmp_rdata);
	size_t d = po + n * sizeof(*ptr), sol = name_len(so);
	wire_wr w;
	wire_wr_init(&w, buf + d, c->scratch_len - d);
	wire_wr_bytes(&w, rrsig, RRSIG_FIXED);
	wire_wr_bytes(&w, v->signer, v->signer_len);
	if (w.err)
		return verdict(c, DNS_ESPACE, "RRset too large for the scratch buffer");
	name_lower(w.pos - v->signer_len);
	for (unsigned i = 0; i < n; i++) {
		if (i > 0 && cmp_rdata(&ptr[i - 1], &ptr[i]) == 0)
			continue; /* duplicate RR */
		size_t l = wire_get_u16(ptr[i]);
		wire_wr_bytes(&w, so, sol);
		wire_wr_u16(&w, type);
		wire_wr_u16(&w, rclass);
		wire_wr_u32(&w, v->ottl);
		wire_wr_bytes(&w, ptr[i], 2 + l);
	}
	if (w.err)
		return verdict(c, DNS_ESPACE, "RRset too large for the scratch buffer");
	EVP_PKEY *pk = k->pkey;
	const char *why;
	if (!pk) {
		int r = pkey_new(k->rdata, k->rdlen, &pk, &why);
		if (r != DNSSEC_OK)
			return verdict(c, r, why);
	}
	int r = crypto_verify(c, pk, v->alg, v->sig, v->siglen, buf + d, wire_wr_off(&w));
	if (pk != k->pkey)
		EVP_PKEY_free(pk);
	return r;
}

int dnssec_verify_stored(dnssec_ctx *c, const dnssec_rrset *set, const uint8_t *rrsig,
			 uint16_t siglen, const dnssec_key *key)
{
	if (!c || !c->scratch || !set || !set->owner || !set->rd || !set->n)
		return DNS_EINVAL;
	sig_view v;
	uint8_t so[NAME_MAXLEN];
	int r = precheck(c, set->owner, set->type, rrsig, siglen, key, &v, so);
	if (r != DNSSEC_OK)
		return r;
	wire_wr w;
	wire_wr_init(&w, c->scratch, c->scratch_len);
	for (unsigned i = 0; i < set->n; i++) {
		wire_wr_u16(&w, set->rd[i].len);
		wire_wr_bytes(&w, set->rd[i].p, set->rd[i].len);
	}
	if (w.err)
		return verdict(c, DNS_ESPACE, "RRset too large for the scratch buffer");
	return finish(c, so, set->type, set->rclass, wire_wr_off(&w), set->n, rrsig, &v, key);
}

int dnssec_verify_rrset(dnssec_ctx *c, const msg *m, const uint16_t *idx, unsigned n,
			unsigned sig, const dnssec_key *key)
{
	if (!c || !c->scratch || !m || !m->rr || !idx || n == 0 || sig >= m->nrr)
		return DNS_EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (idx[i] >= m->nrr)
			return DNS_EINVAL;
	const msg_rr *r0 = &m->rr[idx[0]], *sr = &m->rr[sig];
	if (sr->type != RR_RRSIG) {
		c->why = (dnssec_why){"", 0, 0, false, 0, 0};
		return verdict(c, DNSSEC_MALFORMED, "not an RRSIG");
	}
	uint8_t owner[NAME_MAXLEN], o2[NAME_MAXLEN], so[NAME_MAXLEN];
	if (msg_rr_owner(m, r0, owner) < 0 || msg_rr_owner(m, sr, o2) < 0)
		return verdict(c, DNSSEC_MALFORMED, "owner name malformed");
	sig_view v;
	int r = precheck(c, owner, r0->type, m->wire + sr->rdata, sr->rdlen, key, &v, so);
	if (r != DNSSEC_OK)
		return r;
	if (sr->rclass != r0->rclass || !name_eq(owner, o2))
		return verdict(c, DNSSEC_MALFORMED, "RRSIG owner or class differ from the RRset");
	wire_wr w;
	wire_wr_init(&w, c->scratch, c->scratch_len);
	for (unsigned i = 0; i < n; i++) {
		const msg_rr *rr = &m->rr[idx[i]];
		if (rr->type != r0->type || rr->rclass != r0->rclass)
			return verdict(c, DNSSEC_MALFORMED, "RRs are not one RRset");
		if (rr->owner != r0->owner &&
		    (msg_rr_owner(m, rr, o2) < 0 || !name_eq(owner, o2)))
			return verdict(c, DNSSEC_MALFORMED, "RRs are not one RRset");
		size_t at = wire_wr_off(&w);
		wire_wr_u16(&w, 0);
		int e = msg_rr_rdata(m, rr, &w);
		if (w.err == DNS_ESPACE || e == DNS_ESPACE)
			return verdict(c, DNS_ESPACE, "RRset too large for the scratch buffer");
		if (e < 0)
			return verdict(c, DNSSEC_MALFORMED, "RDATA malformed");
		wire_put_u16(c->scratch + at, (uint16_t)(wire_wr_off(&w) - at - 2));
	}
	return finish(c, so, r0->type, r0->rclass, wire_wr_off(&w), n, m->wire + sr->rdata, &v, key);
}

/* ---- sections ---- */

static bool set_has(const msg *m, const dnssec_set *s, const msg_rr *rr, const uint8_t *owner,
		    uint16_t type, uint64_t h)
{
	if (s->type != type || s->rclass != rr->rclass || s->hash != h)
		return false;
	const msg_rr *r0 = &m->rr[s->rr0];
	uint8_t o0[NAME_MAXLEN];
	return r0->owner == rr->owner || (msg_rr_owner(m, r0, o0) > 0 && name_eq(o0, owner));
}

/* Set of rr (type: its own, or Type Covered for an RRSIG), or -1. */
static int set_find(const msg *m, dnssec_set *sets, int ns, const msg_rr *rr, uint16_t type,
		    uint8_t *owner, uint64_t *h)
{
	int l = msg_rr_owner(m, rr, owner);
	if (l < 0)
		return -2;
	*h = name_hash(owner, (size_t)l);
	for (int i = 0; i < ns; i++)
		if (set_has(m, &sets[i], rr, owner, type, *h))
			return i;
	return -1;
}

static bool covered_type(const msg *m, const msg_rr *rr, uint16_t *type)
{
	if (rr->type != RR_RRSIG || rr->rdlen < 2)
		return false;
	*type = wire_get_u16(m->wire + rr->rdata);
	return true;
}

int dnssec_group(const msg *m, unsigned sec, dnssec_set *sets, unsigned cap, uint16_t *idx,
		 unsigned idxcap)
{
	unsigned cnt;
	if (!m || !m->rr || sec == MSG_QUESTION || sec > MSG_ADDITIONAL || !sets || !idx)
		return DNS_EINVAL;
	const msg_rr *base = msg_sec(m, sec, &cnt);
	if (!base)
		return 0;
	unsigned b = (unsigned)(base - m->rr), total = 0;
	int ns = 0;
	uint8_t owner[NAME_MAXLEN];
	uint64_t h;
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < ns; i++)
			sets[i].n = sets[i].nsig = 0;
		for (unsigned i = 0; i < cnt; i++) { /* RRsets */
			const msg_rr *rr = &base[i];
			if (rr->type == RR_RRSIG || rr->type == RR_OPT)
				continue;
			int s = set_find(m, sets, ns, rr, rr->type, owner, &h);
			if (s == -2)
				return DNS_EFORMAT;
			if (s < 0) {
				if ((unsigned)ns >= cap)
					return DNS_ESPACE;
				sets[ns] = (dnssec_set){rr->type, rr->rclass, 0, 0, 0, 0, (uint16_t)(b + i), h};
				s = ns++;
			}
			if (pass)
				idx[sets[s].first + sets[s].n] = (uint16_t)(b + i);
			sets[s].n++;
		}
		for (unsigned i = 0; i < cnt; i++) { /* their RRSIGs */
			uint16_t t;
			if (!covered_type(m, &base[i], &t))
				continue;
			int s = set_find(m, sets, ns, &base[i], t, owner, &h);
			if (s == -2)
				return DNS_EFORMAT;
			if (s < 0)
				continue;
			if (pass)
				idx[sets[s].sig + sets[s].nsig] = (uint16_t)(b + i);
			sets[s].nsig++;
		}
		if (pass)
			break;
		for (int i = 0; i < ns; i++) {
			sets[i].first = (uint16_t)total;
			sets[i].sig = (uint16_t)(total + sets[i].n);
			total += sets[i].n + sets[i].nsig;
		}
		if (total > idxcap)
			return DNS_ESPACE;
	}
	return ns;
}

static int rank(int s)
{
	static const int r[] = {
		[DNSSEC_OK] = 0, [DNSSEC_BOGUS] = 1, [DNSSEC_MALFORMED] = 2, [DNSSEC_EXPIRED] = 3,
		[DNSSEC_NOT_YET_VALID] = 4, [DNSSEC_NO_KEY] = 5, [DNSSEC_UNSUPPORTED] = 6,
		[DNSSEC_UNSIGNED] = 7,
	};
	return s >= 0 && (size_t)s < sizeof(r) / sizeof(r[0]) ? r[s] : 8;
}

int dnssec_verify_set(dnssec_ctx *c, const msg *m, const dnssec_set *s, const uint16_t *idx,
		      const dnssec_key *keys, unsigned nkeys)
{
	if (!c || !m || !s || !idx || (nkeys && !keys))
		return DNS_EINVAL;
	c->why = (dnssec_why){"no RRSIG covers the RRset", 0, 0, false, 0, 0};
	int best = DNSSEC_UNSIGNED;
	dnssec_why bw = c->why;
	for (unsigned j = 0; j < s->nsig; j++) {
		unsigned sig = idx[s->sig + j];
		if (sig >= m->nrr)
			return DNS_EINVAL;
		const msg_rr *sr = &m->rr[sig];
		sig_view v;
		bool tried = false;
		if (sig_parse(m->wire + sr->rdata, sr->rdlen, &v)) {
			for (unsigned k = 0; k < nkeys; k++) {
				const dnssec_key *key = &keys[k];
				if (!key->rdata || !key->owner || key->rdlen < 4 || key->tag != v.tag ||
				    key->rdata[3] != v.alg || !name_eq(key->owner, v.signer))
					continue;
				tried = true;
				int r = dnssec_verify_rrset(c, m, idx + s->first, s->n, sig, key);
				if (r < 0 || r == DNSSEC_OK)
					return r;
				if (rank(r) < rank(best))
					best = r, bw = c->why;
			}
		}
		if (!tried) { /* explain why this RRSIG had no key (or worse) */
			int r = dnssec_verify_rrset(c, m, idx + s->first, s->n, sig, NULL);
			if (r < 0)
				return r;
			if (rank(r) < rank(best))
				best = r, bw = c->why;
		}
	}
	c->why = bw;
	return best;
}

int dnssec_keys_from_set(const msg *m, const dnssec_set *s, const uint16_t *idx, uint8_t *owner,
			 dnssec_key *keys, unsigned cap)
{
	if (!m || !m->rr || !s || !idx || !owner || (cap && !keys) || s->type != RR_DNSKEY ||
	    s->rr0 >= m->nrr)
		return DNS_EINVAL;
	if (msg_rr_owner(m, &m->rr[s->rr0], owner) < 0)
		return DNS_EFORMAT;
	unsigned k = 0;
	for (unsigned i = 0; i < s->n && k < cap; i++) {
		unsigned j = idx[s->first + i];
		if (j >= m->nrr)
			return DNS_EINVAL;
		const msg_rr *rr = &m->rr[j];
		if (dnssec_key_init(&keys[k], owner, m->wire + rr->rdata, rr->rdlen) == 0)
			k++;
	}
	return (int)k;
}
