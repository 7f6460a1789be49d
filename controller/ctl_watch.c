/* The Redis watch job: keyspace notifications of the node key, turning a burst of them into
 * at most one early step per MCS_NOTIFY_MIN_GAP_MS. Subscribes at the first turn of the loop
 * and again after a loss; polling stays the safety net. */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "log.h"
#include "loop.h"
#include "mono.h"
#include "redis_url.h"
#include "redis_watch.h"

#define CTL_WATCH_RETRY_MS 5000u      /* after a lost subscription */
#define CTL_WATCH_OFF_RETRY_MS 60000u /* after finding notifications off */

struct ctl_watch {
	struct ctl *ctl;
	struct ctl_stepper *stepper;
	struct redis_watch *w;
	int state;           /* 1 subscribed, 0 notifications off, -1 not connected */
	int fd;              /* the subscribed socket the loop watches, -1 none */
	int retry_timer;     /* when to try subscribing again */
	int check_timer;     /* when the events seen are turned into a step decision */
	unsigned events;     /* events seen since the last check */
	uint64_t checked_ms; /* when events were last turned into a step decision */
};

/* Looks at the events seen no earlier than MCS_NOTIFY_MIN_GAP_MS after the last look. */
static void ctl_watch_arm_check(struct ctl_watch *cw)
{
	if (cw->events != 0)
		loop_timer_arm(cw->ctl->loop, cw->check_timer, cw->checked_ms + conf.notify_gap_ms);
}

static void ctl_watch_on_read(struct loop *l, int fd, void *ctx);

static void ctl_watch_log(const struct ctl_watch *cw, int rc)
{
	if (rc == 1)
		log_info("redis: keyspace notifications of %s subscribed%s%s: new nodes are added at once",
			 conf.node_key, redis_watch_verified(cw->w) ? "" : " (",
			 redis_watch_verified(cw->w) ? "" : redis_watch_errstr(cw->w));
	else if (rc == 0 && cw->state != 0)
		log_warn("redis: %s; discovery falls back to polling every %lu ms", redis_watch_errstr(cw->w),
			 conf.poll_ms);
	else if (rc == -1 && cw->state == 1)
		log_warn("redis: notifications lost (%s); polling meanwhile", redis_watch_errstr(cw->w));
}

/* (Re)subscribes; on success the loop watches the socket, else a retry is armed. */
static void ctl_watch_start(struct ctl_watch *cw)
{
	if (cw->fd != -1)
		loop_fd_del(cw->ctl->loop, cw->fd);
	cw->fd = -1;
	int rc = redis_watch_start(cw->w);
	if (rc == 1 && loop_fd_add(cw->ctl->loop, redis_watch_fd(cw->w), ctl_watch_on_read, cw) == 0) {
		cw->fd = redis_watch_fd(cw->w);
		/* Notifications sent before the subscription were missed: look once now. */
		cw->events |= REDIS_WATCH_OTHER;
		ctl_watch_arm_check(cw);
	} else if (rc == 1) {
		redis_watch_close(cw->w);
		rc = -1;
	}
	ctl_watch_log(cw, rc);
	cw->state = rc;
	cw->ctl->notifications = rc == 1;
	if (rc != 1)
		loop_timer_arm(cw->ctl->loop, cw->retry_timer,
			       mono_now_ms() + (rc == 0 ? CTL_WATCH_OFF_RETRY_MS : CTL_WATCH_RETRY_MS));
}

static void ctl_watch_on_read(struct loop *l, int fd, void *ctx)
{
	struct ctl_watch *cw = ctx;
	if (redis_watch_read(cw->w, &cw->events) == -1)
		ctl_watch_start(cw);
	ctl_watch_arm_check(cw);
}

static void ctl_watch_on_retry(struct loop *l, int timer, void *ctx) { ctl_watch_start(ctx); }

/* Notifications seen: step now if they can have changed the live set. A ZADD is mostly a
 * heartbeat of a live node; only when the count of live members differs from the last
 * poll's is it a node that was not live. Anything else (ZREM, DEL, ...) steps at once. */
static int ctl_watch_wants_step(struct ctl_watch *cw)
{
	unsigned events = cw->events;
	cw->events = 0;
	cw->checked_ms = mono_now_ms();
	if (events & REDIS_WATCH_OTHER)
		return 1;
	long long live = 0;
	if (redis_src_count_live(cw->ctl->redis, (unsigned)conf.ttl_ms, &live) == -1)
		return 0; /* the next poll reports the error */
	return live != redis_src_last_count(cw->ctl->redis);
}

static void ctl_watch_on_check(struct loop *l, int timer, void *ctx)
{
	struct ctl_watch *cw = ctx;
	if (!ctl_watch_wants_step(cw))
		return;
	cw->ctl->file.notified_steps_total++;
	ctl_stepper_wake(cw->stepper);
}

void ctl_watch_follow(struct ctl_watch *cw, const char *host, unsigned port)
{
	if (cw == NULL)
		return;
	/* The socket closes now: the loop must not watch its number, which the next connect may reuse. */
	if (cw->fd != -1)
		loop_fd_del(cw->ctl->loop, cw->fd);
	cw->fd = -1;
	if (redis_watch_follow(cw->w, host, port) == -1)
		log_warn("redis: out of memory: the watch asks the sentinels for the master");
	/* After the step the announcement woke, which was armed first. */
	loop_timer_arm(cw->ctl->loop, cw->retry_timer, mono_now_ms());
}

struct ctl_watch *ctl_watch_new(struct ctl *ctl, struct ctl_stepper *stepper)
{
	char err[256];
	struct redis_url url;
	if (redis_url_parse(conf.redis_url, &url, err, sizeof(err)) == -1)
		return NULL;
	struct ctl_watch *cw = calloc(1, sizeof(*cw));
	if (cw != NULL) {
		*cw = (struct ctl_watch){.ctl = ctl, .stepper = stepper, .state = -1, .fd = -1};
		struct redis_conn_opts opts;
		struct redis_sentinel *sentinel;
		if (ctl_redis_data(&url, &opts, &sentinel) == 0)
			cw->w = redis_watch_new(&opts, conf.node_key, sentinel); /* NULL: refused below */
		/* Subscribed at the first turn of the loop, after the first step. */
		cw->retry_timer = loop_timer_add(ctl->loop, 0, ctl_watch_on_retry, cw);
		cw->check_timer = loop_timer_new(ctl->loop, ctl_watch_on_check, cw);
	}
	redis_url_clear(&url);
	if (cw == NULL || cw->w == NULL || cw->retry_timer == -1 || cw->check_timer == -1) {
		ctl_watch_free(cw);
		return NULL;
	}
	return cw;
}

void ctl_watch_free(struct ctl_watch *cw)
{
	if (cw == NULL)
		return;
	if (cw->fd != -1)
		loop_fd_del(cw->ctl->loop, cw->fd);
	loop_timer_free(cw->ctl->loop, cw->retry_timer);
	loop_timer_free(cw->ctl->loop, cw->check_timer);
	cw->ctl->notifications = 0;
	redis_watch_free(cw->w);
	free(cw);
}
