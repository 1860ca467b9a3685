/* msg — whole DNS messages: header, parsing into a non-allocating view,
 * building with compression and truncation, and dig-like text.
 *
 * PARSING. Two parsers fill a caller-owned `msg` that borrows the wire
 * buffer (m->wire); nothing is allocated:
 *  - msg_parse: everything. Every question and RR is checked (owner names,
 *    RDLENGTH, RDATA structure through rdata_unpack) and listed in the
 *    caller's msg_rr array.
 *  - msg_parse_query: the server hot path. Header, at most one question
 *    (qname copied into m->qname), and the OPT RR; other RRs are skipped
 *    with their framing checked (owner, fixed fields, RDLENGTH in bounds)
 *    but their RDATA not looked at. No msg_rr array.
 * Rules shared by both (any violation is a negative DNS_E* return):
 *  - len ≥ 12 else DNS_ETRUNC (then m->hdr_ok is false: drop the packet);
 *    len ≤ 65535 else DNS_EFORMAT.
 *  - Names (questions and owners): labels ≤ 63, name ≤ 255 octets, label
 *    types 0x40/0x80 refused (DNS_ELABEL), compression pointers must point
 *    strictly backwards (before the start of the label run holding them),
 *    at most NAME_MAXHOPS of them, and never into the 12-octet header
 *    (DNS_EPTR). Names inside RDATA follow name_unpack's rules.
 *  - The header counts must be matched by content: running out of message
 *    before the last counted RR is DNS_ETRUNC. Octets after the last RR are
 *    accepted and ignored (as most servers do); their number is recorded in
 *    m->trailing.
 *  - OPT: only in the additional section, at most one, owner must be the
 *    root, options as edns_parse says; else DNS_EFORMAT.
 *  - TSIG: only as the very last RR of the additional section, else
 *    DNS_EFORMAT (RFC 8945 §5.1). Its position is in m->tsig_off; it is not
 *    verified here.
 * msg_parse accepts any QDCOUNT (0, 1, 2...), msg_parse_query refuses
 * QDCOUNT > 1 with DNS_EFORMAT and accepts 0 (m->qname_len = 0) so a server
 * can answer a cookie-only query (RFC 7873 §5.4) or refuse it itself.
 *
 * FORMERR vs drop: on failure, m->hdr_ok tells whether m->hdr (id, flags,
 * counts) is valid; if it is and the error is a wire error (see
 * msg_err_is_formerr) the sender deserves a FORMERR echoing m->hdr.id.
 * m->qname_len > 0 means the first question was read and may be echoed too.
 * Everything else in `m` is undefined after a failure.
 *
 * Both parsers are reentrant; msg_parse and msg_to_text use a 66 KB
 * thread-local scratch buffer for RDATA.
 *
 * BUILDING. msg_wr writes a message into a caller buffer whose capacity is
 * the size limit (512, the client's EDNS UDP size, or 65535 for TCP). RRs
 * are added in section order; one that does not fit is rewound completely
 * (bytes, count and compression table) and DNS_ESPACE is returned so the
 * caller can drop it or set TC. msg_wr_save/msg_wr_restore drop a whole run
 * of RRs (an RRset, RFC 2181 §9). msg_wr_reserve keeps room for an OPT RR
 * written last. Typical response:
 *
 *	msg_wr mw;
 *	msg_wr_init(&mw, buf, q->edns.present ? q->edns.udp_size : 512);
 *	msg_wr_reply(&mw, q, MSG_AA);   (header + question)
 *	msg_wr_reserve(&mw, edns_size(&eo));
 *	if (msg_wr_rr(&mw, MSG_ANSWER, owner, type, CLASS_IN, ttl, rd, rdlen) == DNS_ESPACE)
 *		msg_wr_set_flags(&mw, msg_wr_flags(&mw) | MSG_TC);
 *	msg_wr_release(&mw);
 *	msg_wr_edns(&mw, &eo);
 *	int len = msg_wr_finish(&mw);
 */
#ifndef ANTIDOTE_DNS_MSG_H
#define ANTIDOTE_DNS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/edns.h"
#include "dns/name.h"
#include "dns/wire.h"

#define MSG_HDRLEN 12
#define MSG_MAXLEN 65535
/* Fewest octets one RR can take (root owner + fixed fields), so a message
 * holds at most MSG_MAXLEN / 11 RRs: a msg_rr array of MSG_MAXRRS entries
 * is always enough. Questions take ≥ 5 octets and are listed too. */
#define MSG_MAXRRS ((MSG_MAXLEN - MSG_HDRLEN) / 5 + 1)

/* Header flag bits (the 16-bit word after the ID). */
#define MSG_QR 0x8000u
#define MSG_OPCODE_MASK 0x7800u
#define MSG_AA 0x0400u
#define MSG_TC 0x0200u
#define MSG_RD 0x0100u
#define MSG_RA 0x0080u
#define MSG_Z 0x0040u
#define MSG_AD 0x0020u
#define MSG_CD 0x0010u
#define MSG_RCODE_MASK 0x000fu

enum msg_opcode {
	OPCODE_QUERY = 0, OPCODE_IQUERY = 1, OPCODE_STATUS = 2,
	OPCODE_NOTIFY = 4, OPCODE_UPDATE = 5, OPCODE_DSO = 6,
};

/* RCODEs; values > 15 need EDNS (extended RCODE) or TSIG/TKEY fields. */
enum msg_rcode {
	RCODE_NOERROR = 0, RCODE_FORMERR = 1, RCODE_SERVFAIL = 2,
	RCODE_NXDOMAIN = 3, RCODE_NOTIMP = 4, RCODE_REFUSED = 5,
	RCODE_YXDOMAIN = 6, RCODE_YXRRSET = 7, RCODE_NXRRSET = 8,
	RCODE_NOTAUTH = 9, RCODE_NOTZONE = 10, RCODE_DSOTYPENI = 11,
	RCODE_BADVERS = 16, /* also BADSIG in TSIG */
	RCODE_BADKEY = 17, RCODE_BADTIME = 18, RCODE_BADMODE = 19,
	RCODE_BADNAME = 20, RCODE_BADALG = 21, RCODE_BADTRUNC = 22,
	RCODE_BADCOOKIE = 23,
};

static inline unsigned msg_flags_opcode(uint16_t flags) { return (flags >> 11) & 0xfu; }
static inline uint16_t msg_flags_set_opcode(uint16_t flags, unsigned op)
{
	return (uint16_t)((flags & ~MSG_OPCODE_MASK) | (op & 0xfu) << 11);
}
static inline unsigned msg_flags_rcode(uint16_t flags) { return flags & MSG_RCODE_MASK; }
/* Sets the header's 4 RCODE bits from a (possibly extended) rcode: only
 * rcode & 15 goes in; edns_out.rcode carries the rest. */
static inline uint16_t msg_flags_set_rcode(uint16_t flags, unsigned rcode)
{
	return (uint16_t)((flags & ~MSG_RCODE_MASK) | (rcode & 0xfu));
}

/* Mnemonics: "QUERY", "NOERROR", "BADCOOKIE"...; unknown values give NULL. */
const char *msg_opcode_name(unsigned opcode);
const char *msg_rcode_name(unsigned rcode);

enum msg_section { MSG_QUESTION = 0, MSG_ANSWER = 1, MSG_AUTHORITY = 2, MSG_ADDITIONAL = 3 };

typedef struct msg_hdr {
	uint16_t id, flags, qdcount, ancount, nscount, arcount;
} msg_hdr;

/* One question or RR of a parsed message; offsets are from the message
 * start. For a question ttl = rdlen = 0 and rdata is the offset just past
 * it. The owner may be compressed: read it with msg_rr_owner. */
typedef struct msg_rr {
	uint16_t owner;  /* offset of the owner name */
	uint16_t type;
	uint16_t rclass; /* for OPT: the UDP payload size */
	uint16_t rdata;  /* offset of the RDATA */
	uint16_t rdlen;
	uint8_t section; /* enum msg_section */
	uint32_t ttl;
} msg_rr;

/* A parsed message. Fields below hdr are valid only after a successful
 * parse (see the FORMERR notes above for hdr_ok and qname_len). */
typedef struct msg {
	const uint8_t *wire; /* borrowed: the buffer given to the parser */
	uint16_t len;
	bool hdr_ok;         /* hdr is valid (len ≥ 12) */
	msg_hdr hdr;
	uint8_t qname_len;   /* length of qname (1..255); 0 when no question */
	uint16_t qtype, qclass; /* 0 when no question */
	uint16_t qend;       /* offset just past the first question (or 12) */
	uint16_t end;        /* offset just past the last RR */
	uint16_t trailing;   /* octets after `end`, ignored */
	uint16_t opt_off;    /* offset of the OPT RR's owner, 0 when none */
	uint16_t tsig_off;   /* offset of the TSIG RR's owner, 0 when none */
	int opt;             /* msg_parse: index of the OPT RR in rr, or -1 */
	msg_rr *rr;          /* msg_parse: the caller's array; NULL otherwise */
	unsigned nrr;        /* entries used: qd + an + ns + ar, in order */
	edns edns;           /* the OPT RR (edns.present) */
	uint8_t qname[NAME_MAXLEN]; /* first question's name, as sent (case kept) */
} msg;

/* Full parse of len octets at wire. rrs[0..cap) receives every question
 * and RR in message order (the sections are contiguous: questions first,
 * then answer, authority, additional — see msg_sec). Returns 0 or:
 *  DNS_ETRUNC/EPTR/ELABEL/ENAMELEN/EFORMAT/ERANGE... : malformed message;
 *  DNS_ESPACE: more entries than cap (not a wire error — m->hdr is valid,
 *              call again with qdcount+ancount+nscount+arcount entries).
 * RDATA of known types is checked with rdata_unpack (into a thread-local
 * scratch buffer); RRs with RDLENGTH 0 and class ANY or NONE (RFC 2136
 * updates and prerequisites) are not. */
int msg_parse(msg *m, const uint8_t *wire, size_t len, msg_rr *rrs, unsigned cap);

/* Hot-path parse for a server (see the top of this file). Leaves m->rr =
 * NULL, m->nrr = 0, m->opt = -1; everything else as msg_parse. */
int msg_parse_query(msg *m, const uint8_t *wire, size_t len);

/* True when a parse failure rc on m should be answered with FORMERR
 * (header readable and the error is about the message's content), false
 * when the packet should be dropped or rc is not a wire error. */
static inline bool msg_err_is_formerr(const msg *m, int rc)
{
	return rc < 0 && m->hdr_ok && rc != DNS_ESPACE && rc != DNS_EINVAL && rc != DNS_ENOMEM;
}

/* Full 12-bit RCODE of a parsed message (header bits + OPT ext bits). */
static inline unsigned msg_rcode(const msg *m)
{
	return edns_rcode_join(m->edns.present ? m->edns.ext_rcode : 0, m->hdr.flags & MSG_RCODE_MASK);
}

/* First entry of section sec in m->rr (msg_parse only); *n gets the count. */
const msg_rr *msg_sec(const msg *m, unsigned sec, unsigned *n);

/* Uncompressed owner of rr into out (NAME_MAXLEN octets); returns length. */
int msg_rr_owner(const msg *m, const msg_rr *rr, uint8_t *out);
/* Storage form (names uncompressed) of rr's RDATA appended to out, through
 * rdata_unpack. Returns 0 or a negative code. */
int msg_rr_rdata(const msg *m, const msg_rr *rr, wire_wr *out);

/* ---- building ---- */

typedef struct msg_wr {
	wire_wr w;          /* w.end is lowered by msg_wr_reserve */
	uint8_t *cap_end;   /* the real end of the buffer */
	size_t reserved;
	uint16_t counts[4]; /* per enum msg_section */
	uint8_t section;    /* last section written to */
	uint8_t rr_sec;     /* RR being written (msg_wr_rr_begin/end): */
	unsigned rr_ctn;    /*   its section, ct.n before it, */
	size_t rr_off;      /*   its start and */
	size_t rdlen_off;   /*   where its RDLENGTH goes */
	name_ctab ct;
} msg_wr;

/* Where a message stood; msg_wr_restore goes back to it. */
typedef struct msg_wr_mark {
	size_t off;
	unsigned ctn;
	uint16_t counts[4];
	uint8_t section;
} msg_wr_mark;

/* cap is the size limit (values above 65535 are cut to 65535). */
void msg_wr_init(msg_wr *mw, uint8_t *buf, size_t cap);
/* Writes the 12-octet header (counts zero until msg_wr_finish). Must come
 * first. Returns 0 or DNS_ESPACE. */
int msg_wr_header(msg_wr *mw, uint16_t id, uint16_t flags);
/* Header + question of a reply to the parsed query q: ID echoed, flags =
 * QR | q's opcode, RD and CD | `flags` (e.g. MSG_AA, an RCODE's low bits),
 * and q's question when it has one (q->qname_len > 0; so this also suits
 * a FORMERR reply after a failed parse with q->hdr_ok). Must come first.
 * 0 or DNS_ESPACE. */
int msg_wr_reply(msg_wr *mw, const msg *q, uint16_t flags);
/* Header flags of the message being written; get/set them any time after
 * msg_wr_header. */
static inline uint16_t msg_wr_flags(const msg_wr *mw) { return wire_get_u16(mw->w.msg + 2); }
static inline void msg_wr_set_flags(msg_wr *mw, uint16_t flags) { wire_put_u16(mw->w.msg + 2, flags); }
/* Appends a question (before any RR: else DNS_EINVAL). 0 / DNS_ESPACE
 * (rewound). */
int msg_wr_question(msg_wr *mw, const uint8_t *qname, uint16_t qtype, uint16_t qclass);
/* Appends an RR with storage-form RDATA (rdata.h), compressing the owner
 * and, for the RFC 3597 well-known types, names in the RDATA. Sections must
 * come in order (answer, authority, additional; DNS_EINVAL otherwise).
 * Returns 0, DNS_ESPACE (nothing written: the RR is fully rewound) or
 * another code from rdata_pack (also rewound). */
int msg_wr_rr(msg_wr *mw, unsigned section, const uint8_t *owner, uint16_t type,
	      uint16_t rclass, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen);
/* The same in two steps, for RDATA the caller writes itself into mw->w
 * (already in wire form: nothing is compressed unless the caller does it):
 * begin writes owner, type, class, ttl and an RDLENGTH placeholder; end
 * patches RDLENGTH and counts the RR, or, if mw->w ran out of room
 * meanwhile, rewinds to before the RR and returns DNS_ESPACE. Every begin
 * that returned 0 must be followed by one end. */
int msg_wr_rr_begin(msg_wr *mw, unsigned section, const uint8_t *owner, uint16_t type,
		    uint16_t rclass, uint32_t ttl);
int msg_wr_rr_end(msg_wr *mw);
/* Appends an OPT RR (edns_write) to the additional section and counts it.
 * 0 / DNS_ESPACE (rewound) / DNS_EINVAL. */
int msg_wr_edns(msg_wr *mw, const edns_out *o);
/* Keeps n octets free at the end (e.g. edns_size()) until msg_wr_release.
 * DNS_ESPACE when fewer than n are left. Only one reservation at a time. */
int msg_wr_reserve(msg_wr *mw, size_t n);
void msg_wr_release(msg_wr *mw);
static inline void msg_wr_save(const msg_wr *mw, msg_wr_mark *mk)
{
	mk->off = wire_wr_off(&mw->w);
	mk->ctn = mw->ct.n;
	memcpy(mk->counts, mw->counts, sizeof(mk->counts));
	mk->section = mw->section;
}
void msg_wr_restore(msg_wr *mw, const msg_wr_mark *mk);
/* Patches the counts into the header; returns the message length or a
 * negative code (DNS_EINVAL when no header was written). */
int msg_wr_finish(msg_wr *mw);

/* ---- text ---- */

/* dig-like rendering: header line, flags and counts, OPT pseudo-section,
 * then each section's questions/RRs (rr_to_text). With a message from
 * msg_parse_query only the header, question and OPT are shown. Returns
 * the length (NUL not counted) or DNS_ESPACE. */
int msg_to_text(const msg *m, char *out, size_t cap);

#endif
