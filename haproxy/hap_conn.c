/* HAProxy runtime API client: lazy connect in prompt mode, then one command per call, sent and
 * read back whole under a single deadline. Replies end with the prompt "\n> " (HAProxy 2.6 cli.c). */
#include "hap_conn.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mono.h"

#define HAP_PROMPT "\n> "
#define HAP_PROMPT_LEN 3
#define HAP_CMD_SHOWN 48     /* bytes of the command quoted in errstr */
#define HAP_READ_CHUNK 65536 /* room made before each recv */

struct hap_conn {
	char *path;       /* owned copy of the socket path */
	int timeout_ms;   /* per hap_conn_cmd, connecting included */
	int fd;           /* -1 while disconnected */
	enum hap_err err; /* class of the last error, HAP_OK after a success */
	char errstr[256]; /* one line: command, then problem */
};

struct hap_buf {
	char *data; /* NUL-terminated once read completes */
	size_t len;
	size_t cap;
};

/* Replies that mean "no" although HAProxy tags them with an info severity or none:
 * 2.6 answers an unknown command with "[6]: Unknown command, but maybe ...". */
static const char *const hap_refusals[] = {
	"Unknown command",
};

static long long hap_now_ms(void) { return (long long)mono_now_ms(); }

const char *hap_err_name(enum hap_err err)
{
	static const char *const names[] = {
		[HAP_OK] = "OK",
		[HAP_ERR_IO] = "IO",
		[HAP_ERR_EOF] = "EOF",
		[HAP_ERR_TIMEOUT] = "TIMEOUT",
		[HAP_ERR_PROTOCOL] = "PROTOCOL",
		[HAP_ERR_REJECTED] = "REJECTED",
		[HAP_ERR_INVALID] = "INVALID",
		[HAP_ERR_OOM] = "OOM",
	};
	if ((unsigned)err >= sizeof(names) / sizeof(names[0]))
		return "UNKNOWN";
	return names[err];
}

void hap_conn_close(struct hap_conn *c)
{
	if (c == NULL || c->fd == -1)
		return;
	close(c->fd);
	c->fd = -1;
}

/* Records an error as "<command, cut>: <problem>" on one line. Every class but REJECTED and
 * INVALID leaves the stream at an unknown point, so the connection is dropped. */
static void hap_conn_fail(struct hap_conn *c, enum hap_err err, const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void hap_conn_fail(struct hap_conn *c, enum hap_err err, const char *cmd, const char *fmt, ...)
{
	size_t len = cmd != NULL ? strlen(cmd) : 0;
	int off = snprintf(c->errstr, sizeof(c->errstr), "%.*s%s: ", HAP_CMD_SHOWN, cmd != NULL ? cmd : "",
			   len > HAP_CMD_SHOWN ? "..." : "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->errstr + off, sizeof(c->errstr) - (size_t)off, fmt, ap);
	va_end(ap);
	for (char *p = c->errstr; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
	c->err = err;
	if (err != HAP_ERR_REJECTED && err != HAP_ERR_INVALID)
		hap_conn_close(c);
}

/* A broken pipe or reset means HAProxy went away: EOF, which callers retry like IO. */
static void hap_conn_fail_errno(struct hap_conn *c, const char *cmd, const char *what, int e)
{
	if (e == EPIPE || e == ECONNRESET)
		hap_conn_fail(c, HAP_ERR_EOF, cmd, "HAProxy closed the connection (%s: %s)", what, strerror(e));
	else
		hap_conn_fail(c, HAP_ERR_IO, cmd, "%s: %s", what, strerror(e));
}

struct hap_conn *hap_conn_new(const char *socket_path, int timeout_ms)
{
	struct sockaddr_un sa;
	if (socket_path == NULL || socket_path[0] == '\0' || strlen(socket_path) >= sizeof(sa.sun_path) ||
	    timeout_ms <= 0)
		return NULL;
	struct hap_conn *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->path = strdup(socket_path);
	if (c->path == NULL) {
		free(c);
		return NULL;
	}
	c->timeout_ms = timeout_ms;
	c->fd = -1;
	return c;
}

void hap_conn_free(struct hap_conn *c)
{
	if (c == NULL)
		return;
	hap_conn_close(c);
	free(c->path);
	c->path = NULL;
	free(c);
}

enum hap_err hap_conn_err(const struct hap_conn *c) { return c->err; }

const char *hap_conn_errstr(const struct hap_conn *c) { return c->errstr; }

/* Waits until the socket is ready for events or the deadline passes. 0, or -1 with the error set. */
static int hap_conn_wait(struct hap_conn *c, const char *cmd, short events, long long deadline)
{
	struct pollfd pfd = {.fd = c->fd, .events = events};
	for (;;) {
		long long left = deadline - hap_now_ms();
		if (left <= 0) {
			hap_conn_fail(c, HAP_ERR_TIMEOUT, cmd, "no %s within %d ms",
				      events == POLLOUT ? "room to send" : "complete reply", c->timeout_ms);
			return -1;
		}
		int n = poll(&pfd, 1, (int)left);
		if (n == -1) {
			int e = errno;
			if (e == EINTR)
				continue;
			hap_conn_fail_errno(c, cmd, "poll", e);
			return -1;
		}
		if (n > 0)
			return 0;
	}
}

/* After a send or recv (what) that returned -1: 0 to try it again (interrupted, or the socket
 * is ready for events now), or -1 with the error set (another errno, or the deadline passed). */
static int hap_conn_again(struct hap_conn *c, const char *cmd, const char *what, short events, long long deadline)
{
	int e = errno;
	if (e == EINTR)
		return 0;
	if (e != EAGAIN && e != EWOULDBLOCK) {
		hap_conn_fail_errno(c, cmd, what, e);
		return -1;
	}
	return hap_conn_wait(c, cmd, events, deadline);
}

/* Sends len bytes whole. MSG_NOSIGNAL: a closed socket is EPIPE here, never a SIGPIPE. */
static int hap_conn_send(struct hap_conn *c, const char *cmd, const char *data, size_t len, long long deadline)
{
	size_t off = 0;
	while (off < len) {
		ssize_t n = send(c->fd, data + off, len - off, MSG_NOSIGNAL);
		if (n == -1 && hap_conn_again(c, cmd, "send", POLLOUT, deadline) == -1)
			return -1;
		if (n > 0)
			off += (size_t)n;
	}
	return 0;
}

/* Makes room for at least one recv of HAP_READ_CHUNK bytes plus the NUL, within HAP_REPLY_MAX. */
static int hap_buf_reserve(struct hap_conn *c, const char *cmd, struct hap_buf *b)
{
	if (b->len >= HAP_REPLY_MAX) {
		hap_conn_fail(c, HAP_ERR_PROTOCOL, cmd, "reply exceeds %lu bytes without a prompt", HAP_REPLY_MAX);
		return -1;
	}
	if (b->cap - b->len > HAP_READ_CHUNK)
		return 0;
	size_t cap = b->cap == 0 ? 4 * HAP_READ_CHUNK : 2 * b->cap;
	if (cap > HAP_REPLY_MAX + HAP_READ_CHUNK + 1)
		cap = HAP_REPLY_MAX + HAP_READ_CHUNK + 1;
	char *data = realloc(b->data, cap);
	if (data == NULL) {
		hap_conn_fail(c, HAP_ERR_OOM, cmd, "out of memory after %zu bytes of reply", b->len);
		return -1;
	}
	b->data = data;
	b->cap = cap;
	return 0;
}

static int hap_buf_has_prompt(const struct hap_buf *b)
{
	return b->len >= HAP_PROMPT_LEN && memcmp(b->data + b->len - HAP_PROMPT_LEN, HAP_PROMPT, HAP_PROMPT_LEN) == 0;
}

/* Reads until the data ends with the prompt; then drops its "> " and NUL-terminates. Only one
 * command is ever in flight, so the prompt can only end the stream, never sit inside it. */
static int hap_conn_read(struct hap_conn *c, const char *cmd, long long deadline, struct hap_buf *b)
{
	while (!hap_buf_has_prompt(b)) {
		if (hap_buf_reserve(c, cmd, b) == -1)
			return -1;
		ssize_t n = recv(c->fd, b->data + b->len, b->cap - b->len - 1, 0);
		if (n == 0) {
			hap_conn_fail(c, HAP_ERR_EOF, cmd, "HAProxy closed the connection after %zu bytes of reply",
				      b->len);
			return -1;
		}
		if (n == -1 && hap_conn_again(c, cmd, "recv", POLLIN, deadline) == -1)
			return -1;
		if (n > 0)
			b->len += (size_t)n;
	}
	b->len -= HAP_PROMPT_LEN - 1;
	b->data[b->len] = '\0';
	return 0;
}

/* Sends one line and reads its reply into b (emptied first). */
static int hap_conn_exchange(struct hap_conn *c, const char *cmd, const char *line, long long deadline,
			     struct hap_buf *b)
{
	char out[HAP_CMD_MAX + 2];
	size_t len = strlen(line);
	memcpy(out, line, len);
	out[len++] = '\n';
	b->len = 0;
	if (hap_conn_send(c, cmd, out, len, deadline) == -1)
		return -1;
	return hap_conn_read(c, cmd, deadline, b);
}

/* Sends a handshake line whose only correct reply is an empty one. */
static int hap_conn_setup(struct hap_conn *c, const char *cmd, const char *line, long long deadline, struct hap_buf *b)
{
	if (hap_conn_exchange(c, cmd, line, deadline, b) == -1)
		return -1;
	if (strcmp(b->data, "\n") != 0) {
		hap_conn_fail(c, HAP_ERR_PROTOCOL, cmd, "%s: `%s` got an unexpected reply: %.60s", c->path, line,
			      b->data);
		return -1;
	}
	return 0;
}

/* Connects and enters prompt mode with numeric severities. 0, or -1 with the error set. */
static int hap_conn_connect(struct hap_conn *c, const char *cmd, long long deadline, struct hap_buf *b)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		hap_conn_fail(c, HAP_ERR_IO, cmd, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		int e = errno;
		close(fd);
		hap_conn_fail(c, HAP_ERR_IO, cmd, "connect %s: %s", c->path, strerror(e));
		return -1;
	}
	c->fd = fd;
	if (hap_conn_setup(c, cmd, "prompt", deadline, b) == -1)
		return -1;
	return hap_conn_setup(c, cmd, "set severity-output number", deadline, b);
}

/* An idle connection HAProxy has closed (`stats timeout`, a restart) reads as EOF: reconnect
 * before sending rather than fail. Stray bytes mean lost sync: reconnect as well. */
static void hap_conn_check_idle(struct hap_conn *c)
{
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	int n = poll(&pfd, 1, 0);
	if (n == -1 || n == 0)
		return;
	char byte;
	if (recv(c->fd, &byte, 1, MSG_DONTWAIT | MSG_PEEK) == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	hap_conn_close(c);
}

/* Refuses what could turn into more than one command: ';' splits commands, a line break ends
 * one, and a trailing "<<" would make the following commands a payload. */
static int hap_conn_check_cmd(struct hap_conn *c, const char *cmd)
{
	size_t len = cmd != NULL ? strlen(cmd) : 0;
	if (len == 0 || len > HAP_CMD_MAX) {
		hap_conn_fail(c, HAP_ERR_INVALID, cmd, "refused: command of %zu bytes (1..%d allowed)", len,
			      HAP_CMD_MAX);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)cmd[i] < 0x20 || cmd[i] == ';') {
			hap_conn_fail(c, HAP_ERR_INVALID, cmd, "refused: byte 0x%02x at offset %zu",
				      (unsigned char)cmd[i], i);
			return -1;
		}
	}
	if (len >= 2 && strcmp(cmd + len - 2, "<<") == 0) {
		hap_conn_fail(c, HAP_ERR_INVALID, cmd, "refused: a trailing \"<<\" starts a payload");
		return -1;
	}
	return 0;
}

/* Returns 1 when the reply is a refusal: severity 0..3 ("[3]: No such server.") or a known
 * refusal text; then writes HAProxy's first line, trimmed, to msg. */
static int hap_reply_refused(const char *reply, char *msg, size_t msglen)
{
	int refused = 0;
	const char *p = reply;
	if (p[0] == '[' && p[1] >= '0' && p[1] <= '7' && p[2] == ']' && p[3] == ':') {
		refused = p[1] <= '3';
		p += 4;
	}
	p += strspn(p, " ");
	for (size_t i = 0; i < sizeof(hap_refusals) / sizeof(hap_refusals[0]); i++)
		refused |= strncmp(p, hap_refusals[i], strlen(hap_refusals[i])) == 0;
	size_t n = strcspn(p, "\r\n");
	while (n > 0 && p[n - 1] == ' ')
		n--;
	snprintf(msg, msglen, "%.*s", (int)n, p);
	return refused;
}

/* A payload must reach HAProxy as lines: no NUL or control byte but '\n', no empty line (one
 * ends the payload early: the rest would run as commands), and with the command under the CLI
 * buffer (tune.bufsize), past which HAProxy 2.6 silently closes the connection. */
static int hap_conn_check_payload(struct hap_conn *c, const char *cmd, const char *payload, size_t len)
{
	size_t total = strlen(cmd) + sizeof(" <<\n") + len + 2;
	if (payload == NULL || len == 0 || total > HAP_PAYLOAD_MAX) {
		hap_conn_fail(c, HAP_ERR_INVALID, cmd,
			      "refused: payload of %zu bytes (the command and payload must fit %d)", len,
			      HAP_PAYLOAD_MAX);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)payload[i];
		if ((ch < 0x20 && ch != '\n') || ch == 0x7f) {
			hap_conn_fail(c, HAP_ERR_INVALID, cmd, "refused: payload byte 0x%02x at offset %zu", ch, i);
			return -1;
		}
		if (ch == '\n' && (i == 0 || payload[i - 1] == '\n')) {
			hap_conn_fail(c, HAP_ERR_INVALID, cmd, "refused: empty payload line at offset %zu", i);
			return -1;
		}
	}
	return 0;
}

/* Sends data (one command line, or a command with its payload) and reads the reply; in payload
 * mode the prompt "+ " precedes the reply once per line sent, and is dropped. */
static int hap_conn_run(struct hap_conn *c, const char *cmd, const char *data, size_t len, char **reply)
{
	struct hap_buf b = {0};
	char msg[sizeof(c->errstr)];
	long long deadline = hap_now_ms() + c->timeout_ms;
	if (c->fd != -1)
		hap_conn_check_idle(c);
	if (c->fd == -1 && hap_conn_connect(c, cmd, deadline, &b) == -1)
		goto fail;
	b.len = 0;
	if (hap_conn_send(c, cmd, data, len, deadline) == -1 || hap_conn_read(c, cmd, deadline, &b) == -1)
		goto fail;
	size_t skip = 0;
	while (strncmp(b.data + skip, "+ ", 2) == 0)
		skip += 2;
	memmove(b.data, b.data + skip, b.len - skip + 1);
	*reply = b.data;
	if (hap_reply_refused(b.data, msg, sizeof(msg))) {
		hap_conn_fail(c, HAP_ERR_REJECTED, cmd, "HAProxy refused: %s", msg);
		return -1;
	}
	return 0;
fail:
	free(b.data);
	return -1;
}

int hap_conn_cmd(struct hap_conn *c, const char *cmd, char **reply)
{
	char out[HAP_CMD_MAX + 2];
	*reply = NULL;
	c->err = HAP_OK;
	c->errstr[0] = '\0';
	if (hap_conn_check_cmd(c, cmd) == -1)
		return -1;
	size_t len = strlen(cmd);
	memcpy(out, cmd, len);
	out[len++] = '\n';
	return hap_conn_run(c, cmd, out, len, reply);
}

int hap_conn_cmd_payload(struct hap_conn *c, const char *cmd, const char *payload, size_t len, char **reply)
{
	*reply = NULL;
	c->err = HAP_OK;
	c->errstr[0] = '\0';
	if (hap_conn_check_cmd(c, cmd) == -1 || hap_conn_check_payload(c, cmd, payload, len) == -1)
		return -1;
	size_t n = strlen(cmd), total = n + 4 + len + 2;
	char *out = malloc(total);
	if (out == NULL) {
		hap_conn_fail(c, HAP_ERR_OOM, cmd, "out of memory for a payload of %zu bytes", len);
		return -1;
	}
	memcpy(out, cmd, n);
	memcpy(out + n, " <<\n", 4);
	memcpy(out + n + 4, payload, len);
	size_t off = n + 4 + len;
	if (payload[len - 1] != '\n')
		out[off++] = '\n';
	out[off++] = '\n'; /* the empty line that ends the payload and runs the command */
	int rc = hap_conn_run(c, cmd, out, off, reply);
	free(out);
	return rc;
}
