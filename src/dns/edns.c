/* edns — OPT RR parsing and writing (see edns.h for the rules). */
#include "dns/edns.h"

#include "dns/rrtype.h"

static int parse_ecs(edns_ecs *ecs, const uint8_t *p, uint16_t len)
{
	if (len < 4)
		return DNS_EFORMAT;
	uint16_t family = wire_get_u16(p);
	unsigned source = p[2], scope = p[3], max;
	if (family == EDNS_ECS_IPV4)
		max = 32;
	else if (family == EDNS_ECS_IPV6)
		max = 128;
	else
		return DNS_EFORMAT;
	unsigned alen = (source + 7) / 8;
	if (source > max || scope > max || len - 4u != alen)
		return DNS_EFORMAT;
	/* Bits past the prefix in the last octet must be zero. */
	if (source % 8 && (p[4 + alen - 1] & (0xffu >> (source % 8))))
		return DNS_EFORMAT;
	ecs->family = family;
	ecs->source = (uint8_t)source;
	ecs->scope = (uint8_t)scope;
	memset(ecs->addr, 0, sizeof(ecs->addr));
	memcpy(ecs->addr, p + 4, alen);
	return 0;
}

int edns_parse(edns *e, uint16_t rclass, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	e->present = true;
	e->udp_size = rclass < EDNS_MIN_UDP ? EDNS_MIN_UDP : rclass;
	e->ext_rcode = (uint8_t)(ttl >> 24);
	e->version = (uint8_t)(ttl >> 16);
	e->flags = (uint16_t)ttl;
	e->opts = 0;
	e->nopts = 0;
	e->rdata = rdata;
	e->rdlen = rdlen;
	if (e->version != 0)
		return 0;
	const uint8_t *p = rdata, *end = rdata + rdlen;
	while (p < end) {
		if (end - p < 4)
			return DNS_EFORMAT;
		uint16_t code = wire_get_u16(p), len = wire_get_u16(p + 2);
		p += 4;
		if ((size_t)(end - p) < len)
			return DNS_EFORMAT;
		e->nopts++;
		switch (code) {
		case EDNS_OPT_COOKIE:
			if ((e->opts & EDNS_HAS_COOKIE) || len < EDNS_COOKIE_CLIENT ||
			    (len > EDNS_COOKIE_CLIENT && len < 16) || len > EDNS_COOKIE_MAX)
				return DNS_EFORMAT;
			e->opts |= EDNS_HAS_COOKIE;
			e->cookie_len = (uint8_t)len;
			memcpy(e->cookie, p, len);
			break;
		case EDNS_OPT_NSID:
			if (!(e->opts & EDNS_HAS_NSID)) {
				e->opts |= EDNS_HAS_NSID;
				e->nsid = p;
				e->nsid_len = len;
			}
			break;
		case EDNS_OPT_PADDING:
			if (!(e->opts & EDNS_HAS_PADDING)) {
				e->opts |= EDNS_HAS_PADDING;
				e->padding_len = 0;
			}
			e->padding_len = (uint16_t)(e->padding_len + len);
			break;
		case EDNS_OPT_ECS:
			if ((e->opts & EDNS_HAS_ECS) || parse_ecs(&e->ecs, p, len) < 0)
				return DNS_EFORMAT;
			e->opts |= EDNS_HAS_ECS;
			break;
		case EDNS_OPT_EDE:
			if (len < 2)
				return DNS_EFORMAT;
			if (!(e->opts & EDNS_HAS_EDE)) {
				e->opts |= EDNS_HAS_EDE;
				e->ede_code = wire_get_u16(p);
				e->ede_text = p + 2;
				e->ede_len = (uint16_t)(len - 2);
			}
			break;
		default:
			break;
		}
		p += len;
	}
	return 0;
}

static size_t ecs_len(const edns_ecs *ecs) { return 4u + (ecs->source + 7u) / 8u; }

size_t edns_size(const edns_out *o)
{
	size_t n = 11;
	if (o->nsid)
		n += 4u + o->nsid_len;
	if (o->cookie_len)
		n += 4u + o->cookie_len;
	if (o->ecs)
		n += 4u + ecs_len(&o->ecs_val);
	if (o->ede)
		n += 6u + o->ede_len;
	return n + o->raw_len;
}

int edns_write(wire_wr *w, const edns_out *o)
{
	if (w->err)
		return w->err;
	if (o->cookie_len && (o->cookie_len < EDNS_COOKIE_CLIENT ||
			      (o->cookie_len > EDNS_COOKIE_CLIENT && o->cookie_len < 16) ||
			      o->cookie_len > EDNS_COOKIE_MAX))
		return DNS_EINVAL;
	if (o->ecs) {
		unsigned max = o->ecs_val.family == EDNS_ECS_IPV4 ? 32 :
			       o->ecs_val.family == EDNS_ECS_IPV6 ? 128 : 0;
		if (!max || o->ecs_val.source > max || o->ecs_val.scope > max)
			return DNS_EINVAL;
	}
	size_t start = wire_wr_off(w);
	size_t size = edns_size(o);
	if (size - 11 > 0xffff)
		return DNS_EINVAL;
	wire_wr_u8(w, 0);
	wire_wr_u16(w, RR_OPT);
	wire_wr_u16(w, o->udp_size < EDNS_MIN_UDP ? EDNS_MIN_UDP : o->udp_size);
	wire_wr_u32(w, (uint32_t)edns_rcode_ext(o->rcode) << 24 | (uint32_t)o->version << 16 | o->flags);
	size_t rdlen_off = wire_wr_off(w);
	wire_wr_u16(w, 0);
	if (o->nsid) {
		wire_wr_u16(w, EDNS_OPT_NSID);
		wire_wr_u16(w, o->nsid_len);
		wire_wr_bytes(w, o->nsid_data, o->nsid_len);
	}
	if (o->cookie_len) {
		wire_wr_u16(w, EDNS_OPT_COOKIE);
		wire_wr_u16(w, o->cookie_len);
		wire_wr_bytes(w, o->cookie, o->cookie_len);
	}
	if (o->ecs) {
		const edns_ecs *ecs = &o->ecs_val;
		unsigned alen = (ecs->source + 7u) / 8u;
		wire_wr_u16(w, EDNS_OPT_ECS);
		wire_wr_u16(w, (uint16_t)(4 + alen));
		wire_wr_u16(w, ecs->family);
		wire_wr_u8(w, ecs->source);
		wire_wr_u8(w, ecs->scope);
		for (unsigned i = 0; i < alen; i++) {
			uint8_t b = ecs->addr[i];
			if (i == alen - 1 && ecs->source % 8)
				b &= (uint8_t)(0xffu << (8 - ecs->source % 8));
			wire_wr_u8(w, b);
		}
	}
	if (o->ede) {
		wire_wr_u16(w, EDNS_OPT_EDE);
		wire_wr_u16(w, (uint16_t)(2 + o->ede_len));
		wire_wr_u16(w, o->ede_code);
		wire_wr_bytes(w, o->ede_text, o->ede_len);
	}
	wire_wr_bytes(w, o->raw, o->raw_len);
	if (w->err) {
		wire_wr_rewind(w, start);
		return DNS_ESPACE;
	}
	if (o->pad_block) {
		size_t left = wire_wr_left(w);
		if (left >= 4) {
			size_t cur = wire_wr_off(w) + 4;
			size_t pad = (o->pad_block - cur % o->pad_block) % o->pad_block;
			if (pad > left - 4)
				pad = left - 4;
			if (wire_wr_off(w) - rdlen_off - 2 + 4 + pad > 0xffff)
				pad = 0xffff - (wire_wr_off(w) - rdlen_off - 2 + 4);
			wire_wr_u16(w, EDNS_OPT_PADDING);
			wire_wr_u16(w, (uint16_t)pad);
			if (pad) {
				memset(w->pos, 0, pad);
				w->pos += pad;
			}
		}
	}
	wire_wr_put_u16(w, rdlen_off, (uint16_t)(wire_wr_off(w) - rdlen_off - 2));
	return 0;
}

const char *edns_opt_name(uint16_t code)
{
	switch (code) {
	case EDNS_OPT_LLQ: return "LLQ";
	case EDNS_OPT_UL: return "UL";
	case EDNS_OPT_NSID: return "NSID";
	case EDNS_OPT_DAU: return "DAU";
	case EDNS_OPT_DHU: return "DHU";
	case EDNS_OPT_N3U: return "N3U";
	case EDNS_OPT_ECS: return "CLIENT-SUBNET";
	case EDNS_OPT_EXPIRE: return "EXPIRE";
	case EDNS_OPT_COOKIE: return "COOKIE";
	case EDNS_OPT_KEEPALIVE: return "TCP-KEEPALIVE";
	case EDNS_OPT_PADDING: return "PADDING";
	case EDNS_OPT_CHAIN: return "CHAIN";
	case EDNS_OPT_KEYTAG: return "KEY-TAG";
	case EDNS_OPT_EDE: return "EDE";
	default: return NULL;
	}
}
