/* server — UDP (blocking recvmmsg threads or epoll) and TCP (RFC 7766) workers;
 * deferred answers, posted functions, watched sockets and timers. */
#include "net/server.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dns/err.h"
#include "net/sockbuf.h"
#include "util/log.h"

#define UDP_SLOT 65536           /* > any UDP payload: MSG_TRUNC never hides a fit */
#define UDP_RCVTIMEO_MS 100      /* UDP threads look at the stop flag this often */
#define TCP_IN_INIT 512          /* first input buffer of a connection */
#define TCP_IN_MAX (2 + SERVER_MSG_MAX)
#define MAX_EVENTS 64
#define MAX_THREADS 1024
#define UDP_ROUNDS 4             /* epoll mode: recvmmsg batches per wakeup (fairness) */
#define ACCEPT_ROUNDS 32
#define ACCEPT_PAUSE_MS 100      /* out of file descriptors: stop accepting a while */
#define BIND_TRIES 32            /* port 0: tries to find a port free for UDP and TCP */
#define WATCH_MAX (1 << 24)      /* watch ids per worker */

enum { TAG_STOP = 1, TAG_UDP, TAG_LISTEN, TAG_CONN, TAG_POST, TAG_WATCH };

static inline uint64_t ev_key(unsigned tag, uint32_t gen, uint32_t idx)
{
	return (uint64_t)tag << 56 | (uint64_t)(gen & 0xffffff) << 32 | idx;
}

typedef struct wstats {
	_Atomic uint64_t udp_queries, tcp_queries, responses, dropped, send_errors,
		udp_truncated, tcp_accepted, tcp_open, tcp_idle_closed, tcp_evicted,
		tcp_bad_closed, deferred, posts;
} wstats;

/* Only the owning thread writes a counter: a relaxed load+store is a plain
 * add without a locked instruction, and readers never see torn values. */
static inline void bump(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

typedef struct conn {
	int fd;                 /* -1: free slot */
	uint32_t gen;           /* bumped on close; stale epoll events ignored */
	uint32_t li;            /* listen address index */
	uint32_t events;        /* registered epoll events */
	bool closing;           /* read no more; close once output is flushed */
	bool paused;            /* output at tcp_out_max (or tcp_defer_max answers
	                         * deferred): input not processed */
	bool in_process;        /* inside conn_process: late replies only queue */
	uint32_t deferred;      /* deferred answers outstanding */
	uint64_t last;          /* ms of the last read/write progress */
	struct conn *prev, *next; /* LRU list, least recently active first */
	struct conn *free_next;
	net_addr peer;
	net_addr local;         /* where it connected to */
	uint8_t *in;
	size_t in_len, in_cap;
	uint8_t *out;
	size_t out_off, out_len, out_cap; /* pending = out_len - out_off */
} conn;

union pktctl {
	struct cmsghdr align;
	char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo))];
};

typedef struct worker worker;

/* A server_post slot (bounded multi-producer queue with per-slot sequence
 * numbers: a slot is free for position p when seq == p, full when
 * seq == p + 1). */
typedef struct pcell {
	_Atomic size_t seq;
	server_post_fn fn;
	void *arg;
} pcell;

typedef struct watch {
	int fd;                 /* -1: free slot */
	uint32_t gen;
	int next_free;
	server_watch_fn fn;
	void *arg;
} watch;

/* A UDP batch engine: a UDP thread's (one socket) or, in epoll mode, an
 * event thread's (every socket of the worker, one at a time). Touched by
 * its thread only. */
typedef struct udpio {
	wstats st;              /* first: 64-byte aligned */
	server *s;
	worker *w;
	void *ctx;
	unsigned thread;        /* server_thread.index */
	unsigned li;            /* UDP thread: its listen address */
	int fd;                 /* UDP thread: its socket */
	int cur_fd;             /* socket of the batch being answered */
	pthread_t th;
	bool started;
	uint8_t *rxbuf, *txbuf; /* SERVER_UDP_BATCH * UDP_SLOT each */
	struct mmsghdr rx[SERVER_UDP_BATCH], tx[SERVER_UDP_BATCH];
	struct iovec rxiov[SERVER_UDP_BATCH], txiov[SERVER_UDP_BATCH];
	net_addr peer[SERVER_UDP_BATCH], local[SERVER_UDP_BATCH];
	union pktctl rxctl[SERVER_UDP_BATCH], txctl[SERVER_UDP_BATCH];
} udpio;

struct worker {
	wstats st;              /* first: each worker is 64-byte aligned */
	server *s;
	unsigned id;
	unsigned thread;        /* server_thread.index of the event thread */
	pthread_t th;
	bool started;
	int ep;
	void *ctx;
	uint64_t now;
	udpio *ue;              /* epoll mode: the event thread's UDP engine */
	udpio **ut;             /* threads mode: one per listen address */
	/* TCP */
	uint8_t *tcp_resp;
	conn *conns;
	conn *free;
	conn *lru_head, *lru_tail;
	unsigned nconn;
	uint64_t accept_resume;  /* 0, or ms when accepting resumes */
	bool app_started;        /* worker_start succeeded (or absent) */
	/* app sockets */
	watch *wt;
	int nwt, capwt, wt_free; /* slots in use or freed; free list head (-1) */
	/* timers: binary heap ordered by (when_, seq_) */
	server_timer **heap;
	size_t nheap, capheap;
	uint64_t tseq;
	/* server_post queue: producers anywhere, consumer the event thread */
	int postfd;
	pcell *pq;
	size_t pq_mask, pq_head;
	_Atomic int pq_wake;     /* 1: the eventfd was written, not yet consumed */
	_Alignas(64) _Atomic size_t pq_tail;
};

struct server {
	server_config cfg;
	net_addr *listen;       /* copy of cfg.listen */
	net_addr *bound;        /* as bound (port 0 resolved) */
	bool *pktinfo;          /* per listen address */
	unsigned nthreads;
	unsigned per_worker;    /* handler threads per worker */
	bool udp_threads;       /* SERVER_UDP_THREADS with UDP on */
	int *udp_fd, *tcp_fd;   /* [worker * nlisten + i], -1 when unused */
	int stopfd, reloadfd;
	_Atomic bool stopping;
	_Atomic bool finished;  /* server_run is over: no more posts */
	_Atomic uint64_t late_replies, late_dropped, post_full;
	bool bound_ok, ran;
	worker **w;
	pthread_mutex_t errlock; /* for errors raised in server threads */
	int async_rc;
	char err[256];
};

static void worker_release(worker *w);

/* The worker whose event thread this is. */
static __thread worker *tls_worker;

__attribute__((format(printf, 3, 4)))
static int seterr(server *s, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	return code;
}

/* An error in a server thread: the first one is kept and stops the server. */
__attribute__((format(printf, 3, 4)))
static void async_fail(server *s, int code, const char *fmt, ...)
{
	pthread_mutex_lock(&s->errlock);
	if (!s->async_rc) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(s->err, sizeof(s->err), fmt, ap);
		va_end(ap);
		s->async_rc = code;
	}
	pthread_mutex_unlock(&s->errlock);
	server_stop(s);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static unsigned cpu_count(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

/* ---------- life cycle ---------- */

server *server_new(const server_config *cfg)
{
	server *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cfg = *cfg;
	pthread_mutex_init(&s->errlock, NULL);
	s->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	s->reloadfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	size_t n = cfg->nlisten;
	s->listen = calloc(n ? n : 1, sizeof(net_addr));
	s->bound = calloc(n ? n : 1, sizeof(net_addr));
	s->pktinfo = calloc(n ? n : 1, sizeof(bool));
	if (s->stopfd < 0 || s->reloadfd < 0 || !s->listen || !s->bound || !s->pktinfo) {
		server_free(s);
		return NULL;
	}
	if (n && cfg->listen)
		memcpy(s->listen, cfg->listen, n * sizeof(net_addr));
	s->cfg.listen = s->listen;
	if (!s->cfg.tcp_idle_ms)
		s->cfg.tcp_idle_ms = 10000;
	if (!s->cfg.tcp_max_clients)
		s->cfg.tcp_max_clients = 512;
	if (!s->cfg.tcp_out_max)
		s->cfg.tcp_out_max = 128 * 1024;
	if (!s->cfg.udp_rcvbuf)
		s->cfg.udp_rcvbuf = 4 << 20;
	if (!s->cfg.tcp_defer_max)
		s->cfg.tcp_defer_max = 64;
	if (!s->cfg.post_queue)
		s->cfg.post_queue = 4096;
	return s;
}

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; fds && i < n; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
}

void server_free(server *s)
{
	if (!s)
		return;
	for (unsigned i = 0; s->w && i < s->nthreads; i++)
		if (s->w[i]) {
			worker *w = s->w[i];
			worker_release(w);
			free(w->ue);
			free(w->pq);
			for (size_t j = 0; w->ut && j < s->cfg.nlisten; j++)
				free(w->ut[j]);
			free(w->ut);
			free(s->w[i]);
		}
	free(s->w);
	size_t nfd = (size_t)s->nthreads * s->cfg.nlisten;
	close_fds(s->udp_fd, nfd);
	close_fds(s->tcp_fd, nfd);
	free(s->udp_fd);
	free(s->tcp_fd);
	if (s->stopfd >= 0)
		close(s->stopfd);
	if (s->reloadfd >= 0)
		close(s->reloadfd);
	free(s->listen);
	free(s->bound);
	free(s->pktinfo);
	pthread_mutex_destroy(&s->errlock);
	free(s);
}

void server_stop(server *s)
{
	uint64_t one = 1;
	atomic_store(&s->stopping, true);
	ssize_t r = write(s->stopfd, &one, sizeof(one));
	(void)r;
}

bool server_stopping(const server *s)
{
	return atomic_load(&s->stopping);
}

void server_reload(server *s)
{
	uint64_t one = 1;
	ssize_t r = write(s->reloadfd, &one, sizeof(one));
	(void)r;
}

const char *server_error(const server *s) { return s->err; }
unsigned server_threads(const server *s) { return s->nthreads; }
unsigned server_ctx_count(const server *s) { return s->nthreads * s->per_worker; }

const net_addr *server_bound_addr(const server *s, size_t i)
{
	return s->bound_ok && i < s->cfg.nlisten ? &s->bound[i] : NULL;
}

static void add_stats(server_stats *out, const wstats *st)
{
#define RD(f) atomic_load_explicit(&st->f, memory_order_relaxed)
	out->udp_queries += RD(udp_queries);
	out->tcp_queries += RD(tcp_queries);
	out->responses += RD(responses);
	out->dropped += RD(dropped);
	out->send_errors += RD(send_errors);
	out->udp_truncated += RD(udp_truncated);
	out->tcp_accepted += RD(tcp_accepted);
	out->tcp_open += RD(tcp_open);
	out->tcp_idle_closed += RD(tcp_idle_closed);
	out->tcp_evicted += RD(tcp_evicted);
	out->tcp_bad_closed += RD(tcp_bad_closed);
	out->deferred += RD(deferred);
	out->posts += RD(posts);
#undef RD
}

void server_read_stats(const server *s, server_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!s->w)
		return;
	for (unsigned i = 0; i < s->nthreads && s->w[i]; i++) {
		const worker *w = s->w[i];
		add_stats(out, &w->st);
		if (w->ue)
			add_stats(out, &w->ue->st);
		for (size_t j = 0; w->ut && j < s->cfg.nlisten; j++)
			if (w->ut[j])
				add_stats(out, &w->ut[j]->st);
	}
	out->queries = out->udp_queries + out->tcp_queries;
	out->late_replies = atomic_load_explicit(&s->late_replies, memory_order_relaxed);
	out->late_dropped = atomic_load_explicit(&s->late_dropped, memory_order_relaxed);
	out->post_full = atomic_load_explicit(&s->post_full, memory_order_relaxed);
}

/* ---------- binding ---------- */

static int sockopt(int fd, int level, int name, int val)
{
	return setsockopt(fd, level, name, &val, sizeof(val));
}

/* Probes a (no SO_REUSEPORT) so that a port held by anyone, including a
 * server of our own user, is reported busy; resolves port 0. */
static int probe(server *s, net_addr *a, int type, const char *proto)
{
	char as[ADDR_STRLEN];
	int fd = socket(addr_family(a), type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return seterr(s, DNS_EIO, "cannot create %s socket for %s: %s", proto,
			      addr_str(a, as), strerror(errno));
	if (addr_family(a) == AF_INET6)
		sockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	if (type == SOCK_STREAM)
		sockopt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (bind(fd, &a->u.sa, a->len) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return seterr(s, DNS_EIO, "cannot bind %s (%s): %s", addr_str(a, as), proto, strerror(e));
	}
	if (addr_port(a) == 0) {
		net_addr got;
		socklen_t len = sizeof(got.u);
		if (getsockname(fd, &got.u.sa, &len) < 0) {
			int e = errno;
			close(fd);
			return seterr(s, DNS_EIO, "getsockname %s: %s", addr_str(a, as), strerror(e));
		}
		got.len = len;
		addr_set_port(a, addr_port(&got));
	}
	close(fd);
	return 0;
}

static int open_sock(server *s, const net_addr *a, int type, bool pktinfo, int *out)
{
	char as[ADDR_STRLEN];
	const char *proto = type == SOCK_DGRAM ? "udp" : "tcp";
	int fam = addr_family(a);
	bool blocking = type == SOCK_DGRAM && s->udp_threads;
	int fd = socket(fam, type | (blocking ? 0 : SOCK_NONBLOCK) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return seterr(s, DNS_EIO, "cannot create %s socket for %s: %s", proto,
			      addr_str(a, as), strerror(errno));
	*out = fd;
	if (sockopt(fd, SOL_SOCKET, SO_REUSEPORT, 1) < 0)
		return seterr(s, DNS_EIO, "cannot set SO_REUSEPORT for %s (%s): %s",
			      addr_str(a, as), proto, strerror(errno));
	if (fam == AF_INET6 && sockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) < 0)
		return seterr(s, DNS_EIO, "cannot set IPV6_V6ONLY for %s: %s", addr_str(a, as), strerror(errno));
	if (type == SOCK_STREAM) {
		sockopt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	} else {
		if (s->cfg.udp_rcvbuf > 0)
			sockbuf_set(fd, true, s->cfg.udp_rcvbuf);
		if (blocking) { /* UDP threads look at the stop flag this often */
			struct timeval tv = { .tv_sec = 0, .tv_usec = UDP_RCVTIMEO_MS * 1000 };
			if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
				return seterr(s, DNS_EIO, "cannot set SO_RCVTIMEO on %s: %s",
					      addr_str(a, as), strerror(errno));
		}
		if (pktinfo && (fam == AF_INET ? sockopt(fd, IPPROTO_IP, IP_PKTINFO, 1)
					       : sockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)) < 0)
			return seterr(s, DNS_EIO, "cannot enable packet info on %s: %s",
				      addr_str(a, as), strerror(errno));
	}
	if (bind(fd, &a->u.sa, a->len) < 0)
		return seterr(s, DNS_EIO, "cannot bind %s (%s): %s", addr_str(a, as), proto, strerror(errno));
	if (type == SOCK_STREAM && listen(fd, SOMAXCONN) < 0)
		return seterr(s, DNS_EIO, "cannot listen on %s (tcp): %s", addr_str(a, as), strerror(errno));
	return 0;
}

static int bind_addr(server *s, size_t i)
{
	const server_config *c = &s->cfg;
	size_t nl = c->nlisten;
	bool any_port = addr_port(&s->listen[i]) == 0;
	int rc = 0;
	for (int t = 0; t < BIND_TRIES; t++) {
		net_addr a = s->listen[i];
		rc = 0;
		if (!c->no_udp)
			rc = probe(s, &a, SOCK_DGRAM, "udp");
		if (!rc && !c->no_tcp)
			rc = probe(s, &a, SOCK_STREAM, "tcp");
		for (unsigned w = 0; !rc && w < s->nthreads; w++) {
			if (!c->no_udp)
				rc = open_sock(s, &a, SOCK_DGRAM, s->pktinfo[i], &s->udp_fd[w * nl + i]);
			if (!rc && !c->no_tcp)
				rc = open_sock(s, &a, SOCK_STREAM, false, &s->tcp_fd[w * nl + i]);
		}
		if (!rc) {
			s->bound[i] = a;
			return 0;
		}
		int e = errno;
		for (unsigned w = 0; w < s->nthreads; w++) {
			close_fds(&s->udp_fd[w * nl + i], 1);
			close_fds(&s->tcp_fd[w * nl + i], 1);
		}
		if (!any_port || e != EADDRINUSE)
			break;
	}
	return rc;
}

int server_bind(server *s)
{
	char as[ADDR_STRLEN];
	server_config *c = &s->cfg;
	if (s->bound_ok)
		return 0;
	s->err[0] = 0;
	if (!c->nlisten)
		return seterr(s, DNS_EINVAL, "no listen address");
	if (!c->handler)
		return seterr(s, DNS_EINVAL, "no handler");
	if (c->no_udp && c->no_tcp)
		return seterr(s, DNS_EINVAL, "neither UDP nor TCP enabled");
	if (c->threads > MAX_THREADS)
		return seterr(s, DNS_EINVAL, "too many threads (%u, at most %d)", c->threads, MAX_THREADS);
	if (c->udp_mode != SERVER_UDP_THREADS && c->udp_mode != SERVER_UDP_EPOLL)
		return seterr(s, DNS_EINVAL, "unknown UDP mode %d", (int)c->udp_mode);
	for (size_t i = 0; i < c->nlisten; i++) {
		if (addr_family(&s->listen[i]) == AF_UNSPEC)
			return seterr(s, DNS_EINVAL, "listen address %zu is not set", i);
		for (size_t j = 0; j < i; j++)
			if (addr_port(&s->listen[i]) && addr_equal(&s->listen[i], &s->listen[j]))
				return seterr(s, DNS_EINVAL, "listen address %s given twice",
					      addr_str(&s->listen[i], as));
		s->pktinfo[i] = c->udp_pktinfo || addr_is_any(&s->listen[i]);
	}
	if (!s->udp_fd) {
		s->nthreads = c->threads ? c->threads : cpu_count();
		s->udp_threads = !c->no_udp && c->udp_mode == SERVER_UDP_THREADS;
		s->per_worker = s->udp_threads ? 1 + (unsigned)c->nlisten : 1;
		size_t nfd = (size_t)s->nthreads * c->nlisten;
		s->udp_fd = malloc(nfd * sizeof(int));
		s->tcp_fd = malloc(nfd * sizeof(int));
		if (!s->udp_fd || !s->tcp_fd)
			return seterr(s, DNS_ENOMEM, "out of memory");
		for (size_t i = 0; i < nfd; i++)
			s->udp_fd[i] = s->tcp_fd[i] = -1;
	}
	for (size_t i = 0; i < c->nlisten; i++) {
		int rc = bind_addr(s, i);
		if (rc < 0) {
			int e = errno;
			close_fds(s->udp_fd, (size_t)s->nthreads * c->nlisten);
			close_fds(s->tcp_fd, (size_t)s->nthreads * c->nlisten);
			errno = e;
			return rc;
		}
	}
	s->bound_ok = true;
	return 0;
}

/* ---------- TCP connections ---------- */
static void lru_unlink(worker *w, conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		w->lru_head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		w->lru_tail = c->prev;
	c->prev = c->next = NULL;
}

static void lru_append(worker *w, conn *c)
{
	c->prev = w->lru_tail;
	c->next = NULL;
	if (w->lru_tail)
		w->lru_tail->next = c;
	else
		w->lru_head = c;
	w->lru_tail = c;
}

static void conn_touch(worker *w, conn *c)
{
	c->last = w->now;
	if (w->lru_tail != c) {
		lru_unlink(w, c);
		lru_append(w, c);
	}
}

static void conn_close(worker *w, conn *c)
{
	lru_unlink(w, c);
	close(c->fd); /* also leaves the epoll set */
	c->fd = -1;
	c->gen++;
	free(c->in);
	free(c->out);
	c->in = c->out = NULL;
	c->free_next = w->free;
	w->free = c;
	w->nconn--;
	atomic_store_explicit(&w->st.tcp_open, w->nconn, memory_order_relaxed);
}

static size_t conn_pending(const conn *c) { return c->out_len - c->out_off; }

static bool conn_can_process(const server *s, const conn *c)
{
	return conn_pending(c) < s->cfg.tcp_out_max && c->deferred < s->cfg.tcp_defer_max;
}

/* Appends a length-prefixed message to c's output (room: pending < out_max). */
static bool conn_queue(conn *c, const uint8_t *msg, size_t len)
{
	size_t need = 2 + len;
	if (c->out_cap - c->out_len < need) {
		if (c->out_off) {
			memmove(c->out, c->out + c->out_off, conn_pending(c));
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		if (c->out_cap - c->out_len < need) {
			size_t cap = c->out_cap ? c->out_cap * 2 : 1024;
			if (cap < c->out_len + need)
				cap = c->out_len + need;
			uint8_t *p = realloc(c->out, cap);
			if (!p)
				return false;
			c->out = p;
			c->out_cap = cap;
		}
	}
	c->out[c->out_len] = (uint8_t)(len >> 8);
	c->out[c->out_len + 1] = (uint8_t)len;
	memcpy(c->out + c->out_len + 2, msg, len);
	c->out_len += need;
	return true;
}

/* Writes pending output. Returns false when the connection is dead. */
static bool conn_flush(worker *w, conn *c)
{
	while (conn_pending(c)) {
		ssize_t r = send(c->fd, c->out + c->out_off, conn_pending(c), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r > 0) {
			c->out_off += (size_t)r;
			conn_touch(w, c);
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		return false;
	}
	c->out_off = c->out_len = 0;
	return true;
}

/* Runs the handler over every complete buffered message while output has
 * room. Returns false when the connection must close at once. */
static bool conn_process(worker *w, conn *c)
{
	server *s = w->s;
	size_t off = 0;
	uint64_t nq = 0, nresp = 0, ndrop = 0, ndefer = 0;
	bool ok = true;
	c->paused = false;
	c->in_process = true;
	while (!c->closing) {
		if (!conn_can_process(s, c)) {
			c->paused = true;
			break;
		}
		if (c->in_len - off < 2)
			break;
		size_t len = (size_t)c->in[off] << 8 | c->in[off + 1];
		if (len == 0) {
			bump(&w->st.tcp_bad_closed, 1);
			c->closing = true;
			break;
		}
		if (c->in_len - off < 2 + len)
			break;
		server_query q = {
			.req = c->in + off + 2, .req_len = len, .peer = &c->peer,
			.local = &c->local, .transport = SERVER_TCP, .worker = w->id, .thread = w->thread,
			.resp = w->tcp_resp, .resp_max = SERVER_MSG_MAX, .srv = s, .priv_ = c,
		};
		int r = s->cfg.handler(w->ctx, &q);
		nq++;
		off += 2 + len;
		if (r == SERVER_DEFER) {
			c->deferred++;
			ndefer++;
			continue;
		}
		if (r <= 0) {
			ndrop++;
			c->closing = true;
			break;
		}
		if (r > SERVER_MSG_MAX)
			fatal("server: handler returned %d, beyond resp_max %d", r, SERVER_MSG_MAX);
		if (!conn_queue(c, w->tcp_resp, (size_t)r)) {
			log_warn("server: out of memory for a TCP response");
			ok = false;
			break;
		}
		nresp++;
	}
	if (c->closing) {
		c->in_len = 0;
	} else if (off) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	c->in_process = false;
	bump(&w->st.tcp_queries, nq);
	bump(&w->st.responses, nresp);
	bump(&w->st.dropped, ndrop);
	if (ndefer)
		bump(&w->st.deferred, ndefer);
	return ok;
}

/* Reads what is available. Returns false when the connection must close. */
static bool conn_read(worker *w, conn *c)
{
	for (int round = 0; round < 8 && !c->closing && !c->paused; round++) {
		size_t need = c->in_len < 2 ? TCP_IN_INIT : 2 + ((size_t)c->in[0] << 8 | c->in[1]);
		if (c->in_cap < need || c->in_len == c->in_cap) {
			size_t cap = c->in_cap ? c->in_cap * 2 : TCP_IN_INIT;
			if (cap < need)
				cap = need;
			if (cap > TCP_IN_MAX)
				cap = TCP_IN_MAX;
			if (cap > c->in_cap) {
				uint8_t *p = realloc(c->in, cap);
				if (!p)
					return false;
				c->in = p;
				c->in_cap = cap;
			}
		}
		size_t room = c->in_cap - c->in_len;
		if (!room) /* cannot happen: a full buffer holds a whole message */
			break;
		ssize_t r = recv(c->fd, c->in + c->in_len, room, MSG_DONTWAIT);
		if (r > 0) {
			c->in_len += (size_t)r;
			conn_touch(w, c);
			if (!conn_process(w, c))
				return false;
			if ((size_t)r < room)
				break;
			continue;
		}
		if (r == 0) { /* EOF: answer what was complete, then close */
			c->closing = true;
			c->in_len = 0;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		return false;
	}
	return true;
}

/* Flushes, then closes or re-arms c. */
static void conn_settle(worker *w, conn *c)
{
	if (!conn_flush(w, c)) {
		conn_close(w, c);
		return;
	}
	if (c->paused && conn_can_process(w->s, c)) {
		if (!conn_process(w, c) || !conn_flush(w, c)) {
			conn_close(w, c);
			return;
		}
	}
	if (c->closing && !conn_pending(c) && !c->deferred) {
		conn_close(w, c);
		return;
	}
	uint32_t ev = (c->closing || c->paused ? 0 : EPOLLIN) | (conn_pending(c) ? EPOLLOUT : 0);
	if (ev != c->events) {
		struct epoll_event e = { .events = ev,
					 .data.u64 = ev_key(TAG_CONN, c->gen, (uint32_t)(c - w->conns)) };
		if (epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &e) < 0) {
			conn_close(w, c);
			return;
		}
		c->events = ev;
	}
}

static void conn_event(worker *w, conn *c, uint32_t events)
{
	if (events & (EPOLLERR | EPOLLHUP)) {
		conn_close(w, c);
		return;
	}
	if ((events & EPOLLIN) && !conn_read(w, c)) {
		conn_close(w, c);
		return;
	}
	conn_settle(w, c);
}

static void set_listen(worker *w, uint32_t ev)
{
	server *s = w->s;
	size_t nl = s->cfg.nlisten;
	for (size_t i = 0; i < nl; i++) {
		int fd = s->tcp_fd[w->id * nl + i];
		struct epoll_event e = { .events = ev, .data.u64 = ev_key(TAG_LISTEN, 0, (uint32_t)i) };
		if (fd >= 0)
			epoll_ctl(w->ep, EPOLL_CTL_MOD, fd, &e);
	}
}

static void tcp_accept(worker *w, size_t li)
{
	server *s = w->s;
	int lfd = s->tcp_fd[w->id * s->cfg.nlisten + li];
	for (int k = 0; k < ACCEPT_ROUNDS; k++) {
		net_addr peer;
		socklen_t len = sizeof(peer.u);
		int fd = accept4(lfd, &peer.u.sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			if (e == EAGAIN || e == EWOULDBLOCK)
				return;
			if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
				if (w->lru_head) { /* free a descriptor and retry */
					bump(&w->st.tcp_evicted, 1);
					conn_close(w, w->lru_head);
					continue;
				}
				log_warn("server: accept: %s; pausing for %d ms", strerror(e), ACCEPT_PAUSE_MS);
				w->accept_resume = w->now + ACCEPT_PAUSE_MS;
				set_listen(w, 0);
				return;
			}
			if (e == EINTR || e == ECONNABORTED || e == EPROTO || e == EPERM)
				continue;
			log_warn("server: accept: %s", strerror(e));
			return;
		}
		peer.len = len;
		if (w->nconn >= s->cfg.tcp_max_clients && w->lru_head) {
			bump(&w->st.tcp_evicted, 1);
			conn_close(w, w->lru_head);
		}
		conn *c = w->free;
		if (!c) { /* cannot happen: nconn < max_clients here */
			close(fd);
			continue;
		}
		sockopt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
		struct epoll_event e = { .events = EPOLLIN,
					 .data.u64 = ev_key(TAG_CONN, c->gen, (uint32_t)(c - w->conns)) };
		if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &e) < 0) {
			close(fd);
			continue;
		}
		w->free = c->free_next;
		c->fd = fd;
		c->li = (uint32_t)li;
		c->events = EPOLLIN;
		c->closing = c->paused = c->in_process = false;
		c->deferred = 0; /* a closed connection's answers may still be pending: never counted here */
		c->peer = peer;
		c->local = s->bound[li];
		if (s->pktinfo[li]) { /* wildcard: the real destination */
			net_addr loc;
			socklen_t ll = sizeof(loc.u);
			if (getsockname(fd, &loc.u.sa, &ll) == 0) {
				loc.len = ll;
				if (addr_family(&loc) != AF_UNSPEC)
					c->local = loc;
			}
		}
		c->in_len = c->in_cap = c->out_off = c->out_len = c->out_cap = 0;
		c->last = w->now;
		lru_append(w, c);
		w->nconn++;
		bump(&w->st.tcp_accepted, 1);
		atomic_store_explicit(&w->st.tcp_open, w->nconn, memory_order_relaxed);
	}
}
/* ---------- UDP ---------- */

/* Fixed parts of the receive headers. */
static void udp_init(udpio *u)
{
	for (unsigned i = 0; i < SERVER_UDP_BATCH; i++) {
		struct msghdr *mh = &u->rx[i].msg_hdr;
		u->rxiov[i].iov_base = u->rxbuf + (size_t)i * UDP_SLOT;
		u->rxiov[i].iov_len = UDP_SLOT;
		mh->msg_name = &u->peer[i].u;
		mh->msg_iov = &u->rxiov[i];
		mh->msg_iovlen = 1;
	}
}

/* Resets what the kernel rewrote in receive headers [0, n). */
static void udp_rx_reset(udpio *u, unsigned n, bool pkt)
{
	for (unsigned i = 0; i < n; i++) {
		struct msghdr *mh = &u->rx[i].msg_hdr;
		mh->msg_namelen = sizeof(u->peer[i].u);
		mh->msg_control = pkt ? u->rxctl[i].buf : NULL;
		mh->msg_controllen = pkt ? sizeof(u->rxctl[i].buf) : 0;
		mh->msg_flags = 0;
	}
}

/* Reads the destination address of datagram i (packet info) into u->local[i]
 * and prepares the matching source control message in txctl[slot]. Returns
 * the control length for the reply (0: none found). */
static size_t udp_pktinfo(udpio *u, size_t li, unsigned i, unsigned slot)
{
	struct msghdr *mh = &u->rx[i].msg_hdr;
	net_addr *loc = &u->local[i];
	*loc = u->s->bound[li];
	memset(&u->txctl[slot], 0, sizeof(u->txctl[slot]));
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		struct msghdr out = { .msg_control = u->txctl[slot].buf,
				      .msg_controllen = sizeof(u->txctl[slot].buf) };
		struct cmsghdr *oc = CMSG_FIRSTHDR(&out);
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO &&
		    addr_family(loc) == AF_INET) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			loc->u.in4.sin_addr = pi.ipi_addr;
			struct in_pktinfo po = { .ipi_ifindex = 0, .ipi_spec_dst = pi.ipi_addr };
			oc->cmsg_level = IPPROTO_IP;
			oc->cmsg_type = IP_PKTINFO;
			oc->cmsg_len = CMSG_LEN(sizeof(po));
			memcpy(CMSG_DATA(oc), &po, sizeof(po));
			return CMSG_SPACE(sizeof(po));
		}
		if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO &&
		    addr_family(loc) == AF_INET6) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			loc->u.in6.sin6_addr = pi.ipi6_addr;
			bool ll = IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr);
			loc->u.in6.sin6_scope_id = ll ? (uint32_t)pi.ipi6_ifindex : 0;
			struct in6_pktinfo po = { .ipi6_addr = pi.ipi6_addr,
						  .ipi6_ifindex = ll ? pi.ipi6_ifindex : 0 };
			oc->cmsg_level = IPPROTO_IPV6;
			oc->cmsg_type = IPV6_PKTINFO;
			oc->cmsg_len = CMSG_LEN(sizeof(po));
			memcpy(CMSG_DATA(oc), &po, sizeof(po));
			return CMSG_SPACE(sizeof(po));
		}
	}
	return 0;
}

static void udp_send(udpio *u, int fd, unsigned nout)
{
	unsigned sent = 0, waits = 0;
	while (sent < nout) {
		int r = sendmmsg(fd, u->tx + sent, nout - sent, MSG_DONTWAIT);
		if (r > 0) {
			sent += (unsigned)r;
			bump(&u->st.responses, (uint64_t)r);
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
			if (waits++ < 2) {
				struct pollfd p = { .fd = fd, .events = POLLOUT };
				poll(&p, 1, 10);
				continue;
			}
			bump(&u->st.send_errors, nout - sent);
			return;
		}
		bump(&u->st.send_errors, 1); /* this one datagram is refused: skip it */
		sent++;
	}
}

/* Answers the n datagrams just received on listen address li (socket fd). */
static void udp_handle(udpio *u, size_t li, int fd, unsigned n)
{
	server *s = u->s;
	bool pkt = s->pktinfo[li];
	unsigned nout = 0;
	uint64_t ndrop = 0, ntrunc = 0, ndefer = 0;
	u->cur_fd = fd;
	for (unsigned i = 0; i < n; i++) {
		struct msghdr *mh = &u->rx[i].msg_hdr;
		u->peer[i].len = mh->msg_namelen;
		if (mh->msg_flags & MSG_TRUNC) {
			ntrunc++;
			continue;
		}
		size_t ctl = 0;
		const net_addr *local = &s->bound[li];
		if (pkt) {
			ctl = udp_pktinfo(u, li, i, nout);
			local = &u->local[i];
		}
		uint8_t *resp = u->txbuf + (size_t)nout * UDP_SLOT;
		server_query q = {
			.req = u->rxbuf + (size_t)i * UDP_SLOT, .req_len = u->rx[i].msg_len,
			.peer = &u->peer[i], .local = local, .transport = SERVER_UDP,
			.worker = u->w->id, .thread = u->thread, .resp = resp,
			.resp_max = SERVER_MSG_MAX, .srv = s, .priv_ = u, .priv_i_ = i,
		};
		int r = s->cfg.handler(u->ctx, &q);
		if (r == SERVER_DEFER) {
			ndefer++;
			continue;
		}
		if (r <= 0) {
			ndrop++;
			continue;
		}
		if (r > SERVER_MSG_MAX)
			fatal("server: handler returned %d, beyond resp_max %d", r, SERVER_MSG_MAX);
		struct msghdr *oh = &u->tx[nout].msg_hdr;
		u->txiov[nout].iov_base = resp;
		u->txiov[nout].iov_len = (size_t)r;
		oh->msg_name = &u->peer[i].u;
		oh->msg_namelen = u->peer[i].len;
		oh->msg_iov = &u->txiov[nout];
		oh->msg_iovlen = 1;
		oh->msg_control = ctl ? u->txctl[nout].buf : NULL;
		oh->msg_controllen = ctl;
		oh->msg_flags = 0;
		nout++;
	}
	bump(&u->st.udp_queries, n - ntrunc);
	if (ndrop)
		bump(&u->st.dropped, ndrop);
	if (ntrunc)
		bump(&u->st.udp_truncated, ntrunc);
	if (ndefer)
		bump(&u->st.deferred, ndefer);
	if (nout)
		udp_send(u, fd, nout);
}

/* Epoll mode: drains (fairly) a readable socket of the event thread. */
static void udp_read(worker *w, size_t li)
{
	server *s = w->s;
	udpio *u = w->ue;
	int fd = s->udp_fd[w->id * s->cfg.nlisten + li];
	for (int round = 0; round < UDP_ROUNDS; round++) {
		udp_rx_reset(u, SERVER_UDP_BATCH, s->pktinfo[li]);
		int n = recvmmsg(fd, u->rx, SERVER_UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return; /* EAGAIN, or a transient error: epoll tells us again */
		udp_handle(u, li, fd, (unsigned)n);
		if (n < SERVER_UDP_BATCH)
			return;
	}
}

/* ---------- workers ---------- */

static void pin_cpu(unsigned id)
{
	cpu_set_t set, one;
	if (sched_getaffinity(0, sizeof(set), &set) < 0 || CPU_COUNT(&set) == 0)
		return;
	unsigned k = id % (unsigned)CPU_COUNT(&set);
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &set) || k--)
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		int e = pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
		if (e)
			log_warn("server: cannot pin worker %u to CPU %d: %s", id, cpu, strerror(e));
		return;
	}
}

/* Threads mode: a UDP thread, blocking in recvmmsg like the echo floor. */
static void *udp_main(void *arg)
{
	udpio *u = arg;
	server *s = u->s;
	bool pkt = s->pktinfo[u->li];
	if (s->cfg.cpu_pin)
		pin_cpu(u->w->id);
	udp_rx_reset(u, SERVER_UDP_BATCH, pkt);
	while (!atomic_load_explicit(&s->stopping, memory_order_relaxed)) {
		int n = recvmmsg(u->fd, u->rx, SERVER_UDP_BATCH, MSG_WAITFORONE, NULL);
		if (n <= 0) {
			/* EAGAIN: SO_RCVTIMEO, look at the stop flag again */
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				struct timespec ts = { 0, 1000000 }; /* do not spin on a persistent error */
				nanosleep(&ts, NULL);
			}
			udp_rx_reset(u, SERVER_UDP_BATCH, pkt);
			continue;
		}
		/* After shutdown(SHUT_RD) recvmmsg returns an empty "datagram". */
		if (atomic_load_explicit(&s->stopping, memory_order_relaxed))
			break;
		udp_handle(u, u->li, u->fd, (unsigned)n);
		udp_rx_reset(u, (unsigned)n, pkt);
	}
	return NULL;
}

/* Starts the worker's UDP threads (threads mode), in its event thread. */
static int udp_threads_start(worker *w)
{
	server *s = w->s;
	for (size_t i = 0; w->ut && i < s->cfg.nlisten; i++) {
		udpio *u = w->ut[i];
		int e = pthread_create(&u->th, NULL, udp_main, u);
		if (e) {
			async_fail(s, DNS_EIO, "cannot start UDP thread %zu of worker %u: %s", i, w->id,
				   strerror(e));
			return DNS_EIO;
		}
		u->started = true;
	}
	return 0;
}

/* Wakes the UDP threads (a blocked recvmmsg returns at once after
 * shutdown(SHUT_RD); SO_RCVTIMEO is the fallback) and waits for them. */
static void udp_threads_stop(worker *w)
{
	server *s = w->s;
	for (size_t i = 0; w->ut && i < s->cfg.nlisten; i++)
		if (w->ut[i]->started)
			shutdown(w->ut[i]->fd, SHUT_RD);
	for (size_t i = 0; w->ut && i < s->cfg.nlisten; i++)
		if (w->ut[i]->started) {
			pthread_join(w->ut[i]->th, NULL);
			w->ut[i]->started = false;
		}
}

/* ---------- timers ---------- */

static bool timer_before(const server_timer *a, const server_timer *b)
{
	return a->when_ < b->when_ || (a->when_ == b->when_ && a->seq_ < b->seq_);
}

static void heap_put(worker *w, size_t i, server_timer *t)
{
	w->heap[i] = t;
	t->pos_ = i + 1;
}

static void heap_up(worker *w, size_t i)
{
	server_timer *t = w->heap[i];
	while (i) {
		size_t p = (i - 1) / 2;
		if (!timer_before(t, w->heap[p]))
			break;
		heap_put(w, i, w->heap[p]);
		i = p;
	}
	heap_put(w, i, t);
}

static void heap_down(worker *w, size_t i)
{
	server_timer *t = w->heap[i];
	for (;;) {
		size_t l = 2 * i + 1, m = l;
		if (l >= w->nheap)
			break;
		if (l + 1 < w->nheap && timer_before(w->heap[l + 1], w->heap[l]))
			m = l + 1;
		if (!timer_before(w->heap[m], t))
			break;
		heap_put(w, i, w->heap[m]);
		i = m;
	}
	heap_put(w, i, t);
}

static void heap_remove(worker *w, server_timer *t)
{
	size_t i = t->pos_ - 1;
	t->pos_ = 0;
	server_timer *last = w->heap[--w->nheap];
	if (i == w->nheap)
		return;
	heap_put(w, i, last);
	heap_up(w, i);
	heap_down(w, last->pos_ - 1);
}

/* Runs the timers due. Timers armed while this runs wait for the next pass
 * (a callback re-arming itself with 0 ms cannot starve the loop). */
static void timers_run(worker *w)
{
	uint64_t limit = w->tseq;
	while (w->nheap) {
		server_timer *t = w->heap[0];
		if (t->when_ > w->now || t->seq_ >= limit)
			break;
		heap_remove(w, t);
		t->fn_(w->s, w->id, t, t->arg_);
	}
}

/* The calling thread is worker's event thread. */
static worker *self_worker(const server *s, unsigned worker_id)
{
	worker *w = tls_worker;
	return w && w->s == s && w->id == worker_id ? w : NULL;
}

int server_timer_add(server *s, unsigned worker_id, server_timer *t, uint64_t ms,
		     server_timer_fn fn, void *arg)
{
	worker *w = self_worker(s, worker_id);
	if (!w || !fn || (t->pos_ && t->worker_ != worker_id))
		return DNS_EINVAL;
	if (t->pos_)
		heap_remove(w, t);
	if (w->nheap == w->capheap) {
		size_t cap = w->capheap ? w->capheap * 2 : 64;
		server_timer **h = realloc(w->heap, cap * sizeof(*h));
		if (!h)
			return DNS_ENOMEM;
		w->heap = h;
		w->capheap = cap;
	}
	if (ms > UINT64_MAX / 4)
		ms = UINT64_MAX / 4;
	t->when_ = now_ms() + ms;
	t->seq_ = w->tseq++;
	t->worker_ = worker_id;
	t->fn_ = fn;
	t->arg_ = arg;
	w->heap[w->nheap++] = t;
	heap_up(w, w->nheap - 1);
	return 0;
}

int server_timer_cancel(server *s, server_timer *t)
{
	if (!t->pos_)
		return 0;
	worker *w = self_worker(s, t->worker_);
	if (!w)
		return DNS_EINVAL;
	heap_remove(w, t);
	return 1;
}

bool server_timer_armed(const server_timer *t)
{
	return t->pos_ != 0;
}

/* ---------- watched sockets ---------- */

int server_watch(server *s, unsigned worker_id, int fd, uint32_t events, server_watch_fn fn, void *arg)
{
	worker *w = self_worker(s, worker_id);
	if (!w || !fn || fd < 0)
		return DNS_EINVAL;
	int id = w->wt_free;
	if (id < 0) {
		if (w->nwt >= WATCH_MAX)
			return DNS_ENOMEM;
		if (w->nwt == w->capwt) {
			int cap = w->capwt ? w->capwt * 2 : 16;
			watch *p = realloc(w->wt, (size_t)cap * sizeof(*p));
			if (!p)
				return DNS_ENOMEM;
			w->wt = p;
			w->capwt = cap;
		}
		id = w->nwt++;
		w->wt[id].gen = 0;
		w->wt[id].fd = -1;
	} else {
		w->wt_free = w->wt[id].next_free;
	}
	watch *x = &w->wt[id];
	struct epoll_event e = { .events = events, .data.u64 = ev_key(TAG_WATCH, x->gen, (uint32_t)id) };
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &e) < 0) {
		int err = errno;
		x->next_free = w->wt_free;
		w->wt_free = id;
		errno = err;
		return DNS_EIO;
	}
	x->fd = fd;
	x->fn = fn;
	x->arg = arg;
	return id;
}

static watch *watch_get(worker *w, int id)
{
	return id >= 0 && id < w->nwt && w->wt[id].fd >= 0 ? &w->wt[id] : NULL;
}

int server_watch_mod(server *s, unsigned worker_id, int id, uint32_t events)
{
	worker *w = self_worker(s, worker_id);
	if (!w)
		return DNS_EINVAL;
	watch *x = watch_get(w, id);
	if (!x)
		return DNS_ENOTFOUND;
	struct epoll_event e = { .events = events, .data.u64 = ev_key(TAG_WATCH, x->gen, (uint32_t)id) };
	return epoll_ctl(w->ep, EPOLL_CTL_MOD, x->fd, &e) < 0 ? DNS_EIO : 0;
}

int server_unwatch(server *s, unsigned worker_id, int id)
{
	worker *w = self_worker(s, worker_id);
	if (!w)
		return DNS_EINVAL;
	watch *x = watch_get(w, id);
	if (!x)
		return DNS_ENOTFOUND;
	epoll_ctl(w->ep, EPOLL_CTL_DEL, x->fd, NULL); /* fails only if the app closed fd first */
	x->fd = -1;
	x->gen++; /* events already collected for it are ignored */
	x->next_free = w->wt_free;
	w->wt_free = id;
	return 0;
}

static void watch_event(worker *w, uint32_t id, uint32_t gen, uint32_t events)
{
	watch *x = watch_get(w, (int)id);
	if (!x || ((x->gen ^ gen) & 0xffffff))
		return;
	server_watch_fn fn = x->fn; /* the callback may grow (move) the table */
	fn(w->s, w->id, x->fd, events, x->arg);
}

/* ---------- posted functions ---------- */

int server_post(server *s, unsigned worker_id, server_post_fn fn, void *arg)
{
	if (!fn || !s->w || worker_id >= s->nthreads || atomic_load(&s->finished))
		return DNS_EINVAL;
	worker *w = s->w[worker_id];
	if (!w || !w->pq)
		return DNS_EINVAL;
	size_t pos = atomic_load_explicit(&w->pq_tail, memory_order_relaxed);
	pcell *c;
	for (;;) {
		c = &w->pq[pos & w->pq_mask];
		size_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
		intptr_t d = (intptr_t)(seq - pos);
		if (d == 0) {
			if (atomic_compare_exchange_weak_explicit(&w->pq_tail, &pos, pos + 1,
								  memory_order_relaxed, memory_order_relaxed))
				break;
		} else if (d < 0) {
			atomic_fetch_add_explicit(&s->post_full, 1, memory_order_relaxed);
			return DNS_ESPACE;
		} else {
			pos = atomic_load_explicit(&w->pq_tail, memory_order_relaxed);
		}
	}
	c->fn = fn;
	c->arg = arg;
	atomic_store_explicit(&c->seq, pos + 1, memory_order_release);
	/* Wake the event thread unless a wake-up is already pending. */
	if (!atomic_exchange_explicit(&w->pq_wake, 1, memory_order_acq_rel)) {
		uint64_t one = 1;
		ssize_t r = write(w->postfd, &one, sizeof(one));
		(void)r;
	}
	return 0;
}

/* Runs up to max posted functions (single consumer); returns how many. */
static size_t post_drain(worker *w, size_t max)
{
	size_t n = 0;
	for (; n < max; n++) {
		pcell *c = &w->pq[w->pq_head & w->pq_mask];
		if (atomic_load_explicit(&c->seq, memory_order_acquire) != w->pq_head + 1)
			break;
		server_post_fn fn = c->fn;
		void *arg = c->arg;
		atomic_store_explicit(&c->seq, w->pq_head + w->pq_mask + 1, memory_order_release);
		w->pq_head++;
		fn(w->s, w->id, arg);
	}
	if (n)
		bump(&w->st.posts, n);
	return n;
}

static void post_event(worker *w)
{
	uint64_t v;
	ssize_t r = read(w->postfd, &v, sizeof(v));
	(void)r;
	/* Cleared before draining: a post published after this writes again. */
	atomic_exchange_explicit(&w->pq_wake, 0, memory_order_acq_rel);
	size_t cap = w->pq_mask + 1;
	if (post_drain(w, cap) == cap) { /* maybe more: come back after other events */
		atomic_store(&w->pq_wake, 1);
		uint64_t one = 1;
		r = write(w->postfd, &one, sizeof(one));
	}
}

/* ---------- deferred answers ---------- */

int server_tcp_queue(const server_query *q, const uint8_t *msg, size_t len)
{
	if (q->transport != SERVER_TCP || !q->priv_ || !len || len > SERVER_MSG_MAX)
		return DNS_EINVAL;
	/* the handler runs inside the connection's processing (in_process):
	 * the connection settles its output after the handler returns */
	return conn_queue((conn *)q->priv_, msg, len) ? 0 : DNS_ENOMEM;
}

int server_defer(const server_query *q, server_token *tok)
{
	memset(tok, 0, sizeof(*tok));
	if (!q->srv || !q->priv_)
		return DNS_EINVAL;
	tok->transport = q->transport;
	tok->worker = q->worker;
	tok->fd_ = -1;
	if (q->transport == SERVER_TCP) {
		worker *w = q->srv->w[q->worker];
		const conn *c = q->priv_;
		tok->conn_ = (uint32_t)(c - w->conns);
		tok->gen_ = c->gen;
		return 0;
	}
	const udpio *u = q->priv_;
	unsigned i = q->priv_i_;
	tok->fd_ = u->cur_fd;
	tok->peer_len_ = u->peer[i].len <= sizeof(tok->peer_) ? u->peer[i].len : (socklen_t)sizeof(tok->peer_);
	memcpy(&tok->peer_, &u->peer[i].u, tok->peer_len_);
	if (q->local == &u->local[i]) { /* packet info: reply from the destination */
		tok->pktinfo_ = true;
		memcpy(&tok->local_, &u->local[i].u, sizeof(tok->local_));
	}
	return 0;
}

void server_token_peer(const server_token *tok, net_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (tok->transport == SERVER_UDP) {
		memcpy(&out->u, &tok->peer_, tok->peer_len_);
		out->len = tok->peer_len_;
	}
}

static int udp_reply(server *s, const server_token *t, const uint8_t *msg, size_t len)
{
	union pktctl ctl;
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr mh = { .msg_name = (void *)&t->peer_, .msg_namelen = t->peer_len_,
			     .msg_iov = &iov, .msg_iovlen = 1 };
	if (t->pktinfo_) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		if (t->local_.sa.sa_family == AF_INET) {
			struct in_pktinfo po = { .ipi_ifindex = 0, .ipi_spec_dst = t->local_.in4.sin_addr };
			cm->cmsg_level = IPPROTO_IP;
			cm->cmsg_type = IP_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(po));
			memcpy(CMSG_DATA(cm), &po, sizeof(po));
			mh.msg_controllen = CMSG_SPACE(sizeof(po));
		} else {
			struct in6_pktinfo po = { .ipi6_addr = t->local_.in6.sin6_addr,
						  .ipi6_ifindex = t->local_.in6.sin6_scope_id };
			cm->cmsg_level = IPPROTO_IPV6;
			cm->cmsg_type = IPV6_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(po));
			memcpy(CMSG_DATA(cm), &po, sizeof(po));
			mh.msg_controllen = CMSG_SPACE(sizeof(po));
		}
	}
	for (int waits = 0;;) {
		if (sendmsg(t->fd_, &mh, MSG_DONTWAIT) >= 0) {
			atomic_fetch_add_explicit(&s->late_replies, 1, memory_order_relaxed);
			return 0;
		}
		if (errno == EINTR)
			continue;
		if ((errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) && waits++ < 2) {
			struct pollfd p = { .fd = t->fd_, .events = POLLOUT };
			poll(&p, 1, 10);
			continue;
		}
		atomic_fetch_add_explicit(&s->late_dropped, 1, memory_order_relaxed);
		return DNS_EIO;
	}
}

static int tcp_reply(server *s, const server_token *t, const uint8_t *msg, size_t len)
{
	worker *w = self_worker(s, t->worker);
	if (!w || !w->conns || t->conn_ >= s->cfg.tcp_max_clients)
		return DNS_EINVAL;
	conn *c = &w->conns[t->conn_];
	if (c->fd < 0 || c->gen != t->gen_) {
		atomic_fetch_add_explicit(&s->late_dropped, 1, memory_order_relaxed);
		return DNS_ENOTFOUND;
	}
	if (c->deferred)
		c->deferred--;
	int rc = 0;
	if (!len) {
		bump(&w->st.dropped, 1);
		c->closing = true;
		if (!c->in_process)
			c->in_len = 0;
	} else if (!conn_queue(c, msg, len)) {
		log_warn("server: out of memory for a TCP response");
		c->closing = true;
		rc = DNS_ENOMEM;
	} else {
		atomic_fetch_add_explicit(&s->late_replies, 1, memory_order_relaxed);
	}
	if (!c->in_process) /* else the connection's own processing settles it */
		conn_settle(w, c);
	return rc;
}

int server_reply(server *s, const server_token *tok, const uint8_t *msg, size_t len)
{
	if (len > SERVER_MSG_MAX || (len && !msg))
		return DNS_EINVAL;
	if (tok->transport == SERVER_TCP)
		return tcp_reply(s, tok, msg, len);
	if (tok->fd_ < 0)
		return DNS_EINVAL;
	return len ? udp_reply(s, tok, msg, len) : 0;
}

int server_event_worker(const server *s)
{
	worker *w = tls_worker;
	return w && w->s == s ? (int)w->id : -1;
}

/* ---------- the event loop ---------- */

static int next_timeout(worker *w)
{
	int64_t t = -1;
	if (w->lru_head) {
		int64_t d = (int64_t)(w->lru_head->last + w->s->cfg.tcp_idle_ms) - (int64_t)w->now;
		t = d < 0 ? 0 : d;
	}
	if (w->accept_resume) {
		int64_t d = (int64_t)w->accept_resume - (int64_t)w->now;
		if (d < 0)
			d = 0;
		if (t < 0 || d < t)
			t = d;
	}
	if (w->nheap) {
		int64_t d = (int64_t)w->heap[0]->when_ - (int64_t)w->now;
		if (d < 0)
			d = 0;
		if (t < 0 || d < t)
			t = d;
	}
	/* w->now is whole milliseconds rounded down, so waiting the difference
	 * always reaches the deadline. */
	return t < 0 ? -1 : (int)(t > 3600000 ? 3600000 : t);
}

static void *worker_main(void *arg)
{
	worker *w = arg;
	server *s = w->s;
	struct epoll_event evs[MAX_EVENTS];
	tls_worker = w;
	if (s->cfg.cpu_pin)
		pin_cpu(w->id);
	if (w->ue)
		w->ue->ctx = w->ctx; /* epoll mode: UDP is answered in the event thread */
	w->now = now_ms();
	if (s->cfg.worker_start) {
		int rc = s->cfg.worker_start(s->cfg.app, s, w->id, w->ctx);
		if (rc < 0) {
			async_fail(s, rc, "worker %u failed to start: %s", w->id, dns_strerror(rc));
			goto out;
		}
	}
	w->app_started = true;
	if (udp_threads_start(w) < 0)
		goto out;
	for (;;) {
		int n = epoll_wait(w->ep, evs, MAX_EVENTS, next_timeout(w));
		if (n < 0 && errno != EINTR)
			fatal("server: epoll_wait: %s", strerror(errno));
		w->now = now_ms();
		for (int k = 0; k < n; k++) {
			uint64_t key = evs[k].data.u64;
			unsigned tag = (unsigned)(key >> 56);
			uint32_t idx = (uint32_t)key, gen = (uint32_t)(key >> 32);
			if (tag == TAG_STOP)
				goto out;
			if (tag == TAG_UDP) {
				udp_read(w, idx);
			} else if (tag == TAG_LISTEN) {
				tcp_accept(w, idx);
			} else if (tag == TAG_POST) {
				post_event(w);
			} else if (tag == TAG_WATCH) {
				watch_event(w, idx, gen, evs[k].events);
			} else {
				conn *c = &w->conns[idx];
				if (c->fd >= 0 && ((c->gen ^ gen) & 0xffffff) == 0)
					conn_event(w, c, evs[k].events);
			}
		}
		w->now = now_ms();
		timers_run(w);
		while (w->lru_head && w->now - w->lru_head->last >= s->cfg.tcp_idle_ms) {
			bump(&w->st.tcp_idle_closed, 1);
			conn_close(w, w->lru_head);
		}
		if (w->accept_resume && w->now >= w->accept_resume) {
			w->accept_resume = 0;
			set_listen(w, EPOLLIN);
		}
	}
out:
	udp_threads_stop(w);
	if (w->app_started) {
		for (int round = 0; round < 16 && post_drain(w, SIZE_MAX); round++)
			;
		if (s->cfg.worker_stop)
			s->cfg.worker_stop(s->cfg.app, s, w->id, w->ctx);
	}
	/* Forget what the app left, untouched (its structures may be gone);
	 * watched fds leave the epoll set when it is closed. */
	w->nheap = 0;
	w->nwt = 0;
	w->wt_free = -1;
	while (w->lru_head)
		conn_close(w, w->lru_head);
	tls_worker = NULL;
	return NULL;
}

static void udpio_release(udpio *u)
{
	if (!u)
		return;
	free(u->rxbuf);
	free(u->txbuf);
	u->rxbuf = u->txbuf = NULL;
}

/* Frees what a worker holds but its counters (stats stay readable). */
static void worker_release(worker *w)
{
	if (w->ep >= 0)
		close(w->ep);
	w->ep = -1;
	if (w->postfd >= 0)
		close(w->postfd);
	w->postfd = -1;
	udpio_release(w->ue);
	for (size_t i = 0; w->ut && i < w->s->cfg.nlisten; i++)
		udpio_release(w->ut[i]);
	free(w->wt);
	free(w->heap);
	w->wt = NULL;
	w->heap = NULL;
	w->nwt = w->capwt = 0;
	w->nheap = w->capheap = 0;
	free(w->tcp_resp);
	free(w->conns);
	w->tcp_resp = NULL;
	w->conns = NULL;
}

static int epoll_add(int ep, int fd, uint64_t key)
{
	struct epoll_event e = { .events = EPOLLIN, .data.u64 = key };
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

static int udpio_new(server *s, worker *w, unsigned thread, udpio **out)
{
	void *mem = NULL;
	if (posix_memalign(&mem, 64, sizeof(udpio)))
		return seterr(s, DNS_ENOMEM, "out of memory");
	udpio *u = mem;
	memset(u, 0, sizeof(*u));
	*out = u;
	u->s = s;
	u->w = w;
	u->thread = thread;
	u->fd = -1;
	u->rxbuf = malloc((size_t)SERVER_UDP_BATCH * UDP_SLOT);
	u->txbuf = malloc((size_t)SERVER_UDP_BATCH * UDP_SLOT);
	if (!u->rxbuf || !u->txbuf)
		return seterr(s, DNS_ENOMEM, "out of memory");
	udp_init(u);
	return 0;
}

static int worker_new(server *s, unsigned id, worker **out)
{
	void *mem = NULL;
	if (posix_memalign(&mem, 64, sizeof(worker)))
		return seterr(s, DNS_ENOMEM, "out of memory");
	worker *w = mem;
	memset(w, 0, sizeof(*w));
	*out = w;
	w->s = s;
	w->id = id;
	w->thread = id * s->per_worker;
	w->wt_free = -1;
	w->postfd = -1;
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	if (w->ep < 0)
		return seterr(s, DNS_EIO, "epoll_create1: %s", strerror(errno));
	w->postfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->postfd < 0)
		return seterr(s, DNS_EIO, "eventfd: %s", strerror(errno));
	size_t cap = 1;
	while (cap < s->cfg.post_queue && cap < ((size_t)1 << 30))
		cap <<= 1;
	w->pq = malloc(cap * sizeof(*w->pq));
	if (!w->pq)
		return seterr(s, DNS_ENOMEM, "out of memory");
	for (size_t i = 0; i < cap; i++)
		atomic_init(&w->pq[i].seq, i);
	w->pq_mask = cap - 1;
	size_t nl = s->cfg.nlisten;
	int rc;
	if (s->udp_threads) {
		w->ut = calloc(nl, sizeof(*w->ut));
		if (!w->ut)
			return seterr(s, DNS_ENOMEM, "out of memory");
		for (size_t i = 0; i < nl; i++) {
			if ((rc = udpio_new(s, w, w->thread + 1 + (unsigned)i, &w->ut[i])) < 0)
				return rc;
			w->ut[i]->li = (unsigned)i;
			w->ut[i]->fd = s->udp_fd[id * nl + i];
		}
	} else if (!s->cfg.no_udp && (rc = udpio_new(s, w, w->thread, &w->ue)) < 0) {
		return rc;
	}
	if (!s->cfg.no_tcp) {
		unsigned m = s->cfg.tcp_max_clients;
		w->tcp_resp = malloc(SERVER_MSG_MAX);
		w->conns = calloc(m, sizeof(conn));
		if (!w->tcp_resp || !w->conns)
			return seterr(s, DNS_ENOMEM, "out of memory");
		for (unsigned i = m; i-- > 0;) {
			w->conns[i].fd = -1;
			w->conns[i].free_next = w->free;
			w->free = &w->conns[i];
		}
	}
	if (epoll_add(w->ep, s->stopfd, ev_key(TAG_STOP, 0, 0)) < 0 ||
	    epoll_add(w->ep, w->postfd, ev_key(TAG_POST, 0, 0)) < 0)
		return seterr(s, DNS_EIO, "epoll_ctl: %s", strerror(errno));
	for (size_t i = 0; i < nl; i++) {
		int u = s->udp_threads ? -1 : s->udp_fd[id * nl + i], t = s->tcp_fd[id * nl + i];
		if ((u >= 0 && epoll_add(w->ep, u, ev_key(TAG_UDP, 0, (uint32_t)i)) < 0) ||
		    (t >= 0 && epoll_add(w->ep, t, ev_key(TAG_LISTEN, 0, (uint32_t)i)) < 0))
			return seterr(s, DNS_EIO, "epoll_ctl: %s", strerror(errno));
	}
	return 0;
}

/* Handler thread idx: its description and where its context lives. */
static void **thread_ctx(server *s, unsigned idx, server_thread *t)
{
	unsigned wi = idx / s->per_worker, k = idx % s->per_worker;
	worker *w = s->w[wi];
	t->worker = wi;
	t->index = idx;
	t->kind = k ? SERVER_THREAD_UDP : SERVER_THREAD_EVENT;
	t->listen = k ? k - 1 : 0;
	return k ? &w->ut[k - 1]->ctx : &w->ctx;
}

static void ctx_free_upto(server *s, unsigned n)
{
	for (unsigned i = 0; s->cfg.ctx_free && i < n; i++) {
		server_thread t;
		void **ctx = thread_ctx(s, i, &t);
		s->cfg.ctx_free(s->cfg.app, &t, *ctx);
		*ctx = NULL;
	}
}

/* Waits in the control thread for stop, reload and signals. */
static void control_loop(server *s, int sigfd)
{
	struct pollfd p[3] = {
		{ .fd = s->stopfd, .events = POLLIN },
		{ .fd = s->reloadfd, .events = POLLIN },
		{ .fd = sigfd, .events = POLLIN },
	};
	for (;;) {
		if (poll(p, sigfd >= 0 ? 3 : 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fatal("server: poll: %s", strerror(errno));
		}
		if (p[0].revents)
			return;
		if (p[1].revents) {
			uint64_t v;
			if (read(s->reloadfd, &v, sizeof(v)) == sizeof(v) && s->cfg.reload)
				s->cfg.reload(s->cfg.app);
		}
		if (sigfd >= 0 && p[2].revents) {
			struct signalfd_siginfo si;
			while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					log_info("SIGHUP: reloading");
					if (s->cfg.reload)
						s->cfg.reload(s->cfg.app);
				} else {
					log_info("signal %u: stopping", si.ssi_signo);
					server_stop(s);
					return;
				}
			}
		}
	}
}

int server_run(server *s)
{
	if (s->ran)
		return seterr(s, DNS_EINVAL, "server_run called twice");
	s->ran = true;
	int rc = server_bind(s);
	if (rc < 0)
		return rc;
	unsigned n = s->nthreads;
	s->w = calloc(n, sizeof(worker *));
	if (!s->w)
		return seterr(s, DNS_ENOMEM, "out of memory");
	for (unsigned i = 0; i < n && !rc; i++)
		rc = worker_new(s, i, &s->w[i]);
	unsigned nctx = rc ? 0 : server_ctx_count(s);
	for (unsigned i = 0; i < nctx && s->cfg.ctx_new && !rc; i++) {
		server_thread t;
		void **ctx = thread_ctx(s, i, &t);
		if ((rc = s->cfg.ctx_new(s->cfg.app, &t, ctx)) < 0) {
			seterr(s, rc, "cannot create the context of worker %u (%s thread %u): %s", t.worker,
			       t.kind == SERVER_THREAD_UDP ? "UDP" : "event", t.index, dns_strerror(rc));
			*ctx = NULL;
			ctx_free_upto(s, i);
		}
	}
	int sigfd = -1;
	if (!rc && s->cfg.handle_signals) {
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGHUP);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGINT);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
		sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
		if (sigfd < 0) {
			rc = seterr(s, DNS_EIO, "signalfd: %s", strerror(errno));
			ctx_free_upto(s, nctx);
		}
	}
	if (!rc) {
		sigset_t all, old;
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		for (unsigned i = 0; i < n && !rc; i++) {
			int e = pthread_create(&s->w[i]->th, NULL, worker_main, s->w[i]);
			if (e)
				rc = seterr(s, DNS_EIO, "cannot start worker %u: %s", i, strerror(e));
			else
				s->w[i]->started = true;
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (!rc)
			control_loop(s, sigfd);
		server_stop(s);
		for (unsigned i = 0; i < n; i++)
			if (s->w[i]->started)
				pthread_join(s->w[i]->th, NULL);
		/* Functions posted after their event thread ended: run them here
		 * so that their arguments are not lost. */
		atomic_store(&s->finished, true);
		for (unsigned i = 0; i < n; i++)
			post_drain(s->w[i], SIZE_MAX);
		if (!rc)
			rc = s->async_rc;
		ctx_free_upto(s, nctx);
	}
	if (sigfd >= 0)
		close(sigfd);
	atomic_store(&s->finished, true);
	size_t nfd = (size_t)n * s->cfg.nlisten;
	close_fds(s->udp_fd, nfd);
	close_fds(s->tcp_fd, nfd);
	for (unsigned i = 0; i < n && s->w[i]; i++)
		worker_release(s->w[i]);
	return rc;
}
