/* libFuzzer target: member_parse, the strict parser of mcs:node members read from Redis. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "member.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct node_addr a;
	char err[128], quoted[2 * MEMBER_MAX_LEN];
	if (member_parse((const char *)data, size, &a, err, sizeof(err)) == 0) {
		/* A member that passed is a server name: it must be short and NUL-terminated. */
		if (strlen(a.name) > MEMBER_MAX_LEN || a.port < 1 || a.port > 65535)
			__builtin_trap();
	}
	member_quote((const char *)data, size, quoted, sizeof(quoted));
	member_quote((const char *)data, size, quoted, 1);
	return 0;
}
