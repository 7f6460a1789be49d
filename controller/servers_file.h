/* The servers file: backend `mcs` written as a configuration section that HAProxy loads at
 * start (docker/entry/haproxy.sh passes it as a second -f), so a reload or a restart begins
 * with every node instead of an empty backend that refuses clients until the next step. */
#ifndef MCS_SERVERS_FILE_H
#define MCS_SERVERS_FILE_H

#include <stddef.h>

#include "hap_cmd.h"

struct servers_file_entry {
	const char *name; /* server name (hap_name_valid) */
	const char *addr; /* IPv4 or IPv6 address text */
	unsigned port;    /* 1..65535 */
	unsigned id;      /* HAProxy server id, 1..2147483647 */
};

/* Renders "backend <backend>" and one `server` line per entry, with the check options o and,
 * when agent is not NULL, agent checks (agent->send is ignored: each server's own request is
 * written). An entry that cannot be written (invalid name or address: never one the controller
 * made) is left out and counted in *skipped. Returns the text (malloc'd, caller frees), or NULL
 * when out of memory. Pure. */
char *servers_file_render(const char *backend, const struct servers_file_entry *v, size_t n,
			  const struct hap_check_opts *o, const struct hap_agent_opts *agent, size_t *skipped)
	__attribute__((warn_unused_result));

/* Replaces path with text atomically (a temporary file beside it, then rename), mode 0644:
 * HAProxy may run as another user. Returns 0, or -1 with a one-line reason in err. */
int servers_file_write(const char *path, const char *text, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
