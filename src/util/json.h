/* json — writing JSON strings to a stdio stream (the ground-truth logs of
 * inject, the lab's and probe's reports). One escaping rule everywhere:
 * '"' and '\' escaped, bytes below 0x20 and from 0x7f up written as
 * \u00XX (names read the injector's way may hold any byte; the output is
 * plain ASCII, each byte kept as the code point of the same value). */
#ifndef ANTIDOTE_UTIL_JSON_H
#define ANTIDOTE_UTIL_JSON_H

#include <stddef.h>
#include <stdio.h>

/* Writes s[0..n) as a JSON string, quotes included. */
void json_str_n(FILE *f, const char *s, size_t n);
/* The same for a NUL-terminated s. */
void json_str(FILE *f, const char *s);

#endif
