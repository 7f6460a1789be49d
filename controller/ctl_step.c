/* One reconcile step: read Redis (and the agent overrides), read HAProxy (unless nothing can
 * have changed), plan, apply; and the timer that runs it (ctl_stepper). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "hap_cmd.h"
#include "hap_conn.h"
#include "hap_worker.h"
#include "log.h"
#include "loop.h"
#include "mono.h"
#include "names.h"

/* Logs an error when it starts or changes, and the recovery once. */
void ctl_track_error(char *slot, size_t len, const char *what, const char *error)
{
	if (error == NULL) {
		if (slot[0] != '\0')
			log_info("%s: recovered", what);
		slot[0] = '\0';
		return;
	}
	if (strcmp(slot, error) != 0)
		log_err("%s: %s (keeping the current servers, retrying)", what, error);
	snprintf(slot, len, "%s", error);
}

/* Logs members refused this step that were not refused in the previous one. */
static void ctl_log_rejects(struct ctl *ctl)
{
	const struct node_list *l = &ctl->live;
	for (size_t i = 0; i < l->n_rejects; i++) {
		int seen = 0;
		for (size_t j = 0; j < ctl->n_prev_rejects && !seen; j++)
			seen = strcmp(ctl->prev_rejects[j], l->rejects[i].text) == 0;
		if (!seen)
			log_warn("rejected member \"%s\" of %s: %s", l->rejects[i].text, conf.node_key,
				 l->rejects[i].why);
	}
	free(ctl->prev_rejects);
	ctl->prev_rejects = NULL;
	ctl->n_prev_rejects = 0;
	if (l->n_rejects == 0 || (ctl->prev_rejects = calloc(l->n_rejects, sizeof(*ctl->prev_rejects))) == NULL)
		return;
	for (size_t i = 0; i < l->n_rejects; i++)
		memcpy(ctl->prev_rejects[i], l->rejects[i].text, sizeof(ctl->prev_rejects[i]));
	ctl->n_prev_rejects = l->n_rejects;
	ctl->file.rejected_members_total += l->n_total_rejects;
}

/* Reads the agent overrides (operators' or nodes' own) into the per-node memory. A failure
 * here keeps the previous overrides: it never stops a step. */
static void ctl_read_overrides(struct ctl *ctl)
{
	if (ctl->opts.agent == NULL)
		return;
	struct node_override *v = NULL;
	size_t n = 0;
	if (redis_src_read_overrides(ctl->redis, conf.override_key, CTL_OVERRIDES_MAX, &v, &n, &ctl->live) == -1) {
		ctl_track_error(ctl->override_error, sizeof(ctl->override_error), conf.override_key,
				redis_src_errstr(ctl->redis));
		return;
	}
	ctl_track_error(ctl->override_error, sizeof(ctl->override_error), conf.override_key, NULL);
	ctl_nodes_clear_overrides(&ctl->nodes);
	for (size_t i = 0; i < n; i++) {
		struct agent_override o;
		char why[96];
		if (agent_override_parse(v[i].value, strlen(v[i].value), &o, why, sizeof(why)) == -1) {
			char text[96];
			snprintf(text, sizeof(text), "%s=%s (in %s)", v[i].name, v[i].value, conf.override_key);
			node_list_reject(&ctl->live, text, strlen(text), why);
			continue;
		}
		ctl_nodes_set_override(&ctl->nodes, v[i].name, &o);
	}
	free(v);
}

static int ctl_poll_redis(struct ctl *ctl)
{
	if (redis_src_poll(ctl->redis, (unsigned)conf.ttl_ms, (unsigned)conf.max_future_ms, conf.max_nodes,
			   &ctl->live) == -1) {
		ctl->file.redis_errors_total++;
		ctl_track_error(ctl->redis_error, sizeof(ctl->redis_error), "redis", redis_src_errstr(ctl->redis));
		return -1;
	}
	/* Back after an error: Redis may have restarted empty, the nodes re-register within one
	 * heartbeat. Until they had one TTL to, a missing node is not taken for a departed one. */
	if (ctl->redis_error[0] != '\0')
		ctl->settle_until_ms = mono_now_ms() + conf.ttl_ms;
	ctl_track_error(ctl->redis_error, sizeof(ctl->redis_error), "redis", NULL);
	long long expiry = redis_src_next_expiry_ms(ctl->redis);
	ctl->expiry_at_ms = expiry >= 0 ? mono_now_ms() + (uint64_t)expiry + 1 : 0;
	/* The nodes of the first poll are the pool as it stands, not newcomers: no warm-up for them. */
	if (ctl_nodes_update(&ctl->nodes, ctl->live.nodes, ctl->live.n_nodes, ctl->nodes_seeded ? mono_now_ms() : 0) ==
	    -1)
		log_warn("out of memory: agent warm-up times not updated");
	else
		ctl->nodes_seeded = 1;
	ctl_read_overrides(ctl);
	ctl_log_rejects(ctl);
	return 0;
}

/* Makes sure the socket talks to the current worker; a reload leaves us on the old one. */
static int ctl_check_worker(struct ctl *ctl, char *err, size_t errlen)
{
	struct hap_info info;
	if (hap_worker_info(ctl->hap, &info, err, errlen) == -1)
		return -1;
	if (ctl->hap_pid != 0 && info.pid != ctl->hap_pid) {
		log_info("haproxy: worker changed (pid %ld -> %ld), restoring every live node", ctl->hap_pid, info.pid);
		/* Whatever the new worker started from, write the servers file afresh. */
		ctl_servers_file_forget(ctl);
	}
	ctl->hap_pid = info.pid;
	return 0;
}

static void ctl_log_plan(struct ctl *ctl, const struct rec_plan *plan)
{
	if (plan->kept_on_empty != ctl->seen.kept_on_empty) {
		if (plan->kept_on_empty)
			log_warn("%s has no live member: keeping all %zu servers (health checks still judge them)",
				 conf.node_key, ctl->seen.servers);
		else
			log_info("%s has live members again", conf.node_key);
	}
	ctl->seen.kept_on_empty = plan->kept_on_empty;
	if (plan->held != ctl->seen.held)
		log_info("%zu live node(s) held in drain or maintenance by an operator", plan->held);
	ctl->seen.held = plan->held;
	ctl->seen.leaving = plan->leaving;
	if (plan->removal_held != ctl->seen.removal_held) {
		if (plan->removal_held > 0)
			log_err("HOLDING the removal of %zu of %zu nodes (more than %lu%% at once): going ahead after %lu s "
				"unless they return; touch %s/confirm-removal to go ahead now",
				plan->removal_held, ctl->seen.servers, conf.mass_removal_pct, conf.mass_removal_hold_s,
				conf.run_dir);
		else if (ctl->seen.removal_held > 0)
			log_info("mass removal no longer held");
	}
	ctl->seen.removal_held = plan->removal_held;
	if (plan->drains_deferred > 0 && ctl->seen.drains_deferred == 0)
		log_info("%zu node(s) missing from %s right after Redis came back or the set was empty: not drained "
			 "before they had %lu ms to heartbeat again",
			 plan->drains_deferred, conf.node_key, conf.ttl_ms);
	ctl->seen.drains_deferred = plan->drains_deferred;
}

/* Runs the plan; stops at a connection failure, goes on past a refused command. */
static int ctl_apply_plan(struct ctl *ctl, const struct rec_plan *plan, char *err, size_t errlen)
{
	for (size_t i = 0; i < plan->n; i++) {
		const struct rec_action *a = &plan->v[i];
		ctl->file.actions_total++;
		if (ctl_hap_apply(ctl->hap, MCS_BACKEND, a, &ctl->opts, err, errlen) == 0) {
			if (a->kind == REC_SHED)
				log_info("shed %llu session(s) of %s (drain timed out)", a->shed, a->name);
			else
				log_info("%s %s", rec_kind_name(a->kind), a->name);
			if (a->kind == REC_REMOVE)
				rec_memory_forget(&ctl->leaving, a->name);
			continue;
		}
		ctl->file.action_errors_total++;
		if (hap_conn_err(ctl->hap) != HAP_ERR_REJECTED && hap_conn_err(ctl->hap) != HAP_ERR_INVALID)
			return -1;
		log_warn("%s %s: %s", rec_kind_name(a->kind), a->name, err);
	}
	return 0;
}

static uint64_t ctl_hash_bytes(uint64_t h, const void *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		h = (h ^ ((const unsigned char *)p)[i]) * 1099511628211ull;
	return h;
}

/* FNV-1a over the sorted live names and the agent overrides: a cheap "has anything changed". */
static uint64_t ctl_live_hash(const struct ctl *ctl)
{
	uint64_t h = 14695981039346656037ull;
	for (size_t i = 0; i < ctl->live.n_nodes; i++)
		h = ctl_hash_bytes(h, ctl->live.nodes[i].name, strlen(ctl->live.nodes[i].name) + 1);
	for (size_t i = 0; i < ctl->nodes.n; i++) {
		const struct ctl_node *n = &ctl->nodes.v[i];
		if (n->override.kind != AGENT_OVERRIDE_NONE) {
			h = ctl_hash_bytes(h, n->name, strlen(n->name) + 1);
			h = ctl_hash_bytes(h, &n->override, sizeof(n->override));
		}
	}
	return h;
}

/* Which live nodes' agents have something to say now (warm-up, an override): the others are
 * stopped (reconcile). Returns a malloc'd array parallel to ctl->live.nodes with their count in
 * *n_wanted, or NULL without an agent (or out of memory: then every agent runs). */
static unsigned char *ctl_agent_wanted(const struct ctl *ctl, size_t *n_wanted)
{
	*n_wanted = 0;
	unsigned char *v = ctl->opts.agent ? calloc(ctl->live.n_nodes + 1, 1) : NULL;
	uint64_t now = mono_now_ms();
	for (size_t i = 0; v != NULL && i < ctl->live.n_nodes; i++) {
		const struct ctl_node *node = ctl_nodes_find(&ctl->nodes, ctl->live.nodes[i].name);
		struct agent_view view = {0, node ? node->first_seen_ms : now, {AGENT_OVERRIDE_NONE, 0}};
		if (node != NULL)
			view.override = node->override;
		v[i] = (unsigned char)agent_policy_has_news(&view, now, conf.warmup_s * 1000u,
							    (unsigned)conf.warmup_start_pct);
		*n_wanted += v[i];
	}
	return v;
}

/* With the same live set, the same worker, and nothing pending after the last full step,
 * reading every server again (1 MB at 10,000 nodes) would only confirm it: skip that, but
 * not for longer than MCS_FULL_SYNC_S, so manual changes are still seen. */
static int ctl_can_skip(struct ctl *ctl, uint64_t hash)
{
	return ctl->quiet && hash == ctl->live_hash && conf.full_sync_s > 0 &&
	       mono_now_ms() - ctl->last_full_ms < conf.full_sync_s * 1000u;
}

static int ctl_sync_haproxy(struct ctl *ctl, char *err, size_t errlen)
{
	struct rec_server *servers = NULL;
	size_t n = 0;
	struct rec_plan plan = {0};
	int rc = -1;
	long pid_before = ctl->hap_pid;
	uint64_t hash = ctl_live_hash(ctl);
	size_t n_wanted = 0;
	unsigned char *wanted = NULL;
	if (ctl_check_worker(ctl, err, errlen) == -1)
		goto done;
	if (ctl->hap_pid == pid_before && ctl_can_skip(ctl, hash))
		return 0;
	if (ctl_hap_read_servers(ctl->hap, MCS_BACKEND, &servers, &n, err, errlen) == -1)
		goto done;
	ctl->last_full_ms = mono_now_ms();
	ctl->seen.servers = n;
	char confirm[512];
	snprintf(confirm, sizeof(confirm), "%s/" MCS_CONFIRM_REMOVAL, conf.run_dir);
	/* The operator's confirmation of a held removal is a file, used once. */
	int confirmed = ctl->seen.removal_held > 0 && unlink(confirm) == 0;
	if (confirmed)
		log_warn("mass removal confirmed by %s: draining now", confirm);
	struct rec_input in = {
		.desired = ctl->live.nodes,
		.n_desired = ctl->live.n_nodes,
		.actual = servers,
		.n_actual = n,
		.now_ms = mono_now_ms(),
		.drain_timeout_ms = conf.drain_timeout_s * 1000u,
		.drain_spread_ms = conf.drain_spread_s * 1000u,
		.step_ms = conf.poll_ms,
		.mass_removal_pct = (unsigned)conf.mass_removal_pct,
		.mass_removal_hold_ms = conf.mass_removal_hold_s * 1000u,
		.mass_removal_confirmed = confirmed,
		.agent_port = ctl->opts.agent ? ctl->opts.agent->port : 0,
		.agent_addr = ctl->opts.agent ? ctl->opts.agent->addr : NULL,
		.settling = mono_now_ms() < ctl->settle_until_ms,
	};
	in.agent_wanted = wanted = ctl_agent_wanted(ctl, &n_wanted);
	/* Session counts cost a `show stat`: read them only while a node is leaving. */
	if (reconcile_needs_scur(&in) && ctl_hap_read_scur(ctl->hap, MCS_BACKEND, servers, n, err, errlen) == -1)
		goto done;
	if (reconcile_plan(&in, &ctl->leaving, &plan) == -1)
		goto oom;
	/* An empty set that fills again is the same case as Redis coming back empty. */
	if (plan.kept_on_empty)
		ctl->settle_until_ms = mono_now_ms() + conf.ttl_ms;
	ctl_log_plan(ctl, &plan);
	rc = ctl_apply_plan(ctl, &plan, err, errlen);
	if (rc == 0)
		ctl_servers_file_update(ctl, servers, n, &plan);
	/* Not quiet while an agent has something to say: its end (warm-up over) stops the agent. */
	ctl->quiet = rc == 0 && plan.n == 0 && plan.leaving == 0 && plan.needs_scur == 0 && plan.removal_held == 0 &&
		     !plan.kept_on_empty && plan.drains_deferred == 0 && n_wanted == 0;
	ctl->live_hash = hash;
	goto done;
oom:
	snprintf(err, errlen, "out of memory while planning");
done:
	rec_plan_clear(&plan);
	free(wanted);
	free(servers);
	return rc;
}

int ctl_step(struct ctl *ctl)
{
	char err[256];
	ctl->count.steps++;
	/* Redis failing: keep every server as it is, the nodes serve on. */
	if (ctl_poll_redis(ctl) == -1)
		return -1;
	if (ctl_sync_haproxy(ctl, err, sizeof(err)) == -1) {
		ctl->file.haproxy_errors_total++;
		ctl_track_error(ctl->hap_error, sizeof(ctl->hap_error), "haproxy", err);
		hap_conn_close(ctl->hap);
		return -1;
	}
	ctl_track_error(ctl->hap_error, sizeof(ctl->hap_error), "haproxy", NULL);
	/* The file's age tells haproxy.sh whether a cold start may trust it (30 s). */
	ctl_servers_file_touch(ctl);
	ctl->count.synced++;
	ctl->last_sync = time(NULL);
	return 0;
}

#define CTL_BACKOFF_MAX_MS 5000u

struct ctl_stepper {
	struct ctl *ctl;
	int timer;
	unsigned backoff_ms; /* 0, or the wait after a failed step: doubles up to CTL_BACKOFF_MAX_MS */
};

/* When the next step is due: one poll after this one started, or the backoff, but no later than
 * the oldest heartbeat turning stale, so a node that stops is seen then, not up to a poll later. */
static uint64_t ctl_stepper_next(const struct ctl_stepper *s, uint64_t started)
{
	uint64_t deadline = started + (s->backoff_ms ? s->backoff_ms : conf.poll_ms);
	if (s->backoff_ms == 0 && s->ctl->expiry_at_ms != 0 && s->ctl->expiry_at_ms < deadline)
		deadline = s->ctl->expiry_at_ms;
	return deadline;
}

static void ctl_stepper_on_timer(struct loop *l, int timer, void *ctx)
{
	struct ctl_stepper *s = ctx;
	uint64_t started = mono_now_ms();
	if (ctl_step(s->ctl) == 0) {
		s->backoff_ms = 0;
	} else {
		s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : (unsigned)conf.poll_ms;
		if (s->backoff_ms > CTL_BACKOFF_MAX_MS)
			s->backoff_ms = CTL_BACKOFF_MAX_MS > conf.poll_ms ? CTL_BACKOFF_MAX_MS : (unsigned)conf.poll_ms;
	}
	ctl_status_write(s->ctl);
	loop_timer_arm(l, timer, ctl_stepper_next(s, started));
}

/* A notification may call the next step early; a backoff is waited out in full. */
void ctl_stepper_wake(struct ctl_stepper *s)
{
	if (s->backoff_ms == 0)
		loop_timer_arm(s->ctl->loop, s->timer, mono_now_ms());
}

/* A new master was announced: the failure the backoff waits out is over, step now. */
void ctl_stepper_wake_failover(struct ctl_stepper *s)
{
	s->backoff_ms = 0;
	loop_timer_arm(s->ctl->loop, s->timer, mono_now_ms());
}

struct ctl_stepper *ctl_stepper_new(struct ctl *ctl)
{
	struct ctl_stepper *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	/* The first step at the first turn of the loop. */
	*s = (struct ctl_stepper){.ctl = ctl, .timer = loop_timer_add(ctl->loop, 0, ctl_stepper_on_timer, s)};
	if (s->timer != -1)
		return s;
	free(s);
	return NULL;
}

void ctl_stepper_free(struct ctl_stepper *s)
{
	if (s == NULL)
		return;
	loop_timer_free(s->ctl->loop, s->timer);
	free(s);
}
