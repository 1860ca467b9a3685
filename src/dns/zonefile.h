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
 * Semantics (chosen to match NSD 4.6's zone compiler, see nsd-checkzone -p):
 *  - Omitted TTL: the value of the last $TTL seen, else 3600. An explicit TTL
 *    on one record does NOT become the default of the next ones (RFC 1035's
 *    "last stated TTL" rule is not used; NSD does not use it either).
 *    TTLs are seconds or BIND units (1w2d3h4m5s, case-insensitive, a bare
 *    trailing number is seconds: 1h30 = 3630); at most 2147483647.
 *  - Omitted class: IN. Only class IN is accepted ("only class IN is
 *    supported"). TTL and class may come in either order.
 *  - Omitted owner (entry starts with a blank): the owner of the previous
 *    record, even across $INCLUDE boundaries (as NSD); an error if none.
 *  - $INCLUDE file [origin]: file relative to the including file's directory
 *    (relative to the working directory for in-memory text); the included
 *    text starts with the given origin (absolute or relative to the current
 *    one) or the current origin. When it ends the including file's origin is
 *    restored (RFC 1035); $TTL and the previous owner carry over (as NSD).
 *    Nesting depth at most ZONEFILE_MAXDEPTH; a file including itself
 *    (directly or not) is an error; only regular files are read.
 *  - Directives must start in column 0 (NSD: the same).
 *  - Quoted strings may span lines; '"' inside an unquoted token ends it.
 *    Parentheses do not nest.
 *  - One record (entry, including continuation lines and comments) is at
 *    most ZONEFILE_MAXENTRY characters.
 *  - Error line numbers: the line of the record's first token for errors in
 *    a record (owner, TTL, class, type, RDATA); the exact line for lexical
 *    errors (stray ')' or the unclosed '(' / '"').
 *
 * Performance: a file is read with one read(2); tokens point into it (no
 * copy, no malloc per record); one RDATA buffer is reused. */
#ifndef ANTIDOTE_DNS_ZONEFILE_H
#define ANTIDOTE_DNS_ZONEFILE_H

#include <stddef.h>
#include <stdint.h>

#define ZONEFILE_ERRLEN 512
#define ZONEFILE_MAXDEPTH 10            /* $INCLUDE nesting */
#define ZONEFILE_MAXENTRY (256 * 1024)  /* chars in one record's text */
#define ZONEFILE_DEFAULT_TTL 3600

/* Flags for zonefile_parse_mem_flags. */
#define ZONEFILE_NO_INCLUDE 1u /* $INCLUDE is an error (fuzzing, untrusted text) */

typedef struct zf_rr {
	const uint8_t *owner; /* uncompressed wire name, case as written */
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	const uint8_t *rdata; /* storage form (see rdata.h) */
	uint16_t rdlen;
	const char *file;     /* file the record came from */
	unsigned line;        /* line its owner/first token is on */
	const uint8_t *origin; /* current $ORIGIN (NULL if none) */
} zf_rr;

/* Return 0 to go on; a negative code stops the parse, which then returns it.
 * The callback may write its own message into err with zf_error (it must
 * reach err through its arg); if it leaves err empty the parser writes
 * "file:line: <dns_strerror(code)>". */
typedef int (*zf_cb)(void *arg, const zf_rr *rr);

/* Parses the file at path. origin (wire name) may be NULL: then relative
 * names are an error until a $ORIGIN appears. Returns the number of records
 * or a negative code with err filled ("file:line: message"; for a file that
 * cannot be read "path: message"). */
long zonefile_parse(const char *path, const uint8_t *origin, zf_cb cb, void *arg,
		    char *err, size_t errlen);
/* The same on an in-memory text (name used in messages; $INCLUDE resolved
 * relative to the current directory). */
long zonefile_parse_mem(const char *text, size_t len, const char *name, const uint8_t *origin,
			zf_cb cb, void *arg, char *err, size_t errlen);
/* zonefile_parse_mem with ZONEFILE_* flags. */
long zonefile_parse_mem_flags(const char *text, size_t len, const char *name,
			      const uint8_t *origin, unsigned flags, zf_cb cb, void *arg,
			      char *err, size_t errlen);

/* Formats "file:line: message" for rr into err and returns code; for use by
 * callbacks that refuse a record. */
int zf_error(const zf_rr *rr, char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#endif
