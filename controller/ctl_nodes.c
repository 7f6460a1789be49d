/* Per-node memory: a sorted array merged with each step's live set. */
#include "ctl_nodes.h"

#include <stdlib.h>
#include <string.h>

int ctl_nodes_update(struct ctl_nodes *set, const struct node_addr *live, size_t n_live, uint64_t now_ms)
{
	struct ctl_node *next = calloc(n_live ? n_live : 1, sizeof(*next));
	if (next == NULL)
		return -1;
	size_t old = 0;
	for (size_t i = 0; i < n_live; i++) {
		while (old < set->n && strcmp(set->v[old].name, live[i].name) < 0)
			old++;
		if (old < set->n && strcmp(set->v[old].name, live[i].name) == 0) {
			next[i] = set->v[old];
			continue;
		}
		memcpy(next[i].name, live[i].name, sizeof(next[i].name));
		next[i].first_seen_ms = now_ms;
	}
	free(set->v);
	set->v = next;
	set->n = set->cap = n_live;
	return 0;
}

static int ctl_node_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct ctl_node *)elem)->name);
}

struct ctl_node *ctl_nodes_find(const struct ctl_nodes *set, const char *name)
{
	if (set->n == 0)
		return NULL;
	return bsearch(name, set->v, set->n, sizeof(*set->v), ctl_node_cmp);
}

void ctl_nodes_clear_overrides(struct ctl_nodes *set)
{
	for (size_t i = 0; i < set->n; i++)
		set->v[i].override = (struct agent_override){AGENT_OVERRIDE_NONE, 0};
}

void ctl_nodes_set_override(struct ctl_nodes *set, const char *name, const struct agent_override *o)
{
	struct ctl_node *node = ctl_nodes_find(set, name);
	if (node != NULL)
		node->override = *o;
}

void ctl_nodes_free(struct ctl_nodes *set)
{
	free(set->v);
	memset(set, 0, sizeof(*set));
}
