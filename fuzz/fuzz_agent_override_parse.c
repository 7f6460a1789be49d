/* libFuzzer target: agent_override_parse, per-node overrides read from a Redis hash, and the
 * agent reply built from them (which must never say "ready"). */
#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "agent_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_view v = {0};
	char err[128], answer[AGENT_ANSWER_MAX];
	if (agent_override_parse((const char *)data, size, &v.override, err, sizeof(err)) == 0) {
		if (v.override.kind == AGENT_OVERRIDE_WEIGHT && v.override.pct > 100)
			__builtin_trap();
		agent_policy_answer(&v, 5000, 10000, 10, answer, sizeof(answer));
		if (!agent_answer_valid(answer))
			__builtin_trap();
	}
	return 0;
}
