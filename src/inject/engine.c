/* engine — per-query injection decisions (contract in engine.h). */
#include "inject/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <arpa/inet.h>

#include "dns/err.h"
#include "inject/pool.h"
#include "util/json.h"

struct inj_engine {
	struct inj_profile prof;
	struct rules *rules;     /* borrowed or owned */
	struct rules *own_rules;
	struct pool pools[POOL_N];
	struct pool_cursor cur[PROFILE_MAX_INJ][2];
	uint16_t ipid_next[PROFILE_MAX_INJ];
	uint64_t rng;
};

void inj_config_default(struct inj_config *c)
{
	memset(c, 0, sizeof(*c));
	c->profile = "gfw";
	profile_opts_default(&c->popts);
	c->seed = 1;
}

static const char *const default_rules[] = {
	"*.facebook.com", "*.twitter.com", "*.youtube.com", "*.google.com", "*.rsf.org",
	"*.wikipedia.org", "*.3.tt", "*.4.tt", "shadowvpn.com*", "*69.mu*",
};
static const char *const builtin_pools[POOL_N][4] = {
	[POOL_A] = {"159.106.121.75", "243.185.187.39", "78.16.49.15"},
	[POOL_AAAA] = {"2001::d155:9f89"},
	[POOL_JAN21] = {"65.49.2.178"},
	[POOL_IRAN_A] = {"10.10.34.34", "10.10.34.35", "10.10.34.36"},
	[POOL_IRAN_AAAA] = {"2001:4188:2:600:10:10:34:34", "2001:4188:2:600:10:10:34:35",
			    "2001:4188:2:600:10:10:34:36"},
};

static uint64_t rnd(struct inj_engine *e)
{
	uint64_t x = e->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return e->rng = x;
}

static int64_t rnd_range(struct inj_engine *e, int64_t lo, int64_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + (int64_t)(rnd(e) % (uint64_t)(hi - lo + 1));
}

struct inj_engine *inj_engine_new(const struct inj_config *c, char *err, size_t errlen)
{
	struct inj_engine *e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (int i = 0; i < POOL_N; i++)
		pool_init(&e->pools[i]);
	e->rng = c->seed ? c->seed * 0x9e3779b97f4a7c15ULL : 1;
	if (profile_make(&e->prof, c->profile ? c->profile : "gfw", &c->popts)) {
		snprintf(err, errlen, "unknown profile '%s' (gfw, jan21, iran, none)", c->profile);
		goto fail;
	}
	for (int i = 0; i < c->ntune; i++)
		if (profile_tune(&e->prof, c->tune[i], err, errlen) < 0)
			goto fail;
	const char *paths[POOL_N] = {[POOL_A] = c->pool_a_path, [POOL_AAAA] = c->pool_aaaa_path};
	for (int i = 0; i < POOL_N; i++) {
		if (paths[i]) {
			if (pool_load(&e->pools[i], paths[i], err, errlen) < 0)
				goto fail;
			int want = i == POOL_AAAA ? 6 : 4;
			if (!e->pools[i].n || (want == 4) != (e->pools[i].family == AF_INET)) {
				snprintf(err, errlen, "%s: expected IPv%d addresses", paths[i], want);
				goto fail;
			}
			continue;
		}
		for (int k = 0; k < 4 && builtin_pools[i][k]; k++)
			if (pool_add_text(&e->pools[i], builtin_pools[i][k])) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
	}
	e->rules = c->rules;
	if (!e->rules) {
		e->own_rules = e->rules = rules_new();
		bool added;
		char msg[128];
		for (size_t i = 0; e->rules && i < sizeof(default_rules) / sizeof(default_rules[0]); i++)
			if (rules_parse_line(e->rules, default_rules[i], &added, msg, sizeof(msg)) < 0)
				goto fail;
		if (!e->rules || rules_build(e->rules)) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	return e;
fail:
	inj_engine_free(e);
	return NULL;
}

void inj_engine_free(struct inj_engine *e)
{
	if (!e)
		return;
	for (int i = 0; i < POOL_N; i++)
		pool_free(&e->pools[i]);
	rules_free(e->own_rules);
	free(e);
}

const struct inj_profile *inj_engine_profile(const struct inj_engine *e)
{
	return &e->prof;
}

bool inj_engine_in_window(const struct inj_engine *e, int64_t now_ms)
{
	return e->prof.win_len_ms > 0 && now_ms >= e->prof.win_start_ms &&
	       now_ms < e->prof.win_start_ms + e->prof.win_len_ms;
}

static bool com_net_org(const char *n, size_t len)
{
	const char *dot = memrchr(n, '.', len);
	const char *last = dot ? dot + 1 : n;
	size_t l = len - (size_t)(last - n);
	return l == 3 && (!strncasecmp(last, "com", 3) || !strncasecmp(last, "net", 3) ||
			  !strncasecmp(last, "org", 3));
}

/* Whether injector i fires on m; *v is its reading of the name. */
static bool fires(struct inj_engine *e, const struct inj_fp *fp, const struct qmem *m, struct qname_view *v)
{
	if (qname_read(m, fp->regime, v))
		return false;
	bool sel = fp->select == SELECT_RULES ? rules_match(e->rules, v->name, v->name_len) >= 0
					      : com_net_org(v->name, v->name_len);
	return sel && qname_answerable(m, fp->regime, v);
}

int inj_engine_process(struct inj_engine *e, const struct qmem *m, int64_t now_ms, struct inj_forged *out,
		       int max, struct qname_view *vout)
{
	struct qname_view views[PROFILE_MAX_INJ];
	bool fire[PROFILE_MAX_INJ] = {false};
	bool inwin = inj_engine_in_window(e, now_ms), window_fired = false;
	int first = -1;

	bool done[PROFILE_MAX_INJ] = {false};
	for (int i = 0; i < e->prof.n; i++) {
		const struct inj_fp *fp = &e->prof.inj[i];
		if (fp->window && !inwin)
			continue;
		/* injectors with the same reader and selection decide alike: read
		 * and match once (the gfw triplet) */
		int same = -1;
		for (int j = 0; j < i && same < 0; j++)
			if (done[j] && e->prof.inj[j].regime == fp->regime && e->prof.inj[j].select == fp->select)
				same = j;
		if (same >= 0) {
			fire[i] = fire[same];
			views[i] = views[same];
		} else {
			fire[i] = fires(e, fp, m, &views[i]);
		}
		done[i] = true;
		if (fire[i] && fp->window)
			window_fired = true;
	}
	int k = 0;
	for (int i = 0; i < e->prof.n && k < max; i++) {
		const struct inj_fp *fp = &e->prof.inj[i];
		if (!fire[i] || (window_fired && !fp->window))
			continue;
		/* an injector that misses some of its names (1-3 replies a query) */
		if (fp->miss > 0 && (double)(rnd(e) >> 11) * 0x1p-53 < fp->miss)
			continue;
		const struct qname_view *v = &views[i];
		struct inj_forged *f = &out[k];
		uint16_t type = fp->force_a ? 1 : forge_answer_type(v->qtype);
		enum pool_id pid = type == 28 ? fp->pool6 : fp->pool4;
		if (pid == POOL_NONE || !e->pools[pid].n) {
			type = 1;
			pid = fp->pool4;
		}
		const struct pool *p = &e->pools[pid];
		memset(f->addr, 0, sizeof(f->addr));
		memcpy(f->addr, pool_next(p, &e->cur[i][type == 28], v->name, v->name_len, fp->subset_k),
		       pool_addr_len(p));
		f->type = type;
		f->ttl = (uint32_t)rnd_range(e, fp->ttl_min, fp->ttl_max);
		f->lead_ms = (int)rnd_range(e, fp->lead_min_ms, fp->lead_max_ms);
		f->ipid = fp->ipid == IPID_RANDOM ? (uint16_t)rnd(e) : fp->ipid == IPID_INCR ? e->ipid_next[i]++ : 0;
		f->ip_ttl = fp->ip_ttl == INJ_IPTTL_RANDOM ? (int)rnd_range(e, 1, 255) : fp->ip_ttl;
		int len = forge_build(f->pkt, sizeof(f->pkt), m, v, fp->flags, type == 1, f->ttl, f->addr);
		if (len < 0)
			continue;
		f->len = (size_t)len;
		f->inj = i;
		f->fp = fp;
		if (first < 0)
			first = i;
		k++;
	}
	if (vout) {
		if (first >= 0)
			*vout = views[first];
		else if (qname_read(m, e->prof.n ? e->prof.inj[0].regime : QNAME_FIXED, vout))
			memset(vout, 0, sizeof(*vout));
	}
	return k;
}

void inj_log_forged(FILE *lf, const char *client, const struct qname_view *v, const struct inj_forged *f,
		    uint64_t send_in, int ip_ttl)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char ip[64];
	inet_ntop(f->type == 28 ? AF_INET6 : AF_INET, f->addr, ip, sizeof(ip));
	flockfile(lf); /* one line, even with relay threads sharing the file */
	fprintf(lf, "{\"t\":%lld.%06ld,\"client\":\"%s\",\"txid\":%u,\"qname\":", (long long)ts.tv_sec,
		ts.tv_nsec / 1000, client, v->txid);
	json_str_n(lf, v->name, v->name_len);
	fprintf(lf, ",\"qtype\":%u,\"injector\":\"%s\",\"type\":\"%s\",\"address\":\"%s\",\"ttl\":%u,"
		    "\"lead_ms\":%d,\"send_in_ms\":%llu,\"ip_ttl\":%d,\"ipid\":%u,\"df\":%s}\n",
		v->qtype, f->fp->name, f->type == 28 ? "AAAA" : "A", ip, f->ttl, f->lead_ms,
		(unsigned long long)send_in, ip_ttl, f->ipid, f->fp->df ? "true" : "false");
	funlockfile(lf);
}
