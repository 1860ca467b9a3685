/* sockbuf — see sockbuf.h. */
#include "net/sockbuf.h"

#include <errno.h>
#include <sys/socket.h>

#include "dns/err.h"

int sockbuf_set(int fd, bool rcv, int bytes)
{
	if (setsockopt(fd, SOL_SOCKET, rcv ? SO_RCVBUFFORCE : SO_SNDBUFFORCE, &bytes, sizeof(bytes)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, rcv ? SO_RCVBUF : SO_SNDBUF, &bytes, sizeof(bytes));
	int got = 0;
	socklen_t len = sizeof(got);
	if (getsockopt(fd, SOL_SOCKET, rcv ? SO_RCVBUF : SO_SNDBUF, &got, &len) < 0)
		return DNS_EIO;
	return got;
}
