/* One scrape: reads HAProxy's read-only stats socket, the controller's status file and the
 * served certificate file, keeps the counters monotonic and renders the page. The I/O edge of
 * the bridge. */
#ifndef MCS_BRIDGE_SCRAPE_H
#define MCS_BRIDGE_SCRAPE_H

#include <stddef.h>

struct bridge_scrape;

struct bridge_scrape_opts {
	const char *stats_socket;    /* HAProxy's `level user` socket (copied) */
	const char *controller_json; /* the controller's status file (copied) */
	const char *frontend;        /* the TLS frontend's name (copied) */
	const char *backend;         /* the chat backend's name (copied) */
	unsigned timeout_ms;         /* per command sent to HAProxy (five per scrape) */
	unsigned long stale_s;       /* an older status file means the controller is not up */
	unsigned long forget_s;      /* counter offsets of a node gone this long are dropped */
	const char *cert_file;       /* the served certificate (PEM, leaf first; copied), NULL: none */
	const char *version;         /* the gateway's version, for lb_build_info (copied) */
	const char *openssl_version; /* for lb_build_info (copied) */
};

/* Creates the scraper; does not connect yet. Returns NULL on OOM or bad options. Free with
 * bridge_scrape_free. */
struct bridge_scrape *bridge_scrape_new(const struct bridge_scrape_opts *opts);

/* Closes the stats connection and frees s. NULL is a no-op. */
void bridge_scrape_free(struct bridge_scrape *s);

/* A bridge_http_page_fn: ctx is a struct bridge_scrape. Produces the page (*body malloc'd,
 * caller frees). Returns 0, or -1 only when out of memory: HAProxy or the controller being
 * unreachable is part of the page. Serialised by a mutex. */
int bridge_scrape_page(void *ctx, char **body, size_t *len) __attribute__((warn_unused_result));

#endif
