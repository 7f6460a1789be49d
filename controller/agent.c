/* Agent-check responder: a non-blocking TCP listener that reads "<server>/" and writes the
 * controller's one-line answer. Requests are untrusted: bounded size, deadline and count. */
#include "agent.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "fmt.h"
#include "mono.h"
#include "text.h"

#define AGENT_ACCEPT_BATCH 256 /* connections accepted per agent_srv_handle, so one call stays short */

struct agent_client {
	int fd;
	uint64_t deadline_ms;        /* closed unanswered after this */
	size_t len;                  /* bytes in buf */
	char buf[AGENT_REQ_MAX + 1]; /* one byte more than a request, to see an oversized one */
};

struct agent_srv {
	int fd;        /* listener */
	unsigned port; /* as bound */
	agent_answer_fn fn;
	void *ctx;
	struct agent_client clients[AGENT_MAX_CLIENTS]; /* waiting for their request */
	size_t n_clients;
	struct agent_stats stats;
};

enum agent_req agent_request_parse(const char *buf, size_t len, char *name, size_t namelen)
{
	const char *end = memchr(buf, AGENT_REQ_END, len);
	if (end == NULL)
		return len < AGENT_REQ_MAX ? AGENT_REQ_MORE : AGENT_REQ_BAD;
	size_t n = (size_t)(end - buf);
	/* HAProxy sends agent-send and nothing else: trailing bytes mean it is not our framing. */
	if (n + 1 != len || n > HAP_NAME_MAX || namelen <= n)
		return AGENT_REQ_BAD;
	memcpy(name, buf, n);
	name[n] = '\0';
	if (memchr(name, '\0', n) != NULL || !hap_name_valid(name)) {
		name[0] = '\0';
		return AGENT_REQ_BAD;
	}
	return AGENT_REQ_OK;
}

int agent_request_format(char *buf, size_t len, const char *server)
{
	if (!hap_name_valid(server)) {
		if (len > 0)
			buf[0] = '\0';
		return -1;
	}
	return fmt_buf(buf, len, "%s%c", server, AGENT_REQ_END);
}

int agent_answer_valid(const char *answer)
{
	size_t n = answer != NULL ? strlen(answer) : 0;
	if (n < 2 || n > AGENT_ANSWER_MAX - 1 || answer[n - 1] != '\n')
		return 0;
	/* Printable ASCII before the line end: no control byte, nothing past 0x7f. */
	if (text_has_control(answer, n - 1))
		return 0;
	for (size_t i = 0; i + 1 < n; i++)
		if ((unsigned char)answer[i] & 0x80)
			return 0;
	return strcasestr(answer, "ready") == NULL;
}

struct agent_srv *agent_srv_new(const char *bind_addr, unsigned port, agent_answer_fn fn, void *ctx, char *err,
				size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	const char *addr = bind_addr != NULL ? bind_addr : "127.0.0.1";
	if (fn == NULL || port > 65535) {
		snprintf(err, errlen, "agent: no answer function or port %u out of range", port);
		return NULL;
	}
	if (addr_parse(addr, port, &ss, &sslen) == -1) {
		snprintf(err, errlen, "agent: \"%.64s\" is not an IPv4 or IPv6 address", addr);
		return NULL;
	}
	struct agent_srv *a = calloc(1, sizeof(*a));
	if (a == NULL) {
		snprintf(err, errlen, "agent: out of memory");
		return NULL;
	}
	a->fn = fn;
	a->ctx = ctx;
	a->fd = addr_listen(&ss, sslen, SOMAXCONN);
	if (a->fd == -1) {
		snprintf(err, errlen, "agent: listen on %.64s port %u: %s", addr, port, strerror(errno));
		agent_srv_free(a);
		return NULL;
	}
	a->port = addr_port(&ss);
	return a;
}

unsigned agent_srv_port(const struct agent_srv *a) { return a->port; }

int agent_srv_fd(const struct agent_srv *a) { return a->fd; }

void agent_srv_stats(const struct agent_srv *a, struct agent_stats *out) { *out = a->stats; }

size_t agent_srv_pollfds(const struct agent_srv *a, struct pollfd *out, size_t max)
{
	size_t n = 0;
	if (n < max)
		out[n++] = (struct pollfd){.fd = a->fd, .events = POLLIN};
	for (size_t i = 0; i < a->n_clients && n < max; i++)
		out[n++] = (struct pollfd){.fd = a->clients[i].fd, .events = POLLIN};
	return n;
}

int agent_srv_timeout_ms(const struct agent_srv *a)
{
	if (a->n_clients == 0)
		return -1;
	uint64_t now = mono_now_ms(), first = a->clients[0].deadline_ms;
	for (size_t i = 1; i < a->n_clients; i++)
		if (a->clients[i].deadline_ms < first)
			first = a->clients[i].deadline_ms;
	return first <= now ? 0 : (int)(first - now);
}

/* Asks the controller and sends its line in one non-blocking send: a fresh socket always has
 * room for AGENT_ANSWER_MAX bytes, so a short send only happens to a peer already gone. */
static void agent_answer(struct agent_srv *a, int fd, const char *name)
{
	char out[AGENT_ANSWER_MAX];
	out[0] = '\0';
	a->fn(a->ctx, name, out, sizeof(out));
	out[sizeof(out) - 1] = '\0';
	if (!agent_answer_valid(out)) {
		a->stats.unanswered++;
		return;
	}
	if (send(fd, out, strlen(out), MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)strlen(out))
		a->stats.answered++;
	else
		a->stats.bad++;
}

/* Reads what the connection has, answers a whole request. Returns 1 while the connection
 * should wait for more, 0 once it is done with (the caller closes it). */
static int agent_client_serve(struct agent_srv *a, struct agent_client *cl)
{
	char name[HAP_NAME_MAX + 1];
	for (;;) {
		ssize_t n = recv(cl->fd, cl->buf + cl->len, sizeof(cl->buf) - cl->len, MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 1;
		if (n <= 0) { /* closed or reset before a whole request */
			a->stats.bad++;
			return 0;
		}
		cl->len += (size_t)n;
		switch (agent_request_parse(cl->buf, cl->len, name, sizeof(name))) {
		case AGENT_REQ_MORE:
			continue;
		case AGENT_REQ_OK:
			agent_answer(a, cl->fd, name);
			return 0;
		case AGENT_REQ_BAD:
			a->stats.bad++;
			return 0;
		}
	}
}

static void agent_client_drop(struct agent_srv *a, size_t i)
{
	close(a->clients[i].fd);
	a->clients[i] = a->clients[--a->n_clients];
}

/* Keeps a connection whose request is not whole yet; when every slot is taken, the one
 * closest to its deadline makes room (a flood of idle connections cannot lock HAProxy out). */
static void agent_client_keep(struct agent_srv *a, const struct agent_client *cl)
{
	if (a->n_clients == AGENT_MAX_CLIENTS) {
		size_t oldest = 0;
		for (size_t i = 1; i < a->n_clients; i++)
			if (a->clients[i].deadline_ms < a->clients[oldest].deadline_ms)
				oldest = i;
		agent_client_drop(a, oldest);
		a->stats.evicted++;
	}
	a->clients[a->n_clients++] = *cl;
}

static void agent_accept_batch(struct agent_srv *a, uint64_t now)
{
	for (int i = 0; i < AGENT_ACCEPT_BATCH; i++) {
		int fd = accept4(a->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				a->stats.accept_errors++;
			return;
		}
		struct agent_client cl = {.fd = fd, .deadline_ms = now + AGENT_READ_TIMEOUT_MS};
		if (agent_client_serve(a, &cl))
			agent_client_keep(a, &cl);
		else
			close(fd);
	}
}

void agent_srv_handle(struct agent_srv *a)
{
	uint64_t now = mono_now_ms();
	for (size_t i = 0; i < a->n_clients;) {
		struct agent_client *cl = &a->clients[i];
		if (!agent_client_serve(a, cl)) {
			agent_client_drop(a, i);
		} else if (cl->deadline_ms <= now) {
			a->stats.timeouts++;
			agent_client_drop(a, i);
		} else {
			i++;
		}
	}
	agent_accept_batch(a, now);
}

void agent_srv_free(struct agent_srv *a)
{
	if (a == NULL)
		return;
	while (a->n_clients > 0)
		agent_client_drop(a, a->n_clients - 1);
	if (a->fd != -1)
		close(a->fd);
	free(a);
}
