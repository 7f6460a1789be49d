/* The controller's shared state: its configuration, and what the reconcile step keeps between
 * steps (struct ctl). Each job of the event loop (common/loop.h) keeps its own state in its
 * own module and registers itself: the step (ctl_step.c), the agent responder (ctl_agent.c),
 * the Redis watch (ctl_watch.c), the certificate watch (ctl_cert.c), the limits' refusal counts
 * (ctl_refused.c). The status file
 * (ctl_status.c) and the servers file (ctl_servers_file.c) are written by the step.
 * docs/architecture.md has the map. */
#ifndef MCS_CTL_H
#define MCS_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cfg.h"
#include "ctl_file.h"
#include "ctl_hap.h"
#include "ctl_nodes.h"
#include "reconcile.h"
#include "redis_conn.h"
#include "redis_src.h"

#define CTL_OVERRIDES_MAX 100000 /* fields of the override hash read */

struct ctl_config {
	char *redis_url, *run_dir, *node_key, *tls_dir, *override_key, *agent_addr;
	int agent, notify, cert_reload; /* on/off switches: 1 when on */
	int send_proxy;                 /* enum ctl_send_proxy */
	int log_level, log_format;      /* enum log_level, enum log_format */
	char *redis_ca_file, *redis_cert_file, *redis_key_file, *redis_server_name;
	char *redis_sentinels, *redis_sentinel_master, *redis_sentinel_password;
	unsigned long ttl_ms, poll_ms, max_future_ms, max_nodes, check_inter_ms, check_fall, check_rise, weight;
	unsigned long drain_timeout_s, drain_spread_s, io_timeout_ms, mass_removal_pct, mass_removal_hold_s;
	unsigned long full_sync_s, agent_port, agent_inter_ms, warmup_s, warmup_start_pct, notify_gap_ms;
};

/* MCS_SEND_PROXY: what every connection to a node starts with. */
enum ctl_send_proxy { CTL_SEND_PROXY_OFF, CTL_SEND_PROXY_V2 };

extern struct ctl_config conf;
extern const struct cfg_var ctl_vars[];
extern const size_t ctl_nvars;

/* The Redis connection settings of conf (TLS files, MCS_IO_TIMEOUT_MS, the reply bound derived
 * from MCS_MAX_NODES): pointers into conf; host, port and tls are the caller's. */
void ctl_redis_opts(struct redis_conn_opts *o);

struct redis_sentinel;
struct redis_url;

/* The data connection as REDIS_URL and MCS_REDIS_* configure it: in *opts ctl_redis_opts with
 * url's address, credentials, db and TLS (a view into conf and url), in *sentinel the resolver
 * of MCS_REDIS_SENTINELS* (the sentinels over TLS when url is rediss://), NULL when none is
 * configured; the caller hands it on or frees it. 0, or -1 when out of memory (*sentinel NULL). */
int ctl_redis_data(const struct redis_url *url, struct redis_conn_opts *opts, struct redis_sentinel **sentinel)
	__attribute__((warn_unused_result));

struct loop;

/* Totals since start-up that stay in the controller (those written to controller.json are
 * members of struct ctl_file: ctl->file). */
struct ctl_counters {
	unsigned long long steps, synced; /* steps run, and those that left HAProxy in sync */
};

/* What the last plan said: logged when it changes, written to controller.json. */
struct ctl_seen {
	size_t servers;         /* HAProxy's servers in the backend */
	size_t held;            /* live nodes an operator holds in drain or maintenance */
	size_t leaving;         /* servers draining */
	size_t removal_held;    /* drains held as a mass removal */
	size_t drains_deferred; /* drains deferred while settling */
	int kept_on_empty;      /* the live set was empty: every server kept */
};

/* The servers file's writer (ctl_servers_file.c). */
struct ctl_servers_file {
	char *text;      /* what the file holds now (NULL: not written yet) */
	char error[192]; /* last error writing it, "" while healthy */
};

/* The reconcile state: what one step needs from the previous ones. */
struct ctl {
	struct loop *loop; /* where the jobs register */
	struct redis_src *redis;
	struct hap_conn *hap;
	struct ctl_hap_opts opts; /* how servers are added; opts.agent set while the agent runs */
	struct rec_memory leaving;
	struct node_list live;
	struct ctl_nodes nodes; /* first seen and override of each live node */
	int nodes_seeded;       /* nodes seen once: later ones are newcomers (warm-up) */
	struct ctl_seen seen;
	struct ctl_servers_file servers_file;
	struct ctl_counters count;
	struct ctl_file file;     /* controller.json's totals, counted by the jobs (the *_total
				   * keys); ctl_status_write fills in the rest when it writes */
	int notifications;        /* the Redis watch is subscribed (set by ctl_watch.c) */
	char redis_error[192];    /* last Redis error, "" while healthy */
	char hap_error[192];      /* last HAProxy error, "" while healthy */
	char override_error[192]; /* last error reading the agent overrides */
	long hap_pid;
	char (*prev_rejects)[80]; /* members refused in the previous step */
	size_t n_prev_rejects;
	time_t last_sync;
	uint64_t live_hash;       /* of the live set the last quiet step saw */
	uint64_t last_full_ms;    /* when HAProxy's servers were last read */
	uint64_t expiry_at_ms;    /* when the oldest live heartbeat turns stale (0: none live) */
	uint64_t settle_until_ms; /* no drain starts before this: the live set may be incomplete */
	int quiet;                /* the last full step had nothing to do and nothing pending */
};

/* Logs an error when it starts or changes (error not NULL), and the recovery once (NULL). */
void ctl_track_error(char *slot, size_t len, const char *what, const char *error);

/* ---- ctl_step.c: the reconcile step and its timer ---- */

/* One reconcile step. Returns 0 when HAProxy matches Redis, -1 to back off. */
int ctl_step(struct ctl *ctl);

struct ctl_stepper;

/* Registers the step on ctl->loop: the first one at once, then every MCS_POLL_MS (earlier when
 * a heartbeat turns stale), with a doubling backoff after a failure; controller.json is
 * written after each. Returns NULL when out of memory. Free with ctl_stepper_free. */
struct ctl_stepper *ctl_stepper_new(struct ctl *ctl) __attribute__((warn_unused_result));

/* Runs the next step at once, unless backing off after a failure. */
void ctl_stepper_wake(struct ctl_stepper *s);

/* Runs the next step at once even during a failure backoff, which starts over if it fails
 * again: for a failover the sentinels announced, not for an ordinary wake. */
void ctl_stepper_wake_failover(struct ctl_stepper *s);

/* Unregisters and frees s; NULL is a no-op. */
void ctl_stepper_free(struct ctl_stepper *s);

/* ---- ctl_status.c: controller.json ---- */

/* Writes controller.json atomically: the controller's view, for operators and the bridge. */
void ctl_status_write(const struct ctl *ctl);

/* Takes back the drains a previous controller started (the "draining" list of its
 * controller.json, when written within MCS_DRAIN_TIMEOUT_S): a node that returns is then made
 * ready again instead of being held as an operator's drain. Bad entries are skipped, each with
 * one log line. Call once at start-up, before the first step. */
void ctl_status_restore_drains(struct ctl *ctl);

/* ---- ctl_servers_file.c: servers.cfg, what a reload or restart of HAProxy starts from ---- */

/* Rewrites the servers file when what HAProxy should hold changed: servers (sorted by name)
 * less those leaving or removed by plan, plus those plan adds. A failure is logged once and
 * retried at the next change. */
void ctl_servers_file_update(struct ctl *ctl, const struct rec_server *servers, size_t n, const struct rec_plan *plan);

/* Renews the file's time after a good step: haproxy.sh trusts a young file at a cold start. */
void ctl_servers_file_touch(const struct ctl *ctl);

/* Forgets what the file holds, so the next update writes it (a new HAProxy worker). */
void ctl_servers_file_forget(struct ctl *ctl);

/* ---- ctl_agent.c, ctl_watch.c, ctl_cert.c, ctl_refused.c: the jobs between steps ---- */

struct ctl_agent;
struct ctl_watch;
struct ctl_cert;

/* Starts the agent responder (MCS_AGENT=on) on ctl->loop and sets ctl->opts.agent. Returns
 * NULL with one line logged when it cannot listen. Free with ctl_agent_free (NULL: no-op). */
struct ctl_agent *ctl_agent_new(struct ctl *ctl) __attribute__((warn_unused_result));
void ctl_agent_free(struct ctl_agent *a);

/* Starts the Redis keyspace watch (MCS_REDIS_NOTIFY=on): subscribes at the first turn of the
 * loop, retries when lost, and wakes stepper when a notification can have changed the live
 * set (at most once per MCS_NOTIFY_MIN_GAP_MS). Returns NULL when out of memory or REDIS_URL
 * does not parse. Free with ctl_watch_free (NULL: no-op). */
struct ctl_watch *ctl_watch_new(struct ctl *ctl, struct ctl_stepper *stepper) __attribute__((warn_unused_result));
void ctl_watch_free(struct ctl_watch *w);

/* Resubscribes on host:port, a master a sentinel announced, at the next turn of the loop.
 * NULL is a no-op. */
void ctl_watch_follow(struct ctl_watch *w, const char *host, unsigned port);

struct ctl_sentinel;

/* Starts the Sentinel announcement job (MCS_REDIS_SENTINELS set): subscribes to `+switch-master`
 * on one sentinel (the next one, with backoff, when it is lost) and, when our master switches,
 * points the poller and watch (NULL: none) at the new master and wakes stepper past its backoff.
 * Returns NULL when out of memory or the settings do not parse. Free with ctl_sentinel_free
 * (NULL: no-op). */
struct ctl_sentinel *ctl_sentinel_new(struct ctl *ctl, struct ctl_stepper *stepper, struct ctl_watch *watch)
	__attribute__((warn_unused_result));
void ctl_sentinel_free(struct ctl_sentinel *s);

/* Starts the certificate watch (MCS_CERT_RELOAD=on): looks at the tls/ pair every second and
 * swaps a changed valid one into HAProxy. Returns NULL with one line logged when the paths
 * cannot be watched. Free with ctl_cert_free (NULL: no-op). */
struct ctl_cert *ctl_cert_new(struct ctl *ctl) __attribute__((warn_unused_result));
void ctl_cert_free(struct ctl_cert *c);

struct ctl_refused;

/* Starts the refusals job: every MCS_POLL_MS while the step reaches HAProxy, reads the table
 * mcs_refused into ctl->file's refused_rate_total and refused_concurrency_total (-1 until read,
 * and when HAProxy does not answer), which controller.json carries to the bridge. Returns NULL
 * when out of memory. Free with ctl_refused_free (NULL: no-op). */
struct ctl_refused *ctl_refused_new(struct ctl *ctl) __attribute__((warn_unused_result));
void ctl_refused_free(struct ctl_refused *r);

#endif
