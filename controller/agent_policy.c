/* Agent answers: warm-up ramp for new nodes, operator overrides, drain for leaving nodes. */
#include "agent_policy.h"

#include <stdio.h>
#include <string.h>

int agent_override_parse(const char *text, size_t len, struct agent_override *out, char *err, size_t errlen)
{
	if (len == 5 && memcmp(text, "drain", 5) == 0) {
		*out = (struct agent_override){AGENT_OVERRIDE_DRAIN, 0};
		return 0;
	}
	if (len == 5 && memcmp(text, "maint", 5) == 0) {
		*out = (struct agent_override){AGENT_OVERRIDE_MAINT, 0};
		return 0;
	}
	unsigned pct = 0;
	size_t digits = 0;
	while (digits < len && digits < 4 && text[digits] >= '0' && text[digits] <= '9')
		pct = pct * 10 + (unsigned)(text[digits++] - '0');
	if (digits == 0 || digits > 3 || digits + 1 != len || text[digits] != '%' || pct > 100) {
		snprintf(err, errlen, "is not drain, maint or a weight from 0%% to 100%%");
		return -1;
	}
	*out = (struct agent_override){AGENT_OVERRIDE_WEIGHT, pct};
	return 0;
}

void agent_policy_answer(const struct agent_view *v, uint64_t now_ms, uint64_t warmup_ms, unsigned start_pct, char *out,
			 size_t outlen)
{
	if (v->leaving) {
		snprintf(out, outlen, "drain\n");
		return;
	}
	switch (v->override.kind) {
	case AGENT_OVERRIDE_DRAIN:
	case AGENT_OVERRIDE_MAINT:
		/* Weight 0 rather than the agent's sticky "drain"/"maint": removing the override
		 * must bring the node back without a "ready" that would also undo an operator. */
		snprintf(out, outlen, "up 0%%\n");
		return;
	case AGENT_OVERRIDE_WEIGHT:
		snprintf(out, outlen, "up %u%%\n", v->override.pct);
		return;
	case AGENT_OVERRIDE_NONE:
		break;
	}
	uint64_t age = now_ms > v->first_seen_ms ? now_ms - v->first_seen_ms : 0;
	unsigned pct = 100;
	if (start_pct < 100 && age < warmup_ms)
		pct = start_pct + (unsigned)((100 - start_pct) * age / warmup_ms);
	snprintf(out, outlen, "up %u%%\n", pct ? pct : 1);
}

int agent_policy_has_news(const struct agent_view *v, uint64_t now_ms, uint64_t warmup_ms, unsigned start_pct)
{
	char answer[32] = "";
	agent_policy_answer(v, now_ms, warmup_ms, start_pct, answer, sizeof(answer));
	return strcmp(answer, "up 100%\n") != 0;
}
