/* libFuzzer target: hap_servers_state_parse (`show servers state` replies). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hap_servers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct hap_server_state *s = NULL;
	size_t n = 0;
	char err[160];
	if (hap_servers_state_parse(text, &s, &n, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < n; i++)
			if (memchr(s[i].name, '\0', sizeof(s[i].name)) == NULL ||
			    memchr(s[i].addr, '\0', sizeof(s[i].addr)) == NULL)
				__builtin_trap();
	} else if (s != NULL || n != 0) {
		__builtin_trap(); /* the header promises *out NULL and *n 0 on failure */
	}
	free(s);
	free(text);
	return 0;
}
