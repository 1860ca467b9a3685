/* store — `antidote probe --sqlite FILE`: results in an SQLite database
 * (schema in README.md, "## antidote probe"; created if absent, appended to
 * if present: every invocation is one row of `run`).
 *
 * libsqlite3 is loaded at run time with dlopen("libsqlite3.so.0"): building
 * needs only the header (Debian libsqlite3-dev), linking needs no
 * -lsqlite3, and without the library store_available() says false and
 * store_open fails with a message. Rows are written in
 * transactions of STORE_BATCH queries with prepared statements. */
#ifndef ANTIDOTE_PROBE_STORE_H
#define ANTIDOTE_PROBE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probe/fingerprint.h"
#include "probe/prober.h"
#include "probe/rulekind.h"

#define STORE_BATCH 20000

struct store;

struct store_summary {
	uint64_t queries, answered, verdicts[4]; /* enum judge_verdict order */
	unsigned injectors;
};

bool store_available(void);
/* Opens (creates) path and starts a run row for command (the argv joined).
 * Returns NULL with a message in err. */
struct store *store_open(const char *path, const char *command, char *err, size_t errlen);
/* One query and its replies; cls/inj per reply (judge.h, fingerprint
 * ids; inj may be NULL). sent = CLOCK_REALTIME seconds of attempt 0.
 * Returns 0 or DNS_EIO. */
int store_query(struct store *s, const char *name, const char *type, const char *target, const char *verdict,
		double sent, const struct probe_result *r, const uint8_t *cls, const int *inj);
int store_injector(struct store *s, const struct fp_table *t, int id);
int store_base(struct store *s, const char *base, const char *target, enum rk_kind k, uint16_t forged, uint16_t known,
	       int dist);
/* Finishes the run row, commits, closes. NULL is fine. Returns 0 or DNS_EIO. */
int store_close(struct store *s, const struct store_summary *sum);

#endif
