/* msg — DNS message parsing, building and text (see msg.h for the rules). */
#include "dns/msg.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>

#include "dns/rdata.h"
#include "dns/rrtype.h"

/* Storage-form RDATA of one RR: the wire RDATA plus at most two expanded
 * compression pointers (SOA, MINFO, RP), so this always suffices. */
static _Thread_local uint8_t scratch[MSG_MAXLEN + 4 * NAME_MAXLEN];

/* Reads the name at *off of the message (len octets) with name_unpack's
 * rules (which also refuse pointers into the header) and moves *off past
 * it. out may be NULL. */
static inline int scan_name(const uint8_t *w, size_t len, size_t *off, uint8_t *out)
{
	wire_rd r = {.msg = w, .pos = w + *off, .end = w + len, .err = 0};
	int n = name_unpack(&r, out);
	if (n > 0)
		*off = wire_rd_off(&r);
	return n;
}

static inline int parse_hdr(msg *m, const uint8_t *w, size_t len)
{
	m->wire = w;
	m->hdr_ok = false;
	m->qname_len = 0;
	m->qtype = m->qclass = 0;
	if (len < MSG_HDRLEN)
		return DNS_ETRUNC;
	m->hdr.id = wire_get_u16(w);
	m->hdr.flags = wire_get_u16(w + 2);
	m->hdr.qdcount = wire_get_u16(w + 4);
	m->hdr.ancount = wire_get_u16(w + 6);
	m->hdr.nscount = wire_get_u16(w + 8);
	m->hdr.arcount = wire_get_u16(w + 10);
	m->hdr_ok = true;
	if (len > MSG_MAXLEN)
		return DNS_EFORMAT;
	m->len = (uint16_t)len;
	m->qend = MSG_HDRLEN;
	m->opt_off = m->tsig_off = 0;
	m->opt = -1;
	m->rr = NULL;
	m->nrr = 0;
	m->edns.present = false;
	m->edns.udp_size = EDNS_MIN_UDP;
	m->edns.flags = 0;
	m->edns.version = m->edns.ext_rcode = 0;
	m->edns.opts = 0;
	return 0;
}

/* Checks one RR's RDATA (at off, rdlen octets) with rdata_unpack. */
static int check_rdata(const uint8_t *w, size_t off, uint16_t type, uint16_t rclass, uint16_t rdlen)
{
	if (rdlen == 0 && (rclass == CLASS_ANY || rclass == CLASS_NONE))
		return 0;
	wire_rd r = { .msg = w, .pos = w + off, .end = w + off + rdlen, .err = 0 };
	wire_wr out;
	wire_wr_init(&out, scratch, sizeof(scratch));
	int rc = rdata_unpack(type, &r, rdlen, &out);
	if (rc == DNS_ESPACE || (rc >= 0 && r.pos != w + off + rdlen))
		return DNS_EFORMAT;
	return rc < 0 ? rc : 0;
}

/* Answer, authority and additional sections from off. With full, RDATA is
 * checked and every RR listed in rrs (m->nrr entries already used). */
static int parse_rrs(msg *m, size_t off, msg_rr *rrs, unsigned cap, bool full)
{
	const uint8_t *w = m->wire;
	size_t len = m->len;
	unsigned idx = m->nrr;
	for (unsigned sec = MSG_ANSWER; sec <= MSG_ADDITIONAL; sec++) {
		unsigned cnt = sec == MSG_ANSWER ? m->hdr.ancount :
			       sec == MSG_AUTHORITY ? m->hdr.nscount : m->hdr.arcount;
		for (unsigned i = 0; i < cnt; i++) {
			size_t start = off;
			int n = scan_name(w, len, &off, NULL);
			if (n < 0)
				return n;
			if (len - off < 10)
				return DNS_ETRUNC;
			const uint8_t *p = w + off;
			uint16_t type = wire_get_u16(p), rclass = wire_get_u16(p + 2);
			uint32_t ttl = wire_get_u32(p + 4);
			uint16_t rdlen = wire_get_u16(p + 8);
			off += 10;
			if (len - off < rdlen)
				return DNS_ETRUNC;
			int rc = 0;
			if (type == RR_OPT) {
				if (sec != MSG_ADDITIONAL || m->opt_off || n != 1)
					return DNS_EFORMAT;
				rc = edns_parse(&m->edns, rclass, ttl, w + off, rdlen);
				m->opt_off = (uint16_t)start;
				m->opt = full ? (int)idx : -1;
			} else {
				if (type == RR_TSIG) {
					if (sec != MSG_ADDITIONAL || i + 1 != cnt)
						return DNS_EFORMAT;
					m->tsig_off = (uint16_t)start;
				}
				if (full)
					rc = check_rdata(w, off, type, rclass, rdlen);
			}
			if (rc < 0)
				return rc;
			if (full) {
				if (idx >= cap)
					return DNS_ESPACE;
				msg_rr *rr = &rrs[idx++];
				rr->owner = (uint16_t)start;
				rr->type = type;
				rr->rclass = rclass;
				rr->ttl = ttl;
				rr->rdata = (uint16_t)off;
				rr->rdlen = rdlen;
				rr->section = (uint8_t)sec;
			}
			off += rdlen;
		}
	}
	m->nrr = idx;
	m->end = (uint16_t)off;
	m->trailing = (uint16_t)(len - off);
	return 0;
}

int msg_parse(msg *m, const uint8_t *wire, size_t len, msg_rr *rrs, unsigned cap)
{
	int rc = parse_hdr(m, wire, len);
	if (rc < 0)
		return rc;
	size_t off = MSG_HDRLEN;
	unsigned idx = 0;
	for (unsigned i = 0; i < m->hdr.qdcount; i++) {
		size_t start = off;
		int n = scan_name(wire, len, &off, i == 0 ? m->qname : NULL);
		if (n < 0)
			return n;
		if (len - off < 4)
			return DNS_ETRUNC;
		uint16_t qtype = wire_get_u16(wire + off), qclass = wire_get_u16(wire + off + 2);
		off += 4;
		if (i == 0) {
			m->qname_len = (uint8_t)n;
			m->qtype = qtype;
			m->qclass = qclass;
			m->qend = (uint16_t)off;
		}
		if (idx >= cap)
			return DNS_ESPACE;
		msg_rr *rr = &rrs[idx++];
		rr->owner = (uint16_t)start;
		rr->type = qtype;
		rr->rclass = qclass;
		rr->ttl = 0;
		rr->rdata = (uint16_t)off;
		rr->rdlen = 0;
		rr->section = MSG_QUESTION;
	}
	m->rr = rrs;
	m->nrr = idx;
	rc = parse_rrs(m, off, rrs, cap, true);
	if (rc < 0)
		m->rr = NULL;
	return rc;
}

int msg_parse_query(msg *m, const uint8_t *wire, size_t len)
{
	int rc = parse_hdr(m, wire, len);
	if (rc < 0)
		return rc;
	size_t off = MSG_HDRLEN;
	if (m->hdr.qdcount > 1)
		return DNS_EFORMAT;
	if (m->hdr.qdcount) {
		int n = scan_name(wire, len, &off, m->qname);
		if (n < 0)
			return n;
		if (len - off < 4)
			return DNS_ETRUNC;
		m->qname_len = (uint8_t)n;
		m->qtype = wire_get_u16(wire + off);
		m->qclass = wire_get_u16(wire + off + 2);
		off += 4;
		m->qend = (uint16_t)off;
	}
	if ((m->hdr.ancount | m->hdr.nscount | m->hdr.arcount) == 0) {
		m->end = (uint16_t)off;
		m->trailing = (uint16_t)(len - off);
		return 0;
	}
	return parse_rrs(m, off, NULL, 0, false);
}

const msg_rr *msg_sec(const msg *m, unsigned sec, unsigned *n)
{
	const uint16_t c[4] = { m->hdr.qdcount, m->hdr.ancount, m->hdr.nscount, m->hdr.arcount };
	*n = 0;
	if (!m->rr || sec > MSG_ADDITIONAL)
		return NULL;
	unsigned start = 0;
	for (unsigned s = 0; s < sec; s++)
		start += c[s];
	*n = c[sec];
	return m->rr + start;
}

int msg_rr_owner(const msg *m, const msg_rr *rr, uint8_t *out)
{
	size_t off = rr->owner;
	return scan_name(m->wire, m->len, &off, out);
}

int msg_rr_rdata(const msg *m, const msg_rr *rr, wire_wr *out)
{
	wire_rd r = { .msg = m->wire, .pos = m->wire + rr->rdata,
		      .end = m->wire + rr->rdata + rr->rdlen, .err = 0 };
	int rc = rdata_unpack(rr->type, &r, rr->rdlen, out);
	return rc < 0 ? rc : 0;
}

const char *msg_opcode_name(unsigned opcode)
{
	switch (opcode) {
	case OPCODE_QUERY: return "QUERY";
	case OPCODE_IQUERY: return "IQUERY";
	case OPCODE_STATUS: return "STATUS";
	case OPCODE_NOTIFY: return "NOTIFY";
	case OPCODE_UPDATE: return "UPDATE";
	case OPCODE_DSO: return "DSO";
	default: return NULL;
	}
}

const char *msg_rcode_name(unsigned rcode)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
		"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "DSOTYPENI",
		NULL, NULL, NULL, NULL, "BADVERS", "BADKEY", "BADTIME", "BADMODE",
		"BADNAME", "BADALG", "BADTRUNC", "BADCOOKIE",
	};
	return rcode < sizeof(names) / sizeof(names[0]) ? names[rcode] : NULL;
}

/* ---- building ---- */

void msg_wr_init(msg_wr *mw, uint8_t *buf, size_t cap)
{
	if (cap > MSG_MAXLEN)
		cap = MSG_MAXLEN;
	wire_wr_init(&mw->w, buf, cap);
	mw->cap_end = buf + cap;
	mw->reserved = 0;
	memset(mw->counts, 0, sizeof(mw->counts));
	mw->section = MSG_QUESTION;
	name_ctab_init(&mw->ct);
}

int msg_wr_header(msg_wr *mw, uint16_t id, uint16_t flags)
{
	if (wire_wr_off(&mw->w) != 0)
		return DNS_EINVAL;
	if (!wire_wr_need(&mw->w, MSG_HDRLEN)) {
		mw->w.err = 0;
		return DNS_ESPACE;
	}
	wire_put_u16(mw->w.pos, id);
	wire_put_u16(mw->w.pos + 2, flags);
	memset(mw->w.pos + 4, 0, 8);
	mw->w.pos += MSG_HDRLEN;
	return 0;
}

int msg_wr_reply(msg_wr *mw, const msg *q, uint16_t flags)
{
	uint16_t f = (uint16_t)(MSG_QR | (q->hdr.flags & (MSG_OPCODE_MASK | MSG_RD | MSG_CD)) | flags);
	int rc = msg_wr_header(mw, q->hdr.id, f);
	if (rc == 0 && q->qname_len)
		rc = msg_wr_question(mw, q->qname, q->qtype, q->qclass);
	return rc;
}

int msg_wr_question(msg_wr *mw, const uint8_t *qname, uint16_t qtype, uint16_t qclass)
{
	if (mw->section != MSG_QUESTION || wire_wr_off(&mw->w) < MSG_HDRLEN)
		return DNS_EINVAL;
	if (mw->w.err)
		return mw->w.err;
	size_t off = wire_wr_off(&mw->w);
	unsigned ctn = mw->ct.n;
	name_pack(&mw->w, qname, &mw->ct);
	wire_wr_u16(&mw->w, qtype);
	wire_wr_u16(&mw->w, qclass);
	if (mw->w.err) {
		wire_wr_rewind(&mw->w, off);
		mw->ct.n = ctn;
		return DNS_ESPACE;
	}
	mw->counts[MSG_QUESTION]++;
	return 0;
}

int msg_wr_rr_begin(msg_wr *mw, unsigned section, const uint8_t *owner, uint16_t type,
		    uint16_t rclass, uint32_t ttl)
{
	if (section < MSG_ANSWER || section > MSG_ADDITIONAL || section < mw->section ||
	    wire_wr_off(&mw->w) < MSG_HDRLEN)
		return DNS_EINVAL;
	if (mw->w.err)
		return mw->w.err;
	mw->rr_sec = (uint8_t)section;
	mw->rr_ctn = mw->ct.n;
	mw->rr_off = wire_wr_off(&mw->w);
	name_pack(&mw->w, owner, &mw->ct);
	wire_wr_u16(&mw->w, type);
	wire_wr_u16(&mw->w, rclass);
	wire_wr_u32(&mw->w, ttl);
	mw->rdlen_off = wire_wr_off(&mw->w);
	wire_wr_u16(&mw->w, 0);
	if (mw->w.err) {
		wire_wr_rewind(&mw->w, mw->rr_off);
		mw->ct.n = mw->rr_ctn;
		return DNS_ESPACE;
	}
	return 0;
}

int msg_wr_rr_end(msg_wr *mw)
{
	if (mw->w.err) {
		int rc = mw->w.err;
		wire_wr_rewind(&mw->w, mw->rr_off);
		mw->ct.n = mw->rr_ctn;
		return rc;
	}
	size_t rdlen = wire_wr_off(&mw->w) - mw->rdlen_off - 2;
	wire_wr_put_u16(&mw->w, mw->rdlen_off, (uint16_t)rdlen);
	mw->counts[mw->rr_sec]++;
	mw->section = mw->rr_sec;
	return 0;
}

int msg_wr_rr(msg_wr *mw, unsigned section, const uint8_t *owner, uint16_t type,
	      uint16_t rclass, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	int rc = msg_wr_rr_begin(mw, section, owner, type, rclass, ttl);
	if (rc < 0)
		return rc;
	rc = rdata_pack(type, rdata, rdlen, &mw->w, &mw->ct);
	if (rc < 0 && !mw->w.err)
		mw->w.err = rc;
	return msg_wr_rr_end(mw);
}

int msg_wr_edns(msg_wr *mw, const edns_out *o)
{
	if (wire_wr_off(&mw->w) < MSG_HDRLEN)
		return DNS_EINVAL;
	int rc = edns_write(&mw->w, o);
	if (rc < 0)
		return rc;
	mw->counts[MSG_ADDITIONAL]++;
	mw->section = MSG_ADDITIONAL;
	return 0;
}

int msg_wr_reserve(msg_wr *mw, size_t n)
{
	if (mw->reserved)
		return DNS_EINVAL;
	if (mw->w.err)
		return mw->w.err;
	if (wire_wr_left(&mw->w) < n)
		return DNS_ESPACE;
	mw->w.end -= n;
	mw->reserved = n;
	return 0;
}

void msg_wr_release(msg_wr *mw)
{
	mw->w.end += mw->reserved;
	mw->reserved = 0;
}

void msg_wr_restore(msg_wr *mw, const msg_wr_mark *mk)
{
	wire_wr_rewind(&mw->w, mk->off);
	mw->ct.n = mk->ctn;
	memcpy(mw->counts, mk->counts, sizeof(mw->counts));
	mw->section = mk->section;
}

int msg_wr_finish(msg_wr *mw)
{
	if (wire_wr_off(&mw->w) < MSG_HDRLEN)
		return DNS_EINVAL;
	if (mw->w.err)
		return mw->w.err;
	for (unsigned i = 0; i < 4; i++)
		wire_put_u16(mw->w.msg + 4 + 2 * i, mw->counts[i]);
	return (int)wire_wr_off(&mw->w);
}

/* ---- text ---- */

typedef struct tbuf {
	char *p;
	size_t cap, len;
	bool over;
} tbuf;

__attribute__((format(printf, 2, 3)))
static void tb_printf(tbuf *t, const char *fmt, ...)
{
	if (t->over)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= t->cap - t->len) {
		t->over = true;
		t->p[t->len] = 0;
		return;
	}
	t->len += (size_t)n;
}

static void tb_hex(tbuf *t, const uint8_t *p, size_t n, const char *sep)
{
	for (size_t i = 0; i < n; i++)
		tb_printf(t, "%s%02x", i ? sep : "", p[i]);
}

/* Printable ASCII as is, the rest (and '"', '\\') as \DDD. */
static void tb_esc(tbuf *t, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
			tb_printf(t, "%c", p[i]);
		else
			tb_printf(t, "\\%03u", (unsigned)p[i]);
	}
}

static void tb_name(tbuf *t, const uint8_t *name)
{
	char s[NAME_MAXTEXT];
	if (name_to_text(name, s, sizeof(s)) < 0)
		snprintf(s, sizeof(s), "?");
	tb_printf(t, "%s", s);
}

static void text_opt(tbuf *t, const edns *e)
{
	tb_printf(t, "\n;; OPT PSEUDOSECTION:\n; EDNS: version: %u, flags:%s", e->version,
		  (e->flags & EDNS_DO) ? " do" : "");
	if (e->flags & ~EDNS_DO)
		tb_printf(t, "; MBZ: 0x%04x", (unsigned)(e->flags & ~EDNS_DO));
	tb_printf(t, "; udp: %u\n", e->udp_size);
	const uint8_t *p = e->rdata, *end = e->rdata + e->rdlen;
	while (end - p >= 4) {
		uint16_t code = wire_get_u16(p), len = wire_get_u16(p + 2);
		p += 4;
		if ((size_t)(end - p) < len) {
			tb_printf(t, "; (option %u overruns the OPT RDATA)\n", code);
			return;
		}
		const char *nm = edns_opt_name(code);
		if (nm)
			tb_printf(t, "; %s: ", nm);
		else
			tb_printf(t, "; OPT=%u: ", code);
		if (code == EDNS_OPT_PADDING) {
			tb_printf(t, "(%u bytes)", len);
		} else if (code == EDNS_OPT_ECS && (e->opts & EDNS_HAS_ECS)) {
			char a[INET6_ADDRSTRLEN] = "?";
			inet_ntop(e->ecs.family == EDNS_ECS_IPV4 ? AF_INET : AF_INET6, e->ecs.addr, a,
				  sizeof(a));
			tb_printf(t, "%s/%u/%u", a, e->ecs.source, e->ecs.scope);
		} else if (code == EDNS_OPT_EDE && len >= 2) {
			tb_printf(t, "%u", wire_get_u16(p));
			if (len > 2) {
				tb_printf(t, " (\"");
				tb_esc(t, p + 2, len - 2u);
				tb_printf(t, "\")");
			}
		} else {
			tb_hex(t, p, len, code == EDNS_OPT_COOKIE ? "" : " ");
			if (code == EDNS_OPT_NSID && len) {
				tb_printf(t, " (\"");
				tb_esc(t, p, len);
				tb_printf(t, "\")");
			}
		}
		tb_printf(t, "\n");
		p += len;
	}
	if (p != end)
		tb_printf(t, "; (%zu stray octets in the OPT RDATA)\n", (size_t)(end - p));
}

static void text_rr(tbuf *t, const msg *m, const msg_rr *rr)
{
	uint8_t owner[NAME_MAXLEN];
	char tb[16], cb[16];
	if (msg_rr_owner(m, rr, owner) < 0) {
		tb_printf(t, "; (bad owner name)\n");
		return;
	}
	if (rr->section == MSG_QUESTION) {
		tb_printf(t, ";");
		tb_name(t, owner);
		tb_printf(t, "\t\t%s\t%s\n", rrclass_to_text(rr->rclass, cb), rrtype_to_text(rr->type, tb));
		return;
	}
	wire_wr out;
	wire_wr_init(&out, scratch, sizeof(scratch));
	if (msg_rr_rdata(m, rr, &out) == 0 && wire_wr_off(&out) <= 0xffff && !t->over) {
		int n = rr_to_text(owner, rr->type, rr->rclass, rr->ttl, scratch,
				   (uint16_t)wire_wr_off(&out), t->p + t->len, t->cap - t->len);
		if (n >= 0) {
			t->len += (size_t)n;
			tb_printf(t, "\n");
			return;
		}
		t->p[t->len] = 0;
		if (n == DNS_ESPACE) {
			t->over = true;
			return;
		}
	}
	/* Fallback: RFC 3597 generic form of the raw RDATA. */
	tb_name(t, owner);
	tb_printf(t, "\t%u\t%s\t%s\t\\# %u", rr->ttl, rrclass_to_text(rr->rclass, cb),
		  rrtype_to_text(rr->type, tb), rr->rdlen);
	if (rr->rdlen) {
		tb_printf(t, " ");
		tb_hex(t, m->wire + rr->rdata, rr->rdlen, "");
	}
	tb_printf(t, "\n");
}

int msg_to_text(const msg *m, char *out, size_t cap)
{
	if (!cap)
		return DNS_ESPACE;
	tbuf t = { .p = out, .cap = cap, .len = 0, .over = false };
	out[0] = 0;
	const msg_hdr *h = &m->hdr;
	unsigned op = msg_flags_opcode(h->flags), rc = msg_rcode(m);
	const char *opn = msg_opcode_name(op), *rcn = msg_rcode_name(rc);
	tb_printf(&t, ";; ->>HEADER<<- opcode: ");
	if (opn)
		tb_printf(&t, "%s", opn);
	else
		tb_printf(&t, "OPCODE%u", op);
	tb_printf(&t, ", status: ");
	if (rcn)
		tb_printf(&t, "%s", rcn);
	else
		tb_printf(&t, "RCODE%u", rc);
	tb_printf(&t, ", id: %u\n;; flags:", h->id);
	static const struct { uint16_t bit; const char *name; } fl[] = {
		{ MSG_QR, "qr" }, { MSG_AA, "aa" }, { MSG_TC, "tc" }, { MSG_RD, "rd" },
		{ MSG_RA, "ra" }, { MSG_Z, "z" }, { MSG_AD, "ad" }, { MSG_CD, "cd" },
	};
	for (unsigned i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
		if (h->flags & fl[i].bit)
			tb_printf(&t, " %s", fl[i].name);
	tb_printf(&t, "; QUERY: %u, ANSWER: %u, AUTHORITY: %u, ADDITIONAL: %u\n", h->qdcount,
		  h->ancount, h->nscount, h->arcount);
	if (m->trailing)
		tb_printf(&t, ";; WARNING: %u trailing octets ignored\n", m->trailing);
	if (m->edns.present)
		text_opt(&t, &m->edns);
	static const char *const secname[4] = { "QUESTION", "ANSWER", "AUTHORITY", "ADDITIONAL" };
	if (!m->rr) {
		if (m->qname_len) {
			char tb[16], cb[16];
			tb_printf(&t, "\n;; QUESTION SECTION:\n;");
			tb_name(&t, m->qname);
			tb_printf(&t, "\t\t%s\t%s\n", rrclass_to_text(m->qclass, cb),
				  rrtype_to_text(m->qtype, tb));
		}
	} else {
		for (unsigned s = 0; s < 4; s++) {
			unsigned n;
			const msg_rr *rr = msg_sec(m, s, &n);
			unsigned shown = 0;
			for (unsigned i = 0; i < n; i++) {
				if ((int)(rr + i - m->rr) == m->opt)
					continue;
				if (!shown++)
					tb_printf(&t, "\n;; %s SECTION:\n", secname[s]);
				text_rr(&t, m, rr + i);
			}
		}
	}
	if (t.over)
		return DNS_ESPACE;
	return (int)t.len;
}
