/* The bridge's HTTP side (libmicrohttpd): GET /metrics only, 404 for another path, 405 for
 * another method, slow or oversized requests cut off. Knows nothing of HAProxy: the page
 * comes from a callback. */
#ifndef MCS_BRIDGE_HTTP_H
#define MCS_BRIDGE_HTTP_H

#include <stddef.h>

struct bridge_http;

/* Produces one /metrics page: returns 0 with *body malloc'd (handed to the HTTP library, which
 * frees it) and its length in *len, or -1 for a 500 answer. Called on the HTTP thread, one
 * call at a time. */
typedef int (*bridge_http_page_fn)(void *ctx, char **body, size_t *len);

struct bridge_http_opts {
	const char *bind_addr;    /* IPv4 or IPv6 literal; NULL or "" for every IPv4 address */
	unsigned port;            /* 0: any free port (see bridge_http_port) */
	unsigned timeout_s;       /* an idle or slow connection is closed after this */
	size_t request_max;       /* bytes of request line and headers accepted per connection */
	unsigned max_connections; /* connections served at once; more are refused */
};

/* Starts serving on its own thread. Returns the server (stop with bridge_http_stop), or NULL
 * with a one-line reason in err (bad address, port in use, ...). */
struct bridge_http *bridge_http_start(const struct bridge_http_opts *opts, bridge_http_page_fn page, void *ctx,
				      char *err, size_t errlen) __attribute__((warn_unused_result));

/* The port actually bound. */
unsigned bridge_http_port(const struct bridge_http *h);

/* Stops serving and frees h. NULL is a no-op. */
void bridge_http_stop(struct bridge_http *h);

#endif
