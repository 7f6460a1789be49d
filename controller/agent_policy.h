/* What the controller's agent-check responder answers for one node: pure decisions, no I/O.
 * Never "ready" (it would clear an operator's drain or maintenance). */
#ifndef MCS_AGENT_POLICY_H
#define MCS_AGENT_POLICY_H

#include <stddef.h>
#include <stdint.h>

enum agent_override_kind {
	AGENT_OVERRIDE_NONE,
	AGENT_OVERRIDE_DRAIN,  /* "drain": no new clients (weight 0), sessions go on */
	AGENT_OVERRIDE_MAINT,  /* "maint": the same as drain here, see the README */
	AGENT_OVERRIDE_WEIGHT, /* "NN%": a share of the node's weight, 0 to 100 */
};

struct agent_override {
	enum agent_override_kind kind;
	unsigned pct; /* AGENT_OVERRIDE_WEIGHT only */
};

/* Parses an override from Redis (untrusted): "drain", "maint" or "NN%" with NN 0..100,
 * nothing else (no spaces, no sign). Returns 0, or -1 with the reason in err. */
int agent_override_parse(const char *text, size_t len, struct agent_override *out, char *err, size_t errlen)
	__attribute__((warn_unused_result));

struct agent_view {
	int leaving;            /* the controller is draining it: its node left mcs:node */
	uint64_t first_seen_ms; /* when the node joined (warm-up starts here) */
	struct agent_override override;
};

/* Writes the agent reply line (with "\n") for a node at now_ms: "drain" while leaving, the
 * override when there is one, else "up NN%" ramping from start_pct to 100% over warmup_ms. */
void agent_policy_answer(const struct agent_view *v, uint64_t now_ms, uint64_t warmup_ms, unsigned start_pct, char *out,
			 size_t outlen);

/* 1 while the answer for v at now_ms is something else than "up 100%" (leaving, an override,
 * warming up): the agent check has something to say. Else 0. Pure. */
int agent_policy_has_news(const struct agent_view *v, uint64_t now_ms, uint64_t warmup_ms, unsigned start_pct);

#endif
