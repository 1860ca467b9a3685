/* base — hex, base64 and base32hex encoders/decoders (see base.h). */
#include "dns/base.h"

#include "dns/err.h"

static const char hexdig[] = "0123456789ABCDEF";
static const char b64dig[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b32dig[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";

static inline int hexval(unsigned c)
{
	if (c - '0' < 10)
		return (int)(c - '0');
	c |= 0x20;
	if (c - 'a' < 6)
		return (int)(c - 'a' + 10);
	return -1;
}

static inline int b64val(unsigned c)
{
	if (c - 'A' < 26)
		return (int)(c - 'A');
	if (c - 'a' < 26)
		return (int)(c - 'a' + 26);
	if (c - '0' < 10)
		return (int)(c - '0' + 52);
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static inline int b32val(unsigned c)
{
	if (c - '0' < 10)
		return (int)(c - '0');
	c |= 0x20;
	if (c - 'a' < 22)
		return (int)(c - 'a' + 10);
	return -1;
}

size_t base_hex_enc(const uint8_t *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdig[in[i] >> 4];
		out[2 * i + 1] = hexdig[in[i] & 15];
	}
	out[2 * n] = 0;
	return 2 * n;
}

size_t base_b64_enc(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0, i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64dig[v >> 18];
		out[o++] = b64dig[(v >> 12) & 63];
		out[o++] = b64dig[(v >> 6) & 63];
		out[o++] = b64dig[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = b64dig[v >> 18];
		out[o++] = b64dig[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64dig[v >> 18];
		out[o++] = b64dig[(v >> 12) & 63];
		out[o++] = b64dig[(v >> 6) & 63];
		out[o++] = '=';
	}
	out[o] = 0;
	return o;
}

size_t base_b32hex_enc(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8 | in[i]) & 0xffff;
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = b32dig[(acc >> bits) & 31];
		}
	}
	if (bits)
		out[o++] = b32dig[(acc << (5 - bits)) & 31];
	out[o] = 0;
	return o;
}

int base_hex_feed(base_dec *d, const char *s, size_t len, uint8_t *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		int v = hexval((unsigned char)s[i]);
		if (v < 0)
			return DNS_ESYNTAX;
		d->acc = (d->acc << 4 | (uint32_t)v) & 0xff;
		if (++d->nch == 2) {
			if (o >= cap)
				return DNS_ESPACE;
			out[o++] = (uint8_t)d->acc;
			d->nch = 0;
		}
	}
	return (int)o;
}

int base_hex_finish(const base_dec *d)
{
	return d->nch ? DNS_ESYNTAX : 0;
}

/* pad: 0 none yet, 1 first '=' of "xx==" seen, 2 padding complete. */
int base_b64_feed(base_dec *d, const char *s, size_t len, uint8_t *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned c = (unsigned char)s[i];
		if (c == '=') {
			if (d->pad == 2 || d->nch < 2)
				return DNS_ESYNTAX;
			if (d->nch == 2 && d->pad == 0) {
				d->pad = 1;
				d->nch = 3;
			} else {
				d->pad = 2;
				d->nch = 0;
				d->bits = 0;
			}
			continue;
		}
		int v = b64val(c);
		if (v < 0 || d->pad)
			return DNS_ESYNTAX;
		d->acc = (d->acc << 6 | (uint32_t)v) & 0xffff;
		d->bits += 6;
		d->nch = (d->nch + 1) & 3;
		if (d->bits >= 8) {
			d->bits -= 8;
			if (o >= cap)
				return DNS_ESPACE;
			out[o++] = (uint8_t)(d->acc >> d->bits);
		}
		if (d->nch == 0)
			d->bits = 0;
	}
	return (int)o;
}

int base_b64_finish(const base_dec *d)
{
	if (d->pad == 1 || d->nch == 1)
		return DNS_ESYNTAX;
	return 0;
}

int base_hex_dec(const char *s, size_t len, uint8_t *out, size_t cap)
{
	base_dec d;
	base_dec_init(&d);
	int n = base_hex_feed(&d, s, len, out, cap);
	if (n < 0)
		return n;
	return base_hex_finish(&d) ? DNS_ESYNTAX : n;
}

int base_b64_dec(const char *s, size_t len, uint8_t *out, size_t cap)
{
	base_dec d;
	base_dec_init(&d);
	int n = base_b64_feed(&d, s, len, out, cap);
	if (n < 0)
		return n;
	return base_b64_finish(&d) ? DNS_ESYNTAX : n;
}

int base_b32hex_dec(const char *s, size_t len, uint8_t *out, size_t cap)
{
	switch (len % 8) {
	case 1: case 3: case 6:
		return DNS_ESYNTAX;
	}
	size_t o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < len; i++) {
		int v = b32val((unsigned char)s[i]);
		if (v < 0)
			return DNS_ESYNTAX;
		acc = (acc << 5 | (uint32_t)v) & 0xffff;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return DNS_ESPACE;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	return (int)o;
}
