/* store — probe results in SQLite. */
#include "probe/store.h"

#include <dlfcn.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/err.h"
#include "dns/msg.h"

/* libsqlite3 is loaded at run time (dlopen), so the binary needs no
 * -lsqlite3 and runs without the library (--sqlite then fails cleanly).
 * Calls below go through this table: sqlite3_x(...) is S.x(...). */
#define FN(x) __typeof__(sqlite3_##x) *x
static struct {
	bool tried, ok;
	FN(open_v2); FN(close); FN(exec); FN(errmsg); FN(prepare_v2); FN(finalize); FN(reset); FN(step);
	FN(bind_int64); FN(bind_double); FN(bind_text); FN(free); FN(last_insert_rowid);
} S;
#undef FN

static bool load(void)
{
	if (S.tried)
		return S.ok;
	S.tried = true;
	void *h = dlopen("libsqlite3.so.0", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		h = dlopen("libsqlite3.so", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return false;
#define LD(x) if (!(*(void **)&S.x = dlsym(h, "sqlite3_" #x))) return false
	LD(open_v2); LD(close); LD(exec); LD(errmsg); LD(prepare_v2); LD(finalize); LD(reset); LD(step);
	LD(bind_int64); LD(bind_double); LD(bind_text); LD(free); LD(last_insert_rowid);
#undef LD
	S.ok = true;
	return true;
}

#define sqlite3_open_v2 S.open_v2
#define sqlite3_close S.close
#define sqlite3_exec S.exec
#define sqlite3_errmsg S.errmsg
#define sqlite3_prepare_v2 S.prepare_v2
#define sqlite3_finalize S.finalize
#define sqlite3_reset S.reset
#define sqlite3_step S.step
#define sqlite3_bind_int64 S.bind_int64
#define sqlite3_bind_double S.bind_double
#define sqlite3_bind_text S.bind_text
#define sqlite3_free S.free
#define sqlite3_last_insert_rowid S.last_insert_rowid

static const char schema[] =
	"PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	"CREATE TABLE IF NOT EXISTS run(id INTEGER PRIMARY KEY, started REAL, finished REAL, command TEXT,"
	" queries INTEGER, answered INTEGER, genuine INTEGER, forged INTEGER, conflict INTEGER, none INTEGER,"
	" injectors INTEGER);"
	"CREATE TABLE IF NOT EXISTS query(id INTEGER PRIMARY KEY, run INTEGER NOT NULL REFERENCES run(id),"
	" name TEXT NOT NULL, type TEXT NOT NULL, target TEXT NOT NULL, verdict TEXT NOT NULL,"
	" attempts INTEGER, replies INTEGER, sent REAL);"
	"CREATE INDEX IF NOT EXISTS query_name ON query(name);"
	"CREATE TABLE IF NOT EXISTS reply(query INTEGER NOT NULL REFERENCES query(id), seq INTEGER NOT NULL,"
	" t_ms REAL, ip_ttl INTEGER, flags INTEGER, rcode TEXT, ttl INTEGER, opt INTEGER, answers TEXT,"
	" class TEXT, injector INTEGER, PRIMARY KEY(query, seq));"
	"CREATE TABLE IF NOT EXISTS injector(run INTEGER NOT NULL REFERENCES run(id), id INTEGER NOT NULL,"
	" flags INTEGER, ip_ttl INTEGER, opt INTEGER, ttl_min INTEGER, ttl_max INTEGER, replies INTEGER,"
	" queries INTEGER, pool_size INTEGER, PRIMARY KEY(run, id));"
	"CREATE TABLE IF NOT EXISTS pool(run INTEGER NOT NULL, injector INTEGER NOT NULL, address TEXT NOT NULL,"
	" PRIMARY KEY(run, injector, address));"
	"CREATE TABLE IF NOT EXISTS base(run INTEGER NOT NULL REFERENCES run(id), base TEXT NOT NULL,"
	" target TEXT NOT NULL, kind TEXT NOT NULL, rule TEXT, forged_mask INTEGER, known_mask INTEGER,"
	" distance INTEGER);";

struct store {
	sqlite3 *db;
	sqlite3_stmt *q, *r, *inj, *pool, *base;
	int64_t run;
	unsigned pending;
	char err[256];
};

bool store_available(void)
{
	return load();
}

static double now_real(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int exec(struct store *s, const char *sql)
{
	char *e = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &e) != SQLITE_OK) {
		snprintf(s->err, sizeof(s->err), "sqlite: %s", e ? e : "?");
		sqlite3_free(e);
		return DNS_EIO;
	}
	return 0;
}

static int step(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : DNS_EIO;
}

static void destroy(struct store *s)
{
	sqlite3_stmt *v[] = {s->q, s->r, s->inj, s->pool, s->base};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (v[i])
			sqlite3_finalize(v[i]);
	if (s->db)
		sqlite3_close(s->db);
	free(s);
}

struct store *store_open(const char *path, const char *command, char *err, size_t errlen)
{
	if (!store_available()) {
		snprintf(err, errlen, "libsqlite3.so.0 not found (Debian: libsqlite3-0): --sqlite unavailable");
		return NULL;
	}
	struct store *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "cannot open");
		destroy(s);
		return NULL;
	}
	if (exec(s, schema) < 0) {
		snprintf(err, errlen, "%s: %s", path, s->err);
		destroy(s);
		return NULL;
	}
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO run(started, command) VALUES(?, ?)", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(s->db));
		destroy(s);
		return NULL;
	}
	sqlite3_bind_double(st, 1, now_real());
	sqlite3_bind_text(st, 2, command, -1, SQLITE_TRANSIENT);
	int rc = step(st);
	sqlite3_finalize(st);
	s->run = sqlite3_last_insert_rowid(s->db);
	struct {
		sqlite3_stmt **st;
		const char *sql;
	} ps[] = {
		{&s->q, "INSERT INTO query(run, name, type, target, verdict, attempts, replies, sent)"
			" VALUES(?,?,?,?,?,?,?,?)"},
		{&s->r, "INSERT INTO reply(query, seq, t_ms, ip_ttl, flags, rcode, ttl, opt, answers, class, injector)"
			" VALUES(?,?,?,?,?,?,?,?,?,?,?)"},
		{&s->inj, "INSERT OR REPLACE INTO injector(run, id, flags, ip_ttl, opt, ttl_min, ttl_max, replies,"
			  " queries, pool_size) VALUES(?,?,?,?,?,?,?,?,?,?)"},
		{&s->pool, "INSERT OR IGNORE INTO pool(run, injector, address) VALUES(?,?,?)"},
		{&s->base, "INSERT INTO base(run, base, target, kind, rule, forged_mask, known_mask, distance)"
			   " VALUES(?,?,?,?,?,?,?,?)"},
	};
	for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		if (sqlite3_prepare_v2(s->db, ps[i].sql, -1, ps[i].st, NULL) != SQLITE_OK) {
			snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(s->db));
			destroy(s);
			return NULL;
		}
	}
	if (rc < 0 || exec(s, "BEGIN") < 0) {
		snprintf(err, errlen, "%s: cannot start the run", path);
		destroy(s);
		return NULL;
	}
	return s;
}

static int batch(struct store *s)
{
	if (++s->pending < STORE_BATCH)
		return 0;
	s->pending = 0;
	if (exec(s, "COMMIT") < 0)
		return DNS_EIO;
	return exec(s, "BEGIN");
}

int store_query(struct store *s, const char *name, const char *type, const char *target, const char *verdict,
		double sent, const struct probe_result *r, const uint8_t *cls, const int *inj)
{
	sqlite3_stmt *q = s->q;
	sqlite3_bind_int64(q, 1, s->run);
	sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, target, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, verdict, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 6, r->attempts);
	sqlite3_bind_int64(q, 7, r->nrep + r->extra);
	sqlite3_bind_double(q, 8, sent);
	if (step(q) < 0)
		return DNS_EIO;
	int64_t qid = sqlite3_last_insert_rowid(s->db);
	for (unsigned i = 0; i < r->nrep; i++) {
		const struct probe_reply *p = &r->rep[i];
		char ans[PROBE_MAXADDR * 48 + 8];
		prober_reply_answers(p, ans, sizeof(ans));
		const char *rc = msg_rcode_name(msg_flags_rcode(p->flags));
		sqlite3_stmt *st = s->r;
		sqlite3_bind_int64(st, 1, qid);
		sqlite3_bind_int64(st, 2, i);
		sqlite3_bind_double(st, 3, p->t_us / 1000.0);
		sqlite3_bind_int64(st, 4, p->ip_ttl);
		sqlite3_bind_int64(st, 5, p->flags);
		sqlite3_bind_text(st, 6, rc ? rc : "?", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 7, p->ttl);
		sqlite3_bind_int64(st, 8, p->opt);
		sqlite3_bind_text(st, 9, ans, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 10, cls[i] == 2 ? "forged" : cls[i] == 1 ? "genuine" : "unknown", -1,
				  SQLITE_STATIC);
		sqlite3_bind_int64(st, 11, inj ? inj[i] : 0);
		if (step(st) < 0)
			return DNS_EIO;
	}
	return batch(s);
}

int store_injector(struct store *s, const struct fp_table *t, int id)
{
	const struct fp_cluster *c = &t->c[id - 1];
	sqlite3_stmt *st = s->inj;
	sqlite3_bind_int64(st, 1, s->run);
	sqlite3_bind_int64(st, 2, id);
	sqlite3_bind_int64(st, 3, c->flags);
	sqlite3_bind_int64(st, 4, c->ip_ttl);
	sqlite3_bind_int64(st, 5, c->opt);
	sqlite3_bind_int64(st, 6, c->ttl_min);
	sqlite3_bind_int64(st, 7, c->ttl_max);
	sqlite3_bind_int64(st, 8, (int64_t)c->replies);
	sqlite3_bind_int64(st, 9, (int64_t)c->queries);
	sqlite3_bind_int64(st, 10, (int64_t)c->nset);
	if (step(st) < 0)
		return DNS_EIO;
	struct probe_addr *v = malloc((c->nset ? c->nset : 1) * sizeof(*v));
	if (!v)
		return DNS_ENOMEM;
	size_t n = fp_pool(t, id, v, c->nset);
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		char b[64];
		sqlite3_bind_int64(s->pool, 1, s->run);
		sqlite3_bind_int64(s->pool, 2, id);
		sqlite3_bind_text(s->pool, 3, fp_addr_str(&v[i], b, sizeof(b)), -1, SQLITE_TRANSIENT);
		rc = step(s->pool);
	}
	free(v);
	return rc;
}

int store_base(struct store *s, const char *base, const char *target, enum rk_kind k, uint16_t forged, uint16_t known,
	       int dist)
{
	char rule[300];
	if (rulekind_format(k, base, rule, sizeof(rule)) < 0)
		rule[0] = 0;
	sqlite3_stmt *st = s->base;
	sqlite3_bind_int64(st, 1, s->run);
	sqlite3_bind_text(st, 2, base, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, rulekind_name(k), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, rule, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 6, forged);
	sqlite3_bind_int64(st, 7, known);
	sqlite3_bind_int64(st, 8, dist);
	return step(st);
}

int store_close(struct store *s, const struct store_summary *sum)
{
	if (!s)
		return 0;
	int rc = 0;
	if (sum) {
		char sql[512];
		snprintf(sql, sizeof(sql),
			 "UPDATE run SET finished=%.6f, queries=%llu, answered=%llu, genuine=%llu, forged=%llu,"
			 " conflict=%llu, none=%llu, injectors=%u WHERE id=%lld",
			 now_real(), (unsigned long long)sum->queries, (unsigned long long)sum->answered,
			 (unsigned long long)sum->verdicts[1], (unsigned long long)sum->verdicts[2],
			 (unsigned long long)sum->verdicts[3], (unsigned long long)sum->verdicts[0], sum->injectors,
			 (long long)s->run);
		rc = exec(s, sql);
	}
	if (exec(s, "COMMIT") < 0)
		rc = DNS_EIO;
	destroy(s);
	return rc;
}
