/* Keyspace notifications for the node key: a second Redis connection in SUBSCRIBE mode on
 * `__keyspace@<db>__:<key>`, read without blocking from the controller's poll loop, so a ZADDed
 * node is reconciled at once. Polling stays the safety net: notifications are fire-and-forget
 * (none while disconnected) and the server must have them enabled.
 *
 * Enabling them is the operator's call (this module never runs CONFIG SET): in redis.conf
 * `notify-keyspace-events Kz` (ZADD, ZREM, ZREMRANGEBYSCORE, ...) or `KA` (also DEL, RENAME,
 * EXPIRE and expiry), or at run time `CONFIG SET notify-keyspace-events Kz`. */
#ifndef MCS_REDIS_WATCH_H
#define MCS_REDIS_WATCH_H

#include <stddef.h>

#define REDIS_WATCH_ZADD 0x1u  /* a ZADD on the key: a heartbeat of a known node, or a new node */
#define REDIS_WATCH_OTHER 0x2u /* anything else on the key: zrem, del, zremrangebyscore, rename, expired, ... */

struct redisReply;
struct redis_watch;
struct redis_conn_opts;

struct redis_sentinel;

/* Creates a watcher of key (copied) on the Redis server of opts (copied: address, AUTH user
 * and password, db, TLS, limits). Does not connect yet. opts->timeout_ms bounds each step of
 * redis_watch_start. With a sentinel (w takes it and frees it, on failure too; NULL: the server
 * of opts), every start asks the sentinels for the master and checks ROLE before subscribing.
 * Returns NULL when out of memory. Free with redis_watch_free. */
struct redis_watch *redis_watch_new(const struct redis_conn_opts *opts, const char *key,
				    struct redis_sentinel *sentinel);

/* Closes the connection and frees w. NULL is a no-op. */
void redis_watch_free(struct redis_watch *w);

/* A sentinel announced a new master: closes the connection, and the next start goes to
 * host:port without asking (ROLE still checked). 0, or -1 when out of memory (closed). */
int redis_watch_follow(struct redis_watch *w, const char *host, unsigned port) __attribute__((warn_unused_result));

/* (Re)connects (AUTH when opts had a password), checks `CONFIG GET notify-keyspace-events`,
 * then SUBSCRIBEs. Blocks for at most a few timeout_ms. Returns:
 *   1  subscribed. redis_watch_verified says whether CONFIG showed K and z (or A); when CONFIG
 *      is refused (a managed Redis, an ACL without +config) notifications are unknown: still 1,
 *      with the reason in redis_watch_errstr. Events sent before this call are not seen: read
 *      the key once after it.
 *   0  notifications are off on the server (the reason and how to enable them in
 *      redis_watch_errstr); the connection is closed: poll, log once, retry start much later.
 *  -1  connection or protocol error (redis_watch_errstr); retry with backoff. */
int redis_watch_start(struct redis_watch *w) __attribute__((warn_unused_result));

/* 1 when the last successful redis_watch_start saw notifications enabled in CONFIG, 0 when
 * it could not tell. */
int redis_watch_verified(const struct redis_watch *w);

/* The subscribed socket for poll() with POLLIN, or -1 when not connected. */
int redis_watch_fd(const struct redis_watch *w);

/* Reads everything pending without blocking (bounded per call; poll again for the rest) and
 * ORs the kinds seen into *events (untouched when none). Returns 0, or -1 when the connection
 * is lost or Redis sent something unexpected: the connection is then closed (redis_watch_fd
 * -1, reason in redis_watch_errstr) and the caller restarts later with backoff. */
int redis_watch_read(struct redis_watch *w, unsigned *events) __attribute__((warn_unused_result));

/* Closes the connection, if any. */
void redis_watch_close(struct redis_watch *w);

/* One line on the last start or read: the error, or why notifications are off or unverified;
 * "" when all is well. Points into w. */
const char *redis_watch_errstr(const struct redis_watch *w);

/* ---- pure helpers (unit-tested) ---- */

/* Writes "__keyspace@<db>__:<key>" into buf; 0, or -1 when it does not fit. */
int redis_watch_channel(char *buf, size_t len, unsigned db, const char *key) __attribute__((warn_unused_result));

/* 1 when a notify-keyspace-events value (as CONFIG GET prints it) sends keyspace events for
 * sorted sets: it holds 'K' and 'z' or 'A'. Else 0. */
int redis_watch_flags_ok(const char *flags) __attribute__((warn_unused_result));

/* Classifies one reply read in SUBSCRIBE mode for channel (chan_len bytes): a "message" on
 * channel ORs REDIS_WATCH_ZADD (event "zadd") or REDIS_WATCH_OTHER (any other event) into
 * *events; a "subscribe" confirmation or a message on another channel is ignored. Returns 0,
 * or -1 for anything else (an error reply, "unsubscribe", a malformed array). */
int redis_watch_parse(const struct redisReply *r, const char *channel, size_t chan_len, unsigned *events)
	__attribute__((warn_unused_result));

#endif
