/* The agent job: answers HAProxy's agent checks from the controller's view of each node. The
 * responder (agent.c) owns its sockets; this job keeps the loop watching them (the listener
 * and each connection still waiting for its request) and wakes it at their deadline. */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "ctl.h"
#include "log.h"
#include "loop.h"
#include "mono.h"

struct ctl_agent {
	struct ctl *ctl;
	struct agent_srv *srv;
	struct hap_agent_opts opts;     /* what new servers' agent checks use (ctl->opts.agent) */
	int timer;                      /* the earliest waiting connection's deadline */
	int fds[AGENT_MAX_CLIENTS + 1]; /* the descriptors the loop watches: listener first */
	size_t n_fds;
};

/* The agent's answer for one server, from the controller's view of its node. */
static void ctl_agent_answer(void *ctx, const char *server_name, char *out, size_t outlen)
{
	struct ctl *ctl = ctx;
	struct ctl_node *node = ctl_nodes_find(&ctl->nodes, server_name);
	struct agent_view view = {0};
	if (rec_memory_is_ours(&ctl->leaving, server_name)) {
		view.leaving = 1;
	} else if (node != NULL) {
		view.first_seen_ms = node->first_seen_ms;
		view.override = node->override;
	} else {
		return; /* not a node we know: no answer, HAProxy keeps the server as it is */
	}
	agent_policy_answer(&view, mono_now_ms(), conf.warmup_s * 1000u, (unsigned)conf.warmup_start_pct, out, outlen);
}

static void ctl_agent_on_fd(struct loop *l, int fd, void *ctx);

/* Makes the loop watch what the responder waits for now: connections come and go with each
 * agent_srv_handle. Unchanged sets (the common case: served at accept) cost one comparison. */
static void ctl_agent_sync(struct ctl_agent *a)
{
	struct pollfd want[AGENT_MAX_CLIENTS + 1];
	size_t n = agent_srv_pollfds(a->srv, want, AGENT_MAX_CLIENTS + 1);
	int same = n == a->n_fds;
	for (size_t i = 0; same && i < n; i++)
		same = want[i].fd == a->fds[i];
	for (size_t i = 0; !same && i < a->n_fds; i++)
		loop_fd_del(a->ctl->loop, a->fds[i]);
	for (size_t i = 0; !same && i < n; i++) {
		/* Out of memory: the connection is still served when another descriptor wakes the
		 * responder, or closed at its deadline. */
		if (loop_fd_add(a->ctl->loop, want[i].fd, ctl_agent_on_fd, a) == -1)
			log_debug("agent: cannot watch descriptor %d", want[i].fd);
		a->fds[i] = want[i].fd;
	}
	a->n_fds = n;
	int timeout = agent_srv_timeout_ms(a->srv);
	if (timeout >= 0)
		loop_timer_arm(a->ctl->loop, a->timer, mono_now_ms() + (uint64_t)timeout);
	else
		loop_timer_disarm(a->ctl->loop, a->timer);
}

static void ctl_agent_on_fd(struct loop *l, int fd, void *ctx)
{
	struct ctl_agent *a = ctx;
	agent_srv_handle(a->srv);
	ctl_agent_sync(a);
}

static void ctl_agent_on_timer(struct loop *l, int timer, void *ctx) { ctl_agent_on_fd(l, -1, ctx); }

struct ctl_agent *ctl_agent_new(struct ctl *ctl)
{
	char err[256];
	struct ctl_agent *a = calloc(1, sizeof(*a));
	if (a == NULL) {
		log_err("agent: out of memory");
		return NULL;
	}
	a->ctl = ctl;
	a->timer = loop_timer_new(ctl->loop, ctl_agent_on_timer, a);
	a->srv = agent_srv_new(conf.agent_addr, (unsigned)conf.agent_port, ctl_agent_answer, ctl, err, sizeof(err));
	if (a->srv == NULL || a->timer == -1) {
		log_err("MCS_AGENT_ADDR/MCS_AGENT_PORT: %s", a->srv == NULL ? err : "out of memory");
		ctl_agent_free(a);
		return NULL;
	}
	a->opts = (struct hap_agent_opts){conf.agent_addr, agent_srv_port(a->srv), (unsigned)conf.agent_inter_ms, NULL};
	ctl->opts.agent = &a->opts;
	ctl->opts.start_weight_pct = conf.warmup_s > 0 ? (unsigned)conf.warmup_start_pct : 100;
	ctl_agent_sync(a);
	log_info("agent checks answered on %s port %u", conf.agent_addr, agent_srv_port(a->srv));
	return a;
}

void ctl_agent_free(struct ctl_agent *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n_fds; i++)
		loop_fd_del(a->ctl->loop, a->fds[i]);
	loop_timer_free(a->ctl->loop, a->timer);
	if (a->ctl->opts.agent == &a->opts)
		a->ctl->opts.agent = NULL;
	agent_srv_free(a->srv);
	free(a);
}
