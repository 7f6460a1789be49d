/* Reconcile plan: merge-join the sorted live nodes with HAProxy's sorted servers. */
#include "reconcile.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vec.h"

static const char *const rec_kind_names[] = {"add",           "ready", "enable-health", "enable-agent", "agent-port",
					     "disable-agent", "drain", "shed",          "remove"};

const char *rec_kind_name(enum rec_kind kind) { return rec_kind_names[kind]; }

static int rec_plan_push(struct rec_plan *plan, enum rec_kind kind, const char *name)
{
	struct rec_action *grown = vec_grow(plan->v, &plan->cap, plan->n, sizeof(*grown), 16);
	if (grown == NULL)
		return -1;
	plan->v = grown;
	struct rec_action *a = &plan->v[plan->n++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	snprintf(a->name, sizeof(a->name), "%s", name);
	return 0;
}

static struct rec_leaving *rec_memory_find(struct rec_memory *mem, const char *name)
{
	for (size_t i = 0; i < mem->n; i++)
		if (strcmp(mem->v[i].name, name) == 0)
			return &mem->v[i];
	return NULL;
}

static struct rec_leaving *rec_memory_add(struct rec_memory *mem, const char *name, uint64_t now_ms, int ours)
{
	struct rec_leaving *grown = vec_grow(mem->v, &mem->cap, mem->n, sizeof(*grown), 16);
	if (grown == NULL)
		return NULL;
	mem->v = grown;
	struct rec_leaving *l = &mem->v[mem->n++];
	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->since_ms = now_ms;
	l->ours = ours;
	return l;
}

int rec_memory_is_ours(const struct rec_memory *mem, const char *name)
{
	const struct rec_leaving *l = rec_memory_find((struct rec_memory *)mem, name);
	return l != NULL && l->ours;
}

int rec_memory_restore(struct rec_memory *mem, const char *name, uint64_t since_ms)
{
	if (rec_memory_find(mem, name) != NULL)
		return 0;
	return rec_memory_add(mem, name, since_ms, 1) == NULL ? -1 : 0;
}

int rec_memory_has(const struct rec_memory *mem, const char *name)
{
	return rec_memory_find((struct rec_memory *)mem, name) != NULL;
}

void rec_memory_forget(struct rec_memory *mem, const char *name)
{
	struct rec_leaving *l = rec_memory_find(mem, name);
	if (l != NULL)
		*l = mem->v[--mem->n];
}

/* 1 when HAProxy's agent address a is the controller's b, or either is not known (HAProxy
 * shows "-"): compared as addresses, so "::1" and "0:0::1" are the same. */
static int rec_same_addr(const char *a, const char *b)
{
	unsigned char x[16], y[16];
	if (b == NULL || a[0] == '\0')
		return 1;
	int fam = strchr(b, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(fam, a, x) != 1 || inet_pton(fam, b, y) != 1)
		return strcmp(a, b) == 0;
	return memcmp(x, y, fam == AF_INET6 ? 16 : 4) == 0;
}

/* A live node's agent check: running and asking this controller while it has something to
 * say (warm-up, an override, a weight not yet back); stopped otherwise, so a steady pool of
 * 10,000 nodes does not cost 10,000 agent connections a second. */
static int rec_plan_agent(const struct rec_input *in, const struct rec_server *s, int wanted, struct rec_plan *plan)
{
	if (in->agent_port == 0 || !(s->agent_state & HAP_CHK_ST_CONFIGURED))
		return 0;
	int enabled = (s->agent_state & HAP_CHK_ST_ENABLED) != 0;
	if (!wanted && s->uweight == s->iweight)
		return enabled ? rec_plan_push(plan, REC_DISABLE_AGENT, s->name) : 0;
	if (!enabled && rec_plan_push(plan, REC_ENABLE_AGENT, s->name) == -1)
		return -1;
	/* Re-pointed only once enabled (HAProxy refuses it otherwise): right after the enable of
	 * the same step, so a restarted controller's agent is asked at once, not a step later. */
	if (s->agent_port != in->agent_port || !rec_same_addr(s->agent_addr, in->agent_addr))
		return rec_plan_push(plan, REC_AGENT_PORT, s->name);
	return 0;
}

/* A live node HAProxy has: finish an interrupted add, take back our own drain, respect an
 * operator's drain or maintenance. */
static int rec_plan_live(const struct rec_input *in, const struct rec_server *s, int agent_wanted,
			 struct rec_memory *mem, struct rec_plan *plan)
{
	if (rec_plan_agent(in, s, agent_wanted, plan) == -1)
		return -1;
	struct rec_leaving *l = rec_memory_find(mem, s->name);
	int ours = l != NULL && l->ours;
	if (l != NULL)
		rec_memory_forget(mem, s->name);
	if (!(s->check_state & HAP_CHK_ST_ENABLED)) {
		/* Checks are enabled last when adding: off means the add never finished. */
		if ((s->admin_state & HAP_ADMF_FMAINT) && rec_plan_push(plan, REC_READY, s->name) == -1)
			return -1;
		return rec_plan_push(plan, REC_ENABLE_HEALTH, s->name);
	}
	if (s->admin_state & (HAP_ADMF_FMAINT | HAP_ADMF_FDRAIN)) {
		/* Ours also when a remove was cut short in maintenance: the node is back, serve it. */
		if (ours)
			return rec_plan_push(plan, REC_READY, s->name);
		plan->held++;
	}
	return 0;
}

/* After the drain timeout: shut the remaining sessions in even batches over the spread
 * window, so their clients do not all reconnect in the same instant; then remove. */
static int rec_plan_timed_out(const struct rec_input *in, const struct rec_server *s, const struct rec_leaving *l,
			      struct rec_plan *plan)
{
	uint64_t shed_end = l->since_ms + in->drain_timeout_ms + in->drain_spread_ms;
	if (s->scur <= 0 || in->now_ms >= shed_end)
		return rec_plan_push(plan, REC_REMOVE, s->name);
	uint64_t steps_left = (shed_end - in->now_ms) / (in->step_ms ? in->step_ms : 1);
	if (steps_left == 0)
		steps_left = 1;
	if (rec_plan_push(plan, REC_SHED, s->name) == -1)
		return -1;
	plan->v[plan->n - 1].shed = ((unsigned long long)s->scur + steps_left - 1) / steps_left;
	return 0;
}

/* A server whose node left: drain it, then remove it once empty or timed out. */
static int rec_plan_gone(const struct rec_input *in, const struct rec_server *s, struct rec_memory *mem,
			 struct rec_plan *plan, int hold_drains)
{
	struct rec_leaving *l = rec_memory_find(mem, s->name);
	if (!(s->admin_state & (HAP_ADMF_FMAINT | HAP_ADMF_FDRAIN))) {
		if (in->settling) {
			plan->drains_deferred++;
			return 0;
		}
		if (hold_drains) {
			plan->removal_held++;
			return 0;
		}
		if (l == NULL && (l = rec_memory_add(mem, s->name, in->now_ms, 1)) == NULL)
			return -1;
		/* The drain is ours now, even if an operator's drain was seen (and lifted) before. */
		l->ours = 1;
		plan->leaving++;
		return rec_plan_push(plan, REC_DRAIN, s->name);
	}
	if (l == NULL && (l = rec_memory_add(mem, s->name, in->now_ms, 0)) == NULL)
		return -1;
	plan->leaving++;
	int timed_out = in->now_ms - l->since_ms >= in->drain_timeout_ms;
	if (s->scur == -1 && in->now_ms - l->since_ms < in->drain_timeout_ms + in->drain_spread_ms) {
		plan->needs_scur++;
		return 0;
	}
	if (s->scur == 0)
		return rec_plan_push(plan, REC_REMOVE, s->name);
	return timed_out ? rec_plan_timed_out(in, s, l, plan) : 0;
}

static int rec_is_out(const struct rec_server *s)
{
	return (s->admin_state & (HAP_ADMF_FMAINT | HAP_ADMF_FDRAIN)) != 0;
}

/* Envoy's panic threshold in spirit: a step that would drain more than the set share of
 * the serving nodes is more likely a broken heartbeat path than a real exodus. Hold it
 * until it has been seen for the hold time, or an operator confirms. */
static int rec_hold_mass_removal(const struct rec_input *in, struct rec_memory *mem)
{
	size_t serving = 0, leaving = 0, d = 0;
	for (size_t a = 0; a < in->n_actual; a++) {
		const struct rec_server *s = &in->actual[a];
		if (rec_is_out(s))
			continue;
		serving++;
		while (d < in->n_desired && strcmp(in->desired[d].name, s->name) < 0)
			d++;
		if (d == in->n_desired || strcmp(in->desired[d].name, s->name) != 0)
			leaving++;
	}
	if (leaving == 0 || leaving * 100 <= (size_t)in->mass_removal_pct * serving || in->mass_removal_confirmed) {
		mem->mass_since_ms = 0;
		return 0;
	}
	if (mem->mass_since_ms == 0)
		mem->mass_since_ms = in->now_ms ? in->now_ms : 1;
	return in->now_ms - mem->mass_since_ms < in->mass_removal_hold_ms;
}

int rec_server_cmp(const void *a, const void *b)
{
	return strcmp(((const struct rec_server *)a)->name, ((const struct rec_server *)b)->name);
}

static int rec_plan_add(const struct node_addr *node, int agent_on, unsigned *next_id, struct rec_plan *plan)
{
	if (rec_plan_push(plan, REC_ADD, node->name) == -1)
		return -1;
	plan->v[plan->n - 1].node = node;
	plan->v[plan->n - 1].id = (*next_id)++;
	plan->v[plan->n - 1].agent_on = agent_on;
	return 0;
}

static int rec_agent_wanted(const struct rec_input *in, size_t d)
{
	return in->agent_wanted == NULL || in->agent_wanted[d];
}

/* Drops memory entries of servers HAProxy no longer has (deleted, or lost in a reload). */
static void rec_memory_prune(struct rec_memory *mem, const struct rec_input *in)
{
	for (size_t i = 0; i < mem->n;) {
		struct rec_server key;
		snprintf(key.name, sizeof(key.name), "%s", mem->v[i].name);
		if (in->n_actual == 0 || bsearch(&key, in->actual, in->n_actual, sizeof(key), rec_server_cmp) == NULL)
			mem->v[i] = mem->v[--mem->n];
		else
			i++;
	}
}

static int node_addr_name_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct node_addr *)elem)->name);
}

int reconcile_needs_scur(const struct rec_input *in)
{
	/* An empty live set removes nothing, so no count is needed. */
	if (in->n_desired == 0)
		return 0;
	for (size_t i = 0; i < in->n_actual; i++) {
		const struct rec_server *s = &in->actual[i];
		if ((s->admin_state & (HAP_ADMF_FMAINT | HAP_ADMF_FDRAIN)) && s->scur == -1 &&
		    bsearch(s->name, in->desired, in->n_desired, sizeof(*in->desired), node_addr_name_cmp) == NULL)
			return 1;
	}
	return 0;
}

int reconcile_plan(const struct rec_input *in, struct rec_memory *mem, struct rec_plan *plan)
{
	rec_plan_clear(plan);
	if (in->n_actual > 0) /* qsort wants a valid pointer even for 0 elements */
		qsort(in->actual, in->n_actual, sizeof(*in->actual), rec_server_cmp);
	rec_memory_prune(mem, in);
	unsigned next_id = 1;
	for (size_t i = 0; i < in->n_actual; i++)
		if (in->actual[i].id >= next_id)
			next_id = in->actual[i].id + 1;
	/* An empty live set is far likelier a broken heartbeat path than every node gone at
	 * once: keep serving and let the health checks judge the nodes. */
	plan->kept_on_empty = in->n_desired == 0 && in->n_actual > 0;
	int hold_drains = !plan->kept_on_empty && !in->settling && rec_hold_mass_removal(in, mem);
	size_t d = 0, a = 0;
	int rc = 0;
	while (rc == 0 && (d < in->n_desired || a < in->n_actual)) {
		int cmp;
		if (d == in->n_desired)
			cmp = 1;
		else if (a == in->n_actual)
			cmp = -1;
		else
			cmp = strcmp(in->desired[d].name, in->actual[a].name);
		if (cmp < 0) {
			rc = rec_plan_add(&in->desired[d], rec_agent_wanted(in, d), &next_id, plan);
			d++;
		} else if (cmp == 0) {
			rc = rec_plan_live(in, &in->actual[a++], rec_agent_wanted(in, d), mem, plan);
			d++;
		} else if (plan->kept_on_empty) {
			a++;
		} else {
			rc = rec_plan_gone(in, &in->actual[a++], mem, plan, hold_drains);
		}
	}
	if (rc == -1)
		rec_plan_clear(plan);
	return rc;
}

void rec_memory_clear(struct rec_memory *mem)
{
	free(mem->v);
	memset(mem, 0, sizeof(*mem));
}

void rec_plan_clear(struct rec_plan *plan)
{
	free(plan->v);
	memset(plan, 0, sizeof(*plan));
}
