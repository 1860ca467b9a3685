/* err — names of the library's error codes. */
#include "dns/err.h"

const char *dns_strerror(int code)
{
	switch (code) {
	case DNS_OK: return "success";
	case DNS_ETRUNC: return "truncated input";
	case DNS_ESPACE: return "output buffer too small";
	case DNS_EPTR: return "bad compression pointer";
	case DNS_ELABEL: return "bad label";
	case DNS_ENAMELEN: return "name too long";
	case DNS_ESYNTAX: return "syntax error";
	case DNS_ERANGE: return "value out of range";
	case DNS_EFORMAT: return "malformed data";
	case DNS_ENOMEM: return "out of memory";
	case DNS_ENOTFOUND: return "not found";
	case DNS_EIO: return "I/O error";
	case DNS_EINVAL: return "invalid argument";
	case DNS_ETYPE: return "unknown type";
	}
	return "unknown error";
}
