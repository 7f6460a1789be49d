/* mcs-lb-demo-node: a stand-in chat node. Greets each TCP client with "HELLO <ip:port>", echoes
 * what it receives, and (with --redis-url) heartbeats into the node set like the real chat
 * service. One poll() loop for the clients and the Redis link: a slow Redis never stalls echo. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <hiredis/hiredis.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "proxy_v2.h"
#include "redis_conn.h"
#include "redis_sentinel.h"

#define PROGRAM "mcs-lb-demo-node"
#define DEMO_CONN_BUF 4096 /* per-client echo buffer, bytes */
#define DEMO_NAME_MAX 64   /* "[IPv6]:port" text */
#define DEMO_HB_MIN_MS 100
#define DEMO_HB_MAX_MS 3600000
#define DEMO_HB_MAX_PENDING 3        /* unanswered ZADDs before the link is considered dead */
#define DEMO_SENTINEL_TIMEOUT_MS 200 /* per sentinel: the blocking question stalls the echo at most this */
#define DEMO_ACCEPT_PAUSE_MS 100     /* after EMFILE/ENFILE: let clients leave first */

struct demo_opts {
	struct sockaddr_storage listen; /* where to listen (port may be 0) */
	socklen_t listen_len;
	char advertise[DEMO_NAME_MAX]; /* "" when not given */
	struct redis_conn_opts redis;  /* host NULL without --redis-url; a copy (redis_conn_opts_clear):
					* the URL's parts, TLS settings from MCS_REDIS_* in the environment */
	const char *key;               /* sorted set, points into argv or a literal */
	unsigned heartbeat_ms;
	int proxy_v2; /* --proxy-v2: every connection starts with a PROXY v2 header */
};

struct demo_conn {
	int fd;
	int eof;        /* the client closed its side: flush, then close */
	int proxy_wait; /* --proxy-v2: buf holds the header so far; no greeting, no echo yet */
	size_t len;     /* bytes waiting in buf to be echoed */
	char buf[DEMO_CONN_BUF];
};

enum hb_state { HB_IDLE, HB_CONNECTING, HB_READY };

/* The heartbeat link: a non-blocking Redis connection driven by the main poll loop. */
struct demo_hb {
	struct redis_conn *ctx; /* NULL while disconnected */
	enum hb_state state;
	int write_pending;      /* obuf holds bytes not yet written */
	unsigned pending;       /* replies expected */
	uint64_t next_ms;       /* next heartbeat, monotonic */
	uint64_t connect_start; /* when the current connect began */
	char last_error[160];   /* "" while healthy: errors are logged once per change */
};

struct demo {
	struct demo_opts o;
	char name[DEMO_NAME_MAX]; /* advertised ip:port, the greeting and the member */
	int lfd;
	uint64_t accept_paused_until;
	struct demo_conn **conns;
	size_t n_conns, cap_conns;
	struct pollfd *pfds;
	size_t cap_pfds;
	struct demo_hb hb;
	struct redis_sentinel *sentinel; /* MCS_REDIS_SENTINELS set: each connect asks it for the master */
};

static volatile sig_atomic_t demo_stop;

static void demo_on_signal(int sig) { demo_stop = sig; }

static uint64_t demo_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void demo_usage(FILE *out)
{
	fprintf(out, "usage: " PROGRAM " --listen IP:PORT [--redis-url redis[s]://[user:pass@]host[:port][/db]]\n"
		     "       [--key mcs:node] [--heartbeat-ms 2000] [--advertise IP:PORT] [--proxy-v2] | --version\n"
		     "A demo chat node: greets each TCP client with \"HELLO <ip:port>\" and echoes its bytes.\n"
		     "With --proxy-v2 every connection must start with a PROXY protocol v2 header (HAProxy's\n"
		     "send-proxy-v2) and the greeting names the client: \"HELLO <ip:port> for <client ip:port>\".\n"
		     "With --redis-url it runs ZADD <key> <unix seconds> <ip:port> every heartbeat; rediss://\n"
		     "verifies the server with MCS_REDIS_CA_FILE, MCS_REDIS_TLS_SERVER_NAME and presents\n"
		     "MCS_REDIS_CERT_FILE/MCS_REDIS_KEY_FILE when set, as the controller does. With\n"
		     "MCS_REDIS_SENTINELS (and MCS_REDIS_SENTINEL_MASTER, MCS_REDIS_SENTINEL_PASSWORD) each\n"
		     "connect asks the sentinels for the master; --redis-url gives scheme, credentials, db.\n"
		     "IP is IPv4 or [IPv6]; --listen IP:0 picks a free port. The first stdout line is\n"
		     "\"listening on IP:PORT\". SIGTERM/SIGINT exit 0.\n");
}

/* Parses an unsigned decimal without sign, spaces or overflow. */
static int demo_parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Parses "a.b.c.d:port" or "[v6]:port" (numeric only). Returns 0, or -1 with the reason. */
static int demo_parse_addr(const char *text, unsigned min_port, struct sockaddr_storage *ss, socklen_t *len, char *err,
			   size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(text, ':');
	unsigned long port;
	size_t hl = colon ? (size_t)(colon - text) : 0;
	if (colon == NULL || hl == 0 || hl >= sizeof(host)) {
		snprintf(err, errlen, "\"%.64s\" is not IP:PORT", text);
		return -1;
	}
	if (demo_parse_uint(colon + 1, 65535, &port) == -1 || port < min_port) {
		snprintf(err, errlen, "\"%.64s\": port must be a number from %u to 65535", text, min_port);
		return -1;
	}
	memcpy(host, text, hl);
	host[hl] = '\0';
	/* IPv6 in brackets, IPv4 without: a bare "::1:80" would be ambiguous. */
	int bracketed = host[0] == '[' && host[hl - 1] == ']';
	if (bracketed)
		host[hl - 1] = '\0';
	if (addr_parse(host + bracketed, (unsigned)port, ss, len) == 0 &&
	    ss->ss_family == (bracketed ? AF_INET6 : AF_INET))
		return 0;
	snprintf(err, errlen, "\"%.64s\": the address must be numeric IPv4 or [IPv6]", text);
	return -1;
}

/* Formats an address as "ip:port" or "[ip]:port". */
static void demo_format_addr(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(out, outlen, "[%s]:%u", ip, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(out, outlen, "%s:%u", ip, ntohs(s4->sin_port));
	}
}

/* Decodes %XX escapes of a URL part into a malloc'd string; NULL on a bad escape or OOM. */
static char *demo_url_decode(const char *s, size_t len)
{
	char *out = malloc(len + 1);
	size_t o = 0;
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned v;
		if (s[i] != '%') {
			out[o++] = s[i];
		} else if (i + 2 < len && isxdigit((unsigned char)s[i + 1]) && isxdigit((unsigned char)s[i + 2]) &&
			   sscanf(s + i + 1, "%2x", &v) == 1) {
			out[o++] = (char)v;
			i += 2;
		} else {
			free(out);
			return NULL;
		}
	}
	out[o] = '\0';
	return out;
}

/* Splits "user:pass@" off the authority. Returns 0, or -1 on a bad escape. */
static int demo_parse_userinfo(const char *ui, size_t len, struct demo_opts *o)
{
	const char *colon = memchr(ui, ':', len);
	size_t ul = colon ? (size_t)(colon - ui) : len;
	if (colon == NULL) /* redis://password@host, as redis-cli accepts */
		return (o->redis.password = demo_url_decode(ui, len)) ? 0 : -1;
	if (ul > 0 && (o->redis.user = demo_url_decode(ui, ul)) == NULL)
		return -1;
	return (o->redis.password = demo_url_decode(colon + 1, len - ul - 1)) ? 0 : -1;
}

/* Parses redis://[user:pass@]host[:port][/db]. Returns 0, or -1 with the reason. */
static int demo_parse_redis_url(const char *url, struct demo_opts *o, char *err, size_t errlen)
{
	static const char scheme[] = "redis://";
	const char *p = url + sizeof(scheme) - 1, *at, *end, *host_end, *port_at = NULL;
	unsigned long v;
	o->redis.tls = strncmp(url, "rediss://", 9) == 0;
	p += o->redis.tls;
	if (!o->redis.tls && strncmp(url, scheme, sizeof(scheme) - 1) != 0)
		goto bad;
	end = p + strcspn(p, "/?#");
	if (*end == '?' || *end == '#')
		goto bad;
	at = memrchr(p, '@', (size_t)(end - p));
	if (at != NULL) {
		if (demo_parse_userinfo(p, (size_t)(at - p), o) == -1)
			goto bad;
		p = at + 1;
	}
	if (*p == '[') {
		host_end = memchr(p, ']', (size_t)(end - p));
		if (host_end == NULL)
			goto bad;
		if (host_end + 1 < end && host_end[1] != ':')
			goto bad;
		port_at = host_end + 1 < end ? host_end + 2 : NULL;
		o->redis.host = strndup(p + 1, (size_t)(host_end - p - 1));
	} else {
		host_end = memchr(p, ':', (size_t)(end - p));
		port_at = host_end ? host_end + 1 : NULL;
		host_end = host_end ? host_end : end;
		o->redis.host = strndup(p, (size_t)(host_end - p));
	}
	if (o->redis.host == NULL || o->redis.host[0] == '\0')
		goto bad;
	o->redis.port = 6379;
	if (port_at != NULL) {
		char port[8];
		size_t pl = (size_t)(end - port_at);
		if (pl == 0 || pl >= sizeof(port))
			goto bad;
		memcpy(port, port_at, pl);
		port[pl] = '\0';
		if (demo_parse_uint(port, 65535, &v) == -1 || v == 0)
			goto bad;
		o->redis.port = (unsigned)v;
	}
	if (*end == '/' && end[1] != '\0') {
		if (demo_parse_uint(end + 1, 1000000, &v) == -1)
			goto bad;
		o->redis.db = (unsigned)v;
	}
	return 0;
bad:
	snprintf(err, errlen, "--redis-url: \"%.100s\" is not redis[s]://[user:password@]host[:port][/db]", url);
	return -1;
}

/* Fills o from the command line. Returns 0 to run, 1 for --help, 3 for --version, -1 with
 * the reason in err. */
static int demo_parse_args(int argc, char **argv, struct demo_opts *o, char *err, size_t errlen)
{
	static const struct option longopts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"redis-url", required_argument, NULL, 'r'},
		{"key", required_argument, NULL, 'k'},
		{"heartbeat-ms", required_argument, NULL, 'b'},
		{"advertise", required_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{"proxy-v2", no_argument, NULL, 'p'},
		{NULL, 0, NULL, 0},
	};
	int have_listen = 0, c;
	unsigned long v;
	struct sockaddr_storage adv;
	socklen_t adv_len;
	opterr = 0;
	o->key = "mcs:node";
	o->heartbeat_ms = 2000;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (demo_parse_addr(optarg, 0, &o->listen, &o->listen_len, err, errlen) == -1)
				return -1;
			have_listen = 1;
			break;
		case 'r':
			if (o->redis.host != NULL) {
				snprintf(err, errlen, "--redis-url given twice");
				return -1;
			}
			if (demo_parse_redis_url(optarg, o, err, errlen) == -1)
				return -1;
			break;
		case 'k':
			if (optarg[0] == '\0' || strlen(optarg) > 200) {
				snprintf(err, errlen, "--key must be 1 to 200 characters");
				return -1;
			}
			o->key = optarg;
			break;
		case 'b':
			if (demo_parse_uint(optarg, DEMO_HB_MAX_MS, &v) == -1 || v < DEMO_HB_MIN_MS) {
				snprintf(err, errlen,
					 "--heartbeat-ms: \"%.32s\" is not a number of milliseconds from %d to %d",
					 optarg, DEMO_HB_MIN_MS, DEMO_HB_MAX_MS);
				return -1;
			}
			o->heartbeat_ms = (unsigned)v;
			break;
		case 'a':
			if (demo_parse_addr(optarg, 1, &adv, &adv_len, err, errlen) == -1)
				return -1;
			demo_format_addr(&adv, o->advertise, sizeof(o->advertise));
			break;
		case 'p':
			o->proxy_v2 = 1;
			break;
		case 'h':
			return 1;
		case 'V':
			return 3;
		case ':':
			snprintf(err, errlen, "%s needs a value", argv[optind - 1]);
			return -1;
		default:
			snprintf(err, errlen, "unknown option %s", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument \"%.64s\"", argv[optind]);
		return -1;
	}
	if (!have_listen) {
		snprintf(err, errlen, "--listen IP:PORT is required");
		return -1;
	}
	const struct sockaddr_storage *l = &o->listen;
	int wildcard =
		(l->ss_family == AF_INET && ((const struct sockaddr_in *)l)->sin_addr.s_addr == htonl(INADDR_ANY)) ||
		(l->ss_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)l)->sin6_addr));
	if (o->redis.host != NULL && o->advertise[0] == '\0' && wildcard) {
		snprintf(err, errlen,
			 "--advertise IP:PORT is required with --redis-url when --listen is a wildcard address");
		return -1;
	}
	return 0;
}

static int demo_listen(struct demo *d, char *err, size_t errlen)
{
	struct sockaddr_storage bound = d->o.listen;
	d->lfd = addr_listen(&bound, d->o.listen_len, SOMAXCONN);
	if (d->lfd == -1) {
		char shown[DEMO_NAME_MAX];
		demo_format_addr(&d->o.listen, shown, sizeof(shown));
		snprintf(err, errlen, "cannot listen on %s: %s", shown, strerror(errno));
		return -1;
	}
	char listening[DEMO_NAME_MAX];
	demo_format_addr(&bound, listening, sizeof(listening));
	snprintf(d->name, sizeof(d->name), "%s", d->o.advertise[0] ? d->o.advertise : listening);
	printf("listening on %s\n", listening);
	fflush(stdout);
	return 0;
}

/* Raises the open-file limit so thousands of clients fit. */
static void demo_raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_debug("setrlimit NOFILE: %s", strerror(errno));
	}
}

/* ---- clients ---- */

static void demo_conn_close(struct demo *d, size_t i)
{
	close(d->conns[i]->fd);
	free(d->conns[i]);
	d->conns[i] = d->conns[--d->n_conns];
}

/* Writes what is buffered. Returns 0, or -1 when the client is gone. */
static int demo_conn_flush(struct demo_conn *c)
{
	while (c->len > 0) {
		ssize_t w = send(c->fd, c->buf, c->len, MSG_NOSIGNAL);
		if (w == -1)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
		memmove(c->buf, c->buf + w, c->len - (size_t)w);
		c->len -= (size_t)w;
	}
	return 0;
}

/* Reads what fits, echoes it. Returns 0, or -1 to close the client. */
static int demo_conn_io(struct demo_conn *c, short revents)
{
	if ((revents & (POLLIN | POLLHUP | POLLERR)) && !c->eof && c->len < sizeof(c->buf)) {
		ssize_t r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (r > 0)
			c->len += (size_t)r;
		else if (r == 0)
			c->eof = 1;
		else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -1;
	}
	if (demo_conn_flush(c) == -1)
		return -1;
	return c->eof && c->len == 0 ? -1 : 0;
}

/* Logs why a connection's PROXY v2 header was refused, naming the peer (HAProxy). */
static void demo_proxy_refuse(const struct demo_conn *c, const char *why)
{
	struct sockaddr_storage peer = {0};
	socklen_t len = sizeof(peer);
	char shown[DEMO_NAME_MAX] = "?";
	if (getpeername(c->fd, (struct sockaddr *)&peer, &len) == 0)
		demo_format_addr(&peer, shown, sizeof(shown));
	log_warn("connection from %s: %s; closed", shown, why);
}

/* --proxy-v2: reads the header and not a byte more (what follows is the client's, to echo),
 * then greets: with the client's address after a PROXY command, plainly after a LOCAL one
 * (HAProxy's health checks). Returns 0, or -1 to close the connection. */
static int demo_proxy_read(const struct demo *d, struct demo_conn *c)
{
	struct pp2_header h;
	char err[128], client[DEMO_NAME_MAX];
	enum pp2_result r;
	while ((r = pp2_parse((const unsigned char *)c->buf, c->len, &h, err, sizeof(err))) == PP2_MORE) {
		ssize_t got = read(c->fd, c->buf + c->len, h.len - c->len);
		if (got == -1)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
		if (got == 0) {
			if (c->len > 0)
				demo_proxy_refuse(c, "closed inside its PROXY v2 header");
			return -1;
		}
		c->len += (size_t)got;
	}
	if (r == PP2_BAD) {
		demo_proxy_refuse(c, err);
		return -1;
	}
	c->proxy_wait = 0;
	if (h.local) {
		c->len = (size_t)snprintf(c->buf, sizeof(c->buf), "HELLO %s\n", d->name);
	} else {
		demo_format_addr(&h.src, client, sizeof(client));
		c->len = (size_t)snprintf(c->buf, sizeof(c->buf), "HELLO %s for %s\n", d->name, client);
	}
	return demo_conn_flush(c);
}

static int demo_grow_conns(struct demo *d)
{
	size_t cap = d->cap_conns ? d->cap_conns * 2 : 64;
	struct demo_conn **v = realloc(d->conns, cap * sizeof(*v));
	if (v == NULL)
		return -1;
	d->conns = v;
	d->cap_conns = cap;
	return 0;
}

static void demo_accept(struct demo *d, uint64_t now)
{
	for (;;) {
		int fd = accept4(d->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				log_warn("accept: %s; pausing new clients for %d ms", strerror(errno),
					 DEMO_ACCEPT_PAUSE_MS);
				d->accept_paused_until = now + DEMO_ACCEPT_PAUSE_MS;
			}
			return; /* EAGAIN, or a client that left before we took it */
		}
		struct demo_conn *c = malloc(sizeof(*c));
		if (c == NULL || (d->n_conns == d->cap_conns && demo_grow_conns(d) == -1)) {
			free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->eof = 0;
		c->proxy_wait = d->o.proxy_v2;
		c->len = c->proxy_wait ? 0 : (size_t)snprintf(c->buf, sizeof(c->buf), "HELLO %s\n", d->name);
		d->conns[d->n_conns++] = c;
		if (demo_conn_flush(c) == -1)
			demo_conn_close(d, d->n_conns - 1);
	}
}

/* ---- heartbeat ---- */

/* Logs a heartbeat problem when it starts or changes, not at every beat. */
static void hb_note_error(struct demo *d, const char *what)
{
	if (strcmp(d->hb.last_error, what) != 0)
		log_warn("heartbeat to redis %s:%u: %s (retrying every %u ms)", d->o.redis.host, d->o.redis.port, what,
			 d->o.heartbeat_ms);
	snprintf(d->hb.last_error, sizeof(d->hb.last_error), "%s", what);
}

static void hb_note_ok(struct demo *d)
{
	if (d->hb.last_error[0] != '\0')
		log_info("heartbeat to redis %s:%u: working again", d->o.redis.host, d->o.redis.port);
	d->hb.last_error[0] = '\0';
}

/* Drops the link after an error; the next heartbeat reconnects. */
static void hb_fail(struct demo *d, const char *what)
{
	char msg[160];
	if (d->hb.ctx != NULL && redis_conn_errstr(d->hb.ctx)[0] != '\0')
		snprintf(msg, sizeof(msg), "%s: %s", what, redis_conn_errstr(d->hb.ctx));
	else
		snprintf(msg, sizeof(msg), "%s", what);
	hb_note_error(d, msg);
	redis_conn_free(d->hb.ctx);
	d->hb.ctx = NULL;
	d->hb.state = HB_IDLE;
	d->hb.pending = 0;
	d->hb.write_pending = 0;
}

static void hb_write(struct demo *d)
{
	int done = redis_conn_flush(d->hb.ctx);
	if (done == -1) {
		hb_fail(d, "write failed");
		return;
	}
	d->hb.write_pending = !done;
}

static void hb_read(struct demo *d)
{
	if (redis_conn_read(d->hb.ctx) == -1) {
		hb_fail(d, "connection lost");
		return;
	}
	for (;;) {
		redisReply *reply = NULL;
		if (redis_conn_reply(d->hb.ctx, &reply) == -1) {
			hb_fail(d, "bad reply");
			return;
		}
		if (reply == NULL)
			return;
		const redisReply *r = reply;
		if (d->hb.pending > 0)
			d->hb.pending--;
		if (r->type == REDIS_REPLY_ERROR) {
			char msg[160];
			snprintf(msg, sizeof(msg), "redis replied: %.120s", r->str);
			/* A demoted master refuses writes: ask the sentinels again. */
			int demoted = d->sentinel != NULL && strncmp(r->str, "READONLY", 8) == 0;
			freeReplyObject(reply);
			if (demoted) {
				hb_fail(d, msg);
				return;
			}
			hb_note_error(d, msg);
			continue;
		}
		hb_note_ok(d);
		freeReplyObject(reply);
	}
}

/* The environment's value of name, or NULL when unset or empty. */
static const char *demo_env(const char *name)
{
	const char *v = getenv(name);
	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* Completes o->redis, the URL's parts so far: the TLS settings of MCS_REDIS_* as the controller
 * reads them, the heartbeat's timeout and reply limits. 0, or -1 with the reason. */
static int demo_redis_env(struct demo_opts *o, char *err, size_t errlen)
{
	struct redis_conn_opts v = o->redis, copy;
	v.ca_file = demo_env("MCS_REDIS_CA_FILE");
	v.cert_file = demo_env("MCS_REDIS_CERT_FILE");
	v.key_file = demo_env("MCS_REDIS_KEY_FILE");
	v.server_name = demo_env("MCS_REDIS_TLS_SERVER_NAME");
	v.timeout_ms = o->heartbeat_ms;
	resp_limits_for_pairs(&v.limits, 16); /* replies to AUTH, SELECT and ZADD */
	if (redis_conn_opts_copy(&copy, &v) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	redis_conn_opts_clear(&o->redis);
	o->redis = copy;
	return 0;
}

/* MCS_REDIS_SENTINELS (with MCS_REDIS_SENTINEL_MASTER and _PASSWORD) into d->sentinel; none when
 * unset. 0, or -1 with the reason. */
static int demo_sentinel_new(struct demo *d, char *err, size_t errlen)
{
	const char *list = demo_env("MCS_REDIS_SENTINELS"), *master = demo_env("MCS_REDIS_SENTINEL_MASTER");
	if (list == NULL)
		return 0;
	struct redis_sentinel_addr v[REDIS_SENTINEL_MAX];
	size_t n;
	char why[160];
	if (redis_sentinel_parse(list, v, REDIS_SENTINEL_MAX, &n, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "MCS_REDIS_SENTINELS: %s", why);
		return -1;
	}
	/* The sentinels speak what the master does. */
	struct redis_conn_opts opts = d->o.redis;
	opts.timeout_ms = DEMO_SENTINEL_TIMEOUT_MS;
	d->sentinel =
		redis_sentinel_new(v, n, master ? master : "mymaster", demo_env("MCS_REDIS_SENTINEL_PASSWORD"), &opts);
	if (d->sentinel == NULL)
		snprintf(err, errlen, "out of memory");
	return d->sentinel != NULL ? 0 : -1;
}

/* Starts a non-blocking connect (and TLS handshake) and queues AUTH/SELECT ahead of the first ZADD. */
static void hb_connect(struct demo *d, uint64_t now)
{
	struct demo_hb *hb = &d->hb;
	if (d->sentinel != NULL) {
		char host[256];
		unsigned port;
		if (redis_sentinel_master(d->sentinel, host, sizeof(host), &port) == -1) {
			hb_note_error(d, redis_sentinel_errstr(d->sentinel));
			return;
		}
		int moved = strcmp(host, d->o.redis.host) != 0 || port != d->o.redis.port;
		if (redis_conn_opts_set_addr(&d->o.redis, host, port) == -1) {
			hb_note_error(d, "out of memory");
			return;
		}
		if (moved)
			log_info("sentinels name %s:%u the master of \"%s\"", host, port,
				 redis_sentinel_name(d->sentinel));
	}
	const struct redis_conn_opts *o = &d->o.redis;
	hb->ctx = redis_conn_new(o);
	if (hb->ctx == NULL) {
		hb_note_error(d, "out of memory");
		return;
	}
	if (redis_conn_open(hb->ctx) == -1) {
		hb_fail(d, "cannot connect");
		return;
	}
	hb->state = HB_CONNECTING;
	hb->connect_start = now;
	char db[16];
	snprintf(db, sizeof(db), "%u", o->db);
	const char *auth[] = {"AUTH", o->user ? o->user : o->password, o->password};
	const char *select[] = {"SELECT", db};
	if ((o->password != NULL && redis_conn_append(hb->ctx, o->user ? 3 : 2, auth, NULL) == -1) ||
	    (o->db != 0 && redis_conn_append(hb->ctx, 2, select, NULL) == -1)) {
		hb_fail(d, "out of memory");
		return;
	}
	hb->pending += (o->password != NULL) + (o->db != 0);
}

/* Sends one heartbeat when due; a stuck link is dropped and reconnected. */
static void hb_tick(struct demo *d, uint64_t now)
{
	struct demo_hb *hb = &d->hb;
	if (d->o.redis.host == NULL || now < hb->next_ms)
		return;
	hb->next_ms = now + d->o.heartbeat_ms;
	if (hb->ctx != NULL && hb->state == HB_CONNECTING && now - hb->connect_start >= d->o.heartbeat_ms)
		hb_fail(d, "connect timed out");
	if (hb->ctx != NULL && hb->pending >= DEMO_HB_MAX_PENDING)
		hb_fail(d, "no reply to the last heartbeats");
	if (hb->ctx == NULL)
		hb_connect(d, now);
	if (hb->ctx == NULL)
		return;
	char score[24];
	snprintf(score, sizeof(score), "%lld", (long long)time(NULL));
	const char *zadd[] = {"ZADD", d->o.key, score, d->name};
	if (redis_conn_append(hb->ctx, 4, zadd, NULL) == -1) {
		hb_fail(d, "cannot queue ZADD");
		return;
	}
	hb->pending++;
	hb->write_pending = 1;
	if (hb->state == HB_READY)
		hb_write(d);
}

static void hb_events(struct demo *d, short revents)
{
	struct demo_hb *hb = &d->hb;
	if (hb->state == HB_CONNECTING) {
		int r = redis_conn_progress(hb->ctx);
		if (r == -1)
			hb_fail(d, "cannot connect");
		if (r != 1)
			return;
		hb->state = HB_READY;
		hb_write(d);
		return;
	}
	if (revents & (POLLIN | POLLERR | POLLHUP))
		hb_read(d);
	if (hb->ctx != NULL && (revents & POLLOUT))
		hb_write(d);
}

/* ---- the loop ---- */

static int demo_reserve_pfds(struct demo *d, size_t n)
{
	if (n <= d->cap_pfds)
		return 0;
	size_t cap = n * 2;
	struct pollfd *v = realloc(d->pfds, cap * sizeof(*v));
	if (v == NULL)
		return -1;
	d->pfds = v;
	d->cap_pfds = cap;
	return 0;
}

/* Milliseconds until the next timer, or -1 for none. */
static long demo_poll_timeout(const struct demo *d, uint64_t now)
{
	long t = -1;
	if (d->o.redis.host != NULL)
		t = d->hb.next_ms > now ? (long)(d->hb.next_ms - now) : 0;
	if (d->accept_paused_until > now) {
		long a = (long)(d->accept_paused_until - now);
		t = t == -1 || a < t ? a : t;
	}
	return t;
}

static int demo_run(struct demo *d, const sigset_t *poll_mask)
{
	while (!demo_stop) {
		uint64_t now = demo_now_ms();
		hb_tick(d, now);
		if (demo_reserve_pfds(d, d->n_conns + 2) == -1) {
			log_err("out of memory");
			return -1;
		}
		nfds_t n = 0;
		long li = -1, ri = -1;
		if (now >= d->accept_paused_until) {
			d->pfds[n] = (struct pollfd){d->lfd, POLLIN, 0};
			li = (long)n++;
		}
		if (d->hb.ctx != NULL) {
			d->pfds[n] = (struct pollfd){redis_conn_fd(d->hb.ctx), redis_conn_events(d->hb.ctx), 0};
			ri = (long)n++;
		}
		size_t base = n, n_polled = d->n_conns;
		for (size_t i = 0; i < n_polled; i++) {
			const struct demo_conn *c = d->conns[i];
			int out = c->len > 0 && !c->proxy_wait; /* a header being read is not output */
			short ev = (short)((!c->eof && c->len < sizeof(c->buf) ? POLLIN : 0) | (out ? POLLOUT : 0));
			d->pfds[n++] = (struct pollfd){c->fd, ev, 0};
		}
		long wait = demo_poll_timeout(d, now);
		struct timespec ts = {wait / 1000, (wait % 1000) * 1000000L};
		int rc = ppoll(d->pfds, n, wait == -1 ? NULL : &ts, poll_mask);
		if (rc == -1) {
			if (errno == EINTR)
				continue;
			log_err("poll: %s", strerror(errno));
			return -1;
		}
		/* Backwards, so closing (swap with the last) never skips a client. */
		for (size_t i = n_polled; i-- > 0;) {
			short rev = d->pfds[base + i].revents;
			struct demo_conn *c = d->conns[i];
			if (rev != 0 && (c->proxy_wait ? demo_proxy_read(d, c) : demo_conn_io(c, rev)) == -1)
				demo_conn_close(d, i);
		}
		if (ri != -1 && d->pfds[ri].revents != 0 && d->hb.ctx != NULL)
			hb_events(d, d->pfds[ri].revents);
		if (li != -1 && d->pfds[li].revents != 0)
			demo_accept(d, demo_now_ms());
	}
	return 0;
}

static void demo_free(struct demo *d)
{
	while (d->n_conns > 0)
		demo_conn_close(d, d->n_conns - 1);
	free(d->conns);
	free(d->pfds);
	redis_conn_free(d->hb.ctx);
	redis_sentinel_free(d->sentinel);
	if (d->lfd != -1)
		close(d->lfd);
	redis_conn_opts_clear(&d->o.redis);
}

int main(int argc, char **argv)
{
	struct demo d = {.lfd = -1};
	char err[256];
	log_set_program(PROGRAM);
	int rc = demo_parse_args(argc, argv, &d.o, err, sizeof(err));
	if (rc != 0) {
		if (rc == 1)
			demo_usage(stdout);
		else if (rc == 3)
			printf(PROGRAM " %s\n", MCS_VERSION);
		else
			fprintf(stderr, PROGRAM ": %s\n", err);
		demo_free(&d);
		return rc == 1 || rc == 3 ? 0 : 2;
	}
	/* SIGTERM/SIGINT are delivered only inside ppoll, so a stop is never missed. */
	sigset_t block, poll_mask;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &poll_mask);
	sigdelset(&poll_mask, SIGTERM);
	sigdelset(&poll_mask, SIGINT);
	struct sigaction sa = {.sa_handler = demo_on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	demo_raise_nofile();
	/* Refused before "listening on": a start-up script waits for that line. */
	if (d.o.redis.host != NULL &&
	    (demo_redis_env(&d.o, err, sizeof(err)) == -1 || demo_sentinel_new(&d, err, sizeof(err)) == -1)) {
		fprintf(stderr, PROGRAM ": %s\n", err);
		demo_free(&d);
		return 2;
	}
	if (demo_listen(&d, err, sizeof(err)) == -1) {
		fprintf(stderr, PROGRAM ": %s\n", err);
		demo_free(&d);
		return 1;
	}
	if (d.sentinel != NULL)
		log_info("serving %s; ZADD %s every %u ms to the master \"%s\" the sentinels %s name", d.name, d.o.key,
			 d.o.heartbeat_ms, redis_sentinel_name(d.sentinel), demo_env("MCS_REDIS_SENTINELS"));
	else if (d.o.redis.host != NULL)
		log_info("serving %s; ZADD %s every %u ms to redis %s:%u", d.name, d.o.key, d.o.heartbeat_ms,
			 d.o.redis.host, d.o.redis.port);
	else
		log_info("serving %s (no --redis-url: not registering)", d.name);
	if (d.o.proxy_v2)
		log_info("every connection must start with a PROXY protocol v2 header (--proxy-v2)");
	rc = demo_run(&d, &poll_mask);
	if (rc == 0)
		log_info("stopping on signal %d", (int)demo_stop);
	demo_free(&d);
	return rc == 0 ? 0 : 1;
}
