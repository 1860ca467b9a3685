/* qname — the injector's name reader (quirks documented in qname.h). */
#include "inject/qname.h"

#include <string.h>

#include "dns/err.h"

/* The injector flattens into a 126-byte buffer: 125 chars and a NUL. */
#define NAMEBUF (QNAME_MAX + 1)

void qmem_model_default(struct qmem_model *m)
{
	m->fill = 'X';
	m->zero_prefix = 18;
	m->digest = false;
}

void qmem_init(struct qmem *m, const uint8_t *pkt, size_t len)
{
	m->pkt = pkt;
	m->pkt_len = len;
	m->udp_len = len;
	qmem_model_default(&m->model);
}

uint8_t qmem_byte(const struct qmem *m, size_t i)
{
	if (i < m->pkt_len && i < QMEM_SIZE)
		return m->pkt[i];
	if (m->model.digest && i < m->pkt_len + 4)
		return 'D';
	if (i < m->model.zero_prefix)
		return 0;
	return m->model.fill;
}

static uint16_t qmem_u16(const struct qmem *m, size_t i)
{
	return (uint16_t)(qmem_byte(m, i) << 8 | qmem_byte(m, i + 1));
}

int qname_read(const struct qmem *m, enum qname_regime rg, struct qname_view *v)
{
	size_t L = m->udp_len;

	memset(v, 0, sizeof(*v));
	if (L < 12)
		return DNS_ETRUNC;
	if (qmem_byte(m, 2) & 0x80)
		return DNS_EFORMAT;
	v->txid = qmem_u16(m, 0);
	v->rd = qmem_byte(m, 2) & 1;

	size_t pos = 12, nl = 0, qend;
	for (;;) {
		size_t c = qmem_byte(m, pos++);
		qend = pos;
		if (c == 0) {
			v->stop = QSTOP_ZERO;
			break;
		}
		if (pos > L) {
			v->stop = QSTOP_END;
			break;
		}
		if (rg == QNAME_UNPATCHED) {
			/* no room for a dot, one char and the NUL */
			if (nl + 3 > NAMEBUF) {
				v->stop = QSTOP_FULL;
				break;
			}
		} else {
			/* the cursor moves by what would fit (dot and NUL
			 * reserved) before the fit test: the v2 leak */
			size_t room = nl + 2 <= NAMEBUF ? NAMEBUF - 2 - nl : c;
			pos += c < room ? c : room;
			if (nl + c + 2 > NAMEBUF) {
				v->stop = QSTOP_FULL;
				break;
			}
		}
		if (nl > 0)
			v->name[nl++] = '.';
		size_t n = nl + c > QNAME_MAX ? QNAME_MAX - nl : c;
		for (size_t k = 0; k < n; k++)
			v->name[nl + k] = (char)qmem_byte(m, qend + k);
		nl += n;
		if (rg == QNAME_UNPATCHED) {
			pos += n;
			if (n < c) {
				v->stop = QSTOP_FULL;
				break;
			}
		}
	}
	v->name[nl] = '\0';
	v->name_len = strlen(v->name);
	v->qend = qend;
	v->copy_len = pos + 4;
	v->qtype = qmem_u16(m, qend);
	v->qclass = qmem_u16(m, qend + 2);
	return 0;
}

bool qname_answerable(const struct qmem *m, enum qname_regime rg, const struct qname_view *v)
{
	if (rg == QNAME_UNPATCHED)
		return true;
	/* udp_len > pkt_len: the QCLASS came from bytes nobody sent (see
	 * qname.h); the patched injector answered such queries. */
	if (v->qclass != 1 && !(rg == QNAME_PATCHED && m->udp_len > m->pkt_len))
		return false;
	if (rg == QNAME_FIXED)
		return v->stop == QSTOP_ZERO && v->qend + 4 <= m->udp_len &&
		       v->copy_len <= m->udp_len && v->qend + 4 == v->copy_len;
	return true;
}

const char *qname_regime_name(enum qname_regime rg)
{
	switch (rg) {
	case QNAME_UNPATCHED: return "unpatched";
	case QNAME_PATCHED: return "patched";
	case QNAME_FIXED: return "fixed";
	}
	return "?";
}

int qname_regime_parse(const char *s, enum qname_regime *out)
{
	static const enum qname_regime all[] = {QNAME_UNPATCHED, QNAME_PATCHED, QNAME_FIXED};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(s, qname_regime_name(all[i]))) {
			*out = all[i];
			return 0;
		}
	return DNS_ESYNTAX;
}
