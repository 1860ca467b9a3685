/* jsonl — reading one field of a flat JSON line, as the lab's children
 * (`antidote inject --log`, `antidote watch`, `antidote probe`) print them.
 *
 * Not a JSON parser: the first occurrence of "key": at any depth is taken,
 * which is right for the flat lines those programs write (keys unique per
 * line, no key text inside string values). Strings are unescaped simply
 * (\x -> x; \uXXXX is not decoded). Values are copied into caller buffers;
 * nothing is allocated. */
#ifndef ANTIDOTE_LAB_JSONL_H
#define ANTIDOTE_LAB_JSONL_H

#include <stdbool.h>
#include <stddef.h>

/* The value of "key" in line (a string without its quotes, or the raw text
 * of a number, true/false/null) into out (always NUL-terminated when cap >
 * 0). False when the key is absent, the value empty, or it did not fit. */
bool jsonl_str(const char *line, const char *key, char *out, size_t cap);
/* A numeric field; false when absent or not a number. */
bool jsonl_num(const char *line, const char *key, double *out);
/* The strings of an array field ("key":["a","b"]): calls fn for each (arg
 * passed through) and returns how many, or -1 when the key is absent or
 * not an array of strings. Strings longer than 255 bytes are cut. */
int jsonl_strings(const char *line, const char *key, void (*fn)(void *arg, const char *s), void *arg);

#endif
