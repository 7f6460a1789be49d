/* libFuzzer target: bridge_ctl_parse, controller.json read by the metrics bridge as untrusted. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bridge_ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bridge_ctl_status st;
	/* "now" near the seeds' timestamps so fresh files get past the staleness check. */
	int rc = bridge_ctl_parse((const char *)data, size, 1764180000LL, 30, &st);
	if ((rc == 0) != (st.up == 1) || memchr(st.why, '\0', sizeof(st.why)) == NULL)
		__builtin_trap();
	(void)bridge_ctl_parse((const char *)data, size, 0, 0, &st);
	return 0;
}
