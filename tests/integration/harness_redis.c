/* Integration-test harness, Redis: the suite's redis-server started and stopped, commands on
 * this process's own connection, Redis TIME and ZADD of members. */
#include "harness_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

redisContext *h_redis_connect(unsigned timeout_ms)
{
	struct timeval tv = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000};
	redisContext *c = redisConnectWithTimeout("127.0.0.1", H.redis_port, tv);
	if (c != NULL && c->err == 0 && redisSetTimeout(c, tv) == REDIS_OK)
		return c;
	redisFree(c);
	return NULL;
}

static int h_redis_ping(void)
{
	redisContext *c = h_redis_connect(500);
	redisReply *r = c ? redisCommand(c, "PING") : NULL;
	int ok = r != NULL && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
	if (r != NULL)
		freeReplyObject(r);
	redisFree(c);
	return ok;
}

int h_redis_start(void)
{
	char port[16];
	if (H.redis_port == 0)
		H.redis_port = h_free_port();
	snprintf(port, sizeof(port), "%d", H.redis_port);
	const char *argv[48] = {"redis-server", "--port", port,    "--bind", "127.0.0.1", "--save", "",
				"--appendonly", "no",     "--dir", H.dir,    NULL};
	for (size_t i = 0, n = 11; H.opts.redis_args != NULL && H.opts.redis_args[i] != NULL && n + 1 < 48; i++)
		argv[n++] = H.opts.redis_args[i];
	H.redis = h_spawn("redis", argv, NULL);
	if (H.redis == NULL)
		return -1;
	if (!H_WAIT(H_READY_TIMEOUT_MS, h_redis_ping() || !h_proc_running(H.redis)) || !h_proc_running(H.redis)) {
		h_fail("redis-server on port %d did not answer PING (see %s)", H.redis_port, H.redis->log);
		return -1;
	}
	return 0;
}

int h_redis_stop(void) { return h_proc_stop(H.redis, H_STOP_TIMEOUT_MS) == -1 ? -1 : 0; }

/* This process's connection: check forks each test, and a forked copy must not be shared. */
static redisContext *h_rc;
static pid_t h_rc_pid;
/* The parent's connection, inherited by a forked test: not ours to close (the parent still
 * uses its socket), kept reachable so leak checkers do not report it. */
static redisContext *volatile h_rc_inherited; /* volatile: a store never read is otherwise dropped */

static redisReply *h_redis_vcmd(const char *fmt, va_list ap)
{
	if (h_rc != NULL && (h_rc_pid != getpid() || h_rc->err != 0)) {
		if (h_rc_pid == getpid())
			redisFree(h_rc);
		else
			h_rc_inherited = h_rc;
		h_rc = NULL;
	}
	if (h_rc == NULL && (h_rc = h_redis_connect(1000)) == NULL) {
		h_fail("cannot connect to redis on port %d", H.redis_port);
		return NULL;
	}
	h_rc_pid = getpid();
	redisReply *r = redisvCommand(h_rc, fmt, ap);
	if (r == NULL)
		h_fail("redis: %s", h_rc->errstr);
	return r;
}

redisReply *h_redis_cmd(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	redisReply *r = h_redis_vcmd(fmt, ap);
	va_end(ap);
	if (r == NULL && h_rc != NULL) {
		/* A connection that died while idle (Redis restarted): once more on a fresh one. */
		va_start(ap, fmt);
		r = h_redis_vcmd(fmt, ap);
		va_end(ap);
	}
	return r;
}

static long long h_time_reply(redisReply *r)
{
	long long t = -1;
	if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDIS_REPLY_STRING)
		t = strtoll(r->element[0]->str, NULL, 10);
	if (r != NULL)
		freeReplyObject(r);
	return t;
}

long long h_redis_time(void) { return h_time_reply(h_redis_cmd("TIME")); }

/* Redis TIME as a score with microseconds ("1700000000.123456"), as a careful chat node sends
 * it: whole seconds would age a score by up to one more second, and with the short TTLs of the
 * tests every node would drop out of the live set for a moment each second. 0, or -1. */
int h_time_score(redisReply *r, char *out, size_t outlen)
{
	int ok = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
		 r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING;
	if (ok)
		snprintf(out, outlen, "%s.%06ld", r->element[0]->str, strtol(r->element[1]->str, NULL, 10));
	if (r != NULL)
		freeReplyObject(r);
	return ok ? 0 : -1;
}

int h_zadd(const char *member, size_t len, long long score)
{
	char text[48];
	if (score != 0)
		snprintf(text, sizeof(text), "%lld", score);
	else if (h_time_score(h_redis_cmd("TIME"), text, sizeof(text)) == -1)
		return -1;
	redisReply *r = h_redis_cmd("ZADD %s %s %b", H_NODE_KEY, text, member, len);
	int ok = r != NULL && r->type == REDIS_REPLY_INTEGER;
	if (r != NULL && !ok)
		h_fail("ZADD: %s", r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
	if (r != NULL)
		freeReplyObject(r);
	return ok ? 0 : -1;
}
