/* mcs-lb-controller: keeps HAProxy's backend `mcs` equal to the live chat nodes in Redis. */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "ctl_hap.h"
#include "hap_conn.h"
#include "log.h"
#include "reconcile.h"
#include "redis_src.h"
#include "redis_url.h"

#define CTL_BACKEND "mcs"
#define CTL_BACKOFF_MAX_MS 5000u

struct ctl_config {
	char *redis_url, *run_dir, *node_key, *log_level;
	unsigned long ttl_ms, poll_ms, max_future_ms, max_nodes, check_inter_ms, check_fall, check_rise, weight;
	unsigned long drain_timeout_s, drain_spread_s, io_timeout_ms, mass_removal_pct, mass_removal_hold_s;
	unsigned long full_sync_s;
};

static struct ctl_config conf;

static int ctl_check_log_level(const char *value, char *err, size_t errlen)
{
	enum log_level level;
	if (log_level_parse(value, &level) == 0)
		return 0;
	snprintf(err, errlen, "\"%.32s\" is not one of error, warn, info, debug", value);
	return -1;
}

static int ctl_check_nonempty(const char *value, char *err, size_t errlen)
{
	if (value[0] != '\0' && strlen(value) < 200)
		return 0;
	snprintf(err, errlen, "must be 1 to 199 characters");
	return -1;
}

#define MS "milliseconds"
static const struct cfg_var ctl_vars[] = {
	{"REDIS_URL", CFG_STR, "redis://redis:6379", 0, 0, NULL, "Redis holding the chat nodes: redis://[user:password@]host[:port][/db]", &conf.redis_url, redis_url_check, redis_url_redact},
	{"MCS_NODE_KEY", CFG_STR, "mcs:node", 0, 0, NULL, "sorted set the chat nodes heartbeat into", &conf.node_key, ctl_check_nonempty, NULL},
	{"MCS_NODE_TTL_MS", CFG_UINT, "5000", 500, 3600000, MS, "a node is live while its heartbeat is younger than this", &conf.ttl_ms, NULL, NULL},
	{"MCS_POLL_MS", CFG_UINT, "1000", 50, 60000, MS, "interval between two reconcile steps", &conf.poll_ms, NULL, NULL},
	{"MCS_NODE_MAX_FUTURE_MS", CFG_UINT, "30000", 0, 3600000, MS, "heartbeats further ahead of Redis TIME are refused", &conf.max_future_ms, NULL, NULL},
	{"MCS_MAX_NODES", CFG_UINT, "20000", 1, 1000000, "nodes", "at most this many live nodes are served (the freshest)", &conf.max_nodes, NULL, NULL},
	{"MCS_RUN_DIR", CFG_STR, "run", 0, 0, NULL, "directory of HAProxy's admin.sock and of controller.json", &conf.run_dir, ctl_check_nonempty, NULL},
	{"MCS_CHECK_INTER_MS", CFG_UINT, "3000", 100, 3600000, MS, "TCP health check interval per node", &conf.check_inter_ms, NULL, NULL},
	{"MCS_CHECK_FALL", CFG_UINT, "3", 1, 100, "checks", "failed checks that mark a node down", &conf.check_fall, NULL, NULL},
	{"MCS_CHECK_RISE", CFG_UINT, "2", 1, 100, "checks", "passed checks that mark a node up again", &conf.check_rise, NULL, NULL},
	{"MCS_NODE_WEIGHT", CFG_UINT, "100", 1, 256, "weight", "HAProxy weight of every node", &conf.weight, NULL, NULL},
	{"MCS_DRAIN_TIMEOUT_S", CFG_UINT, "300", 0, 86400, "seconds", "a leaving node's sessions are cut after this", &conf.drain_timeout_s, NULL, NULL},
	{"MCS_DRAIN_SPREAD_S", CFG_UINT, "5", 0, 3600, "seconds", "after the drain timeout, remaining sessions are shut over this long", &conf.drain_spread_s, NULL, NULL},
	{"MCS_MASS_REMOVAL_PCT", CFG_UINT, "50", 1, 100, "percent", "draining more than this share of serving nodes in one step is held (100: never)", &conf.mass_removal_pct, NULL, NULL},
	{"MCS_MASS_REMOVAL_HOLD_S", CFG_UINT, "30", 0, 86400, "seconds", "a held mass removal goes ahead once seen this long (or touch $MCS_RUN_DIR/confirm-removal)", &conf.mass_removal_hold_s, NULL, NULL},
	{"MCS_FULL_SYNC_S", CFG_UINT, "10", 0, 3600, "seconds", "with nothing changing, HAProxy's servers are re-read at least this often (0: every step)", &conf.full_sync_s, NULL, NULL},
	{"MCS_IO_TIMEOUT_MS", CFG_UINT, "3000", 100, 60000, MS, "timeout of one Redis or runtime-API exchange", &conf.io_timeout_ms, NULL, NULL},
	{"MCS_LOG_LEVEL", CFG_STR, "info", 0, 0, NULL, "error, warn, info or debug", &conf.log_level, ctl_check_log_level, NULL},
};
#undef MS
#define CTL_NVARS (sizeof(ctl_vars) / sizeof(ctl_vars[0]))

/* Everything the loop keeps between steps, so state changes are logged once. */
struct ctl {
	struct redis_src *redis;
	struct hap_conn *hap;
	struct rec_memory leaving;
	struct node_list live;
	struct hap_check_opts check;
	char redis_error[192];  /* last Redis error, "" while healthy */
	char hap_error[192];    /* last HAProxy error, "" while healthy */
	long hap_pid;
	int kept_on_empty;
	char (*prev_rejects)[80]; /* members refused in the previous step */
	size_t n_prev_rejects;
	unsigned long long n_steps, n_synced, n_redis_errors, n_hap_errors, n_rejected, n_actions, n_action_errors;
	time_t last_sync;
	size_t n_servers, n_held, n_leaving, n_removal_held;
	uint64_t live_hash;     /* of the live set the last quiet step saw */
	uint64_t last_full_ms;  /* when HAProxy's servers were last read */
	int quiet;              /* the last full step had nothing to do and nothing pending */
};

static volatile sig_atomic_t ctl_stop;

static void ctl_on_signal(int sig) { ctl_stop = sig; }

static uint64_t ctl_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Logs an error when it starts or changes, and the recovery once. */
static void ctl_track_error(char *slot, size_t len, const char *what, const char *error)
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
			log_warn("rejected member \"%s\" of %s: %s", l->rejects[i].text, conf.node_key, l->rejects[i].why);
	}
	free(ctl->prev_rejects);
	ctl->prev_rejects = NULL;
	ctl->n_prev_rejects = 0;
	if (l->n_rejects == 0 || (ctl->prev_rejects = calloc(l->n_rejects, sizeof(*ctl->prev_rejects))) == NULL)
		return;
	for (size_t i = 0; i < l->n_rejects; i++)
		memcpy(ctl->prev_rejects[i], l->rejects[i].text, sizeof(ctl->prev_rejects[i]));
	ctl->n_prev_rejects = l->n_rejects;
	ctl->n_rejected += l->n_total_rejects;
}

static int ctl_poll_redis(struct ctl *ctl)
{
	if (redis_src_poll(ctl->redis, (unsigned)conf.ttl_ms, (unsigned)conf.max_future_ms, conf.max_nodes, &ctl->live) ==
	    -1) {
		ctl->n_redis_errors++;
		ctl_track_error(ctl->redis_error, sizeof(ctl->redis_error), "redis", redis_src_errstr(ctl->redis));
		return -1;
	}
	ctl_track_error(ctl->redis_error, sizeof(ctl->redis_error), "redis", NULL);
	ctl_log_rejects(ctl);
	return 0;
}

/* Makes sure the socket talks to the current worker; a reload leaves us on the old one. */
static int ctl_check_worker(struct ctl *ctl, char *err, size_t errlen)
{
	struct ctl_hap_info info;
	if (ctl_hap_read_info(ctl->hap, &info, err, errlen) == -1)
		return -1;
	if (info.stopping) {
		log_info("haproxy: worker %ld is stopping after a reload; reconnecting to the new one", info.pid);
		hap_conn_close(ctl->hap);
		if (ctl_hap_read_info(ctl->hap, &info, err, errlen) == -1)
			return -1;
	}
	if (ctl->hap_pid != 0 && info.pid != ctl->hap_pid)
		log_info("haproxy: worker changed (pid %ld -> %ld), restoring every live node", ctl->hap_pid, info.pid);
	ctl->hap_pid = info.pid;
	return 0;
}

static void ctl_log_plan(struct ctl *ctl, const struct rec_plan *plan)
{
	if (plan->kept_on_empty != ctl->kept_on_empty) {
		if (plan->kept_on_empty)
			log_warn("%s has no live member: keeping all %zu servers (health checks still judge them)",
				 conf.node_key, ctl->n_servers);
		else
			log_info("%s has live members again", conf.node_key);
	}
	ctl->kept_on_empty = plan->kept_on_empty;
	if (plan->held != ctl->n_held)
		log_info("%zu live node(s) held in drain or maintenance by an operator", plan->held);
	ctl->n_held = plan->held;
	ctl->n_leaving = plan->leaving;
	if (plan->removal_held != ctl->n_removal_held) {
		if (plan->removal_held > 0)
			log_err("HOLDING the removal of %zu of %zu nodes (more than %lu%% at once): going ahead after %lu s "
				"unless they return; touch %s/confirm-removal to go ahead now",
				plan->removal_held, ctl->n_servers, conf.mass_removal_pct, conf.mass_removal_hold_s, conf.run_dir);
		else if (ctl->n_removal_held > 0)
			log_info("mass removal no longer held");
	}
	ctl->n_removal_held = plan->removal_held;
}

/* Runs the plan; stops at a connection failure, goes on past a refused command. */
static int ctl_apply_plan(struct ctl *ctl, const struct rec_plan *plan, char *err, size_t errlen)
{
	for (size_t i = 0; i < plan->n; i++) {
		const struct rec_action *a = &plan->v[i];
		ctl->n_actions++;
		if (ctl_hap_apply(ctl->hap, CTL_BACKEND, a, &ctl->check, err, errlen) == 0) {
			if (a->kind == REC_SHED)
				log_info("shed %llu session(s) of %s (drain timed out)", a->shed, a->name);
			else
				log_info("%s %s", rec_kind_name(a->kind), a->name);
			if (a->kind == REC_REMOVE)
				rec_memory_forget(&ctl->leaving, a->name);
			continue;
		}
		ctl->n_action_errors++;
		if (hap_conn_err(ctl->hap) != HAP_ERR_REJECTED && hap_conn_err(ctl->hap) != HAP_ERR_INVALID)
			return -1;
		log_warn("%s %s: %s", rec_kind_name(a->kind), a->name, err);
	}
	return 0;
}

/* FNV-1a over the sorted live names: a cheap "has anything changed" test. */
static uint64_t ctl_live_hash(const struct node_list *l)
{
	uint64_t h = 14695981039346656037ull;
	for (size_t i = 0; i < l->n_nodes; i++)
		for (const char *p = l->nodes[i].name; ; p++) {
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
			if (*p == '\0')
				break;
		}
	return h;
}

/* With the same live set, the same worker, and nothing pending after the last full step,
 * reading every server again (1 MB at 10,000 nodes) would only confirm it: skip that, but
 * not for longer than MCS_FULL_SYNC_S, so manual changes are still seen. */
static int ctl_can_skip(struct ctl *ctl, uint64_t hash)
{
	return ctl->quiet && hash == ctl->live_hash && conf.full_sync_s > 0 &&
	       ctl_now_ms() - ctl->last_full_ms < conf.full_sync_s * 1000u;
}

static int ctl_sync_haproxy(struct ctl *ctl, char *err, size_t errlen)
{
	struct rec_server *servers = NULL;
	size_t n = 0;
	struct rec_plan plan = {0};
	int rc = -1;
	long pid_before = ctl->hap_pid;
	uint64_t hash = ctl_live_hash(&ctl->live);
	if (ctl_check_worker(ctl, err, errlen) == -1)
		goto done;
	if (ctl->hap_pid == pid_before && ctl_can_skip(ctl, hash))
		return 0;
	if (ctl_hap_read_servers(ctl->hap, CTL_BACKEND, &servers, &n, err, errlen) == -1)
		goto done;
	ctl->last_full_ms = ctl_now_ms();
	ctl->n_servers = n;
	char confirm[512];
	snprintf(confirm, sizeof(confirm), "%s/confirm-removal", conf.run_dir);
	/* The operator's confirmation of a held removal is a file, used once. */
	int confirmed = ctl->n_removal_held > 0 && unlink(confirm) == 0;
	if (confirmed)
		log_warn("mass removal confirmed by %s: draining now", confirm);
	struct rec_input in = {
		.desired = ctl->live.nodes,
		.n_desired = ctl->live.n_nodes,
		.actual = servers,
		.n_actual = n,
		.now_ms = ctl_now_ms(),
		.drain_timeout_ms = conf.drain_timeout_s * 1000u,
		.drain_spread_ms = conf.drain_spread_s * 1000u,
		.step_ms = conf.poll_ms,
		.mass_removal_pct = (unsigned)conf.mass_removal_pct,
		.mass_removal_hold_ms = conf.mass_removal_hold_s * 1000u,
		.mass_removal_confirmed = confirmed,
	};
	/* Session counts cost a `show stat`: read them only while a node is leaving. */
	if (reconcile_needs_scur(&in) && ctl_hap_read_scur(ctl->hap, CTL_BACKEND, servers, n, err, errlen) == -1)
		goto done;
	if (reconcile_plan(&in, &ctl->leaving, &plan) == -1)
		goto oom;
	ctl_log_plan(ctl, &plan);
	rc = ctl_apply_plan(ctl, &plan, err, errlen);
	ctl->quiet = rc == 0 && plan.n == 0 && plan.leaving == 0 && plan.needs_scur == 0 && plan.removal_held == 0 &&
		     !plan.kept_on_empty;
	ctl->live_hash = hash;
	goto done;
oom:
	snprintf(err, errlen, "out of memory while planning");
done:
	rec_plan_clear(&plan);
	free(servers);
	return rc;
}

/* Writes controller.json atomically: the controller's view, for operators and the bridge. */
static void ctl_write_status(const struct ctl *ctl)
{
	char path[512], tmp[520];
	snprintf(path, sizeof(path), "%s/controller.json", conf.run_dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	json_t *root = json_pack("{s:i, s:I, s:I, s:b, s:s, s:b, s:s, s:I, s:I, s:I, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		"pid", (int)getpid(), "time", (json_int_t)time(NULL), "last_sync", (json_int_t)ctl->last_sync,
		"redis_ok", ctl->redis_error[0] == '\0', "redis_error", ctl->redis_error,
		"haproxy_ok", ctl->hap_error[0] == '\0', "haproxy_error", ctl->hap_error,
		"live_nodes", (json_int_t)ctl->live.n_nodes, "servers", (json_int_t)ctl->n_servers,
		"leaving", (json_int_t)ctl->n_leaving, "kept_on_empty", ctl->kept_on_empty,
		"held_by_operator", (json_int_t)ctl->n_held, "rejected_members_total", (json_int_t)ctl->n_rejected,
		"redis_errors_total", (json_int_t)ctl->n_redis_errors, "haproxy_errors_total", (json_int_t)ctl->n_hap_errors,
		"actions_total", (json_int_t)ctl->n_actions, "action_errors_total", (json_int_t)ctl->n_action_errors,
		"removal_held", (json_int_t)ctl->n_removal_held);
	if (root == NULL)
		return;
	if (json_dump_file(root, tmp, JSON_COMPACT) == 0 && rename(tmp, path) == -1)
		log_debug("status: rename %s: %s", tmp, strerror(errno));
	json_decref(root);
}

/* One reconcile step. Returns 0 when HAProxy matches Redis, -1 to back off. */
static int ctl_step(struct ctl *ctl)
{
	char err[256];
	ctl->n_steps++;
	/* Redis failing: keep every server as it is, the nodes serve on. */
	if (ctl_poll_redis(ctl) == -1)
		return -1;
	if (ctl_sync_haproxy(ctl, err, sizeof(err)) == -1) {
		ctl->n_hap_errors++;
		ctl_track_error(ctl->hap_error, sizeof(ctl->hap_error), "haproxy", err);
		hap_conn_close(ctl->hap);
		return -1;
	}
	ctl_track_error(ctl->hap_error, sizeof(ctl->hap_error), "haproxy", NULL);
	ctl->n_synced++;
	ctl->last_sync = time(NULL);
	return 0;
}

static void ctl_sleep_ms(uint64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	/* A signal cuts the sleep short; the loop then sees ctl_stop. */
	nanosleep(&ts, NULL);
}

static void ctl_run(struct ctl *ctl)
{
	unsigned backoff_ms = 0;
	while (!ctl_stop) {
		uint64_t started = ctl_now_ms();
		if (ctl_step(ctl) == 0) {
			backoff_ms = 0;
		} else {
			backoff_ms = backoff_ms ? backoff_ms * 2 : (unsigned)conf.poll_ms;
			if (backoff_ms > CTL_BACKOFF_MAX_MS)
				backoff_ms = CTL_BACKOFF_MAX_MS > conf.poll_ms ? CTL_BACKOFF_MAX_MS : (unsigned)conf.poll_ms;
		}
		ctl_write_status(ctl);
		uint64_t wait = backoff_ms ? backoff_ms : conf.poll_ms;
		uint64_t spent = ctl_now_ms() - started;
		if (!ctl_stop && spent < wait)
			ctl_sleep_ms(wait - spent);
	}
}

static int ctl_init(struct ctl *ctl)
{
	char err[256], sock[512];
	struct redis_url url;
	if (redis_url_parse(conf.redis_url, &url, err, sizeof(err)) == -1) {
		log_err("REDIS_URL: %s", err);
		return -1;
	}
	ctl->redis = redis_src_new(&url, conf.node_key, (unsigned)conf.io_timeout_ms);
	redis_url_clear(&url);
	snprintf(sock, sizeof(sock), "%s/admin.sock", conf.run_dir);
	ctl->hap = hap_conn_new(sock, (int)conf.io_timeout_ms);
	if (ctl->redis == NULL || ctl->hap == NULL) {
		log_err("out of memory at start-up");
		return -1;
	}
	ctl->check = (struct hap_check_opts){(unsigned)conf.check_inter_ms, (unsigned)conf.check_fall,
					     (unsigned)conf.check_rise, (unsigned)conf.weight};
	return 0;
}

static void ctl_free(struct ctl *ctl)
{
	redis_src_free(ctl->redis);
	hap_conn_free(ctl->hap);
	rec_memory_clear(&ctl->leaving);
	node_list_clear(&ctl->live);
	free(ctl->prev_rejects);
}

int main(int argc, char **argv)
{
	log_set_program("mcs-lb-controller");
	int rc = cfg_main(argc, argv,
			  "Keeps HAProxy's backend `" CTL_BACKEND "` equal to the live chat nodes of a Redis sorted set.",
			  ctl_vars, CTL_NVARS);
	if (rc != 0) {
		cfg_free(ctl_vars, CTL_NVARS);
		return rc == 1 ? 0 : 2;
	}
	enum log_level level = LOG_LVL_INFO;
	if (log_level_parse(conf.log_level, &level) == 0)
		log_set_level(level);
	struct sigaction sa = {.sa_handler = ctl_on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct ctl ctl = {0};
	int status = 1;
	if (ctl_init(&ctl) == 0) {
		char shown[512];
		redis_url_redact(conf.redis_url, shown, sizeof(shown));
		log_info("started: redis %s key %s ttl %lu ms poll %lu ms, haproxy %s/admin.sock", shown, conf.node_key,
			 conf.ttl_ms, conf.poll_ms, conf.run_dir);
		ctl_run(&ctl);
		log_info("stopping on signal %d; HAProxy keeps its servers", (int)ctl_stop);
		status = 0;
	}
	ctl_free(&ctl);
	cfg_free(ctl_vars, CTL_NVARS);
	return status;
}
