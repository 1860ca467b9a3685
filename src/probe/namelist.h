/* namelist — the name files of `antidote probe --names` and `antidote watch
 * --canaries`: one name a line, optionally followed by a type mnemonic
 * ("www.example.com AAAA"); '#' starts a comment; blank lines are skipped;
 * a trailing dot is optional. A name starting with "*." (watch canaries) is
 * kept as written; the caller decides what the star means.
 *
 * The file is read whole into one buffer; entries point into it (text is
 * NUL-terminated in place). One allocation per file, none per name. */
#ifndef ANTIDOTE_PROBE_NAMELIST_H
#define ANTIDOTE_PROBE_NAMELIST_H

#include <stddef.h>
#include <stdint.h>

struct nl_entry {
	const char *name;  /* text, no trailing dot */
	uint16_t qtype;    /* 0 = not given (use the default) */
};

struct namelist {
	char *buf;
	struct nl_entry *e;
	size_t n;
};

/* Loads path ("-" = stdin). Returns the count or a negative code with a
 * "FILE:LINE: message" in err (bad type, name too long). */
long namelist_load(struct namelist *nl, const char *path, char *err, size_t errlen);
/* Parses text in place (buf is taken over; freed by namelist_free). */
long namelist_parse(struct namelist *nl, char *buf, size_t len, const char *what, char *err, size_t errlen);
void namelist_free(struct namelist *nl);

#endif
