/* watchrun — `antidote watch` inside the lab: one watch child per resolver
 * under test (every kind, defended or not: the point of a defended resolver
 * is that its watch sees nothing), its canaries, and the JSON Lines it
 * prints turned into time to detect, time to clear and false positives.
 *
 * Canaries (watchrun_canaries): "*.ZONE" lines over generated foreign sites
 * of distinct .com/.net/.org bases that nothing on the blocklist matches,
 * plus a few .cn sites (the domestic server: the 25 Aug 2013 outage). A
 * "*." canary is asked under a fresh label each round, so every round
 * crosses the border and no cache hides a change (the baseline is
 * NXDOMAIN: the lab's zones have no wildcards).
 *
 * Times: watch prints CLOCK_REALTIME Unix seconds; a summary holds scenario
 * seconds, t - epoch_s, where epoch_s is the users' start (= the border
 * relay's --epoch-ms).
 * Scoring (watchrun_score) against the fault window [start_s, end_s):
 *   - an incident raised in [start_s, end_s + WATCHRUN_GRACE_S] is in the
 *     window; every other raise is a false positive (in a scenario without
 *     a window, every raise);
 *   - detect_s: the first in-window raise of the expected kind (and TLD or
 *     address, when given) minus start_s; NAN when there is none;
 *   - clear_s: the last clear of those incidents (or, with none expected,
 *     of every in-window one) minus end_s (negative: cleared before the fault ended); NAN while
 *     one is still active when the watch stopped, or when nothing was raised.
 * Summaries are plain values (no pointers); at most WATCHRUN_MAXINC
 * incidents are kept, the rest counted in `lost`. */
#ifndef ANTIDOTE_LAB_WATCHRUN_H
#define ANTIDOTE_LAB_WATCHRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lab/child.h"

struct internet;
struct rules;

#define WATCHRUN_MAXINC 16
#define WATCHRUN_GRACE_S 1.0
#define WATCHRUN_NCNO 30  /* default foreign canaries */
#define WATCHRUN_NCN 6    /* default .cn canaries */

struct watch_incident {
	unsigned id;
	char kind[16];      /* "hijack", "tld-outage" */
	char what[48];      /* hijack: the address; tld-outage: the TLD */
	double raise_s;     /* scenario seconds */
	double clear_s;     /* scenario seconds; NAN: still active at the end */
	bool in_window;     /* set by watchrun_score */
};

struct watch_summary {
	bool on;            /* a watch ran for this resolver */
	bool ready;         /* it printed its ready event */
	bool stopped;       /* it printed its stop line */
	double ready_s;     /* scenario seconds of the ready event */
	unsigned canaries;
	uint64_t rounds, queries, timeouts; /* from the stop line */
	unsigned n, lost;
	struct watch_incident inc[WATCHRUN_MAXINC];
	/* watchrun_score */
	double detect_s, clear_s;
	unsigned in_window, false_pos;
};

/* What a scenario's fault should raise. */
struct watch_window {
	bool has;           /* false: no fault, every raise is a false positive */
	double start_s, end_s;
	const char *kind;   /* expected kind, NULL = any */
	const char *what;   /* expected address / TLD, NULL = any */
};

/* How the watches run. */
struct watchrun_cfg {
	const char *self;       /* the antidote binary */
	const char *canaries;   /* canary file */
	double interval;        /* seconds between rounds */
	unsigned timeout_ms, retries;
};

/* Writes up to ncno foreign and ncn .cn canaries ("*.ZONE", one a line,
 * distinct bases) drawn from net with seed; sites whose canary the rules
 * (built; may be NULL) would match are skipped. Returns the number written
 * or DNS_EIO; *got_cno / *got_cn (may be NULL) get the counts. */
int watchrun_canaries(const struct internet *net, const struct rules *rules, uint64_t seed, unsigned ncno,
		      unsigned ncn, FILE *f, unsigned *got_cno, unsigned *got_cn);

/* Spawns `antidote watch` at 127.0.0.1:port (in the namespace set with
 * child_set_netns), output (stdout and stderr) to log. NULL with err. */
struct child *watchrun_start(const struct watchrun_cfg *c, const char *name, uint16_t port, const char *log,
			     char *err, size_t errlen);
/* Whether the log at path holds the ready event yet. */
bool watchrun_log_ready(const char *path);

/* Folds one output line into s (other lines are ignored). */
void watchrun_line(struct watch_summary *s, const char *line, double epoch_s);
/* Reads a whole log into s (s->on set). Returns 0 or DNS_EIO. */
int watchrun_read(struct watch_summary *s, const char *path, double epoch_s);
void watchrun_score(struct watch_summary *s, const struct watch_window *w);

/* Writers: a header and one row per resolver of the table; the JSON value
 * of a resolver's "watch" key. */
void watchrun_table_head(FILE *f);
void watchrun_table_row(const char *resolver, const struct watch_summary *s, FILE *f);
void watchrun_json(const struct watch_summary *s, FILE *f);

#endif
