/* flag — see flag.h. */
#include "util/flag.h"

#include <strings.h>

#include "dns/err.h"

int flag_parse(const char *word, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"}, *const no[] = {"no", "false", "off", "0"};
	for (unsigned i = 0; i < 4; i++) {
		if (!strcasecmp(word, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(word, no[i])) {
			*out = false;
			return 0;
		}
	}
	return DNS_ESYNTAX;
}
