/* Sentinel queries: one short-lived connection per question, so a sentinel that dies between
 * two questions costs nothing; the one that answered is asked first next time. */
#include "redis_sentinel.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct redis_sentinel {
	struct redis_sentinel_addr addr[REDIS_SENTINEL_MAX];
	size_t n;
	size_t first;                /* the sentinel that answered last */
	int told;                    /* the next redis_sentinel_aim keeps the address redis_sentinel_follow set */
	char *master;                /* own copy */
	struct redis_conn_opts opts; /* own copy; password: the sentinels' (NULL: none), no user, no db */
	char errstr[512];
};

/* A host as a sentinel list or a sentinel's message may name it: 1-255 name or address characters. */
static int redis_sentinel_host_ok(const char *h, size_t len)
{
	return len > 0 && len < sizeof(((struct redis_sentinel_addr *)0)->host) &&
	       strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:") >= len;
}

/* 1-65535 in decimal, no sign, no leading zero: the port, or 0. */
static unsigned redis_sentinel_port(const char *p, size_t len)
{
	if (len == 0 || len > 5 || p[0] == '0')
		return 0;
	unsigned v = 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	return v <= 65535 ? v : 0;
}

int redis_sentinel_parse_switch(const char *msg, size_t len, struct redis_sentinel_switch *out, char *err,
				size_t errlen)
{
	const char *f[5];
	size_t fl[5], n = 0, start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && msg[i] != ' ') {
			if ((unsigned char)msg[i] < 0x21 || (unsigned char)msg[i] > 0x7e) {
				snprintf(err, errlen, "+switch-master: byte 0x%02x at %zu is not printable",
					 (unsigned char)msg[i], i);
				return -1;
			}
			continue;
		}
		if (n == 5 || i == start) {
			snprintf(err, errlen,
				 "+switch-master: not \"<name> <old-ip> <old-port> <new-ip> <new-port>\" (%zu bytes)",
				 len);
			return -1;
		}
		f[n] = msg + start;
		fl[n++] = i - start;
		start = i + 1;
	}
	if (n != 5) {
		snprintf(err, errlen, "+switch-master: %zu field(s), not 5", n);
		return -1;
	}
	if (fl[0] >= sizeof(out->name)) {
		snprintf(err, errlen, "+switch-master: master name of %zu bytes", fl[0]);
		return -1;
	}
	struct redis_sentinel_addr *a[2] = {&out->from, &out->to};
	for (int k = 0; k < 2; k++) {
		const char *h = f[1 + 2 * k], *p = f[2 + 2 * k];
		size_t hl = fl[1 + 2 * k], pl = fl[2 + 2 * k];
		/* strspn would run past the field: check a copy */
		char host[sizeof(a[k]->host)];
		if (hl >= sizeof(host) || (memcpy(host, h, hl), host[hl] = '\0', !redis_sentinel_host_ok(host, hl))) {
			snprintf(err, errlen, "+switch-master: \"%.*s\" is not a host", (int)(hl > 64 ? 64 : hl), h);
			return -1;
		}
		if ((a[k]->port = redis_sentinel_port(p, pl)) == 0) {
			snprintf(err, errlen, "+switch-master: \"%.*s\" is not a port", (int)(pl > 16 ? 16 : pl), p);
			return -1;
		}
		memcpy(a[k]->host, host, hl + 1);
	}
	memcpy(out->name, f[0], fl[0]);
	out->name[fl[0]] = '\0';
	return 0;
}

static int redis_sentinel_one(const char *item, size_t len, struct redis_sentinel_addr *a)
{
	if (item == NULL || len == 0)
		return -1;
	const char *colon = memrchr(item, ':', len);
	if (colon == NULL)
		return -1;
	const char *h = item, *h_end = colon;
	if (h < h_end && h[0] == '[') {
		if (h_end - h < 3 || h_end[-1] != ']')
			return -1;
		h++;
		h_end--;
	} else if (memchr(h, ':', (size_t)(h_end - h)) != NULL) {
		return -1; /* an IPv6 address needs its brackets */
	}
	size_t hl = (size_t)(h_end - h), pl = (size_t)(item + len - colon - 1);
	char port[8];
	if (hl == 0 || hl >= sizeof(a->host) || pl == 0 || pl >= sizeof(port))
		return -1;
	memcpy(port, colon + 1, pl);
	port[pl] = '\0';
	if (strspn(port, "0123456789") != pl || atoi(port) < 1 || atoi(port) > 65535)
		return -1;
	memcpy(a->host, h, hl);
	a->host[hl] = '\0';
	if (strspn(a->host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:") != hl)
		return -1;
	a->port = (unsigned)atoi(port);
	return 0;
}

int redis_sentinel_parse(const char *list, struct redis_sentinel_addr *out, size_t max, size_t *n, char *err,
			 size_t errlen)
{
	*n = 0;
	for (const char *p = list;; p++) {
		size_t len = strcspn(p, ",");
		if (*n == max) {
			snprintf(err, errlen, "more than %zu sentinels", max);
			return -1;
		}
		if (redis_sentinel_one(p, len, &out[*n]) == -1) {
			snprintf(err, errlen, "\"%.*s\" is not host:port", (int)(len > 64 ? 64 : len), p);
			return -1;
		}
		(*n)++;
		p += len;
		if (*p == '\0')
			return 0;
	}
}

struct redis_sentinel *redis_sentinel_new(const struct redis_sentinel_addr *v, size_t n, const char *master,
					  const char *password, const struct redis_conn_opts *opts)
{
	struct redis_sentinel *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->n = n < REDIS_SENTINEL_MAX ? n : REDIS_SENTINEL_MAX;
	if (s->n > 0) /* v may be NULL with n 0: memcpy's arguments must not be */
		memcpy(s->addr, v, s->n * sizeof(*v));
	struct redis_conn_opts o = *opts;
	o.user = NULL;
	o.password = password;
	o.db = 0;
	s->master = strdup(master);
	if (s->master == NULL || redis_conn_opts_copy(&s->opts, &o) == -1) {
		redis_sentinel_free(s);
		return NULL;
	}
	return s;
}

void redis_sentinel_free(struct redis_sentinel *s)
{
	if (s == NULL)
		return;
	free(s->master);
	redis_conn_opts_clear(&s->opts);
	free(s);
}

const char *redis_sentinel_errstr(const struct redis_sentinel *s) { return s->errstr; }

const char *redis_sentinel_name(const struct redis_sentinel *s) { return s->master; }

/* Asks one sentinel. 0 with the address, -1 with the reason in why. */
static int redis_sentinel_ask(struct redis_sentinel *s, const struct redis_sentinel_addr *a, char *host, size_t hostlen,
			      unsigned *port, char *why, size_t whylen)
{
	struct redis_conn_opts o = s->opts;
	o.host = a->host;
	o.port = a->port;
	struct redis_conn *c = redis_conn_new(&o);
	redisReply *r = NULL;
	int rc = -1;
	if (c == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	const char *password = s->opts.password;
	const char *auth[] = {"AUTH", password};
	const char *ask[] = {"SENTINEL", "get-master-addr-by-name", s->master};
	if (redis_conn_connect(c) == -1 || (password != NULL && ((r = redis_conn_command(c, 2, auth, NULL)) == NULL ||
								 r->type == REDIS_REPLY_ERROR))) {
		if (r != NULL)
			snprintf(why, whylen, "%s:%u: AUTH: %.100s", a->host, a->port, r->str);
		else
			snprintf(why, whylen, "%s", redis_conn_errstr(c));
		goto done;
	}
	freeReplyObject(r);
	if ((r = redis_conn_command(c, 3, ask, NULL)) == NULL) {
		snprintf(why, whylen, "%s", redis_conn_errstr(c));
	} else if (r->type == REDIS_REPLY_NIL) {
		snprintf(why, whylen, "%s:%u does not know a master called \"%.64s\"", a->host, a->port, s->master);
	} else if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
		   r->element[1]->type != REDIS_REPLY_STRING || r->element[0]->len >= hostlen ||
		   atoi(r->element[1]->str) < 1 || atoi(r->element[1]->str) > 65535) {
		snprintf(why, whylen, "%s:%u: unexpected answer%s%.100s", a->host, a->port,
			 r->type == REDIS_REPLY_ERROR ? ": " : "", r->type == REDIS_REPLY_ERROR ? r->str : "");
	} else {
		memcpy(host, r->element[0]->str, r->element[0]->len);
		host[r->element[0]->len] = '\0';
		*port = (unsigned)atoi(r->element[1]->str);
		rc = 0;
	}
done:
	freeReplyObject(r);
	redis_conn_free(c);
	return rc;
}

int redis_sentinel_master(struct redis_sentinel *s, char *host, size_t hostlen, unsigned *port)
{
	size_t used = 0;
	s->errstr[0] = '\0';
	for (size_t k = 0; k < s->n; k++) {
		size_t i = (s->first + k) % s->n;
		char why[200];
		if (redis_sentinel_ask(s, &s->addr[i], host, hostlen, port, why, sizeof(why)) == 0) {
			s->first = i;
			s->errstr[0] = '\0';
			return 0;
		}
		int w = snprintf(s->errstr + used, sizeof(s->errstr) - used, "%s%s", k ? "; " : "", why);
		if (w > 0 && (size_t)w < sizeof(s->errstr) - used)
			used += (size_t)w;
	}
	return -1;
}

int redis_sentinel_aim(struct redis_sentinel *s, struct redis_conn *conn)
{
	if (s == NULL)
		return 0;
	int told = s->told;
	s->told = 0;
	if (told)
		return 0;
	char host[256];
	unsigned port;
	if (redis_sentinel_master(s, host, sizeof(host), &port) == -1)
		return -1;
	return redis_conn_set_addr(conn, host, port) == 0 ? 0 : -2;
}

int redis_sentinel_follow(struct redis_sentinel *s, struct redis_conn *conn, const char *host, unsigned port)
{
	int rc = redis_conn_set_addr(conn, host, port);
	if (s != NULL)
		s->told = rc == 0;
	return rc;
}
