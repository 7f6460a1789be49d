/* libFuzzer target: cfg_set, every environment variable's value: the first byte picks a
 * number, a string or a REDIS_URL-checked string; the rest is the value. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "redis_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	char *text = malloc(size);
	if (text == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	unsigned long num = 7;
	char *str = NULL;
	const struct cfg_var vars[] = {
		{"MCS_POLL_MS", CFG_UINT, "1000", 10, 3600000, "milliseconds", "poll", &num, NULL, NULL},
		{"MCS_NODE_KEY", CFG_STR, "mcs:node", 0, 0, NULL, "key", &str, NULL, NULL},
		{"REDIS_URL", CFG_STR, "redis://redis:6379", 0, 0, NULL, "url", &str, redis_url_check, redis_url_redact},
	};
	const struct cfg_var *v = &vars[data[0] % 3];
	char err[256];
	if (cfg_set(v, text, err, sizeof(err)) == 0 && v->type == CFG_UINT && (num < v->min || num > v->max))
		__builtin_trap();
	free(str);
	free(text);
	return 0;
}
