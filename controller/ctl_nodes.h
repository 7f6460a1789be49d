/* The controller's per-node memory across steps: when each live node joined (for the agent's
 * warm-up ramp) and its agent override. Sorted by name; no I/O. */
#ifndef MCS_CTL_NODES_H
#define MCS_CTL_NODES_H

#include <stddef.h>
#include <stdint.h>

#include "agent_policy.h"
#include "member.h"

struct ctl_node {
	char name[MCS_SERVER_NAME_MAX];
	uint64_t first_seen_ms;
	struct agent_override override;
};

struct ctl_nodes {
	struct ctl_node *v;
	size_t n, cap;
};

/* Makes the set equal to live (sorted by name, unique): new names start their warm-up at
 * now_ms, kept names keep their time and override, others are dropped. 0, or -1 when out of
 * memory (the set is unchanged). */
int ctl_nodes_update(struct ctl_nodes *set, const struct node_addr *live, size_t n_live, uint64_t now_ms)
	__attribute__((warn_unused_result));

/* Clears every override, then sets the one of each name present. */
void ctl_nodes_set_override(struct ctl_nodes *set, const char *name, const struct agent_override *o);
void ctl_nodes_clear_overrides(struct ctl_nodes *set);

/* The node called name, or NULL. */
struct ctl_node *ctl_nodes_find(const struct ctl_nodes *set, const char *name);

void ctl_nodes_free(struct ctl_nodes *set);

#endif
