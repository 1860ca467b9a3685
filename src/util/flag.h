/* flag — the words a yes/no setting is written with, for every option
 * parser (resolve's config, inject's --tune): yes/no, true/false, on/off,
 * 1/0, in any case. */
#ifndef ANTIDOTE_UTIL_FLAG_H
#define ANTIDOTE_UTIL_FLAG_H

#include <stdbool.h>

/* 0 and *out set, or DNS_ESYNTAX (out untouched) for any other word. */
int flag_parse(const char *word, bool *out);

#endif
