/* Between two steps: answer HAProxy's agent checks and read Redis keyspace notifications,
 * turning a burst of them into at most one step per MCS_NOTIFY_MIN_GAP_MS. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "ctl.h"
#include "log.h"
#include "redis_url.h"
#include "redis_watch.h"

#define CTL_WATCH_RETRY_MS 5000u     /* after a lost subscription */
#define CTL_WATCH_OFF_RETRY_MS 60000u /* after finding notifications off */
#define CTL_CERT_EVERY_MS 1000u       /* how often the certificate files are looked at */

/* The agent's answer for one server, from the controller's view of its node. */
static void ctl_agent_answer(void *ctx, const char *server_name, char *out, size_t outlen)
{
	struct ctl *ctl = ctx;
	struct ctl_node *node = ctl_nodes_find(&ctl->nodes, server_name);
	struct agent_view view = {0};
	if (rec_memory_is_ours(&ctl->leaving, server_name)) {
		view.leaving = 1;
	} else if (node != NULL) {
		view.first_seen_ms = node->first_seen_ms;
		view.override = node->override;
	} else {
		return; /* not a node we know: no answer, HAProxy keeps the server as it is */
	}
	agent_policy_answer(&view, ctl_now_ms(), conf.warmup_s * 1000u, (unsigned)conf.warmup_start_pct, out, outlen);
}

static void ctl_watch_start(struct ctl *ctl)
{
	int rc = redis_watch_start(ctl->watch);
	if (rc == 1) {
		log_info("redis: keyspace notifications of %s subscribed%s%s: new nodes are added at once", conf.node_key,
			 redis_watch_verified(ctl->watch) ? "" : " (", redis_watch_verified(ctl->watch) ? "" : redis_watch_errstr(ctl->watch));
		/* Notifications sent before the subscription were missed: look once now. */
		ctl->watch_events |= REDIS_WATCH_OTHER;
	} else if (rc == 0 && ctl->watch_state != 0) {
		log_warn("redis: %s; discovery falls back to polling every %lu ms", redis_watch_errstr(ctl->watch),
			 conf.poll_ms);
	} else if (rc == -1 && ctl->watch_state == 1) {
		log_warn("redis: notifications lost (%s); polling meanwhile", redis_watch_errstr(ctl->watch));
	}
	ctl->watch_state = rc;
	if (rc != 1)
		ctl->watch_retry_ms = ctl_now_ms() + (rc == 0 ? CTL_WATCH_OFF_RETRY_MS : CTL_WATCH_RETRY_MS);
}

int ctl_events_init(struct ctl *ctl)
{
	char err[256];
	if (strcmp(conf.agent, "on") == 0) {
		ctl->agent = agent_srv_new(conf.agent_addr, (unsigned)conf.agent_port, ctl_agent_answer, ctl, err, sizeof(err));
		if (ctl->agent == NULL) {
			log_err("MCS_AGENT_ADDR/MCS_AGENT_PORT: %s", err);
			return -1;
		}
		ctl->agent_opts = (struct hap_agent_opts){conf.agent_addr, agent_srv_port(ctl->agent),
							  (unsigned)conf.agent_inter_ms, NULL};
		ctl->opts.agent = &ctl->agent_opts;
		ctl->opts.start_weight_pct = conf.warmup_s > 0 ? (unsigned)conf.warmup_start_pct : 100;
		log_info("agent checks answered on %s port %u", conf.agent_addr, agent_srv_port(ctl->agent));
	}
	ctl->watch_state = -1;
	if (strcmp(conf.notify, "on") == 0) {
		struct redis_url url;
		if (redis_url_parse(conf.redis_url, &url, err, sizeof(err)) == -1)
			return -1;
		ctl->watch = redis_watch_new(&url, conf.node_key, (unsigned)conf.io_timeout_ms);
		redis_url_clear(&url);
		if (ctl->watch == NULL)
			return -1;
	}
	return 0;
}

void ctl_events_free(struct ctl *ctl)
{
	agent_srv_free(ctl->agent);
	ctl->agent = NULL;
	redis_watch_free(ctl->watch);
	ctl->watch = NULL;
}

/* Notifications seen: step now if they can have changed the live set. A ZADD is mostly a
 * heartbeat of a live node; only when the count of live members differs from the last
 * poll's is it a node that was not live. Anything else (ZREM, DEL, ...) steps at once. */
static int ctl_watch_wants_step(struct ctl *ctl)
{
	unsigned events = ctl->watch_events;
	ctl->watch_events = 0;
	ctl->watch_checked_ms = ctl_now_ms();
	if (events & REDIS_WATCH_OTHER)
		return 1;
	long long live = 0;
	if (redis_src_count_live(ctl->redis, (unsigned)conf.ttl_ms, &live) == -1)
		return 0; /* the next poll reports the error */
	return live != redis_src_last_count(ctl->redis);
}

static int ctl_wait_timeout(const struct ctl *ctl, uint64_t now, uint64_t deadline_ms)
{
	uint64_t until = deadline_ms;
	if (ctl->watch_events && ctl->watch_checked_ms + conf.notify_gap_ms < until)
		until = ctl->watch_checked_ms + conf.notify_gap_ms;
	if (ctl->watch != NULL && ctl->watch_state != 1 && ctl->watch_retry_ms < until)
		until = ctl->watch_retry_ms;
	if (ctl->cert != NULL && ctl->cert_next_ms < until)
		until = ctl->cert_next_ms;
	int timeout = until > now ? (int)(until - now) : 0;
	int agent_timeout = ctl->agent ? agent_srv_timeout_ms(ctl->agent) : -1;
	return agent_timeout >= 0 && agent_timeout < timeout ? agent_timeout : timeout;
}

int ctl_wait(struct ctl *ctl, uint64_t deadline_ms, volatile const int *stop)
{
	struct pollfd fds[AGENT_MAX_CLIENTS + 2];
	while (!*stop) {
		uint64_t now = ctl_now_ms();
		if (ctl->watch != NULL && ctl->watch_state != 1 && now >= ctl->watch_retry_ms)
			ctl_watch_start(ctl);
		if (ctl->watch_events && now >= ctl->watch_checked_ms + conf.notify_gap_ms && ctl_watch_wants_step(ctl)) {
			ctl->n_notified_steps++;
			return 1;
		}
		if (ctl->cert != NULL && now >= ctl->cert_next_ms) {
			ctl_cert_step(ctl);
			ctl->cert_next_ms = now + CTL_CERT_EVERY_MS;
		}
		if (now >= deadline_ms)
			return 0;
		size_t n = ctl->agent ? agent_srv_pollfds(ctl->agent, fds, AGENT_MAX_CLIENTS + 1) : 0;
		int watch_fd = ctl->watch != NULL && ctl->watch_state == 1 ? redis_watch_fd(ctl->watch) : -1;
		if (watch_fd != -1)
			fds[n++] = (struct pollfd){.fd = watch_fd, .events = POLLIN};
		if (poll(fds, n, ctl_wait_timeout(ctl, now, deadline_ms)) == -1 && errno != EINTR)
			log_debug("poll: %s", strerror(errno));
		if (ctl->agent != NULL)
			agent_srv_handle(ctl->agent);
		if (watch_fd != -1 && fds[n - 1].revents != 0 && redis_watch_read(ctl->watch, &ctl->watch_events) == -1)
			ctl_watch_start(ctl);
	}
	return 0;
}
