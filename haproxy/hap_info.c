/* `show info`: "Key: value" lines, found by whole key; a cut last line is never read. */
#include "hap_info.h"

#include <stdio.h>
#include <string.h>

#include "hap_parse.h"

int hap_info_get(const char *text, const char *key, char *out, size_t outlen)
{
	size_t klen = strlen(key);
	if (outlen == 0)
		return -1;
	out[0] = '\0';
	if (klen == 0 || strpbrk(key, ":\n") != NULL)
		return -1;
	for (const char *p = text; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		if (nl == NULL)
			return -1; /* a cut last line could hold a cut value */
		if (strncmp(p, key, klen) == 0 && p[klen] == ':' && (p[klen + 1] == ' ' || p[klen + 1] == '\n')) {
			const char *v = p + klen + (p[klen + 1] == ' ' ? 2 : 1);
			size_t vlen = (size_t)(nl - v);
			if (vlen >= outlen)
				return -1;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return 0;
		}
		p = nl + 1;
	}
	return -1;
}

int hap_info_parse(const char *text, struct hap_info *out, char *err, size_t errlen)
{
	char value[64];
	unsigned long long pid;
	memset(out, 0, sizeof(*out));
	if (hap_info_get(text, "Pid", value, sizeof(value)) == -1 || hap_parse_u64(value, &pid) == -1 ||
	    pid > 0x7fffffffull) {
		snprintf(err, errlen, "show info: no numeric Pid");
		return -1;
	}
	if (hap_info_get(text, "Uptime_sec", value, sizeof(value)) == -1 ||
	    hap_parse_u64(value, &out->uptime_s) == -1) {
		snprintf(err, errlen, "show info: no numeric Uptime_sec");
		return -1;
	}
	out->pid = (long)pid;
	out->stopping = hap_info_get(text, "Stopping", value, sizeof(value)) == 0 && strcmp(value, "1") == 0;
	if (hap_info_get(text, "Version", out->version, sizeof(out->version)) == -1)
		out->version[0] = '\0';
	return 0;
}
