/* Runtime-API I/O of the controller: the only place its plans become HAProxy commands. */
#include "ctl_hap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "hap_conn.h"
#include "hap_csv.h"
#include "hap_servers.h"
#include "hap_sess.h"

/* Sends one formatted command; a reply of HAProxy's is freed here. */
static int ctl_hap_send(struct hap_conn *c, const char *cmd, char *err, size_t errlen)
{
	char *reply = NULL;
	int rc = hap_conn_cmd(c, cmd, &reply);
	if (rc == -1)
		snprintf(err, errlen, "%s", hap_conn_errstr(c));
	free(reply);
	return rc;
}

int ctl_hap_read_servers(struct hap_conn *c, const char *backend, struct rec_server **out, size_t *n, char *err,
			 size_t errlen)
{
	char cmd[256], *reply = NULL;
	struct hap_server_state *states = NULL;
	size_t count = 0;
	*out = NULL;
	*n = 0;
	if (hap_cmd_show_servers_state(cmd, sizeof(cmd), backend) == -1 || hap_conn_cmd(c, cmd, &reply) == -1) {
		snprintf(err, errlen, "%s", hap_conn_errstr(c));
		free(reply);
		return -1;
	}
	int rc = hap_servers_state_parse(reply, &states, &count, err, errlen);
	free(reply);
	if (rc == -1)
		return -1;
	struct rec_server *servers = calloc(count ? count : 1, sizeof(*servers));
	if (servers == NULL) {
		free(states);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		snprintf(servers[i].name, sizeof(servers[i].name), "%s", states[i].name);
		snprintf(servers[i].addr, sizeof(servers[i].addr), "%s", states[i].addr);
		servers[i].port = states[i].port;
		servers[i].id = states[i].id;
		servers[i].admin_state = states[i].admin_state;
		servers[i].check_state = states[i].check_state;
		servers[i].agent_state = states[i].agent_state;
		servers[i].agent_port = states[i].agent_port;
		snprintf(servers[i].agent_addr, sizeof(servers[i].agent_addr), "%s", states[i].agent_addr);
		servers[i].uweight = states[i].uweight;
		servers[i].iweight = states[i].iweight;
		servers[i].scur = -1;
	}
	free(states);
	qsort(servers, count, sizeof(*servers), rec_server_cmp);
	*out = servers;
	*n = count;
	return 0;
}

static int rec_server_name_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct rec_server *)elem)->name);
}

int ctl_hap_read_scur(struct hap_conn *c, const char *backend, struct rec_server *servers, size_t n, char *err,
		      size_t errlen)
{
	char cmd[256], *reply = NULL;
	if (hap_cmd_show_stat_servers(cmd, sizeof(cmd), backend) == -1 || hap_conn_cmd(c, cmd, &reply) == -1) {
		snprintf(err, errlen, "%s", hap_conn_errstr(c));
		free(reply);
		return -1;
	}
	struct hap_csv *t = hap_csv_parse(reply, err, errlen);
	free(reply);
	if (t == NULL)
		return -1;
	int col_px = hap_csv_col(t, "pxname"), col_sv = hap_csv_col(t, "svname"), col_scur = hap_csv_col(t, "scur");
	int rc = 0;
	if (col_px == -1 || col_sv == -1 || col_scur == -1) {
		snprintf(err, errlen, "show stat: no pxname, svname or scur column");
		rc = -1;
	}
	for (size_t row = 0; rc == 0 && row < hap_csv_rows(t); row++) {
		unsigned long long scur;
		if (strcmp(hap_csv_get(t, row, col_px), backend) != 0)
			continue;
		struct rec_server *s =
			bsearch(hap_csv_get(t, row, col_sv), servers, n, sizeof(*s), rec_server_name_cmp);
		if (s != NULL && hap_csv_get_u64(t, row, col_scur, &scur) == 0)
			s->scur = (long long)scur;
	}
	hap_csv_free(t);
	return rc;
}

/* Starts a server's checks from health "up": HAProxy 2.6 leaves a server added at run time at
 * health 0, where its first failed check takes it DOWN uncounted (chkfail stays 0). From the top
 * it needs MCS_CHECK_FALL failures in a row, each counted: the original gateway trusted a node
 * until its checks failed. Only ever for a server whose checks are off, so no check result is
 * overruled (HAProxy treats an unchecked server as UP anyway). */
static int ctl_hap_start_checks(struct hap_conn *c, const char *backend, const char *name, char *err, size_t errlen)
{
	char cmd[512];
	if (hap_cmd_set_health_up(cmd, sizeof(cmd), backend, name) == -1 || ctl_hap_send(c, cmd, err, errlen) == -1)
		return -1;
	if (hap_cmd_enable_health(cmd, sizeof(cmd), backend, name) == -1)
		return -1;
	return ctl_hap_send(c, cmd, err, errlen);
}

/* add server (with the agent when there is one), ready, agent, and health checks last:
 * an add cut short is finished on the next step (its health checks are still off). */
static int ctl_hap_apply_add(struct hap_conn *c, const char *backend, const struct rec_action *a,
			     const struct ctl_hap_opts *opts, char *err, size_t errlen)
{
	char cmd[768], send[HAP_AGENT_SEND_MAX + 1];
	const struct node_addr *node = a->node;
	struct hap_agent_opts agent;
	int rc;
	if (opts->agent != NULL) {
		agent = *opts->agent;
		agent.send = send;
		rc = agent_request_format(send, sizeof(send), node->name) == -1
			     ? -1
			     : hap_cmd_add_server_agent(cmd, sizeof(cmd), backend, node->name, node->addr, node->port,
							a->id, &opts->check, &agent);
	} else {
		rc = hap_cmd_add_server(cmd, sizeof(cmd), backend, node->name, node->addr, node->port, a->id,
					&opts->check);
	}
	if (rc == -1) {
		snprintf(err, errlen, "add server %s: cannot format the command", node->name);
		return -1;
	}
	if (ctl_hap_send(c, cmd, err, errlen) == -1)
		return -1;
	/* The agent ramps the weight up, but only from its first answer: start low already. A node
	 * with nothing for the agent to say (seen at start-up, no override) starts at full weight. */
	if (opts->agent != NULL && a->agent_on && opts->start_weight_pct < 100 &&
	    (hap_cmd_set_weight_pct(cmd, sizeof(cmd), backend, node->name, opts->start_weight_pct) == -1 ||
	     ctl_hap_send(c, cmd, err, errlen) == -1))
		return -1;
	if (hap_cmd_set_state(cmd, sizeof(cmd), backend, node->name, "ready") == -1 ||
	    ctl_hap_send(c, cmd, err, errlen) == -1)
		return -1;
	if (opts->agent != NULL && a->agent_on &&
	    (hap_cmd_enable_agent(cmd, sizeof(cmd), backend, node->name) == -1 ||
	     ctl_hap_send(c, cmd, err, errlen) == -1))
		return -1;
	return ctl_hap_start_checks(c, backend, node->name, err, errlen);
}

/* Stops the agent before a server leaves for good, so no answer changes it meanwhile.
 * A server without an agent refuses this: that is fine. */
static int ctl_hap_stop_agent(struct hap_conn *c, const char *backend, const char *name, char *err, size_t errlen)
{
	char cmd[512];
	if (hap_cmd_disable_agent(cmd, sizeof(cmd), backend, name) == -1)
		return -1;
	if (ctl_hap_send(c, cmd, err, errlen) == -1 && hap_conn_err(c) != HAP_ERR_REJECTED)
		return -1;
	return 0;
}

static int ctl_hap_apply_remove(struct hap_conn *c, const char *backend, const char *name, char *err, size_t errlen)
{
	char cmd[512];
	if (ctl_hap_stop_agent(c, backend, name, err, errlen) == -1)
		return -1;
	if (hap_cmd_set_state(cmd, sizeof(cmd), backend, name, "maint") == -1 ||
	    ctl_hap_send(c, cmd, err, errlen) == -1)
		return -1;
	if (hap_cmd_shutdown_sessions(cmd, sizeof(cmd), backend, name) == -1 || ctl_hap_send(c, cmd, err, errlen) == -1)
		return -1;
	if (hap_cmd_del_server(cmd, sizeof(cmd), backend, name) == -1)
		return -1;
	return ctl_hap_send(c, cmd, err, errlen);
}

/* Maintenance, then shuts `shed` sessions of the server: a batch of the spread shutdown. */
static int ctl_hap_apply_shed(struct hap_conn *c, const char *backend, const struct rec_action *a, char *err,
			      size_t errlen)
{
	char cmd[512], *reply = NULL;
	if (ctl_hap_stop_agent(c, backend, a->name, err, errlen) == -1)
		return -1;
	if (hap_cmd_set_state(cmd, sizeof(cmd), backend, a->name, "maint") == -1 ||
	    ctl_hap_send(c, cmd, err, errlen) == -1)
		return -1;
	if (hap_conn_cmd(c, "show sess", &reply) == -1) {
		snprintf(err, errlen, "%s", hap_conn_errstr(c));
		free(reply);
		return -1;
	}
	size_t max = a->shed < 4096 ? (size_t)a->shed : 4096;
	char(*ids)[HAP_SESS_ID_SIZE] = calloc(max ? max : 1, sizeof(*ids));
	size_t n = ids ? hap_sess_ids(reply, backend, a->name, ids, max) : 0;
	free(reply);
	int rc = ids ? 0 : -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		/* A session that ended meanwhile is refused: not an error worth stopping for. */
		if (hap_cmd_shutdown_session(cmd, sizeof(cmd), ids[i]) == 0 &&
		    ctl_hap_send(c, cmd, err, errlen) == -1 && hap_conn_err(c) != HAP_ERR_REJECTED)
			rc = -1;
	}
	free(ids);
	return rc;
}

int ctl_hap_apply(struct hap_conn *c, const char *backend, const struct rec_action *a, const struct ctl_hap_opts *opts,
		  char *err, size_t errlen)
{
	char cmd[512];
	int rc = -1;
	snprintf(err, errlen, "%s %s: cannot format the command", rec_kind_name(a->kind), a->name);
	switch (a->kind) {
	case REC_ADD:
		return ctl_hap_apply_add(c, backend, a, opts, err, errlen);
	case REC_REMOVE:
		return ctl_hap_apply_remove(c, backend, a->name, err, errlen);
	case REC_SHED:
		return ctl_hap_apply_shed(c, backend, a, err, errlen);
	case REC_READY:
		rc = hap_cmd_set_state(cmd, sizeof(cmd), backend, a->name, "ready");
		break;
	case REC_DRAIN:
		rc = hap_cmd_set_state(cmd, sizeof(cmd), backend, a->name, "drain");
		break;
	case REC_ENABLE_HEALTH:
		return ctl_hap_start_checks(c, backend, a->name, err, errlen);
	case REC_ENABLE_AGENT:
		rc = hap_cmd_enable_agent(cmd, sizeof(cmd), backend, a->name);
		break;
	case REC_DISABLE_AGENT:
		rc = hap_cmd_disable_agent(cmd, sizeof(cmd), backend, a->name);
		break;
	case REC_AGENT_PORT:
		rc = opts->agent ? hap_cmd_set_agent_addr(cmd, sizeof(cmd), backend, a->name, opts->agent->addr,
							  opts->agent->port)
				 : -1;
		break;
	}
	if (rc == -1)
		return -1;
	return ctl_hap_send(c, cmd, err, errlen);
}
