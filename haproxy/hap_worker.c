/* Reaching the current HAProxy worker: `show info` until one that is not stopping answers. */
#include "hap_worker.h"

#include <stdio.h>
#include <stdlib.h>

#include "hap_conn.h"
#include "log.h"

int hap_worker_info(struct hap_conn *c, struct hap_info *info, char *err, size_t errlen)
{
	for (int tries = 1; tries <= HAP_WORKER_TRIES; tries++) {
		char *reply = NULL;
		if (hap_conn_cmd(c, "show info", &reply) == -1) {
			enum hap_err e = hap_conn_err(c);
			free(reply);
			snprintf(err, errlen, "%s", hap_conn_errstr(c));
			/* `show info` only reads: sending it again on a new connection is harmless. */
			if ((e != HAP_ERR_EOF && e != HAP_ERR_IO) || tries == HAP_WORKER_TRIES)
				return -1;
			log_debug("haproxy: %s: %s; reconnecting", hap_err_name(e), err);
			continue;
		}
		int rc = hap_info_parse(reply, info, err, errlen);
		free(reply);
		if (rc == -1 || !info->stopping)
			return rc;
		log_info("haproxy: worker %ld is stopping after a reload; reconnecting to the new one", info->pid);
		hap_conn_close(c);
	}
	snprintf(err, errlen, "show info: only a stopping worker answers");
	return -1;
}
