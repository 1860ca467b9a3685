/* probe_run — the lab measuring its own border with `antidote probe`, the
 * way GFWatch measures the real one, and scoring that measurement against
 * the injector's ground truth (the gfw scenario's acceptance).
 *
 * Each run gets a fresh `antidote inject` relay on 127.0.0.1 with the lab
 * border's engine options (profile, seed, gfwlist, forged-address pools)
 * whose upstream is a silent port: any reply is forged (`probe --silent`).
 * The relay's --log is the truth. (In namespace mode too: the replica is
 * on the lab's own loopback.)
 *  1. names: every blocklisted foreign site name and as many unlisted
 *     foreign ones. Censored-name set: the names the probe calls forged vs
 *     the names of those the log shows forged (precision, recall). Pools:
 *     an injector of the log (gfw1, gfw2, gfw3) is recovered when one
 *     injector the probe told apart has exactly the addresses the log shows
 *     that injector sent.
 *  2. kinds: the relay also loads a generated rule set, per_kind bases for
 *     each of GFWatch's nine kinds ("kK-N.rulekind-lab.com": exact, base.*,
 *     base*, *.base, ...); `probe --kinds` over those bases and the zones of
 *     the blocklisted sites. Truth for a base: the kind rulekind_classify
 *     gives for the variants a rules set built as the relay's matches
 *     (for a generated base, the kind it was made with).
 * Files go to dir (probe-*.{txt,jsonl,log}). Children come from
 * child_spawn and are gone when probe_run returns. */
#ifndef ANTIDOTE_LAB_PROBE_RUN_H
#define ANTIDOTE_LAB_PROBE_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct internet;
struct rules;

#define PROBE_RUN_MAXINJ 4
#define PROBE_RUN_NWRONG 4

struct probe_run_inj {
	char name[16];        /* the log's injector name */
	unsigned pool_log;    /* addresses the log shows it sent */
	unsigned pool_found;  /* pool of the probe's injector with the most of them */
	bool recovered;       /* an injector found with exactly that pool */
};

struct probe_summary {
	bool on, ok;
	char error[200];
	double seconds;       /* both runs, relays included */
	/* names */
	unsigned names, listed;          /* asked; of them on the lab's blocklist */
	unsigned truth, found, tp;       /* forged per the log / per the probe / both */
	unsigned listed_truth;           /* listed names the log shows forged */
	double precision, recall;
	unsigned injectors_found;        /* injectors the probe told apart */
	unsigned ninj, pools_recovered;
	struct probe_run_inj inj[PROBE_RUN_MAXINJ];
	/* kinds */
	unsigned per_kind;
	unsigned bases, kinds_right, gen_bases, gen_right, list_bases, list_right;
	double kind_accuracy;
	unsigned nwrong;
	char wrong[PROBE_RUN_NWRONG][96]; /* "base: want K, got K" */
};

struct probe_run_cfg {
	const char *self;       /* the antidote binary */
	const char *dir;        /* the lab's temp dir */
	const char *datadir;    /* gfwlist and pools */
	const char *profile;    /* the border's profile */
	uint64_t seed;
	unsigned per_kind;      /* generated bases per kind (0: no kinds run) */
	const struct internet *net;
	unsigned timeout_s;     /* per probe run (default 60 when 0) */
};

/* Runs both measurements and fills s. Returns 0, or a negative DNS_E* code
 * with s->error set (stop: a signal flag that cuts it short). */
int probe_run(const struct probe_run_cfg *c, struct probe_summary *s, volatile sig_atomic_t *stop);

/* ---- the parts, for tests ---- */

/* Names to probe: every blocklisted foreign site's name, then as many
 * unlisted foreign ones (fewer when the internet has fewer). Returns the
 * count or DNS_EIO; *listed gets the blocklisted count. */
int probe_run_names(const struct internet *net, FILE *f, unsigned *listed);
/* The generated rule set (one rule a line, own syntax) and its bases with
 * their kind ("BASE KIND" lines). Returns the number of bases or DNS_EIO. */
int probe_run_kind_rules(unsigned per_kind, FILE *rules, FILE *truth);
/* The kind a black box sees for base under rules (built): RK_* value. */
int probe_run_expected_kind(const struct rules *r, const char *base);

/* Scores run 1: names_path (one a line), the relay's log, the probe's
 * JSON Lines. Fills the names fields of s. Returns 0 or DNS_EIO/DNS_ENOMEM. */
int probe_run_score_names(const char *names_path, const char *log_path, const char *probe_path,
			  const struct internet *net, struct probe_summary *s);
/* Scores run 2: truth_path has "BASE KIND" lines (the expected kind
 * names), probe_path the probe's {"base":...} lines; gen_bases is how
 * many leading truth lines are generated bases. Fills the kinds fields. */
int probe_run_score_kinds(const char *truth_path, const char *probe_path, unsigned gen_bases,
			  struct probe_summary *s);

/* Writers: a few lines under the table, and the JSON value of "probe". */
void probe_run_table(const struct probe_summary *s, FILE *f);
void probe_run_json(const struct probe_summary *s, FILE *f);

#endif
