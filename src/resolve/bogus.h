/* bogus — sets of addresses known to appear in forged (or hijacked) answers.
 *
 * Formats read (bogus_load), one entry per line, the way their users keep
 * them:
 *   - ChinaDNS iplist (`-l`): an IPv4 or IPv6 address, or a CIDR prefix
 *     ("1.2.3.4", "10.10.34.0/24", "2001::/32");
 *   - dnsmasq: `bogus-nxdomain=ADDR[/PREFIX]` (also with a leading "--",
 *     blanks around '=', or several addresses separated by commas). Other
 *     dnsmasq directives in the same file (`server=...`, a bare `no-resolv`)
 *     are skipped and counted, so a whole dnsmasq.conf can be given.
 * Blank lines and '#' comments (whole line or after a blank) are ignored.
 * Anything else is an error "FILE:LINE: message".
 *
 * bogus_write emits the set in either format (bogus_load reads both back);
 * a /32 or /128 entry is written as a bare address.
 *
 * Lookup: per family, entries sorted by (prefix length, masked address);
 * bogus_match binary-searches once per prefix length present (usually one:
 * /32), so a lookup costs a few dozen comparisons and no allocation.
 *
 * THREADS. Not locked. Adding entries marks the set unsorted; bogus_seal
 * sorts and deduplicates it. bogus_match on a sealed set only reads, so a
 * sealed set may be shared by threads; bogus_match on an unsealed set seals
 * it first (single-threaded use only).
 *
 * FORWARDING (reload). A set made by bogus_new_forward holds no entries of
 * its own: bogus_match, bogus_count, bogus_merge (as src) and bogus_write
 * use the set it currently forwards to (none: an empty set). bogus_forward
 * replaces that target with one atomic pointer store (release; readers
 * load it with acquire), so a reader holding the forwarding set (the
 * injection defence keeps its list pointer for life) sees the old or the
 * new list, never a mix. The caller keeps a replaced target alive until no
 * reader can still be matching against it (resolve.c waits for every
 * worker to pass a quiescent point). A target must be sealed and must not
 * forward itself; bogus_add refuses a forwarding set (DNS_EINVAL). */
#ifndef ANTIDOTE_RESOLVE_BOGUS_H
#define ANTIDOTE_RESOLVE_BOGUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct bogus bogus;

enum bogus_format { BOGUS_IPLIST = 0, BOGUS_DNSMASQ = 1 };

bogus *bogus_new(void);
/* A forwarding set (above) with target (sealed, may be NULL); NULL when
 * out of memory. bogus_free frees the forwarding set, never its target. */
bogus *bogus_new_forward(const bogus *target);
/* Makes fw forward to target (sealed or NULL); returns the previous
 * target. fw must come from bogus_new_forward. */
const bogus *bogus_forward(bogus *fw, const bogus *target);
/* What fw forwards to now (b itself when b does not forward). */
const bogus *bogus_target(const bogus *b);
void bogus_free(bogus *b);

/* Adds addr (4 or 16 octets) with prefix length plen (≤ 32 / 128); host
 * bits are cleared. 0, DNS_EINVAL, DNS_ENOMEM. */
int bogus_add(bogus *b, const uint8_t *addr, size_t alen, unsigned plen);
/* Adds "ADDR" or "ADDR/PLEN" (IPv4 or IPv6). 0 or DNS_ESYNTAX / DNS_ERANGE
 * / DNS_ENOMEM with a message in err. */
int bogus_add_text(bogus *b, const char *s, char *err, size_t errlen);
/* Reads a file in either format (above). Returns the number of entries
 * added (≥ 0) or a negative code with "FILE:LINE: message" in err.
 * *skipped (may be NULL) gets the number of other dnsmasq lines skipped. */
int bogus_load(bogus *b, const char *path, unsigned *skipped, char *err, size_t errlen);
/* Sorts and deduplicates (idempotent). */
void bogus_seal(bogus *b);

/* True when addr (4 or 16 octets) lies in one of the entries. NULL b: false. */
bool bogus_match(const bogus *b, const uint8_t *addr, size_t alen);
/* Entries (after dedup if sealed). */
size_t bogus_count(const bogus *b);
/* Adds every entry of src to dst. 0 or DNS_ENOMEM. */
int bogus_merge(bogus *dst, const bogus *src);

/* Writes the sealed set, sorted, one entry a line; returns the count or
 * DNS_EIO. Seals b first (hence not const). */
int bogus_write(bogus *b, FILE *f, enum bogus_format fmt);
/* The format a file name suggests: *.conf → BOGUS_DNSMASQ, else IPLIST. */
enum bogus_format bogus_format_for(const char *path);

/* "a.b.c.d" / "a.b.c.d/n" / IPv6 text of entry-shaped input into out
 * (≥ 48 octets); returns out. */
char *bogus_fmt(const uint8_t *addr, size_t alen, unsigned plen, char *out, size_t cap);

#endif
