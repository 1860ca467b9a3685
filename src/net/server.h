/* server — multi-threaded UDP+TCP message server; DNS-agnostic.
 *
 * The server moves request messages in and response messages out and calls
 * one handler per message. It knows nothing of DNS beyond RFC 7766 framing
 * (TCP messages carry a 2-byte big-endian length prefix).
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
 *    its TCP connections and the server's stop eventfd (and, in
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

/* Handler return value: send nothing. On TCP it also closes the connection
 * (after the responses already queued on it are written). Any negative
 * value acts the same; 0 is treated as SERVER_DROP too. */
#define SERVER_DROP (-1)

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

/* One request, handed to the handler. Everything is borrowed and valid only
 * during the handler call; the handler must not keep pointers into it. */
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
} server_query;

/* Handles one request: writes the response into q->resp and returns its
 * length (1..q->resp_max), or SERVER_DROP. Runs in thread q->thread with
 * that thread's context: never concurrently with itself on one context,
 * but concurrently across threads (of one worker too: its event thread
 * answers TCP while its UDP threads answer UDP). A return value above
 * q->resp_max is a broken invariant (fatal). Must not block for long: the
 * thread serves nothing else meanwhile. */
typedef int (*server_handler)(void *ctx, server_query *q);

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
	int udp_rcvbuf;         /* SO_RCVBUF(FORCE) for UDP sockets; 0 = 4 MiB,
	                         * < 0 = leave the system default */
} server_config;

/* Counters, summed over threads by server_read_stats (each thread updates
 * its own with relaxed atomics; a read is a consistent-enough snapshot). */
typedef struct server_stats {
	uint64_t queries;       /* requests handed to the handler (UDP + TCP) */
	uint64_t responses;     /* responses sent (UDP) or queued (TCP) */
	uint64_t dropped;       /* handler returned SERVER_DROP */
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

typedef struct server server;

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
 * negative DNS_E* code (and sets server_error) when it could not start; a
 * server runs at most once (DNS_EINVAL afterwards). */
int server_run(server *s);

/* Asks the server to stop; threads notice at once (event threads wait on an
 * eventfd, UDP threads are woken by their event thread). Thread-safe and
 * async-signal-safe; may be called before server_run (which then returns 0
 * right after starting). */
void server_stop(server *s);

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

#endif
