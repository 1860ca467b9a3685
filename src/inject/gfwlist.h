/* gfwlist — loads gfwlist (AutoProxy / Adblock Plus syntax, usually base64)
 * into a rule set (rules.h).
 *
 * A DNS injector only sees names, so each AutoProxy rule is mapped to the
 * name rule that blocks what the rule's host part covers:
 *   ||host          -> *.host   (domain and subdomains)
 *   ||*.host        -> *.host
 *   |http://host/   -> host     (exact; any scheme:// is stripped)
 *   .host           -> *.host
 *   host (plain)    -> *host*   (ABP keyword: substring anywhere)
 *   @@<any above>   -> the same rule as an exception ("allow")
 *   a host with '*' inside (||cdn*.x.com) -> glob rules (cdn*.x.com and
 *                      *.cdn*.x.com for ||; the glob alone for |; *P* plain)
 * Skipped (counted in gfwlist_stats): comments ("!"), the "[AutoProxy x]"
 * header, blank lines, /regex/ rules (they match URLs, not names), and rules
 * with a path ("||x.com/foo"): a name-level injector cannot see the path,
 * and widening them to the whole host would block far more than the list
 * means. A trailing "/" or "|" and a ":port" are ignored. */
#ifndef ANTIDOTE_INJECT_GFWLIST_H
#define ANTIDOTE_INJECT_GFWLIST_H

#include <stddef.h>

#include "inject/rules.h"

struct gfwlist_stats {
	int rules;      /* block rules added */
	int exceptions; /* allow rules added */
	int regex;      /* /regex/ lines skipped */
	int path;       /* path-specific lines skipped */
	int other;      /* comments, header, blank, unusable */
};

/* Decodes base64 (white space ignored) into a new NUL-terminated buffer
 * (*out, caller frees). Returns the decoded length or DNS_ESYNTAX /
 * DNS_ENOMEM. */
int gfwlist_b64decode(const char *in, size_t len, char **out);

/* Adds the rules of a decoded list. stats may be NULL. Returns the number
 * of rules added (block + allow). */
int gfwlist_load_text(struct rules *r, const char *text, size_t len, struct gfwlist_stats *stats);

/* Reads path: base64 (the usual distribution) or already-decoded text
 * (first line "[AutoProxy ...]" or starting with '!' / '|'). Returns the
 * number of rules added or a negative DNS_E* with a message in err. */
int gfwlist_load(struct rules *r, const char *path, struct gfwlist_stats *stats, char *err, size_t errlen);

#endif
