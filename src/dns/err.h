/* err — the error codes every antidote library call returns.
 *
 * Library calls return 0 (or a non-negative count/length) on success and one
 * of these negative codes on failure. dns_strerror() names them for humans. */
#ifndef ANTIDOTE_DNS_ERR_H
#define ANTIDOTE_DNS_ERR_H

enum dns_err {
	DNS_OK = 0,
	DNS_ETRUNC = -1,    /* input ended before the item did */
	DNS_ESPACE = -2,    /* output buffer too small */
	DNS_EPTR = -3,      /* compression pointer forward, looping or out of range */
	DNS_ELABEL = -4,    /* label type 0x40/0x80, or label longer than 63 */
	DNS_ENAMELEN = -5,  /* name longer than 255 octets */
	DNS_ESYNTAX = -6,   /* text that does not parse */
	DNS_ERANGE = -7,    /* number out of range */
	DNS_EFORMAT = -8,   /* wire data inconsistent (counts, rdlength, ...) */
	DNS_ENOMEM = -9,    /* allocation failed */
	DNS_ENOTFOUND = -10,/* no such item */
	DNS_EIO = -11,      /* file or socket error (errno has details) */
	DNS_EINVAL = -12,   /* caller passed something invalid */
	DNS_ETYPE = -13,    /* unknown type mnemonic / unsupported */
};

/* Static string describing code (never NULL). */
const char *dns_strerror(int code);

#endif
