/* Parser of HAProxy 2.6's `show servers state` reply, and the state bits it reports of each
 * server (operational, administrative, health and agent checks). Pure: text in, array out. */
#ifndef MCS_HAP_SERVERS_H
#define MCS_HAP_SERVERS_H

#include <stddef.h>

#include "names.h"

/* srv_op_state */
#define HAP_SRV_ST_STOPPED 0u
#define HAP_SRV_ST_STARTING 1u
#define HAP_SRV_ST_RUNNING 2u
#define HAP_SRV_ST_STOPPING 3u

/* srv_admin_state bits (HAProxy 2.6 include/haproxy/server-t.h, enum srv_admin) */
#define HAP_ADMF_FMAINT 0x01u /* forced into maintenance (`state maint`; every new dynamic server) */
#define HAP_ADMF_IMAINT 0x02u /* maintenance inherited from a tracked server */
#define HAP_ADMF_CMAINT 0x04u /* maintenance from the configuration (`disabled`) */
#define HAP_ADMF_FDRAIN 0x08u /* forced into drain (`state drain`) */
#define HAP_ADMF_IDRAIN 0x10u /* drain inherited from a tracked server */
#define HAP_ADMF_RMAINT 0x20u /* maintenance after a failed address resolution */
#define HAP_ADMF_HMAINT 0x40u /* maintenance after `set server fqdn` */
#define HAP_ADMF_MAINT (HAP_ADMF_FMAINT | HAP_ADMF_IMAINT | HAP_ADMF_CMAINT | HAP_ADMF_RMAINT | HAP_ADMF_HMAINT)
#define HAP_ADMF_DRAIN (HAP_ADMF_FDRAIN | HAP_ADMF_IDRAIN)

/* srv_check_state and srv_agent_state bits (HAProxy 2.6 include/haproxy/check-t.h, CHK_ST_*) */
#define HAP_CHK_ST_INPROGRESS 0x01u /* a check is running right now */
#define HAP_CHK_ST_CONFIGURED 0x02u /* configured (`check` / `agent-check`), may be enabled */
#define HAP_CHK_ST_ENABLED 0x04u    /* administratively enabled (`enable health` / `enable agent`) */
#define HAP_CHK_ST_PAUSED 0x08u     /* paused by maintenance (health checks only) */
#define HAP_CHK_ST_AGENT 0x10u      /* an agent check (set in srv_agent_state when configured) */

struct hap_server_state {
	char name[MCS_SERVER_NAME_MAX]; /* srv_name */
	char addr[64];                  /* srv_addr; "" when HAProxy prints "-" (no address, e.g. an FQDN server) */
	unsigned port;                  /* srv_port */
	unsigned id;                    /* srv_id */
	unsigned op_state;              /* srv_op_state: HAP_SRV_ST_* */
	unsigned admin_state;           /* srv_admin_state: HAP_ADMF_* bits */
	unsigned uweight;               /* srv_uweight */
	unsigned iweight;               /* srv_iweight: the weight it was added with; 0 without the column */
	unsigned check_state;           /* srv_check_state: HAP_CHK_ST_* bits */
	unsigned agent_state;           /* srv_agent_state: HAP_CHK_ST_* bits */
	unsigned agent_port;            /* srv_agent_port: 0 without an agent check */
	char agent_addr[64];            /* srv_agent_addr: "" without an agent address (or column) */
};

/* Parses a `show servers state [<backend>]` reply: the format version "1", a "# be_id ..."
 * header, then one space-separated line per server with as many fields as the header; fields
 * are found by header name. Lines starting with '#' after the header are comments; an empty
 * line ends the table. On success returns 0 with *out a malloc'd array of *n servers in reply
 * order (caller frees with free(); NULL when *n is 0, which is valid). Returns -1 with *out NULL,
 * *n 0 and a one-line reason in err on: another version, missing header or column, wrong field
 * count, a number that is not decimal or exceeds unsigned, a name or address too long for its
 * field, a truncated line, OOM. */
int hap_servers_state_parse(const char *text, struct hap_server_state **out, size_t *n, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
