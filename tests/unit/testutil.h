/* testutil — helpers shared by unit tests (header-only, static). */
#ifndef ANTIDOTE_TESTUTIL_H
#define ANTIDOTE_TESTUTIL_H

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

#endif
