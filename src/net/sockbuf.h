/* sockbuf — socket buffer sizes that hold under bursts. SO_RCVBUF and
 * SO_SNDBUF are silently capped by net.core.rmem_max / wmem_max (212,992
 * bytes on a fresh Debian), too small for a relay or an injector taking a
 * burst of thousands of datagrams; SO_RCVBUFFORCE / SO_SNDBUFFORCE pass the
 * cap with CAP_NET_ADMIN. */
#ifndef ANTIDOTE_NET_SOCKBUF_H
#define ANTIDOTE_NET_SOCKBUF_H

#include <stdbool.h>

/* Asks for a receive (rcv true) or send buffer of `bytes` on fd: the forced
 * option first, the capped one when that is refused. Returns the size the
 * kernel reports afterwards (it doubles the request for its bookkeeping),
 * or a negative error code when fd is not a socket. */
int sockbuf_set(int fd, bool rcv, int bytes);

#endif
