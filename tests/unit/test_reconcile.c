/* reconcile_plan, step by step: each scenario feeds the live nodes and HAProxy's servers of a
 * few consecutive steps, with one rec_memory carried across them, and checks every action,
 * every counter and what the memory holds afterwards. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile.h"
#include "redis_src.h"
#include "unit.h"

#define MAXN 8
#define MAXSTEPS 6

/* HAProxy states as `show servers state` gives them. */
#define UP 0u, HAP_CHK_ST_ENABLED /* ready, checks on */
#define DRAINED HAP_ADMF_FDRAIN, HAP_CHK_ST_ENABLED
#define MAINT HAP_ADMF_FMAINT, HAP_CHK_ST_ENABLED
#define MAINT_DRAINED (HAP_ADMF_FMAINT | HAP_ADMF_FDRAIN), HAP_CHK_ST_ENABLED
#define ADDED HAP_ADMF_FMAINT, 0u /* "add server" done, nothing after */
#define ADDED_READY 0u, 0u        /* add and "set state ready" done, checks still off */

#define A "10.0.0.1:7000"
#define B "10.0.0.2:7000"
#define C "10.0.0.3:7000"
#define D "10.0.0.4:7000"
#define V6 "2001:db8::7:7000"
#define V6_MEMBER "[2001:DB8:0::7]:7000"

struct srv {
	const char *name;
	unsigned id, admin, check;
	long long scur;
};

struct act {
	enum rec_kind kind;
	const char *name;
	unsigned id; /* REC_ADD */
};

struct mem {
	const char *name;
	uint64_t since;
	int ours;
};

struct step {
	uint64_t now;
	const char *live[MAXN];   /* members as Redis holds them, NULL-terminated */
	struct srv servers[MAXN]; /* HAProxy's servers, any order, name NULL ends */
	struct act actions[MAXN]; /* the plan, in order */
	int kept_on_empty;
	size_t held, leaving, needs_scur;
	struct mem memory[MAXN]; /* afterwards, any order */
};

struct scenario {
	const char *title;
	uint64_t drain_timeout;
	struct step steps[MAXSTEPS]; /* ends at the first step with now 0 after the first */
};

static const struct scenario scenarios[] = {
	{"nothing at all", 1000, {{.now = 5}}},
	{"new nodes are added in name order with ids from 1",
	 1000,
	 {{.now = 5, .live = {B, A, V6_MEMBER, A}, .actions = {{REC_ADD, A, 1}, {REC_ADD, B, 2}, {REC_ADD, V6, 3}}}}},
	{"in line: nothing to do", 1000, {{.now = 5, .live = {A, B}, .servers = {{B, 2, UP, 4}, {A, 1, UP, 0}}}}},
	{"ids continue above the highest id in use, gaps are not reused",
	 1000,
	 {{.now = 5,
	   .live = {A, B, C, D},
	   .servers = {{D, 3, UP, 0}, {A, 7, UP, 0}},
	   .actions = {{REC_ADD, B, 8}, {REC_ADD, C, 9}}}}},
	{"an add cut short after `add server` is finished: ready, then checks",
	 1000,
	 {{.now = 5,
	   .live = {A, B},
	   .servers = {{A, 1, ADDED, -1}, {B, 2, ADDED_READY, -1}},
	   .actions = {{REC_READY, A, 0}, {REC_ENABLE_HEALTH, A, 0}, {REC_ENABLE_HEALTH, B, 0}}}}},
	/* The executor sends health up right before enable health (ctl_hap_start_checks): while the
	 * checks are off the add is not finished, and finishing it sends both again; once they are
	 * on, nothing is sent, so no check result (a node already DOWN, or restored DOWN by a reload)
	 * is ever overruled by health up. */
	{"an add cut anywhere is finished step by step, then left to its checks",
	 1000,
	 {{.now = 5, .live = {A}, .actions = {{REC_ADD, A, 1}}},
	  {.now = 6,
	   .live = {A},
	   .servers = {{A, 1, ADDED, -1}},
	   .actions = {{REC_READY, A, 0}, {REC_ENABLE_HEALTH, A, 0}}},
	  {.now = 7, .live = {A}, .servers = {{A, 1, ADDED_READY, -1}}, .actions = {{REC_ENABLE_HEALTH, A, 0}}},
	  {.now = 8, .live = {A}, .servers = {{A, 1, UP, -1}}},
	  {.now = 9, .live = {A}, .servers = {{A, 1, UP, -1}}}}},
	{"an operator's drain or maintenance of a live node is respected",
	 1000,
	 {{.now = 5,
	   .live = {A, B, C, D},
	   .servers = {{A, 1, DRAINED, 3}, {B, 2, MAINT, 0}, {C, 3, MAINT_DRAINED, 0}, {D, 4, UP, 1}},
	   .held = 3},
	  {.now = 6,
	   .live = {A, B, C, D},
	   .servers = {{A, 1, DRAINED, 3}, {B, 2, MAINT, 0}, {C, 3, MAINT_DRAINED, 0}, {D, 4, UP, 1}},
	   .held = 3}}},
	{"a node that left is drained, then removed at the timeout although it has sessions",
	 1000,
	 {{.now = 100,
	   .live = {B},
	   .servers = {{A, 1, UP, 5}, {B, 2, UP, 0}},
	   .actions = {{REC_DRAIN, A, 0}},
	   .leaving = 1,
	   .memory = {{A, 100, 1}}},
	  {.now = 600,
	   .live = {B},
	   .servers = {{A, 1, DRAINED, 5}, {B, 2, UP, 0}},
	   .leaving = 1,
	   .memory = {{A, 100, 1}}},
	  {.now = 1099,
	   .live = {B},
	   .servers = {{A, 1, DRAINED, 5}, {B, 2, UP, 0}},
	   .leaving = 1,
	   .memory = {{A, 100, 1}}},
	  {.now = 1100,
	   .live = {B},
	   .servers = {{A, 1, DRAINED, 5}, {B, 2, UP, 0}},
	   .actions = {{REC_REMOVE, A, 0}},
	   .leaving = 1,
	   .memory = {{A, 100, 1}}},
	  /* The executor deleted it: HAProxy no longer lists it, the memory lets go. */
	  {.now = 1200, .live = {B}, .servers = {{B, 2, UP, 0}}}}},
	{"a drained node without sessions is removed before the timeout",
	 60000,
	 {{.now = 1000,
	   .live = {B},
	   .servers = {{A, 1, UP, 2}, {B, 2, UP, 0}},
	   .actions = {{REC_DRAIN, A, 0}},
	   .leaving = 1,
	   .memory = {{A, 1000, 1}}},
	  {.now = 1010,
	   .live = {B},
	   .servers = {{A, 1, DRAINED, 0}, {B, 2, UP, 0}},
	   .actions = {{REC_REMOVE, A, 0}},
	   .leaving = 1,
	   .memory = {{A, 1000, 1}}}}},
	{"unknown session counts are asked for, and a timeout needs none",
	 1000,
	 {{.now = 10,
	   .live = {C},
	   .servers = {{A, 1, UP, -1}, {B, 2, UP, -1}, {C, 3, UP, -1}},
	   .actions = {{REC_DRAIN, A, 0}, {REC_DRAIN, B, 0}},
	   .leaving = 2,
	   .memory = {{A, 10, 1}, {B, 10, 1}}},
	  {.now = 20,
	   .live = {C},
	   .servers = {{A, 1, DRAINED, -1}, {B, 2, DRAINED, -1}, {C, 3, UP, -1}},
	   .leaving = 2,
	   .needs_scur = 2,
	   .memory = {{A, 10, 1}, {B, 10, 1}}},
	  {.now = 20,
	   .live = {C},
	   .servers = {{A, 1, DRAINED, 0}, {B, 2, DRAINED, 4}, {C, 3, UP, -1}},
	   .actions = {{REC_REMOVE, A, 0}},
	   .leaving = 2,
	   .memory = {{A, 10, 1}, {B, 10, 1}}},
	  {.now = 1010,
	   .live = {C},
	   .servers = {{B, 2, DRAINED, -1}, {C, 3, UP, -1}},
	   .actions = {{REC_REMOVE, B, 0}},
	   .leaving = 1,
	   .memory = {{B, 10, 1}}}}},
	{"a node back while the controller drains it is made ready",
	 1000,
	 {{.now = 10,
	   .live = {B},
	   .servers = {{A, 1, UP, 1}, {B, 2, UP, 0}},
	   .actions = {{REC_DRAIN, A, 0}},
	   .leaving = 1,
	   .memory = {{A, 10, 1}}},
	  {.now = 20, .live = {A, B}, .servers = {{A, 1, DRAINED, -1}, {B, 2, UP, 0}}, .actions = {{REC_READY, A, 0}}},
	  {.now = 30, .live = {A, B}, .servers = {{A, 1, UP, -1}, {B, 2, UP, 0}}}}},
	{"a node back before the drain took effect needs nothing",
	 1000,
	 {{.now = 10,
	   .live = {B},
	   .servers = {{A, 1, UP, 1}, {B, 2, UP, 0}},
	   .actions = {{REC_DRAIN, A, 0}},
	   .leaving = 1,
	   .memory = {{A, 10, 1}}},
	  {.now = 20, .live = {A, B}, .servers = {{A, 1, UP, -1}, {B, 2, UP, 0}}}}},
	{"a drain that failed is sent again, its timer kept",
	 1000,
	 {{.now = 10,
	   .live = {B},
	   .servers = {{A, 1, UP, 1}, {B, 2, UP, 0}},
	   .actions = {{REC_DRAIN, A, 0}},
	   .leaving = 1,
	   .memory = {{A, 10, 1}}},
	  {.now = 500,
	   .live = {B},
	   .servers = {{A, 1, UP, 1}, {B, 2, UP, 0}},
	   .actions = {{REC_DRAIN, A, 0}},
	   .leaving = 1,
	   .memory = {{A, 10, 1}}},
	  {.now = 1010,
	   .live = {B},
	   .servers = {{A, 1, DRAINED, 1}, {B, 2, UP, 0}},
	   .actions = {{REC_REMOVE, A, 0}},
	   .leaving = 1,
	   .memory = {{A, 10, 1}}}}},
	{"an operator's drain is adopted when the node leaves, and kept when it returns",
	 1000,
	 {{.now = 10, .live = {A, B}, .servers = {{A, 1, DRAINED, 2}, {B, 2, UP, 0}}, .held = 1},
	  {.now = 20,
	   .live = {B},
	   .servers = {{A, 1, DRAINED, 2}, {B, 2, UP, 0}},
	   .leaving = 1,
	   .memory = {{A, 20, 0}}},
	  {.now = 30,
	   .live = {B},
	   .servers = {{A, 1, DRAINED, 2}, {B, 2, UP, 0}},
	   .leaving = 1,
	   .memory = {{A, 20, 0}}},
	  {.now = 40, .live = {A, B}, .servers = {{A, 1, DRAINED, 2}, {B, 2, UP, 0}}, .held = 1},
	  /* Leaving again starts a new timer. */
	  {.now = 50,
	   .live = {B},
	   .servers = {{A, 1, DRAINED, 2}, {B, 2, UP, 0}},
	   .leaving = 1,
	   .memory = {{A, 50, 0}}},
	  {.now = 1050,
	   .live = {B},
	   .servers = {{A, 1, DRAINED, 2}, {B, 2, UP, 0}},
	   .actions = {{REC_REMOVE, A, 0}},
	   .leaving = 1,
	   .memory = {{A, 50, 0}}}}},
	{"a node in an operator's maintenance that leaves is removed once empty",
	 1000,
	 {{.now = 10,
	   .live = {B},
	   .servers = {{A, 1, MAINT, 0}, {B, 2, UP, 0}},
	   .actions = {{REC_REMOVE, A, 0}},
	   .leaving = 1,
	   .memory = {{A, 10, 0}}}}},
	{"an add cut short for a node that already left is removed, not finished",
	 1000,
	 {{.now = 10,
	   .live = {B},
	   .servers = {{A, 1, ADDED, 0}, {B, 2, UP, 0}},
	   .actions = {{REC_REMOVE, A, 0}},
	   .leaving = 1,
	   .memory = {{A, 10, 0}}}}},
	{"an empty live set takes nothing out, not even a timed-out drain",
	 1000,
	 {{.now = 10,
	   .live = {B},
	   .servers = {{A, 1, UP, 3}, {B, 2, UP, 0}},
	   .actions = {{REC_DRAIN, A, 0}},
	   .leaving = 1,
	   .memory = {{A, 10, 1}}},
	  {.now = 5000, .servers = {{A, 1, DRAINED, 0}, {B, 2, UP, 0}}, .kept_on_empty = 1, .memory = {{A, 10, 1}}},
	  {.now = 5001,
	   .servers = {{A, 1, DRAINED, -1}, {B, 2, DRAINED, -1}, {C, 3, ADDED, -1}},
	   .kept_on_empty = 1,
	   .memory = {{A, 10, 1}}},
	  {.now = 6000,
	   .live = {B},
	   .servers = {{A, 1, DRAINED, 3}, {B, 2, UP, 0}},
	   .actions = {{REC_REMOVE, A, 0}},
	   .leaving = 1,
	   .memory = {{A, 10, 1}}}}},
	{"an empty live set and no server is not 'kept on empty'", 1000, {{.now = 10, .kept_on_empty = 0}}},
	{"a server HAProxy lost (reload, manual del) is forgotten and added afresh",
	 1000,
	 {{.now = 10,
	   .live = {B},
	   .servers = {{A, 4, UP, 3}, {B, 5, UP, 0}},
	   .actions = {{REC_DRAIN, A, 0}},
	   .leaving = 1,
	   .memory = {{A, 10, 1}}},
	  {.now = 20, .live = {B}, .servers = {{B, 1, UP, 0}}},
	  {.now = 30, .live = {A, B}, .servers = {{B, 1, UP, 0}}, .actions = {{REC_ADD, A, 2}}}}},
	{"add, keep and drain in one step, merged by name",
	 1000,
	 {{.now = 10,
	   .live = {A, C, V6_MEMBER},
	   .servers = {{V6, 9, UP, 0}, {B, 2, UP, 0}, {C, 3, UP, 0}},
	   .actions = {{REC_ADD, A, 10}, {REC_DRAIN, B, 0}},
	   .leaving = 1,
	   .memory = {{B, 10, 1}}}}},
	/* main.c plans a second time with the same input once it has read the session counts
	 * (needs_scur > 0): the second plan must still make the returning node ready. */
	/* The controller reads scur first (reconcile_needs_scur) and plans once per step. */
	{"a node returns while another leaves with its session count read",
	 1000,
	 {{.now = 10,
	   .live = {B},
	   .servers = {{A, 1, UP, -1}, {B, 2, UP, -1}, {C, 3, UP, -1}},
	   .actions = {{REC_DRAIN, A, 0}, {REC_DRAIN, C, 0}},
	   .leaving = 2,
	   .memory = {{A, 10, 1}, {C, 10, 1}}},
	  {.now = 20,
	   .live = {A, B},
	   .servers = {{A, 1, DRAINED, 0}, {B, 2, UP, 0}, {C, 3, DRAINED, 2}},
	   .actions = {{REC_READY, A, 0}},
	   .leaving = 1,
	   .memory = {{C, 10, 1}}}}},
	/* The operator's drain was lifted while the node was away, so the controller drained it:
	 * that drain is the controller's and is taken back when the node returns. */
	{"a drain the controller made after an operator's was lifted is the controller's",
	 1000,
	 {{.now = 10, .live = {A, B}, .servers = {{A, 1, DRAINED, 2}, {B, 2, UP, 0}}, .held = 1},
	  {.now = 20,
	   .live = {B},
	   .servers = {{A, 1, DRAINED, 2}, {B, 2, UP, 0}},
	   .leaving = 1,
	   .memory = {{A, 20, 0}}},
	  {.now = 30,
	   .live = {B},
	   .servers = {{A, 1, UP, 2}, {B, 2, UP, 0}},
	   .actions = {{REC_DRAIN, A, 0}},
	   .leaving = 1,
	   .memory = {{A, 20, 1}}},
	  {.now = 40, .live = {A, B}, .servers = {{A, 1, DRAINED, 2}, {B, 2, UP, 0}}, .actions = {{REC_READY, A, 0}}}}},
};

static void live_load(const char *const *members, struct node_list *l)
{
	for (size_t i = 0; i < MAXN && members[i] != NULL; i++) {
		struct node_addr n;
		char err[128];
		ck_assert_msg(member_parse(members[i], strlen(members[i]), &n, err, sizeof(err)) == 0, "%s: %s",
			      members[i], err);
		ck_assert_int_eq(node_list_add(l, &n), 0);
	}
	node_list_sort_unique(l);
}

static size_t servers_load(const struct srv *in, struct rec_server *out)
{
	size_t n = 0;
	for (; n < MAXN && in[n].name != NULL; n++) {
		memset(&out[n], 0, sizeof(out[n]));
		snprintf(out[n].name, sizeof(out[n].name), "%s", in[n].name);
		out[n].id = in[n].id;
		out[n].admin_state = in[n].admin;
		out[n].check_state = in[n].check;
		out[n].scur = in[n].scur;
	}
	return n;
}

static void check_actions(const char *where, const struct step *st, const struct rec_plan *plan,
			  const struct node_list *live)
{
	size_t n = 0;
	while (n < MAXN && st->actions[n].name != NULL)
		n++;
	for (size_t i = 0; i < plan->n && i < n; i++) {
		const struct rec_action *got = &plan->v[i];
		const struct act *want = &st->actions[i];
		ck_assert_msg(got->kind == want->kind && strcmp(got->name, want->name) == 0,
			      "%s: action %zu is %s %s, want %s %s", where, i, rec_kind_name(got->kind), got->name,
			      rec_kind_name(want->kind), want->name);
		if (got->kind != REC_ADD)
			continue;
		ck_assert_msg(got->id == want->id, "%s: add %s with id %u, want %u", where, got->name, got->id,
			      want->id);
		/* The node to add points into the live array, with its address and port. */
		ck_assert_ptr_nonnull(got->node);
		ck_assert_msg(got->node >= live->nodes && got->node < live->nodes + live->n_nodes,
			      "%s: add %s: node outside the live array", where, got->name);
		ck_assert_str_eq(got->node->name, got->name);
	}
	if (plan->n != n) {
		char text[1024] = "";
		for (size_t i = 0; i < plan->n; i++)
			snprintf(text + strlen(text), sizeof(text) - strlen(text), " %s %s;",
				 rec_kind_name(plan->v[i].kind), plan->v[i].name);
		ck_abort_msg("%s: %zu actions, want %zu:%s", where, plan->n, n, text);
	}
}

static void check_memory(const char *where, const struct step *st, const struct rec_memory *mem)
{
	size_t n = 0;
	while (n < MAXN && st->memory[n].name != NULL)
		n++;
	ck_assert_msg(mem->n == n, "%s: memory holds %zu servers, want %zu", where, mem->n, n);
	for (size_t i = 0; i < n; i++) {
		const struct mem *want = &st->memory[i];
		const struct rec_leaving *got = NULL;
		for (size_t j = 0; j < mem->n; j++)
			if (strcmp(mem->v[j].name, want->name) == 0)
				got = &mem->v[j];
		ck_assert_msg(got != NULL, "%s: %s not in memory", where, want->name);
		ck_assert_msg(got->since_ms == want->since && got->ours == want->ours,
			      "%s: memory of %s is since %llu ours %d, want since %llu ours %d", where, want->name,
			      (unsigned long long)got->since_ms, got->ours, (unsigned long long)want->since,
			      want->ours);
	}
}

START_TEST(test_scenario)
{
	const struct scenario *sc = &scenarios[_i];
	struct rec_memory mem = {0};
	struct rec_plan plan = {0};
	for (size_t s = 0; s < MAXSTEPS && (s == 0 || sc->steps[s].now != 0); s++) {
		const struct step *st = &sc->steps[s];
		char where[160];
		snprintf(where, sizeof(where), "%s, step %zu", sc->title, s + 1);
		struct node_list live = {0};
		struct rec_server servers[MAXN];
		live_load(st->live, &live);
		size_t n_servers = servers_load(st->servers, servers);
		struct rec_input in = {.desired = live.nodes,
				       .n_desired = live.n_nodes,
				       .actual = servers,
				       .n_actual = n_servers,
				       .now_ms = st->now,
				       .drain_timeout_ms = sc->drain_timeout,
				       .mass_removal_pct = 100};
		/* A step that would wait for session counts is one the controller reads them for first. */
		if (st->needs_scur > 0)
			ck_assert_msg(reconcile_needs_scur(&in), "%s: reconcile_needs_scur is 0", where);
		ck_assert_msg(reconcile_plan(&in, &mem, &plan) == 0, "%s: out of memory", where);
		check_actions(where, st, &plan, &live);
		ck_assert_msg(plan.kept_on_empty == st->kept_on_empty, "%s: kept_on_empty %d", where,
			      plan.kept_on_empty);
		ck_assert_msg(plan.held == st->held, "%s: held %zu, want %zu", where, plan.held, st->held);
		ck_assert_msg(plan.leaving == st->leaving, "%s: leaving %zu, want %zu", where, plan.leaving,
			      st->leaving);
		ck_assert_msg(plan.needs_scur == st->needs_scur, "%s: needs_scur %zu, want %zu", where, plan.needs_scur,
			      st->needs_scur);
		check_memory(where, st, &mem);
		/* The servers were sorted in place by name. */
		for (size_t i = 1; i < n_servers; i++)
			ck_assert_int_lt(strcmp(servers[i - 1].name, servers[i].name), 0);
		node_list_clear(&live);
	}
	rec_plan_clear(&plan);
	ck_assert_ptr_null(plan.v);
	ck_assert_uint_eq(plan.n, 0);
	rec_memory_clear(&mem);
	ck_assert_ptr_null(mem.v);
	ck_assert_uint_eq(mem.n, 0);
}
END_TEST

/* Many servers at once: memory and plan grow past their first allocation. */
START_TEST(test_many)
{
	enum { N = 100 };
	static struct rec_server servers[N];
	struct rec_memory mem = {0};
	struct rec_plan plan = {0};
	struct node_list live = {0};
	for (unsigned i = 0; i < N; i++) {
		snprintf(servers[i].name, sizeof(servers[i].name), "10.1.%u.%u:80", i / 200, 1 + i % 200);
		servers[i].id = i + 1;
		servers[i].check_state = HAP_CHK_ST_ENABLED;
		servers[i].scur = 1;
	}
	live_load((const char *const[]){"10.9.9.9:80", NULL}, &live);
	struct rec_input in = {.desired = live.nodes,
			       .n_desired = live.n_nodes,
			       .actual = servers,
			       .n_actual = N,
			       .now_ms = 1000,
			       .drain_timeout_ms = 500,
			       .mass_removal_pct = 100};
	ck_assert_int_eq(reconcile_plan(&in, &mem, &plan), 0);
	ck_assert_uint_eq(plan.n, N + 1);
	ck_assert_uint_eq(mem.n, N);
	ck_assert_uint_eq(plan.leaving, N);
	size_t adds = 0;
	for (size_t i = 0; i < plan.n; i++) {
		if (plan.v[i].kind == REC_ADD) {
			adds++;
			ck_assert_uint_eq(plan.v[i].id, N + 1);
		} else {
			ck_assert_int_eq(plan.v[i].kind, REC_DRAIN);
		}
	}
	ck_assert_uint_eq(adds, 1);
	for (unsigned i = 0; i < N; i++)
		servers[i].admin_state = HAP_ADMF_FDRAIN;
	in.now_ms = 1500;
	ck_assert_int_eq(reconcile_plan(&in, &mem, &plan), 0);
	ck_assert_uint_eq(plan.n, N + 1);
	size_t removes = 0;
	for (size_t i = 0; i < plan.n; i++)
		removes += plan.v[i].kind == REC_REMOVE;
	ck_assert_uint_eq(removes, N);
	rec_plan_clear(&plan);
	rec_memory_clear(&mem);
	node_list_clear(&live);
}
END_TEST

START_TEST(test_memory_forget)
{
	struct rec_memory mem = {0};
	struct rec_plan plan = {0};
	struct rec_server servers[3] = {
		{.name = A, .id = 1, .check_state = HAP_CHK_ST_ENABLED},
		{.name = B, .id = 2, .check_state = HAP_CHK_ST_ENABLED},
		{.name = C, .id = 3, .check_state = HAP_CHK_ST_ENABLED},
	};
	struct node_list live = {0};
	live_load((const char *const[]){D, NULL}, &live);
	struct rec_input in = {.desired = live.nodes,
			       .n_desired = live.n_nodes,
			       .actual = servers,
			       .n_actual = 3,
			       .now_ms = 7,
			       .drain_timeout_ms = 1000,
			       .mass_removal_pct = 100};
	ck_assert_int_eq(reconcile_plan(&in, &mem, &plan), 0);
	ck_assert_uint_eq(mem.n, 3);
	rec_memory_forget(&mem, "10.9.9.9:1"); /* unknown: ignored */
	ck_assert_uint_eq(mem.n, 3);
	rec_memory_forget(&mem, A);
	ck_assert_uint_eq(mem.n, 2);
	for (size_t i = 0; i < mem.n; i++)
		ck_assert_str_ne(mem.v[i].name, A);
	rec_memory_forget(&mem, C);
	rec_memory_forget(&mem, B);
	ck_assert_uint_eq(mem.n, 0);
	rec_memory_forget(&mem, B);
	rec_plan_clear(&plan);
	rec_memory_clear(&mem);
	rec_memory_clear(&mem);
	node_list_clear(&live);
}
END_TEST

/* Plans one step of 4 servers A-D (ids 1-4, serving, scur as given) against the live list. */
static void plan_step(const char *const *live_names, const long long *scur, const unsigned *admin, uint64_t now,
		      struct rec_input *tmpl, struct rec_memory *mem, struct rec_plan *plan)
{
	static struct rec_server servers[4];
	static struct node_list live;
	const char *names[4] = {A, B, C, D};
	node_list_clear(&live);
	for (unsigned i = 0; i < 4; i++) {
		memset(&servers[i], 0, sizeof(servers[i]));
		snprintf(servers[i].name, sizeof(servers[i].name), "%s", names[i]);
		servers[i].id = i + 1;
		servers[i].admin_state = admin ? admin[i] : 0;
		servers[i].check_state = HAP_CHK_ST_ENABLED;
		servers[i].scur = scur ? scur[i] : 0;
	}
	live_load(live_names, &live);
	tmpl->desired = live.nodes;
	tmpl->n_desired = live.n_nodes;
	tmpl->actual = servers;
	tmpl->n_actual = 4;
	tmpl->now_ms = now;
	ck_assert_int_eq(reconcile_plan(tmpl, mem, plan), 0);
}

/* Three of four nodes vanish at once: held for the hold time, then drained; a confirm skips the wait. */
START_TEST(test_mass_removal_hold)
{
	struct rec_memory mem = {0};
	struct rec_plan plan = {0};
	struct rec_input in = {.drain_timeout_ms = 60000, .mass_removal_pct = 50, .mass_removal_hold_ms = 10000};
	const char *only_a[] = {A, NULL};
	plan_step(only_a, NULL, NULL, 1000, &in, &mem, &plan);
	ck_assert_uint_eq(plan.n, 0);
	ck_assert_uint_eq(plan.removal_held, 3);
	plan_step(only_a, NULL, NULL, 10999, &in, &mem, &plan);
	ck_assert_uint_eq(plan.removal_held, 3);
	plan_step(only_a, NULL, NULL, 11000, &in, &mem, &plan);
	ck_assert_uint_eq(plan.removal_held, 0);
	ck_assert_uint_eq(plan.n, 3);
	ck_assert_int_eq(plan.v[0].kind, REC_DRAIN);
	/* Two of four (50%) is not more than the share: drained at once. */
	struct rec_memory mem2 = {0};
	const char *a_b[] = {A, B, NULL};
	plan_step(a_b, NULL, NULL, 1000, &in, &mem2, &plan);
	ck_assert_uint_eq(plan.removal_held, 0);
	ck_assert_uint_eq(plan.n, 2);
	/* The set recovers before the hold ends: nothing drained, the hold forgotten. */
	struct rec_memory mem3 = {0};
	const char *all[] = {A, B, C, D, NULL};
	plan_step(only_a, NULL, NULL, 1000, &in, &mem3, &plan);
	plan_step(all, NULL, NULL, 2000, &in, &mem3, &plan);
	ck_assert_uint_eq(plan.n, 0);
	ck_assert_uint_eq(mem3.mass_since_ms, 0);
	/* An operator's confirmation: drained on the spot. */
	in.mass_removal_confirmed = 1;
	plan_step(only_a, NULL, NULL, 3000, &in, &mem3, &plan);
	ck_assert_uint_eq(plan.n, 3);
	rec_plan_clear(&plan);
	rec_memory_clear(&mem);
	rec_memory_clear(&mem2);
	rec_memory_clear(&mem3);
}
END_TEST

/* After the drain timeout the sessions are shut in even batches over the spread, then removed. */
START_TEST(test_drain_spread)
{
	struct rec_memory mem = {0};
	struct rec_plan plan = {0};
	struct rec_input in = {.drain_timeout_ms = 10000,
			       .drain_spread_ms = 5000,
			       .step_ms = 1000,
			       .mass_removal_pct = 100};
	const char *abc[] = {A, B, C, NULL};
	unsigned drained[4] = {0, 0, 0, HAP_ADMF_FDRAIN};
	long long scur[4] = {0, 0, 0, 10};
	plan_step(abc, scur, NULL, 1000, &in, &mem, &plan);
	ck_assert_uint_eq(plan.n, 1);
	ck_assert_int_eq(plan.v[0].kind, REC_DRAIN);
	plan_step(abc, scur, drained, 10999, &in, &mem, &plan);
	ck_assert_uint_eq(plan.n, 0);
	/* Timed out at 11000: 5 steps left for 10 sessions, 2 per step. */
	plan_step(abc, scur, drained, 11000, &in, &mem, &plan);
	ck_assert_uint_eq(plan.n, 1);
	ck_assert_int_eq(plan.v[0].kind, REC_SHED);
	ck_assert_uint_eq(plan.v[0].shed, 2);
	/* One step left with 3 sessions: all of them. */
	scur[3] = 3;
	plan_step(abc, scur, drained, 15500, &in, &mem, &plan);
	ck_assert_int_eq(plan.v[0].kind, REC_SHED);
	ck_assert_uint_eq(plan.v[0].shed, 3);
	/* Spread over: removed, whatever is left. */
	plan_step(abc, scur, drained, 16000, &in, &mem, &plan);
	ck_assert_int_eq(plan.v[0].kind, REC_REMOVE);
	rec_plan_clear(&plan);
	rec_memory_clear(&mem);
}
END_TEST

/* The agent runs only while it has something to say: one live server per case, agent on 5555. */
#define AG_CONF HAP_CHK_ST_CONFIGURED
#define AG_ON (HAP_CHK_ST_CONFIGURED | HAP_CHK_ST_ENABLED)
static const struct {
	const char *title;
	int wanted; /* agent_wanted of the node */
	unsigned agent_state, agent_port, uweight, iweight;
	enum rec_kind want;     /* the first action expected; REC_ADD (never planned here): none */
	const char *agent_addr; /* HAProxy's srv_agent_addr; NULL: the controller's, 127.0.0.1 */
	int repoint;            /* 1: REC_AGENT_PORT follows the first action in the same step */
} agent_cases[] = {
	{"steady, running: stopped", 0, AG_ON, 5555, 100, 100, REC_DISABLE_AGENT, NULL, 0},
	{"steady, stopped: left alone", 0, AG_CONF, 5555, 100, 100, REC_ADD, NULL, 0},
	{"steady on an old port, stopped: left alone", 0, AG_CONF, 4444, 100, 100, REC_ADD, NULL, 0},
	{"warming or overridden, stopped: started", 1, AG_CONF, 5555, 100, 100, REC_ENABLE_AGENT, NULL, 0},
	{"wanted, running on an old port: re-pointed", 1, AG_ON, 4444, 10, 100, REC_AGENT_PORT, NULL, 0},
	{"wanted, running: left alone", 1, AG_ON, 5555, 10, 100, REC_ADD, NULL, 0},
	{"weight not back yet, running: kept running", 0, AG_ON, 5555, 0, 100, REC_ADD, NULL, 0},
	{"weight not back yet, stopped: started to restore it", 0, AG_CONF, 5555, 0, 100, REC_ENABLE_AGENT, NULL, 0},
	{"no iweight column (0): kept running", 0, AG_ON, 5555, 100, 0, REC_ADD, NULL, 0},
	{"no agent configured: nothing", 1, 0, 0, 100, 100, REC_ADD, NULL, 0},
	{"wanted, running on an old address: re-pointed", 1, AG_ON, 5555, 10, 100, REC_AGENT_PORT, "172.18.0.4", 0},
	{"wanted, running, address not shown: left alone", 1, AG_ON, 5555, 10, 100, REC_ADD, "", 0},
	{"steady on an old address, stopped: left alone", 0, AG_CONF, 5555, 100, 100, REC_ADD, "172.18.0.4", 0},
	{"wanted, stopped on an old port: started and re-pointed at once", 1, AG_CONF, 4444, 10, 100, REC_ENABLE_AGENT,
	 NULL, 1},
	{"wanted, stopped on an old address: started and re-pointed at once", 1, AG_CONF, 5555, 10, 100,
	 REC_ENABLE_AGENT, "172.18.0.4", 1},
};

START_TEST(test_agent_plan)
{
	struct node_list live = {0};
	const char *members[] = {A, NULL};
	live_load(members, &live);
	struct rec_server srv = {.id = 1, .check_state = HAP_CHK_ST_ENABLED, .scur = -1};
	snprintf(srv.name, sizeof(srv.name), "%s", A);
	srv.agent_state = agent_cases[_i].agent_state;
	srv.agent_port = agent_cases[_i].agent_port;
	srv.uweight = agent_cases[_i].uweight;
	srv.iweight = agent_cases[_i].iweight;
	snprintf(srv.agent_addr, sizeof(srv.agent_addr), "%s",
		 agent_cases[_i].agent_addr ? agent_cases[_i].agent_addr : "127.0.0.1");
	unsigned char wanted[1] = {(unsigned char)agent_cases[_i].wanted};
	struct rec_input in = {.desired = live.nodes,
			       .n_desired = 1,
			       .actual = &srv,
			       .n_actual = 1,
			       .now_ms = 5,
			       .drain_timeout_ms = 1000,
			       .mass_removal_pct = 100,
			       .agent_port = 5555,
			       .agent_addr = "127.0.0.1",
			       .agent_wanted = wanted};
	struct rec_memory mem = {0};
	struct rec_plan plan = {0};
	ck_assert_int_eq(reconcile_plan(&in, &mem, &plan), 0);
	if (agent_cases[_i].want == REC_ADD) {
		ck_assert_msg(plan.n == 0, "%s: %zu action(s), first %s", agent_cases[_i].title, plan.n,
			      plan.n ? rec_kind_name(plan.v[0].kind) : "");
	} else if (agent_cases[_i].repoint) {
		ck_assert_msg(plan.n == 2 && plan.v[0].kind == agent_cases[_i].want && plan.v[1].kind == REC_AGENT_PORT,
			      "%s: %zu action(s)", agent_cases[_i].title, plan.n);
	} else {
		ck_assert_msg(plan.n == 1 && plan.v[0].kind == agent_cases[_i].want && strcmp(plan.v[0].name, A) == 0,
			      "%s: %zu action(s), first %s, want %s", agent_cases[_i].title, plan.n,
			      plan.n ? rec_kind_name(plan.v[0].kind) : "", rec_kind_name(agent_cases[_i].want));
	}
	rec_plan_clear(&plan);
	rec_memory_clear(&mem);
	node_list_clear(&live);
}
END_TEST

/* Settling (Redis just came back, perhaps emptied): a missing node is not drained, a drain
 * under way goes on, a new node is added at once; once settled the missing node is drained. */
START_TEST(test_settling)
{
	struct node_list live = {0};
	const char *members[] = {A, C, NULL};
	live_load(members, &live);
	struct rec_server srv[3] = {
		{.id = 1, .check_state = HAP_CHK_ST_ENABLED, .scur = -1},
		{.id = 2, .check_state = HAP_CHK_ST_ENABLED, .scur = -1},
		{.id = 4, .admin_state = HAP_ADMF_FDRAIN, .check_state = HAP_CHK_ST_ENABLED, .scur = 0}};
	snprintf(srv[0].name, sizeof(srv[0].name), "%s", A);
	snprintf(srv[1].name, sizeof(srv[1].name), "%s", B); /* missing: not re-registered yet */
	snprintf(srv[2].name, sizeof(srv[2].name), "%s", D); /* drained by us before Redis went */
	struct rec_memory mem = {0};
	ck_assert_int_eq(rec_memory_restore(&mem, D, 0), 0);
	struct rec_input in = {.desired = live.nodes,
			       .n_desired = 2,
			       .actual = srv,
			       .n_actual = 3,
			       .now_ms = 5000,
			       .drain_timeout_ms = 1000,
			       .mass_removal_pct = 100,
			       .settling = 1};
	struct rec_plan plan = {0};
	ck_assert_int_eq(reconcile_plan(&in, &mem, &plan), 0);
	ck_assert_uint_eq(plan.drains_deferred, 1);
	ck_assert_uint_eq(plan.n, 2);
	ck_assert_msg(plan.v[0].kind == REC_ADD && strcmp(plan.v[0].name, C) == 0, "first %s %s",
		      rec_kind_name(plan.v[0].kind), plan.v[0].name);
	ck_assert_msg(plan.v[1].kind == REC_REMOVE && strcmp(plan.v[1].name, D) == 0, "second %s %s",
		      rec_kind_name(plan.v[1].kind), plan.v[1].name);
	ck_assert_int_eq(rec_memory_has(&mem, B), 0);
	in.settling = 0;
	ck_assert_int_eq(reconcile_plan(&in, &mem, &plan), 0);
	ck_assert_uint_eq(plan.drains_deferred, 0);
	int drained_b = 0;
	for (size_t i = 0; i < plan.n; i++)
		drained_b |= plan.v[i].kind == REC_DRAIN && strcmp(plan.v[i].name, B) == 0;
	ck_assert_msg(drained_b, "the missing node is not drained once settled");
	rec_plan_clear(&plan);
	rec_memory_clear(&mem);
	node_list_clear(&live);
}
END_TEST

/* A new node starts its agent (and warm-up weight) only when it has something to say. */
START_TEST(test_agent_add)
{
	struct node_list live = {0};
	const char *members[] = {A, B, NULL};
	live_load(members, &live);
	unsigned char wanted[2] = {0, 1};
	struct rec_input in = {.desired = live.nodes,
			       .n_desired = 2,
			       .now_ms = 5,
			       .drain_timeout_ms = 1000,
			       .mass_removal_pct = 100,
			       .agent_port = 5555,
			       .agent_wanted = wanted};
	struct rec_memory mem = {0};
	struct rec_plan plan = {0};
	ck_assert_int_eq(reconcile_plan(&in, &mem, &plan), 0);
	ck_assert_uint_eq(plan.n, 2);
	ck_assert_msg(plan.v[0].kind == REC_ADD && !plan.v[0].agent_on, "%s agent_on %d", A, plan.v[0].agent_on);
	ck_assert_msg(plan.v[1].kind == REC_ADD && plan.v[1].agent_on, "%s agent_on %d", B, plan.v[1].agent_on);
	in.agent_wanted = NULL; /* unknown: every agent runs, as before */
	ck_assert_int_eq(reconcile_plan(&in, &mem, &plan), 0);
	ck_assert_msg(plan.v[0].agent_on && plan.v[1].agent_on, "agent_wanted NULL must start every agent");
	rec_plan_clear(&plan);
	rec_memory_clear(&mem);
	node_list_clear(&live);
}
END_TEST

START_TEST(test_kind_names)
{
	static const struct {
		enum rec_kind kind;
		const char *name;
	} names[] = {
		{REC_ADD, "add"},     {REC_READY, "ready"},   {REC_ENABLE_HEALTH, "enable-health"},
		{REC_DRAIN, "drain"}, {REC_REMOVE, "remove"}, {REC_DISABLE_AGENT, "disable-agent"},
		{REC_SHED, "shed"},
	};
	for (size_t i = 0; i < N_ELEMS(names); i++)
		ck_assert_str_eq(rec_kind_name(names[i].kind), names[i].name);
}
END_TEST

static Suite *reconcile_suite(void)
{
	Suite *s = suite_create("reconcile");
	TCase *tc = tcase_create("scenarios");
	tcase_add_loop_test(tc, test_scenario, 0, N_ELEMS(scenarios));
	suite_add_tcase(s, tc);
	tc = tcase_create("helpers");
	tcase_add_test(tc, test_many);
	tcase_add_test(tc, test_memory_forget);
	tcase_add_test(tc, test_kind_names);
	tcase_add_test(tc, test_mass_removal_hold);
	tcase_add_test(tc, test_drain_spread);
	tcase_add_loop_test(tc, test_agent_plan, 0, N_ELEMS(agent_cases));
	tcase_add_test(tc, test_agent_add);
	tcase_add_test(tc, test_settling);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return unit_run(reconcile_suite()); }
