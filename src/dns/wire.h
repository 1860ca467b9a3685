/* wire — bounds-checked cursors over DNS wire data, with a sticky error.
 *
 * A wire_rd reads from a buffer it does not own. Every read checks bounds;
 * the first overrun sets rd->err = DNS_ETRUNC, and from then on every read
 * returns zero/NULL and moves nothing, so a caller may do a run of reads and
 * check rd->err once at the end (Knot's wire_ctx idea). `msg` is the start of
 * the whole DNS message: name decompression follows pointers relative to it.
 *
 * A wire_wr writes into a caller-owned buffer; overflow sets w->err =
 * DNS_ESPACE sticky in the same way and nothing past `end` is ever written.
 *
 * Both are plain structs meant to live on the stack; no allocation. */
#ifndef ANTIDOTE_DNS_WIRE_H
#define ANTIDOTE_DNS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dns/err.h"

typedef struct wire_rd {
	const uint8_t *msg; /* start of the message (compression base) */
	const uint8_t *pos; /* next byte to read */
	const uint8_t *end; /* one past the last readable byte */
	int err;            /* 0 or the first error (sticky) */
} wire_rd;

typedef struct wire_wr {
	uint8_t *msg; /* start of the message being written */
	uint8_t *pos;
	uint8_t *end;
	int err;
} wire_wr;

static inline void wire_rd_init(wire_rd *r, const uint8_t *buf, size_t len)
{
	r->msg = r->pos = buf;
	r->end = buf + len;
	r->err = 0;
}

/* A sub-cursor over the next n bytes of r that shares r's message base;
 * r itself skips the n bytes. Used for rdata (rdlength-bounded). */
void wire_rd_sub(wire_rd *r, size_t n, wire_rd *sub);

static inline size_t wire_rd_left(const wire_rd *r) { return r->err ? 0 : (size_t)(r->end - r->pos); }
static inline size_t wire_rd_off(const wire_rd *r) { return (size_t)(r->pos - r->msg); }
static inline bool wire_rd_ok(const wire_rd *r) { return r->err == 0; }
static inline void wire_rd_fail(wire_rd *r, int err) { if (!r->err) r->err = err; }

static inline bool wire_rd_need(wire_rd *r, size_t n)
{
	if (r->err)
		return false;
	if ((size_t)(r->end - r->pos) < n) {
		r->err = DNS_ETRUNC;
		return false;
	}
	return true;
}

static inline uint8_t wire_rd_u8(wire_rd *r)
{
	if (!wire_rd_need(r, 1))
		return 0;
	return *r->pos++;
}

static inline uint16_t wire_rd_u16(wire_rd *r)
{
	if (!wire_rd_need(r, 2))
		return 0;
	uint16_t v = (uint16_t)(r->pos[0] << 8 | r->pos[1]);
	r->pos += 2;
	return v;
}

static inline uint32_t wire_rd_u32(wire_rd *r)
{
	if (!wire_rd_need(r, 4))
		return 0;
	uint32_t v = (uint32_t)r->pos[0] << 24 | (uint32_t)r->pos[1] << 16 |
		     (uint32_t)r->pos[2] << 8 | r->pos[3];
	r->pos += 4;
	return v;
}

/* Returns a pointer to the next n bytes and skips them, or NULL. */
static inline const uint8_t *wire_rd_ptr(wire_rd *r, size_t n)
{
	if (!wire_rd_need(r, n))
		return NULL;
	const uint8_t *p = r->pos;
	r->pos += n;
	return p;
}

static inline void wire_rd_bytes(wire_rd *r, void *dst, size_t n)
{
	const uint8_t *p = wire_rd_ptr(r, n);
	if (p)
		memcpy(dst, p, n);
	else
		memset(dst, 0, n);
}

static inline void wire_rd_skip(wire_rd *r, size_t n) { (void)wire_rd_ptr(r, n); }

static inline void wire_wr_init(wire_wr *w, uint8_t *buf, size_t cap)
{
	w->msg = w->pos = buf;
	w->end = buf + cap;
	w->err = 0;
}

static inline size_t wire_wr_off(const wire_wr *w) { return (size_t)(w->pos - w->msg); }
static inline size_t wire_wr_left(const wire_wr *w) { return w->err ? 0 : (size_t)(w->end - w->pos); }
static inline void wire_wr_fail(wire_wr *w, int err) { if (!w->err) w->err = err; }

static inline bool wire_wr_need(wire_wr *w, size_t n)
{
	if (w->err)
		return false;
	if ((size_t)(w->end - w->pos) < n) {
		w->err = DNS_ESPACE;
		return false;
	}
	return true;
}

static inline void wire_wr_u8(wire_wr *w, uint8_t v)
{
	if (wire_wr_need(w, 1))
		*w->pos++ = v;
}

static inline void wire_wr_u16(wire_wr *w, uint16_t v)
{
	if (!wire_wr_need(w, 2))
		return;
	w->pos[0] = (uint8_t)(v >> 8);
	w->pos[1] = (uint8_t)v;
	w->pos += 2;
}

static inline void wire_wr_u32(wire_wr *w, uint32_t v)
{
	if (!wire_wr_need(w, 4))
		return;
	w->pos[0] = (uint8_t)(v >> 24);
	w->pos[1] = (uint8_t)(v >> 16);
	w->pos[2] = (uint8_t)(v >> 8);
	w->pos[3] = (uint8_t)v;
	w->pos += 4;
}

static inline void wire_wr_bytes(wire_wr *w, const void *src, size_t n)
{
	if (n && wire_wr_need(w, n)) {
		memcpy(w->pos, src, n);
		w->pos += n;
	}
}

/* Rewinds the writer to offset off (≤ current) and clears a DNS_ESPACE error:
 * used to drop a record that did not fit and set TC. */
static inline void wire_wr_rewind(wire_wr *w, size_t off)
{
	w->pos = w->msg + off;
	w->err = 0;
}

/* Overwrites a u16 at an earlier offset (counts, rdlength). */
static inline void wire_wr_put_u16(wire_wr *w, size_t off, uint16_t v)
{
	if (off + 2 <= (size_t)(w->end - w->msg)) {
		w->msg[off] = (uint8_t)(v >> 8);
		w->msg[off + 1] = (uint8_t)v;
	}
}

static inline uint16_t wire_get_u16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t wire_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void wire_put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void wire_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

#endif
