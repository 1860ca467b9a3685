/* name — domain name wire/text handling (see name.h for the invariants). */
#include "dns/name.h"

#include <stdio.h>

static const uint8_t lower_tab[256] = {
#define L(c) (uint8_t)((c) >= 'A' && (c) <= 'Z' ? (c) + 32 : (c))
#define R4(b) L(b), L(b + 1), L(b + 2), L(b + 3)
#define R16(b) R4(b), R4(b + 4), R4(b + 8), R4(b + 12)
#define R64(b) R16(b), R16(b + 16), R16(b + 32), R16(b + 48)
	R64(0), R64(64), R64(128), R64(192)
#undef R64
#undef R16
#undef R4
#undef L
};

static inline uint8_t lc(uint8_t c) { return lower_tab[c]; }

int name_unpack(wire_rd *r, uint8_t *out)
{
	if (r->err)
		return r->err;
	const uint8_t *p = r->pos;
	const uint8_t *resume = NULL;  /* where the cursor continues after a pointer */
	const uint8_t *limit = r->pos; /* pointers must target strictly before this */
	size_t len = 0;
	int hops = 0;
	for (;;) {
		if (p >= r->end) {
			wire_rd_fail(r, DNS_ETRUNC);
			return r->err;
		}
		uint8_t c = *p;
		if ((c & 0xc0) == 0xc0) {
			if (p + 1 >= r->end) {
				wire_rd_fail(r, DNS_ETRUNC);
				return r->err;
			}
			size_t off = (size_t)(c & 0x3f) << 8 | p[1];
			if (!resume)
				resume = p + 2;
			if (++hops > NAME_MAXHOPS || r->msg + off >= limit || off < NAME_MINPTR) {
				wire_rd_fail(r, DNS_EPTR);
				return r->err;
			}
			p = limit = r->msg + off;
			continue;
		}
		if (c & 0xc0) { /* 0x40 extended, 0x80 reserved */
			wire_rd_fail(r, DNS_ELABEL);
			return r->err;
		}
		if (len + 1 + c > NAME_MAXLEN) {
			wire_rd_fail(r, DNS_ENAMELEN);
			return r->err;
		}
		if (p + 1 + c > r->end) {
			wire_rd_fail(r, DNS_ETRUNC);
			return r->err;
		}
		if (out)
			memcpy(out + len, p, 1u + c);
		len += 1u + c;
		p += 1u + c;
		if (c == 0)
			break;
	}
	r->pos = resume ? resume : p;
	return (int)len;
}

size_t name_len(const uint8_t *name)
{
	const uint8_t *p = name;
	while (*p)
		p += 1 + *p;
	return (size_t)(p - name) + 1;
}

int name_labels(const uint8_t *name)
{
	int n = 0;
	for (const uint8_t *p = name; *p; p += 1 + *p)
		n++;
	return n;
}

bool name_eq(const uint8_t *a, const uint8_t *b)
{
	for (;;) {
		if (*a != *b)
			return false;
		uint8_t n = *a;
		if (n == 0)
			return true;
		for (uint8_t i = 1; i <= n; i++)
			if (lc(a[i]) != lc(b[i]))
				return false;
		a += 1 + n;
		b += 1 + n;
	}
}

bool name_is_sub(const uint8_t *name, const uint8_t *parent)
{
	int d = name_labels(name) - name_labels(parent);
	if (d < 0)
		return false;
	while (d-- > 0)
		name = name_parent(name);
	return name_eq(name, parent);
}

static int label_offsets(const uint8_t *name, const uint8_t **lab)
{
	int n = 0;
	for (const uint8_t *p = name; *p; p += 1 + *p)
		lab[n++] = p;
	return n;
}

int name_cmp(const uint8_t *a, const uint8_t *b)
{
	const uint8_t *la[NAME_MAXLABELS + 1], *lb[NAME_MAXLABELS + 1];
	int na = label_offsets(a, la), nb = label_offsets(b, lb);
	while (na > 0 && nb > 0) {
		const uint8_t *x = la[--na], *y = lb[--nb];
		uint8_t lx = x[0], ly = y[0], m = lx < ly ? lx : ly;
		for (uint8_t i = 1; i <= m; i++) {
			int d = (int)lc(x[i]) - (int)lc(y[i]);
			if (d)
				return d;
		}
		if (lx != ly)
			return (int)lx - (int)ly;
	}
	return na - nb;
}

void name_lower(uint8_t *name)
{
	for (uint8_t *p = name; *p; p += 1 + *p)
		for (uint8_t i = 1; i <= *p; i++)
			p[i] = lc(p[i]);
}

size_t name_copy(uint8_t *out, const uint8_t *name)
{
	size_t n = name_len(name);
	memcpy(out, name, n);
	return n;
}

/* ASCII lowercase of 8 octets at once: sets 0x20 in every byte 'A'..'Z'. */
static inline uint64_t lower8(uint64_t x)
{
	uint64_t h = x & 0x7f7f7f7f7f7f7f7full;
	uint64_t ge_a = h + 0x3f3f3f3f3f3f3f3full; /* bit 7 set when >= 'A' */
	uint64_t gt_z = h + 0x2525252525252525ull; /* bit 7 set when > 'Z' */
	uint64_t up = ge_a & ~gt_z & ~x & 0x8080808080808080ull;
	return x | up >> 2;
}

uint64_t name_hash(const uint8_t *name, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
	while (len >= 8) {
		uint64_t x;
		memcpy(&x, name, 8);
		h = (h ^ lower8(x)) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
		name += 8;
		len -= 8;
	}
	if (len) {
		uint64_t x = 0;
		memcpy(&x, name, len);
		h = (h ^ lower8(x)) * 0xff51afd7ed558ccdull;
	}
	h ^= h >> 29;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 32;
	return h;
}

int name_join(uint8_t *out, const uint8_t *prefix, int nlabels, const uint8_t *suffix)
{
	const uint8_t *p = prefix;
	for (int i = 0; i < nlabels && *p; i++)
		p += 1 + *p;
	size_t plen = (size_t)(p - prefix), slen = name_len(suffix);
	if (plen + slen > NAME_MAXLEN)
		return DNS_ENAMELEN;
	memmove(out + plen, suffix, slen);
	memmove(out, prefix, plen);
	return (int)(plen + slen);
}

static int digit(char c) { return c >= '0' && c <= '9' ? c - '0' : -1; }

int name_from_text(const char *s, size_t len, const uint8_t *origin, uint8_t *out)
{
	if (len == 1 && s[0] == '@') {
		if (!origin)
			return DNS_ESYNTAX;
		return (int)name_copy(out, origin);
	}
	if (len == 1 && s[0] == '.') {
		out[0] = 0;
		return 1;
	}
	if (len == 0)
		return DNS_ESYNTAX;
	size_t o = 0;   /* output position of the current label's length byte */
	size_t lab = 0; /* current label length */
	bool absolute = false;
	for (size_t i = 0; i < len; i++) {
		unsigned c = (unsigned char)s[i];
		if (c == '.') {
			if (lab == 0)
				return DNS_ESYNTAX; /* empty label */
			out[o] = (uint8_t)lab;
			o += 1 + lab;
			lab = 0;
			if (i + 1 == len)
				absolute = true;
			continue;
		}
		if (c == '\\') {
			if (i + 1 >= len)
				return DNS_ESYNTAX;
			if (digit(s[i + 1]) >= 0) {
				if (i + 3 >= len || digit(s[i + 2]) < 0 || digit(s[i + 3]) < 0)
					return DNS_ESYNTAX;
				c = (unsigned)(digit(s[i + 1]) * 100 + digit(s[i + 2]) * 10 + digit(s[i + 3]));
				if (c > 255)
					return DNS_ERANGE;
				i += 3;
			} else {
				c = (unsigned char)s[++i];
			}
		}
		if (lab >= NAME_MAXLABEL)
			return DNS_ELABEL;
		if (o + 1 + lab >= NAME_MAXLEN)
			return DNS_ENAMELEN;
		out[o + 1 + lab] = (uint8_t)c;
		lab++;
	}
	if (lab) { /* unterminated last label: relative name */
		out[o] = (uint8_t)lab;
		o += 1 + lab;
	}
	if (absolute) {
		if (o + 1 > NAME_MAXLEN)
			return DNS_ENAMELEN;
		out[o] = 0;
		return (int)o + 1;
	}
	if (!origin)
		return DNS_ESYNTAX;
	size_t olen = name_len(origin);
	if (o + olen > NAME_MAXLEN)
		return DNS_ENAMELEN;
	memcpy(out + o, origin, olen);
	return (int)(o + olen);
}

int name_to_text(const uint8_t *name, char *out, size_t cap)
{
	size_t o = 0;
	if (cap < 2)
		return DNS_ESPACE;
	if (!*name) {
		out[0] = '.';
		out[1] = 0;
		return 1;
	}
	for (const uint8_t *p = name; *p; p += 1 + *p) {
		for (uint8_t i = 1; i <= *p; i++) {
			uint8_t c = p[i];
			if (o + 5 >= cap)
				return DNS_ESPACE;
			if (c <= 0x20 || c >= 0x7f) {
				o += (size_t)snprintf(out + o, cap - o, "\\%03u", c);
			} else {
				if (c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' ||
				    c == ';' || c == '@' || c == '$')
					out[o++] = '\\';
				out[o++] = (char)c;
			}
		}
		if (o + 2 >= cap)
			return DNS_ESPACE;
		out[o++] = '.';
	}
	out[o] = 0;
	return (int)o;
}

/* Compares the uncompressed suffix `s` with the (possibly compressed) name
 * at message offset off. Both have the same number of labels. */
static bool suffix_matches(const uint8_t *msg, size_t off, const uint8_t *s)
{
	const uint8_t *p = msg + off;
	for (int hops = 0; hops < NAME_MAXHOPS;) {
		if ((*p & 0xc0) == 0xc0) {
			p = msg + ((size_t)(p[0] & 0x3f) << 8 | p[1]);
			hops++;
			continue;
		}
		if (*p != *s)
			return false;
		if (*s == 0)
			return true;
		for (uint8_t i = 1; i <= *s; i++)
			if (lc(p[i]) != lc(s[i]))
				return false;
		p += 1 + *p;
		s += 1 + *s;
	}
	return false;
}

void name_ctab_add(name_ctab *ct, const uint8_t *msg, size_t off)
{
	const uint8_t *p = msg + off;
	int labels = 0;
	for (const uint8_t *q = p; *q && (*q & 0xc0) == 0; q += 1 + *q)
		labels++;
	for (; *p && (*p & 0xc0) == 0 && ct->n < NAME_CTAB_MAX && off < 0x4000; labels--) {
		ct->e[ct->n].off = (uint16_t)off;
		ct->e[ct->n].labels = (uint8_t)labels;
		ct->n++;
		off += 1u + *p;
		p += 1 + *p;
	}
}

int name_pack(wire_wr *w, const uint8_t *name, name_ctab *ct)
{
	if (w->err)
		return w->err;
	if (!ct) {
		wire_wr_bytes(w, name, name_len(name));
		return w->err;
	}
	int labels = name_labels(name);
	const uint8_t *s = name;
	/* Find the longest suffix already in the message. */
	int ptr = -1;
	const uint8_t *cut = name;
	for (int l = labels; l > 0; l--, s += 1 + *s) {
		for (unsigned i = 0; i < ct->n; i++) {
			if (ct->e[i].labels == l && suffix_matches(w->msg, ct->e[i].off, s)) {
				ptr = ct->e[i].off;
				break;
			}
		}
		if (ptr >= 0)
			break;
	}
	cut = s; /* labels before `cut` are written out */
	size_t start = wire_wr_off(w);
	size_t plen = (size_t)(cut - name);
	wire_wr_bytes(w, name, plen);
	if (ptr >= 0)
		wire_wr_u16(w, (uint16_t)(0xc000 | ptr));
	else
		wire_wr_u8(w, 0);
	if (w->err)
		return w->err;
	/* Remember the labels just written. */
	int l = labels;
	for (const uint8_t *p = name; p < cut && ct->n < NAME_CTAB_MAX; p += 1 + *p, l--) {
		size_t off = start + (size_t)(p - name);
		if (off >= 0x4000)
			break;
		ct->e[ct->n].off = (uint16_t)off;
		ct->e[ct->n].labels = (uint8_t)l;
		ct->n++;
	}
	return 0;
}
