/* rulekind — recovers the rule kind of a blocked base by probing variants of
 * it, as GFWatch does, and mapping which variants are forged to one of
 * GFWatch's nine kinds (base = facebook.com; s = the name):
 *   exact     s == base                 *.base     base or a subdomain
 *   base.*    base + "." + anything     *base      ends with base
 *   base*     starts with base          *.base.*   base at a label start, then "."
 *   *.base*   base at a label start     *base.*    base anywhere, then "."
 *   *base*    base anywhere
 * Variants probed (RK_NVAR), chosen so the nine match patterns differ in at
 * least two variants:
 *   0 base   1 www.base   2 xbase   3 base.x   4 basex
 *   5 www.base.x   6 xbase.x   7 xbasex   8 www.basex
 * Classification: the kind whose pattern is nearest to the observed forged
 * mask (Hamming distance over the `known` mask: variants whose outcome is
 * known — forged, genuine, or silence from a silent target); ties go to the
 * earlier kind in enum order. A base with no forged variant is
 * "unblocked"; with nothing known, "unknown". */
#ifndef ANTIDOTE_PROBE_RULEKIND_H
#define ANTIDOTE_PROBE_RULEKIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RK_NVAR 9

enum rk_kind {
	RK_EXACT, RK_BASE_DOT, RK_PREFIX, RK_DOMAIN, RK_SUFFIX,
	RK_DOMAIN_DOT, RK_DOMAIN_PREFIX, RK_SUFFIX_DOT, RK_SUBSTR,
	RK_NKINDS,
	RK_UNBLOCKED = RK_NKINDS,
	RK_UNKNOWN
};

/* Writes variant v of base (text, no trailing dot) into out. Returns the
 * length or DNS_ESPACE / DNS_EINVAL. */
int rulekind_variant(const char *base, unsigned v, char *out, size_t cap);
/* Whether a rule of kind k on base matches name (both lower-case text). */
bool rulekind_matches(enum rk_kind k, const char *base, const char *name);
/* Bit v set when kind k matches variant v. */
uint16_t rulekind_pattern(enum rk_kind k);
/* forged, known: bit masks over the variants. Returns the kind (or
 * RK_UNBLOCKED, RK_UNKNOWN when known is 0); *dist gets the distance. */
enum rk_kind rulekind_classify(uint16_t forged, uint16_t known, int *dist);
/* "exact", "base.*", "base*", "*.base", "*base", "*.base.*", "*.base*",
 * "*base.*", "*base*", "unblocked", "unknown". */
const char *rulekind_name(enum rk_kind k);
/* The same notation with the base written in, e.g. "*.facebook.com". */
int rulekind_format(enum rk_kind k, const char *base, char *out, size_t cap);

#endif
