/* The source of truth for chat nodes: the Redis sorted set written by their heartbeats. */
#ifndef MCS_REDIS_SRC_H
#define MCS_REDIS_SRC_H

#include <stddef.h>

#include "member.h"

enum redis_src_err {
	REDIS_SRC_OK = 0,
	REDIS_SRC_IO,       /* cannot connect, connection lost, timeout */
	REDIS_SRC_REPLY,    /* Redis answered with an error (AUTH, WRONGTYPE, ...) */
	REDIS_SRC_PROTOCOL, /* a reply of an unexpected shape */
	REDIS_SRC_OOM,
};

struct member_reject {
	char text[80]; /* the member, quoted for a log line and truncated */
	char why[96];  /* what was wrong with it */
};

/* One poll's result: the live nodes (deduplicated) and the members refused. */
struct node_list {
	struct node_addr *nodes;
	size_t n_nodes, cap_nodes;
	struct member_reject *rejects;
	size_t n_rejects, cap_rejects;
	size_t n_total_rejects; /* all refused this poll, also beyond the rejects kept */
};

struct redis_src;
struct redis_conn_opts;

struct redis_sentinel;

/* Creates a source for key (copied) on the Redis server of opts (copied: address, AUTH user and
 * password, db, TLS, timeout, reply limits). Does not connect yet. With a sentinel (s takes it
 * and frees it, on failure too; NULL: the server of opts), s finds its server through Sentinel:
 * every connect asks the sentinels for the master, and ROLE must say master at connect and at
 * every poll, or the connection is dropped (REDIS_SRC_IO) and the next poll asks again.
 * Returns NULL when out of memory. */
struct redis_src *redis_src_new(const struct redis_conn_opts *opts, const char *key, struct redis_sentinel *sentinel);

/* Closes the connection and frees s; NULL is a no-op. */
void redis_src_free(struct redis_src *s);

/* A sentinel announced a new master: closes the connection, and the next connect goes to
 * host:port without asking (ROLE still checked; a later one asks again). 0, or -1 when out of
 * memory (closed: the next connect asks the sentinels). */
int redis_src_follow(struct redis_src *s, const char *host, unsigned port) __attribute__((warn_unused_result));

/* Reads the members whose score is newer than Redis TIME - ttl_ms into out (emptied first).
 * A score more than max_future_ms ahead of Redis TIME is refused, so a node with a broken
 * clock cannot stay registered forever. At most max_nodes are kept (the freshest).
 * Connects (AUTH, SELECT) when needed. Returns 0, or -1 with redis_src_err/errstr set and
 * out untouched beyond emptying; the connection is dropped after an IO error. */
int redis_src_poll(struct redis_src *s, unsigned ttl_ms, unsigned max_future_ms, size_t max_nodes,
		   struct node_list *out) __attribute__((warn_unused_result));

/* Counts the members heartbeated within ttl_ms (TIME + ZCOUNT, both O(log n)): a cheap test
 * of whether a keyspace notification brought a node that was not live before. Returns 0 with
 * *count, or -1 like redis_src_poll. */
int redis_src_count_live(struct redis_src *s, unsigned ttl_ms, long long *count) __attribute__((warn_unused_result));

/* Members the last successful poll read (valid or not): what redis_src_count_live would say. */
long long redis_src_last_count(const struct redis_src *s);

/* Milliseconds from the last successful poll until its oldest live member turns stale (its
 * heartbeat older than the TTL), or -1 when it read none: a step then makes the node's
 * departure seen at once instead of up to one poll later. */
long long redis_src_next_expiry_ms(const struct redis_src *s);

/* An operator's or node's override of the agent's answer, from the hash `<key>` (field: the
 * member, value: "drain", "maint" or "NN%"). */
struct node_override {
	char name[MCS_SERVER_NAME_MAX]; /* canonical server name of the member */
	char value[8];                  /* the value as read: validated by the caller (agent_override_parse) */
};

/* Reads every field of hash key (HGETALL, at most max fields) into *out (malloc'd, caller
 * frees; NULL when none). Fields that are not members and values longer than 7 bytes are
 * recorded in rejects (node_list_reject). A missing key is no override at all. Returns 0,
 * or -1 like redis_src_poll (a wrong type is REDIS_SRC_REPLY). */
int redis_src_read_overrides(struct redis_src *s, const char *key, size_t max, struct node_override **out, size_t *n,
			     struct node_list *rejects) __attribute__((warn_unused_result));

enum redis_src_err redis_src_err(const struct redis_src *s);
const char *redis_src_errstr(const struct redis_src *s);

/* Frees the arrays of a node list; the struct may be reused afterwards. */
void node_list_clear(struct node_list *l);

/* Appends a node (duplicates are removed by node_list_sort_unique); 0, or -1 when out of memory. */
int node_list_add(struct node_list *l, const struct node_addr *n) __attribute__((warn_unused_result));

/* Sorts the nodes by name and drops repeated names (two spellings of one IPv6 address). */
void node_list_sort_unique(struct node_list *l);

/* Records a refused member (kept for the first 64 of a poll, all counted). 0, or -1 when out of memory. */
int node_list_reject(struct node_list *l, const char *text, size_t len, const char *why);

#endif
