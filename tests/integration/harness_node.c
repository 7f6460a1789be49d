/* Integration-test harness, demo chat nodes: mcs-lb-demo-node processes on 127.0.0.1, their
 * ports read from their logs, heartbeated until HAProxy serves them. */
#include "harness_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int h_node_start(struct h_node *n) { return h_node_start_with(n, NULL); }

int h_node_start_with(struct h_node *n, const char *option)
{
	char name[H_NAME_MAX];
	static int seq;
	snprintf(name, sizeof(name), "node-%d-%d", (int)getpid(), ++seq);
	const char *argv[] = {H_DEMO_NODE_BIN, "--listen", "127.0.0.1:0", option, NULL};
	memset(n, 0, sizeof(*n));
	n->proc = h_spawn(name, argv, NULL);
	if (n->proc == NULL)
		return -1;
	/* stdout and stderr share the log: look for the line, not just the first line. */
	uint64_t end = h_now_ms() + H_READY_TIMEOUT_MS;
	while (n->port == 0 && h_now_ms() < end && h_proc_running(n->proc)) {
		char *text = h_read_file(n->proc->log, NULL);
		const char *l = text ? strstr(text, "listening on 127.0.0.1:") : NULL;
		if (l != NULL && strchr(l, '\n') != NULL)
			n->port = atoi(l + strlen("listening on 127.0.0.1:"));
		free(text);
		if (n->port == 0)
			h_sleep_ms(10);
	}
	if (n->port <= 0) {
		h_fail("demo node did not print its port (see %s)", n->proc->log);
		return -1;
	}
	snprintf(n->name, sizeof(n->name), "127.0.0.1:%d", n->port);
	return 0;
}

int h_nodes_up(struct h_node *v, int n, unsigned timeout_ms)
{
	for (int i = 0; i < n; i++)
		if (h_node_start(&v[i]) == -1 || h_hb_add(v[i].name) == -1)
			return -1;
	for (int i = 0; i < n; i++) {
		if (!H_WAIT(timeout_ms, h_srv_ready(v[i].name))) {
			h_fail("%s is not a ready server of backend mcs after %u ms", v[i].name, timeout_ms);
			return -1;
		}
	}
	return 0;
}

int h_node_index(const struct h_node *v, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return i;
	return -1;
}
