/* report — what the lab measured: per resolver, per second and per phase
 * counts of verdicts (truth.h) and latency histograms; cache probes; the
 * injector's ground truth; what `antidote watch` saw beside each resolver
 * (lab/watchrun.h) and the border measured by `antidote probe`
 * (lab/probe_run.h); and the writers: live progress line, text table, JSON
 * and an SVG timeline.
 *
 * Time: t_ms counts from the start of user traffic. Phases: BEFORE
 * [0, fault_start), FAULT [fault_start, fault_start + fault_len), AFTER the
 * rest; a scenario without a window (has_window false) is all BEFORE.
 * Queries are attributed to the second and phase in which they were sent.
 *
 * Shares: forged share = forged / completed queries (answers + timeouts).
 * Memory: report_init allocates the per-second arrays once; recording
 * never allocates. Not thread-safe. */
#ifndef ANTIDOTE_LAB_REPORT_H
#define ANTIDOTE_LAB_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lab/probe_run.h"
#include "lab/truth.h"
#include "lab/watchrun.h"

#define REPORT_LATB 72   /* latency buckets: 10 per decade from 1 us */
#define REPORT_MAXRES 8

enum report_phase { PHASE_BEFORE, PHASE_FAULT, PHASE_AFTER, PHASE_N };

struct report_cell {
	uint32_t sent;
	uint32_t exposed;             /* sent for names an injector may answer:
				       * foreign .com/.net/.org, or blocklisted */
	uint32_t v[TRUTH_N];          /* completed queries by verdict */
	uint32_t forged_unblocked;    /* forged, for names off the blocklist */
	uint32_t lat[REPORT_LATB];    /* latency of answers (not timeouts) */
};

struct report_probe {
	uint32_t asked, forged, answered;
};

struct report_res {
	char name[24];
	char desc[64];
	bool defended;
	struct report_cell total, phase[PHASE_N];
	struct report_cell *sec;      /* nsec entries */
	struct report_probe probe[2]; /* 0: just after the fault, 1: at the end */
	uint64_t confirmed;           /* forged answers the injector log explains */
	uint64_t unconfirmed;         /* forged answers it does not */
	struct watch_summary watch;   /* its `antidote watch` (watch.on false: none) */
};

struct report {
	char scenario[16];
	char profile[16];
	const char *const *tune; /* the injector's --tune specs (borrowed), ntune of them */
	int ntune;
	unsigned sites, rate, seed, delay_ms, forged_ttl, ttl_scale;
	int64_t duration_ms, fault_start_ms, fault_len_ms;
	bool has_window;
	char window_label[40];  /* SVG label of the window ("" = "fault window") */
	unsigned nsec;
	unsigned nres;
	struct report_res res[REPORT_MAXRES];
	struct {
		bool have_log;
		uint64_t forged;            /* forged replies logged */
		uint64_t phase[PHASE_N];
	} inj;
	double setup_s, wall_s;
	struct probe_summary probe;   /* the border measured by `antidote probe` */
};

/* Fills the scenario fields first, then report_init sizes the series from
 * duration_ms. Returns 0 or DNS_ENOMEM. */
int report_init(struct report *r);
void report_free(struct report *r);
/* Returns the resolver's index or DNS_ESPACE. */
int report_add_resolver(struct report *r, const char *name, const char *desc, bool defended);

enum report_phase report_phase_at(const struct report *r, int64_t t_ms);
void report_sent(struct report *r, unsigned res, int64_t t_ms, bool exposed);
/* One completed query sent at t_ms. lat_us is ignored for timeouts. */
void report_record(struct report *r, unsigned res, int64_t t_ms, enum truth_verdict v, bool blocked,
		   uint32_t lat_us);

/* Helpers on cells. */
uint32_t report_done(const struct report_cell *c);    /* all verdicts */
uint32_t report_answers(const struct report_cell *c); /* all but timeouts */
double report_share(const struct report_cell *c, enum truth_verdict v); /* 0..1 of done */
double report_lat_ms(const struct report_cell *c, double q);            /* quantile q, -1 if none */
int report_lat_bucket(uint32_t us);

/* Writers. progress: one line, '\r'-updated on a tty, plain lines else. */
void report_progress(const struct report *r, int64_t t_ms, FILE *f, bool tty);
void report_table(const struct report *r, FILE *f);
int report_json(const struct report *r, FILE *f);
int report_svg(const struct report *r, FILE *f);

#endif
