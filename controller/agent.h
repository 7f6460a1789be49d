/* The agent-check responder: HAProxy connects to the controller (agent-addr/agent-port), sends
 * the server's agent-send text "<server>/" and reads one reply line, which the controller
 * decides (agent_policy). Non-blocking, driven by the controller's poll loop; no threads. */
#ifndef MCS_AGENT_H
#define MCS_AGENT_H

#include <poll.h>
#include <stddef.h>

#include "hap_cmd.h"

/* Framing. agent-send cannot carry a newline, so a request is the server name
 * followed by '/', a byte no server name may hold ([A-Za-z0-9._:-]) that passes the runtime API
 * and a configuration file unchanged (verified on 2.6.12 with `add server ... agent-send n/`).
 * The responder answers as soon as it has seen the '/', without waiting for more. */
#define AGENT_REQ_END '/'
#define AGENT_REQ_MAX (HAP_NAME_MAX + 1) /* longest request: a name and its '/' */
#define AGENT_ANSWER_MAX 64              /* longest reply line, '\n' included */
#define AGENT_READ_TIMEOUT_MS 2000       /* a connection without a whole request by then is closed */
#define AGENT_MAX_CLIENTS 256            /* connections waiting for their request; the oldest goes first */

enum agent_req {
	AGENT_REQ_MORE, /* no '/' yet and still room: wait for more bytes */
	AGENT_REQ_OK,   /* exactly "<valid server name>/": the name is in name */
	AGENT_REQ_BAD,  /* anything else: close without an answer */
};

/* Parses the bytes received so far (buf, len: not NUL-terminated, may hold anything). OK only
 * for exactly a name that passes hap_name_valid followed by AGENT_REQ_END and nothing after it;
 * the name is then copied to name (namelen must be > HAP_NAME_MAX, else BAD). Pure. */
enum agent_req agent_request_parse(const char *buf, size_t len, char *name, size_t namelen)
	__attribute__((warn_unused_result));

/* Writes the agent-send text for server ("10.0.0.5:7000/") into buf; 0, or -1 (buf "" when
 * len > 0) for an invalid name or a short buffer. The result passes hap_agent_send_valid. */
int agent_request_format(char *buf, size_t len, const char *server) __attribute__((warn_unused_result));

/* Returns 1 when answer may be sent: 2..AGENT_ANSWER_MAX bytes of printable ASCII ending with
 * one '\n', and without "ready" in any case anywhere (an agent's "ready" clears a drain or
 * maintenance set by the controller or an operator). Else 0. Pure. */
int agent_answer_valid(const char *answer) __attribute__((warn_unused_result));

/* Decides the reply for server_name (a valid name): writes one line such as "up 100%\n" or
 * "drain\n" into out (outlen bytes, AGENT_ANSWER_MAX, out[0] is '\0' on entry). Leaving out ""
 * (e.g. a server the controller does not know) sends no answer at all. */
typedef void (*agent_answer_fn)(void *ctx, const char *server_name, char *out, size_t outlen);

/* What the responder did since agent_srv_new, for metrics and log lines. */
struct agent_stats {
	unsigned long long answered;      /* a reply was sent */
	unsigned long long unanswered;    /* valid request, but the callback left "" or an invalid reply */
	unsigned long long bad;           /* malformed or oversized request, or closed before it was whole */
	unsigned long long timeouts;      /* no whole request within AGENT_READ_TIMEOUT_MS */
	unsigned long long evicted;       /* closed to make room: AGENT_MAX_CLIENTS were waiting */
	unsigned long long accept_errors; /* accept() failed (e.g. EMFILE); retried at the next call */
};

struct agent_srv;

/* Listens on bind_addr (an IPv4 or IPv6 literal; NULL means "127.0.0.1") and port (0: a free
 * one, see agent_srv_port). Every valid request is answered through fn(ctx, ...). Returns the
 * responder (free with agent_srv_free), or NULL with one line in err. */
struct agent_srv *agent_srv_new(const char *bind_addr, unsigned port, agent_answer_fn fn, void *ctx, char *err,
				size_t errlen) __attribute__((warn_unused_result));

/* The port listened on (the one picked when asked for 0). */
unsigned agent_srv_port(const struct agent_srv *a);

/* The listening socket, for poll() with POLLIN. */
int agent_srv_fd(const struct agent_srv *a);

/* Writes the descriptors to poll (the listener first, then each connection waiting for its
 * request, all POLLIN) into out, at most max; returns how many were written. At most
 * 1 + AGENT_MAX_CLIENTS are ever needed. */
size_t agent_srv_pollfds(const struct agent_srv *a, struct pollfd *out, size_t max);

/* Milliseconds until the earliest waiting connection times out (a poll timeout), or -1 when
 * none waits. */
int agent_srv_timeout_ms(const struct agent_srv *a);

/* Accepts and serves whatever is pending, never blocking: reads the waiting connections,
 * accepts up to a bounded batch of new ones, answers every whole request and closes it, and
 * closes connections past their deadline. Call it when any descriptor of agent_srv_pollfds is
 * ready or the timeout passed (calling it more often is harmless). */
void agent_srv_handle(struct agent_srv *a);

/* Counters since agent_srv_new (copied into out). */
void agent_srv_stats(const struct agent_srv *a, struct agent_stats *out);

/* Closes the listener and every connection, and frees a. NULL is a no-op. HAProxy then finds
 * the agent unreachable and leaves its servers as they are. */
void agent_srv_free(struct agent_srv *a);

#endif
