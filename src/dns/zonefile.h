/* zonefile — RFC 1035 §5 master-file parser.
 *
 * Supports $ORIGIN, $TTL, $INCLUDE (with optional origin), parentheses across
 * lines, ';' comments, quoted strings, \X and \DDD escapes, relative names
 * and '@', omitted owner (previous owner), omitted TTL and class in either
 * order, mnemonics and TYPEnnn/CLASSnnn, and RFC 3597 `\# len hex` RDATA.
 *
 * The parser reports each record to a callback; it allocates nothing that
 * outlives the call. The records it reports point into parser-owned storage
 * valid only during the callback. On the first error it stops and returns a
 * negative code with "file:line: message" in err, so a caller can refuse a
 * zone whole (never half-loaded).
 *
 * Omitted TTL: $TTL when set, else the last explicit TTL, else 3600.
 * Omitted class: IN (or the previous record's class). Only class IN is
 * accepted in zones served by antidote; other classes are a file:line error. */
#ifndef ANTIDOTE_DNS_ZONEFILE_H
#define ANTIDOTE_DNS_ZONEFILE_H

#include <stddef.h>
#include <stdint.h>

#define ZONEFILE_ERRLEN 512

typedef struct zf_rr {
	const uint8_t *owner; /* uncompressed wire name, case as written */
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	const uint8_t *rdata; /* storage form (see rdata.h) */
	uint16_t rdlen;
	const char *file;     /* file the record came from */
	unsigned line;        /* line its owner/first token is on */
} zf_rr;

/* Return 0 to go on; a negative code stops the parse, which then returns it
 * (the callback may write its own message into err via zf_error). */
typedef int (*zf_cb)(void *arg, const zf_rr *rr);

/* Parses the file at path. origin (wire name) may be NULL: then relative
 * names are an error until a $ORIGIN appears. Returns the number of records
 * or a negative code with err filled ("file:line: message"). */
long zonefile_parse(const char *path, const uint8_t *origin, zf_cb cb, void *arg,
		    char *err, size_t errlen);
/* The same on an in-memory text (name used in messages; $INCLUDE resolved
 * relative to the current directory). */
long zonefile_parse_mem(const char *text, size_t len, const char *name, const uint8_t *origin,
			zf_cb cb, void *arg, char *err, size_t errlen);

#endif
