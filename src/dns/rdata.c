/* rdata — per-type field descriptors driving wire/storage/text conversion. */
#include "dns/rdata.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns/base.h"
#include "dns/rrtype.h"

/* Field kinds. "Rest" kinds (B64, HEX, BITMAP, SVC, LSTR, OPAQUE) take the
 * remainder of the RDATA and are always last. */
enum kind {
	K_END = 0,
	K_U8, K_U16, K_U32, K_TTL, K_TIME, K_TYPE, K_ALG, K_CERTTYPE,
	K_A, K_AAAA, K_NAME, K_STR, K_STRS, K_B64, K_HEX, K_SALT, K_B32,
	K_BITMAP, K_CAATAG, K_LSTR, K_SVC, K_GW, K_OPAQUE, K_LOC,
};

static const char *const kind_name[] = {
	"", "u8", "u16", "u32", "TTL", "timestamp", "type", "algorithm", "certificate type",
	"IPv4 address", "IPv6 address", "domain name", "character-string", "character-strings",
	"base64", "hex", "salt", "base32hex", "type bitmap", "CAA tag", "string", "SvcParams",
	"gateway", "opaque data", "LOC",
};

enum {
	TF_COMPRESS = 1, /* RFC 3597 well-known: compress on write, pointers ok on read */
	TF_DECOMP = 2,   /* pointers accepted on read only */
	TF_NOTEXT = 4,   /* presentation form is always \# */
};

#define MAXF 10
struct rrdesc {
	uint8_t flags;
	uint8_t k[MAXF]; /* K_END-terminated */
};

#define D(fl, ...) { (fl), { __VA_ARGS__ } }
#define D_NAME1 D(TF_COMPRESS, K_NAME)
#define D_SIG(fl) D(fl, K_TYPE, K_ALG, K_U8, K_TTL, K_TIME, K_TIME, K_U16, K_NAME, K_B64)
#define D_KEY D(0, K_U16, K_U8, K_ALG, K_B64)
#define D_DS D(0, K_U16, K_ALG, K_U8, K_HEX)

static const struct rrdesc descs[RR_CAA + 1] = {
	[RR_A] = D(0, K_A),
	[RR_NS] = D_NAME1, [RR_MD] = D_NAME1, [RR_MF] = D_NAME1, [RR_CNAME] = D_NAME1,
	[RR_MB] = D_NAME1, [RR_MG] = D_NAME1, [RR_MR] = D_NAME1, [RR_PTR] = D_NAME1,
	[RR_SOA] = D(TF_COMPRESS, K_NAME, K_NAME, K_U32, K_TTL, K_TTL, K_TTL, K_TTL),
	[RR_HINFO] = D(0, K_STR, K_STR),
	[RR_MINFO] = D(TF_COMPRESS, K_NAME, K_NAME),
	[RR_MX] = D(TF_COMPRESS, K_U16, K_NAME),
	[RR_TXT] = D(0, K_STRS),
	[RR_SPF] = D(0, K_STRS),
	[RR_RP] = D(TF_DECOMP, K_NAME, K_NAME),
	[RR_AFSDB] = D(TF_DECOMP, K_U16, K_NAME),
	[21] = D(TF_DECOMP, K_U16, K_NAME), /* RT */
	[RR_SIG] = D_SIG(TF_DECOMP),
	[RR_KEY] = D_KEY,
	[26] = D(TF_DECOMP, K_U16, K_NAME, K_NAME), /* PX */
	[RR_AAAA] = D(0, K_AAAA),
	[RR_LOC] = D(0, K_LOC),
	[30] = D(TF_DECOMP | TF_NOTEXT, K_NAME, K_OPAQUE), /* NXT */
	[RR_SRV] = D(TF_DECOMP, K_U16, K_U16, K_U16, K_NAME),
	[RR_NAPTR] = D(TF_DECOMP, K_U16, K_U16, K_STR, K_STR, K_STR, K_NAME),
	[RR_KX] = D(TF_DECOMP, K_U16, K_NAME),
	[RR_CERT] = D(0, K_CERTTYPE, K_U16, K_ALG, K_B64),
	[RR_DNAME] = D(TF_DECOMP, K_NAME),
	[RR_DS] = D_DS, [RR_CDS] = D_DS,
	[RR_SSHFP] = D(0, K_U8, K_U8, K_HEX),
	[RR_IPSECKEY] = D(0, K_U8, K_U8, K_U8, K_GW, K_B64),
	[RR_RRSIG] = D_SIG(0),
	[RR_NSEC] = D(0, K_NAME, K_BITMAP),
	[RR_DNSKEY] = D_KEY, [RR_CDNSKEY] = D_KEY,
	[RR_DHCID] = D(0, K_B64),
	[RR_NSEC3] = D(0, K_U8, K_U8, K_U16, K_SALT, K_B32, K_BITMAP),
	[RR_NSEC3PARAM] = D(0, K_U8, K_U8, K_U16, K_SALT),
	[RR_TLSA] = D(0, K_U8, K_U8, K_U8, K_HEX),
	[RR_SMIMEA] = D(0, K_U8, K_U8, K_U8, K_HEX),
	[RR_OPENPGPKEY] = D(0, K_B64),
	[RR_CSYNC] = D(0, K_U32, K_U16, K_BITMAP),
	[RR_ZONEMD] = D(0, K_U32, K_U8, K_U8, K_HEX),
	[RR_SVCB] = D(0, K_U16, K_NAME, K_SVC),
	[RR_HTTPS] = D(0, K_U16, K_NAME, K_SVC),
	[RR_URI] = D(0, K_U16, K_U16, K_LSTR),
	[RR_CAA] = D(0, K_U8, K_CAATAG, K_LSTR),
};
static const struct rrdesc desc_ds = D_DS; /* TA, DLV */

static const struct rrdesc *desc_of(uint16_t type)
{
	if (type < sizeof(descs) / sizeof(descs[0]))
		return descs[type].k[0] ? &descs[type] : NULL;
	if (type == 32768 || type == 32769)
		return &desc_ds;
	return NULL;
}

/* ---- names without compression -------------------------------------- */

/* Reads an uncompressed name at in (pointers are DNS_EFORMAT) into out
 * (may be NULL) and returns its length. */
static int name_flat(wire_rd *in, uint8_t *out)
{
	if (in->err)
		return in->err;
	const uint8_t *p = in->pos;
	size_t len = 0;
	for (;;) {
		if (p >= in->end)
			return DNS_ETRUNC;
		uint8_t c = *p;
		if ((c & 0xc0) == 0xc0)
			return DNS_EFORMAT;
		if (c & 0xc0)
			return DNS_ELABEL;
		if (len + 1 + c > NAME_MAXLEN)
			return DNS_ENAMELEN;
		if ((size_t)(in->end - p) < 1u + c)
			return DNS_ETRUNC;
		len += 1u + c;
		p += 1u + c;
		if (c == 0)
			break;
	}
	if (out)
		memcpy(out, in->pos, len);
	in->pos = p;
	return (int)len;
}

/* ---- validators shared by the wire and text paths ------------------- */

/* RFC 4034 §4.1.2 windows: increasing window numbers, 1..32 octets each,
 * no trailing zero octet (so the text form round-trips exactly). */
static int bitmap_check(const uint8_t *p, size_t n)
{
	int prev = -1;
	size_t o = 0;
	while (o < n) {
		if (n - o < 2)
			return DNS_EFORMAT;
		unsigned win = p[o], len = p[o + 1];
		if ((int)win <= prev || len == 0 || len > 32 || n - o - 2 < len || p[o + 1 + len] == 0)
			return DNS_EFORMAT;
		prev = (int)win;
		o += 2 + len;
	}
	return 0;
}

enum { SVC_MANDATORY, SVC_ALPN, SVC_NODEFALPN, SVC_PORT, SVC_IPV4HINT, SVC_ECH, SVC_IPV6HINT };

/* RFC 9460 SvcParams: strictly increasing keys, key 65535 invalid, the
 * value shapes of keys 0-6, and every mandatory key present. */
static int svc_check(const uint8_t *p, size_t n)
{
	wire_rd r;
	wire_rd_init(&r, p, n);
	long prev = -1;
	const uint8_t *mand = NULL;
	size_t mlen = 0;
	while (wire_rd_left(&r)) {
		uint16_t key = wire_rd_u16(&r), len = wire_rd_u16(&r);
		const uint8_t *v = wire_rd_ptr(&r, len);
		if (!v || (long)key <= prev || key == 65535)
			return DNS_EFORMAT;
		prev = key;
		switch (key) {
		case SVC_MANDATORY:
			if (len < 2 || (len & 1))
				return DNS_EFORMAT;
			for (size_t j = 0; j < len; j += 2) {
				uint16_t k = wire_get_u16(v + j);
				if (k == 0 || (j && k <= wire_get_u16(v + j - 2)))
					return DNS_EFORMAT;
			}
			mand = v;
			mlen = len;
			break;
		case SVC_ALPN:
			if (len == 0)
				return DNS_EFORMAT;
			for (size_t o = 0; o < len; o += 1u + v[o])
				if (v[o] == 0 || (size_t)len - o < 1u + v[o])
					return DNS_EFORMAT;
			break;
		case SVC_NODEFALPN:
			if (len)
				return DNS_EFORMAT;
			break;
		case SVC_PORT:
			if (len != 2)
				return DNS_EFORMAT;
			break;
		case SVC_IPV4HINT:
			if (len == 0 || len % 4)
				return DNS_EFORMAT;
			break;
		case SVC_ECH:
			if (len == 0)
				return DNS_EFORMAT;
			break;
		case SVC_IPV6HINT:
			if (len == 0 || len % 16)
				return DNS_EFORMAT;
			break;
		}
	}
	if (!wire_rd_ok(&r))
		return DNS_EFORMAT;
	if (mand) { /* both lists sorted: merge walk */
		wire_rd_init(&r, p, n);
		for (size_t j = 0; j < mlen; j += 2) {
			uint16_t k = wire_get_u16(mand + j), key = 0;
			do {
				if (!wire_rd_left(&r))
					return DNS_EFORMAT;
				key = wire_rd_u16(&r);
				wire_rd_skip(&r, wire_rd_u16(&r));
			} while (key < k);
			if (key != k)
				return DNS_EFORMAT;
		}
	}
	return 0;
}

static bool caatag_ok(const uint8_t *p, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (!((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')))
			return false;
	}
	return true;
}

/* ---- wire -> storage ------------------------------------------------- */

static inline void emit(wire_wr *out, const void *p, size_t n)
{
	if (out)
		wire_wr_bytes(out, p, n);
}

/* Structure check of one RDATA (in is bounded to it), copying the storage
 * form to out (NULL: validate only). */
static int unpack_typed(const struct rrdesc *d, wire_rd *in, wire_wr *out, bool ptr_ok)
{
	unsigned vals[MAXF] = {0};
	for (int i = 0; i < MAXF && d->k[i]; i++) {
		const uint8_t *p = NULL;
		size_t left = wire_rd_left(in);
		switch (d->k[i]) {
		case K_U8: case K_ALG:
			if ((p = wire_rd_ptr(in, 1)))
				vals[i] = p[0];
			break;
		case K_U16: case K_TYPE: case K_CERTTYPE:
			p = wire_rd_ptr(in, 2);
			break;
		case K_U32: case K_TTL: case K_TIME: case K_A:
			p = wire_rd_ptr(in, 4);
			break;
		case K_AAAA:
			p = wire_rd_ptr(in, 16);
			break;
		case K_NAME: {
			uint8_t nb[NAME_MAXLEN];
			int n = ptr_ok ? name_unpack(in, nb) : name_flat(in, nb);
			if (n < 0)
				return n == DNS_ETRUNC ? DNS_EFORMAT : n;
			emit(out, nb, (size_t)n);
			continue;
		}
		case K_STR: case K_SALT:
			if (left >= 1)
				p = wire_rd_ptr(in, 1u + in->pos[0]);
			break;
		case K_STRS:
			if (!left)
				return DNS_EFORMAT;
			while (wire_rd_left(in))
				if (!(p = wire_rd_ptr(in, 1u + in->pos[0])))
					return DNS_EFORMAT;
			p = in->end - left;
			break;
		case K_B32:
			if (left >= 1 && in->pos[0])
				p = wire_rd_ptr(in, 1u + in->pos[0]);
			break;
		case K_CAATAG:
			if (left >= 1 && caatag_ok(in->pos + 1, left - 1 < in->pos[0] ? 0 : in->pos[0]))
				p = wire_rd_ptr(in, 1u + in->pos[0]);
			break;
		case K_BITMAP: case K_SVC:
			p = wire_rd_ptr(in, left);
			if (d->k[i] == K_BITMAP ? bitmap_check(p, left) : svc_check(p, left))
				return DNS_EFORMAT;
			break;
		case K_B64: case K_HEX: case K_LSTR: case K_OPAQUE: case K_LOC:
			p = wire_rd_ptr(in, left);
			break;
		case K_GW:
			switch (vals[1]) {
			case 0: continue;
			case 1: p = wire_rd_ptr(in, 4); break;
			case 2: p = wire_rd_ptr(in, 16); break;
			case 3: {
				uint8_t nb[NAME_MAXLEN];
				int n = name_flat(in, nb);
				if (n < 0)
					return n == DNS_ETRUNC ? DNS_EFORMAT : n;
				emit(out, nb, (size_t)n);
				continue;
			}
			default: return DNS_EFORMAT;
			}
			break;
		}
		if (!p)
			return DNS_EFORMAT;
		emit(out, p, (size_t)(in->pos - p));
	}
	if (!wire_rd_ok(in) || wire_rd_left(in))
		return DNS_EFORMAT;
	return 0;
}

int rdata_unpack(uint16_t type, wire_rd *r, uint16_t rdlen, wire_wr *out)
{
	wire_rd sub;
	wire_rd_sub(r, rdlen, &sub);
	if (sub.err)
		return sub.err;
	if (out->err)
		return out->err;
	uint8_t *start = out->pos;
	const struct rrdesc *d = desc_of(type);
	int rc = 0;
	if (!d)
		wire_wr_bytes(out, sub.pos, rdlen);
	else
		rc = unpack_typed(d, &sub, out, (d->flags & (TF_COMPRESS | TF_DECOMP)) != 0);
	if (!rc && out->err)
		rc = out->err;
	if (!rc && out->pos - start > 65535)
		rc = DNS_EFORMAT;
	if (rc) {
		if (out->pos > start)
			out->pos = start;
		wire_rd_fail(r, rc);
		return rc;
	}
	return (int)(out->pos - start);
}

int rdata_pack(uint16_t type, const uint8_t *rdata, uint16_t rdlen, wire_wr *w, name_ctab *ct)
{
	const struct rrdesc *d = desc_of(type);
	if (!ct || !d || !(d->flags & TF_COMPRESS)) {
		wire_wr_bytes(w, rdata, rdlen);
		return w->err;
	}
	wire_rd in;
	wire_rd_init(&in, rdata, rdlen);
	for (int i = 0; i < MAXF && d->k[i]; i++) {
		if (d->k[i] == K_NAME) {
			const uint8_t *name = in.pos;
			int n = name_flat(&in, NULL);
			if (n < 0)
				return DNS_EFORMAT;
			if (name_pack(w, name, ct) < 0)
				return w->err;
		} else {
			size_t sz = d->k[i] == K_U16 ? 2 : 4; /* only U16/U32/TTL here */
			const uint8_t *p = wire_rd_ptr(&in, sz);
			if (!p)
				return DNS_EFORMAT;
			wire_wr_bytes(w, p, sz);
		}
	}
	if (wire_rd_left(&in))
		return DNS_EFORMAT;
	return w->err;
}

const uint8_t *rdata_target(uint16_t type, const uint8_t *rdata, uint16_t rdlen)
{
	size_t off;
	switch (type) {
	case RR_NS: case RR_MD: case RR_MF: case RR_CNAME: case RR_PTR: case RR_DNAME:
		off = 0;
		break;
	case RR_MX: case RR_KX: case RR_AFSDB:
		off = 2;
		break;
	case RR_SRV:
		off = 6;
		break;
	default:
		return NULL;
	}
	return rdlen > off ? rdata + off : NULL;
}

/* ---- text output ----------------------------------------------------- */

struct tb {
	char *p, *end; /* end leaves room for the NUL */
	int err;
};

static char *tb_reserve(struct tb *t, size_t n)
{
	if (t->err)
		return NULL;
	if ((size_t)(t->end - t->p) < n) {
		t->err = DNS_ESPACE;
		return NULL;
	}
	char *p = t->p;
	t->p += n;
	return p;
}

static void tb_mem(struct tb *t, const void *s, size_t n)
{
	char *p = tb_reserve(t, n);
	if (p)
		memcpy(p, s, n);
}

static void tb_c(struct tb *t, char c)
{
	char *p = tb_reserve(t, 1);
	if (p)
		*p = c;
}

static void tb_str(struct tb *t, const char *s) { tb_mem(t, s, strlen(s)); }

static void tb_u(struct tb *t, uint32_t v)
{
	char b[10];
	int n = 0;
	do {
		b[9 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	tb_mem(t, b + 10 - n, (size_t)n);
}

static void tb_ddd(struct tb *t, uint8_t c)
{
	char *p = tb_reserve(t, 4);
	if (p) {
		p[0] = '\\';
		p[1] = (char)('0' + c / 100);
		p[2] = (char)('0' + c / 10 % 10);
		p[3] = (char)('0' + c % 10);
	}
}

/* Quoted character-string body: only '"' and '\' need a backslash;
 * non-printable octets become \DDD. */
static void tb_quoted(struct tb *t, const uint8_t *s, size_t n)
{
	tb_c(t, '"');
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		if (c == '"' || c == '\\') {
			tb_c(t, '\\');
			tb_c(t, (char)c);
		} else if (c < 0x20 || c >= 0x7f) {
			tb_ddd(t, c);
		} else {
			tb_c(t, (char)c);
		}
	}
	tb_c(t, '"');
}

/* Unquoted value (SvcParam): everything a zone tokenizer could treat
 * specially is \DDD. With `list`, ',' and '\' inside an item get the
 * RFC 9460 second-level escape ("\\," in the file). */
static void tb_unquoted(struct tb *t, const uint8_t *s, size_t n, bool list)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		if (list && (c == ',' || c == '\\')) {
			tb_ddd(t, '\\');
			if (c == '\\')
				tb_ddd(t, c);
			else
				tb_c(t, (char)c);
		} else if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == ';' ||
			   c == '(' || c == ')') {
			tb_ddd(t, c);
		} else {
			tb_c(t, (char)c);
		}
	}
}

static void tb_hex(struct tb *t, const uint8_t *p, size_t n)
{
	char *o = tb_reserve(t, base_hex_enclen(n) + 1);
	if (o) {
		base_hex_enc(p, n, o);
		t->p--; /* drop the NUL */
	}
}

static void tb_b64(struct tb *t, const uint8_t *p, size_t n)
{
	char *o = tb_reserve(t, base_b64_enclen(n) + 1);
	if (o) {
		base_b64_enc(p, n, o);
		t->p--;
	}
}

static void tb_name(struct tb *t, const uint8_t *name)
{
	char buf[NAME_MAXTEXT];
	int n = name_to_text(name, buf, sizeof(buf));
	if (n < 0) {
		if (!t->err)
			t->err = n;
		return;
	}
	tb_mem(t, buf, (size_t)n);
}

static void tb_addr(struct tb *t, int af, const uint8_t *p)
{
	char buf[INET6_ADDRSTRLEN];
	if (!inet_ntop(af, p, buf, sizeof(buf))) {
		t->err = DNS_EINVAL;
		return;
	}
	tb_str(t, buf);
}

/* Howard Hinnant's civil-date algorithms (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void tb_time(struct tb *t, uint32_t v)
{
	int64_t y;
	unsigned mo, d;
	civil_from_days(v / 86400, &y, &mo, &d);
	uint32_t s = v % 86400;
	unsigned f[6] = {(unsigned)y, mo, d, s / 3600, s / 60 % 60, s % 60};
	char *p = tb_reserve(t, 14);
	if (!p)
		return;
	p[0] = (char)('0' + f[0] / 1000);
	p[1] = (char)('0' + f[0] / 100 % 10);
	p[2] = (char)('0' + f[0] / 10 % 10);
	p[3] = (char)('0' + f[0] % 10);
	for (int i = 1; i < 6; i++) {
		p[2 + 2 * i] = (char)('0' + f[i] / 10);
		p[3 + 2 * i] = (char)('0' + f[i] % 10);
	}
}

static void tb_bitmap(struct tb *t, const uint8_t *p, size_t n)
{
	char tn[16];
	bool first = true;
	for (size_t o = 0; o + 2 <= n; o += 2u + p[o + 1]) {
		unsigned win = p[o], len = p[o + 1];
		for (unsigned b = 0; b < len * 8 && o + 2 + b / 8 < n; b++) {
			if (!(p[o + 2 + b / 8] & (0x80 >> (b & 7))))
				continue;
			if (!first)
				tb_c(t, ' ');
			first = false;
			tb_str(t, rrtype_to_text((uint16_t)(win << 8 | b), tn));
		}
	}
}

static const char *const svc_names[] = {
	"mandatory", "alpn", "no-default-alpn", "port", "ipv4hint", "ech", "ipv6hint", "dohpath", "ohttp",
};

static void tb_svckey(struct tb *t, uint16_t key)
{
	if (key < sizeof(svc_names) / sizeof(svc_names[0])) {
		tb_str(t, svc_names[key]);
	} else {
		tb_str(t, "key");
		tb_u(t, key);
	}
}

/* Storage is validated already (svc_check). */
static void tb_svc(struct tb *t, const uint8_t *p, size_t n)
{
	wire_rd r;
	wire_rd_init(&r, p, n);
	bool first = true;
	while (wire_rd_left(&r)) {
		uint16_t key = wire_rd_u16(&r), len = wire_rd_u16(&r);
		const uint8_t *v = wire_rd_ptr(&r, len);
		if (!v)
			break;
		if (!first)
			tb_c(t, ' ');
		first = false;
		tb_svckey(t, key);
		if (len == 0)
			continue;
		tb_c(t, '=');
		switch (key) {
		case SVC_MANDATORY:
			for (size_t j = 0; j < len; j += 2) {
				if (j)
					tb_c(t, ',');
				tb_svckey(t, wire_get_u16(v + j));
			}
			break;
		case SVC_ALPN:
			for (size_t o = 0; o < len; o += 1u + v[o]) {
				if (o)
					tb_c(t, ',');
				tb_unquoted(t, v + o + 1, v[o], true);
			}
			break;
		case SVC_PORT:
			tb_u(t, wire_get_u16(v));
			break;
		case SVC_IPV4HINT: case SVC_IPV6HINT: {
			size_t sz = key == SVC_IPV4HINT ? 4 : 16;
			for (size_t o = 0; o < len; o += sz) {
				if (o)
					tb_c(t, ',');
				tb_addr(t, sz == 4 ? AF_INET : AF_INET6, v + o);
			}
			break;
		}
		case SVC_ECH:
			tb_b64(t, v, len);
			break;
		default:
			tb_unquoted(t, v, len, false);
			break;
		}
	}
}

static const struct {
	const char *name;
	uint8_t val;
} alg_tab[] = {
	{"RSAMD5", 1}, {"DH", 2}, {"DSA", 3}, {"RSASHA1", 5}, {"DSA-NSEC3-SHA1", 6},
	{"RSASHA1-NSEC3-SHA1", 7}, {"RSASHA256", 8}, {"RSASHA512", 10}, {"ECC-GOST", 12},
	{"ECDSAP256SHA256", 13}, {"ECDSAP384SHA384", 14}, {"ED25519", 15}, {"ED448", 16},
	{"INDIRECT", 252}, {"PRIVATEDNS", 253}, {"PRIVATEOID", 254},
};

static const struct {
	const char *name;
	uint16_t val;
} cert_tab[] = {
	{"PKIX", 1}, {"SPKI", 2}, {"PGP", 3}, {"IPKIX", 4}, {"ISPKI", 5}, {"IPGP", 6},
	{"ACPKIX", 7}, {"IACPKIX", 8}, {"URI", 253}, {"OID", 254},
};

static bool is_rest(uint8_t k)
{
	return k == K_B64 || k == K_HEX || k == K_BITMAP || k == K_SVC || k == K_OPAQUE || k == K_LOC;
}

/* LOC (RFC 1876) size/precision octet: mantissa and power of ten, in cm.
 * Only the canonical encodings (1-9 x 10^0-9, or 0x00) print as text, so
 * that text parses back to the same octet. */
static bool loc_prec_ok(uint8_t b)
{
	return b == 0 || ((b >> 4) >= 1 && (b >> 4) <= 9 && (b & 15) <= 9);
}

static uint64_t loc_prec_cm(uint8_t b)
{
	uint64_t v = b >> 4;
	for (unsigned e = b & 15; e; e--)
		v *= 10;
	return v;
}

static void tb_cm(struct tb *t, uint64_t cm)
{
	tb_u(t, (uint32_t)(cm / 100));
	if (cm % 100) {
		tb_c(t, '.');
		tb_c(t, (char)('0' + cm % 100 / 10));
		tb_c(t, (char)('0' + cm % 10));
	}
	tb_c(t, 'm');
}

static void tb_coord(struct tb *t, uint32_t v, char pos, char neg)
{
	uint32_t a = v >= 0x80000000u ? v - 0x80000000u : 0x80000000u - v;
	tb_u(t, a / 3600000);
	tb_c(t, ' ');
	tb_u(t, a / 60000 % 60);
	tb_c(t, ' ');
	tb_u(t, a / 1000 % 60);
	tb_c(t, '.');
	char *p = tb_reserve(t, 3);
	if (p) {
		p[0] = (char)('0' + a % 1000 / 100);
		p[1] = (char)('0' + a % 100 / 10);
		p[2] = (char)('0' + a % 10);
	}
	tb_c(t, ' ');
	tb_c(t, v >= 0x80000000u ? pos : neg);
}

/* Returns 1 when the LOC cannot be shown in text (caller prints \#). */
static int tb_loc(struct tb *t, const uint8_t *p, size_t n)
{
	if (n != 16 || p[0] != 0 || !loc_prec_ok(p[1]) || !loc_prec_ok(p[2]) || !loc_prec_ok(p[3]))
		return 1;
	uint32_t lat = wire_get_u32(p + 4), lon = wire_get_u32(p + 8), alt = wire_get_u32(p + 12);
	uint32_t dlat = lat >= 0x80000000u ? lat - 0x80000000u : 0x80000000u - lat;
	uint32_t dlon = lon >= 0x80000000u ? lon - 0x80000000u : 0x80000000u - lon;
	if (dlat > 90u * 3600000 || dlon > 180u * 3600000)
		return 1;
	tb_coord(t, lat, 'N', 'S');
	tb_c(t, ' ');
	tb_coord(t, lon, 'E', 'W');
	tb_c(t, ' ');
	if (alt < 10000000u) {
		tb_c(t, '-');
		uint32_t cm = 10000000u - alt;
		tb_u(t, cm / 100);
		tb_c(t, '.');
		tb_c(t, (char)('0' + cm % 100 / 10));
		tb_c(t, (char)('0' + cm % 10));
		tb_c(t, 'm');
	} else {
		uint32_t cm = alt - 10000000u;
		tb_u(t, cm / 100);
		tb_c(t, '.');
		tb_c(t, (char)('0' + cm % 100 / 10));
		tb_c(t, (char)('0' + cm % 10));
		tb_c(t, 'm');
	}
	for (int i = 1; i <= 3; i++) {
		tb_c(t, ' ');
		tb_cm(t, loc_prec_cm(p[i]));
	}
	return 0;
}

static int text_typed(const struct rrdesc *d, const uint8_t *rdata, uint16_t rdlen, struct tb *t)
{
	wire_rd in;
	wire_rd_init(&in, rdata, rdlen);
	unsigned vals[MAXF] = {0};
	for (int i = 0; i < MAXF && d->k[i]; i++) {
		uint8_t k = d->k[i];
		size_t left = wire_rd_left(&in);
		if (is_rest(k) && left == 0)
			break;
		if (i)
			tb_c(t, ' ');
		switch (k) {
		case K_U8:
			tb_u(t, vals[i] = wire_rd_u8(&in));
			break;
		case K_ALG:
			tb_u(t, wire_rd_u8(&in));
			break;
		case K_U16:
			tb_u(t, wire_rd_u16(&in));
			break;
		case K_U32: case K_TTL:
			tb_u(t, wire_rd_u32(&in));
			break;
		case K_TIME:
			tb_time(t, wire_rd_u32(&in));
			break;
		case K_TYPE: {
			char tn[16];
			tb_str(t, rrtype_to_text(wire_rd_u16(&in), tn));
			break;
		}
		case K_CERTTYPE: {
			uint16_t v = wire_rd_u16(&in);
			size_t j = 0;
			while (j < sizeof(cert_tab) / sizeof(cert_tab[0]) && cert_tab[j].val != v)
				j++;
			if (j < sizeof(cert_tab) / sizeof(cert_tab[0]))
				tb_str(t, cert_tab[j].name);
			else
				tb_u(t, v);
			break;
		}
		case K_A: case K_AAAA: {
			const uint8_t *p = wire_rd_ptr(&in, k == K_A ? 4 : 16);
			if (p)
				tb_addr(t, k == K_A ? AF_INET : AF_INET6, p);
			break;
		}
		case K_NAME: {
			const uint8_t *name = in.pos;
			if (name_flat(&in, NULL) < 0)
				return DNS_EFORMAT;
			tb_name(t, name);
			break;
		}
		case K_STR: case K_STRS:
			do {
				if (!wire_rd_left(&in))
					return DNS_EFORMAT;
				uint8_t l = in.pos[0];
				const uint8_t *p = wire_rd_ptr(&in, 1u + l);
				if (!p)
					return DNS_EFORMAT;
				tb_quoted(t, p + 1, l);
				if (k == K_STRS && wire_rd_left(&in))
					tb_c(t, ' ');
			} while (k == K_STRS && wire_rd_left(&in));
			break;
		case K_SALT: case K_B32: case K_CAATAG: {
			uint8_t l = wire_rd_u8(&in);
			const uint8_t *p = wire_rd_ptr(&in, l);
			if (!p)
				return DNS_EFORMAT;
			if (k == K_SALT) {
				if (l)
					tb_hex(t, p, l);
				else
					tb_c(t, '-');
			} else if (k == K_B32) {
				char *o = l ? tb_reserve(t, base_b32hex_enclen(l) + 1) : NULL;
				if (!l)
					return DNS_EFORMAT;
				if (o) {
					base_b32hex_enc(p, l, o);
					t->p--;
				}
			} else {
				if (!caatag_ok(p, l))
					return DNS_EFORMAT;
				tb_mem(t, p, l);
			}
			break;
		}
		case K_B64: case K_HEX: case K_LSTR: case K_BITMAP: case K_SVC: case K_LOC: {
			const uint8_t *p = wire_rd_ptr(&in, left);
			if (k == K_LOC) {
				if (tb_loc(t, p, left))
					return 1;
			} else if (k == K_B64)
				tb_b64(t, p, left);
			else if (k == K_HEX)
				tb_hex(t, p, left);
			else if (k == K_LSTR)
				tb_quoted(t, p, left);
			else if (k == K_BITMAP) {
				if (bitmap_check(p, left))
					return DNS_EFORMAT;
				tb_bitmap(t, p, left);
			} else {
				if (svc_check(p, left))
					return DNS_EFORMAT;
				tb_svc(t, p, left);
			}
			break;
		}
		case K_GW:
			switch (vals[1]) {
			case 0:
				tb_c(t, '.');
				break;
			case 1: case 2: {
				const uint8_t *p = wire_rd_ptr(&in, vals[1] == 1 ? 4 : 16);
				if (p)
					tb_addr(t, vals[1] == 1 ? AF_INET : AF_INET6, p);
				break;
			}
			case 3: {
				const uint8_t *name = in.pos;
				if (name_flat(&in, NULL) < 0)
					return DNS_EFORMAT;
				tb_name(t, name);
				break;
			}
			default:
				return DNS_EFORMAT;
			}
			break;
		default:
			return DNS_EFORMAT;
		}
	}
	if (!wire_rd_ok(&in) || wire_rd_left(&in))
		return DNS_EFORMAT;
	return t->err;
}

static void text_generic(const uint8_t *rdata, uint16_t rdlen, struct tb *t)
{
	tb_str(t, "\\# ");
	tb_u(t, rdlen);
	if (rdlen) {
		tb_c(t, ' ');
		tb_hex(t, rdata, rdlen);
	}
}

static int text_any(uint16_t type, const uint8_t *rdata, uint16_t rdlen, struct tb *t)
{
	const struct rrdesc *d = desc_of(type);
	char *start = t->p;
	if (d && !(d->flags & TF_NOTEXT)) {
		int rc = text_typed(d, rdata, rdlen, t);
		if (rc < 0)
			return rc;
		if (rc == 0 && t->p != start)
			return 0;
		t->p = start; /* empty or not representable: RFC 3597 form */
	}
	text_generic(rdata, rdlen, t);
	return t->err;
}

int rdata_to_text(uint16_t type, const uint8_t *rdata, uint16_t rdlen, char *out, size_t cap)
{
	if (cap == 0)
		return DNS_ESPACE;
	struct tb t = {out, out + cap - 1, 0};
	int rc = text_any(type, rdata, rdlen, &t);
	if (rc) {
		out[0] = 0;
		return rc;
	}
	*t.p = 0;
	return (int)(t.p - out);
}

int rr_to_text(const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
	       const uint8_t *rdata, uint16_t rdlen, char *out, size_t cap)
{
	if (cap == 0)
		return DNS_ESPACE;
	struct tb t = {out, out + cap - 1, 0};
	char buf[16];
	tb_name(&t, owner);
	tb_c(&t, '\t');
	tb_u(&t, ttl);
	tb_c(&t, '\t');
	tb_str(&t, rrclass_to_text(rclass, buf));
	tb_c(&t, '\t');
	tb_str(&t, rrtype_to_text(type, buf));
	tb_c(&t, '\t');
	int rc = t.err ? t.err : text_any(type, rdata, rdlen, &t);
	if (rc) {
		out[0] = 0;
		return rc;
	}
	*t.p = 0;
	return (int)(t.p - out);
}

/* ---- text -> storage ------------------------------------------------- */

struct pctx {
	const rdata_tok *tok;
	size_t ntok, i;
	const uint8_t *origin;
	wire_wr *w;
	char *err;
	int field;
	uint8_t kind;
};

static int perr(struct pctx *c, int code, const char *what, const rdata_tok *t)
{
	if (!c->err)
		return code;
	int n = c->field < 0 ? snprintf(c->err, RDATA_ERRLEN, "RDATA \\# form")
			     : snprintf(c->err, RDATA_ERRLEN, "RDATA field %d", c->field + 1);
	if (n < 0 || n >= RDATA_ERRLEN)
		return code;
	if (c->kind)
		n += snprintf(c->err + n, RDATA_ERRLEN - (size_t)n, " (%s)", kind_name[c->kind]);
	if (n < 0 || n >= RDATA_ERRLEN)
		return code;
	if (t)
		snprintf(c->err + n, RDATA_ERRLEN - (size_t)n, ": %s '%.*s'", what,
			 (int)(t->len > 48 ? 48 : t->len), t->s);
	else
		snprintf(c->err + n, RDATA_ERRLEN - (size_t)n, ": %s", what);
	return code;
}

static int parse_num(const char *s, size_t len, uint32_t max, uint32_t *v)
{
	if (len == 0)
		return DNS_ESYNTAX;
	uint64_t acc = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)(unsigned char)s[i] - '0';
		if (d > 9)
			return DNS_ESYNTAX;
		acc = acc * 10 + d;
		if (acc > max) {
			while (++i < len)
				if ((unsigned)(unsigned char)s[i] - '0' > 9)
					return DNS_ESYNTAX;
			return DNS_ERANGE;
		}
	}
	*v = (uint32_t)acc;
	return 0;
}

/* Plain seconds, or BIND-style units: 1w2d3h4m5s (case-insensitive). */
static int parse_ttl(const char *s, size_t len, uint32_t *v)
{
	int rc = parse_num(s, len, UINT32_MAX, v);
	if (rc != DNS_ESYNTAX || len == 0)
		return rc;
	uint64_t total = 0, cur = 0;
	bool digits = false;
	for (size_t i = 0; i < len; i++) {
		unsigned ch = (unsigned char)s[i];
		if (ch - '0' < 10) {
			cur = cur * 10 + (ch - '0');
			if (cur > UINT32_MAX)
				return DNS_ERANGE;
			digits = true;
			continue;
		}
		uint64_t mul;
		switch (ch | 0x20) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		case 'w': mul = 604800; break;
		default: return DNS_ESYNTAX;
		}
		if (!digits)
			return DNS_ESYNTAX;
		total += cur * mul;
		if (total > UINT32_MAX)
			return DNS_ERANGE;
		cur = 0;
		digits = false;
	}
	total += cur;
	if (total > UINT32_MAX)
		return DNS_ERANGE;
	*v = (uint32_t)total;
	return 0;
}

/* YYYYMMDDHHmmSS (UTC) or a plain integer of seconds. */
static int parse_time(const char *s, size_t len, uint32_t *v)
{
	if (len != 14)
		return parse_num(s, len, UINT32_MAX, v);
	unsigned f[6] = {0};
	static const uint8_t w[6] = {4, 2, 2, 2, 2, 2};
	size_t o = 0;
	for (int i = 0; i < 6; i++)
		for (int j = 0; j < w[i]; j++, o++) {
			unsigned d = (unsigned)(unsigned char)s[o] - '0';
			if (d > 9)
				return DNS_ESYNTAX;
			f[i] = f[i] * 10 + d;
		}
	static const uint8_t mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > mdays[f[1] - 1] || f[3] > 23 || f[4] > 59 ||
	    f[5] > 59)
		return DNS_ERANGE;
	bool leap = (f[0] % 4 == 0 && f[0] % 100 != 0) || f[0] % 400 == 0;
	if (f[1] == 2 && f[2] == 29 && !leap)
		return DNS_ERANGE;
	int64_t secs = days_from_civil(f[0], f[1], f[2]) * 86400 + f[3] * 3600 + f[4] * 60 + f[5];
	if (secs < 0 || secs > (int64_t)UINT32_MAX)
		return DNS_ERANGE;
	*v = (uint32_t)secs;
	return 0;
}

/* Decodes \X and \DDD escapes of s into out (cap bytes). */
static int unescape(const char *s, size_t len, uint8_t *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned c = (unsigned char)s[i];
		if (c == '\\') {
			if (++i >= len)
				return DNS_ESYNTAX;
			c = (unsigned char)s[i];
			if (c - '0' < 10) {
				if (i + 2 >= len || (unsigned)(unsigned char)s[i + 1] - '0' > 9 ||
				    (unsigned)(unsigned char)s[i + 2] - '0' > 9)
					return DNS_ESYNTAX;
				c = (c - '0') * 100 + (unsigned)(s[i + 1] - '0') * 10 + (unsigned)(s[i + 2] - '0');
				if (c > 255)
					return DNS_ERANGE;
				i += 2;
			}
		}
		if (o >= cap)
			return DNS_ESPACE;
		out[o++] = (uint8_t)c;
	}
	return (int)o;
}

static int parse_addr(int af, const char *s, size_t len, uint8_t *out)
{
	char buf[INET6_ADDRSTRLEN + 1];
	if (len == 0 || len >= sizeof(buf))
		return DNS_ESYNTAX;
	memcpy(buf, s, len);
	buf[len] = 0;
	return inet_pton(af, buf, out) == 1 ? 0 : DNS_ESYNTAX;
}

static int parse_alg(const rdata_tok *t, uint32_t *v)
{
	if (t->len && (unsigned)(unsigned char)t->s[0] - '0' < 10)
		return parse_num(t->s, t->len, 255, v);
	for (size_t j = 0; j < sizeof(alg_tab) / sizeof(alg_tab[0]); j++)
		if (strlen(alg_tab[j].name) == t->len && !strncasecmp(alg_tab[j].name, t->s, t->len)) {
			*v = alg_tab[j].val;
			return 0;
		}
	return DNS_ESYNTAX;
}

static int parse_certtype(const rdata_tok *t, uint32_t *v)
{
	if (t->len && (unsigned)(unsigned char)t->s[0] - '0' < 10)
		return parse_num(t->s, t->len, 65535, v);
	for (size_t j = 0; j < sizeof(cert_tab) / sizeof(cert_tab[0]); j++)
		if (strlen(cert_tab[j].name) == t->len && !strncasecmp(cert_tab[j].name, t->s, t->len)) {
			*v = cert_tab[j].val;
			return 0;
		}
	return DNS_ESYNTAX;
}

static const char *num_err(int rc)
{
	return rc == DNS_ERANGE ? "number out of range" : "not a number";
}

/* One character-string token -> length octet + bytes. */
static int put_str(struct pctx *c, const rdata_tok *t)
{
	uint8_t buf[256];
	int n = unescape(t->s, t->len, buf + 1, 255);
	if (n == DNS_ESPACE)
		return perr(c, DNS_ERANGE, "longer than 255 octets", t);
	if (n < 0)
		return perr(c, n, "bad escape in", t);
	buf[0] = (uint8_t)n;
	wire_wr_bytes(c->w, buf, 1u + (size_t)n);
	return 0;
}

/* Feeds every remaining token to a streaming decoder (hex or base64). */
static int put_rest_enc(struct pctx *c, bool b64)
{
	base_dec d;
	base_dec_init(&d);
	for (; c->i < c->ntok; c->i++) {
		const rdata_tok *t = &c->tok[c->i];
		wire_wr *w = c->w;
		if (w->err)
			return w->err;
		int n = b64 ? base_b64_feed(&d, t->s, t->len, w->pos, wire_wr_left(w))
			    : base_hex_feed(&d, t->s, t->len, w->pos, wire_wr_left(w));
		if (n == DNS_ESPACE) {
			wire_wr_fail(w, DNS_ESPACE);
			return DNS_ESPACE;
		}
		if (n < 0)
			return perr(c, n, b64 ? "bad base64" : "bad hex", t);
		w->pos += n;
	}
	if (b64 ? base_b64_finish(&d) : base_hex_finish(&d))
		return perr(c, DNS_ESYNTAX, b64 ? "truncated base64" : "odd number of hex digits", NULL);
	return 0;
}

static int put_bitmap(struct pctx *c)
{
	uint8_t used[256];
	uint8_t bits[256][32];
	memset(used, 0, sizeof(used));
	for (; c->i < c->ntok; c->i++) {
		const rdata_tok *t = &c->tok[c->i];
		int ty = rrtype_from_text(t->s, t->len);
		if (ty < 0)
			return perr(c, DNS_ESYNTAX, "unknown type", t);
		unsigned win = (unsigned)ty >> 8, b = (unsigned)ty & 255;
		if (!used[win]) {
			memset(bits[win], 0, 32);
			used[win] = 1;
		}
		bits[win][b >> 3] |= (uint8_t)(0x80 >> (b & 7));
	}
	for (unsigned win = 0; win < 256; win++) {
		if (!used[win])
			continue;
		unsigned len = 32;
		while (len > 1 && !bits[win][len - 1])
			len--;
		wire_wr_u8(c->w, (uint8_t)win);
		wire_wr_u8(c->w, (uint8_t)len);
		wire_wr_bytes(c->w, bits[win], len);
	}
	return 0;
}

/* ---- SvcParams text --------------------------------------------------- */

static _Thread_local uint8_t svc_scratch[65536];

static int svc_key_from_text(const char *s, size_t len)
{
	for (size_t j = 0; j < sizeof(svc_names) / sizeof(svc_names[0]); j++)
		if (strlen(svc_names[j]) == len && !strncasecmp(svc_names[j], s, len))
			return (int)j;
	uint32_t v;
	if (len > 3 && len <= 8 && !strncasecmp(s, "key", 3) && parse_num(s + 3, len - 3, 65535, &v) == 0)
		return (int)v;
	return DNS_ESYNTAX;
}

/* Splits v on unescaped commas (RFC 9460 A.1 value-list); each item is
 * unescaped into item. Returns the item length or -1 at the end. */
static int svc_next_item(const uint8_t *v, size_t len, size_t *pos, uint8_t *item, size_t cap)
{
	if (*pos > len)
		return -1;
	size_t o = 0, i = *pos;
	for (; i < len && v[i] != ','; i++) {
		uint8_t ch = v[i];
		if (ch == '\\' && i + 1 < len)
			ch = v[++i];
		if (o >= cap)
			return DNS_ERANGE;
		item[o++] = ch;
	}
	*pos = i + 1;
	return (int)o;
}

static int cmp_u16be(const void *a, const void *b)
{
	return (int)wire_get_u16(a) - (int)wire_get_u16(b);
}

struct svc_ent {
	uint16_t key;
	uint32_t off, len;
};

static int cmp_svc_ent(const void *a, const void *b)
{
	const struct svc_ent *x = a, *y = b;
	return (int)x->key - (int)y->key;
}

/* Sorts the params written at region[0..n) by key (rare: text out of order). */
static int svc_sort(uint8_t *region, size_t n)
{
	size_t cnt = 0;
	for (size_t o = 0; o + 4 <= n; o += 4u + wire_get_u16(region + o + 2))
		cnt++;
	struct svc_ent *e = malloc(cnt * sizeof(*e) + n);
	if (!e)
		return DNS_ENOMEM;
	uint8_t *copy = (uint8_t *)(e + cnt);
	memcpy(copy, region, n);
	size_t j = 0;
	for (size_t o = 0; o + 4 <= n; o += 4u + wire_get_u16(region + o + 2), j++) {
		e[j].key = wire_get_u16(region + o);
		e[j].off = (uint32_t)o;
		e[j].len = 4u + wire_get_u16(region + o + 2);
	}
	qsort(e, cnt, sizeof(*e), cmp_svc_ent);
	size_t o = 0;
	for (j = 0; j < cnt; j++) {
		memcpy(region + o, copy + e[j].off, e[j].len);
		o += e[j].len;
	}
	free(e);
	return 0;
}

static int svc_value(struct pctx *c, int key, const uint8_t *v, size_t vlen, const rdata_tok *t)
{
	wire_wr *w = c->w;
	size_t pos = 0;
	uint8_t item[256];
	int n;
	switch (key) {
	case SVC_MANDATORY: {
		uint8_t *start = w->pos;
		while ((n = svc_next_item(v, vlen, &pos, item, 64)) >= 0) {
			int k = svc_key_from_text((const char *)item, (size_t)n);
			if (k < 0)
				return perr(c, DNS_ESYNTAX, "bad mandatory key in", t);
			wire_wr_u16(w, (uint16_t)k);
		}
		if (n == DNS_ERANGE)
			return perr(c, DNS_ESYNTAX, "bad mandatory key in", t);
		if (!w->err)
			qsort(start, (size_t)(w->pos - start) / 2, 2, cmp_u16be);
		return 0;
	}
	case SVC_ALPN:
		while ((n = svc_next_item(v, vlen, &pos, item, 255)) >= 0) {
			if (n == 0)
				return perr(c, DNS_ESYNTAX, "empty alpn id in", t);
			wire_wr_u8(w, (uint8_t)n);
			wire_wr_bytes(w, item, (size_t)n);
		}
		if (n == DNS_ERANGE)
			return perr(c, DNS_ERANGE, "alpn id longer than 255 in", t);
		return 0;
	case SVC_PORT: {
		uint32_t port;
		int rc = parse_num((const char *)v, vlen, 65535, &port);
		if (rc)
			return perr(c, rc, "bad port in", t);
		wire_wr_u16(w, (uint16_t)port);
		return 0;
	}
	case SVC_IPV4HINT: case SVC_IPV6HINT: {
		int af = key == SVC_IPV4HINT ? AF_INET : AF_INET6;
		while ((n = svc_next_item(v, vlen, &pos, item, 64)) >= 0) {
			uint8_t a[16];
			if (parse_addr(af, (const char *)item, (size_t)n, a))
				return perr(c, DNS_ESYNTAX, "bad address in", t);
			wire_wr_bytes(w, a, af == AF_INET ? 4 : 16);
		}
		if (n == DNS_ERANGE)
			return perr(c, DNS_ESYNTAX, "bad address in", t);
		return 0;
	}
	case SVC_ECH: {
		n = base_b64_dec((const char *)v, vlen, w->pos, wire_wr_left(w));
		if (n == DNS_ESPACE) {
			wire_wr_fail(w, DNS_ESPACE);
			return DNS_ESPACE;
		}
		if (n < 0)
			return perr(c, DNS_ESYNTAX, "bad base64 in", t);
		w->pos += n;
		return 0;
	}
	default:
		wire_wr_bytes(w, v, vlen);
		return 0;
	}
}

static int put_svc(struct pctx *c)
{
	wire_wr *w = c->w;
	uint8_t *region = w->pos;
	long prev = -1;
	bool sorted = true;
	for (; c->i < c->ntok; c->i++) {
		const rdata_tok *t = &c->tok[c->i];
		const char *eq = memchr(t->s, '=', t->len);
		size_t klen = eq ? (size_t)(eq - t->s) : t->len;
		int key = svc_key_from_text(t->s, klen);
		if (key < 0)
			return perr(c, DNS_ESYNTAX, "unknown SvcParamKey in", t);
		const char *v = "";
		size_t vlen = 0;
		if (eq) {
			v = eq + 1;
			vlen = (size_t)(t->s + t->len - v);
			if (vlen == 0 && c->i + 1 < c->ntok && c->tok[c->i + 1].quoted) {
				c->i++; /* key= "quoted value" split by the tokenizer */
				v = c->tok[c->i].s;
				vlen = c->tok[c->i].len;
			} else if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
				v++;
				vlen -= 2;
			}
		}
		int n = unescape(v, vlen, svc_scratch, sizeof(svc_scratch));
		if (n < 0)
			return perr(c, n == DNS_ESPACE ? DNS_ERANGE : n, "bad value in", t);
		wire_wr_u16(w, (uint16_t)key);
		uint8_t *lenp = w->pos;
		wire_wr_u16(w, 0);
		int rc = svc_value(c, key, svc_scratch, (size_t)n, t);
		if (rc)
			return rc;
		if (w->err)
			return w->err;
		size_t l = (size_t)(w->pos - lenp - 2);
		if (l > 65535)
			return perr(c, DNS_ERANGE, "value too long in", t);
		wire_put_u16(lenp, (uint16_t)l);
		if (key <= prev)
			sorted = false;
		prev = key;
	}
	size_t n = (size_t)(w->pos - region);
	if (n > 65535)
		return perr(c, DNS_ERANGE, "too long", NULL);
	if (!sorted) {
		int rc = svc_sort(region, n);
		if (rc)
			return rc;
	}
	if (svc_check(region, n))
		return perr(c, DNS_ESYNTAX,
			    "invalid (duplicate key, empty or malformed value, or mandatory key missing)", NULL);
	return 0;
}

/* ---- LOC text ------------------------------------------------------------- */

/* Unsigned decimal with up to `frac` fraction digits, scaled by 10^frac,
 * optionally followed by 'm' (metres). */
static int parse_fixed(const char *s, size_t len, unsigned frac, bool unit, uint64_t max, uint64_t *v)
{
	if (unit && len && (s[len - 1] == 'm' || s[len - 1] == 'M'))
		len--;
	uint64_t acc = 0;
	size_t i = 0, nd = 0;
	for (; i < len && s[i] != '.'; i++, nd++) {
		unsigned d = (unsigned)(unsigned char)s[i] - '0';
		if (d > 9)
			return DNS_ESYNTAX;
		acc = acc * 10 + d;
		if (acc > max)
			return DNS_ERANGE;
	}
	if (nd == 0)
		return DNS_ESYNTAX;
	unsigned got = 0;
	if (i < len) { /* '.' */
		i++;
		if (i == len)
			return DNS_ESYNTAX;
		for (; i < len; i++, got++) {
			unsigned d = (unsigned)(unsigned char)s[i] - '0';
			if (d > 9 || got >= frac)
				return DNS_ESYNTAX;
			acc = acc * 10 + d;
		}
	}
	for (; got < frac; got++)
		acc *= 10;
	if (acc > max * (frac ? (frac == 2 ? 100 : 1000) : 1) + (frac ? 999 : 0))
		return DNS_ERANGE;
	*v = acc;
	return 0;
}

static bool tok_letter(const rdata_tok *t, char a, char b)
{
	return t->len == 1 && ((t->s[0] | 0x20) == (a | 0x20) || (t->s[0] | 0x20) == (b | 0x20));
}

/* deg [min [sec]] hemisphere -> RFC 1876 2^31-centred milliseconds of arc. */
static int loc_coord(struct pctx *c, unsigned maxdeg, char pos, char neg, uint32_t *out)
{
	uint64_t f[3] = {0, 0, 0};
	int nf = 0;
	while (c->i < c->ntok && !tok_letter(&c->tok[c->i], pos, neg)) {
		const rdata_tok *t = &c->tok[c->i++];
		if (nf == 3)
			return perr(c, DNS_ESYNTAX, "expected hemisphere, got", t);
		int rc = nf < 2 ? parse_fixed(t->s, t->len, 0, false, nf ? 59 : maxdeg, &f[nf])
				: parse_fixed(t->s, t->len, 3, false, 59, &f[nf]);
		if (rc || (nf == 2 && f[2] > 59999))
			return perr(c, rc ? rc : DNS_ERANGE, "bad degrees/minutes/seconds", t);
		nf++;
	}
	if (c->i >= c->ntok || nf == 0)
		return perr(c, DNS_ESYNTAX, "incomplete coordinate", NULL);
	bool positive = (c->tok[c->i++].s[0] | 0x20) == (pos | 0x20);
	uint64_t ms = (f[0] * 60 + f[1]) * 60000 + f[2];
	if (ms > (uint64_t)maxdeg * 3600000)
		return perr(c, DNS_ERANGE, "coordinate out of range", NULL);
	*out = positive ? 0x80000000u + (uint32_t)ms : 0x80000000u - (uint32_t)ms;
	return 0;
}

static int put_loc(struct pctx *c)
{
	uint32_t lat, lon;
	int rc;
	if ((rc = loc_coord(c, 90, 'N', 'S', &lat)) || (rc = loc_coord(c, 180, 'E', 'W', &lon)))
		return rc;
	if (c->i >= c->ntok)
		return perr(c, DNS_ESYNTAX, "missing altitude", NULL);
	const rdata_tok *t = &c->tok[c->i++];
	bool neg = t->len && t->s[0] == '-';
	uint64_t cm;
	rc = parse_fixed(t->s + neg, t->len - neg, 2, true, neg ? 100000 : 42849672, &cm);
	if (rc || (neg && cm > 10000000) || (!neg && cm > 4284967295u))
		return perr(c, rc ? rc : DNS_ERANGE, "bad altitude", t);
	uint32_t alt = neg ? 10000000u - (uint32_t)cm : 10000000u + (uint32_t)cm;
	uint8_t prec[3] = {0x12, 0x16, 0x13}; /* 1m, 10000m, 10m */
	for (int i = 0; i < 3 && c->i < c->ntok; i++) {
		t = &c->tok[c->i++];
		if ((rc = parse_fixed(t->s, t->len, 2, true, 90000000, &cm)))
			return perr(c, rc, "bad size/precision", t);
		unsigned e = 0;
		while (cm > 9) {
			cm /= 10;
			e++;
		}
		prec[i] = cm ? (uint8_t)(cm << 4 | e) : 0;
	}
	wire_wr_u8(c->w, 0);
	wire_wr_bytes(c->w, prec, 3);
	wire_wr_u32(c->w, lat);
	wire_wr_u32(c->w, lon);
	wire_wr_u32(c->w, alt);
	return 0;
}

/* ---- typed text parse -------------------------------------------------- */

static int parse_typed(const struct rrdesc *d, struct pctx *c)
{
	wire_wr *w = c->w;
	uint32_t vals[MAXF] = {0};
	for (int f = 0; f < MAXF && d->k[f]; f++) {
		uint8_t k = d->k[f];
		c->field = f;
		c->kind = k;
		if (is_rest(k)) {
			int rc;
			if (k == K_B64 || k == K_HEX)
				rc = put_rest_enc(c, k == K_B64);
			else if (k == K_BITMAP)
				rc = put_bitmap(c);
			else if (k == K_SVC)
				rc = put_svc(c);
			else if (k == K_LOC)
				rc = put_loc(c);
			else
				rc = perr(c, DNS_ESYNTAX, "only the \\# form is supported", NULL);
			if (rc)
				return rc;
			continue;
		}
		if (c->i >= c->ntok)
			return perr(c, DNS_ESYNTAX, "missing", NULL);
		const rdata_tok *t = &c->tok[c->i++];
		uint32_t v = 0;
		int rc = 0;
		switch (k) {
		case K_U8: case K_U16: case K_U32: {
			uint32_t max = k == K_U8 ? 255 : k == K_U16 ? 65535 : UINT32_MAX;
			if ((rc = parse_num(t->s, t->len, max, &v)))
				return perr(c, rc, num_err(rc), t);
			vals[f] = v;
			if (k == K_U8)
				wire_wr_u8(w, (uint8_t)v);
			else if (k == K_U16)
				wire_wr_u16(w, (uint16_t)v);
			else
				wire_wr_u32(w, v);
			break;
		}
		case K_TTL:
			if ((rc = parse_ttl(t->s, t->len, &v)))
				return perr(c, rc, num_err(rc), t);
			wire_wr_u32(w, v);
			break;
		case K_TIME:
			if ((rc = parse_time(t->s, t->len, &v)))
				return perr(c, rc, rc == DNS_ERANGE ? "out of range" : "bad timestamp", t);
			wire_wr_u32(w, v);
			break;
		case K_TYPE:
			if ((rc = rrtype_from_text(t->s, t->len)) < 0)
				return perr(c, DNS_ESYNTAX, "unknown type", t);
			wire_wr_u16(w, (uint16_t)rc);
			break;
		case K_ALG:
			if ((rc = parse_alg(t, &v)))
				return perr(c, rc, rc == DNS_ERANGE ? "number out of range" : "unknown algorithm", t);
			wire_wr_u8(w, (uint8_t)v);
			break;
		case K_CERTTYPE:
			if ((rc = parse_certtype(t, &v)))
				return perr(c, rc, rc == DNS_ERANGE ? "number out of range" : "unknown certificate type", t);
			wire_wr_u16(w, (uint16_t)v);
			break;
		case K_A: case K_AAAA: {
			uint8_t a[16];
			if (parse_addr(k == K_A ? AF_INET : AF_INET6, t->s, t->len, a))
				return perr(c, DNS_ESYNTAX, "bad address", t);
			wire_wr_bytes(w, a, k == K_A ? 4 : 16);
			break;
		}
		case K_NAME: {
			uint8_t nb[NAME_MAXLEN];
			int n = name_from_text(t->s, t->len, c->origin, nb);
			if (n < 0)
				return perr(c, n, dns_strerror(n), t);
			wire_wr_bytes(w, nb, (size_t)n);
			break;
		}
		case K_STR:
			if ((rc = put_str(c, t)))
				return rc;
			break;
		case K_STRS:
			for (;;) {
				if ((rc = put_str(c, t)))
					return rc;
				if (c->i >= c->ntok)
					break;
				t = &c->tok[c->i++];
			}
			break;
		case K_SALT: case K_B32: {
			uint8_t buf[255];
			int n;
			if (k == K_SALT && t->len == 1 && t->s[0] == '-' && !t->quoted)
				n = 0;
			else if (k == K_SALT)
				n = base_hex_dec(t->s, t->len, buf, sizeof(buf));
			else
				n = base_b32hex_dec(t->s, t->len, buf, sizeof(buf));
			if (n == DNS_ESPACE)
				return perr(c, DNS_ERANGE, "longer than 255 octets", t);
			if (n < 0 || (k == K_B32 && n == 0))
				return perr(c, DNS_ESYNTAX, k == K_SALT ? "bad hex" : "bad base32hex", t);
			wire_wr_u8(w, (uint8_t)n);
			wire_wr_bytes(w, buf, (size_t)n);
			break;
		}
		case K_CAATAG:
			if (t->len > 255 || !caatag_ok((const uint8_t *)t->s, t->len))
				return perr(c, DNS_ESYNTAX, "tag must be 1-255 letters and digits", t);
			wire_wr_u8(w, (uint8_t)t->len);
			wire_wr_bytes(w, t->s, t->len);
			break;
		case K_LSTR: {
			if (w->err)
				return w->err;
			int n = unescape(t->s, t->len, w->pos, wire_wr_left(w));
			if (n == DNS_ESPACE) {
				wire_wr_fail(w, DNS_ESPACE);
				return DNS_ESPACE;
			}
			if (n < 0)
				return perr(c, n, "bad escape in", t);
			w->pos += n;
			break;
		}
		case K_GW:
			switch (vals[1]) {
			case 0:
				if (t->len != 1 || t->s[0] != '.')
					return perr(c, DNS_ESYNTAX, "gateway type 0 needs '.', not", t);
				break;
			case 1: case 2: {
				uint8_t a[16];
				if (parse_addr(vals[1] == 1 ? AF_INET : AF_INET6, t->s, t->len, a))
					return perr(c, DNS_ESYNTAX, "bad address", t);
				wire_wr_bytes(w, a, vals[1] == 1 ? 4 : 16);
				break;
			}
			case 3: {
				uint8_t nb[NAME_MAXLEN];
				int n = name_from_text(t->s, t->len, c->origin, nb);
				if (n < 0)
					return perr(c, n, dns_strerror(n), t);
				wire_wr_bytes(w, nb, (size_t)n);
				break;
			}
			default:
				return perr(c, DNS_ESYNTAX, "unknown gateway type", NULL);
			}
			break;
		}
	}
	if (c->i < c->ntok) {
		c->field++;
		c->kind = 0;
		return perr(c, DNS_ESYNTAX, "trailing data", &c->tok[c->i]);
	}
	return w->err;
}

/* RFC 3597: \# <len> <hex>...; validated against the type's structure. */
static int parse_generic(uint16_t type, const struct rrdesc *d, struct pctx *c)
{
	wire_wr *w = c->w;
	c->field = -1;
	c->kind = 0;
	uint32_t len;
	if (c->ntok < 2)
		return perr(c, DNS_ESYNTAX, "\\# needs a length", NULL);
	int rc = parse_num(c->tok[1].s, c->tok[1].len, 65535, &len);
	if (rc)
		return perr(c, rc, "bad \\# length", &c->tok[1]);
	if (w->err)
		return w->err;
	if (wire_wr_left(w) < len) {
		wire_wr_fail(w, DNS_ESPACE);
		return DNS_ESPACE;
	}
	uint8_t *start = w->pos;
	base_dec dec;
	base_dec_init(&dec);
	size_t got = 0;
	for (c->i = 2; c->i < c->ntok; c->i++) {
		const rdata_tok *t = &c->tok[c->i];
		int n = base_hex_feed(&dec, t->s, t->len, start + got, len - got);
		if (n == DNS_ESPACE)
			return perr(c, DNS_ESYNTAX, "more data than the \\# length", NULL);
		if (n < 0)
			return perr(c, n, "bad hex", t);
		got += (size_t)n;
	}
	if (base_hex_finish(&dec))
		return perr(c, DNS_ESYNTAX, "odd number of hex digits", NULL);
	if (got != len)
		return perr(c, DNS_ESYNTAX, "less data than the \\# length", NULL);
	if (d) {
		wire_rd r;
		wire_rd_init(&r, start, len);
		rc = unpack_typed(d, &r, NULL, false);
		if (rc) {
			char tn[16];
			if (c->err)
				snprintf(c->err, RDATA_ERRLEN, "\\# data is not valid %s RDATA (%s)",
					 rrtype_to_text(type, tn), dns_strerror(rc));
			return rc;
		}
	}
	w->pos += len;
	return 0;
}

int rdata_from_text(uint16_t type, const rdata_tok *tok, size_t ntok,
		    const uint8_t *origin, wire_wr *out, char *err)
{
	if (out->err)
		return out->err;
	struct pctx c = {tok, ntok, 0, origin, out, err, 0, 0};
	uint8_t *start = out->pos;
	const struct rrdesc *d = desc_of(type);
	int rc;
	if (ntok >= 1 && !tok[0].quoted && tok[0].len == 2 && tok[0].s[0] == '\\' && tok[0].s[1] == '#') {
		rc = parse_generic(type, d, &c);
	} else if (!d || (d->flags & TF_NOTEXT)) {
		char tn[16];
		if (err)
			snprintf(err, RDATA_ERRLEN, "%s RDATA must use the \\# form", rrtype_to_text(type, tn));
		rc = DNS_ESYNTAX;
	} else {
		rc = parse_typed(d, &c);
		if (!rc && out->pos - start > 65535) {
			if (err)
				snprintf(err, RDATA_ERRLEN, "RDATA longer than 65535 octets");
			rc = DNS_ERANGE;
		}
	}
	if (!rc && out->err)
		rc = out->err;
	if (rc) {
		if (rc == DNS_ESPACE && err)
			snprintf(err, RDATA_ERRLEN, "RDATA does not fit the output buffer");
		out->pos = start;
		return rc;
	}
	return (int)(out->pos - start);
}
