/* server — multi-threaded UDP+TCP message server; DNS-agnostic.
 *
 * The server moves request messages in and response messages out and calls
 * one handler per message. It knows nothing of DNS beyond RFC 7766 framing
 * (TCP messages carry a 2-byte big-endian length prefix). A handler answers
 * at once, or defers: it takes a reply token and answers later (an upstream
 * reply arrived, a timer fired) with server_reply. For that kind of app the
 * server also runs, in each worker's event thread, the app's own sockets
 * (server_watch), timers (server_timer_add) and functions handed over from
 * other threads (server_post).
 *
 * Life cycle (one thread, "the control thread", usually main):
 *
 *	server_config cfg = { .listen = addrs, .nlisten = n, .handler = h, ... };
 *	server *s = server_new(&cfg);           // NULL only when out of memory
 *	if (server_bind(s) < 0)                 // opens every socket
 *		log_err("%s", server_error(s)); // "cannot bind 127.0.0.1:53 (udp): Permission denied"
 *	int rc = server_run(s);                 // blocks until stopped; 0 = clean stop
 *	server_free(s);
 *
 * Workers: server_run starts cfg.threads workers and then waits in the
 * control thread. Each worker owns, for every listen address, one UDP
 * socket and one TCP listening socket, all bound with SO_REUSEPORT so the
 * kernel spreads datagrams and connections over workers by flow hash. The
 * TCP choice (SO_REUSEPORT listener per worker rather than one shared
 * accept socket): no thundering herd, no lock or hand-off between threads,
 * and each connection lives its whole life on the worker that accepted it,
 * so a worker's state is touched by that worker only. The cost (a busy
 * worker's accept queue is not stolen by idle ones) is acceptable for DNS,
 * where handlers are short.
 *
 * Threads of a worker:
 *  - its event thread runs one epoll loop over the worker's TCP listeners,
 *    its TCP connections, the server's stop eventfd, the worker's post
 *    eventfd, the app's watched sockets and the worker's timers (and, in
 *    SERVER_UDP_EPOLL mode, its UDP sockets);
 *  - in SERVER_UDP_THREADS mode (the default) one UDP thread per listen
 *    address, which does nothing but: blocking recvmmsg(MSG_WAITFORONE) of
 *    up to SERVER_UDP_BATCH datagrams, one handler call per datagram, one
 *    sendmmsg of the answers — two system calls per batch, the least the
 *    kernel allows. In SERVER_UDP_EPOLL mode the event thread does the same
 *    after epoll says a socket is readable (epoll_wait + recvmmsg, plus a
 *    further recvmmsg after a full batch, + sendmmsg): one thread per worker
 *    however many addresses it listens on, better with many listen
 *    addresses, dearer per batch when batches are small.
 * UDP details (both modes): partial sends are resumed; EAGAIN waits briefly
 * for POLLOUT, then the rest of the batch is dropped and counted in
 * send_errors. Stop: UDP threads block in recvmmsg; the event thread wakes
 * them with shutdown(SHUT_RD) on their socket (which makes a blocked
 * recvmmsg return at once) and they also use SO_RCVTIMEO (100 ms) to look
 * at the stop flag, so a stop never waits for traffic.
 * Nothing is allocated per message: receive and response buffers are
 * allocated once per UDP-handling thread (one 64 KiB buffer each way per
 * batch slot), per event thread (a 64 KiB TCP response buffer) and per TCP
 * connection (input/output buffers, grown at most a few times).
 *
 * Handler contexts: every thread that runs the handler has its own context,
 * so the handler never runs concurrently on one context and a context needs
 * no locking. The threads are described by server_thread; in
 * SERVER_UDP_THREADS mode a worker has 1 + nlisten of them (event thread
 * first, then the UDP threads in listen order), else 1. server_ctx_count(s)
 * says how many there are in all; their index is dense, 0..count-1.
 *
 * Threading model — who runs what:
 *   control thread   server_new/bind/run/free; cfg.ctx_new and cfg.ctx_free;
 *                    cfg.reload; after every server thread has exited,
 *                    posted functions still queued (see server_post).
 *   event thread w   cfg.worker_start (first) and cfg.worker_stop (last);
 *                    the handler for TCP (and for UDP in SERVER_UDP_EPOLL
 *                    mode); timer, watch and post callbacks of worker w.
 *   UDP thread w/i   the handler for datagrams to listen address i of
 *                    worker w (SERVER_UDP_THREADS mode). Started after
 *                    worker_start(w) returned, joined before worker_stop(w).
 * And what may be called from where:
 *   any thread       server_stop, server_reload, server_read_stats,
 *                    server_stopping, server_event_worker, server_post
 *                    (while server_run runs), server_reply with a UDP token
 *                    (while server_run runs).
 *   handler          server_defer (on the query it was given).
 *   event thread w   server_reply with a TCP token of worker w;
 *                    server_watch/_mod/unwatch and server_timer_add/_cancel
 *                    for worker w. Called from elsewhere they return
 *                    DNS_EINVAL and do nothing.
 * Callbacks run one at a time per event thread (never concurrently with
 * each other or with that thread's handler calls) and may call any of the
 * functions allowed there, including re-arming or cancelling the timer that
 * is firing and unwatching any socket. They must not block for long.
 *
 * Deferred answers: the handler calls server_defer(q, &tok) and returns
 * SERVER_DEFER; later server_reply(s, &tok, msg, len) sends the answer.
 * UDP: a token names the socket, the peer and (packet info) the local
 * address; server_reply is a sendmsg from any thread. TCP: a token names
 * the connection (slot + generation); server_reply must run in that
 * worker's event thread (post there from elsewhere); when the connection
 * has closed meanwhile (or its slot serves a newer connection) the reply is
 * dropped (DNS_ENOTFOUND, counted in late_dropped). On TCP, answers to
 * pipelined queries leave in order while nothing is deferred; a deferred
 * answer leaves when it is given, so later synchronous answers may overtake
 * it (RFC 7766, 6.2.1.1). A connection with deferred answers outstanding is
 * kept open after the client's EOF (or a SERVER_DROP) until they are all
 * given; the idle timeout still applies (a reply later than tcp_idle_ms
 * without other progress finds the connection closed), and at
 * tcp_defer_max outstanding ones the connection's further queries wait.
 * A token is a plain value: copy it, keep it anywhere, drop it without
 * telling the server (a TCP connection then closes by the idle timeout).
 *
 * Stop with work pending: the event thread leaves its loop, joins its UDP
 * threads, runs the functions still posted to it, calls cfg.worker_stop (in
 * which the app cancels its timers, unwatches and closes its sockets, frees
 * its per-worker state and may still server_reply), then forgets any timer
 * or watch left (without touching the app's structures) and closes its
 * connections. Functions posted to a worker after its event thread ended
 * are run by the control thread before server_run returns (server_stopping
 * is true for all of these), so a posted argument is never lost.
 *
 * Signals: with cfg.handle_signals, server_run blocks SIGHUP, SIGTERM and
 * SIGINT in the calling thread (server threads are started with every
 * signal blocked) and reads them from a signalfd: SIGTERM/SIGINT stop the
 * server, SIGHUP calls cfg.reload in the control thread while workers keep
 * answering. Process-directed signals reach the signalfd only if every
 * other thread of the process blocks them too: call server_run from the
 * main thread before starting other threads (or block the three signals in
 * them). The signals stay blocked in the control thread after server_run
 * returns. Without cfg.handle_signals the server never touches signal
 * dispositions; use server_stop / server_reload.
 *
 * SIGPIPE: TCP writes use MSG_NOSIGNAL; the server never raises it.
 *
 * Port 0: a listen address with port 0 gets one free port chosen by the
 * kernel, the same for UDP and TCP and for all workers; read it back with
 * server_bound_addr. (Tests use this to avoid busy ports.)
 *
 * Busy addresses: SO_REUSEPORT would let a second server of the same user
 * silently share a port. server_bind therefore first probes every address
 * with plain sockets (no SO_REUSEPORT) and fails with "Address already in
 * use" when anything else, including this server (an address listed twice),
 * holds it. */
#ifndef ANTIDOTE_NET_SERVER_H
#define ANTIDOTE_NET_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/addr.h"

/* Handler return values besides a length: SERVER_DROP sends nothing; on
 * TCP it also closes the connection (after the responses already queued on
 * it are written and the deferred ones given). Any negative value but
 * SERVER_DEFER acts the same; 0 is treated as SERVER_DROP too.
 * SERVER_DEFER: nothing now, the handler took a token with server_defer
 * and answers later with server_reply. */
#define SERVER_DROP (-1)
#define SERVER_DEFER (-2)

/* Datagrams per recvmmsg/sendmmsg batch. */
#define SERVER_UDP_BATCH 32
/* Largest message either way (UDP payload or TCP message body). */
#define SERVER_MSG_MAX 65535

enum server_transport { SERVER_UDP = 0, SERVER_TCP = 1 };

/* Who reads UDP (see "Threads of a worker" above). */
enum server_udp_mode {
	SERVER_UDP_THREADS = 0, /* default: one blocking UDP thread per worker and listen address */
	SERVER_UDP_EPOLL = 1,   /* the worker's event thread, through epoll */
};

enum server_thread_kind { SERVER_THREAD_EVENT = 0, SERVER_THREAD_UDP = 1 };

/* A thread that runs the handler (and so has a context). */
typedef struct server_thread {
	unsigned worker;        /* 0..threads-1 */
	unsigned index;         /* 0..server_ctx_count()-1, unique in the server */
	enum server_thread_kind kind;
	unsigned listen;        /* UDP thread: its listen address index; event thread: 0 */
} server_thread;

typedef struct server server;

/* One request, handed to the handler. Everything is borrowed and valid only
 * during the handler call; the handler must not keep pointers into it (a
 * deferring handler copies what it needs, the token included). */
typedef struct server_query {
	const uint8_t *req;     /* request message (TCP: without the length prefix) */
	size_t req_len;         /* 1..65535 (UDP may be 0: an empty datagram) */
	const net_addr *peer;   /* who sent it */
	const net_addr *local;  /* listen address it arrived on; for wildcard
	                         * binds (and udp_pktinfo) the actual destination */
	enum server_transport transport;
	unsigned worker;        /* 0..threads-1 */
	unsigned thread;        /* server_thread.index of the calling thread */
	uint8_t *resp;          /* server-owned buffer for the response */
	size_t resp_max;        /* SERVER_MSG_MAX; EDNS/512-byte limits are the
	                         * handler's business */
	server *srv;            /* the server, for server_post, server_reply... */
	void *priv_;            /* the server's own, for server_defer */
	unsigned priv_i_;
} server_query;

/* Handles one request: writes the response into q->resp and returns its
 * length (1..q->resp_max), SERVER_DROP or SERVER_DEFER. Runs in thread
 * q->thread with that thread's context: never concurrently with itself on
 * one context, but concurrently across threads (of one worker too: its
 * event thread answers TCP while its UDP threads answer UDP). A return
 * value above q->resp_max is a broken invariant (fatal). Must not block for
 * long: the thread serves nothing else meanwhile. */
typedef int (*server_handler)(void *ctx, server_query *q);

/* What server_reply needs to answer a deferred query. A plain value; the
 * fields ending in _ are the server's. */
typedef struct server_token {
	enum server_transport transport;
	unsigned worker;        /* the worker that received the query */
	int fd_;                /* UDP: the socket it came in on */
	uint32_t conn_, gen_;   /* TCP: connection slot and generation */
	bool pktinfo_;          /* UDP: reply from local_ */
	socklen_t peer_len_;
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} peer_, local_;
} server_token;

/* Callbacks in a worker's event thread (see "Threading model"). */
typedef void (*server_post_fn)(server *s, unsigned worker, void *arg);
typedef void (*server_watch_fn)(server *s, unsigned worker, int fd, uint32_t events, void *arg);

/* A timer: caller-owned (embed it in the state it belongs to; no
 * allocation per timer), zeroed before first use (= {0} or calloc), not
 * moved or freed while armed. The fields are the server's. */
typedef struct server_timer server_timer;
typedef void (*server_timer_fn)(server *s, unsigned worker, server_timer *t, void *arg);
struct server_timer {
	uint64_t when_, seq_;
	size_t pos_;            /* heap position + 1; 0 = not armed */
	unsigned worker_;
	server_timer_fn fn_;
	void *arg_;
};

typedef struct server_config {
	const net_addr *listen; /* listen addresses (copied by server_new) */
	size_t nlisten;         /* >= 1 */
	unsigned threads;       /* workers; 0 = CPUs this process may run on
	                         * (sched_getaffinity, so `taskset` is honoured;
	                         * falls back to online CPUs) */
	server_handler handler; /* required */
	void *app;              /* passed to the callbacks below */
	/* Optional per-thread context: ctx_new(app, t, &ctx) is called for each
	 * handler thread t (index order) in the control thread before any
	 * server thread starts; a negative return aborts server_run with that
	 * code (contexts already made are freed). ctx_free(app, t, ctx) is
	 * called in the control thread after every server thread has exited.
	 * t is borrowed for the call. Without ctx_new the context is NULL. */
	int (*ctx_new)(void *app, const server_thread *t, void **ctx);
	void (*ctx_free)(void *app, const server_thread *t, void *ctx);
	/* Optional, in worker w's event thread: worker_start before its loop
	 * and before its UDP threads start (so per-worker state made there is
	 * ready for every handler call; ctx is the event thread's context), and
	 * worker_stop (only if worker_start succeeded or is absent) when it
	 * stops — see "Stop with work pending". A negative worker_start return
	 * stops the server; server_run then returns it. */
	int (*worker_start)(void *app, server *s, unsigned worker, void *ctx);
	void (*worker_stop)(void *app, server *s, unsigned worker, void *ctx);
	/* Optional: called in the control thread on SIGHUP (handle_signals) or
	 * server_reload(). Workers keep answering meanwhile; the app publishes
	 * its new data e.g. with an atomic pointer swap. */
	void (*reload)(void *app);
	bool handle_signals;    /* see "Signals" above; false in unit tests */
	bool cpu_pin;           /* pin worker i's threads to the i-th CPU of the affinity set */
	bool no_udp, no_tcp;    /* serve only one transport */
	enum server_udp_mode udp_mode;
	bool udp_pktinfo;       /* force IP_PKTINFO/IPV6_RECVPKTINFO handling
	                         * (reply from the exact destination address) on
	                         * every UDP socket; it is always on for wildcard
	                         * binds (0.0.0.0, ::). For tests. */
	unsigned tcp_idle_ms;   /* close a connection without read/write progress
	                         * for this long; 0 = 10000 (RFC 7766) */
	unsigned tcp_max_clients; /* open connections per worker; 0 = 512. At
	                         * the cap a new connection evicts the one idle
	                         * the longest */
	size_t tcp_out_max;     /* per-connection pending output bound; 0 =
	                         * 128 KiB. While a connection's pending output
	                         * is at the bound its further requests are not
	                         * processed (and it is not read): a peer that
	                         * stops reading makes no progress and is closed
	                         * by the idle timeout */
	unsigned tcp_defer_max; /* deferred answers outstanding per connection
	                         * before its further requests wait; 0 = 64 */
	unsigned post_queue;    /* server_post slots per worker, rounded up to a
	                         * power of two; 0 = 4096 */
	int udp_rcvbuf;         /* SO_RCVBUF(FORCE) for UDP sockets; 0 = 4 MiB,
	                         * < 0 = leave the system default */
} server_config;

/* Counters, summed over threads by server_read_stats (each thread updates
 * its own with relaxed atomics; a read is a consistent-enough snapshot). */
typedef struct server_stats {
	uint64_t queries;       /* requests handed to the handler (UDP + TCP) */
	uint64_t responses;     /* synchronous responses sent (UDP) or queued (TCP) */
	uint64_t dropped;       /* handler returned SERVER_DROP */
	uint64_t deferred;      /* handler returned SERVER_DEFER */
	uint64_t late_replies;  /* server_reply answers sent (UDP) or queued (TCP) */
	uint64_t late_dropped;  /* server_reply answers lost: connection gone,
	                         * or the kernel refused the datagram */
	uint64_t posts;         /* functions run by server_post */
	uint64_t post_full;     /* server_post calls refused: queue full */
	uint64_t udp_queries;
	uint64_t tcp_queries;
	uint64_t send_errors;   /* UDP responses the kernel refused/never took */
	uint64_t udp_truncated; /* datagrams too large for the buffer, ignored */
	uint64_t tcp_accepted;  /* connections accepted */
	uint64_t tcp_open;      /* connections open now */
	uint64_t tcp_idle_closed;   /* closed by the idle timeout */
	uint64_t tcp_evicted;       /* closed to make room (tcp_max_clients) */
	uint64_t tcp_bad_closed;    /* closed for a zero-length message */
} server_stats;

/* Copies cfg (and its listen array). Returns NULL only when out of memory;
 * configuration errors are reported by server_bind. */
server *server_new(const server_config *cfg);

/* Validates the configuration and opens and binds every socket. Returns 0,
 * DNS_EINVAL (bad config), DNS_EIO (socket/bind/listen failed: errno set)
 * or DNS_ENOMEM; server_error(s) then holds a one-line message naming the
 * address, e.g. "cannot bind [::1]:53 (tcp): Address already in use".
 * Calling it again after success does nothing. */
int server_bind(server *s);

/* Binds (if not done yet), makes the thread contexts, starts the workers
 * and waits until the server is stopped (server_stop, or SIGTERM/SIGINT with
 * handle_signals). Every server thread has exited, every connection and
 * socket is closed and every context freed when it returns 0. Returns a
 * negative DNS_E* code (and sets server_error) when it could not start or
 * a worker_start failed; a server runs at most once (DNS_EINVAL afterwards). */
int server_run(server *s);

/* Asks the server to stop; threads notice at once (event threads wait on an
 * eventfd, UDP threads are woken by their event thread). Thread-safe and
 * async-signal-safe; may be called before server_run (which then returns 0
 * right after starting). */
void server_stop(server *s);

/* True once server_stop was called (or a signal asked for it). Any thread. */
bool server_stopping(const server *s);

/* Asks the control thread to call cfg.reload (as SIGHUP does). Thread-safe
 * and async-signal-safe; a no-op without cfg.reload. */
void server_reload(server *s);

/* Last error message ("" if none). Owned by s. */
const char *server_error(const server *s);

/* Number of workers (valid after server_bind). */
unsigned server_threads(const server *s);

/* Number of handler threads, i.e. of contexts (valid after server_bind):
 * threads * (1 + nlisten) in SERVER_UDP_THREADS mode with UDP on, else
 * threads. */
unsigned server_ctx_count(const server *s);

/* The i-th listen address as actually bound (port 0 resolved), after
 * server_bind; NULL if i >= nlisten. Owned by s. */
const net_addr *server_bound_addr(const server *s, size_t i);

/* Sums every thread's counters into *out. Thread-safe, any time. */
void server_read_stats(const server *s, server_stats *out);

/* Frees s. Must not be called while server_run is running. NULL is fine. */
void server_free(server *s);

/* ---- multi-message answers ---- */

/* TCP only, from the handler: queues msg (1..SERVER_MSG_MAX octets, copied)
 * on q's connection before the handler's own response, for answers of
 * several messages such as zone transfers (the handler returns the last
 * one). The connection's output grows as needed: the whole answer is
 * buffered. Returns 0, DNS_EINVAL (UDP, bad length) or DNS_ENOMEM. */
int server_tcp_queue(const server_query *q, const uint8_t *msg, size_t len);

/* ---- deferred answers ---- */

/* Fills *tok for answering q later; call it in the handler (q is valid
 * only there), then return SERVER_DEFER. Returns 0, or DNS_EINVAL for a
 * query the server did not make. */
int server_defer(const server_query *q, server_token *tok);

/* Sends the answer to a deferred query: msg[0..len) (1..SERVER_MSG_MAX;
 * copied, TCP adds the length prefix). len 0 gives up on the query: UDP
 * sends nothing; TCP treats it as SERVER_DROP (the connection closes after
 * its pending answers). Each token must be answered at most once. UDP: any
 * thread while server_run runs; returns 0, DNS_EIO when the kernel refused
 * the datagram (after a brief wait for room). TCP: only in the event thread
 * of tok->worker (else DNS_EINVAL); returns 0 (queued; written as the socket
 * allows), DNS_ENOTFOUND when the connection is gone (answer dropped) or
 * DNS_ENOMEM. */
int server_reply(server *s, const server_token *tok, const uint8_t *msg, size_t len);

/* The peer a token answers. */
void server_token_peer(const server_token *tok, net_addr *out);

/* ---- in a worker's event thread ---- */

/* The worker whose event thread is calling, or -1 for any other thread
 * (UDP threads, the control thread, the app's threads). */
int server_event_worker(const server *s);

/* Runs fn(s, worker, arg) in worker's event thread, soon, in posting order
 * per posting thread. From any thread (an event thread may post to itself)
 * from the start of worker_start until server_run returns. A bounded
 * lock-free queue (cfg.post_queue slots) plus an eventfd that is written
 * only when the event thread may be asleep. Returns 0, DNS_ESPACE when the
 * queue is full (nothing queued, counted in post_full: the caller drops the
 * work or answers SERVFAIL itself), or DNS_EINVAL (bad worker, no fn, server
 * not running). See "Stop with work pending" for what runs at stop. */
int server_post(server *s, unsigned worker, server_post_fn fn, void *arg);

/* Adds fd (owned by the app, typically non-blocking) to worker's epoll set:
 * fn(s, worker, fd, events, arg) runs in its event thread for each epoll
 * report (level-triggered; events as in <sys/epoll.h>: EPOLLIN, EPOLLOUT,
 * EPOLLERR, EPOLLHUP...). Returns a watch id >= 0, or DNS_EINVAL (wrong
 * thread), DNS_EIO (epoll_ctl failed, errno set), DNS_ENOMEM. Unwatch
 * before closing fd. */
int server_watch(server *s, unsigned worker, int fd, uint32_t events, server_watch_fn fn, void *arg);
/* Changes the events of watch id. Returns 0, DNS_EINVAL, DNS_ENOTFOUND, DNS_EIO. */
int server_watch_mod(server *s, unsigned worker, int id, uint32_t events);
/* Removes watch id; no callback for it runs afterwards, even for events
 * already collected. Returns 0, DNS_EINVAL, DNS_ENOTFOUND. */
int server_unwatch(server *s, unsigned worker, int id);

/* Arms (or re-arms) t to run fn(s, worker, t, arg) once, in worker's event
 * thread, no earlier than ms milliseconds from now (monotonic clock, 1 ms
 * resolution). Timers run in deadline order, equal deadlines in arming
 * order. A binary heap of the caller's structures: O(log n), no allocation
 * but an occasional growth of the heap array. Returns 0, DNS_EINVAL (wrong
 * thread, or t armed on another worker) or DNS_ENOMEM. */
int server_timer_add(server *s, unsigned worker, server_timer *t, uint64_t ms,
		     server_timer_fn fn, void *arg);
/* Disarms t: 1 if it was armed, 0 if not (already fired, cancelled, never
 * armed), DNS_EINVAL outside the event thread of the worker it is armed on. */
int server_timer_cancel(server *s, server_timer *t);
/* True while t is armed. */
bool server_timer_armed(const server_timer *t);

#endif
