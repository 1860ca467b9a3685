/* tsig — secret key transaction authentication (TSIG, RFC 8945): keys,
 * verifying a signed message, signing one, and chaining the MACs of a
 * multi-message exchange (a zone transfer).
 *
 * KEYS. A tsig_key is parsed from the spec dig/kdig/knotc take,
 * "ALG:NAME:BASE64SECRET" (e.g. "hmac-sha256:xfr-key:c2VjcmV0"); ALG is
 * hmac-sha256 (the required one), hmac-sha1, hmac-sha224, hmac-sha384 or
 * hmac-sha512. The key name is kept lower-cased in wire form.
 *
 * EXCHANGE. A tsig_ctx is the state of one signed exchange, on either side:
 *   server: tsig_ctx_init(&t, keys, n); tsig_verify(&t, &query, now) then,
 *           for each response message, tsig_sign(&t, buf, len, cap, now);
 *   client: tsig_ctx_init(&t, &key, 1); t.key = &key; tsig_sign the
 *           request, then tsig_verify each response message.
 * The context remembers the previous MAC: the first response's MAC covers
 * the request's MAC, the message and all TSIG variables; each later one
 * covers the previous MAC, the message and the timers only (§5.3.1). Every
 * message of a transfer is signed (the unsigned-in-between allowance of
 * §5.3.1 is not used when signing and not accepted when verifying).
 *
 * ERRORS (§5.2). tsig_verify of a request returns 0 (verified), or a TSIG
 * error that the caller answers with RCODE NOTAUTH and a TSIG RR whose
 * error field says why — tsig_sign writes that RR from the context:
 *   TSIG_BADKEY  unknown key name or algorithm: the reply's TSIG is
 *                 unsigned (MAC size 0);
 *   TSIG_BADSIG  MAC wrong: unsigned reply too;
 *   TSIG_BADTRUNC MAC truncated (not accepted here): unsigned reply;
 *   TSIG_BADTIME time signed outside now ± fudge (the smaller of the
 *                 request's fudge and ctx->fudge, 300 s by default): the
 *                 reply is signed, its Other Data is our time.
 * Negative DNS_E* codes: DNS_ENOTFOUND (no TSIG in the message),
 * DNS_EFORMAT and other wire errors (malformed TSIG: FORMERR).
 *
 * No allocation per message: each context holds an OpenSSL EVP_MAC_CTX
 * created by tsig_ctx_init and freed by tsig_ctx_free (call it in every
 * case). Keys are borrowed: they outlive the context. */
#ifndef ANTIDOTE_DNS_TSIG_H
#define ANTIDOTE_DNS_TSIG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/msg.h"
#include "dns/name.h"

#define TSIG_MAC_MAX 64      /* SHA-512 */
#define TSIG_SECRET_MAX 256
#define TSIG_FUDGE 300
#define TSIG_REPLAY_SLACK 2 /* seconds a request may be signed before the key's latest (tsig_replay_check) */

/* TSIG error field values (RFC 8945 §3; BADSIG shares 16 with BADVERS). */
enum tsig_error { TSIG_BADSIG = 16, TSIG_BADKEY = 17, TSIG_BADTIME = 18, TSIG_BADTRUNC = 22 };

enum tsig_alg {
	TSIG_HMAC_SHA1, TSIG_HMAC_SHA224, TSIG_HMAC_SHA256, TSIG_HMAC_SHA384, TSIG_HMAC_SHA512,
	TSIG_NALGS
};

typedef struct tsig_key {
	uint8_t name[NAME_MAXLEN]; /* lower-case wire form */
	uint8_t alg;               /* enum tsig_alg */
	uint16_t secret_len;       /* 1..TSIG_SECRET_MAX */
	uint8_t secret[TSIG_SECRET_MAX];
} tsig_key;

/* Parses "ALG:NAME:BASE64" into k. 0, or DNS_ESYNTAX/DNS_ETYPE (unknown
 * algorithm) with a message in err. */
int tsig_key_parse(tsig_key *k, const char *spec, char *err, size_t errlen);
/* The algorithm's wire name ("\x0bhmac-sha256\0"), its text name
 * ("hmac-sha256"), MAC length; -1/NULL for an unknown one. */
const uint8_t *tsig_alg_wire(unsigned alg);
const char *tsig_alg_text(unsigned alg);
int tsig_alg_maclen(unsigned alg);
/* The key named name (any case) among keys[0..n), or NULL. */
const tsig_key *tsig_key_find(const tsig_key *keys, unsigned n, const uint8_t *name);

typedef struct tsig_ctx {
	const tsig_key *keys;      /* keyring for tsig_verify of a request */
	unsigned nkeys;
	const tsig_key *key;       /* key of the exchange; NULL: none (yet) */
	uint16_t fudge;            /* our fudge, TSIG_FUDGE by default */
	uint16_t error;            /* TSIG error of the reply (tsig_verify sets it) */
	uint16_t mac_len;          /* previous MAC (request's, then last signed/verified) */
	uint8_t mac[TSIG_MAC_MAX];
	unsigned nmsg;             /* responses signed / verified so far */
	uint64_t req_time;         /* the request's time signed */
	uint64_t now;              /* our time at tsig_verify (BADTIME other data) */
	uint8_t kname[NAME_MAXLEN];/* the request's key and algorithm names, for */
	uint8_t aname[NAME_MAXLEN];/*   an unsigned BADKEY/BADSIG reply */
	void *mctx;                /* EVP_MAC_CTX */
} tsig_ctx;

/* DNS_ENOMEM when OpenSSL cannot make a MAC context. */
int tsig_ctx_init(tsig_ctx *c, const tsig_key *keys, unsigned nkeys);
void tsig_ctx_free(tsig_ctx *c);

/* Octets tsig_sign will append to a message (at most). */
size_t tsig_size(const tsig_ctx *c);

/* Verifies the TSIG RR of m (parsed by msg_parse or msg_parse_query, the
 * TSIG at m->tsig_off). A request (QR clear, c->nmsg == 0 and c->mac_len
 * == 0): the key is looked up in c->keys; see ERRORS above. A response: it
 * must be signed by c->key, over c->mac; returns 0 or the same codes
 * (BADKEY for another key, BADSIG, BADTIME; a response carrying a TSIG
 * error and no MAC returns that error). now: seconds since the epoch. */
int tsig_verify(tsig_ctx *c, const msg *m, uint64_t now);

/* Replay check (§5.2.3: the server "SHOULD return BADTIME if a message
 * received later has an earlier Time Signed value" than the most recent
 * one of that key). Call after tsig_verify of a request returned 0; *last
 * is the key's latest Time Signed, shared by every thread (start it at 0).
 * More than TSIG_REPLAY_SLACK seconds earlier than *last: returns
 * TSIG_BADTIME and sets c->error, so the reply tsig_sign writes is the
 * signed BADTIME one (its Other Data our time). Else raises *last to the
 * request's time (if later) and returns 0. The slack lets through what is
 * not a replay: two clients sharing a key whose requests, signed a moment
 * apart across a second boundary, arrive in the other order over separate
 * connections. A replay is refused unless made within those 2 s (the fudge
 * alone would allow 300). */
int tsig_replay_check(tsig_ctx *c, _Atomic uint64_t *last);

/* Appends a TSIG RR to the message buf[0..len) (cap octets available) and
 * counts it in ARCOUNT: signed with c->key (over c->mac when it is set),
 * or unsigned when c->key is NULL and c->error says why. The new MAC
 * becomes c->mac. Returns the new length, DNS_ESPACE or DNS_EINVAL (no key
 * and no error). */
int tsig_sign(tsig_ctx *c, uint8_t *buf, size_t len, size_t cap, uint64_t now);

/* Copies the message of m without its TSIG RR into out (ARCOUNT less one,
 * the header ID kept), e.g. to hand a verified query to a resolver or an
 * answerer that does not know TSIG. Returns the length or DNS_ESPACE /
 * DNS_ENOTFOUND. */
int tsig_strip(const msg *m, uint8_t *out, size_t cap);

#endif
