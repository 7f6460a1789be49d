/* Where the master is, as Redis Sentinel says: MCS_REDIS_SENTINELS parsed, each sentinel asked
 * `SENTINEL get-master-addr-by-name` in turn over a redis_conn (TLS when the data connection is). */
#ifndef MCS_REDIS_SENTINEL_H
#define MCS_REDIS_SENTINEL_H

#include <stddef.h>

#include "redis_conn.h"

#define REDIS_SENTINEL_MAX 16 /* sentinels in one list */

struct redis_sentinel_addr {
	char host[256]; /* name or IP literal, IPv6 without brackets */
	unsigned port;
};

/* Parses "host:port[,host:port...]" ([v6]:port for IPv6) into out (at most max). Returns 0 with
 * *n, or -1 with the reason in err. */
int redis_sentinel_parse(const char *list, struct redis_sentinel_addr *out, size_t max, size_t *n, char *err,
			 size_t errlen) __attribute__((warn_unused_result));

struct redis_sentinel;

/* A resolver for master on the n sentinels of v, connecting with opts (tls, files, timeout,
 * limits; host and port are the sentinels', its user, password and db are not used), AUTH with
 * password when not NULL. Everything is copied. NULL when out of memory. */
struct redis_sentinel *redis_sentinel_new(const struct redis_sentinel_addr *v, size_t n, const char *master,
					  const char *password, const struct redis_conn_opts *opts);

/* NULL is a no-op. */
void redis_sentinel_free(struct redis_sentinel *s);

/* Asks the sentinels in turn (the one that answered last first), each within opts.timeout_ms.
 * Returns 0 with the master's host (hostlen bytes) and port, or -1 with the reason of every
 * sentinel in redis_sentinel_errstr. */
int redis_sentinel_master(struct redis_sentinel *s, char *host, size_t hostlen, unsigned *port)
	__attribute__((warn_unused_result));

/* One line on the last failure; "" after success. Points into s. */
const char *redis_sentinel_errstr(const struct redis_sentinel *s);

/* The name of the master asked for. */
const char *redis_sentinel_name(const struct redis_sentinel *s);

/* Before a connect: points conn at the master the sentinels name now, unless
 * redis_sentinel_follow pointed it since the last call (that address is kept once). s NULL: a
 * no-op. Returns 0; -1 when no sentinel named the master (the reasons in
 * redis_sentinel_errstr); -2 when out of memory (conn closed). */
int redis_sentinel_aim(struct redis_sentinel *s, struct redis_conn *conn) __attribute__((warn_unused_result));

/* A sentinel announced a new master (+switch-master): conn is pointed at host:port and the next
 * redis_sentinel_aim keeps that address, as the other sentinels may not know the new master
 * yet. s NULL: conn is pointed only. 0, or -1 when out of memory (conn closed, the next aim
 * asks the sentinels). */
int redis_sentinel_follow(struct redis_sentinel *s, struct redis_conn *conn, const char *host, unsigned port)
	__attribute__((warn_unused_result));

/* A failover as a sentinel announces it on its `+switch-master` channel. */
struct redis_sentinel_switch {
	char name[128];                      /* the master's name in the sentinels' configuration */
	struct redis_sentinel_addr from, to; /* the old master, the new one */
};

/* Parses the payload of a `+switch-master` message, "<name> <old-ip> <old-port> <new-ip>
 * <new-port>" (untrusted: from the network): exactly five fields split by single spaces, a
 * printable name, hosts of name or address characters, ports 1-65535. Returns 0 with *out,
 * or -1 with the reason in err. */
int redis_sentinel_parse_switch(const char *msg, size_t len, struct redis_sentinel_switch *out, char *err,
				size_t errlen) __attribute__((warn_unused_result));

#endif
