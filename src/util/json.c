/* json — JSON strings to a stream (json.h). */
#include "util/json.h"

#include <string.h>

void json_str_n(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

void json_str(FILE *f, const char *s)
{
	json_str_n(f, s, strlen(s));
}
