/* Fuzz target for src/dns/rdata: input = 2-byte type + RDATA (the whole
 * input is the "message", so pointers may refer back into it). Whatever
 * rdata_unpack accepts must print, parse back and give identical storage. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/rdata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXTOK 20000

/* Blank-separated tokens; "..." is one token (quotes dropped, escapes kept),
 * and a quote inside a word starts a new token (as zonefile.c does). */
static size_t tokenize(char *s, rdata_tok *tok)
{
	size_t n = 0;
	while (*s && n < MAXTOK) {
		if (*s == ' ') {
			s++;
			continue;
		}
		const char *q;
		if (*s == '"') {
			q = ++s;
			while (*s && *s != '"')
				s += (*s == '\\' && s[1]) ? 2 : 1;
			tok[n++] = (rdata_tok){q, (uint32_t)(s - q), 1};
			if (*s)
				s++;
		} else {
			q = s;
			while (*s && *s != ' ' && *s != '"')
				s += (*s == '\\' && s[1]) ? 2 : 1;
			tok[n++] = (rdata_tok){q, (uint32_t)(s - q), 0};
		}
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t store[70000], back[70000];
	static char text[300000];
	static rdata_tok tok[MAXTOK];
	if (size < 2 || size - 2 > 65535)
		return 0;
	uint16_t type = (uint16_t)(data[0] << 8 | data[1]);
	wire_rd r;
	wire_rd_init(&r, data, size);
	wire_rd_skip(&r, 2);
	wire_wr w;
	wire_wr_init(&w, store, sizeof(store));
	int n = rdata_unpack(type, &r, (uint16_t)(size - 2), &w);
	if (n < 0)
		return 0;
	if (wire_rd_left(&r) != 0 || (size_t)n != wire_wr_off(&w))
		abort();
	int tl = rdata_to_text(type, store, (uint16_t)n, text, sizeof(text));
	if (tl < 0 || (size_t)tl != strlen(text)) {
		fprintf(stderr, "to_text failed: %d\n", tl);
		abort();
	}
	size_t ntok = tokenize(text, tok);
	if (ntok >= MAXTOK)
		abort();
	/* tokenize() consumed text in place without modifying it */
	wire_wr_init(&w, back, sizeof(back));
	char err[RDATA_ERRLEN] = "";
	int n2 = rdata_from_text(type, tok, ntok, NULL, &w, err);
	if (n2 != n || memcmp(back, store, (size_t)n)) {
		fprintf(stderr, "round trip mismatch type %u: %d vs %d (%s)\n  text: %s\n", type, n, n2,
			err, text);
		abort();
	}
	/* rdata_pack with and without compression must succeed on storage */
	static uint8_t msg[140000];
	name_ctab ct;
	name_ctab_init(&ct);
	wire_wr_init(&w, msg, sizeof(msg));
	if (rdata_pack(type, store, (uint16_t)n, &w, &ct) != 0)
		abort();
	(void)rdata_target(type, store, (uint16_t)n);
	return 0;
}
