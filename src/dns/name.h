/* name — domain names: wire decompression with limits, text form, compare,
 * canonical order, and compression when writing.
 *
 * Representation: a name is held uncompressed in wire form, a run of
 * length-prefixed labels ending with the zero-length root label, at most
 * NAME_MAXLEN (255) octets in all, labels at most 63 octets. Functions that
 * take `const uint8_t *name` require such a well-formed name (as produced by
 * name_unpack or name_from_text); they do not re-validate it.
 *
 * Case: names keep the case they were read with; comparisons and hashes are
 * ASCII case-insensitive (RFC 4343). */
#ifndef ANTIDOTE_DNS_NAME_H
#define ANTIDOTE_DNS_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/wire.h"

#define NAME_MAXLEN 255
#define NAME_MAXLABEL 63
#define NAME_MAXLABELS 127
/* Most compression pointers followed while reading one name. Pointers must
 * also point strictly backwards, so loops are impossible anyway; this bounds
 * the work an attacker can cause per name. */
#define NAME_MAXHOPS 64
/* Pointers into the 12-octet message header are refused: no name lives
 * there. */
#define NAME_MINPTR 12
/* Text form: worst case every octet as \DDD plus dots and NUL. */
#define NAME_MAXTEXT (NAME_MAXLEN * 4 + 2)

/* Reads a possibly compressed name at r->pos into out (uncompressed, case
 * kept) and advances r past it (past the first pointer, if any).
 * Pointers must point strictly before the start of the label sequence that
 * holds them (so only backwards), within r->msg, and not into the header
 * (offset < NAME_MINPTR). Returns the name's length
 * (1..255) or a negative DNS_E* code, which is also stored in r->err.
 * `out` may be NULL to validate and skip. */
int name_unpack(wire_rd *r, uint8_t *out);

/* Length in octets of a well-formed uncompressed name, including the root. */
size_t name_len(const uint8_t *name);
/* Number of labels, not counting the root (so "." has 0). */
int name_labels(const uint8_t *name);
/* The name without its first label; the root returns itself. */
static inline const uint8_t *name_parent(const uint8_t *name)
{
	return name[0] ? name + 1 + name[0] : name;
}
static inline bool name_is_root(const uint8_t *name) { return name[0] == 0; }
static inline bool name_is_wildcard(const uint8_t *name) { return name[0] == 1 && name[1] == '*'; }

/* Case-insensitive equality. */
bool name_eq(const uint8_t *a, const uint8_t *b);
/* True when name equals parent or lies below it. */
bool name_is_sub(const uint8_t *name, const uint8_t *parent);
/* RFC 4034 §6.1 canonical order: <0, 0, >0. */
int name_cmp(const uint8_t *a, const uint8_t *b);
/* Lowercases ASCII letters in place. */
void name_lower(uint8_t *name);
/* Copies name into out (NAME_MAXLEN bytes), returns length. */
size_t name_copy(uint8_t *out, const uint8_t *name);
/* Case-insensitive hash of the first len octets of a name. */
uint64_t name_hash(const uint8_t *name, size_t len);

/* Writes prefix's first `nlabels` labels followed by suffix into out.
 * Used for wildcard expansion and DNAME substitution. Returns the length or
 * DNS_ENAMELEN. */
int name_join(uint8_t *out, const uint8_t *prefix, int nlabels, const uint8_t *suffix);

/* Parses presentation form (RFC 1035 §5.1: \X and \DDD escapes) of len chars.
 * A name without a trailing dot is relative and gets `origin` appended
 * (DNS_ESYNTAX if origin is NULL). "@" is the origin. Returns the length or a
 * negative code. */
int name_from_text(const char *s, size_t len, const uint8_t *origin, uint8_t *out);
/* Writes the absolute presentation form ("www.example.", "." for the root)
 * with escapes, NUL-terminated. Returns the number of chars (without NUL) or
 * DNS_ESPACE. cap ≥ NAME_MAXTEXT always suffices. */
int name_to_text(const uint8_t *name, char *out, size_t cap);

/* Compression table for one message being written: remembers where name
 * suffixes were written so later names can point at them. Lives on the
 * stack; reset it with name_ctab_init for every new message. */
#define NAME_CTAB_MAX 96
typedef struct name_ctab {
	unsigned n;
	struct {
		uint16_t off;   /* offset of a label in the message */
		uint8_t labels; /* labels from there to the root */
	} e[NAME_CTAB_MAX];
} name_ctab;

static inline void name_ctab_init(name_ctab *ct) { ct->n = 0; }
/* Remembers a name already present in the message at offset off (e.g. the
 * question), so later names may point into it. */
void name_ctab_add(name_ctab *ct, const uint8_t *msg, size_t off);

/* Writes name at w, compressed against ct when ct is non-NULL (and the new
 * suffixes are added to ct); uncompressed when ct is NULL. Matching is
 * case-insensitive. Returns 0 or a negative code (also in w->err). */
int name_pack(wire_wr *w, const uint8_t *name, name_ctab *ct);

#endif
