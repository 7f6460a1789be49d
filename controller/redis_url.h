/* REDIS_URL parsing with libcurl's URL API: redis[s]://[user:password@]host[:port][/db]. */
#ifndef MCS_REDIS_URL_H
#define MCS_REDIS_URL_H

#include <stddef.h>

struct redis_url {
	char host[256]; /* hostname or IP literal, IPv6 without brackets */
	unsigned port;  /* default 6379 */
	char *user;     /* NULL when absent; malloc'd, freed by redis_url_clear */
	char *password; /* NULL when absent; malloc'd, freed by redis_url_clear */
	unsigned db;    /* SELECT index, default 0 */
	int tls;        /* 1 for rediss:// */
};

/* Parses url into out (zeroed first). Returns 0, or -1 with the reason in err; on -1 out
 * holds nothing to free. Percent-escapes in user and password are decoded. */
int redis_url_parse(const char *url, struct redis_url *out, char *err, size_t errlen)
	__attribute__((warn_unused_result));

struct redis_conn_opts;

/* Sets the server part of o from u: host, port, user, password, db and tls. The strings point
 * into u: o is a view for as long as u lives (redis_src_new and the like copy it). */
void redis_url_to_opts(const struct redis_url *u, struct redis_conn_opts *o);

/* Frees the strings of u and zeroes it; NULL is a no-op. */
void redis_url_clear(struct redis_url *u);

/* cfg check callback: 0 when url parses, else -1 with the reason. */
int redis_url_check(const char *url, char *err, size_t errlen);

/* cfg redact callback: url with the password replaced by "***". */
void redis_url_redact(const char *url, char *out, size_t outlen);

#endif
