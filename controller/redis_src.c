/* Redis polling: TIME, then the members heartbeated within the TTL, each one validated. */
#include "redis_src.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_conn.h"
#include "redis_sentinel.h"
#include "vec.h"

#define NODE_LIST_MAX_REJECTS 64

struct redis_src {
	char *key;
	struct redis_conn *conn;         /* holds the settings: AUTH and SELECT read them there */
	struct redis_sentinel *sentinel; /* NULL: the settings' host is the server */
	long long last_count;            /* members the last poll read */
	long long next_expiry_ms;        /* see redis_src_next_expiry_ms */
	enum redis_src_err err;
	char errstr[192];
};

__attribute__((format(printf, 3, 4))) static void redis_src_fail(struct redis_src *s, enum redis_src_err err,
								 const char *fmt, ...)
{
	s->err = err;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->errstr, sizeof(s->errstr), fmt, ap);
	va_end(ap);
	if (err == REDIS_SRC_IO)
		redis_conn_close(s->conn);
}

struct redis_src *redis_src_new(const struct redis_conn_opts *opts, const char *key, struct redis_sentinel *sentinel)
{
	struct redis_src *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		redis_sentinel_free(sentinel);
		return NULL;
	}
	s->sentinel = sentinel;
	s->key = strdup(key);
	s->next_expiry_ms = -1;
	s->conn = redis_conn_new(opts);
	if (s->key == NULL || s->conn == NULL) {
		redis_src_free(s);
		return NULL;
	}
	return s;
}

void redis_src_free(struct redis_src *s)
{
	if (s == NULL)
		return;
	redis_conn_free(s->conn);
	redis_sentinel_free(s->sentinel);
	free(s->key);
	free(s);
}

enum redis_src_err redis_src_err(const struct redis_src *s) { return s->err; }

const char *redis_src_errstr(const struct redis_src *s) { return s->errstr; }

/* Runs a command and checks the reply kind. Returns the reply (caller frees) or NULL. */
static redisReply *redis_src_call(struct redis_src *s, int want_type, const char *what, int argc, const char **argv)
{
	redisReply *r = redis_conn_command(s->conn, argc, argv, NULL);
	if (r == NULL) {
		redis_src_fail(s, redis_conn_err(s->conn) == REDIS_CONN_OOM ? REDIS_SRC_OOM : REDIS_SRC_IO, "%s",
			       redis_conn_errstr(s->conn));
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		redis_src_fail(s, REDIS_SRC_REPLY, "%s: %.120s", what, r->str);
		freeReplyObject(r);
		return NULL;
	}
	if (r->type != want_type) {
		redis_src_fail(s, REDIS_SRC_PROTOCOL, "%s: unexpected reply type", what);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/* Sentinel mode: the server must still be the master (a demoted one keeps serving reads). */
static int redis_src_check_role(struct redis_src *s)
{
	const char *argv[] = {"ROLE"};
	redisReply *r = redis_src_call(s, REDIS_REPLY_ARRAY, "ROLE", 1, argv);
	if (r == NULL)
		return -1;
	const redisReply *role = r->elements > 0 ? r->element[0] : NULL;
	int master = role != NULL && role->type == REDIS_REPLY_STRING && strcmp(role->str, "master") == 0;
	if (!master) {
		char addr[300];
		redis_conn_addr(s->conn, addr, sizeof(addr));
		redis_src_fail(s, REDIS_SRC_IO,
			       "%s is not the master of \"%.64s\" (ROLE %.16s): asking the sentinels again", addr,
			       redis_sentinel_name(s->sentinel),
			       role != NULL && role->type == REDIS_REPLY_STRING ? role->str : "?");
	}
	freeReplyObject(r);
	return master ? 0 : -1;
}

int redis_src_follow(struct redis_src *s, const char *host, unsigned port)
{
	return redis_sentinel_follow(s->sentinel, s->conn, host, port);
}

static int redis_src_connect(struct redis_src *s)
{
	int aimed = redis_sentinel_aim(s->sentinel, s->conn);
	if (aimed != 0) {
		if (aimed == -1)
			redis_src_fail(s, REDIS_SRC_IO, "sentinels: %s", redis_sentinel_errstr(s->sentinel));
		else
			redis_src_fail(s, REDIS_SRC_OOM, "out of memory");
		return -1;
	}
	if (redis_conn_connect(s->conn) == -1) {
		redis_src_fail(s, REDIS_SRC_IO, "%s", redis_conn_errstr(s->conn));
		return -1;
	}
	redisReply *r = NULL;
	const struct redis_conn_opts *o = redis_conn_get_opts(s->conn);
	if (o->password != NULL) {
		const char *argv[] = {"AUTH", o->user ? o->user : o->password, o->password};
		r = redis_src_call(s, REDIS_REPLY_STATUS, "AUTH", o->user ? 3 : 2, argv);
		if (r == NULL)
			goto fail;
		freeReplyObject(r);
	}
	if (o->db != 0) {
		char db[16];
		snprintf(db, sizeof(db), "%u", o->db);
		const char *argv[] = {"SELECT", db};
		r = redis_src_call(s, REDIS_REPLY_STATUS, "SELECT", 2, argv);
		if (r == NULL)
			goto fail;
		freeReplyObject(r);
	}
	if (s->sentinel != NULL && redis_src_check_role(s) == -1)
		goto fail;
	return 0;
fail:
	/* A refused AUTH or SELECT must not leave a half-usable connection behind. */
	redis_conn_close(s->conn);
	return -1;
}

/* Redis TIME as seconds with microseconds. */
static int redis_src_time(struct redis_src *s, double *now)
{
	const char *argv[] = {"TIME"};
	redisReply *r = redis_src_call(s, REDIS_REPLY_ARRAY, "TIME", 1, argv);
	if (r == NULL)
		return -1;
	if (r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_STRING) {
		freeReplyObject(r);
		redis_src_fail(s, REDIS_SRC_PROTOCOL, "TIME: reply is not [seconds, microseconds]");
		return -1;
	}
	*now = strtod(r->element[0]->str, NULL) + strtod(r->element[1]->str, NULL) / 1e6;
	freeReplyObject(r);
	return 0;
}

/* Validates one member and its score and files it as a node or a reject. */
static int redis_src_take(const redisReply *member, const redisReply *score, double now, unsigned max_future_ms,
			  struct node_list *out, double *oldest)
{
	if (member->type != REDIS_REPLY_STRING || score->type != REDIS_REPLY_STRING)
		return node_list_reject(out, "", 0, "member or score is not a string");
	char why[96];
	struct node_addr node;
	if (member_parse(member->str, member->len, &node, why, sizeof(why)) == -1)
		return node_list_reject(out, member->str, member->len, why);
	char *end;
	errno = 0;
	double value = strtod(score->str, &end);
	if (*end != '\0' || errno == ERANGE || !isfinite(value))
		return node_list_reject(out, member->str, member->len, "score is not a finite number");
	if (value > now + max_future_ms / 1000.0) {
		snprintf(why, sizeof(why), "score is %.0f s ahead of Redis TIME", value - now);
		return node_list_reject(out, member->str, member->len, why);
	}
	if (value < *oldest)
		*oldest = value;
	return node_list_add(out, &node);
}

int redis_src_poll(struct redis_src *s, unsigned ttl_ms, unsigned max_future_ms, size_t max_nodes,
		   struct node_list *out)
{
	node_list_clear(out);
	s->err = REDIS_SRC_OK;
	s->errstr[0] = '\0';
	double now;
	int fresh = !redis_conn_ready(s->conn);
	if (fresh && redis_src_connect(s) == -1)
		return -1;
	/* The poll is the safety net of a failover: a connection kept to a demoted master is dropped. */
	if (s->sentinel != NULL && !fresh && redis_src_check_role(s) == -1)
		return -1;
	if (redis_src_time(s, &now) == -1)
		return -1;
	char min[48], limit[24];
	/* Exclusive bound: a score exactly TTL old is stale. Newest first, so LIMIT keeps the freshest. */
	snprintf(min, sizeof(min), "(%.6f", now - ttl_ms / 1000.0);
	snprintf(limit, sizeof(limit), "%zu", max_nodes);
	const char *argv[] = {"ZREVRANGEBYSCORE", s->key, "+inf", min, "WITHSCORES", "LIMIT", "0", limit};
	redisReply *r = redis_src_call(s, REDIS_REPLY_ARRAY, "ZREVRANGEBYSCORE", 8, argv);
	if (r == NULL)
		return -1;
	int rc = 0;
	double oldest = INFINITY;
	s->last_count = (long long)(r->elements / 2);
	for (size_t i = 0; i + 1 < r->elements && rc == 0; i += 2)
		rc = redis_src_take(r->element[i], r->element[i + 1], now, max_future_ms, out, &oldest);
	/* The oldest heartbeat read expires first; the exclusive bound makes it stale at exactly TTL. */
	s->next_expiry_ms = isfinite(oldest) ? (long long)ceil((oldest - now) * 1000.0 + ttl_ms) : -1;
	if (s->next_expiry_ms < -1)
		s->next_expiry_ms = 0;
	freeReplyObject(r);
	if (rc == -1) {
		node_list_clear(out);
		redis_src_fail(s, REDIS_SRC_OOM, "out of memory");
		return -1;
	}
	node_list_sort_unique(out);
	return 0;
}

int redis_src_count_live(struct redis_src *s, unsigned ttl_ms, long long *count)
{
	double now;
	if ((!redis_conn_ready(s->conn) && redis_src_connect(s) == -1) || redis_src_time(s, &now) == -1)
		return -1;
	char min[48];
	snprintf(min, sizeof(min), "(%.6f", now - ttl_ms / 1000.0);
	const char *argv[] = {"ZCOUNT", s->key, min, "+inf"};
	redisReply *r = redis_src_call(s, REDIS_REPLY_INTEGER, "ZCOUNT", 4, argv);
	if (r == NULL)
		return -1;
	*count = r->integer;
	freeReplyObject(r);
	return 0;
}

long long redis_src_last_count(const struct redis_src *s) { return s->last_count; }

long long redis_src_next_expiry_ms(const struct redis_src *s) { return s->next_expiry_ms; }

/* Files one hash field as an override (returns 1) or as a reject naming what was wrong (0). */
static int redis_src_take_override(const redisReply *field, const redisReply *value, struct node_override *o,
				   struct node_list *rejects)
{
	char why[96];
	struct node_addr node;
	if (field->type != REDIS_REPLY_STRING || value->type != REDIS_REPLY_STRING) {
		node_list_reject(rejects, "", 0, "override field or value is not a string");
		return 0;
	}
	if (member_parse(field->str, field->len, &node, why, sizeof(why)) == -1) {
		node_list_reject(rejects, field->str, field->len, why);
		return 0;
	}
	if (value->len >= sizeof(o->value) || memchr(value->str, '\0', value->len) != NULL) {
		node_list_reject(rejects, field->str, field->len, "override value is longer than 7 bytes");
		return 0;
	}
	snprintf(o->name, sizeof(o->name), "%s", node.name);
	memcpy(o->value, value->str, value->len);
	o->value[value->len] = '\0';
	return 1;
}

int redis_src_read_overrides(struct redis_src *s, const char *key, size_t max, struct node_override **out, size_t *n,
			     struct node_list *rejects)
{
	*out = NULL;
	*n = 0;
	if (!redis_conn_ready(s->conn) && redis_src_connect(s) == -1)
		return -1;
	const char *argv[] = {"HGETALL", key};
	redisReply *r = redis_src_call(s, REDIS_REPLY_ARRAY, "HGETALL", 2, argv);
	if (r == NULL)
		return -1;
	size_t fields = r->elements / 2 < max ? r->elements / 2 : max;
	struct node_override *v = fields ? calloc(fields, sizeof(*v)) : NULL;
	if (fields && v == NULL) {
		freeReplyObject(r);
		redis_src_fail(s, REDIS_SRC_OOM, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < fields; i++)
		if (redis_src_take_override(r->element[2 * i], r->element[2 * i + 1], &v[*n], rejects) == 1)
			(*n)++;
	freeReplyObject(r);
	*out = v;
	return 0;
}

void node_list_clear(struct node_list *l)
{
	free(l->nodes);
	free(l->rejects);
	memset(l, 0, sizeof(*l));
}

int node_list_add(struct node_list *l, const struct node_addr *n)
{
	struct node_addr *grown = vec_grow(l->nodes, &l->cap_nodes, l->n_nodes, sizeof(*grown), 64);
	if (grown == NULL)
		return -1;
	l->nodes = grown;
	l->nodes[l->n_nodes++] = *n;
	return 0;
}

static int node_addr_cmp(const void *a, const void *b)
{
	return strcmp(((const struct node_addr *)a)->name, ((const struct node_addr *)b)->name);
}

void node_list_sort_unique(struct node_list *l)
{
	if (l->n_nodes == 0)
		return;
	qsort(l->nodes, l->n_nodes, sizeof(*l->nodes), node_addr_cmp);
	size_t kept = 1;
	for (size_t i = 1; i < l->n_nodes; i++) {
		if (strcmp(l->nodes[i].name, l->nodes[kept - 1].name) != 0)
			l->nodes[kept++] = l->nodes[i];
	}
	l->n_nodes = kept;
}

int node_list_reject(struct node_list *l, const char *text, size_t len, const char *why)
{
	l->n_total_rejects++;
	if (l->n_rejects == NODE_LIST_MAX_REJECTS)
		return 0;
	if (l->rejects == NULL) {
		l->rejects = calloc(NODE_LIST_MAX_REJECTS, sizeof(*l->rejects));
		if (l->rejects == NULL)
			return 0; /* losing a log line is better than losing the poll */
		l->cap_rejects = NODE_LIST_MAX_REJECTS;
	}
	struct member_reject *r = &l->rejects[l->n_rejects++];
	member_quote(text, len, r->text, sizeof(r->text));
	snprintf(r->why, sizeof(r->why), "%.95s", why); /* bounded read: why need not end in reach */
	return 0;
}
