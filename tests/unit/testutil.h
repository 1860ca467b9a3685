/* testutil — helpers shared by unit tests (header-only, static). */
#ifndef ANTIDOTE_TESTUTIL_H
#define ANTIDOTE_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes text to a fresh temporary file and returns its path (static
 * storage, one per call site is enough for tests). */
static inline const char *tu_tempfile(const char *text, char *path, size_t cap)
{
	snprintf(path, cap, "/tmp/antidote-test.XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	size_t n = strlen(text);
	if (write(fd, text, n) != (ssize_t)n) {
		close(fd);
		return NULL;
	}
	close(fd);
	return path;
}

/* Hex string (spaces and other non-hex characters ignored) to bytes;
 * returns the length. Needs cmocka included first. */
static inline size_t tu_hex(const char *s, uint8_t *out)
{
	size_t n = 0;
	int hi = -1;
	for (; *s; s++) {
		int v;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	assert_true(hi < 0);
	return n;
}

#endif
