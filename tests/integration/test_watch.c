/* Keyspace notifications (controller/redis_watch.h) against a real redis-server: off on the
 * server -> start says 0; on (set by the TEST with CONFIG SET, never by the module) -> a ZADD is
 * seen within 100 ms and a burst is drained in one read; other events; a killed connection;
 * CONFIG refused by an ACL -> subscribed but unverified. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "redis_conn.h"
#include "redis_watch.h"

#define EVENT_LIMIT_MS 100
#define N_SAMPLES 50

static void setup(void)
{
	if (h_redis_start() == -1)
		ck_abort_msg("%s", h_error());
}

static void teardown(void) { h_gateway_stop(); }

static void redis_ok(const char *fmt, const char *arg)
{
	redisReply *r = h_redis_cmd(fmt, arg);
	ck_assert_msg(r != NULL && r->type != REDIS_REPLY_ERROR, "%s %s: %s", fmt, arg,
		      r ? (r->str ? r->str : "?") : h_error());
	freeReplyObject(r);
}

static struct redis_watch *watcher(const char *user, const char *password)
{
	struct redis_conn_opts opts = {.host = "127.0.0.1",
				       .port = (unsigned)H.redis_port,
				       .user = user,
				       .password = password,
				       .timeout_ms = 2000};
	resp_limits_for_pairs(&opts.limits, 1000);
	struct redis_watch *w = redis_watch_new(&opts, "mcs:node", NULL);
	ck_assert(w != NULL);
	return w;
}

/* Waits up to timeout_ms for events on w; returns what arrived (0: nothing). */
static unsigned wait_events(struct redis_watch *w, unsigned timeout_ms)
{
	unsigned events = 0;
	uint64_t end = h_now_ms() + timeout_ms;
	while (events == 0 && h_now_ms() < end) {
		struct pollfd p = {redis_watch_fd(w), POLLIN, 0};
		int left = (int)(end - h_now_ms());
		if (poll(&p, 1, left > 0 ? left : 0) <= 0)
			break;
		ck_assert_msg(redis_watch_read(w, &events) == 0, "read: %s", redis_watch_errstr(w));
	}
	return events;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

START_TEST(test_notifications_off)
{
	redis_ok("CONFIG SET notify-keyspace-events %s", "");
	struct redis_watch *w = watcher(NULL, NULL);
	ck_assert_int_eq(redis_watch_start(w), 0);
	ck_assert_int_eq(redis_watch_fd(w), -1);
	ck_assert_msg(strstr(redis_watch_errstr(w), "notify-keyspace-events") != NULL, "%s", redis_watch_errstr(w));
	printf("off: %s\n", redis_watch_errstr(w));
	unsigned events = 0;
	ck_assert_int_eq(redis_watch_read(w, &events), -1);
	redis_watch_free(w);
	redis_watch_free(NULL);
}
END_TEST

START_TEST(test_zadd_seen_fast)
{
	redis_ok("CONFIG SET notify-keyspace-events %s", "Kz");
	struct redis_watch *w = watcher(NULL, NULL);
	ck_assert_msg(redis_watch_start(w) == 1, "start: %s", redis_watch_errstr(w));
	ck_assert_int_eq(redis_watch_verified(w), 1);
	ck_assert_int_ge(redis_watch_fd(w), 0);
	uint64_t lat[N_SAMPLES];
	for (int i = 0; i < N_SAMPLES; i++) {
		char member[32];
		snprintf(member, sizeof(member), "127.0.0.1:%d", 20000 + i);
		uint64_t t0 = h_now_ms();
		ck_assert_int_eq(h_zadd(member, strlen(member), 0), 0);
		unsigned ev = wait_events(w, 1000);
		lat[i] = h_now_ms() - t0;
		ck_assert_msg(ev == REDIS_WATCH_ZADD, "ZADD %d: events 0x%x", i, ev);
	}
	qsort(lat, N_SAMPLES, sizeof(lat[0]), cmp_u64);
	printf("ZADD -> event (%d samples): p50 %llu ms, p99 %llu ms, max %llu ms\n", N_SAMPLES,
	       (unsigned long long)lat[N_SAMPLES / 2], (unsigned long long)lat[N_SAMPLES * 99 / 100],
	       (unsigned long long)lat[N_SAMPLES - 1]);
	ck_assert_msg(lat[N_SAMPLES - 1] <= EVENT_LIMIT_MS, "slowest ZADD -> event: %llu ms",
		      (unsigned long long)lat[N_SAMPLES - 1]);

	redis_ok("ZREM mcs:node %s", "127.0.0.1:20000");
	ck_assert_uint_eq(wait_events(w, 1000), REDIS_WATCH_OTHER);

	/* A heartbeat storm: 1000 ZADDs coalesce into one ZADD bit, drained without blocking. */
	for (int i = 0; i < 1000; i++) {
		char member[32];
		snprintf(member, sizeof(member), "10.0.%d.%d:7000", i / 250, i % 250);
		ck_assert_int_eq(h_zadd(member, strlen(member), 0), 0);
	}
	h_sleep_ms(100);
	unsigned events = 0;
	uint64_t t0 = h_now_ms();
	for (int i = 0; i < 20; i++) {
		struct pollfd p = {redis_watch_fd(w), POLLIN, 0};
		if (poll(&p, 1, 0) == 0)
			break;
		ck_assert_int_eq(redis_watch_read(w, &events), 0);
	}
	ck_assert_uint_eq(events, REDIS_WATCH_ZADD);
	printf("1000 ZADDs drained in %llu ms\n", (unsigned long long)(h_now_ms() - t0));
	events = 0;
	ck_assert_int_eq(redis_watch_read(w, &events), 0); /* nothing pending: returns at once */
	ck_assert_uint_eq(events, 0);
	redis_watch_free(w);
}
END_TEST

START_TEST(test_other_events)
{
	redis_ok("CONFIG SET notify-keyspace-events %s", "KA");
	struct redis_watch *w = watcher(NULL, NULL);
	ck_assert_msg(redis_watch_start(w) == 1, "start: %s", redis_watch_errstr(w));
	ck_assert_int_eq(redis_watch_verified(w), 1);
	/* Redis notifies a ZADD only when it changes something: the same member with the same
	 * score (a second heartbeat within one second) is silent. */
	ck_assert_int_eq(h_zadd("10.0.9.1:7000", 13, 12345), 0);
	ck_assert_uint_eq(wait_events(w, 1000), REDIS_WATCH_ZADD);
	ck_assert_int_eq(h_zadd("10.0.9.1:7000", 13, 12345), 0);
	ck_assert_uint_eq(wait_events(w, 300), 0);
	redis_ok("DEL %s", "mcs:node");
	ck_assert_uint_eq(wait_events(w, 1000), REDIS_WATCH_OTHER);
	ck_assert_int_eq(h_zadd("10.0.0.1:7000", 13, 0), 0);
	ck_assert_uint_eq(wait_events(w, 1000), REDIS_WATCH_ZADD);
	redis_ok("PEXPIRE mcs:node %s", "200");
	ck_assert_uint_eq(wait_events(w, 1000), REDIS_WATCH_OTHER); /* expire */
	ck_assert_uint_eq(wait_events(w, 2000), REDIS_WATCH_OTHER); /* expired */
	/* Another key: nothing. */
	redis_ok("ZADD other:key 1 %s", "x");
	ck_assert_uint_eq(wait_events(w, 300), 0);
	redis_watch_free(w);
}
END_TEST

START_TEST(test_connection_lost)
{
	redis_ok("CONFIG SET notify-keyspace-events %s", "Kz");
	struct redis_watch *w = watcher(NULL, NULL);
	ck_assert_int_eq(redis_watch_start(w), 1);
	redis_ok("CLIENT KILL TYPE %s", "pubsub");
	struct pollfd p = {redis_watch_fd(w), POLLIN, 0};
	ck_assert_int_eq(poll(&p, 1, 2000), 1);
	unsigned events = 0;
	ck_assert_int_eq(redis_watch_read(w, &events), -1);
	ck_assert_int_eq(redis_watch_fd(w), -1);
	printf("lost: %s\n", redis_watch_errstr(w));
	ck_assert_int_eq(redis_watch_start(w), 1);
	ck_assert_int_eq(h_zadd("10.0.0.2:7000", 13, 0), 0);
	ck_assert_uint_eq(wait_events(w, 1000), REDIS_WATCH_ZADD);
	redis_watch_free(w);
	/* Nobody listening: -1. */
	struct redis_conn_opts opts = {.host = "127.0.0.1", .port = (unsigned)h_free_port(), .timeout_ms = 500};
	resp_limits_for_pairs(&opts.limits, 1000);
	w = redis_watch_new(&opts, "mcs:node", NULL);
	ck_assert_int_eq(redis_watch_start(w), -1);
	ck_assert_int_eq(redis_watch_fd(w), -1);
	printf("unreachable: %s\n", redis_watch_errstr(w));
	redis_watch_free(w);
}
END_TEST

/* A managed Redis that refuses CONFIG: subscribed anyway, said to be unverified. */
START_TEST(test_config_refused)
{
	redis_ok("CONFIG SET notify-keyspace-events %s", "Kz");
	redisReply *r = h_redis_cmd("ACL SETUSER watcher on >pw ~* &* +@all -config");
	ck_assert_msg(r != NULL && r->type == REDIS_REPLY_STATUS, "ACL SETUSER");
	freeReplyObject(r);
	struct redis_watch *w = watcher("watcher", "pw");
	ck_assert_msg(redis_watch_start(w) == 1, "start: %s", redis_watch_errstr(w));
	ck_assert_int_eq(redis_watch_verified(w), 0);
	ck_assert_msg(strstr(redis_watch_errstr(w), "unknown") != NULL, "%s", redis_watch_errstr(w));
	printf("refused: %s\n", redis_watch_errstr(w));
	ck_assert_int_eq(h_zadd("10.0.0.3:7000", 13, 0), 0);
	ck_assert_uint_eq(wait_events(w, 1000), REDIS_WATCH_ZADD);
	redis_watch_free(w);
	w = watcher("watcher", "wrong");
	ck_assert_int_eq(redis_watch_start(w), -1);
	ck_assert_msg(strstr(redis_watch_errstr(w), "AUTH") != NULL, "%s", redis_watch_errstr(w));
	redis_watch_free(w);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("watch");
	TCase *tc = tcase_create("watch");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_notifications_off);
	tcase_add_test(tc, test_zadd_seen_fast);
	tcase_add_test(tc, test_other_events);
	tcase_add_test(tc, test_connection_lost);
	tcase_add_test(tc, test_config_refused);
	suite_add_tcase(s, tc);
	return h_main(s);
}
