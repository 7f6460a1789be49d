/* The controller's shared state: its configuration and what the loop keeps between steps.
 * Used by main.c (start-up, loop), ctl_step.c (one reconcile step) and ctl_events.c (the
 * waits between steps: agent checks, Redis notifications). */
#ifndef MCS_CTL_H
#define MCS_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cfg.h"
#include "ctl_hap.h"
#include "ctl_nodes.h"
#include "reconcile.h"
#include "redis_src.h"

#define CTL_BACKEND "mcs"

struct ctl_config {
	char *redis_url, *run_dir, *node_key, *log_level, *tls_dir, *override_key;
	char *agent, *agent_addr, *notify, *cert_reload;
	unsigned long ttl_ms, poll_ms, max_future_ms, max_nodes, check_inter_ms, check_fall, check_rise, weight;
	unsigned long drain_timeout_s, drain_spread_s, io_timeout_ms, mass_removal_pct, mass_removal_hold_s;
	unsigned long full_sync_s, agent_port, agent_inter_ms, warmup_s, warmup_start_pct, notify_gap_ms;
};

extern struct ctl_config conf;
extern const struct cfg_var ctl_vars[];
extern const size_t ctl_nvars;

struct agent_srv;
struct cert_watch;
struct redis_watch;

/* Everything the loop keeps between steps, so state changes are logged once. */
struct ctl {
	struct redis_src *redis;
	struct hap_conn *hap;
	struct rec_memory leaving;
	struct node_list live;
	struct ctl_nodes nodes;         /* first seen and override of each live node */
	int nodes_seeded;               /* nodes seen once: later ones are newcomers (warm-up) */
	struct ctl_hap_opts opts;       /* how servers are added */
	struct hap_agent_opts agent_opts;
	struct agent_srv *agent;        /* NULL with MCS_AGENT=off */
	struct redis_watch *watch;      /* NULL with MCS_REDIS_NOTIFY=off */
	int watch_state;                /* 1 subscribed, 0 notifications off, -1 not connected */
	uint64_t watch_retry_ms;        /* when to try subscribing again */
	unsigned watch_events;          /* events seen since the last check */
	uint64_t watch_checked_ms;      /* when events were last turned into a step decision */
	struct cert_watch *cert;        /* NULL with MCS_CERT_RELOAD=off */
	char cert_msg[256];             /* last certificate message logged */
	uint64_t cert_next_ms;          /* when to look at the certificate files again */
	char redis_error[192];          /* last Redis error, "" while healthy */
	char hap_error[192];            /* last HAProxy error, "" while healthy */
	char override_error[192];       /* last error reading the agent overrides */
	char servers_file_error[192];   /* last error writing the servers file */
	char *servers_file_text;        /* what the servers file holds now (NULL: not written yet) */
	long hap_pid;
	int kept_on_empty;
	char (*prev_rejects)[80];       /* members refused in the previous step */
	size_t n_prev_rejects;
	unsigned long long n_steps, n_synced, n_redis_errors, n_hap_errors, n_rejected, n_actions, n_action_errors;
	unsigned long long n_notified_steps, n_cert_swaps;
	long long refused_rate, refused_concurrency; /* HAProxy's mcs_refused counts, -1 unknown */
	time_t last_sync;
	size_t n_servers, n_held, n_leaving, n_removal_held;
	uint64_t live_hash;    /* of the live set the last quiet step saw */
	uint64_t last_full_ms; /* when HAProxy's servers were last read */
	uint64_t expiry_at_ms; /* when the oldest live heartbeat turns stale (0: none live) */
	uint64_t settle_until_ms; /* no drain starts before this: the live set may be incomplete */
	size_t n_drains_deferred; /* drains the last step deferred while settling */
	int quiet;             /* the last full step had nothing to do and nothing pending */
};

/* Monotonic milliseconds. */
uint64_t ctl_now_ms(void);

/* Logs an error when it starts or changes (error not NULL), and the recovery once (NULL). */
void ctl_track_error(char *slot, size_t len, const char *what, const char *error);

/* One reconcile step. Returns 0 when HAProxy matches Redis, -1 to back off. */
int ctl_step(struct ctl *ctl);

/* Swaps a changed certificate pair into HAProxy (cheap when nothing changed: two stat calls);
 * logs each new outcome once. Called about once a second, between steps. */
void ctl_cert_step(struct ctl *ctl);

/* Writes controller.json atomically: the controller's view, for operators and the bridge. */
void ctl_write_status(const struct ctl *ctl);

/* Takes back the drains a previous controller started (the "draining" list of its
 * controller.json, when written within MCS_DRAIN_TIMEOUT_S): a node that returns is then made
 * ready again instead of being held as an operator's drain. Bad entries are skipped, each with
 * one log line. Call once at start-up, before the first step. */
void ctl_restore_drains(struct ctl *ctl);

/* Starts the agent responder and the Redis watch as configured. 0, or -1 (logged). */
int ctl_events_init(struct ctl *ctl);
void ctl_events_free(struct ctl *ctl);

/* Serves agent checks and reads notifications until deadline_ms, a signal (stop set), or a
 * notification that calls for a step now. Returns 1 for "step now", else 0. */
int ctl_wait(struct ctl *ctl, uint64_t deadline_ms, volatile const int *stop);

#endif
