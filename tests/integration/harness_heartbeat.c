/* Integration-test harness, heartbeats: a background thread of the calling test process that
 * ZADDs its members every second, as chat nodes do. */
#include "harness_private.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define H_HB_PERIOD_MS 1000
#define H_HB_LIFETIME_MS 120000
#define H_HB_MAX 32

struct h_hb {
	pthread_mutex_t mu; /* held for a whole round, so a removed member is never beaten again */
	pthread_t thread;
	pid_t pid; /* process that owns the thread (check forks each test) */
	int running;
	volatile int stop; /* read by the thread between rounds without the lock */
	uint64_t until;
	int n;
	char member[H_HB_MAX][H_NAME_MAX];
	uint64_t last_ok[H_HB_MAX];
	redisContext *conn; /* the thread's Redis connection, closed when it stops */
};

static struct h_hb h_hb = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* One round: Redis TIME, then a ZADD per member. Drops the connection on any error. */
static void h_hb_round(redisContext **c)
{
	if (*c == NULL && (*c = h_redis_connect(500)) == NULL)
		return;
	char now[48];
	int ok = h_time_score(redisCommand(*c, "TIME"), now, sizeof(now)) == 0;
	for (int i = 0; i < h_hb.n && ok; i++) {
		redisReply *r = redisCommand(*c, "ZADD %s %s %s", H_NODE_KEY, now, h_hb.member[i]);
		if (r != NULL && r->type == REDIS_REPLY_INTEGER)
			h_hb.last_ok[i] = h_now_ms();
		if (r != NULL)
			freeReplyObject(r);
		else
			ok = 0;
	}
	if (!ok || (*c)->err != 0) {
		redisFree(*c);
		*c = NULL;
	}
}

static void *h_hb_main(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&h_hb.mu);
		int stop = h_hb.stop || h_now_ms() > h_hb.until;
		if (!stop)
			h_hb_round(&h_hb.conn);
		pthread_mutex_unlock(&h_hb.mu);
		if (stop)
			break;
		for (int t = 0; t < H_HB_PERIOD_MS / H_STEP_MS && !h_hb.stop; t++)
			h_sleep_ms(H_STEP_MS);
	}
	pthread_mutex_lock(&h_hb.mu);
	redisFree(h_hb.conn);
	h_hb.conn = NULL;
	pthread_mutex_unlock(&h_hb.mu);
	return NULL;
}

void h_hb_shutdown(void)
{
	if (!h_hb.running || h_hb.pid != getpid())
		return;
	pthread_mutex_lock(&h_hb.mu);
	h_hb.stop = 1;
	pthread_mutex_unlock(&h_hb.mu);
	pthread_join(h_hb.thread, NULL);
	h_hb.running = 0;
}

int h_hb_add(const char *member)
{
	if (getpid() == H.main_pid) {
		/* check forks each test from here: the copy would hold the thread's memory and locks
		 * without the thread (LeakSanitizer says so in every test), and no test could stop it. */
		h_fail("heartbeat %s: in the suite's process; start it in a test or a checked fixture", member);
		return -1;
	}
	int rc = h_zadd(member, strlen(member), 0);
	pthread_mutex_lock(&h_hb.mu);
	if (h_hb.n < H_HB_MAX) {
		snprintf(h_hb.member[h_hb.n], H_NAME_MAX, "%s", member);
		h_hb.last_ok[h_hb.n++] = rc == 0 ? h_now_ms() : 0;
	}
	pthread_mutex_unlock(&h_hb.mu);
	if (!h_hb.running) {
		h_hb.stop = 0;
		h_hb.until = h_now_ms() + H_HB_LIFETIME_MS;
		h_hb.pid = getpid();
		if (pthread_create(&h_hb.thread, NULL, h_hb_main, NULL) == 0)
			h_hb.running = 1;
		h_child_cleanup_arm();
	}
	return rc;
}

uint64_t h_hb_remove(const char *member)
{
	uint64_t last = 0;
	pthread_mutex_lock(&h_hb.mu);
	for (int i = 0; i < h_hb.n; i++) {
		if (strcmp(h_hb.member[i], member) != 0)
			continue;
		last = h_hb.last_ok[i];
		h_hb.n--;
		memmove(h_hb.member[i], h_hb.member[h_hb.n], H_NAME_MAX);
		h_hb.last_ok[i] = h_hb.last_ok[h_hb.n];
		break;
	}
	pthread_mutex_unlock(&h_hb.mu);
	return last;
}
