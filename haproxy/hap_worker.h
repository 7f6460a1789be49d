/* Which HAProxy worker answers the runtime API. After a reload the old worker keeps the
 * connections it had, answering until its last session ends, and says "Stopping: 1" in
 * `show info`; a new connection reaches the new worker. Used by the controller and the bridge. */
#ifndef MCS_HAP_WORKER_H
#define MCS_HAP_WORKER_H

#include <stddef.h>

#include "hap_info.h"

struct hap_conn;

#define HAP_WORKER_TRIES 3 /* `show info` sent at most this often by one hap_worker_info */

/* Reads `show info` over c (connecting when needed) into *info. When the worker that answers is
 * stopping after a reload, logs it with its pid (info level), drops the connection and asks
 * again; a connection closed on the way (EOF, IO) is also asked again, on a new one: at most
 * HAP_WORKER_TRIES times in all. Returns 0 with *info of a live worker, or -1 with a one-line
 * reason in err: hap_conn's message (hap_conn_err(c) tells its class), a reply that does not
 * parse, or "only a stopping worker answers" (hap_conn_err(c) is HAP_OK for these two). */
int hap_worker_info(struct hap_conn *c, struct hap_info *info, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
