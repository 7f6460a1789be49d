/* libFuzzer target: agent_request_parse, the bytes HAProxy's agent check (or anyone reaching
 * the agent port) sends to the controller. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[HAP_NAME_MAX + 1], small[8];
	if (agent_request_parse((const char *)data, size, name, sizeof(name)) == AGENT_REQ_OK) {
		/* OK means "<name>/" exactly: the name is the input less its last byte. */
		if (strlen(name) + 1 != size || memcmp(name, data, size - 1) != 0)
			__builtin_trap();
		char req[AGENT_REQ_MAX + 1];
		if (agent_request_format(req, sizeof(req), name) != 0)
			__builtin_trap();
	}
	(void)agent_request_parse((const char *)data, size, small, sizeof(small));
	return 0;
}
