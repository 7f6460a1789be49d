/* libFuzzer target: pp2_parse, the demo node's PROXY v2 header parser (bytes from the network). */
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "proxy_v2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp2_header h;
	char err[128];
	enum pp2_result r = pp2_parse(data, size, &h, err, sizeof(err));
	/* "more" never asks past the cap or for fewer bytes than given; "done" fits in what was given. */
	if (r == PP2_MORE && (h.len > PP2_MAX_LEN || h.len <= size))
		__builtin_trap();
	if (r == PP2_DONE && (h.len > size || h.len < PP2_FIXED_LEN))
		__builtin_trap();
	if (r == PP2_DONE && !h.local && h.src.ss_family != AF_INET && h.src.ss_family != AF_INET6)
		__builtin_trap();
	return 0;
}
