/* libFuzzer target: cfg_set, every environment variable's value: the first byte picks a
 * number, a string, a REDIS_URL-checked string or a choice of words; the rest is the value. */
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
	int choice = -1;
	static const char *const words[] = {"off", "v2", "v3", NULL};
	const struct cfg_var vars[] = {
		{"MCS_POLL_MS", CFG_UINT, "1000", 10, 3600000, "milliseconds", "poll", &num, NULL, NULL, NULL},
		{"MCS_NODE_KEY", CFG_STR, "mcs:node", 0, 0, NULL, "key", &str, NULL, NULL, NULL},
		{"REDIS_URL", CFG_STR, "redis://redis:6379", 0, 0, NULL, "url", &str, redis_url_check, redis_url_redact,
		 NULL},
		{"MCS_SEND_PROXY", CFG_ENUM, "off", 0, 0, NULL, "choice", &choice, NULL, NULL, words},
	};
	const struct cfg_var *v = &vars[data[0] % 4];
	char err[256];
	int rc = cfg_set(v, text, err, sizeof(err));
	if (rc == 0 && v->type == CFG_UINT && (num < v->min || num > v->max))
		__builtin_trap();
	/* A choice stores the index of the very word given; a refusal is one line. */
	if (v->type == CFG_ENUM &&
	    (rc == 0 ? choice < 0 || choice > 2 || strcmp(words[choice], text) != 0 : strpbrk(err, "\r\n") != NULL))
		__builtin_trap();
	free(str);
	free(text);
	return 0;
}
