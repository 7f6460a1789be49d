/* Keyspace notifications of the node key over a dedicated SUBSCRIBE connection: connect and
 * subscribe under a timeout, then drain pending messages with poll(0) + one read at a time. */
#include "redis_watch.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "redis_conn.h"
#include "redis_sentinel.h"

#define REDIS_WATCH_READS_MAX 64 /* reads of up to 16 KB per redis_watch_read: bounded work per step */

struct redis_watch {
	char *channel; /* "__keyspace@<db>__:<key>" */
	size_t chan_len;
	struct redis_conn *conn;         /* holds the settings: AUTH reads them there */
	struct redis_sentinel *sentinel; /* NULL: the settings' host is the server */
	int verified;                    /* CONFIG GET showed K and z/A */
	char errstr[256];
};

__attribute__((format(printf, 2, 3))) static void redis_watch_note(struct redis_watch *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->errstr, sizeof(w->errstr), fmt, ap);
	va_end(ap);
	for (char *p = w->errstr; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20)
			*p = '?';
}

int redis_watch_channel(char *buf, size_t len, unsigned db, const char *key)
{
	return fmt_buf(buf, len, "__keyspace@%u__:%s", db, key);
}

int redis_watch_flags_ok(const char *flags)
{
	return flags != NULL && strchr(flags, 'K') != NULL &&
	       (strchr(flags, 'z') != NULL || strchr(flags, 'A') != NULL);
}

static int redis_watch_is_str(const redisReply *r)
{
	return r != NULL && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) && r->str != NULL;
}

static int redis_watch_str_eq(const redisReply *r, const char *s, size_t len)
{
	return r->len == len && memcmp(r->str, s, len) == 0;
}

int redis_watch_parse(const struct redisReply *r, const char *channel, size_t chan_len, unsigned *events)
{
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3 || !redis_watch_is_str(r->element[0]))
		return -1;
	const redisReply *kind = r->element[0], *chan = r->element[1], *payload = r->element[2];
	if (redis_watch_str_eq(kind, "subscribe", 9))
		return 0;
	if (!redis_watch_str_eq(kind, "message", 7) || !redis_watch_is_str(chan) || !redis_watch_is_str(payload))
		return -1;
	if (!redis_watch_str_eq(chan, channel, chan_len))
		return 0;
	*events |= redis_watch_str_eq(payload, "zadd", 4) ? REDIS_WATCH_ZADD : REDIS_WATCH_OTHER;
	return 0;
}

struct redis_watch *redis_watch_new(const struct redis_conn_opts *opts, const char *key,
				    struct redis_sentinel *sentinel)
{
	struct redis_watch *w = calloc(1, sizeof(*w));
	if (w == NULL) {
		redis_sentinel_free(sentinel);
		return NULL;
	}
	w->sentinel = sentinel;
	w->conn = redis_conn_new(opts);
	size_t len = strlen(key) + 32;
	w->channel = malloc(len);
	if (w->conn == NULL || w->channel == NULL || redis_watch_channel(w->channel, len, opts->db, key) == -1) {
		redis_watch_free(w);
		return NULL;
	}
	w->chan_len = strlen(w->channel);
	return w;
}

void redis_watch_close(struct redis_watch *w)
{
	if (w->conn != NULL)
		redis_conn_close(w->conn);
}

void redis_watch_free(struct redis_watch *w)
{
	if (w == NULL)
		return;
	redis_conn_free(w->conn);
	redis_sentinel_free(w->sentinel);
	free(w->channel);
	w->channel = NULL;
	free(w);
}

int redis_watch_fd(const struct redis_watch *w) { return redis_conn_ready(w->conn) ? redis_conn_fd(w->conn) : -1; }

int redis_watch_verified(const struct redis_watch *w) { return w->verified; }

const char *redis_watch_errstr(const struct redis_watch *w) { return w->errstr; }

/* Closes the connection with the reason noted; returns -1 for the caller to pass on. */
__attribute__((format(printf, 2, 3))) static int redis_watch_fail(struct redis_watch *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->errstr, sizeof(w->errstr), fmt, ap);
	va_end(ap);
	redis_watch_close(w);
	return -1;
}

/* Sentinel mode: subscribing on a replica that was the master would miss the new master's events. */
static int redis_watch_check_role(struct redis_watch *w)
{
	const char *argv[] = {"ROLE"};
	redisReply *r = redis_conn_command(w->conn, 1, argv, NULL);
	if (r == NULL)
		return redis_watch_fail(w, "watch: ROLE: %s", redis_conn_errstr(w->conn));
	int master = r->type == REDIS_REPLY_ARRAY && r->elements > 0 && r->element[0]->type == REDIS_REPLY_STRING &&
		     strcmp(r->element[0]->str, "master") == 0;
	freeReplyObject(r);
	if (master)
		return 0;
	char addr[300];
	redis_conn_addr(w->conn, addr, sizeof(addr));
	return redis_watch_fail(w, "watch: %s is not the master (ROLE): asking the sentinels again", addr);
}

int redis_watch_follow(struct redis_watch *w, const char *host, unsigned port)
{
	return redis_sentinel_follow(w->sentinel, w->conn, host, port);
}

static int redis_watch_connect(struct redis_watch *w)
{
	int aimed = redis_sentinel_aim(w->sentinel, w->conn);
	if (aimed != 0)
		return aimed == -1 ? redis_watch_fail(w, "watch: sentinels: %s", redis_sentinel_errstr(w->sentinel))
				   : redis_watch_fail(w, "watch: out of memory");
	/* Keepalive: a silent subscriber would never notice a vanished server otherwise. */
	if (redis_conn_connect(w->conn) == -1 || redis_conn_keepalive(w->conn) == -1)
		return redis_watch_fail(w, "watch: %s", redis_conn_errstr(w->conn));
	const struct redis_conn_opts *o = redis_conn_get_opts(w->conn);
	if (o->password == NULL)
		return w->sentinel != NULL ? redis_watch_check_role(w) : 0;
	const char *argv[] = {"AUTH", o->user ? o->user : o->password, o->password};
	redisReply *r = redis_conn_command(w->conn, o->user ? 3 : 2, argv, NULL);
	if (r == NULL)
		return redis_watch_fail(w, "watch: AUTH: %s", redis_conn_errstr(w->conn));
	int ok = r->type == REDIS_REPLY_STATUS;
	if (!ok)
		redis_watch_fail(w, "watch: AUTH refused: %.120s",
				 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
	freeReplyObject(r);
	if (ok && w->sentinel != NULL)
		return redis_watch_check_role(w);
	return ok ? 0 : -1;
}

/* 1 enabled, 0 off (noted), 2 unknown: CONFIG refused (noted), -1 connection lost. */
static int redis_watch_check_config(struct redis_watch *w)
{
	const char *argv[] = {"CONFIG", "GET", "notify-keyspace-events"};
	redisReply *r = redis_conn_command(w->conn, 3, argv, NULL);
	if (r == NULL)
		return redis_watch_fail(w, "watch: CONFIG GET: %s", redis_conn_errstr(w->conn));
	int rc = 2;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 && redis_watch_is_str(r->element[1])) {
		rc = redis_watch_flags_ok(r->element[1]->str);
		if (rc == 0)
			redis_watch_note(
				w,
				"keyspace notifications are off (notify-keyspace-events \"%.32s\"): polling only; "
				"the operator enables them with `CONFIG SET notify-keyspace-events Kz`",
				r->element[1]->str);
	} else {
		redis_watch_note(w,
				 "CONFIG GET notify-keyspace-events refused (%.100s): subscribed, but whether "
				 "notifications are enabled is unknown; polling stays the safety net",
				 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
	}
	freeReplyObject(r);
	return rc;
}

static int redis_watch_subscribe(struct redis_watch *w)
{
	const char *argv[] = {"SUBSCRIBE", w->channel};
	size_t lens[] = {9, w->chan_len};
	redisReply *r = redis_conn_command(w->conn, 2, argv, lens);
	if (r == NULL)
		return redis_watch_fail(w, "watch: SUBSCRIBE: %s", redis_conn_errstr(w->conn));
	unsigned none = 0;
	int ok = r->type == REDIS_REPLY_ARRAY && r->elements == 3 && redis_watch_is_str(r->element[0]) &&
		 redis_watch_str_eq(r->element[0], "subscribe", 9) &&
		 redis_watch_parse(r, w->channel, w->chan_len, &none) == 0;
	if (!ok)
		redis_watch_fail(w, "watch: SUBSCRIBE %.100s refused: %.100s", w->channel,
				 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
	freeReplyObject(r);
	return ok ? 0 : -1;
}

int redis_watch_start(struct redis_watch *w)
{
	redis_watch_close(w);
	w->errstr[0] = '\0';
	w->verified = 0;
	if (redis_watch_connect(w) == -1)
		return -1;
	int cfg = redis_watch_check_config(w);
	if (cfg == -1)
		return -1;
	if (cfg == 0) {
		redis_watch_close(w);
		return 0;
	}
	if (redis_watch_subscribe(w) == -1)
		return -1;
	w->verified = cfg == 1;
	return 1;
}

/* Classifies every reply already read. 0, or -1 with the connection closed. */
static int redis_watch_drain_buffered(struct redis_watch *w, unsigned *events)
{
	for (;;) {
		redisReply *reply = NULL;
		if (redis_conn_reply(w->conn, &reply) == -1)
			return redis_watch_fail(w, "watch: %s", redis_conn_errstr(w->conn));
		if (reply == NULL)
			return 0;
		int rc = redis_watch_parse(reply, w->channel, w->chan_len, events);
		int type = reply->type;
		freeReplyObject(reply);
		if (rc == -1)
			return redis_watch_fail(w, "watch: unexpected reply of type %d in SUBSCRIBE mode", type);
	}
}

int redis_watch_read(struct redis_watch *w, unsigned *events)
{
	if (!redis_conn_ready(w->conn))
		return -1;
	for (int i = 0; i < REDIS_WATCH_READS_MAX; i++) {
		if (redis_watch_drain_buffered(w, events) == -1)
			return -1;
		/* Non-blocking: 0 when nothing is there now (or TLS wants more of a record). */
		int n = redis_conn_read(w->conn);
		if (n == 0)
			return 0;
		if (n == -1)
			return redis_watch_fail(w, "watch: connection lost: %s", redis_conn_errstr(w->conn));
	}
	return redis_watch_drain_buffered(w, events);
}
