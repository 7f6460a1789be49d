/* libmicrohttpd front of the bridge: one internal polling thread, so pages are produced one at
 * a time; MHD's connection timeout and memory limit cut slow and oversized requests. */
#include "bridge_http.h"

#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "log.h"

#define BH_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct bridge_http {
	struct MHD_Daemon *daemon;
	bridge_http_page_fn page;
	void *ctx;
	unsigned port;
};

/* Queues a fixed answer; body is static text. */
static enum MHD_Result bh_answer(struct MHD_Connection *conn, unsigned status, const char *body, const char *allow)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (allow != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	enum MHD_Result rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result bh_metrics(struct bridge_http *h, struct MHD_Connection *conn)
{
	char *body = NULL;
	size_t len = 0;
	if (h->page(h->ctx, &body, &len) == -1)
		return bh_answer(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "the bridge ran out of memory\n", NULL);
	/* MHD owns body from here, whatever happens. */
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, BH_CONTENT_TYPE);
	enum MHD_Result rc = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result bh_handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				 const char *version, const char *upload_data, size_t *upload_data_size, void **req)
{
	static int bh_seen; /* address only: marks a request whose headers were seen */
	struct bridge_http *h = cls;
	(void)version, (void)upload_data;
	/* First call: headers only. Answering now would make MHD close the connection, since a
	 * body might follow; the next call (upload done) answers and keeps it alive. */
	if (*req == NULL) {
		*req = &bh_seen;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		/* A body is never wanted: skip it (bounded by the memory limit and the timeout). */
		*upload_data_size = 0;
		return MHD_YES;
	}
	log_debug("http: %s %.200s", method, url);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return bh_answer(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n", "GET, HEAD");
	if (strcmp(url, "/metrics") != 0)
		return bh_answer(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n", NULL);
	return bh_metrics(h, conn);
}

static void bh_log(void *cls, const char *fmt, va_list ap)
{
	char line[256];
	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("http: %s", line);
}

struct bridge_http *bridge_http_start(const struct bridge_http_opts *opts, bridge_http_page_fn page, void *ctx,
				      char *err, size_t errlen)
{
	const char *addr = opts->bind_addr != NULL && opts->bind_addr[0] != '\0' ? opts->bind_addr : "0.0.0.0";
	struct sockaddr_storage sa;
	socklen_t salen;
	if (addr_parse(addr, opts->port, &sa, &salen) == -1) {
		snprintf(err, errlen, "\"%.64s\" is not an IPv4 or IPv6 address", addr);
		return NULL;
	}
	struct bridge_http *h = calloc(1, sizeof(*h));
	if (h == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->page = page;
	h->ctx = ctx;
	unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
			 (sa.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
	h->daemon = MHD_start_daemon(flags, (uint16_t)opts->port, NULL, NULL, bh_handle, h, MHD_OPTION_EXTERNAL_LOGGER,
				     bh_log, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)opts->timeout_s,
				     MHD_OPTION_CONNECTION_MEMORY_LIMIT, opts->request_max, MHD_OPTION_CONNECTION_LIMIT,
				     (unsigned int)opts->max_connections, MHD_OPTION_END);
	if (h->daemon == NULL) {
		snprintf(err, errlen, "cannot listen on %s port %u (in use, or not an address of this host)",
			 opts->bind_addr && opts->bind_addr[0] ? opts->bind_addr : "0.0.0.0", opts->port);
		free(h);
		return NULL;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info != NULL ? info->port : opts->port;
	return h;
}

unsigned bridge_http_port(const struct bridge_http *h) { return h->port; }

void bridge_http_stop(struct bridge_http *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->daemon);
	free(h);
}
