/* rules — the injector's blocklist: GFWatch's nine rule kinds plus regex and
 * glob rules, block and allow ("exception") sets, fast matching.
 *
 * Kinds (base = facebook.com; s = the name, lower-cased):
 *   RULE_EXACT          facebook.com      s == base
 *   RULE_BASE_DOT       facebook.com.*    s starts with base + "."
 *   RULE_PREFIX         facebook.com*     s starts with base
 *   RULE_DOMAIN         *.facebook.com    s == base or ends with "." + base
 *   RULE_SUFFIX         *facebook.com     s ends with base (xfacebook.com too)
 *   RULE_DOMAIN_DOT     *.facebook.com.*  base at a label start, then "."
 *   RULE_DOMAIN_PREFIX  *.facebook.com*   base at a label start
 *   RULE_SUFFIX_DOT     *facebook.com.*   base anywhere, then "."
 *   RULE_SUBSTR         *facebook.com*    base anywhere
 *   RULE_REGEX          re:(^|\.)fb\.com$ POSIX ERE, case-insensitive
 *   RULE_GLOB           glob:cdn*.x.com   fnmatch(3) over the whole name
 * "label start" = position 0 or just after a '.'. Matching works on the
 * injector's flattened name (qname.h), so a dot inside a label counts.
 *
 * Matching cost: EXACT/BASE_DOT/PREFIX use incremental FNV-1a hashes of the
 * name's prefixes, DOMAIN/SUFFIX of its suffixes (reversed), each probed in
 * an open-addressing table only at candidate positions (label boundaries,
 * or lengths that some rule has); the four substring kinds share one
 * Aho-Corasick DFA over a byte-class alphabet; regex and glob rules are
 * tried one by one (keep them few).
 *
 * Own rule-file syntax (rules_load_file / rules_parse_line): one rule a
 * line, '#' starts a comment, blank lines ignored. A rule is either
 *   KIND BASE     KIND in exact, base-dot, prefix, domain, suffix,
 *                 domain-dot, domain-prefix, suffix-dot, substr, regex, glob
 *   NOTATION      facebook.com | facebook.com.* | facebook.com* |
 *                 *.facebook.com | *facebook.com | *.facebook.com.* |
 *                 *.facebook.com* | *facebook.com.* | *facebook.com* |
 *                 re:ERE | glob:PATTERN
 * optionally preceded by "allow " (an exception: names it matches are never
 * blocked). Errors are reported as "FILE:LINE: message".
 *
 * Lifecycle: rules_new, any number of adds/loads, rules_build, then
 * rules_match (read-only, thread-safe). Adding after a build requires
 * another rules_build. */
#ifndef ANTIDOTE_INJECT_RULES_H
#define ANTIDOTE_INJECT_RULES_H

#include <stdbool.h>
#include <stddef.h>

enum rule_kind {
	RULE_EXACT,
	RULE_BASE_DOT,
	RULE_PREFIX,
	RULE_DOMAIN,
	RULE_SUFFIX,
	RULE_DOMAIN_DOT,
	RULE_DOMAIN_PREFIX,
	RULE_SUFFIX_DOT,
	RULE_SUBSTR,
	RULE_REGEX,
	RULE_GLOB,
	RULE_NKINDS
};

/* Longest name rules_match looks at; longer names never match. */
#define RULES_NAME_MAX 255

struct rules;

struct rules *rules_new(void);
void rules_free(struct rules *r);

/* Adds one rule (base copied and lower-cased; for REGEX the ERE, for GLOB
 * the pattern). allow = exception. Returns the rule id (>= 0),
 * DNS_ESYNTAX (empty base, bad regex), DNS_ENOMEM. */
int rules_add(struct rules *r, enum rule_kind kind, const char *base, bool allow);

/* Parses one line of the own syntax and adds it. Returns the rule id, 0 for
 * a blank/comment line as well (check *added), or DNS_ESYNTAX with a
 * message in err. */
int rules_parse_line(struct rules *r, const char *line, bool *added, char *err, size_t errlen);

/* Loaders; each returns the number of rules added or a negative DNS_E* code
 * with a "FILE:LINE: message" (or "FILE: strerror") in err. */
int rules_load_file(struct rules *r, const char *path, char *err, size_t errlen);
/* Plain domain list, one a line ('#' comments): each becomes *.base. */
int rules_load_domains(struct rules *r, const char *path, char *err, size_t errlen);
/* dnsmasq "server=/domain[/domain...]/addr" (also address=, ipset=, nftset=)
 * lines: each domain becomes *.base; other lines are ignored. */
int rules_load_dnsmasq(struct rules *r, const char *path, char *err, size_t errlen);

/* Builds the match indexes. Returns 0 or DNS_ENOMEM. */
int rules_build(struct rules *r);

/* Matches name (len bytes, any case; len <= RULES_NAME_MAX) against the
 * built rules. Returns the id of a matching block rule, or -1 when no block
 * rule matches or an allow rule matches. */
int rules_match(const struct rules *r, const char *name, size_t len);

size_t rules_count(const struct rules *r);
/* Kind keyword ("exact", "domain", ...); parse returns DNS_ESYNTAX. */
const char *rules_kind_name(enum rule_kind k);
int rules_kind_parse(const char *s, enum rule_kind *out);
/* Writes rule id in the wildcard notation ("*.facebook.com", "re:...",
 * "allow ..." prefix for exceptions). Returns the length or DNS_E*. */
int rules_format(const struct rules *r, int id, char *buf, size_t len);

#endif
