/* The controller's side of HAProxy: read the backend's servers, apply a reconcile plan. */
#ifndef MCS_CTL_HAP_H
#define MCS_CTL_HAP_H

#include <stddef.h>

#include "hap_cmd.h"
#include "reconcile.h"

struct hap_conn;

/* Reads the backend's servers (show servers state) into *out (malloc'd, caller frees),
 * sorted by name, with scur -1. Returns 0, or -1 with the reason in err. */
int ctl_hap_read_servers(struct hap_conn *c, const char *backend, struct rec_server **out, size_t *n, char *err,
			 size_t errlen) __attribute__((warn_unused_result));

/* Fills scur of every server from `show stat` (servers sorted by name, as
 * ctl_hap_read_servers returns them). Returns 0, or -1 with the reason in err. */
int ctl_hap_read_scur(struct hap_conn *c, const char *backend, struct rec_server *servers, size_t n, char *err,
		      size_t errlen) __attribute__((warn_unused_result));

/* How new servers are checked: TCP health checks always, the controller's agent when agent
 * is not NULL (its send field is ignored: each server's own request is used). */
struct ctl_hap_opts {
	struct hap_check_opts check;
	const struct hap_agent_opts *agent;
	unsigned start_weight_pct; /* with an agent: a new server's weight until its first answer (100: full) */
};

/* Runs the runtime commands of one action. Returns 0, or -1 with the failing command and
 * HAProxy's answer in err; hap_conn_err() tells whether the connection itself failed. */
int ctl_hap_apply(struct hap_conn *c, const char *backend, const struct rec_action *a, const struct ctl_hap_opts *opts,
		  char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
