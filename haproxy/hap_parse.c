/* Helpers of the reply parsers: numbers are digits only, messages quote at most one short
 * line of what HAProxy wrote, with its control bytes made visible. */
#include "hap_parse.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

void hap_parse_quote(char *out, size_t outlen, const char *s)
{
	size_t n = strcspn(s, "\n");
	if (n > HAP_PARSE_SHOWN)
		n = HAP_PARSE_SHOWN;
	if (outlen == 0)
		return;
	if (n >= outlen)
		n = outlen - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	out[n] = '\0';
}

int hap_parse_u64(const char *s, unsigned long long *out)
{
	unsigned long long v = 0;
	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		unsigned d = (unsigned)(*s - '0');
		if (v > (ULLONG_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int hap_parse_tail_empty(const char *p, const char *what, size_t line, char *err, size_t errlen)
{
	char shown[HAP_PARSE_SHOWN + 1];
	p += strspn(p, "\n");
	if (*p == '\0')
		return 0;
	hap_parse_quote(shown, sizeof(shown), p);
	snprintf(err, errlen, "%s: text after the empty line %zu: \"%s\"", what, line, shown);
	return -1;
}
