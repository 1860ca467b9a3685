/* verdict — what the injection defence (defence.h) decided about each
 * upstream reply, and why: the signal vocabulary, per-upstream counters,
 * and the --log-verdicts JSON-lines log.
 *
 * SIGNALS are facts about one reply, each recorded as a bit (enum vsig).
 * They are grouped by what they say:
 *  - evidence it is genuine: VS_TCP, VS_COOKIE, VS_OPT, VS_TIMELY;
 *  - suspicion: VS_NO_OPT, VS_EARLY, VS_IP_TTL, VS_FLAGS, VS_SHAPE,
 *    VS_POOL, VS_MARKED;
 *  - proof of forgery: VS_TYPE, VS_LIST, VS_LEARNED, VS_DNSSEC_BOGUS (a
 *    signed name's answer that fails DNSSEC validation, validator.h);
 *  - proof of authenticity: VS_DNSSEC_OK (every answer RRset validated
 *    with keys chained to a trust anchor);
 *  - about the transaction: VS_CONFLICT (another, different reply came).
 * verdict_signal_why gives each in words a user understands.
 *
 * LOG LINE (one JSON object per line; fields always in this order):
 *   {"t":1700000000.123,"upstream":"127.0.0.1:5300","name":"www.x.com",
 *    "type":"A","seq":0,"transport":"udp","rtt_ms":21.300,
 *    "expect_rtt_ms":80.100,"ip_ttl":64,"ip_ttl_learnt":64,"flags":"0x8180",
 *    "counts":"1/1/0/0","opt":false,"cookie":false,"answer":["65.49.2.178"],
 *    "signals":["no-opt","early"],"score":-80,"verdict":"forged",
 *    "why":"...","dnssec":"..."}
 * "dnssec" (the validator's explanation, validator.h) appears only for
 * replies of names under a trust anchor; its text also ends "why".
 * expect_rtt_ms is null before the upstream's RTT is learnt; ip_ttl null
 * over TCP. Verdicts: accepted (served at once), held (kept while waiting
 * for more), forged (dropped, never cached), superseded (held, not chosen,
 * not proven forged), chosen (held, then served at the deadline), escalated
 * (the question was asked again over TCP), failed (nothing trustworthy).
 * A held reply gets a second line with its final verdict.
 *
 * THREADS. A verdict_log may be shared by threads: each line is formatted
 * in a caller buffer and written with one locked fwrite. Counters are
 * single-writer (the worker that owns them) relaxed atomics, read by any
 * thread. */
#ifndef ANTIDOTE_RESOLVE_VERDICT_H
#define ANTIDOTE_RESOLVE_VERDICT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum vsig {
	VS_TCP = 0,
	VS_COOKIE,
	VS_OPT,
	VS_TIMELY,
	VS_NO_OPT,
	VS_EARLY,
	VS_IP_TTL,
	VS_FLAGS,
	VS_SHAPE,
	VS_POOL,
	VS_MARKED,
	VS_TYPE,
	VS_LIST,
	VS_LEARNED,
	VS_CONFLICT,
	VS_DNSSEC_OK,
	VS_DNSSEC_BOGUS,
	VS_COUNT
};
#define VS_BIT(s) (1u << (s))
#define VS_PROOF (VS_BIT(VS_TYPE) | VS_BIT(VS_LIST) | VS_BIT(VS_LEARNED) | VS_BIT(VS_DNSSEC_BOGUS))

enum vkind { V_ACCEPTED = 0, V_HELD, V_FORGED, V_SUPERSEDED, V_CHOSEN, V_ESCALATED, V_FAILED, V_COUNT };

/* Short name ("no-opt") and the explanation in words. */
const char *verdict_signal_name(unsigned s);
const char *verdict_signal_why(unsigned s);
const char *verdict_kind_name(unsigned k);

/* Per-upstream counters (one set per worker per upstream). */
typedef struct verdict_counters {
	_Atomic uint64_t replies;     /* judged */
	_Atomic uint64_t accepted;    /* served at once */
	_Atomic uint64_t chosen;      /* held, then served at the deadline */
	_Atomic uint64_t held;        /* replies held at least for a while */
	_Atomic uint64_t forged;      /* dropped as forged */
	_Atomic uint64_t listed;      /* ... of which matched a --bogus-ip list */
	_Atomic uint64_t superseded;  /* held, not served, not proven forged */
	_Atomic uint64_t conflicts;   /* transactions that saw two different replies */
	_Atomic uint64_t escalations; /* questions asked again over TCP */
	_Atomic uint64_t tcp_first;   /* asked over TCP from the start (marked names) */
	_Atomic uint64_t failed;      /* transactions ended with nothing trustworthy */
	_Atomic uint64_t learned;     /* addresses learnt as forged */
	_Atomic uint64_t dnssec_ok;   /* replies validated secure */
	_Atomic uint64_t dnssec_bogus; /* replies dropped as DNSSEC bogus */
} verdict_counters;

/* Plain snapshot / sum of counters. */
typedef struct verdict_totals {
	uint64_t replies, accepted, chosen, held, forged, listed, superseded, conflicts, escalations, tcp_first,
		failed, learned, dnssec_ok, dnssec_bogus;
} verdict_totals;

void verdict_inc(_Atomic uint64_t *c);
/* Adds the counters c into t. */
void verdict_add(verdict_totals *t, const verdict_counters *c);
/* "accepted=1 chosen=0 ..." into out; returns out. */
char *verdict_totals_str(const verdict_totals *t, char *out, size_t cap);

/* One log record (all pointers borrowed for the call). */
typedef struct verdict_rec {
	double t;                  /* CLOCK_REALTIME seconds */
	const char *upstream;      /* "ADDR:PORT" */
	const uint8_t *qname;      /* wire form */
	uint16_t qtype;
	unsigned seq;
	bool tcp;
	uint64_t rtt_us;
	uint64_t expect_rtt_us;    /* 0: not learnt */
	int ip_ttl, ip_ttl_learnt; /* -1: unknown */
	uint16_t flags;
	uint16_t counts[4];
	bool opt, cookie;
	const char *const *answer; /* addresses as text */
	unsigned nanswer;
	uint32_t signals;          /* VS_BIT set */
	int score;
	enum vkind verdict;
	const char *why;           /* NULL: built from the signals */
	const char *dnssec;        /* validator's explanation, NULL/"": none */
} verdict_rec;

/* The JSON line (with '\n') into out; returns its length, or the length
 * it would need (like snprintf) when cap is too small. */
int verdict_format(const verdict_rec *r, char *out, size_t cap);
/* The explanation built from a record's signals and verdict. */
int verdict_why(const verdict_rec *r, char *out, size_t cap);

typedef struct verdict_log verdict_log;
/* Opens path for appending ("-": stdout). NULL with a message on error. */
verdict_log *verdict_log_open(const char *path, char *err, size_t errlen);
void verdict_log_close(verdict_log *l);
/* Makes l write to path from now on (log rotation, or a new name): the new
 * file is opened for appending and put in place of the old one's
 * descriptor under the stream's lock, so writers in other threads carry on
 * and no line is split or lost. Not for "-". Returns 0, or DNS_EIO /
 * DNS_EINVAL with a message in err (l keeps writing where it did). */
int verdict_log_reopen(verdict_log *l, const char *path, char *err, size_t errlen);
/* Formats and writes one line (NULL l: nothing). */
void verdict_log_write(verdict_log *l, const verdict_rec *r);
void verdict_log_flush(verdict_log *l);

#endif
