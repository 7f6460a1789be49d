/* libFuzzer target: redis_url_parse and the REDIS_URL check/redact callbacks built on it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "redis_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *url = malloc(size + 1);
	if (url == NULL)
		return 0;
	memcpy(url, data, size);
	url[size] = '\0';
	struct redis_url u;
	char err[256], shown[512];
	if (redis_url_parse(url, &u, err, sizeof(err)) == 0) {
		if (u.port < 1 || u.port > 65535 || memchr(u.host, '\0', sizeof(u.host)) == NULL)
			__builtin_trap();
		redis_url_clear(&u);
	}
	(void)redis_url_check(url, err, sizeof(err));
	redis_url_redact(url, shown, sizeof(shown));
	redis_url_redact(url, shown, 8);
	free(url);
	return 0;
}
