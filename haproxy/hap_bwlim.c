/* `show mcs bwlim`: "Key: value" lines as in `show info`, of which throttled_bytes is read. */
#include "hap_bwlim.h"

#include <stdio.h>
#include <string.h>

#include "hap_info.h"
#include "hap_parse.h"

int hap_bwlim_parse(const char *text, struct hap_bwlim *out, char *err, size_t errlen)
{
	char value[32];
	memset(out, 0, sizeof(*out));
	/* HAProxy answers a command it does not know with suggestions: the Lua limit is not loaded. */
	if (strncmp(text, "Unknown command", 15) == 0)
		return 0;
	if (hap_info_get(text, "throttled_bytes", value, sizeof(value)) == -1 ||
	    hap_parse_u64(value, &out->throttled) == -1) {
		snprintf(err, errlen, "show mcs bwlim: no throttled_bytes number in the reply");
		out->throttled = 0;
		return -1;
	}
	out->found = 1;
	return 0;
}
