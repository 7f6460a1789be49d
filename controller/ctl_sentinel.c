/* The Sentinel announcement job: subscribed to `+switch-master` on one sentinel, it hears a
 * failover of our master when the sentinels decide it and points the poller and the watch at
 * the new master at once, instead of a failed poll (and its backoff) finding out. Lost, it
 * subscribes on the next sentinel after a backoff; the poll's ROLE check stays the safety net. */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "log.h"
#include "loop.h"
#include "mono.h"
#include "redis_conn.h"
#include "redis_sentinel.h"
#include "redis_url.h"

#define CTL_SENTINEL_CHANNEL "+switch-master"
#define CTL_SENTINEL_RETRY_MIN_MS 250u
#define CTL_SENTINEL_RETRY_MAX_MS 5000u
#define CTL_SENTINEL_STABLE_MS 10000u /* a subscription this old that is lost retries without backoff */
#define CTL_SENTINEL_PING_MS 10000u   /* a PING this often; unanswered at the next, the sentinel is gone */

struct ctl_sentinel {
	struct ctl *ctl;
	struct ctl_stepper *stepper;
	struct ctl_watch *watch; /* NULL with MCS_REDIS_NOTIFY=off */
	struct redis_sentinel_addr addr[REDIS_SENTINEL_MAX];
	size_t n, next;          /* next: the sentinel to subscribe on */
	struct redis_conn *conn; /* pointed at each sentinel in turn */
	int fd;                  /* the subscribed socket the loop watches, -1 none */
	int retry_timer;
	int ping_timer;      /* armed while subscribed */
	int ping_due;        /* a PING sent and nothing read since */
	unsigned backoff_ms; /* the wait before the next subscription */
	uint64_t since_ms;   /* when the current subscription was made */
	char error[256];     /* the last failure logged, "" none */
};

static void ctl_sentinel_on_read(struct loop *l, int fd, void *ctx);

/* Logs a failure once (a sentinel that stays down is not logged at every retry). */
static void ctl_sentinel_note(struct ctl_sentinel *s, const char *why)
{
	if (strcmp(s->error, why) != 0)
		log_warn("sentinel: %s; failovers are found by the poll until subscribed again", why);
	snprintf(s->error, sizeof(s->error), "%s", why);
}

/* Drops the subscription and tries the next sentinel after the backoff. */
static void ctl_sentinel_lost(struct ctl_sentinel *s, const char *why)
{
	if (s->fd != -1)
		loop_fd_del(s->ctl->loop, s->fd);
	s->fd = -1;
	redis_conn_close(s->conn);
	loop_timer_disarm(s->ctl->loop, s->ping_timer);
	s->ping_due = 0;
	ctl_sentinel_note(s, why);
	s->next = (s->next + 1) % s->n;
	if (s->since_ms != 0 && mono_now_ms() - s->since_ms >= CTL_SENTINEL_STABLE_MS)
		s->backoff_ms = 0;
	s->since_ms = 0;
	s->backoff_ms = s->backoff_ms == 0 ? CTL_SENTINEL_RETRY_MIN_MS : s->backoff_ms * 2;
	if (s->backoff_ms > CTL_SENTINEL_RETRY_MAX_MS)
		s->backoff_ms = CTL_SENTINEL_RETRY_MAX_MS;
	loop_timer_arm(s->ctl->loop, s->retry_timer, mono_now_ms() + s->backoff_ms);
}

static int ctl_sentinel_is(const redisReply *r, const char *text)
{
	return r->type == REDIS_REPLY_STRING && r->len == strlen(text) && memcmp(r->str, text, r->len) == 0;
}

/* Connects to the next sentinel, AUTH when configured, and subscribes (each step bounded by
 * MCS_IO_TIMEOUT_MS). 0, or -1 with the reason in why. */
static int ctl_sentinel_subscribe(struct ctl_sentinel *s, char *why, size_t whylen)
{
	const struct redis_sentinel_addr *a = &s->addr[s->next];
	redisReply *r = NULL;
	if (redis_conn_set_addr(s->conn, a->host, a->port) == -1) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if (redis_conn_connect(s->conn) == -1 || redis_conn_keepalive(s->conn) == -1) {
		snprintf(why, whylen, "%s", redis_conn_errstr(s->conn));
		return -1;
	}
	if (conf.redis_sentinel_password[0] != '\0') {
		const char *auth[] = {"AUTH", conf.redis_sentinel_password};
		if ((r = redis_conn_command(s->conn, 2, auth, NULL)) == NULL || r->type != REDIS_REPLY_STATUS) {
			snprintf(why, whylen, "%s:%u: AUTH: %.100s", a->host, a->port,
				 r == NULL                      ? redis_conn_errstr(s->conn)
				 : r->type == REDIS_REPLY_ERROR ? r->str
								: "unexpected reply");
			freeReplyObject(r);
			return -1;
		}
		freeReplyObject(r);
	}
	const char *sub[] = {"SUBSCRIBE", CTL_SENTINEL_CHANNEL};
	if ((r = redis_conn_command(s->conn, 2, sub, NULL)) == NULL) {
		snprintf(why, whylen, "%s", redis_conn_errstr(s->conn));
		return -1;
	}
	int ok = r->type == REDIS_REPLY_ARRAY && r->elements == 3 && ctl_sentinel_is(r->element[0], "subscribe") &&
		 ctl_sentinel_is(r->element[1], CTL_SENTINEL_CHANNEL);
	if (!ok)
		snprintf(why, whylen, "%s:%u: SUBSCRIBE %s: %.100s", a->host, a->port, CTL_SENTINEL_CHANNEL,
			 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
	freeReplyObject(r);
	return ok ? 0 : -1;
}

static void ctl_sentinel_start(struct ctl_sentinel *s)
{
	char why[256];
	if (ctl_sentinel_subscribe(s, why, sizeof(why)) == -1) {
		ctl_sentinel_lost(s, why);
		return;
	}
	if (loop_fd_add(s->ctl->loop, redis_conn_fd(s->conn), ctl_sentinel_on_read, s) == -1) {
		ctl_sentinel_lost(s, "out of memory");
		return;
	}
	s->fd = redis_conn_fd(s->conn);
	s->since_ms = mono_now_ms();
	loop_timer_arm(s->ctl->loop, s->ping_timer, s->since_ms + CTL_SENTINEL_PING_MS);
	s->error[0] = '\0';
	char addr[300];
	redis_conn_addr(s->conn, addr, sizeof(addr));
	log_info("sentinel: subscribed to %s on %s: a failover of \"%s\" is followed at once", CTL_SENTINEL_CHANNEL,
		 addr, conf.redis_sentinel_master);
}

static void ctl_sentinel_on_retry(struct loop *l, int timer, void *ctx) { ctl_sentinel_start(ctx); }

/* A sentinel whose host vanished sends no reset: a PING that stays unanswered finds it. */
static void ctl_sentinel_on_ping(struct loop *l, int timer, void *ctx)
{
	struct ctl_sentinel *s = ctx;
	const char *ping[] = {"PING"};
	char why[384], addr[300];
	if (s->ping_due) {
		redis_conn_addr(s->conn, addr, sizeof(addr));
		snprintf(why, sizeof(why), "%s: no answer to PING within %u ms", addr, CTL_SENTINEL_PING_MS);
		ctl_sentinel_lost(s, why);
		return;
	}
	if (redis_conn_append(s->conn, 1, ping, NULL) == -1 || redis_conn_flush(s->conn) == -1) {
		ctl_sentinel_lost(s, redis_conn_errstr(s->conn));
		return;
	}
	s->ping_due = 1;
	loop_timer_arm(l, timer, mono_now_ms() + CTL_SENTINEL_PING_MS);
}

/* One message of the subscription: 0 (a switch of ours followed, or another master's), or -1
 * with the reason in why (the sentinel is not trusted further). */
static int ctl_sentinel_message(struct ctl_sentinel *s, const redisReply *r, char *why, size_t whylen)
{
	char addr[300];
	redis_conn_addr(s->conn, addr, sizeof(addr));
	/* The answer to PING while subscribed. */
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 && ctl_sentinel_is(r->element[0], "pong"))
		return 0;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 || !ctl_sentinel_is(r->element[0], "message") ||
	    !ctl_sentinel_is(r->element[1], CTL_SENTINEL_CHANNEL) || r->element[2]->type != REDIS_REPLY_STRING) {
		snprintf(why, whylen, "%s: not a %s message (reply type %d)", addr, CTL_SENTINEL_CHANNEL, r->type);
		return -1;
	}
	struct redis_sentinel_switch sw;
	char err[192];
	if (redis_sentinel_parse_switch(r->element[2]->str, r->element[2]->len, &sw, err, sizeof(err)) == -1) {
		snprintf(why, whylen, "%s: %s", addr, err);
		return -1;
	}
	if (strcmp(sw.name, conf.redis_sentinel_master) != 0)
		return 0;
	log_info("sentinel %s: master \"%s\" switched from %s:%u to %s:%u: following now", addr, sw.name, sw.from.host,
		 sw.from.port, sw.to.host, sw.to.port);
	if (redis_src_follow(s->ctl->redis, sw.to.host, sw.to.port) == -1)
		log_warn("redis: out of memory: the poll asks the sentinels for the master");
	ctl_stepper_wake_failover(s->stepper);
	ctl_watch_follow(s->watch, sw.to.host, sw.to.port);
	return 0;
}

static void ctl_sentinel_on_read(struct loop *l, int fd, void *ctx)
{
	struct ctl_sentinel *s = ctx;
	char why[256];
	if (redis_conn_read(s->conn) == -1) {
		ctl_sentinel_lost(s, redis_conn_errstr(s->conn));
		return;
	}
	for (;;) {
		redisReply *r = NULL;
		if (redis_conn_reply(s->conn, &r) == -1) {
			ctl_sentinel_lost(s, redis_conn_errstr(s->conn));
			return;
		}
		if (r == NULL)
			return;
		s->ping_due = 0;
		int rc = ctl_sentinel_message(s, r, why, sizeof(why));
		freeReplyObject(r);
		if (rc == -1) {
			/* One line: the note that follows is not logged again. */
			log_err("sentinel: %s: dropping the subscription", why);
			snprintf(s->error, sizeof(s->error), "%s", why);
			ctl_sentinel_lost(s, why);
			return;
		}
	}
}

struct ctl_sentinel *ctl_sentinel_new(struct ctl *ctl, struct ctl_stepper *stepper, struct ctl_watch *watch)
{
	char err[160];
	struct redis_url url;
	if (redis_url_parse(conf.redis_url, &url, err, sizeof(err)) == -1)
		return NULL;
	struct redis_conn_opts opts;
	ctl_redis_opts(&opts);
	opts.tls = url.tls; /* the sentinels speak what the master does */
	redis_url_clear(&url);
	struct ctl_sentinel *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	*s = (struct ctl_sentinel){
		.ctl = ctl, .stepper = stepper, .watch = watch, .fd = -1, .retry_timer = -1, .ping_timer = -1};
	if (redis_sentinel_parse(conf.redis_sentinels, s->addr, REDIS_SENTINEL_MAX, &s->n, err, sizeof(err)) == -1 ||
	    s->n == 0)
		goto fail;
	/* A placeholder address: each subscription points it at a sentinel. */
	opts.host = s->addr[0].host;
	opts.port = s->addr[0].port;
	if ((s->conn = redis_conn_new(&opts)) == NULL)
		goto fail;
	/* After the first step, which finds the master by asking. */
	if ((s->retry_timer = loop_timer_add(ctl->loop, 0, ctl_sentinel_on_retry, s)) == -1 ||
	    (s->ping_timer = loop_timer_new(ctl->loop, ctl_sentinel_on_ping, s)) == -1)
		goto fail;
	return s;
fail:
	ctl_sentinel_free(s);
	return NULL;
}

void ctl_sentinel_free(struct ctl_sentinel *s)
{
	if (s == NULL)
		return;
	if (s->fd != -1)
		loop_fd_del(s->ctl->loop, s->fd);
	loop_timer_free(s->ctl->loop, s->retry_timer);
	loop_timer_free(s->ctl->loop, s->ping_timer);
	redis_conn_free(s->conn);
	free(s);
}
